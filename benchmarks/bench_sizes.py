"""derive at a real network's size: the goals of issue 14, measured (prints tables; not a test, no time asserts).

Run as ``python benchmarks/bench_sizes.py [--quick]``; it takes three to five minutes on two cores
(``--quick`` skips the growth tables). Every figure is measured in this run, in fresh processes where
a cold start matters, next to its goal and its baseline:

1. 784-100-10 (sigmoid, softmax, cross-entropy; 79,510 parameters): every per-parameter gradient
   (``for n in d.parameters(): d.gradient(n)``), its time per parameter and the process's peak memory;
   one gradient on demand in a fresh process after import. Goals: ≤ 3 s, ≤ 40 µs each, ≤ 150 MiB;
   one on demand ≤ 50 ms. Baseline: a hand-written NumPy backprop of one sample (all 79,510 numbers).
2. 4-4-4-4 (sigmoid, ½ squared error): all per-parameter gradients against sympy differentiating the
   composed cost for each parameter, followed by ``cse``, each side in a fresh process with the garbage
   collector paused as timeit pauses it, best of five.
   Goal: ≥ 1000×.
3. The verbs on 784-100-10 from the command line, process start included: ``check`` (goal ≤ 10 s),
   ``render --format md,tex,html,pdf`` (≤ 20 s, the PDF built), ``verify`` of one right and one wrong
   formula (≤ 2 s), and ``composed_cost()`` in a fresh process (≤ 1 s).
4. Growth: every per-parameter gradient and ``check`` for widths that double (784-w-10) and depths
   that double (784-50×k-10), within check's limit of 100,000 parameters; the time per parameter
   should stay flat.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DERIVE = [sys.executable, "-m", "derive"]
MNIST = (784, 100, 10)


def spec(sizes: tuple[int, ...], folder: Path) -> Path:
    """A TOML spec: sigmoid hidden layers, a softmax output, cross-entropy."""
    layers = "".join(f'\n[[layer]]\nunits = {n}\nactivation = "sigmoid"\n' for n in sizes[1:-1])
    layers += f'\n[[layer]]\nunits = {sizes[-1]}\nactivation = "softmax"\n'
    name = "n" + "_".join(map(str, sizes))
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\ninputs = {sizes[0]}\nloss = "cross_entropy"\n{layers}', encoding="utf-8")
    return path


def child(code: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; it prints ``key value`` lines, returned as a dict."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return {k: float(v) for k, v in (line.split() for line in out.stdout.splitlines() if line.strip())}


def network_code(
    sizes: tuple[int, ...], hidden: str = "sigmoid", output: str = "softmax", loss: str = "cross_entropy"
) -> str:
    layers = ", ".join(f"Layer({n}, {hidden!r})" for n in sizes[1:-1]) + f", Layer({sizes[-1]}, {output!r})"
    return f"Network(inputs={sizes[0]}, layers=({layers},), loss={loss!r})"


ALL_GRADIENTS = """
import resource, time
import derive
from derive import Layer, Network
d = derive.derive({net})
start = time.perf_counter()
for n in d.parameters():
    d.gradient(n)
