"""Helpers for testing your own backprop code against the derived gradients.

>>> from derive.testing import assert_gradients
>>> assert_gradients("examples/seed001.toml", my_gradients)

``my_gradients(params, x, y)`` is called on seeded random parameters and
batches (x of shape (m, inputs), y of shape (m, outputs), or of shape (m,) with
integer class labels when the targets are ``labels``) and must return
∂J/∂θ of the batch mean J = (1/m) Σ C, as a dict shaped like params or a list
in layer order (W1, b1, W2, …). ``weights="in_out"``, ``samples="columns"`` and
``names={"dW1": "W1", …}`` describe other layouts; biases may come back as
(n,), (n, 1) or (1, n).

Other kinds of code are accepted in its place (see :mod:`derive.adapters`): a torch ``nn.Module`` of
Linear layers and activations, a function that applies one SGD step (``step=`` its learning rate), and a
scalar-autograd model such as micrograd's ``MLP`` (``loss=`` when derive cannot build the loss from it).
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from derive import adapters
from derive.api import Derivation, derive
from derive.errors import DeriveError
from derive.model.network import Network, with_targets
from derive.model.spec import load
from derive.numeric import codegen, layouts, variants

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
    weights: str = "out_in",
    samples: str = "rows",
    names: Mapping[str, str] | None = None,
) -> None:
    """Raise AssertionError when ``my_gradients`` differs from the derivation, with a report that finds the bug.

    ``weights``: "out_in" (derive's W⁽ˡ⁾, a row per neuron) or "in_out" (a row per input), for the
    parameters passed and the gradients returned; ``samples``: "rows" (x of shape (m, inputs)) or
    "columns" (x of shape (inputs, m), biases passed as (n, 1)); ``names``: your gradients' keys →
    derive's names. A bad value raises DeriveError. ``targets`` (default: the spec's) says what y your
    function takes: "one_hot" rows, or "labels", the samples' class labels as integers of shape (m,).

    ``my_gradients`` may also be a torch module, a function applying one SGD step of learning rate
    ``step``, or a scalar-autograd model (with ``loss=`` its per-sample cost); the message then says how
    its gradients were obtained.

    The message gives the first differing element (from the output layer back) with your value and the
    derived one, the layout assumed, a line per array (matches, or how many elements differ and the
    constant ratio when there is one), a hint for each ratio a common mistake gives (½, 2, m, 1/m, a
    layer's width, −1), the catalogued mistakes your arrays equal (:mod:`derive.numeric.variants`), and
    the derived formula. An exception raised by ``my_gradients`` becomes an AssertionError with the seed,
    the batch and the shapes passed, the original chained as its cause.
    """
    d = _derivation(spec_or_net)
    if targets is not None:
        d = derive(with_targets(d.network, targets))
    layout = layouts.layout(d.network.shapes(), weights, samples, names)
    adapted = adapters.adapt(my_gradients, d.network, step=step, loss=loss)
    if adapted is not None:
        my_gradients = adapted.gradients
    checker = _Checker(d)
    for seed in seeds:
        for m in batches:
            params, x, y = checker.random_batch(seed, m)
            derived = d.lambdify().gradients(params, x, y)
            where = f"seed {seed}, batch of {m}"
            try:
                mine = checker.call(my_gradients, params, x, y, where, layout)
            except AssertionError as error:
                if isinstance(error.__cause__, DeriveError):  # derive's own word on the object passed, as it is
                    raise error.__cause__ from None
                raise
            tolerance = (rtol, atol) if adapted is None else adapted.tolerance(rtol, atol)

            def diagnose(
                yours: Mapping[str, np.ndarray], params=params, x=x, y=y, derived=derived, tolerance=tolerance
            ) -> list[str]:
                return variants.recognised(d, params, x, y, yours, *tolerance, derived=derived)

            try:
                checker.compare(derived, mine, where, m, *tolerance, checker.explain, layout, diagnose)
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


@functools.lru_cache(maxsize=16)
def _compiled(source: str) -> types.CodeType:
    """The checks' source compiled once (compiling is most of the time of a passing call on a small network)."""
    return compile(source, "<derive: gradient checks>", "exec")


class _Checker:
    """The generated ``random_batch`` and ``compare_gradients`` (the pytest file's own), compiled."""

    def __init__(self, d: Derivation) -> None:
        self.d = d
        p = d.lambdify().plan
        # Made only from derive's own names, numbers and formulas (see derive.numeric.lambdified).
        namespace: dict[str, object] = {"np": np, "SHAPES": dict(p.shapes)}
        exec(_compiled(codegen.compare_source(p)), namespace)  # noqa: S102
        self.random_batch = namespace["random_batch"]
        self.call = namespace["call_yours"]
        self.compare = namespace["compare_gradients"]

    def explain(self, element: str) -> str:
        """The element's per-sample closed form, when it is short enough to read."""
        closed = str(self.d.gradient(element, "closed"))
        if len(closed) > CLOSED_FORM_CHARS:
            return ""
        return f"  per sample: ∂C/∂{element} = {closed}"
