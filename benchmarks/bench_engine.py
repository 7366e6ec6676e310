"""Timing figures for the derivation engine (prints tables; not a test, no time asserts).

Run as ``python benchmarks/bench_engine.py``; it takes one to two minutes on two cores.
Every network has sigmoid hidden layers, a softmax output and cross-entropy loss.

1. Matrix form: the time to build every matrix-form equation (forward, recursion,
   gradients, update for each layer, the output δ and the general form) for
   depths 2, 4, 8 and 16 at width 8.  Goal: instant (milliseconds).
2. One gradient on demand for a 784-100-10 network: ``d.gradient(name)`` on a fresh
   derivation (cold) and again on the same one (warm).  Goal: well under a second.
3. Every per-parameter gradient, ``d.gradient(n, form="closed")`` for all parameters,
   on networks of growing size.  Goal: linear growth, i.e. a roughly constant cost
   per parameter at a fixed depth.
4. The ratio to sympy differentiating the composed cost: ``d.composed_cost()`` once
   plus ``sympy.diff`` for each parameter's symbol, against derive's closed forms.
   Each side runs in a fresh (spawned) process with a cold sympy cache and a time
   budget, so a hang cannot block the script; a run over budget prints ">budget".
   Parameter symbols are looked up before the clock starts, so the sympy side
   carries none of derive's per-parameter work.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from multiprocessing.connection import Connection

import sympy

import derive
from derive import Layer, Network
from derive.engine import matrixform
from derive.rules import symbols as sym

HIDDEN, OUTPUT, LOSS = "sigmoid", "softmax", "cross_entropy"

MATRIX_DEPTHS = (2, 4, 8, 16)
MATRIX_WIDTH = 8
MATRIX_REPEATS = 5

ON_DEMAND = (784, 100, 10)
ON_DEMAND_NAMES = ("W1[50,400]", "W2[5,50]", "b1[3]")
COLD_REPEATS = 3
WARM_REPEATS = 5

ENUMERATE = ((4, 8, 3), (8, 16, 4), (16, 32, 8), (32, 64, 10), (8, 16, 16, 16, 4))

# Grown in order while each sympy run stays under STOP_AFTER seconds.
SYMPY_GROWING = ((2, 2, 2), (2, 3, 2), (3, 4, 2), (4, 6, 3))
SYMPY_BUDGET = 30.0
STOP_AFTER = 30.0
# Tried regardless, with its own budget.
SYMPY_EXTRA = (((8, 16, 4), 60.0),)
DERIVE_BUDGET = 60.0
# Seconds a spawned process may take to import and build its network.
STARTUP_BUDGET = 120.0


# ----------------------------------------------------------------- helpers
def network(sizes: Sequence[int]) -> Network:
    """sizes[0] inputs, sigmoid hidden layers, a softmax output layer."""
    layers = [Layer(n, HIDDEN) for n in sizes[1:-1]] + [Layer(sizes[-1], OUTPUT)]
    return Network(inputs=sizes[0], layers=tuple(layers), loss=LOSS)


def label(sizes: Sequence[int]) -> str:
    return "-".join(map(str, sizes))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


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


def section(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


# ------------------------------------------------------- 1. matrix form
def build_matrix_form(sizes: Sequence[int]) -> int:
    """Every matrix-form equation of a fresh derivation; returns how many."""
    d = derive.derive(network(sizes))
    L = d.L
    eqs: list[object] = []
    for l in range(1, L + 1):
        eqs += matrixform.forward(d, l)
        if l < L:
            eqs += matrixform.recursion(d, l)
        eqs += matrixform.gradients(d, l)
        eqs += matrixform.update(d, l)
    eqs += matrixform.output_delta(d)
    eqs += matrixform.general(d)
    return len(eqs)


def bench_matrix_form() -> None:
    section(f"1. Matrix-form derivation, width {MATRIX_WIDTH} (goal: milliseconds)")
    first, _ = timed(lambda: build_matrix_form([MATRIX_WIDTH] * 3))
    print(f"first call in this process, depth 2 (includes sympy's lazy imports): {ms(first)} ms")
    print(f"then {MATRIX_REPEATS} runs per depth, each on a fresh derive.derive(net) (included in the time):")
    print()
    rows = []
    for depth in MATRIX_DEPTHS:
        sizes = [MATRIX_WIDTH] * (depth + 1)
        times, count = [], 0
        for _ in range(MATRIX_REPEATS):
            t, count = timed(lambda sizes=sizes: build_matrix_form(sizes))
            times.append(t)
        med = statistics.median(times)
        rows.append([str(depth), str(count), ms(min(times)), ms(med), ms(med / depth)])
    table(["depth", "equations", "min ms", "median ms", "median ms/layer"], rows)


# --------------------------------------------------- 2. one gradient on demand
def bench_on_demand() -> None:
    section(f"2. One gradient on demand, {label(ON_DEMAND)} (goal: well under a second)")
    net = network(ON_DEMAND)
    print(f"{net.parameter_count()} parameters; d.gradient(name) with the default form.")
    print(f"cold: first call on a fresh derive.derive(net), {COLD_REPEATS} fresh derivations;")
    print(f"warm: the same call again on that derivation, median of {WARM_REPEATS}.")
    print()
    rows = []
    for name in ON_DEMAND_NAMES:
        cold, warm = [], []
        for _ in range(COLD_REPEATS):
            d = derive.derive(net)
            t, _ = timed(lambda d=d, name=name: d.gradient(name))
            cold.append(t)
            for _ in range(WARM_REPEATS):
                t, _ = timed(lambda d=d, name=name: d.gradient(name))
                warm.append(t)
        rows.append([name, ms(cold[0]), ms(statistics.median(cold)), f"{statistics.median(warm) * 1e6:.1f}"])
    table(["parameter", "cold 1st ms", "cold median ms", "warm median us"], rows)


# ------------------------------------------------ 3. every per-parameter gradient
def all_gradients(d: derive.Derivation) -> list[object]:
    return [d.gradient(n, form="closed") for n in d.parameters()]


def bench_enumerate() -> None:
    section("3. Every per-parameter gradient, form='closed' (goal: constant cost per parameter at fixed depth)")
    print("one run each on a fresh derive.derive(net):")
    print()
    rows = []
    for sizes in ENUMERATE:
        d = derive.derive(network(sizes))
        t, grads = timed(lambda d=d: all_gradients(d))
        n = len(grads)
        rows.append([label(sizes), str(d.L), str(n), f"{t:.3f}", f"{t / n * 1e6:.0f}"])
    table(["network", "depth", "parameters", "seconds", "us/parameter"], rows)


# ------------------------------------------------------ 4. against sympy.diff
def parameter_symbol(d: derive.Derivation, name: str) -> sympy.Symbol:
    layer, i, j = d.resolve(name)
    return sym.W(layer, i, j) if j is not None else sym.b(layer, i)


def _child(kind: str, sizes: tuple[int, ...], conn: Connection) -> None:
    """Runs in a spawned process: says "ready", then sends (seconds, gradients) or an error."""
    try:
        d = derive.derive(network(sizes))
        names = d.parameters()
        if kind == "sympy":
            symbols = [parameter_symbol(d, n) for n in names]

            def work() -> list[object]:
                cost = d.composed_cost()
                return [sympy.diff(cost, s) for s in symbols]
        else:

            def work() -> list[object]:
                return all_gradients(d)

        conn.send("ready")
        t, grads = timed(work)
        conn.send(("ok", t, len(grads)))
    except Exception as exc:  # reported by the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}", 0))
    finally:
        conn.close()


def run_with_budget(kind: str, sizes: tuple[int, ...], budget: float) -> float | None:
    """Seconds taken in a fresh process, or None when over budget."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(kind, sizes, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(STARTUP_BUDGET) or parent.recv() != "ready":
            raise RuntimeError(f"{kind} {label(sizes)}: the process did not start")
        if not parent.poll(budget):
            return None
        status, value, _ = parent.recv()
        if status != "ok":
            raise RuntimeError(f"{kind} {label(sizes)}: {value}")
        return float(value)
    except EOFError as exc:
        raise RuntimeError(f"{kind} {label(sizes)}: the process ended without a result") from exc
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        parent.close()


