"""Timing of derive's generated gradients against hand-written NumPy and torch (prints a table; no time asserts).

Run as ``python3 benchmarks/bench_numeric.py``; it takes about half a minute.
Every network has one sigmoid hidden layer, a softmax output and cross-entropy loss, with one-hot
targets declared (``targets = "one_hot"``: the hand-written code assumes them too, and both may write
δ⁽ᴸ⁾ = (a − y)/m); each implementation computes ∂J/∂θ of the batch mean J = (1/m) Σ C for all parameters.

1. generated: ``derive.derive(net).lambdify().gradients(params, x, y)``, built once
   before the clock starts (a batch of one takes its one-sample path on 1-D arrays).
2. hand NumPy: the textbook backprop below, written the way a careful person would
   write it for an exercise (naive sigmoid, softmax with the row max subtracted,
   no shape checks).
3. torch: CPU autograd in float64, timed from the NumPy arrays to the NumPy gradients
   (leaf tensors from ``torch.from_numpy``, forward, ``backward()``, ``.grad.numpy()``),
   which is what a user comparing gradients would run.  Skipped when torch is missing.

Before any timing the three are checked to agree on every array
(``np.testing.assert_allclose``, rtol 1e-10, atol 1e-12).  Each implementation gets a
loop count so that one measurement lasts at least 10 ms, then 40 repeats interleave
generated and hand NumPy, in a rotating order, and 40 more time torch on its own (its idle
OpenMP threads spin after each call and would slow whatever runs next on two cores); the
table gives the minimum per call.  Many short
measurements rather than a few long ones: on a shared machine the minimum of short
windows finds the moments when nothing else ran, where a 0.2 s window rarely does.
Goals: generated ≤ 1.0× hand NumPy (the ratio column) and faster than torch at every size.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import time
import timeit
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

import numpy as np

import derive

torch: ModuleType | None
try:
    import torch
except ImportError:  # the torch column is skipped
    torch = None

HIDDEN, OUTPUT, LOSS, TARGETS = "sigmoid", "softmax", "cross_entropy", "one_hot"

# (inputs, hidden, outputs), batch
SIZES: tuple[tuple[tuple[int, int, int], int], ...] = (
    ((3, 4, 2), 1),
    ((64, 128, 10), 32),
    ((784, 100, 10), 1024),
)
SEED = 20240
SCALE = 0.1
REPEATS = 40
WINDOW = 0.01  # seconds: the shortest measurement
RTOL, ATOL = 1e-10, 1e-12
HAND_GOAL = 1.0

Params = Mapping[str, np.ndarray]
Grads = dict[str, np.ndarray]
GradFn = Callable[[Params, np.ndarray, np.ndarray], Grads]


# ----------------------------------------------------------------- helpers
def label(sizes: Sequence[int]) -> str:
    """'784-100-10' for (784, 100, 10)."""
    return "-".join(map(str, sizes))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows under headers; the first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if k == 0 else str(c).rjust(w) for k, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def blas_threads() -> str:
    """The thread count of the OpenBLAS that NumPy loaded, or 'unknown' (Linux, best effort)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {ln.split()[-1] for ln in maps if "openblas" in ln.lower()}
    except OSError:
        return "unknown"
    libs = sorted(p for p in paths if p.startswith("/"))
    getters = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in getters:
            getter = getattr(lib, name, None)
            if getter is not None:
                return f"{int(getter())} (OpenBLAS)"
    return "unknown"


