"""What a document shows: its sections in order, its appendix, and how much detail (the spec's [document] table).

One registry of section keys; the templates hold one file per key (``templates/sections/<key>.j2``), and a
spec may reorder them, drop them or move a section borrowed from another article into the appendix.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import SpecError

SECTIONS: dict[str, str] = {
    "warmup": "one neuron first: logistic regression's forward pass, cost, update rule and chain rule (article 002)",
    "identities": "the two layer-level identities of δ: the weights' gradient and the recursion (article 001)",
    "common_factor": "the output weights' gradients share a factor, which is named δ (article 002)",
    "network": "the network, its picture and the notation table",
    "forward": "the forward pass and the cost",
    "backward": "the chain rule, why δ, the output layer's δ and its recursion",
    "gradients": "every weight's and bias's gradient, then the matrix form",
    "general": "the general equations of any layer",
    "update": "gradient descent",
    "example": "the worked example with numbers",
    "sharing": "the output error shared back in proportion to the weights (article 000)",
    "vanishing": "why δ fades in deep sigmoid networks (article 004)",
    "inputs": "why the inputs should be normalised (article 003)",
    "verification": "how every result was checked",
    "cost": "why backpropagation is cheap: operation counts against finite differences, for these sizes",
    "exercises": "exercises whose answers derive verify checks",
    "jacobian": "the chain rule for vector functions and the Jacobian matrix, for this network's layers (article 003)",
    "score": "the output named as the score h, shown in the forward pass before the cost (article 003)",
    "layerwise": "the backward pass layer by layer in matrix form: δ, the layer's gradients, ∂C/∂a below (article 003)",
    "procedures": "the forward and the backward procedure as two numbered lists (article 003)",
    "elementwise_update": "Δw_ij = η δ_j x_i for every weight, and its values at the worked example (article 004)",
}
"""Every section a document can show, by key: what it holds."""

BODY: tuple[str, ...] = (
    "network",
    "forward",
    "backward",
    "gradients",
    "general",
    "cost",
    "update",
    "example",
    "exercises",
)
APPENDIX: tuple[str, ...] = ("sharing", "vanishing", "inputs", "verification")
DETAILS: tuple[str, ...] = ("compact", "full")
"""compact: one weight and one bias per layer in full, the others in a table; full: every parameter in full."""


@dataclass(frozen=True)
class DocumentOptions:
    """The sections of the body and of the appendix, in order, and the detail of the gradients."""

    sections: tuple[str, ...] = BODY
    appendix: tuple[str, ...] = APPENDIX
    detail: str = "compact"

    def __post_init__(self) -> None:
        for where in ("sections", "appendix"):
            keys = getattr(self, where)
            if isinstance(keys, str) or not isinstance(keys, (tuple, list)):
                raise SpecError(f"document.{where}: must be an array of section names, got {keys!r}")
            object.__setattr__(self, where, tuple(keys))
            for k, key in enumerate(keys, start=1):
                if key not in SECTIONS:
                    raise SpecError(
                        f"document.{where}[{k}]: unknown section {key!r} (known: {', '.join(sorted(SECTIONS))})"
                    )
        twice = sorted({key for key in self.sections + self.appendix if (self.sections + self.appendix).count(key) > 1})
        if twice:
            raise SpecError(f"document: section {twice[0]!r} is listed twice")
        if self.detail not in DETAILS:
            raise SpecError(f"document.detail: {self.detail!r} is not one of {', '.join(DETAILS)}")
