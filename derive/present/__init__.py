"""Present: a derivation written for readers.

LaTeX and MathML printing in the reader's notation, the network picture, the
document data the templates fill in, rendering to Markdown, LaTeX and HTML,
and compiling PDF.
"""
