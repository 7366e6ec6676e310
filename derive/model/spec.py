"""Reading a network from a TOML spec file (with the standard library's tomllib).

Every problem becomes one :class:`SpecError` line naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from derive.errors import SpecError
from derive.files import read_text
from derive.model.document import DocumentOptions
from derive.model.network import OPTIONS, Example, Layer, Network, Regularization
from derive.model.notation import CHOICES, Notation, with_preset
from derive.model.samples import forward, target_problem
from derive.rules import regularizers
from derive.rules.targets import one_hot

TOP_KEYS = {
    *("name", "title", "title_zh", "inputs", "loss", "targets", "bias", "layer", "notation", "example", "document"),
    "regularization",
}
DOCUMENT_KEYS = {"sections", "appendix", "detail"}
LAYER_KEYS = {"units", "activation", "slope", "alpha"}
REGULARIZATION_KEYS = {"l2", "form", "biases"}
NOTATION_KEYS = {
    *("weight", "index_order", "delta", "cost", "target", "output", "letters", "weight_layer"),
    *("input_layer", "layer_marker", "preset", "pre_activation", "activation", "function", "layer_letter", "layout"),
    *("output_pre_activation", "gradient_names", "example_index", "batch", "bias"),
}
ALIASES = {"θ": "theta", "ŷ": "yhat"}


EXAMPLE_MAGNITUDE = 1e6
"""The largest number (in absolute value) a worked example may hold: its numbers are for reading."""


def load(path: str | Path) -> Network:
    """The network declared in a TOML file."""
    return loads(read_text(path, "spec"), source=str(path), default_name=Path(path).stem)


def loads(text: str, source: str = "<spec>", default_name: str = "network") -> Network:
    """The network declared in TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
        return _network(data, default_name)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"{source}: invalid TOML: arrays or tables nested too deeply") from None
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None


