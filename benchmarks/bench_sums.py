"""Sums built in one step (issue 14): figures and ratios, measured in one run (prints; not a test).

Run as ``python benchmarks/bench_sums.py``; about a minute on two cores.

1. A sum of n products as ``sum(generator, S.Zero)`` (each partial sum a new Add: quadratic) against
   ``Add(*terms)`` (one Add: linear), for n = 98, 196, 392, 784. The engine, the losses and the activations
   build their sums the second way.
2. What that buys the engine on 784-100-10 (sigmoid, softmax, cross-entropy): one neuron's forward equation
   (a sum of 784 products), and the composed cost that sympy's own derivative starts from. The baseline is
   the same neuron summed the old way, in the same run. Issue 14's goal for the composed cost is 1 s; today
   it is above that (sympy's assumption queries on the nested sums), which this prints without hiding.
"""

from __future__ import annotations

import time

from sympy import Add, S, Symbol

import derive
from derive.rules import symbols as sym

SIZES = (98, 196, 392, 784)


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    Add(Symbol("warm"), Symbol("up"))  # sympy imports parts of itself on the first Add
    print("sum of n products      sum(gen, S.Zero)    Add(*terms)    ratio")
    for n in SIZES:
        terms = [Symbol(f"w{k}") * Symbol(f"a{k}") for k in range(n)]
        slow = timed(lambda terms=terms: sum(terms, S.Zero))
        fast = timed(lambda terms=terms: Add(*terms))
        print(f"{n:>6}                 {slow * 1e3:10.1f} ms      {fast * 1e3:8.2f} ms   {slow / fast:7.0f}×")

    net = derive.Network(784, (derive.Layer(100, "sigmoid"), derive.Layer(10, "softmax")), "cross_entropy")
    d = derive.derive(net)
    one = timed(lambda: d.forward_neuron(1, 1))
    terms = [sym.W(1, 2, j) * sym.a(0, j) for j in range(1, 785)]
    old = timed(lambda: sum(terms, S.Zero))
    print(f"\n784-100-10: one neuron's forward equation {one * 1e3:.1f} ms (its sum the old way: {old * 1e3:.0f} ms)")
    cost = timed(d.composed_cost)
    print(f"784-100-10: composed_cost() {cost:.1f} s (goal 1 s; issue 14 measured 108 s, sums built term by term)")


if __name__ == "__main__":
    main()
