"""Gradients as code names them (cs231n's dW2, db2, dscores, dprobs, dhidden): each read as the ∂C/∂… it stands for.

``dX`` is ∂C/∂X, the variable holding the cost's gradient by X in a backward pass written as code. Read only with
``[notation] gradient_names = "code"`` (the cs231n preset): elsewhere such a name is not understood, and the error
names the option. The tokenizer keeps each of :data:`WORDS` whole (outside a subscript); the reader turns it into the
quantity it differentiates by, as a left side (the gradient it states) or on the right (the gradient's value), and
the verdict says how it read each one (:class:`derive.verify.findings.CodeName`).
"""

from __future__ import annotations

import re
from typing import Any

from derive.model.notation import Notation
from derive.verify.findings import CodeName
from derive.verify.reading_refs import Ref
from derive.verify.syntax import Name, Num, PartialNode

_TRANSPOSED = re.compile(r"\s*\^\s*(?:\{\s*)?(?:T|\\top|\\intercal|\\mathsf\s*\{\s*T\s*\})(?:\s*\})?$")

# name → what it differentiates by: the weights, the biases, the scores (the output layer's z), the probabilities
# (the output layer's a), the hidden layer's activation
WORDS: dict[str, str] = {
    "dW": "W",
    "db": "b",
    "dscores": "scores",
    "dprobs": "probs",
    "dhidden": "hidden",
    "dh": "hidden",
}


def read(reader: Any, node: object) -> Ref | None:
    """The quantity a code name's gradient is by (dW2_{ij} → W2[i,j]), or None when ``node`` is no code name.

    ``reader`` is the formula's :class:`derive.verify.reading.Reader` (which imports this module)."""
    if not isinstance(node, Name) or node.base not in WORDS or node.hat or node.primes:
        return None
    n = reader.reading.notation
    written = _TRANSPOSED.sub("", reader.describe(node).split(" [")[0])  # dh_j, not dh_j [z > 0] or dh^T
    quantity = WORDS[node.base]
    if n.gradient_names != "code":
        raise reader.error(
            node,
            f"{written} is a code name for a gradient (∂{n.cost}/∂…, as cs231n's code writes it):"
            ' it is read with [notation] gradient_names = "code"',
        )
    if node.sup is not None:
        raise reader.error(node, f"{written}: a code name takes its layer as a digit, dW2 or dW_2, not a superscript")
    if quantity in ("W", "b"):
        ref = reader._locate(_parameter(node, quantity), quantity)
        letter = n.weight_text if quantity == "W" else "b"
    elif quantity == "hidden":
        if reader.L != 2:
            raise reader.error(
                node,
                f"{written} is the hidden layer's activation, but this network has {reader.L - 1} hidden layers:"
                " write ∂C/∂a^{(l)}",
            )
        ref = reader._node(Name("a", node.pos, "1", node.sub, bracket=node.bracket), "a")
        letter = n.activation
    else:
        kind = "scores" if quantity == "scores" else "out"
        ref = reader._unlayered(Name(node.base, node.pos, "", node.sub, bracket=node.bracket), kind)
        letter = n.output_pre_activation if kind == "scores" else n.output
        letter = {"same": n.pre_activation, "yhat": "ŷ"}.get(letter, letter)
    reader.note(CodeName(written, quantity, ref.layer, letter))
    return ref


def as_partial(node: object, notation: Notation) -> tuple[PartialNode, CodeName] | None:
    """dW2 (dW_2, db2, dW) as the ∂L/∂W2 it names, for a statement about the batch (:mod:`derive.verify.batch`), with
    the note saying so; None for anything else, and under a notation without code names."""
    if not isinstance(node, Name) or WORDS.get(node.base) not in ("W", "b") or notation.gradient_names != "code":
        return None
    if node.sup is not None or node.hat or node.primes or node.sub is not None and node.digits:
        return None
    wrt = _parameter(node, WORDS[node.base])
    if wrt.sub is not None:
        return None  # one element: a statement about the batch is of a whole matrix or vector
    letter = notation.weight_text if wrt.base == "W" else "b"
    note = CodeName(node.base + (f"_{node.sub[0].text}" if node.sub else node.digits), wrt.base, _layer(wrt), letter)  # type: ignore[union-attr]
    return PartialNode(Name(notation.cost, node.pos), wrt, node.pos), note


def _layer(name: Name) -> int | None:
    return int(name.digits) if name.digits else None


def _parameter(node: Name, letter: str) -> Name:
    """dW2_{ij} as W2_{ij}; dW_2 (a subscript that is one number) as W2, cs231n's W_2 for the second layer's."""
    digits, sub = node.digits, node.sub
    if not digits and sub is not None and len(sub) == 1 and isinstance(sub[0], Num) and sub[0].text.isdigit():
        if letter == "b" or len(sub[0].text) == 1:
            digits, sub = sub[0].text, None
    return Name(letter, node.pos, digits, sub, bracket=node.bracket)