print("seconds", time.perf_counter() - start)
print("count", d.network.parameter_count())
print("rss_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

ON_DEMAND = """
import time
import derive
from derive import Layer, Network
d = derive.derive({net})
start = time.perf_counter()
d.gradient({name!r})
print("seconds", time.perf_counter() - start)
"""

SYMPY_SIDE = """
import gc, time, sympy
import derive
from derive import Layer, Network
from derive.rules import symbols as sym
d = derive.derive({net})
symbols = [sym.parameter_symbol(*d.resolve(n)) for n in d.parameters()]
gc.collect()
gc.disable()  # as timeit does: a collection of import-time garbage is not either side's work
start = time.perf_counter()
cost = d.composed_cost()
sympy.cse([sympy.diff(cost, s) for s in symbols])
print("seconds", time.perf_counter() - start)
"""

DERIVE_SIDE = """
import gc, time
import derive
from derive import Layer, Network
d = derive.derive({net})
gc.collect()
gc.disable()  # as timeit does: a collection of import-time garbage is not either side's work
start = time.perf_counter()
[d.gradient(n) for n in d.parameters()]
print("seconds", time.perf_counter() - start)
"""

COMPOSED = """
import time
import derive
from derive import Layer, Network
d = derive.derive({net})
start = time.perf_counter()
d.composed_cost()
print("seconds", time.perf_counter() - start)
"""


def hand_backprop(sizes: tuple[int, ...], repeat: int = 20) -> float:
    """Seconds for one sample's every gradient by a textbook NumPy backprop (best of ``repeat``)."""
    rng = np.random.default_rng(0)
    ws = [rng.uniform(-1, 1, (n, m)) for m, n in zip(sizes, sizes[1:], strict=False)]
    bs = [rng.uniform(-1, 1, n) for n in sizes[1:]]
    x, y = rng.uniform(-1, 1, sizes[0]), np.eye(sizes[-1])[0]
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        acts = [x]
        for k, (w, b) in enumerate(zip(ws, bs, strict=True)):
            z = w @ acts[-1] + b
            if k == len(ws) - 1:
                e = np.exp(z - z.max())
                acts.append(e / e.sum())
            else:
                acts.append(1 / (1 + np.exp(-z)))
        delta = acts[-1] - y
        grads = []
        for k in range(len(ws) - 1, -1, -1):
            grads.append((np.outer(delta, acts[k]), delta))
            if k:
                delta = (ws[k].T @ delta) * acts[k] * (1 - acts[k])
        best = min(best, time.perf_counter() - start)
    return best


def timed_cli(args: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(DERIVE + args, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done.returncode


def table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    for k, row in enumerate([headers, ["-" * w for w in widths], *rows]):
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        del k


def section(title: str) -> None:
    print(f"\n{title}\n{'=' * len(title)}")


def verdict(value: float, goal: float) -> str:
    return "ok" if value <= goal else "OVER"


def bench_gradients() -> None:
    section("1. Every per-parameter gradient of 784-100-10 (fresh process)")
    net = network_code(MNIST)
    r = child(ALL_GRADIENTS.format(net=net))
    per = r["seconds"] / r["count"] * 1e6
    hand = hand_backprop(MNIST)
    rows = [
        ["all gradients, s", f"{r['seconds']:.2f}", "3", verdict(r["seconds"], 3)],
        ["per parameter, us", f"{per:.1f}", "40", verdict(per, 40)],
        ["peak memory (process RSS), MiB", f"{r['rss_mib']:.0f}", "150", verdict(r["rss_mib"], 150)],
    ]
    cold = [child(ON_DEMAND.format(net=net, name=name))["seconds"] for name in ("W1[50,400]", "W2[5,50]", "b1[3]")]
    rows.append(
        ["one on demand after import (worst of 3), ms", f"{max(cold) * 1e3:.1f}", "50", verdict(max(cold), 0.05)]
    )
    table(["figure", "measured", "goal", ""], rows)
    print(f"baseline: hand NumPy backprop of one sample, all {int(r['count'])} numbers: {hand * 1e3:.2f} ms")


def bench_against_sympy() -> None:
    section("2. 4-4-4-4 sigmoid, 1/2 squared error: against sympy diff of the composed cost + cse")
    net = network_code((4, 4, 4, 4), output="sigmoid", loss="squared_error")
    ours = min(child(DERIVE_SIDE.format(net=net))["seconds"] for _ in range(5))
    theirs = min(child(SYMPY_SIDE.format(net=net))["seconds"] for _ in range(5))
    ratio = theirs / ours
    table(
        ["side", "seconds (best of 5)"],
        [
            ["sympy: composed cost, diff per parameter, cse", f"{theirs:.3f}"],
            ["derive: d.gradient(n) per parameter", f"{ours:.4f}"],
        ],
    )
    print(f"ratio sympy/derive: {ratio:.0f}x (goal >= 1000x: {'ok' if ratio >= 1000 else 'UNDER'})")


def bench_verbs(folder: Path) -> None:
    section("3. The verbs on 784-100-10 (examples/mnist.toml), from the command line (process start included)")
    path = ROOT / "examples" / "mnist.toml"
    rows = []
    t, rc = timed_cli(["check", str(path), "--quiet"], folder)
    rows.append(["derive check", f"{t:.2f}", "10", f"{verdict(t, 10)} (exit {rc})"])
    out = folder / "render"
    t, rc = timed_cli(["render", str(path), "-o", str(out), "--format", "md,tex,html,pdf", "--quiet"], folder)
    pdf = list(out.glob("*.pdf"))
    rows.append(["derive render md,tex,html,pdf", f"{t:.2f}", "20", f"{verdict(t, 20)} (exit {rc}, {len(pdf)} PDF)"])
    right = ["verify", str(path), "W2[1,1]", "(a^{(2)}_1 - y_1) a^{(1)}_1", "--quiet"]
    wrong = ["verify", str(path), "W2[1,1]", "(a^{(2)}_1 - y_1) a^{(1)}_2", "--quiet"]
    for label, args in (("derive verify, a right formula", right), ("derive verify, a wrong formula", wrong)):
        t, rc = timed_cli(args, folder)
        rows.append([label, f"{t:.2f}", "2", f"{verdict(t, 2)} (exit {rc})"])
    t = child(COMPOSED.format(net=network_code(MNIST)))["seconds"]
    rows.append(["composed_cost() after derive()", f"{t:.2f}", "1", verdict(t, 1)])
    table(["verb", "seconds", "goal", ""], rows)


def bench_growth(folder: Path) -> None:
    section("4. Growth: widths and depths that double (time per parameter should stay flat)")
    rows = []
    # within check's limit of 100,000 parameters: widths 12 to 100, then 1 to 8 hidden layers of 50
    plans = [(784, w, 10) for w in (12, 25, 50, 100)] + [(784, *([50] * k), 10) for k in (1, 2, 4, 8)]
    for sizes in plans:
        r = child(ALL_GRADIENTS.format(net=network_code(sizes)))
        t, rc = timed_cli(["check", str(spec(sizes, folder)), "--quiet", "--no-torch"], folder)
        count = int(r["count"])
        rows.append(
            [
                "-".join(map(str, sizes)),
                str(count),
                f"{r['seconds']:.2f}",
                f"{r['seconds'] / count * 1e6:.1f}",
                f"{t:.2f}",
                f"{t / count * 1e6:.1f}",
                str(rc),
            ]
        )
    table(["network", "parameters", "gradients s", "us/param", "check s", "check us/param", "exit"], rows)
    print("check samples at most 4,000 parameters for finite differences, so its time per parameter falls")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the growth tables")
    args = parser.parse_args()
    start = time.perf_counter()
    print("derive at MNIST size")
    print(f"python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} cpus")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_gradients()
        bench_against_sympy()
        bench_verbs(folder)
        if not args.quick:
            bench_growth(folder)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
