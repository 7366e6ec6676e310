"""The derived gradients as fast NumPy functions: the generated module, compiled.

The source is :func:`derive.numeric.codegen.module_source`, the same text that
``derive codegen`` writes. It is built only from the network's integers,
derive's own names and the activations' fixed code, never from text a user
wrote (the network's name is reduced to file-name characters), so running it
is as safe as importing a module of derive's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from derive.engine.derivation import Derivation
from derive.errors import ShapeError
from derive.model.network import Network
from derive.numeric import codegen
from derive.numeric.codeplan import plan

Params = Mapping[str, np.ndarray]


class NumericFunctions:
    """``forward(params, x)``, ``loss(params, x, y)`` and ``gradients(params, x, y)`` of one network.

    params: float arrays named like the parameters (``W1`` of shape (units of
    layer 1, inputs), ``b1`` of shape (units,), …); x: (batch, inputs) or one
    sample (inputs,); y: (batch, outputs) or (outputs,). ``loss`` is the batch
    mean J = (1/m) Σ C and ``gradients`` returns ∂J/∂θ shaped like params.
    Bad shapes or names raise :class:`derive.errors.ShapeError`. Made from a
    derivation, the plan is read from it; from a network, it is derived first.
    """

    forward: Callable[[Params, np.ndarray], np.ndarray]
    loss: Callable[[Params, np.ndarray, np.ndarray], float]
    gradients: Callable[[Params, np.ndarray, np.ndarray], dict[str, np.ndarray]]

    def __init__(self, source: Network | Derivation) -> None:
        self.plan = plan(source)
        self.network = self.plan.network
        net = self.network
        self.source = codegen.module_source(self.plan, standalone=False)
        namespace: dict[str, object] = {"__name__": f"derive.generated.{codegen.safe_name(net.name)}"}
        namespace["ShapeError"] = ShapeError
        exec(compile(self.source, f"<derive: generated for {codegen.safe_name(net.name)}>", "exec"), namespace)  # noqa: S102
        self.forward = namespace["forward"]  # type: ignore[assignment]
        self.loss = namespace["loss"]  # type: ignore[assignment]
        self.gradients = namespace["gradients"]  # type: ignore[assignment]
        self.shapes: dict[str, tuple[int, ...]] = dict(namespace["SHAPES"])  # type: ignore[arg-type]
