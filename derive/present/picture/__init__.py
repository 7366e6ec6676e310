"""The picture of a network: one layout, drawn as SVG and as TikZ.

Three jobs, one module each: :mod:`.labels` reads the LaTeX of node and weight names into styled runs and
estimates their widths; :mod:`.placement` places the neurons, bias nodes, arrows and weight labels
(``layout``; a layer wider than ``WIDE`` is drawn as its first ``FIRST_DRAWN`` neurons, ⋮ and its last, with
its width above it); :mod:`.drawing` draws that same layout through the templates ``picture.svg.j2`` and
``picture.tikz.j2`` (``svg``, ``tikz``; ``example_svg`` adds a worked example's numbers). Pictures hold
no words, only mathematical names and numbers, so they suit documents in any language.
"""

from derive.present.picture.drawing import TIKZ_LIBRARIES, example_svg, svg, tikz
from derive.present.picture.labels import Label, Run, label
from derive.present.picture.placement import FIRST_DRAWN, WIDE, Edge, Gap, Layout, Node, drawn, layout

__all__ = [
    "FIRST_DRAWN",
    "TIKZ_LIBRARIES",
    "WIDE",
    "Edge",
    "Gap",
    "Label",
    "Layout",
    "Node",
    "Run",
    "drawn",
    "example_svg",
    "label",
    "layout",
    "svg",
    "tikz",
]