def problem(sizes: tuple[int, int, int], m: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Seeded params (normal × SCALE), inputs (standard normal) and one-hot targets."""
    n_in, h, k = sizes
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.standard_normal((h, n_in)) * SCALE,
        "b1": rng.standard_normal(h) * SCALE,
        "W2": rng.standard_normal((k, h)) * SCALE,
        "b2": rng.standard_normal(k) * SCALE,
    }
    x = rng.standard_normal((m, n_in))
    y = np.eye(k)[rng.integers(0, k, size=m)]
    return params, x, y


# ------------------------------------------------- the two other implementations
def hand_gradients(params: Params, x: np.ndarray, y: np.ndarray) -> Grads:
    """Textbook backprop of J = (1/m) Σ C for sigmoid → softmax with cross-entropy."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = x.shape[0]
    a1 = 1.0 / (1.0 + np.exp(-(x @ W1.T + b1)))
    z2 = a1 @ W2.T + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    a2 = e / e.sum(axis=1, keepdims=True)
    d2 = (a2 - y) / m
    dW2 = d2.T @ a1
    db2 = d2.sum(0)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    dW1 = d1.T @ x
    db1 = d1.sum(0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def torch_gradients(params: Params, x: np.ndarray, y: np.ndarray) -> Grads:
    """torch CPU autograd in float64, from NumPy arrays to NumPy gradients."""
    assert torch is not None
    leaves = {name: torch.from_numpy(value).requires_grad_() for name, value in params.items()}
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    a1 = torch.sigmoid(X @ leaves["W1"].T + leaves["b1"])
    z2 = a1 @ leaves["W2"].T + leaves["b2"]
    cost = -(Y * torch.log_softmax(z2, dim=1)).sum(1).mean()
    cost.backward()
    return {name: leaf.grad.numpy() for name, leaf in leaves.items()}


# ------------------------------------------------------------------ checks
def check_agree(reference: Grads, other: Grads, who: str, where: str) -> None:
    """Fail unless other has reference's names and shapes and matches it within RTOL/ATOL."""
    assert set(other) == set(reference), f"{who} {where}: names {sorted(other)} != {sorted(reference)}"
    for name, want in reference.items():
        got = np.asarray(other[name])
        assert got.shape == want.shape, f"{who} {where}: {name} shape {got.shape} != {want.shape}"
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"{who} {where}: {name}")


# ------------------------------------------------------------------ timing
def measure(fns: Mapping[str, Callable[[], object]]) -> tuple[dict[str, float], dict[str, int]]:
    """Minimum seconds per call of each function, and its loop count per measurement.

    Loop counts double from 1 until one measurement lasts WINDOW; the REPEATS
    measurements of the functions are interleaved, in an order rotating by one each repeat.
    """
    timers = {name: timeit.Timer(fn) for name, fn in fns.items()}
    loops = {}
    for name, timer in timers.items():
        n = 1
        while timer.timeit(n) < WINDOW:
            n *= 2
        loops[name] = n
    best = {name: float("inf") for name in fns}
    names = list(fns)
    for r in range(REPEATS):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            best[name] = min(best[name], timers[name].timeit(loops[name]) / loops[name])
    return best, loops


def ratio(value: float) -> str:
    """A ratio of times, as '0.83×'."""
    return f"{value:.2f}×"


def us(seconds: float) -> str:
    """Microseconds, with a precision suited to the size."""
    value = seconds * 1e6
    return f"{value:.2f}" if value < 100 else f"{value:.1f}"


# --------------------------------------------------------------------- main
def main() -> None:
    """Check, time and print the table and the goals."""
    start = time.perf_counter()
    print("derive numeric gradients benchmark")
    python = f"python {platform.python_version()} ({platform.python_implementation()})"
    print(f"{python}, derive {derive.__version__}")
    print(f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus")
    print(f"numpy {np.__version__}, BLAS threads {blas_threads()}")
    if torch is None:
        print("torch: not installed")
    else:
        threads = f"threads {torch.get_num_threads()}, interop threads {torch.get_num_interop_threads()}"
        print(f"torch {torch.__version__}, {threads}")
    print(f"networks: {HIDDEN} hidden layer, {OUTPUT} output, {LOSS} loss, {TARGETS} targets; float64; seed {SEED}")
    print(f"agreement checked first: rtol {RTOL:g}, atol {ATOL:g} on every gradient array")
    print(
        f"times: minimum µs per call of {REPEATS} timeit repeats, each ≥ {WINDOW * 1e3:g} ms"
        " (generated and hand NumPy interleaved, then torch on its own)"
    )
    print()

    rows: list[list[str]] = []
    loop_notes: list[str] = []
    hand_met = True
    torch_met: bool | None = None if torch is None else True
    for index, (sizes, m) in enumerate(SIZES):
        layers = (derive.Layer(sizes[1], HIDDEN), derive.Layer(sizes[2], OUTPUT))
        net = derive.Network(sizes[0], layers, LOSS, targets=TARGETS)
        generated: GradFn = derive.derive(net).lambdify().gradients
        params, x, y = problem(sizes, m, SEED + index)
        where = f"{label(sizes)} batch {m}"

        reference = generated(params, x, y)
        check_agree(reference, hand_gradients(params, x, y), "hand NumPy", where)
        fns: dict[str, Callable[[], object]] = {
            "generated": lambda g=generated, p=params, x=x, y=y: g(p, x, y),
            "hand": lambda p=params, x=x, y=y: hand_gradients(p, x, y),
        }
        best, loops = measure(fns)
        if torch is not None:  # on its own: torch's idle worker threads spin for a while after each call
            check_agree(reference, torch_gradients(params, x, y), "torch", where)
            torch_best, torch_loops = measure({"torch": lambda p=params, x=x, y=y: torch_gradients(p, x, y)})
            best |= torch_best
            loops |= torch_loops
        gen, hand = best["generated"], best["hand"]
        met = gen <= HAND_GOAL * hand
        hand_met = hand_met and met
        row = [label(sizes), str(m), us(gen), us(hand)]
        if torch is None:
            row += ["-", ratio(gen / hand), "met" if met else "NOT MET", "-"]
        else:
            row += [us(best["torch"]), ratio(gen / hand), "met" if met else "NOT MET", ratio(gen / best["torch"])]
            torch_met = bool(torch_met) and gen < best["torch"]
        rows.append(row)
        loop_notes.append(f"{label(sizes)}: " + ", ".join(f"{name} {n}" for name, n in loops.items()))

    headers = ["network", "batch", "generated µs", "hand NumPy µs", "torch µs", "generated ÷ hand", "≤ 1.0×"]
    table([*headers, "generated ÷ torch"], rows)
    print()
    print("loops per measurement: " + "; ".join(loop_notes))
    torch_verdict = "not measured (torch not installed)" if torch_met is None else ("met" if torch_met else "not met")
    print(
        f"goals: generated ≤ {HAND_GOAL:.1f}× hand NumPy at every size: {'met' if hand_met else 'not met'}; "
        f"generated faster than torch at every size: {torch_verdict}"
    )
    print(f"total {time.perf_counter() - start:.1f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