def bench_against_sympy() -> None:
    section("4. Against sympy.diff of the composed cost (every parameter)")
    print("sympy: d.composed_cost() once + sympy.diff(cost, symbol) per parameter;")
    print("derive: d.gradient(n, form='closed') per parameter; each in a fresh process.")
    print(f"The growing list has a {SYMPY_BUDGET:.0f} s budget and stops after a run over {STOP_AFTER:.0f} s.")
    print()
    plan = [(sizes, SYMPY_BUDGET, True) for sizes in SYMPY_GROWING]
    plan += [(sizes, budget, False) for sizes, budget in SYMPY_EXTRA]
    rows = []
    stopped = False
    for sizes, budget, growing in plan:
        params = str(network(sizes).parameter_count())
        if growing and stopped:
            rows.append([label(sizes), params, f"{budget:.0f}", "skipped", "-", "-"])
            continue
        ours = run_with_budget("derive", sizes, DERIVE_BUDGET)
        theirs = run_with_budget("sympy", sizes, budget)
        ours_s = f"{ours:.3f}" if ours is not None else f">{DERIVE_BUDGET:.0f}"
        if theirs is None:
            theirs_s = f">{budget:.0f}"
            ratio = f">{budget / ours:.0f}x" if ours else "-"
        else:
            theirs_s = f"{theirs:.3f}"
            ratio = f"{theirs / ours:.1f}x" if ours else "-"
        rows.append([label(sizes), params, f"{budget:.0f}", theirs_s, ours_s, ratio])
        if growing and (theirs is None or theirs > STOP_AFTER):
            stopped = True
    table(["network", "parameters", "budget s", "sympy s", "derive s", "sympy/derive"], rows)


# --------------------------------------------------------------------- main
def main() -> None:
    start = time.perf_counter()
    print("derive engine benchmark")
    print(f"python {platform.python_version()} ({platform.python_implementation()}), sympy {sympy.__version__}")
    print(f"derive {metadata.version('derive')}, {platform.system()} {platform.machine()}, {os.cpu_count()} cpus")
    print(f"networks: {HIDDEN} hidden layers, {OUTPUT} output, {LOSS} loss; times from time.perf_counter")
    bench_matrix_form()
    bench_on_demand()
    bench_enumerate()
    bench_against_sympy()
    print()
    print(f"total {time.perf_counter() - start:.1f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
