"""The public front door: a derivation that can also check, render and run itself.

The engine's :class:`~derive.engine.derivation.Derivation` knows nothing of the
layers above it; this subclass adds the conveniences that reach up to them, so
that ``derive.derive(net).check()`` works without the engine importing the check.
"""

from __future__ import annotations

from derive.check import CheckReport, check
from derive.engine import derivation, record
from derive.engine.steps import Step
from derive.model.network import Network
from derive.numeric.lambdified import NumericFunctions
from derive.present.render import render


class Derivation(derivation.Derivation):
    """The backpropagation derivation of one network, with its checks, documents and NumPy code."""

    def __init__(self, network: Network) -> None:
        super().__init__(network)
        self._numeric: NumericFunctions | None = None

    def steps(self) -> list[Step]:
        """The derivation in reading order (every neuron and parameter: use on small networks)."""
        return record.steps(self)

    def lambdify(self) -> NumericFunctions:
        """forward, loss and gradients as vectorised NumPy, generated from the matrix form."""
        if self._numeric is None:
            self._numeric = NumericFunctions(self)
        return self._numeric

    def check(self, points: int = 3, seed: int = 0, use_torch: bool = True) -> CheckReport:
        """Check every gradient symbolically and numerically (see :mod:`derive.check`)."""
        return check(self, points, seed, use_torch=use_torch)

    def render(self, format: str = "md", lang: str = "en") -> str:  # noqa: A002 - the issue's name
        """The derivation as a document: ``format`` md, tex or html; ``lang`` en or zh."""
        return render(self, format, lang)


def derive(network: Network) -> Derivation:
    """Derive backpropagation for ``network``."""
    return Derivation(network)
