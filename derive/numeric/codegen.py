"""Python source from a plan: the standalone NumPy module and the pytest file.

The words of both files are in ``templates/code/``; this module only supplies
the plan's lines and the network's facts.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping

from derive.errors import DeriveError
from derive.model.network import Network
from derive.numeric import layouts
from derive.numeric.codeplan import Line, Plan, layer_text, plan
from derive.rules import activations, losses
from derive.templating import ENV, add_filters

# module.path:function, both made of Python identifiers.
_FUNCTION = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$", re.ASCII)
_WIDTH = 96


add_filters(py=repr)  # a Python literal of derive's own strings


def _comment(text: str, indent: str = "    ") -> str:
    """``text`` as comment lines no wider than the module's text."""
    lines = textwrap.wrap(text, _WIDTH, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(f"{indent}# {line}" if k == 0 else f"{indent}#   {line}" for k, line in enumerate(lines))


def safe_name(name: str, keep: str = "") -> str:
    """``name`` with only the characters of a file name (and ``keep``), for a docstring or a module name."""
    return re.sub(rf"[^A-Za-z0-9_.{re.escape(keep)}-]", "_", str(name)) or "network"


def _context(p: Plan, standalone: bool) -> dict[str, object]:
    net = p.network
    names = list(p.shapes)
    loss_code = " ".join(line.code for line in p.loss)
    loss_needs = {line.target for line in p.forward if line.target != p.output or p.output in loss_code}
    notes = ENV.get_template("code/notes.j2").module
    return {
        "name": safe_name(net.name),
        "sizes": "-".join(map(str, net.sizes)),
        "activations": "/".join(layer.activation for layer in net.layers),
        "loss": net.loss,
        "bias": net.bias,
        "inputs": net.inputs,
        "outputs": net.outputs,
        "targets": net.target_kind.name,
        "labels": net.target_kind.labels,
        "depth_sup": layer_text("", net.depth)[1:-1],
        "shapes": p.shapes,
        "unpack": ", ".join(names),
        "forward": [_commented(line, notes) for line in p.forward],
        "loss_lines": [_commented(line, notes) for line in p.loss],
        "backward": [_commented(line, notes) for line in p.backward],
        "single": [_commented(line, notes) for line in p.single],
        "loss_needs": loss_needs,
        "output": p.output,
        "gradient_names": p.gradients,
        "helpers": helper_sources(p.helpers),
        "expected": tuple(p.shapes.values()),
        "standalone": standalone,
        "formulas": p.formulas,
        "elements": p.elements,
        "penalty": [_commented(line, notes) for line in p.penalty],
        "l2": p.l2,
        "regularization": net.regularization,
    }


def helper_sources(names: Iterable[str]) -> list[str]:
    """The source of each helper function named, with the helpers it calls, in the order the module reads.

    The helpers come from the registries: the activations' forward helpers, then the losses', then the
    activations' Jacobian products, as the forward pass, the cost and the backward pass use them.
    """
    acts = list(activations.REGISTRY.values())
    catalogue = {}
    for helper in (
        *(h for act in acts for h in act.helpers),
        *(h for loss in losses.LOSSES.values() for h in loss.helpers),
        *(h for act in acts if act.layer is not None for h in act.layer.back_helpers),
    ):
        catalogue.setdefault(helper.name, helper)
    wanted, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(catalogue[name].needs)
    return [helper.source for name, helper in catalogue.items() if name in wanted]


def _commented(line: Line, notes: object) -> dict[str, str]:
    remark = getattr(notes, line.note) if line.note else ""
    statements = "\n".join(f"    {statement}" for statement in line.statements)
    return {
        "target": line.target,
        "code": line.code,
        "statements": statements,
        "comment": _comment(line.formula + remark),
    }


def module_source(net: Network | Plan, standalone: bool = True, embedded: bool = False) -> str:
    """The NumPy module with ``forward``, ``loss`` and ``gradients`` for ``net``.

    ``standalone`` defines the module's own ShapeError; without it, the caller
    supplies ``ShapeError`` in the namespace the source is run in. ``embedded``
    leaves out the docstring and the import, for a file that has its own.
    """
    p = net if isinstance(net, Plan) else plan(net)
    return ENV.get_template("code/module.py.j2").render(**_context(p, standalone), embedded=embedded)


def compare_source(p: Plan, layout: Mapping[str, object] | None = None) -> str:
    """``random_batch``, ``call_yours`` and ``compare_gradients`` (with the derived formulas) for testing a user's
    function; ``layout`` (:func:`derive.numeric.layouts.layout`) is the default ``LAYOUT`` of the file."""
    return ENV.get_template("code/compare.py.j2").render(
        **_context(p, True),
        layout=dict(layout or layouts.layout(p.shapes)),
        widths=tuple(p.network.sizes[1:]),
    )


def pytest_source(net: Network, function: str, spec: str, layout: Mapping[str, object] | None = None) -> str:
    """A pytest file checking the user's ``module:function`` against the derived gradients, in ``layout``."""
    if not _FUNCTION.match(function):
        raise DeriveError(f"--function: {function!r} is not of the form module.path:function_name")
    module, name = function.split(":")
    p = plan(net)
    layout = dict(layout or layouts.layout(p.shapes))
    return ENV.get_template("code/test_grads.py.j2").render(
        **_context(p, True),
        module=module,
        function=name,
        spec=safe_name(spec, keep="/"),
        reference=module_source(p, embedded=True).strip("\n"),
        compare=compare_source(p, layout).strip("\n"),
        layout=layout,
        options=_layout_options(layout),
        keys=", ".join(f"{safe_name(key)} → {name}" for key, name in layout["names"].items()),
    )


def _layout_options(layout: Mapping[str, object]) -> str:
    """The command line's layout options for ``layout`` (those that are not the default), for the docstring."""
    defaults = (("weights", "out_in"), ("samples", "rows"))
    words = [f"--{key} {layout[key]}" for key, default in defaults if layout[key] != default]
    names = layout["names"]
    assert isinstance(names, Mapping)
    if names:
        words.append("--names " + ",".join(f"{safe_name(key)}={value}" for key, value in names.items()))
    return "".join(f" {word}" for word in words)
