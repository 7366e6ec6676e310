"""Engine: backpropagation derived by the chain rule, as plain data.

Element-level derivation with δ shared between parameters, the matrix form
built from it by derive's own rules, and the exact zero test. Reads the model
and the rules; everything that checks, prints or runs a derivation is above.
"""
