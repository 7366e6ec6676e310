"""Numeric: the derivation as NumPy code, and torch as an outside opinion.

The plan of vectorised lines, the generated module and test files, the same
module compiled for the checks, and torch autograd written independently.
"""
