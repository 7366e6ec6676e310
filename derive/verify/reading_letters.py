"""What a letter stands for under the notation: a name's kind of quantity, and the layers of a weight's index letters.

A mixin of :class:`derive.verify.reading.Reader`. A letter is read with the notation's meaning (Bishop's a the
pre-activation, Wikipedia's o every neuron's output), and the verdict says so wherever that is not derive's own.
"""

from __future__ import annotations

from derive.model.notation import DEFAULT_MEANINGS, LETTER_LATEX, QUANTITY_SPELLINGS
from derive.verify.findings import IndexLayer, LetterMeaning
from derive.verify.reading_refs import Target
from derive.verify.syntax import BinOp, Name, Node, Paren, PartialNode

WEIGHT_LETTERS = ("W", "w", "theta", "Theta")
COST_LETTERS = ("C", "J", "E", "L")


class _Letters:
    """The Reader's methods that say what a letter means in its notation."""

    def kind(self, node: Name) -> str:
        """The kind of quantity a name is, in this reading's notation."""
        n = self.reading.notation
        base = node.base
        if node.hat:
            return "out" if base in ("y", "a", "o") else "unknown"
        if base == "yhat":
            return "out"
        meaning = n.meaning(base)
        if meaning in ("pre_activation", "activation") and not self._letter_is_node(base):
            self.letter_meaning(base, meaning)
            return "z" if meaning == "pre_activation" else "a"
        if meaning == "function":  # Bishop's h is the activation function, never a quantity
            return "unknown"
        own = {LETTER_LATEX.get(n.pre_activation, n.pre_activation), LETTER_LATEX.get(n.activation, n.activation)}
        renamed = {
            n.spelled(q).lstrip("\\"): q
            for q in QUANTITY_SPELLINGS
            if n.spelled(q) != q and q != "e" and n.spelled(q) not in own
        }
        if base in renamed:  # a quantity spelled otherwise because a node has its letter: o_c, \beta_c
            return renamed[base]
        if base in WEIGHT_LETTERS:
            return "W"
        if base == n.output_pre_activation and not self._letter_is_node(base):  # cs231n's scores f_k
            self.note(LetterMeaning(base, "output_pre_activation"))
            return "scores"
        if base == "p" and n.output == "p" and not self._letter_is_node(base):  # cs231n's probabilities p_k
            self.note(LetterMeaning(base, "output"))
            return "out"
        if base in ("z", "h"):
            return "z"
        if base == "o":
            return "out"
        if base == "y" and n.output == "y":
            return "out"
        if base == "y" and n.target != "y" and not self._letter_is_node(base):  # Wikipedia's E = ½(t − y)²: the output
            self.note(LetterMeaning(base, "network_output"))
            return "out"
        if base == n.target:
            return "y"
        if base in ("a", "b", "x", "delta", "eta", "n", "Delta", "e", "lambda"):
            return base
        if base in COST_LETTERS or base == n.cost:
            return "cost"
        return "unknown"

    def _letter_is_node(self, base: str) -> bool:
        """Whether a node letter takes the quantity's letter (then the quantity is spelled otherwise)."""
        return base in self.reading.notation.letters

    def letter_meaning(self, letter: str, meaning: str) -> None:
        """Say how a letter with a meaning of its own in derive's notation was read, when the notation differs."""
        if DEFAULT_MEANINGS.get(letter, meaning) != meaning:
            self.note(LetterMeaning(letter, meaning))

    def weight_roles(self, node: Node, target: Target) -> dict[str, int]:
        """The layers of the index letters of the weight a left side names: w_{ij} (from i to j) of layer l puts
        i in layer l − 1 and j in layer l, which is how a formula without layers says where o_i and δ_j are."""
        while isinstance(node, (PartialNode, Paren, BinOp)):
            node = node.wrt if isinstance(node, PartialNode) else node.body if isinstance(node, Paren) else node.right
        if target.ref.kind != "W" or not isinstance(node, Name) or node.bracket:
            return {}
        atoms = self._index_atoms(node)
        letters = [a.base for a in atoms if isinstance(a, Name) and len(a.base) == 1 and not a.sub and not a.sup]
        if len(atoms) != 2 or len(set(letters)) != 2 or set(letters) & set(self.reading.notation.letters):
            return {}
        current, previous = letters if self.reading.notation.index_order == "to_from" else letters[::-1]
        return {current: target.ref.layer, previous: target.ref.layer - 1}

    def _index_layer(self, node: Name, kind: str) -> int | None:
        """Under layer_marker = "index", the layer a name's index letters name (Bishop's δ_k the output's, δ_j the
        hidden layer's, w_{kj} into the output from the hidden layer), or None when it has no index letter."""
        n = self.reading.notation
        letters = [a.base for a in self._index_atoms(node) if isinstance(a, Name) and len(a.base) == 1 and not a.sub]
        if not letters or set(letters) & set(n.letters):
            return None  # numbers (δ_1) and node letters keep their own readings
        layers = [n.role_layer(letter, self.L) for letter in letters]
        need = (
            f'{self.describe(node)} needs a layer, such as ^{{(1)}}: layer_marker = "index" reads k, j, i as the output'
        )
        if self.L != 2:
            raise self.error(
                node, f"{need}, hidden and input units of a network with one hidden layer, not of {self.L}"
            )
        if None in layers:
            raise self.error(node, f"{need}, hidden and input units, and {letters[layers.index(None)]} is none of them")
        if kind == "W":  # each letter says where the weight is (w_{k1}: into an output unit)
            atoms = self._index_atoms(node)
            if len(atoms) == 2 and n.index_order != "to_from":
                atoms = atoms[::-1]
            said = {
                n.role_layer(a.base, self.L) + k
                for k, a in enumerate(atoms)
                if isinstance(a, Name) and a.base in letters
            }
            if len(atoms) != 2 or len(said) != 1 or not 1 <= min(said) <= 2:
                raise self.error(node, f"{need}, hidden and input units, and its indices join no two adjacent layers")
            layer = min(said)
        else:
            layer = layers[0]
        self.note(IndexLayer(self.describe(node), kind, ",".join(letters), layer))
        return layer

    def example_letter(self, node: Name) -> str | None:
        """The example's index of a per-example cost (Bishop's E_n, cs231n's L_i, Nielsen's C_x, C^{(i)}): the cost
        of one example, which is the cost derive differentiates; None when the name has no such index."""
        sup = node.sup.body if isinstance(node.sup, Paren) else node.sup
        scripts = [s for s in (*(node.sub or ()), *(() if sup is None else (sup,))) if s is not None]
        if len(scripts) != 1 or node.digits or (node.sup is not None and not isinstance(node.sup, Paren)):
            return None
        (script,) = scripts
        plain = isinstance(script, Name) and len(script.base) == 1 and not (script.sub or script.sup or script.digits)
        return script.base if plain and script.base not in ("l", "L") else None

    def _output_lettered(self, kind: str) -> bool:
        """Whether the output layer's a (or z) has a letter of its own (cs231n's p and f), so that this kind's letter
        written without a layer is a hidden layer's."""
        n = self.reading.notation
        return kind == "a" and n.output == "p" or kind == "z" and n.output_pre_activation != "same"
