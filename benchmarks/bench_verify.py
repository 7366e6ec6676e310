"""Timing of ``derive verify`` against its goal: every answer within a second (prints tables; not a test).

Run as ``python benchmarks/bench_verify.py [--budget SECONDS] [--repeat N]``.

1. The hostile corpus of ``tests/test_verify_hostile.py`` (injection payloads, unbalanced
   brackets, huge exponents, long and deeply nested input, unknown names and commands,
   indices out of range, empty, unicode and control characters, hostile PARAM strings,
   extreme but valid formulas, input at the size limits): each call's time and outcome.
2. Right and wrong formulas on seed004 and seed003: each call's time and verdict.
3. The adversarial corpus of ``tests/test_verify_bounds.py`` (nested sums, chains of
   functions, products of sums, huge powers and numbers, products of matrices, formulas
   on 50-50-50, 100-100-100 and 8-layer networks) and its undefined formulas (1/0, log 0,
   …, and formulas undefined only at the sample points): each call's time and outcome
   against the expected one ("refused" is a LimitError naming the limit).

4. 784 → 100 sigmoid → 10 softmax, cross-entropy (MNIST size, 79,510 parameters): right and wrong formulas
   for W2[i,j], W1[i,j], b1[i], δ and a whole W2, each in a fresh process from the command line (process
   start included) and in this process on a fresh derivation with sympy's cache cleared (as the command
   line has them; sympy's deferred imports are warm after the first call), with the length of the answer.
   Against the old path, measured in the same run: the numbers of one sample point made as sympy Floats
   for every one of the 79,510 parameters and δ by substituting them into each neuron's closed form
   (``model.samples.sample_values`` and ``xreplace``), times the 4 points a verdict uses.
   Goal: 2 s per formula from the command line.

Each call of sections 1–3 runs after a warm-up (so imports and caches are not counted) under a
SIGALRM budget (default 5 s, Linux), so a call that would hang is cut off and shown
as ">budget". Outcomes: "right"/"wrong" (a verdict), "error" (a clean DeriveError; "refused"
when it names a limit, "undefined" when the formula has no value for any input),
"CRASH <type>" (any other exception), "TIMEOUT". The closing lines give the maximum
time and every call over the one-second goal.
"""

from __future__ import annotations

import argparse
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sympy.core.cache import clear_cache

import derive
from derive.errors import DeriveError
from derive.model import samples
from derive.verify import verify
from derive.verify.syntax import LimitError, UndefinedError
from derive.verify.verdict import POINTS

ROOT = Path(__file__).resolve().parent.parent

GOAL = 1.0  # seconds per call

# (spec, param, formula, expected verdict)
VERDICTS = [
    ("seed004", "delta2", r"(y-\hat y)\hat y(1-\hat y)", True),
    ("seed004", "delta2", r"(\hat y - y)\hat y(1-\hat y)", False),
    ("seed004", "W1[1,2]", r"-\delta_1 x_2", True),
    ("seed004", "W1[1,2]", r"\delta_1 x_2", False),
    ("seed004", "W1[1,2]", r"-\delta_2 x_1", False),
    ("seed004", "W1[1,2]", "-delta1_1 * x2", True),
    ("seed004", "W2[1,1]", r"-(y-\hat y)\hat y(1-\hat y) a^{(1)}_1", True),
    ("seed004", "W2[1,1]", r"-(y-\hat y) a^{(1)}_1", False),
    ("seed004", r"\delta^{(1)}_j", r"\delta^{(2)} w^{(2)}_{j1} \sigma'(z^{(1)}_j)", True),
    ("seed004", None, r"\frac{\partial E}{\partial w^{(2)}_{11}} = -\delta^{(2)}_1 a^{(1)}_1", True),
    ("seed003", "delta2", "a^{(2)} - y", True),
    ("seed003", "delta2", "y - a^{(2)}", False),
    ("seed003", "W2[1,2]", r"\delta^{(2)}_1 a^{(1)}_2", True),
    ("seed003", "W2[1,2]", r"\delta^{(2)}_2 a^{(1)}_1", False),
    ("seed003", "b1[2]", r"\delta^{(1)}_2", True),
    ("seed003", "W1[2,3]", r"\sum_k W^{(2)}_{k2}\delta^{(2)}_k \mathrm{ReLU}'(z^{(1)}_2) x_3", True),
    ("seed003", "W1[2,3]", r"\sum_k W^{(2)}_{k2}\delta^{(2)}_k x_3", False),
    ("seed003", "W1", r"\delta^{(1)} x^{\mathsf T}", True),
    ("seed003", "delta1", r"(W^{(2)})^T \delta^{(2)} \odot \mathrm{ReLU}'(z^{(1)})", True),
    ("seed003", "delta1", r"W^{(2)} \delta^{(2)} \odot \mathrm{ReLU}'(z^{(1)})", False),
]


