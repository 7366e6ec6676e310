"""What a verdict says besides right or wrong, as small records with named fields.

A verdict's reasons (:class:`Diagnosis`) and the readings of names it reports (:class:`Note`) are
frozen dataclasses. Each has a ``code``, which is also the name of the macro in
``templates/verdict/words_<lang>.j2`` that puts it into words, reading its fields by name; nothing in
Python chooses words by code. The common mistakes, the diagnoses computed from numbers, are in
:mod:`derive.verify.mistakes`; this module has the others and the notes, which the reader makes while it
reads names, so it imports nothing from the verifier.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Finding:
    """Something a verdict says; the template macro named ``code`` says it in words."""

    code: ClassVar[str]

    def fields(self) -> tuple[object, ...]:
        """The values of the fields, in the order they are declared."""
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    def tie_break(self) -> tuple[str, ...]:
        """The fields as text, which orders findings of one kind: an empty field (None) first.

        Text, not numbers, because verdicts have always been ordered so (layer 10 before layer 2);
        keeping it keeps every verdict the same.
        """
        return tuple("" if value is None else repr(value) for value in self.fields())


@dataclass(frozen=True)
class Note(Finding):
    """How a name that does not spell everything out was read."""


@dataclass(frozen=True)
class Diagnosis(Finding):
    """Why a formula is wrong, or the convention under which it would be right."""


@dataclass(frozen=True)
class Judged:
    """A statement that is not one gradient, judged (an identity about an activation, the batch cost): whether it
    holds, the correct form, and where it fails: ``counter`` is (what is compared, the values it is compared at, the
    formula's value, the correct value). ``variable`` names an identity's variable; ``batch`` is "mean" for a batch
    statement, "penalty" when the spec's L2 penalty has a part in it; "example" for one example's cost J = L(ŷ, y)
    (+ λΩ(θ)), "example_penalty" with the spec's penalty."""

    right: bool
    target: str
    correct: str
    points: int
    counter: tuple[str, dict[str, float], float, float] | None = None
    notes: tuple[Note, ...] = ()
    diagnoses: tuple[Diagnosis, ...] = ()
    variable: str = ""
    batch: str = ""


# ------------------------------------------------------------------- notes
@dataclass(frozen=True)
class UnlayeredHidden(Note):
    """A name with an index but no layer, in a network with one hidden layer: read as that layer."""

    code = "unlayered_hidden"
    name: str
    layer: int


@dataclass(frozen=True)
class UnlayeredOutput(Note):
    """A name with neither a layer nor an index: read as the output layer."""

    code = "unlayered_output"
    name: str
    layer: int


@dataclass(frozen=True)
class WeightCase(Note):
    """w and W without a layer in a two-layer network: w the first layer, W the second (article 004)."""

    code = "weight_case"
    letter: str
    layer: int


@dataclass(frozen=True)
class UnlayeredRole(Note):
    """A name without a layer whose index is one of the weight's on the left side (Wikipedia's o_i δ_j for
    ∂E/∂w_{ij}): read in the layer of that index's neuron."""

    code = "unlayered_role"
    name: str
    layer: int


@dataclass(frozen=True)
class RoleLayer(Note):
    """A formula written without layers: an index letter's layer as a name forces it (``role`` output: t_j, ŷ_j;
    input: x_i, in ``layer``) or one layer after another letter's (``role`` after: w_{jℓ} puts ℓ after ``before`` j);
    ``name`` is the name that says so, as written."""

    code = "role_layer"
    letter: str
    role: str
    name: str
    before: str = ""
    layer: int | None = None


@dataclass(frozen=True)
class EveryLayer(Note):
    """A formula written without layers on a network with hidden layers, read for every layer it can be about:
    ``checked`` the quantities compared (canonical: W1, W2), ``letter`` the layer that reasons and the correct
    form are said in when there are several."""

    code = "every_layer"
    checked: tuple[str, ...]
    letter: str | None = None


@dataclass(frozen=True)
class IndexLayer(Note):
    """A name without a layer read in the layer its index letter names under layer_marker = "index" (Bishop's δ_j a
    hidden unit's error): ``kind`` the quantity (W, b, z, a, delta), ``letters`` its index letters."""

    code = "index_layer"
    name: str
    kind: str
    letters: str
    layer: int


@dataclass(frozen=True)
class LetterMeaning(Note):
    """A letter read with the meaning the notation declares, which is not derive's own (Bishop's a, the
    pre-activation): ``meaning`` is pre_activation, activation or function."""

    code = "letter_meaning"
    letter: str
    meaning: str


@dataclass(frozen=True)
class CodeName(Note):
    """A gradient written as code names it (gradient_names = "code"): cs231n's dW2, db2, dscores, dprobs, dhidden read
    as ∂C/∂ of ``quantity`` (W, b, scores, probs or hidden), of ``layer`` (None: dW of a batch statement, which is
    every layer's alike), written ``wrt`` in the notation."""

    code = "code_name"
    name: str
    quantity: str
    layer: int | None
    wrt: str


@dataclass(frozen=True)
class ExampleLabel(Note):
    """y with an index no sum or parameter binds, in 𝟙(y_i = k) (cs231n): the class label of the one example i."""

    code = "example_label"
    name: str
    letter: str


@dataclass(frozen=True)
class BareLayer(Note):
    """A plain superscript number on W, b or δ, read as the layer rather than a power."""

    code = "bare_layer"
    name: str


@dataclass(frozen=True)
class SubscriptLayer(Note):
    """A weight matrix with one number below it, W_2 (cs231n's s = W_2 max(0, W_1 x)): the number read as its layer,
    since a weight's element takes two indices."""

    code = "subscript_layer"
    name: str
    layer: int  # as written, in the notation's numbering


@dataclass(frozen=True)
class ElementwiseProduct(Note):
    """A product of two column vectors, read element by element (⊙)."""

    code = "elementwise_product"


@dataclass(frozen=True)
class ElementwiseDivision(Note):
    """A quotient of two vectors, read element by element."""

    code = "elementwise_division"


@dataclass(frozen=True)
class RowVector(Note):
    """A vector before ∂f/∂v (δ ∂z/∂θ, as article 001's identities write it): the chain rule Σ_i δ_i ∂z_i/∂θ."""

    code = "row_vector"
    name: str


@dataclass(frozen=True)
class Accumulated(Note):
    """Ng's Δ^{(l)} := Δ^{(l)} + R: R read as one sample's gradient of the weights θ^{(l)} that Δ^{(l)} sums."""

    code = "accumulated"
    name: str


@dataclass(frozen=True)
class RunningGradient(Note):
    """Goodfellow's g read as a gradient: ``gradient`` (LaTeX, ∇_{h^{(k)}} J); ``after`` when it is the g the line
    assigns (g ← …), else the g the line reads, the gradient the line before left in it."""

    code = "running_gradient"
    gradient: str
    after: bool = False


@dataclass(frozen=True)
class Omega(Note):
    """Goodfellow's regulariser Ω(θ) read as the spec's penalty over λ, R/λ = ``factor`` Σ θ² under the form ``form``
    (Goodfellow's weight decay ½‖w‖² is the form "half"); ``biases`` when the spec puts the biases in it."""

    code = "omega"
    form: str
    factor: str
    biases: bool


# ------------------------------------------------- diagnoses that are not mistakes
@dataclass(frozen=True)
class Undefined(Diagnosis):
    """The formula has no finite value at a sample point; ``gives`` is what it gives there (nan, inf)."""

    code = "undefined"
    gives: str


@dataclass(frozen=True)
class IndexClash(Diagnosis):
    """An index letter of the parameter used where it does not fit: ``letter`` runs from 1 to ``runs`` in the
    parameter, but ``name`` (the formula's name, as written) has only ``size``; the formula is compared where it
    can be read."""

    code = "index_clash"
    letter: str
    name: str
    size: int
    runs: int


@dataclass(frozen=True)
class Shape(Diagnosis):
    """The formula's shape does not fit what it is for; ``message`` says how."""

    code = "shape"
    message: str


@dataclass(frozen=True)
class ChainLink(Diagnosis):
    """In a chain A = B = C …, the link that is wrong: ``link`` of ``links``, ``left`` = ``right`` as written."""

    code = "chain_link"
    link: int
    links: int
    left: str
    right: str


@dataclass(frozen=True)
class Convention(Diagnosis):
    """The formula is right under another convention: ``kind`` is what changes (delta, index_order,
    weight_shift, input_layer), ``value`` what it becomes."""

    code = "convention"
    kind: str
    value: str | int
