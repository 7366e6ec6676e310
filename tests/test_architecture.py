"""The package's shape: layers that import one way only, and no import cycle.

The graph is read from the source with ``ast``, every import statement counted:
module level, inside functions, and under ``TYPE_CHECKING``, so that an import
moved into a function to dodge a cycle is still seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "derive"

# Lowest first. A module may import from its own layer and the layers below it, never above.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("derive.about", "derive.errors", "derive.files", "derive.progress", "derive.templating")),
    ("rules", ("derive.rules",)),
    ("model", ("derive.model",)),
    ("engine", ("derive.engine",)),
    ("numeric", ("derive.numeric",)),
    ("check", ("derive.check",)),
    ("present", ("derive.present",)),
    ("verify", ("derive.verify",)),
    ("front", ("derive", "derive.__main__", "derive.adapters", "derive.api", "derive.cli", "derive.testing")),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The index in LAYERS of the most specific entry naming ``module`` or a package above it."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return best


def imports(module: str) -> set[str]:
    """The derive modules ``module`` imports anywhere in its source."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name.split(".")[0] == "derive")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source.split(".")[0] != "derive":
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}"
                out.add(target if target in MODULES else source)
    out.discard(module)
    return out


GRAPH = {module: imports(module) for module in MODULES}


def test_the_graph_is_read_from_every_module():
    assert len(MODULES) > 40
    assert {"derive.engine.derivation", "derive.engine.matrixform"} <= GRAPH["derive.engine.record"]
    assert "derive.check.gradients" in GRAPH["derive.check"]  # a package's __init__ is a module too
    assert all(target in MODULES for targets in GRAPH.values() for target in targets)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(module: str) -> None:
    mine = layer_of(module)
    upward = sorted(t for t in GRAPH[module] if layer_of(t) > mine and t != "derive")
    # Importing derive.x runs derive/__init__.py first; naming the top package itself is the only thing refused.
    assert not upward, f"{module} ({LAYERS[mine][0]}) imports {upward} from a layer above"
    if module != "derive" and layer_of(module) < len(LAYERS) - 1:
        assert "derive" not in GRAPH[module], f"{module} imports the top package, which imports everything"


def test_there_is_no_import_cycle():
    """Depth-first search over the whole graph; the first cycle found is named."""
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if target == "derive":
                continue  # importing the top package's own names: only the front layer does, checked above
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The two tests above fail on a graph that breaks the rules (so they can fail at all)."""
    assert layer_of("derive.engine.derivation") < layer_of("derive.present.latex")
    assert layer_of("derive.rules.activations") < layer_of("derive.model.network")
    saved = dict(GRAPH)
    try:
        GRAPH["derive.rules.symbols"] = {"derive.present.latex"}
        with pytest.raises(AssertionError, match="from a layer above"):
            test_no_module_imports_a_layer_above_its_own("derive.rules.symbols")
        GRAPH["derive.rules.symbols"] = {"derive.rules.activations"}
        GRAPH["derive.rules.activations"] = GRAPH["derive.rules.activations"] | {"derive.rules.symbols"}
        with pytest.raises(AssertionError, match="import cycle"):
            test_there_is_no_import_cycle()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_derive_is_imported_at_module_level_only(module: str) -> None:
    """An import inside a function is how a cycle hides; derive's own modules are imported at the top."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                source = node.module if isinstance(node, ast.ImportFrom) else None
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                inside = (source or "").startswith("derive") or (isinstance(node, ast.ImportFrom) and node.level)
                assert not inside and not any(n.startswith("derive") for n in names), (
                    f"{module}: {func.name} imports derive at line {node.lineno}"
                )


def test_docs_architecture_names_every_module_and_layer():
    """docs/architecture.md is the newcomer's map: every module is on it, and its layers are the tested ones."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module.count(".") == 1 and module not in ("derive.check", "derive.verify"):
            continue  # a subpackage's __init__ holds its docstring only; the layer picture names the folder
        assert f"`{path.relative_to(ROOT)}`" in doc, f"{path.relative_to(ROOT)} is missing from docs/architecture.md"
    for name, prefixes in LAYERS:
        line = next((line for line in doc.splitlines() if line.startswith(f"{name} ")), None)
        assert line is not None, f"layer {name} is missing from the picture"
        for prefix in prefixes:
            if prefix.count(".") == 1 and prefix not in ("derive.__main__",):
                folder = prefix.replace(".", "/")
                stem = folder.rsplit("/", 1)[-1]
                assert f"{folder}/" in line or f"{stem}.py" in line, f"{prefix} is not on the {name} line"
