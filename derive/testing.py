"""Helpers for testing your own backprop code against the derived gradients.

>>> from derive.testing import assert_gradients
>>> assert_gradients("examples/seed001.toml", my_gradients)

``my_gradients(params, x, y)`` is called on seeded random parameters and
batches (x of shape (m, inputs), y of shape (m, outputs), or of shape (m,) with
integer class labels when the targets are ``labels``) and must return
∂J/∂θ of the batch mean J = (1/m) Σ C, as a dict shaped like params.

Other kinds of code are accepted in its place (see :mod:`derive.adapters`): a torch ``nn.Module`` of
Linear layers and activations, a function that applies one SGD step (``step=`` its learning rate), and a
scalar-autograd model such as micrograd's ``MLP`` (``loss=`` when derive cannot build the loss from it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from derive import adapters
from derive.api import Derivation, derive
from derive.errors import DeriveError
from derive.model.network import Network, with_targets
from derive.model.spec import load
from derive.numeric import codegen

Gradients = Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], Mapping[str, np.ndarray]]
# The per-sample closed form is quoted in a failure message up to this length.
CLOSED_FORM_CHARS = 600


def assert_gradients(
    spec_or_net: str | os.PathLike[str] | Network | Derivation,
    my_gradients: Gradients | object,
    *,
    seeds: Iterable[int] = (0, 1, 2),
    batches: Iterable[int] = (1, 4, 16),
    rtol: float = 1e-6,
    atol: float = 1e-9,
    targets: str | None = None,
    step: float | None = None,
    loss: Callable | None = None,
) -> None:
    """Raise AssertionError at the first element where ``my_gradients`` differs from the derivation.

    The message names the parameter and the element, gives your value and the
    derived one, the derived formula, and a hint when the whole array is off by
    a common mistake (summed instead of averaged, negated, doubled).

    ``targets`` (default: the spec's) says what y your function takes: "one_hot" rows, or "labels", the
    samples' class labels as integers of shape (m,).

    ``my_gradients`` may also be a torch module, a function applying one SGD step of learning rate
    ``step``, or a scalar-autograd model (with ``loss=`` its per-sample cost); the message then says how
    its gradients were obtained.
    """
    d = _derivation(spec_or_net)
    if targets is not None:
        d = derive(with_targets(d.network, targets))
    adapted = adapters.adapt(my_gradients, d.network, step=step, loss=loss)
    if adapted is not None:
        my_gradients = adapted.gradients
    checker = _Checker(d)
    for seed in seeds:
        for m in batches:
            params, x, y = checker.random_batch(seed, m)
            derived = d.lambdify().gradients(params, x, y)
            mine = my_gradients({name: value.copy() for name, value in params.items()}, x.copy(), y.copy())
            tolerance = (rtol, atol) if adapted is None else adapted.tolerance(rtol, atol)
            try:
                checker.compare(derived, mine, f"seed {seed}, batch of {m}", m, *tolerance, checker.explain)
            except AssertionError as error:
                if adapted is None:
                    raise
                raise AssertionError(f"{error}\n{adapted.about()}") from None


def _derivation(spec_or_net: object) -> Derivation:
    if isinstance(spec_or_net, Derivation):
        return spec_or_net
    if isinstance(spec_or_net, Network):
        return derive(spec_or_net)
    if isinstance(spec_or_net, (str, os.PathLike)):
        return derive(load(spec_or_net))
    kind = type(spec_or_net).__name__
    raise DeriveError(f"assert_gradients: expected a spec file, a Network or a Derivation, got {kind}")


class _Checker:
    """The generated ``random_batch`` and ``compare_gradients`` (the pytest file's own), compiled."""

    def __init__(self, d: Derivation) -> None:
        self.d = d
        p = d.lambdify().plan
        # Made only from derive's own names, numbers and formulas (see derive.numeric.lambdified).
        namespace: dict[str, object] = {"np": np, "SHAPES": dict(p.shapes)}
        exec(compile(codegen.compare_source(p), "<derive: gradient checks>", "exec"), namespace)  # noqa: S102
        self.random_batch = namespace["random_batch"]
        self.compare = namespace["compare_gradients"]

    def explain(self, element: str) -> str:
        """The element's per-sample closed form, when it is short enough to read."""
        closed = str(self.d.gradient(element, "closed"))
        if len(closed) > CLOSED_FORM_CHARS:
            return ""
        return f"  per sample: ∂C/∂{element} = {closed}"