def _unknown(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            shown = key if key.isidentifier() else repr(key)
            hint = ""
            if where.startswith("layer[") and key in TOP_KEYS:  # TOML puts keys after [[layer]] in that layer
                hint = f"; {key} belongs at the top of the file, before the first [[layer]]"
            raise SpecError(f"{where}{shown}: unknown key (known: {', '.join(sorted(allowed))}){hint}")


def _require(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    if key not in table:
        raise SpecError(f"{where}{key}: missing")
    return _typed(table[key], kind, f"{where}{key}")


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        if int in kinds and float in kinds:
            kinds = tuple(k for k in kinds if k is not int)  # "a number", not "a whole number or a number"
        names = " or ".join(
            {
                int: "a whole number",
                float: "a number",
                str: "a string",
                bool: "true or false",
                list: "an array",
                dict: "a table",
            }[k]
            for k in kinds
        )
        raise SpecError(f"{where}: must be {names}, got {value!r}")
    return value


def _network(data: dict[str, Any], default_name: str) -> Network:
    _unknown(data, TOP_KEYS, "")
    name = _typed(data.get("name", default_name), str, "name")
    title = _typed(data.get("title", ""), str, "title")
    title_zh = _typed(data.get("title_zh", ""), str, "title_zh")
    inputs = _require(data, "inputs", int)
    loss = _require(data, "loss", str)
    targets = _typed(data["targets"], str, "targets") if "targets" in data else None
    bias = _typed(data.get("bias", True), bool, "bias")
    layers_raw = _require(data, "layer", list)
    layers = []
    for n, raw in enumerate(layers_raw, start=1):
        where = f"layer[{n}]."
        _typed(raw, dict, f"layer[{n}]")
        _unknown(raw, LAYER_KEYS, where)
        units = _require(raw, "units", int, where)
        activation = _require(raw, "activation", str, where)
        options = {key: float(_typed(raw[key], (int, float), f"{where}{key}")) for key in OPTIONS if key in raw}
        layers.append(Layer(units, activation, **options))
    notation = _notation(_typed(data.get("notation", {}), dict, "notation"))
    document = _document(_typed(data.get("document", {}), dict, "document"))
    reg = _regularization(_typed(data["regularization"], dict, "regularization")) if "regularization" in data else None
    net = Network(
        inputs,
        tuple(layers),
        loss,
        bias,
        name,
        title,
        notation,
        title_zh=title_zh,
        document=document,
        regularization=reg,
        targets=targets,
    )
    if "example" in data:
        example = _example(_typed(data["example"], dict, "example"), net)
        net = replace(net, example=example)
    return net


def _regularization(table: dict[str, Any]) -> Regularization:
    _unknown(table, REGULARIZATION_KEYS, "regularization.")
    l2 = _require(table, "l2", (int, float), "regularization.")
    form = _typed(table.get("form", regularizers.DEFAULT), str, "regularization.form")
    biases = _typed(table.get("biases", False), bool, "regularization.biases")
    return Regularization(l2, form, biases)


def _document(table: dict[str, Any]) -> DocumentOptions:
    _unknown(table, DOCUMENT_KEYS, "document.")
    values: dict[str, Any] = {}
    for key in ("sections", "appendix"):
        if key in table:
            keys = _typed(table[key], list, f"document.{key}")
            for k, item in enumerate(keys, start=1):
                _typed(item, str, f"document.{key}[{k}]")
            values[key] = tuple(keys)
    if "detail" in table:
        values["detail"] = _typed(table["detail"], str, "document.detail")
    return DocumentOptions(**values)


def _notation(table: dict[str, Any]) -> Notation:
    _unknown(table, NOTATION_KEYS, "notation.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "letters":
            letters = _typed(value, (list, str), "notation.letters")
            if isinstance(letters, str):
                letters = list(letters)
            for k, letter in enumerate(letters, start=1):
                _typed(letter, str, f"notation.letters[{k}]")
            values[key] = tuple(letters)
        elif all(isinstance(choice, int) for choice in CHOICES.get(key, ("",))):
            values[key] = _typed(value, int, f"notation.{key}")
        else:
            text = _typed(value, str, f"notation.{key}")
            values[key] = ALIASES.get(text, text)
    return Notation(**with_preset(values))


def _example(table: dict[str, Any], net: Network) -> Example:
    shapes = net.shapes()
    allowed = {"x", "y", "learning_rate", *shapes}
    _unknown(table, allowed, "example.")
    x = _array(_require(table, "x", (list, int, float), "example."), (net.inputs,), "example.x")
    y = _example_targets(_require(table, "y", (list, int, float), "example."), net)
    params = {}
    for key, shape in shapes.items():
        params[key] = _array(_require(table, key, list, "example."), shape, f"example.{key}")
    rate = float(_typed(table.get("learning_rate", 0.1), (int, float), "example.learning_rate"))
    if not np.isfinite(rate):
        raise SpecError(f"example.learning_rate: must be a finite number, got {rate}")
    if abs(rate) > EXAMPLE_MAGNITUDE:
        raise SpecError(f"example.learning_rate: {rate:g} is larger than the {EXAMPLE_MAGNITUDE:g} an example may hold")
    problem = target_problem(net, y)
    if problem:
        raise SpecError(f"example.y: {problem}")
    with np.errstate(all="ignore"):  # overflow is the question here, not a warning
        passes = forward(net, params, x)
    for layer, (z, a) in enumerate(passes, start=1):
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(a))):
            raise SpecError(f"example: the forward pass overflows at layer {layer}; use smaller numbers")
    return Example(x, y, params, rate)


def _example_targets(value: Any, net: Network) -> np.ndarray:
    """example.y: a vector of outputs, or with ``targets = "labels"`` one class label (0-based), made one-hot."""
    if not net.target_kind.labels:
        return _array(value, (net.outputs,), "example.y")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < net.outputs:
        raise SpecError(
            f'example.y: with targets = "labels" must be a class label 0 to {net.outputs - 1}, got {value!r}'
        )
    y = one_hot(np.array([value]), net.outputs)[0]
    y.setflags(write=False)
    return y


def _array(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if any(isinstance(v, bool) for v in _leaves(value)):
        raise SpecError(f"{where}: must be an array of numbers, not true/false")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"{where}: must be an array of numbers") from None
    if arr.shape != shape:
        raise SpecError(f"{where}: has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"{where}: must hold finite numbers")
    largest = float(np.max(np.abs(arr))) if arr.size else 0.0
    if largest > EXAMPLE_MAGNITUDE:
        raise SpecError(f"{where}: {largest:g} is larger than the {EXAMPLE_MAGNITUDE:g} an example may hold")
    arr.setflags(write=False)
    return arr


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
