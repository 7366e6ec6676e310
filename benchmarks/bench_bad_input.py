"""Time to a clean answer for the bad inputs of issue 11, as a user meets them: one ``derive`` process each.

Run as ``python benchmarks/bench_bad_input.py [--repeat N]`` (prints a table; not a test).

The baseline is ``derive --version`` in the same run: starting Python and importing derive, which every
answer pays. Each row gives the best of N wall-clock times, its ratio to the baseline, the exit code, and
the first line of stderr. The goal: every answer within a second, exit code 2 (or 1 for a verdict), and
one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED4 = str(ROOT / "examples" / "seed004.toml")
GOAL = 1.0


def spec(inputs: int, units: int, extra: str = "") -> str:
    return f'inputs = {inputs}\nloss = "squared_error"\n[[layer]]\nunits = {units}\nactivation = "sigmoid"\n{extra}'


def cases(tmp: Path) -> list[tuple[str, list[str]]]:
    """(label, arguments) for each bad input."""
    files = {
        "huge.toml": spec(3, 1_000_000_000_000),
        "wide.toml": spec(2000, 3),
        "nan.toml": spec(
            2, 1, "[example]\nx = [1.0, 2.0]\ny = [0.5]\nW1 = [[0.1, 0.2]]\nb1 = [0.0]\nlearning_rate = nan\n"
        ),
        "layers.toml": 'inputs = 1\nloss = "mse"\n' + '[[layer]]\nunits = 1\nactivation = "sigmoid"\n' * 40_000,
        "nested.toml": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
    }
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    huge, wide, nan = str(tmp / "huge.toml"), str(tmp / "wide.toml"), str(tmp / "nan.toml")
    nested_sums = "".join(f"\\sum_{{{c}=1}}^{{3}}" for c in "ijklmnopqrs") + " x_i"
    return [
        ("units = 10^12: grad", ["grad", huge, "W1[1,1]"]),
        ("units = 10^12: check", ["check", huge]),
        ("units = 10^12: render", ["render", huge, "-o", str(tmp / "out")]),
        ("units = 10^12: verify", ["verify", huge, "W1[1,1]", "0"]),
        ("units = 10^12: codegen", ["codegen", huge]),
        ("2000 inputs: check", ["check", wide]),
        ("40,000 layers (1.2 MiB)", ["check", str(tmp / "layers.toml")]),
        ("TOML nested 100,000 deep", ["check", str(tmp / "nested.toml")]),
        ("learning_rate = nan", ["render", nan, "-o", str(tmp / "out")]),
        ("\\frac{1}{0}", ["verify", SEED4, "delta2", "\\frac{1}{0}"]),
        ("/(1-1)", ["verify", SEED4, "delta2", "x_1/(1-1)"]),
        ("11 nested sums", ["verify", SEED4, "delta2", nested_sums]),
        ("directory as SPEC", ["check", str(tmp)]),
        ("/dev/zero as SPEC", ["check", "/dev/zero"]),
        ("-o in /sys", ["codegen", SEED4, "-o", "/sys/derive.py"]),
        ("mistyped verb", ["chek", SEED4]),
        ("mistyped flag", ["check", SEED4, "--pionts", "3"]),
    ]


def best(args: list[str], repeat: int) -> tuple[float, int, str]:
    times, code, err = [], 0, ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=120)
        times.append(time.perf_counter() - start)
        code, err = done.returncode, done.stderr
    lines = err.splitlines()
    shown = (lines[0] if len(lines) == 1 else f"{len(lines)} lines: {lines[:1]}") if lines else "(nothing)"
    return min(times), code, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        base, _, _ = best(["--version"], args.repeat)
        print(f"baseline: derive --version {base:.2f} s (Python start and import); goal {GOAL:.1f} s per answer")
        print(f"{'bad input':<26}{'time':>7}{'ratio':>7}{'exit':>6}  stderr")
        worst = 0.0
        for label, argv in cases(tmp):
            seconds, code, err = best(argv, args.repeat)
            worst = max(worst, seconds)
            mark = "" if seconds <= GOAL else "  OVER THE GOAL"
            print(f"{label:<26}{seconds:>6.2f}s{seconds / base:>7.1f}{code:>6}  {err[:110]}{mark}")
        print(f"slowest answer {worst:.2f} s against the goal of {GOAL:.1f} s; cpu {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
