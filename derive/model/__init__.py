"""Model: a declared network and how its reader writes it.

The notation, the network (layers, activations, loss, biases, example), the
TOML spec reader, the size limits, and the numbers of one sample. Reads the
rules; knows nothing of derivations.
"""
