"""Other kinds of code people test as gradients functions: a torch module, an SGD step, a scalar-autograd model.

:func:`adapt` looks at what was passed to ``derive.testing.assert_gradients`` and, for anything but a plain
``gradients(params, x, y) -> dict`` function, returns an :class:`Adapted`: that function, made from the
user's object, and a line saying how the gradients were obtained (added to a failure message).
"""

from __future__ import annotations

from collections.abc import Callable

from derive.adapters import scalar, sgd_step, torch_module
from derive.adapters.base import Adapted
from derive.errors import DeriveError
from derive.model.network import Network

__all__ = ["Adapted", "adapt"]


def adapt(thing: object, net: Network, *, step: float | None = None, loss: Callable | None = None) -> Adapted | None:
    """``thing`` as a gradients function, or None when it already is one.

    ``step``: the learning rate of a function that applies one SGD step; ``loss``: the per-sample cost of a
    scalar-autograd model's outputs, when derive cannot build the spec's loss from its values' operations.
    """
    if step is not None:
        if loss is not None:
            raise DeriveError("assert_gradients: loss= is for a scalar-autograd model, not with step=")
        if torch_module.is_module(thing) or scalar.is_model(thing):
            raise DeriveError(
                f"assert_gradients: step= takes a function step(params, x, y), not a {type(thing).__name__}"
            )
        return sgd_step.SgdStep(thing, net, step)
    if torch_module.is_module(thing):
        if loss is not None:
            raise DeriveError(
                "assert_gradients: loss= is for a scalar-autograd model; a torch module gets the spec's loss"
            )
        return torch_module.TorchModule(thing, net)
    if scalar.is_model(thing):
        return scalar.ScalarModel(thing, net, loss)
    if loss is not None:
        raise DeriveError(
            f"assert_gradients: loss= is for a scalar-autograd model (with .parameters() of values having .data"
            f" and .grad), got {type(thing).__name__}"
        )
    return None
