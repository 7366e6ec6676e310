"""The public front door: a derivation that can also check, render and run itself.

The engine's :class:`~derive.engine.derivation.Derivation` knows nothing of the
layers above it; this subclass adds the conveniences that reach up to them, so
that ``derive.derive(net).check()`` works without the engine importing the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from derive.check import CheckReport, check
from derive.engine import derivation, record
from derive.engine.steps import ParameterGradient, Step
from derive.model.network import Network, with_targets
from derive.numeric.lambdified import NumericFunctions
from derive.present import notebook
from derive.present.render import render


@dataclass(frozen=True)
class Gradient(ParameterGradient):
    """One parameter's derivation, which also knows its network's notation to show itself in a notebook."""

    network: Network | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return notebook.short(f"<Gradient {self.name}: {self.closed}>")

    def _repr_latex_(self) -> str:
        return notebook.gradient_latex(self, self.network)

    def _repr_markdown_(self) -> str:
        return self._repr_latex_()

    def _repr_html_(self) -> str:
        return notebook.gradient_html(self, self.network)


class Derivation(derivation.Derivation):
    """The backpropagation derivation of one network, with its checks, documents and NumPy code."""

    def __init__(self, network: Network) -> None:
        super().__init__(network)
        self._numeric: NumericFunctions | None = None

    def __repr__(self) -> str:
        return f"<Derivation {notebook.summary(self.network)}>"

    def _repr_latex_(self) -> str:
        return notebook.derivation_latex(self)

    def _repr_markdown_(self) -> str:
        return notebook.derivation_markdown(self)

    def _repr_html_(self) -> str:
        return notebook.derivation_html(self)

    def parameter(self, name: str) -> Gradient:
        """The full derivation for one weight or bias (it shows itself in a notebook)."""
        return super().parameter(name)  # type: ignore[return-value]: built by _build_parameter below

    def _build_parameter(self, layer: int, i: int, j: int | None) -> Gradient:
        g = super()._build_parameter(layer, i, j)
        return Gradient(**{f.name: getattr(g, f.name) for f in fields(g)}, network=self.network)

    def steps(self) -> list[Step]:
        """The derivation in reading order (every neuron and parameter: use on small networks)."""
        return record.steps(self)

    def lambdify(self, targets: str | None = None) -> NumericFunctions:
        """forward, loss and gradients as vectorised NumPy, generated from the matrix form.

        ``targets`` ("one_hot", "labels", …; default the spec's) says what their y is: with "labels", the
        samples' class labels as integers of shape (m,).
        """
        if targets is not None and targets != self.network.target_kind.name:
            return NumericFunctions(with_targets(self.network, targets))
        if self._numeric is None:
            self._numeric = NumericFunctions(self)
        return self._numeric

    def check(self, points: int = 3, seed: int = 0, use_torch: bool = True) -> CheckReport:
        """Check every gradient symbolically and numerically (see :mod:`derive.check`)."""
        return check(self, points, seed, use_torch=use_torch)

    def render(self, format: str = "md", lang: str = "en", detail: str | None = None) -> str:  # noqa: A002
        """The derivation as a document: ``format`` md, tex or html; ``lang`` en or zh; ``detail`` "compact"
        (one weight and one bias per layer in full, the rest in a table) or "full" (every parameter in full),
        by default the spec's ``[document] detail``."""
        return render(self, format, lang, detail)


def derive(network: Network) -> Derivation:
    """Derive backpropagation for ``network``."""
    return Derivation(network)
