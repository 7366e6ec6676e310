"""derive: backpropagation derived, checked and written out for a declared network."""

from .about import __version__
from .derivation import Derivation, derive
from .errors import DeriveError, ParameterError, SpecError
from .network import Example, Layer, Network
from .notation import Notation
from .spec import load, loads

__all__ = [
    "Derivation",
    "DeriveError",
    "Example",
    "Layer",
    "Network",
    "Notation",
    "ParameterError",
    "SpecError",
    "__version__",
    "derive",
    "load",
    "loads",
]