MNIST = (ROOT / "examples" / "mnist.toml").read_text(encoding="utf-8")
MNIST_GOAL = 2.0  # seconds per formula from the command line, process start included

# (param, formula, expected verdict) on 784-100-10; the first right and the first wrong one are compared
# with the old path
MNIST_VERDICTS = [
    ("W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_1", True),
    ("W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_2", False),
    ("W2[i,j]", r"\delta^{(2)}_i a^{(1)}_j", True),
    ("W2[i,j]", r"\delta^{(2)}_i a^{(1)}_1", False),
    ("W1[3,5]", r"\sum_k W^{(2)}_{k3}\delta^{(2)}_k \sigma'(z^{(1)}_3) x_5", True),
    ("W1[3,5]", r"\sum_k W^{(2)}_{k3}\delta^{(2)}_k x_5", False),
    ("W1[i,j]", r"\delta^{(1)}_i x_j", True),
    ("W1[i,j]", r"\delta^{(1)}_i x_1", False),
    ("W1[i,j]", r"\sum_k W^{(2)}_{ki}\delta^{(2)}_k \sigma'(z^{(1)}_i) x_j", True),
    ("W1[i,j]", r"\sum_k W^{(2)}_{ki}\delta^{(2)}_k x_j", False),
    ("b1[i]", r"\delta^{(1)}_i", True),
    ("b1[i]", r"\sum_k W^{(2)}_{ki}\delta^{(2)}_k \sigma'(z^{(1)}_i)", True),
    ("b1[i]", r"\sum_k W^{(2)}_{ki}\delta^{(2)}_k", False),
    ("delta1", r"(W^{(2)})^T \delta^{(2)} \odot \sigma'(z^{(1)})", True),
    ("delta1", r"(W^{(2)})^T \delta^{(2)}", False),
    ("delta2", "a^{(2)} - y", True),
    ("delta2", "y - a^{(2)}", False),
    ("W2", r"\delta^{(2)} (a^{(1)})^T", True),
    ("W2", r"(a^{(1)}) \delta^{(2)}^T", False),
]


