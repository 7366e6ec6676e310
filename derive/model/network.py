"""A fully connected network as declared by the user."""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from derive.errors import SpecError
from derive.model import limits
from derive.model.document import DocumentOptions
from derive.model.notation import Notation
from derive.rules import activations, losses, regularizers, targets
from derive.rules.faces import Activation, Loss
from derive.rules.regularizers import Regularizer
from derive.rules.targets import Targets

# A name becomes file names and the Markdown link to the picture. \Z: "$" would let a final newline through.
_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
MAX_TITLE = 200  # characters: a title is one line on a title page
MAX_L2 = 1e6  # the largest λ: a penalty is a number to read, like an example's


@dataclass(frozen=True)
class Layer:
    """One layer: its number of units, its activation, and its activation's option if it takes one
    (leaky ReLU's slope, ELU's alpha; None for the entry's default)."""

    units: int
    activation: str = activations.SIGMOID.name
    slope: float | None = None
    alpha: float | None = None


# The fields of Layer that are an activation's option (each the key of the entry's ``options``).
OPTIONS = ("slope", "alpha")


@dataclass(frozen=True)
class Regularization:
    """An L2 penalty on the weights (and, with ``biases``, the biases): J = (1/m) Σ C + R.

    ``l2`` is λ; ``form`` one of :data:`derive.rules.regularizers.REGULARIZERS`: ``half`` R = (λ/2) Σ θ²,
    ``plain`` R = λ Σ θ², ``half_over_m`` R = (λ/(2m)) Σ θ².
    """

    l2: float
    form: str = regularizers.DEFAULT
    biases: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.l2, bool) or not isinstance(self.l2, numbers.Real):
            raise SpecError(f"regularization.l2: must be a number, got {self.l2!r}")
        if not np.isfinite(self.l2) or self.l2 < 0:
            raise SpecError(f"regularization.l2: must be a finite number ≥ 0, got {self.l2!r}")
        if self.l2 > MAX_L2:
            raise SpecError(f"regularization.l2: {self.l2:g} is larger than the {MAX_L2:g} derive takes")
        object.__setattr__(self, "l2", float(self.l2))
        if not isinstance(self.form, str) or self.form not in regularizers.REGULARIZERS:
            known = ", ".join(regularizers.REGULARIZERS)
            raise SpecError(f"regularization.form: unknown form {self.form!r} (known: {known})")
        if not isinstance(self.biases, bool):
            raise SpecError(f"regularization.biases: must be true or false, got {self.biases!r}")

    @property
    def rule(self) -> Regularizer:
        """The form's registry entry."""
        return regularizers.REGULARIZERS[self.form]

    def covers(self, kind: str) -> bool:
        """Whether parameters of ``kind`` ("W" or "b") are regularised."""
        return kind == "W" or (kind == "b" and self.biases)


@dataclass(frozen=True)
class Example:
    """Numbers for a worked example: one sample, parameters, learning rate."""

    x: np.ndarray
    y: np.ndarray
    params: dict[str, np.ndarray]
    learning_rate: float = 0.1


