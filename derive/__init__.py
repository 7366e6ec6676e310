"""derive: backpropagation derived, checked and written out for a declared network."""

from derive.about import __version__
from derive.api import Derivation, derive
from derive.errors import DeriveError, ParameterError, SpecError
from derive.model.document import DocumentOptions
from derive.model.network import Example, Layer, Network, Regularization
from derive.model.notation import Notation
from derive.model.spec import load, loads

__all__ = [
    "Derivation",
    "DeriveError",
    "DocumentOptions",
    "Example",
    "Layer",
    "Network",
    "Notation",
    "ParameterError",
    "Regularization",
    "SpecError",
    "__version__",
    "derive",
    "load",
    "loads",
]
