"""derive's version and the names people install it by: the one place every message and document reads."""

from __future__ import annotations

__version__ = "0.2.0"

DISTRIBUTION = "derive-backprop"
"""The name on PyPI; the import package and the command are ``derive`` (PyPI's ``derive`` is another project)."""

TORCH_VERSION = "2.13.0"
"""The torch release the autograd cross-check is tested with (the ``torch`` extra pins it)."""

TORCH_INSTALL = f"pip install torch=={TORCH_VERSION} --index-url https://download.pytorch.org/whl/cpu"
"""PyTorch's CPU build: from PyPI alone the same release pulls several GB of CUDA libraries."""
