"""LaTeX in the reader's notation: a subclass of sympy's LaTeX printer."""

from __future__ import annotations

import sympy
from sympy import Basic
from sympy.printing.latex import LatexPrinter

from derive.engine.forms import Index, Kind, Layer, Size, SquaredNorms, label_of
from derive.model.network import Network
from derive.model.notation import QUANTITY_SPELLINGS, Notation
from derive.present.elision import LONG_SUM, WIDE, matrix_rows, natural_key, shape, sum_terms
from derive.present.written import WrittenOrder, has_target, symbol_kind
from derive.rules import activations, regularizers
from derive.rules import symbols as sym
from derive.rules.faces import applied, paren
from derive.rules.functions import Partial

OUTPUT = {"a": None, "yhat": r"\hat{y}", "y": "y", "o": "o", "p": "p"}
_LETTER = {Kind.DELTA: r"\delta"}  # a matrix-form kind whose letter is not its name


class DeriveLatexPrinter(WrittenOrder, LatexPrinter):
    """Writes derive's canonical symbols as the notation says.

    ``W2[1,3]`` becomes ``W^{(2)}_{13}`` (or ``w^{(2)}_{31}`` from-to, ``\\theta``
    for θ, letters such as ``w_{ca}`` when nodes have letters); ``Partial``
    factors become fractions of ∂; ``⊙`` and ``^{\\mathsf T}`` mark Hadamard
    products and transposes.
    """

    printmethod = "_derive_latex"

    def __init__(self, network: Network | None = None, settings: dict | None = None) -> None:
        super().__init__({"mul_symbol": None, **(settings or {})})
        self.network = network
        self.notation = network.notation if network is not None else Notation()

    # ----------------------------------------------------------- symbol names
    def q(self, letter: str) -> str:
        """A quantity's letter (x, z, a, b, e) as this notation spells it: never a node's letter."""
        return self.notation.spelled(letter) if letter in QUANTITY_SPELLINGS else letter

    def _layer(self, layer: Layer | None) -> str:
        """A layer as the notation writes it: ^{(2)} or bare ^{2}, numbered from its input layer (0 or 1)."""
        if layer is None:
            return ""
        return self.notation.layer_script(self.notation.shown_layer(layer) if isinstance(layer, int) else layer)

    def _weight_layer(self, layer: Layer | None) -> str:
        """A weight's layer as the notation numbers it: derive's W^{(l)} is θ^{(l−1)} under ``source``."""
        shift = self.notation.weight_shift
        if layer is None or not shift:
            return self._layer(layer)
        if isinstance(layer, int):
            return self._layer(layer - shift)
        shifted = sympy.sympify(layer, locals={"l": sympy.Symbol("l"), "L": sympy.Symbol("L")}) - shift
        return self._layer(str(shifted).replace(" ", ""))

    def _index(self, *indices: int | str) -> str:
        parts = [str(i) for i in indices]
        sep = "," if any(len(p) > 1 for p in parts) else ""
        return "_{" + sep.join(parts) + "}"

    def _letter(self, layer: int, i: int) -> str | None:
        letters = self.notation.letters
        if not letters or self.network is None:
            return None
        return letters[sum(self.network.sizes[:layer]) + i - 1]

    def _is_output(self, layer: int | None) -> bool:
        return self.network is not None and layer == self.network.depth

    def _output_letter(self, kind: str, layer: Layer | None) -> str | None:
        """The output layer's own letter for its a (ŷ, y, o, p) or z (cs231n's f), else None."""
        n = self.notation
        own = {"a": OUTPUT[n.output], "z": None if n.output_pre_activation == "same" else n.output_pre_activation}
        return own.get(kind) if self._is_output(layer) else None  # type: ignore[arg-type]

    def _z(self, layer: Layer) -> str:
        """The vector z of a layer: z^{(l)}, or the output's own letter (f)."""
        return self._output_letter("z", layer) or f"{self.q('z')}{self._layer(layer)}"

    def node(self, letter: str, layer: int | None, i: int, *, output_layer: bool = False) -> str:
        """A per-neuron quantity such as z^{(2)}_1 (or z_e with letters)."""
        named = self._letter(layer if layer is not None else 0, i)
        if named is not None:
            return f"{letter}_{{{named}}}"
        if output_layer and self.network is not None and self.network.outputs == 1:
            return letter
        return f"{letter}{self._layer(layer)}{self._index(i)}"

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        name = expr.name
        n = self.notation
        if isinstance(expr, Size):
            return f"n{self._layer(expr.layer)}"
        if isinstance(expr, Index):
            return n.index_letter(expr.role)
        if expr == sym.COST:
            return n.cost
        if expr == sym.LEARNING_RATE:
            return r"\eta"
        if name == "J":  # the batch mean of the per-sample cost
            return r"\bar{J}" if n.cost == "J" else "J"
        info = sym.parse_name(name)
        if info is None and name in QUANTITY_SPELLINGS:  # a generic z or a (σ′(z) = a(1 − a))
            return self.q(name)
        if info is None:
            return super()._print_Symbol(expr, style)
        if info.kind == "x":
            return self.node(self.q("x"), None, info.i)
        if info.kind == "y":
            return (
                self.node(n.target, None, info.i, output_layer=True)
                if not self.notation.letters
                else f"{n.target}_{{{self._letter(self.network.depth, info.i)}}}"
            )
        if info.kind == "W":
            w = n.weight_latex
            to, frm = self._letter(info.layer, info.i), self._letter(info.layer - 1, info.j)
            if to is not None:
                pair = (to, frm) if n.index_order == "to_from" else (frm, to)
                return f"{w}_{{{''.join(pair)}}}"
            pair = (info.i, info.j) if n.index_order == "to_from" else (info.j, info.i)
            return f"{w}{self._weight_layer(info.layer)}{self._index(*pair)}"
        own = self._output_letter(info.kind, info.layer)
        if own is not None:
            named = self._letter(info.layer, info.i)
            return self.node(own, None, info.i, output_layer=True) if named is None else f"{own}_{{{named}}}"
        letter = {"delta": r"\delta"}.get(info.kind) or self.q(info.kind)
        return self.node(letter, info.layer, info.i)

    # --------------------------------------------------------- matrices, vectors
    def _print_MatrixSymbol(self, expr: sympy.MatrixSymbol, style: str = "plain") -> str:
        label = label_of(expr)
        if label is None:
            return super()._print_MatrixSymbol(expr)
        n = self.notation
        kind, layer = label.kind, label.layer
        if kind is Kind.X:
            return self.q("x")
        if kind is Kind.Y:
            return n.target
        if kind is Kind.NABLA_C:
            return rf"\nabla_{{{self._vector(Kind.A, layer)}}} {n.cost}"
        if kind is Kind.W:
            return f"{n.weight_latex}{self._weight_layer(layer)}"
        if kind in (Kind.G, Kind.G_PRIME):
            g = self._activation_latex(layer)
            prime = "'" if kind is Kind.G_PRIME else ""
            return applied(f"{g}{prime}", self._z(layer))
        if kind is Kind.JACOBIAN:
            return rf"\frac{{\partial {self._vector(Kind.A, layer)}}}{{\partial {self._z(layer)}}}"
        if kind in (Kind.DC_DW, Kind.DC_DB, Kind.DJ_DW, Kind.DJ_DB):
            weight = kind in (Kind.DC_DW, Kind.DJ_DW)
            target = n.weight_latex if weight else self.q("b")
            at = self._weight_layer(layer) if weight else self._layer(layer)
            of = n.cost if kind in (Kind.DC_DW, Kind.DC_DB) else self._print(sympy.Symbol("J", real=True))
            return rf"\frac{{\partial {of}}}{{\partial {target}{at}}}"
        return self._vector(kind, layer)

    def _print_SquaredNorms(self, expr: SquaredNorms) -> str:
        """‖W^{(1)}‖² + … + ‖W^{(L)}‖² (with the biases' ‖b^{(l)}‖²), every layer up to three, else the first,
        an ellipsis and the last; Σ_l ‖W^{(l)}‖² without a network."""
        w, b = self.notation.weight_latex, self.q("b")

        def norms(layer: Layer) -> str:
            out = rf"\lVert {w}{self._weight_layer(layer)} \rVert^{{2}}"
            return out + (rf" + \lVert {b}{self._layer(layer)} \rVert^{{2}}" if expr.biases else "")

        if self.network is None:
            inner = norms("l")
            return rf"\sum_{{l}} \left({inner}\right)" if expr.biases else rf"\sum_{{l}} {inner}"
        depth = self.network.depth
        layers = [norms(layer) for layer in range(1, depth + 1)]
        if depth > 3:
            layers = [layers[0], r"\dots", layers[-1]]
        return " + ".join(layers)

    def _print_Indexed(self, expr: sympy.Indexed) -> str:
        if str(expr.base.label) == "C":  # the cost of sample s
            return f"{self.notation.cost}^{{({self._print(expr.indices[0])})}}"
        label = label_of(expr)
        if label is None:
            return super()._print_Indexed(expr)
        kind, layer = label.kind, label.layer
        index = [self._print(i) for i in expr.indices]
        if kind is Kind.W:
            if self.notation.index_order == "from_to":
                index.reverse()
            return f"{self.notation.weight_latex}{self._weight_layer(layer)}{self._index(*index)}"
        if kind is Kind.G_PRIME:
            z = f"{self._z(layer)}{self._index(*index)}"
            return applied(f"{self._activation_latex(layer)}'", z)
        if kind is Kind.Z:
            return f"{self._z(layer)}{self._index(*index)}"
        return f"{_LETTER.get(kind) or self.q(kind.value)}{self._layer(layer)}{self._index(*index)}"

    def _vector(self, kind: Kind, layer: Layer) -> str:
        if kind is Kind.A and layer == 0:
            return self.q("x")
        own = self._output_letter(kind.value, layer) if kind in (Kind.A, Kind.Z) else None
        if own is not None:
            return own
        return f"{_LETTER.get(kind) or self.q(kind.value)}{self._layer(layer)}"

    def _activation_latex(self, layer: Layer) -> str:
        if self.network is not None and isinstance(layer, int):
            return self.network.activation(layer).latex
        return self.notation.function_latex

    def _print_Transpose(self, expr: sympy.Transpose) -> str:
        inner = self._print(expr.arg)
        if not isinstance(expr.arg, sympy.MatrixSymbol) or "^" in inner:
            inner = paren(inner)
        return rf"{inner}^{{\mathsf T}}"

    def _print_HadamardProduct(self, expr: sympy.HadamardProduct) -> str:
        parts = []
        for arg in sorted(expr.args, key=_is_derivative):
            text = self._print(arg)
            if isinstance(arg, (sympy.MatAdd, sympy.MatMul, sympy.HadamardProduct)):
                text = paren(text)
            parts.append(text)
        return r" \odot ".join(parts)

    def _print_OneMatrix(self, expr: sympy.OneMatrix) -> str:
        return r"\mathbf{1}"

    def _print_DiagMatrix(self, expr: sympy.DiagMatrix) -> str:
        return applied(r"\operatorname{diag}", self._print(expr.args[0]))

    # ------------------------------------------------------- reading order
    def _print_Add(self, expr: Basic, order: str | None = None) -> str:
        """Terms as a reader writes them: positive terms first (y − ŷ, W − η∂C/∂W); a long sum by its indices,
        with ⋯ in the middle (:mod:`derive.present.elision`)."""
        terms: list[Basic | None]
        if len(expr.args) > LONG_SUM:
            terms = sum_terms(sorted(expr.args, key=lambda t: (_negative(t), t.has(sym.LEARNING_RATE), natural_key(t))))
        else:
            terms = sorted(
                self._as_ordered_terms(expr, order=order),
                key=lambda t: (_negative(t), t.has(sym.LEARNING_RATE), _is_penalty(t), _is_bias(t)),
            )
        out = ""
        for i, term in enumerate(terms):
            if term is None:
                out += r" + \cdots"
                continue
            if _negative(term):
                out += "- " if i == 0 else " - "
                term = -term
            elif i:
                out += " + "
            text = self._print(term)
            out += paren(text) if self._needs_add_brackets(term) else text
        return out

    _print_MatAdd = _print_Add  # noqa: N815 - sympy's dispatch name

    def _print_MatrixBase(self, expr: sympy.MatrixBase) -> str:
        return super()._print_MatrixBase(expr) + shape(expr.rows, expr.cols)

    def _print_matrix_contents(self, expr: sympy.MatrixBase) -> str:
        """A matrix wider or taller than ``elision.WIDE``: its first rows and columns, dots, its last."""
        if expr.rows <= WIDE and expr.cols <= WIDE:
            return super()._print_matrix_contents(expr)
        rows = matrix_rows(expr.rows, expr.cols, lambda r, c: self._print(expr[r, c]))
        env = "smallmatrix" if self._settings["mode"] == "inline" else "matrix"
        body = r"\\".join(" & ".join(line) for line in rows)
        return rf"\begin{{{env}}}{body}\end{{{env}}}"

    def _print_Mul(self, expr: sympy.Mul) -> str:
        """Factors in the order the articles write them: η, (y − ŷ), W, δ, a, σ′(z), (1 − a).

        A leading minus is absorbed into a difference with the target when there
        is one, so −(ŷ − y)σ′ reads (y − ŷ)σ′. Fractions keep a short numeric
        coefficient in front: ½(y − ŷ)², (1/m)Σ.
        """
        if not expr.is_commutative:
            return super()._print_Mul(expr)
        norms = [f for f in expr.args if isinstance(f, SquaredNorms)]
        if norms and self.network is not None and self.network.depth + norms[0].biases > 1:  # λ/2 (‖W⁽¹⁾‖² + …)
            return rf"{self._print(expr / norms[0])} \left({self._print(norms[0])}\right)"
        if norms:
            return rf"{self._print(expr / norms[0])} {self._print(norms[0])}"
        coeff = expr.as_coeff_mul()[0]
        factors = [f for f in expr.as_ordered_factors() if not f.is_Number]
        sign = ""
        if coeff.is_negative:
            coeff = -coeff
            flip = next((k for k, f in enumerate(factors) if f.is_Add and has_target(f)), None)
            if flip is None:
                sign = "- "
            else:
                factors[flip] = -factors[flip]
        numer = [f for f in factors if not _is_reciprocal(f)]
        denom = [1 / f for f in factors if _is_reciprocal(f)]
        p, q = sympy.fraction(coeff)
        if p != 1 or not numer:
            numer.insert(0, p)
        if q != 1:
            denom.insert(0, q)
        if not denom:
            return sign + self._product(numer)
        if all(f.is_Number for f in denom) and numer != [1]:
            top = numer.pop(0) if numer[0].is_Number else 1
            return sign + rf"\frac{{{self._print(top)}}}{{{self._product(denom)}}} {self._product(numer, last=True)}"
        if len(numer) == 1 and numer[0].has(sympy.Sum):
            return sign + rf"\frac{{1}}{{{self._product(denom)}}} {self._product(numer, last=True)}"
        return sign + rf"\frac{{{self._product(numer)}}}{{{self._product(denom)}}}"

    def _product(self, factors: list[Basic], last: bool = False) -> str:
        factors = sorted(factors, key=_rank)
        parts = []
        for k, f in enumerate(factors):
            text = self._print(f)
            if len(factors) > 1 or last:
                if self._needs_mul_brackets(f, first=k == 0 and not last, last=k == len(factors) - 1):
                    text = paren(text)
            parts.append(text)
        return " ".join(parts)

    # -------------------------------------------------------------- functions
    def _print_Partial(self, expr: Partial, exp: str | None = None) -> str:
        f, v = (self._print(arg) for arg in expr.args)
        out = rf"\frac{{\partial {f}}}{{\partial {v}}}"
        return paren(out) + f"^{{{exp}}}" if exp else out

    def parenthesize(self, item: Basic, level: int, is_neg: bool = False, strict: bool = False) -> str:
        """sympy's bracketing, with plain brackets around flat content (see :func:`paren`)."""
        text = super().parenthesize(item, level, is_neg, strict)
        if text.startswith(r"\left(") and text.endswith(r"\right)"):
            return paren(text[len(r"\left(") : -len(r"\right)")])
        return text

    def _add_parens(self, s: str) -> str:
        """sympy's brackets around a base with a superscript, (a^{(1)})^{2}: plain around flat content."""
        return paren(s)

    def _print_Function(self, expr: Basic, exp: str | None = None) -> str:
        """σ(z), ReLU(z), [z > 0], …: the functions activations introduce, as their registry entries write them.

        Other functions (tanh, …) are written as their name and the argument in brackets, with no gap.
        """
        written = activations.written(type(expr))
        if written is not None:
            return written.latex(*(self._print(arg) for arg in expr.args), exp=f"^{{{exp}}}" if exp else "")
        head = self._hprint_Function(expr.func.__name__) + (f"^{{{exp}}}" if exp else "")
        return applied(head, ", ".join(self._print(arg) for arg in expr.args))

    def _print_log(self, expr: sympy.log, exp: str | None = None) -> str:
        """log y for a single symbol, log(1 − y) otherwise, as the articles write it."""
        head = r"\log" + (f"^{{{exp}}}" if exp else "")
        arg = expr.args[0]
        if isinstance(arg, (sympy.Symbol, sympy.Indexed)):
            return rf"{head} {self._print(arg)}"
        return applied(head, self._print(arg))

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        if len(expr.variables) == 1 and isinstance(expr.expr, sympy.Function) and expr.expr.args[:1] == expr.variables:
            argument = self._print(expr.variables[0])
            name = self._print(expr.expr)
            for tail in (rf"\mathopen{{}}\left({argument}\right)\mathclose{{}}", f"({argument})"):
                if name.endswith(tail):
                    return applied(name[: -len(tail)] + "'", argument)
        act = activations.with_formula(expr.expr, expr.variables[0]) if len(expr.variables) == 1 else None
        if act is not None:  # g'(z) of an activation not written as one function: id'(z), softplus'(z)
            return applied(f"{act.latex}'", self._print(expr.variables[0]))
        return super()._print_Derivative(expr)


