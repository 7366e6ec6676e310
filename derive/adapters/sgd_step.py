"""A function that applies one SGD step, θ ← θ − lr ∂J/∂θ, as a gradients function: (θ before − θ after)/lr.

The step's own rounding is what the recovered gradient cannot be more exact than: θ − lr g is rounded to
the parameters' precision ε, about ε (|θ before| + |θ after|) absolutely, and dividing the difference by lr
makes that ε (|θ before| + |θ after|)/lr. Each comparison's ``atol`` grows by twice that, taken from the
largest parameter and the precision of the arrays the step returned: in float64 with θ in [−1, 1] and
lr = 0.1 it is about 1e-14, far below the default atol of 1e-9, so a missing 1/m or ½ still shows; a
step done in float32 gets float32's allowance (about 1e-5 at lr = 0.1). A smaller lr only widens it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from derive.adapters.base import Adapted
from derive.errors import DeriveError
from derive.model.network import Network


class SgdStep(Adapted):
    """``step_fn(params, x, y)`` that updates ``params`` in place or returns the new dict."""

    def __init__(self, step_fn: object, net: Network, lr: object) -> None:
        super().__init__(net)
        if not callable(step_fn):
            raise DeriveError(
                f"assert_gradients: step= needs a function step(params, x, y), got {type(step_fn).__name__}"
            )
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not np.isfinite(lr) or lr <= 0:
            raise DeriveError(f"assert_gradients: step= must be the learning rate your step uses (> 0), got {lr!r}")
        self.step_fn: Callable = step_fn
        self.lr = float(lr)
        self.allowance = 0.0

    def gradients(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        before = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
        work = {name: value.copy() for name, value in before.items()}
        returned = self.step_fn(work, x, y)
        after = returned if isinstance(returned, Mapping) else work
        out: dict[str, np.ndarray] = {}
        self.allowance = 0.0
        for name, old in before.items():
            if name not in after:
                raise AssertionError(f"{name}: missing from the parameters after your step ({self.where()})")
            new = np.asarray(after[name])
            if new.shape != old.shape:
                raise AssertionError(
                    f"{name}: has shape {new.shape} after your step, {old.shape} before ({self.where()})"
                )
            eps = np.finfo(new.dtype).eps if np.issubdtype(new.dtype, np.floating) else np.finfo(np.float64).eps
            new = new.astype(np.float64)
            self.allowance = max(self.allowance, 2.0 * eps * float(np.max(np.abs(old) + np.abs(new))) / self.lr)
            out[name] = (old - new) / self.lr
        if all(not np.any(g) for g in out.values()):
            raise AssertionError(
                f"your step changed no parameter ({self.where()}): update params in place or return the new dict"
            )
        return out

    def tolerance(self, rtol: float, atol: float) -> tuple[float, float]:
        return rtol, atol + self.allowance

    def where(self) -> str:
        return f"one SGD step of lr {self.lr:g}"

    def about(self) -> str:
        return (
            f"yours was recovered from {self.where()}, as (θ before − θ after)/{self.lr:g}, atol widened by"
            f" {self.allowance:.1e} for the step's rounding; a constant ratio can also be a learning rate other"
            f" than {self.lr:g}"
        )