@dataclass(frozen=True)
class Network:
    """Inputs, layers (input layer not counted), loss, bias and notation.

    Layer l (1-based) has weights ``W<l>`` of shape (units of l, units of l−1)
    and, with ``bias``, biases ``b<l>`` of shape (units of l,).
    """

    inputs: int
    layers: tuple[Layer, ...]
    loss: str
    bias: bool = True
    name: str = "network"
    title: str = ""
    notation: Notation = field(default_factory=Notation)
    example: Example | None = None
    title_zh: str = ""  # the title of Chinese documents (default: ``title``)
    document: DocumentOptions = field(default_factory=DocumentOptions)
    targets: str | None = None  # a kind of rules.targets narrower than the loss's (default: the loss's own)
    regularization: Regularization | None = None  # an L2 penalty in the objective J (none by default)

    def __post_init__(self) -> None:
        if not isinstance(self.layers, (tuple, list)):
            raise SpecError(f"layer: must be a sequence of derive.Layer, got {self.layers!r}")
        object.__setattr__(self, "layers", tuple(self.layers))
        if not isinstance(self.document, DocumentOptions):
            raise SpecError(f"document: expected a derive.DocumentOptions, got {type(self.document).__name__}")
        if not isinstance(self.notation, Notation):
            raise SpecError(f"notation: expected a derive.Notation, got {type(self.notation).__name__}")
        if not isinstance(self.name, str) or not _STEM.match(self.name):
            raise SpecError(f"name: {self.name!r} cannot be a file name (use letters, digits, '_', '-', '.')")
        for key in ("title", "title_zh"):
            if not isinstance(getattr(self, key), str):
                raise SpecError(f"{key}: must be a string, got {getattr(self, key)!r}")
            if len(getattr(self, key)) > MAX_TITLE:
                raise SpecError(
                    f"{key}: {len(getattr(self, key)):,} characters, more than the {MAX_TITLE} a title may have"
                )
        _check_count("inputs", self.inputs)
        object.__setattr__(self, "inputs", int(self.inputs))
        if not self.layers:
            raise SpecError("layer: the network needs at least one layer")
        for n, layer in enumerate(self.layers, start=1):
            where = f"layer[{n}]"
            if not isinstance(layer, Layer):
                raise SpecError(f"{where}: expected a derive.Layer, got {type(layer).__name__}")
            _check_count(f"{where}.units", layer.units)
            if not isinstance(layer.activation, str):
                raise SpecError(f"{where}.activation: must be a string, got {layer.activation!r}")
            name = activations.canonical(layer.activation)
            if name is None:
                raise SpecError(
                    f"{where}.activation: unknown activation {layer.activation!r}"
                    f" (known: {', '.join(activations.names())})"
                )
            if name != layer.activation:  # an alias: the layer holds the registry's name from here on
                layer = replace(layer, activation=name)
                layers = (*self.layers[: n - 1], layer, *self.layers[n:])
                object.__setattr__(self, "layers", layers)
            _check_options(layer, where)
        limits.enforce(self.sizes, bool(self.bias))  # before anything is built from the sizes
        if not isinstance(self.loss, str) or self.loss not in losses.LOSSES:
            raise SpecError(f"loss: unknown loss {self.loss!r} (known: {', '.join(losses.LOSSES)})")
        allowed = self.loss_def.output_activations
        last = self.layers[-1].activation
        if allowed is not None and last not in allowed:
            raise SpecError(
                f"loss: {self.loss} needs outputs in (0, 1), so the last layer's activation"
                f" must be {' or '.join(allowed)}, not {last}"
            )
        refused = self.loss_def.refuse(last, self.outputs)
        if refused is not None:
            raise SpecError(f"loss: {refused}")
        if self.targets is not None:
            _check_targets(self.targets, self.loss_def, self.outputs)
        if not isinstance(self.bias, bool):
            raise SpecError(f"bias: must be true or false, got {self.bias!r}")
        if self.regularization is not None:
            if not isinstance(self.regularization, Regularization):
                kind = type(self.regularization).__name__
                raise SpecError(f"regularization: expected a derive.Regularization, got {kind}")
            if self.regularization.biases and not self.bias:
                raise SpecError("regularization.biases: the network has no biases (bias = false)")
        if self.notation.letters and len(self.notation.letters) != sum(self.sizes):
            raise SpecError(
                f"notation.letters: the network has {sum(self.sizes)} nodes"
                f" but {len(self.notation.letters)} letters were given"
            )

    @property
    def depth(self) -> int:
        """L, the number of layers (the input layer is not counted)."""
        return len(self.layers)

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        """n^{(0)}, …, n^{(L)} (kept: the engine asks for a size per parameter)."""
        return (self.inputs, *(layer.units for layer in self.layers))

    @property
    def outputs(self) -> int:
        return self.layers[-1].units

    @property
    def loss_def(self) -> Loss:
        return losses.LOSSES[self.loss]

    @property
    def target_kind(self) -> Targets:
        """What the targets are: the declared kind, or the widest the loss is derived for."""
        return targets.REGISTRY[self.targets or self.loss_def.targets]

    def activation(self, layer: int) -> Activation:
        """The activation of layer ``layer`` (1-based)."""
        spec = self.layers[layer - 1]
        return activations.get(spec.activation, **{key: getattr(spec, key) for key in OPTIONS})

    def regularized(self, array: str) -> bool:
        """Whether a parameter array (``W2``, ``b1``) or a parameter (``W2[1,3]``) is in the penalty."""
        reg = self.regularization
        return reg is not None and reg.covers(array[0])

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each parameter array's name and NumPy shape, in order W1, b1, W2, …"""
        out: dict[str, tuple[int, ...]] = {}
        for l in range(1, self.depth + 1):
            out[f"W{l}"] = (self.sizes[l], self.sizes[l - 1])
            if self.bias:
                out[f"b{l}"] = (self.sizes[l],)
        return out

    def parameter_count(self) -> int:
        return self._parameter_count

    @cached_property
    def _parameter_count(self) -> int:
        return limits.parameter_count(self.sizes, self.bias)