def old_path_one_point(net: derive.Network) -> float:
    """Seconds for the numbers of one point the old way: a sympy Float for every parameter, δ by substitution."""
    d = derive.derive(net)
    params, x, y = samples.random_point(net, np.random.default_rng(0))
    start = time.perf_counter()
    values = samples.sample_values(net, params, x, y)
    for layer in range(1, d.L + 1):  # δ of every neuron by substituting the Floats into its closed form
        for i in range(1, d.size(layer) + 1):
            d.dC_dz(layer, i).xreplace(values)
    return time.perf_counter() - start


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_line(spec: Path, param: str, formula: str) -> tuple[int, int, float, float]:
    """(exit code, bytes of the answer, seconds, CPU seconds) of ``derive verify`` in a fresh process."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        [sys.executable, "-m", "derive", "verify", str(spec), "--", param, formula],
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    return done.returncode, len(done.stdout), time.perf_counter() - start, _children_cpu() - cpu


def mnist_section() -> None:
    """Section 4: right and wrong formulas on 784-100-10, from the command line and in this process."""
    net = derive.loads(MNIST, source="mnist")
    print("\n4. 784-100-10 (sigmoid, softmax, cross-entropy; 79,510 parameters)")
    print("seconds of wall-clock time, and of CPU time in brackets (steadier on a shared machine)")
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", "import derive.cli"], cwd=ROOT, check=True)
    floor, floor_cpu = time.perf_counter() - start, _children_cpu() - cpu
    print(f"a fresh process importing derive.cli: {floor:.2f} s ({floor_cpu:.2f}), in every command-line figure")
    if sys.flags.dont_write_bytecode:
        print("(PYTHONDONTWRITEBYTECODE is set: every fresh process compiles derive's sources again)")
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        spec = Path(directory) / "mnist.toml"
        spec.write_text(MNIST, encoding="utf-8")
        print(f"{'param':8} {'formula':46} {'expected':8} {'outcome':8} {'in process':>15} {'cli':>15} {'answer':>7}")
        for param, formula, right in MNIST_VERDICTS:
            clear_cache()  # sympy's cache, as in a fresh process
            begin, cpu = time.perf_counter(), time.process_time()
            v = verify(derive.derive(net), param, formula)
            v.text()
            inside, inside_cpu = time.perf_counter() - begin, time.process_time() - cpu
            code, size, cli, cli_cpu = command_line(spec, param, formula)
            outcome = ("right" if v else "wrong") if code == (0 if v else 1) else f"exit {code}"
            expected = "right" if right else "wrong"
            flag = "" if outcome == expected else "  (unexpected)"
            print(
                f"{param:8} {show(formula, 46):46} {expected:8} {outcome:8} {inside:6.2f} s ({inside_cpu:4.2f})"
                f" {cli:6.2f} s ({cli_cpu:4.2f}) {size:5d} B{flag}"
            )
            rows.append((right, inside, cli, cli_cpu))
    old = old_path_one_point(net)
    print(
        f"old path: one point's numbers as sympy Floats of all 79,510 parameters: {old:.2f} s;"
        f" × {POINTS} points = {old * POINTS:.2f} s"
    )
    for right in (True, False):
        _, inside, cli, _ = next(row for row in rows if row[0] is right)
        print(
            f"first {'right' if right else 'wrong'} formula: {inside:.2f} s in process ({old * POINTS / inside:.0f}×"
            f" faster than the old path's numbers alone), {cli:.2f} s from the command line"
        )
    worst, worst_cpu = max(row[2] for row in rows), max(row[3] for row in rows)
    verdict = "within" if worst <= MNIST_GOAL else "OVER"
    print(
        f"slowest from the command line: {worst:.2f} s ({verdict} the {MNIST_GOAL:.0f} s goal);"
        f" most CPU time: {worst_cpu:.2f} s"
    )


def bounds_corpus() -> tuple[list, list, list, object]:
    """CORPUS, UNDEFINED and AT_A_POINT of tests/test_verify_bounds.py, and its load_spec."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_verify_bounds as bounds

    return bounds.CORPUS, bounds.UNDEFINED, bounds.AT_A_POINT, bounds.load_spec