def _negative(term: Basic) -> bool:
    if isinstance(term, sympy.MatMul):
        return not term.args[0].is_Matrix and term.args[0].could_extract_minus_sign()
    return term.could_extract_minus_sign()


def _is_penalty(term: Basic) -> bool:
    """An L2 penalty's term goes after the cost's: J = (1/m) Σ C + R, ∂C/∂W + λW."""
    return term == PENALTY or term.has(regularizers.LAMBDA)


def _is_bias(term: Basic) -> bool:
    """A bias vector goes after the product it is added to: z = a W + b as well as W a + b."""
    label = label_of(term) if isinstance(term, sympy.MatrixSymbol) else None
    return label is not None and label.kind is Kind.B


def _is_reciprocal(expr: Basic) -> bool:
    return expr.is_Pow and expr.exp.is_Rational and expr.exp.is_negative


PENALTY = sympy.Symbol("R", real=True)  # the L2 penalty R of the batch cost (Derivation.cost_steps)
_RANK = {"eta": 1, "lambda": 2, "W": 3, "delta": 4}


def _rank(expr: Basic) -> float:
    """Where a factor goes in a product (stable: ties keep sympy's order)."""
    if expr.is_Number:
        return 0
    if expr.is_Add:
        if has_target(expr):
            return 2
        return 3.5 if any(symbol_kind(s) in ("W", "delta") for s in expr.free_symbols) else 7
    if expr.is_Pow:
        return _rank(expr.base)
    if isinstance(expr, sympy.Sum):
        return 5.5
    if isinstance(expr, (sympy.Symbol, sympy.Indexed)):
        return _RANK.get(symbol_kind(expr) or "", 5)
    return 6


def _is_derivative(expr: Basic) -> bool:
    """g'(z) goes last in a Hadamard product."""
    label = label_of(expr)
    return label is not None and label.kind is Kind.G_PRIME


def latex(expr: Basic, network: Network | None = None, **settings: object) -> str:
    """``expr`` in LaTeX, in the network's notation."""
    return DeriveLatexPrinter(network, settings).doprint(expr)
