"""LaTeX in the reader's notation: a subclass of sympy's LaTeX printer."""

from __future__ import annotations

import re

import sympy
from sympy import Basic
from sympy.printing.latex import LatexPrinter

from . import activations
from . import symbols as sym
from .functions import Partial
from .network import Network
from .notation import Notation

WEIGHT = {"W": "W", "w": "w", "theta": r"\theta"}
OUTPUT = {"a": None, "yhat": r"\hat{y}", "y": "y", "o": "o"}
_MATRIX = re.compile(r"^(?P<kind>[^()]+)\((?P<layer>[^()]+)\)$")


class DeriveLatexPrinter(LatexPrinter):
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
    def _layer(self, layer: int | str | None) -> str:
        return "" if layer is None else f"^{{({layer})}}"

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
        if expr == sym.COST:
            return n.cost
        if expr == sym.LEARNING_RATE:
            return r"\eta"
        info = sym.parse_name(name)
        size = _MATRIX.match(name)
        if size is not None and size["kind"] == "n":
            return f"n{self._layer(size['layer'])}"
        if info is None:
            return super()._print_Symbol(expr, style)
        if info.kind == "x":
            return self.node("x", None, info.i)
        if info.kind == "y":
            return (
                self.node(n.target, None, info.i, output_layer=True)
                if not self.notation.letters
                else f"{n.target}_{{{self._letter(self.network.depth, info.i)}}}"
            )
        if info.kind == "W":
            w = WEIGHT[n.weight]
            to, frm = self._letter(info.layer, info.i), self._letter(info.layer - 1, info.j)
            if to is not None:
                pair = (to, frm) if n.index_order == "to_from" else (frm, to)
                return f"{w}_{{{''.join(pair)}}}"
            pair = (info.i, info.j) if n.index_order == "to_from" else (info.j, info.i)
            return f"{w}{self._layer(info.layer)}{self._index(*pair)}"
        if info.kind == "a" and self._is_output(info.layer) and OUTPUT[n.output] is not None:
            return (
                self.node(OUTPUT[n.output], None, info.i, output_layer=True)
                if not n.letters
                else f"{OUTPUT[n.output]}_{{{self._letter(info.layer, info.i)}}}"
            )
        letter = {"delta": r"\delta"}.get(info.kind, info.kind)
        return self.node(letter, info.layer, info.i)

    # --------------------------------------------------------- matrices, vectors
    def _print_MatrixSymbol(self, expr: sympy.MatrixSymbol, style: str = "plain") -> str:
        name = str(expr.name)
        n = self.notation
        if name == "x":
            return "x"
        if name == "y":
            return n.target
        m = _MATRIX.match(name)
        if m is None:
            return super()._print_MatrixSymbol(expr)
        kind, layer = m["kind"], m["layer"]
        if kind == "nablaC":
            return rf"\nabla_{{{self._vector('a', layer)}}} {n.cost}"
        if kind == "W":
            return f"{WEIGHT[n.weight]}{self._layer(layer)}"
        if kind in ("g", "g'"):
            g = self._activation_latex(layer)
            prime = "'" if kind == "g'" else ""
            return rf"{g}{prime}\left(z{self._layer(layer)}\right)"
        if kind == "J":
            return rf"\frac{{\partial {self._vector('a', layer)}}}{{\partial z{self._layer(layer)}}}"
        if kind in ("dC/dW", "dC/db"):
            target = WEIGHT[n.weight] if kind == "dC/dW" else "b"
            return rf"\frac{{\partial {n.cost}}}{{\partial {target}{self._layer(layer)}}}"
        return self._vector({"delta": r"\delta"}.get(kind, kind), layer)

    def _print_Indexed(self, expr: sympy.Indexed) -> str:
        m = _MATRIX.match(str(expr.base.label))
        if m is None:
            return super()._print_Indexed(expr)
        kind, layer = m["kind"], m["layer"]
        index = [self._print(i) for i in expr.indices]
        if kind == "W":
            if self.notation.index_order == "from_to":
                index.reverse()
            return f"{WEIGHT[self.notation.weight]}{self._layer(layer)}{self._index(*index)}"
        if kind == "g'":
            return rf"{self._activation_latex(layer)}'\left(z{self._layer(layer)}{self._index(*index)}\right)"
        letter = {"delta": r"\delta"}.get(kind, kind)
        return f"{letter}{self._layer(layer)}{self._index(*index)}"

    def _vector(self, letter: str, layer: str) -> str:
        if letter == "a" and layer in ("0",):
            return "x"
        if letter == "a" and self._is_output(_int(layer)) and OUTPUT[self.notation.output] is not None:
            return OUTPUT[self.notation.output]
        return f"{letter}{self._layer(layer)}"

    def _activation_latex(self, layer: str) -> str:
        number = _int(layer)
        if self.network is not None and number is not None:
            return self.network.activation(number).latex
        return "g"

    def _print_Transpose(self, expr: sympy.Transpose) -> str:
        inner = self._print(expr.arg)
        if not isinstance(expr.arg, sympy.MatrixSymbol):
            inner = rf"\left({inner}\right)"
        elif "^" in inner:
            inner = rf"\left({inner}\right)"
        return rf"{inner}^{{\mathsf T}}"

    def _print_HadamardProduct(self, expr: sympy.HadamardProduct) -> str:
        parts = []
        for arg in expr.args:
            text = self._print(arg)
            if isinstance(arg, (sympy.MatAdd, sympy.MatMul, sympy.HadamardProduct)):
                text = rf"\left({text}\right)"
            parts.append(text)
        return r" \odot ".join(parts)

    def _print_OneMatrix(self, expr: sympy.OneMatrix) -> str:
        return r"\mathbf{1}"

    def _print_DiagMatrix(self, expr: sympy.DiagMatrix) -> str:
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    # -------------------------------------------------------------- functions
    def _print_Partial(self, expr: Partial, exp: str | None = None) -> str:
        f, v = (self._print(arg) for arg in expr.args)
        out = rf"\frac{{\partial {f}}}{{\partial {v}}}"
        return rf"\left({out}\right)^{{{exp}}}" if exp else out

    def _print_sigmoid(self, expr: Basic, exp: str | None = None) -> str:
        return self._call(r"\sigma", expr.args[0], exp)

    def _print_relu(self, expr: Basic, exp: str | None = None) -> str:
        return self._call(activations.RELU.latex, expr.args[0], exp)

    def _print_leaky_relu(self, expr: Basic, exp: str | None = None) -> str:
        return self._call(r"\operatorname{LeakyReLU}_{" + self._print(expr.args[1]) + "}", expr.args[0], exp)

    def _print_step(self, expr: Basic, exp: str | None = None) -> str:
        return self._call(r"\mathbb{1}_{>0}", expr.args[0], exp)

    def _print_leaky_step(self, expr: Basic, exp: str | None = None) -> str:
        z, slope = (self._print(arg) for arg in expr.args)
        out = rf"\begin{{cases}} 1 & {z} > 0 \\ {slope} & {z} \le 0 \end{{cases}}"
        return rf"\left({out}\right)^{{{exp}}}" if exp else rf"\left({out}\right)"

    def _call(self, name: str, arg: Basic, exp: str | None) -> str:
        head = f"{name}^{{{exp}}}" if exp else name
        return rf"{head}\left({self._print(arg)}\right)"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        if len(expr.variables) == 1 and isinstance(expr.expr, sympy.Function) and expr.expr.args[:1] == expr.variables:
            name = self._print(expr.expr)
            head = name.split(r"\left(", 1)[0]
            return rf"{head}'\left({self._print(expr.variables[0])}\right)"
        if expr.expr == expr.variables[0]:
            return rf"\operatorname{{id}}'\left({self._print(expr.expr)}\right)"
        return super()._print_Derivative(expr)


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def latex(expr: Basic, network: Network | None = None, **settings: object) -> str:
    """``expr`` in LaTeX, in the network's notation."""
    return DeriveLatexPrinter(network, settings).doprint(expr)
