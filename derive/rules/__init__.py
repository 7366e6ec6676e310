"""Rules: the mathematics derive knows, one small definition each.

Canonical symbols and their names, the sympy functions activations are built
from, the activation and loss registries, and float64 evaluation. Nothing here
knows about a particular network; every layer above reads these registries.
"""