def hostile_corpus(directory: Path) -> list[tuple]:
    """The corpus of tests/test_verify_hostile.py, its payloads pointing into ``directory``."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_verify_hostile import corpus

    return corpus(directory)


class _Budget(BaseException):
    pass


def _expire(signum, frame):
    raise _Budget


def timed(net, param, formula, budget: float) -> tuple[str, float]:
    """(outcome, seconds) of one verify call, cut off after ``budget`` seconds."""
    signal.setitimer(signal.ITIMER_REAL, budget)
    start = time.perf_counter()
    try:
        v = verify(net, param, formula)
        outcome = "right" if v else "wrong"
    except _Budget:
        outcome = "TIMEOUT"
    except DeriveError as exc:
        kind = "refused" if isinstance(exc, LimitError) else "undefined" if isinstance(exc, UndefinedError) else "error"
        outcome = kind if len(str(exc).splitlines()) == 1 else f"{kind} (multi-line message)"
    except Exception as exc:  # what the benchmark is looking for: anything but a verdict or a clean error
        outcome = f"CRASH {type(exc).__name__}"
    finally:
        elapsed = time.perf_counter() - start
        signal.setitimer(signal.ITIMER_REAL, 0)
    return outcome, elapsed


def show(text: object, width: int = 44) -> str:
    r = repr(text)
    return r if len(r) <= width else r[: width - 1] + "…"


def fmt(seconds: float, budget: float, outcome: str) -> str:
    return f">{budget:.0f} s" if outcome == "TIMEOUT" else f"{seconds * 1000:9.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=5.0, help="seconds before a call is cut off")
    parser.add_argument("--repeat", type=int, default=1, help="time each call this many times, keep the slowest")
    parser.add_argument("--mnist", action="store_true", help="only section 4 (784-100-10)")
    args = parser.parse_args()
    if args.mnist:
        mnist_section()
        return 0
    if not hasattr(signal, "setitimer"):
        print("needs signal.setitimer (Linux)")
        return 2
    signal.signal(signal.SIGALRM, _expire)

    print(f"derive verify timing; Python {platform.python_version()} on {platform.machine()}; goal {GOAL:.0f} s/call")
    nets = {name: derive.load(ROOT / "examples" / f"{name}.toml") for name in ("seed000", "seed003", "seed004")}
    for net in nets.values():  # warm-up
        for formula in (r"-\delta_1 x_2", "q_1", "(x_1"):
            timed(net, "W1[1,2]", formula, 30.0)

    results: list[tuple[str, str, str, float]] = []  # (section, name, outcome, seconds)

    def measure(net, param, formula) -> tuple[str, float]:
        worst = ("", 0.0)
        for _ in range(args.repeat):
            outcome, seconds = timed(net, param, formula, args.budget)
            if seconds >= worst[1]:
                worst = (outcome, seconds)
            if outcome == "TIMEOUT":
                break
        return worst

    with tempfile.TemporaryDirectory() as directory:
        cases = hostile_corpus(Path(directory))
        print(f"\n1. Hostile corpus ({len(cases)} inputs)")
        print(f"{'group':10} {'case':32} {'spec':8} {'expected':8} {'outcome':28} {'time':>12}")
        for group, name, spec, param, formula, expected in cases:
            outcome, seconds = measure(nets[spec], param, formula)
            results.append(("hostile", f"{group}/{name}", outcome, seconds))
            print(f"{group:10} {name:32} {spec:8} {expected:8} {outcome:28} {fmt(seconds, args.budget, outcome):>12}")
        leftovers = sorted(p.name for p in Path(directory).iterdir())
        print(f"files created by payloads: {leftovers or 'none'}")

    print(f"\n2. Right and wrong formulas ({len(VERDICTS)})")
    print(f"{'spec':8} {'param':16} {'formula':46} {'expected':8} {'outcome':10} {'time':>12}")
    for spec, param, formula, right in VERDICTS:
        outcome, seconds = measure(nets[spec], param, formula)
        results.append(("verdicts", f"{spec} {param} {formula}", outcome, seconds))
        expected = "right" if right else "wrong"
        flag = "" if outcome == expected else "  (unexpected)"
        line = f"{spec:8} {str(param):16} {show(formula, 46):46} {expected:8} {outcome:10}"
        print(f"{line} {fmt(seconds, args.budget, outcome):>12}{flag}")

    corpus, undefined, at_a_point, load_spec = bounds_corpus()
    specs = sorted({case.spec for case in corpus})
    derived = {name: derive.derive(load_spec(name)) for name in specs}
    for d in derived.values():  # warm-up: the derivation's caches, as the command line has them after one call
        timed(d, "W1[1,1]", "x_1", 60.0)
    cases = [(c.spec, c.param, c.formula, c.outcome, c.id) for c in corpus]
    cases += [("seed004", "delta2", formula, "undefined", id_) for id_, formula, _, _ in undefined]
    cases += [("seed004", "delta2", formula, "wrong", id_) for id_, formula, *_ in at_a_point]
    print(f"\n3. Adversarial and undefined formulas ({len(cases)})")
    print(f"{'case':34} {'spec':8} {'param':16} {'expected':9} {'outcome':10} {'time':>12}")
    for spec, param, formula, expected, id_ in cases:
        outcome, seconds = measure(derived[spec], param, formula)
        results.append(("bounds", f"{spec} {id_}", outcome, seconds))
        flag = "" if outcome == expected else "  (unexpected)"
        line = f"{id_:34} {spec:8} {param:16} {expected:9} {outcome:10}"
        print(f"{line} {fmt(seconds, args.budget, outcome):>12}{flag}")

    mnist_section()

    print("\nSummary (sections 1–3)")
    for section in ("hostile", "verdicts", "bounds"):
        rows = [r for r in results if r[0] == section]
        slowest = max(rows, key=lambda r: r[3])
        over = [r for r in rows if r[3] >= GOAL or r[2] == "TIMEOUT"]
        crashes = [r for r in rows if r[2].startswith("CRASH") or "multi-line" in r[2]]
        print(
            f"{section:9} {len(rows):3} calls; max {slowest[3] * 1000:.1f} ms ({slowest[1][:60]!r}); "
            f"{len(over)} over the {GOAL:.0f} s goal; {len(crashes)} crashes or multi-line messages"
        )
        for _, name, outcome, seconds in over:
            print(f"    over goal: {name[:70]!r}: {fmt(seconds, args.budget, outcome).strip()} ({outcome})")
        for _, name, outcome, _seconds in crashes:
            print(f"    not clean: {name[:70]!r}: {outcome}")
    worst = max(r[3] for r in results)
    verdict = "within" if worst < GOAL else "OVER"
    print(f"maximum over all {len(results)} calls: {worst:.3f} s ({verdict} the {GOAL:.0f} s goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