def neuron(net: Network) -> Network:
    """One neuron like ``net``'s outputs (logistic regression for a sigmoid and binary cross-entropy): the same
    inputs, output activation, loss, bias and notation, without node letters (they name ``net``'s nodes).

    Article 002 derives this neuron before the network (the ``warmup`` section of a document).
    """
    last = net.layers[-1]
    try:
        return Network(
            inputs=net.inputs,
            layers=(replace(last, units=1),),
            loss=net.loss,
            bias=net.bias,
            name=f"{net.name}-neuron",
            notation=replace(net.notation, letters=()),
        )
    except SpecError as exc:
        raise SpecError(f"document.sections: warmup needs one output neuron of this kind, but {exc}") from None


def wants(net: Network, section: str) -> bool:
    """Whether the spec's document shows ``section``, in its body or its appendix."""
    return section in net.document.sections or section in net.document.appendix


def _check_options(layer: Layer, where: str) -> None:
    """Each option given is one the layer's activation takes, a finite number it accepts."""
    act = activations.REGISTRY[layer.activation]
    for key in OPTIONS:
        value = getattr(layer, key)
        if value is None:
            continue
        if key not in act.options:
            takers = [entry.name for entry in activations.REGISTRY.values() if key in entry.options]
            article = "an" if key[0] in "aeiou" else "a"
            raise SpecError(f"{where}.{key}: only {' or '.join(takers)} takes {article} {key}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{where}.{key}: must be a number, got {value!r}")
        if not np.isfinite(value):
            raise SpecError(f"{where}.{key}: must be finite, got {value!r}")
        try:
            act.configure(**{key: value})
        except ValueError as exc:
            raise SpecError(f"{where}.{key}: {exc}") from None


def _check_count(key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SpecError(f"{key}: must be a whole number, got {value!r}")
    if value < 1:
        raise SpecError(f"{key}: must be at least 1, got {value}")


def _check_targets(name: object, loss: Loss, outputs: int) -> None:
    """A declared kind of targets must be known, a case of the loss's own, and one-hot only over classes."""
    if not isinstance(name, str) or name not in targets.REGISTRY:
        raise SpecError(f"targets: unknown kind {name!r} (known: {', '.join(targets.REGISTRY)})")
    kind = targets.REGISTRY[name]
    if loss.targets not in kind.within:
        fits = [k for k, t in targets.REGISTRY.items() if loss.targets in t.within]
        raise SpecError(
            f"targets: {loss.name} is derived for {loss.targets} targets, so {name} does not fit it"
            f" (use {', '.join(fits)})"
        )
    if kind.one_hot and outputs < 2:
        raise SpecError(f"targets: {name} needs at least 2 outputs (classes), the network has {outputs}")


def with_targets(net: Network, kind: str | None) -> Network:
    """``net`` whose targets are of ``kind`` (None: as declared); an error names a kind that does not fit."""
    if kind is None or kind == net.target_kind.name:
        return net
    return replace(net, targets=kind)
