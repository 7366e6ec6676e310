"""Goodfellow's regulariser Ω(θ) read with the spec's ``[regularization]``: Ω = R/λ, and ∇_θ Ω(θ) = (∂R/∂θ)/λ.

Goodfellow writes the objective as the loss plus λ times a regulariser Ω; for weight decay Ω(θ) = ½‖w‖², usually
without the biases. derive's penalty is R = scale(λ, m) Σ θ² (:mod:`derive.rules.regularizers`), so Ω(θ) is read as
R/λ: ½ Σ w² under the form "half" (Goodfellow's own), Σ w² under "plain", Σ w²/(2m) under "half_over_m", with the
biases in it only when the spec's ``biases`` says so; the verdict's note says which.
"""

from __future__ import annotations

from typing import Any

import sympy

from derive.model.network import Network
from derive.rules import regularizers
from derive.verify.findings import Omega
from derive.verify.syntax import Call, Name, Node, PartialNode

LETTER = "Omega"


def is_omega(node: Node) -> bool:
    """Ω or Ω(θ): the regulariser, whatever its argument (θ, w: all the parameters it is of)."""
    if isinstance(node, Call):
        node = node.func if len(node.args) == 1 else node
    return isinstance(node, Name) and node.base == LETTER and not (node.sub or node.sup or node.primes)


def note(net: Network) -> Omega:
    """What Ω(θ) is read as under the spec's form: R/λ, its factor of Σ θ², and whether the biases are in it."""
    reg = net.regularization
    assert reg is not None
    factor = reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH) / regularizers.LAMBDA
    return Omega(reg.form, sympy.sstr(factor).replace("*", ""), reg.biases)


def gradient(reader: Any, node: PartialNode) -> Any:
    """∇_θ Ω(θ) for the formula reader: ∂R/∂θ / λ, in θ's shape (0 for what the spec's penalty leaves out)."""
    reg = reader.net.regularization
    if reg is None:
        raise reader.error(
            node, "Ω(θ) is the L2 penalty's regulariser, but this network's spec has no [regularization]"
        )
    ref = reader.ref(node.wrt)
    if ref.kind not in ("W", "b"):
        raise reader.error(node, "∇Ω(θ) is by a weight or a bias, such as \\nabla_{W^{(k)}} \\Omega(\\theta)")
    reader.note(note(reader.net))
    if not reg.covers(ref.kind):
        return reader.value(ref, node) * 0
    factor = reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH) / regularizers.LAMBDA
    return reader.value(ref, node) * factor
