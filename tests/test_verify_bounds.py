"""Issue 11 in the verifier: undefined values and bounded cost, a clean answer for every formula.

A formula that is undefined whatever the inputs (1/0, 0/0, log 0, 0^{-1}, a root of a negative number) is
refused with one line naming the operation and its character, exit 2. One that is undefined only at the
sample points (it divides by something that happens to be zero there) gets a verdict that says so. And a
formula that would cost more than :class:`derive.verify.syntax.Limits` allow (nested sums, products of matrices,
huge numbers, values that grow with every product) is refused with one line naming the limit, while
everything within the limits gets its verdict, on networks as large as derive verify takes (784-100-10,
100 layers).

These tests assert outcomes, never times: ``benchmarks/bench_verify.py`` times the same corpus (``CORPUS``)
against the one-second goal.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import derive
from derive.cli import main
from derive.errors import DeriveError
from derive.verify import Verdict, verify
from derive.verify.findings import Undefined
from derive.verify.mistakes import MissingDerivative
from derive.verify.syntax import MAX_LENGTH, LimitError, Limits, UndefinedError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {name: ROOT / "examples" / f"{name}.toml" for name in ("seed003", "seed004")}


def _layers(*layers: tuple[int, str]) -> str:
    return "".join(f'[[layer]]\nunits = {units}\nactivation = "{act}"\n' for units, act in layers)


# Networks far bigger than the articles': 5100 parameters in two 50-wide layers; 20100 in two 100-wide
# layers (a weight matrix over Limits.MATRIX); eight 20-wide layers, whose closed forms repeat 20^7 paths;
# two at derive verify's size limits: 784-100-10 (79510 parameters), and 100 layers of 30 units; and one
# with softmax inside and a squared error on a softmax output, whose ∂C/∂z needs the whole Jacobian.
EXTRA_SPECS = {
    "big": 'name = "big"\ninputs = 50\nloss = "squared_error"\nbias = true\n'
    + _layers((50, "sigmoid"), (50, "sigmoid")),
    "wide": 'name = "wide"\ninputs = 100\nloss = "cross_entropy"\nbias = true\n'
    + _layers((100, "relu"), (100, "softmax")),
    "deep": 'name = "deep"\ninputs = 20\nloss = "squared_error"\nbias = true\n'
    + _layers(*[(20, "tanh" if k % 2 else "sigmoid") for k in range(8)]),
    "mnist": 'name = "mnist"\ninputs = 784\nloss = "cross_entropy"\nbias = true\n'
    + _layers((100, "sigmoid"), (10, "softmax")),
    "deep100": 'name = "deep100"\ninputs = 30\nloss = "cross_entropy"\nbias = true\n'
    + _layers(*[(30, "tanh" if k % 2 else "relu") for k in range(99)], (10, "softmax")),
    "softmax": 'name = "softmax"\ninputs = 4\nloss = "squared_error"\nbias = true\n'
    + _layers((5, "softmax"), (6, "tanh"), (3, "softmax")),
}
SPEC_NAMES = (*EXAMPLES, *EXTRA_SPECS)


def _jacobian(layer: int) -> str:
    """(∂a/∂z)^T of a layer, as a chain-rule factor."""
    return rf"(\frac{{\partial a^{{({layer})}}}}{{\partial z^{{({layer})}}}})^T"


def load_spec(name: str) -> derive.Network:
    """An example network by name, or one of EXTRA_SPECS."""
    return derive.load(EXAMPLES[name]) if name in EXAMPLES else derive.loads(EXTRA_SPECS[name], source=name)


@dataclass(frozen=True)
class Case:
    """One formula and what must come of it.

    outcome: "right" or "wrong" (a verdict), "refused" (a LimitError whose one-line message contains
    ``says``), "undefined" (an UndefinedError saying ``says``).
    """

    id: str
    spec: str
    param: str
    formula: str
    outcome: str
    says: str = ""


def _nested(n: int) -> str:
    """Σ_iΣ_j… n deep, each index used: 3^n terms on seed004's 3 inputs."""
    letters = "ijklmnpqrsuvABCDEFGHIJKLMNOPQRSTUVWXYZ"[:n]
    return "".join(rf"\sum_{c}" for c in letters) + " " + " ".join(f"x_{c}" for c in letters)


def _deepest(opening: str, closing: str, inner: str = "x_1") -> str:
    """opening … inner … closing nested as deep as the parser's MAX_DEPTH allows."""
    for depth in range(Limits.DEPTH, 0, -1):
        text = opening * depth + inner + closing * depth
        try:
            derive.verify.formula.parse(text)
        except DeriveError:
            continue
        return text
    raise AssertionError("not even one level parses")


W = "W1[1,2]"  # seed004: ∂E/∂W1[1,2] = −δ_1 x_2
RIGHT = r"-\delta_1 x_2"
DL = r"\delta^{(l)}_j"
RECURSION = r"\sum_k W^{(l+1)}_{kj}\delta^{(l+1)}_k\sigma'(z^{(l)}_j)"  # δ^{(l)}_j of a sigmoid layer
EACH_W1 = r"\sum_k W^{(2)}_{ki} \delta^{(2)}_k \sigma'(z^{(1)}_i) x_j"  # W1[i,j] of a sigmoid network
SUMS = "nested sums of"
OPERATIONS = f"building the formula takes more than the {Limits.WORK} operations allowed"
GROWS = f"the value grows to more than the {Limits.SIZE} operations allowed"
DIGITS = f"a number of more than {Limits.DIGITS} digits"
ENTRIES = f"more than the {Limits.MATRIX} entries allowed"

CORPUS = [
    # Nested sums: 3^n terms. Up to SUM_TERMS they are built (within WORK, or refused by it); beyond, refused
    # before a term is built, naming the ranges.
    Case("sums-4-deep", "seed004", W, _nested(4), "wrong"),
    Case("sums-5-deep", "seed004", W, _nested(5), "wrong"),
    Case("sums-6-deep", "seed004", W, _nested(6), "refused", OPERATIONS),
    Case("sums-8-deep", "seed004", W, _nested(8), "refused", f"{SUMS} 3 × 3 × 3 × 3 × 3 × 3 × 3 × 3 = 6561 terms"),
    Case("sums-11-deep", "seed004", W, _nested(11), "refused", SUMS),
    Case("sums-30-deep", "seed004", W, _nested(30), "refused", f"more than the {Limits.SUM_TERMS} allowed"),
    Case("sums-with-limits", "seed003", W, "".join(rf"\sum_{{{c}=1}}^{{4}}" for c in "ijklm") + " x_1", "wrong"),
    Case(
        "sums-of-weights", "seed003", W, r"\sum_i\sum_j\sum_k\sum_l W^{(1)}_{ij} W^{(2)}_{kl} \delta^{(2)}_k", "wrong"
    ),
    Case("sums-50-cubed", "big", W, r"\sum_i\sum_j\sum_k W^{(1)}_{ij} W^{(2)}_{jk}", "refused", "50 × 50 × 50"),
    Case("sums-50-squared", "big", "W1[i,j]", r"\sum_k\sum_m W^{(2)}_{kj} W^{(2)}_{mi} \delta^{(2)}_k x_j", "refused"),
    # Chains of functions as deep as the parser allows.
    Case("exp-chain", "seed004", W, _deepest(r"\exp(", ")"), "wrong"),
    Case("sigma-chain", "seed004", W, _deepest(r"\sigma(", ")"), "wrong"),
    Case("sigma-prime-chain", "seed004", W, _deepest(r"\sigma'(", ")"), "refused", GROWS),
    Case("tanh-chain", "seed004", W, _deepest(r"\tanh(", ")", "x_1+x_2"), "wrong"),
    Case(
        "sigma-40-deep", "seed004", W, r"\sigma(" * 40 + "x_1" + ")" * 40, "refused", "more than 40 levels of nesting"
    ),
    Case("max-chains", "seed004", W, "+".join(rf"\max(x_1, \max(x_2, \max(x_3, {k})))" for k in range(40)), "wrong"),
    Case("relu-of-a-constant", "seed004", W, r"\mathrm{ReLU}(\sigma(99999) - 1)", "wrong"),
    Case("log-chain", "seed004", W, _deepest(r"\log(", ")", "x_1+2"), "wrong"),
    Case("e-tower", "seed004", W, _deepest("e^{", "}"), "wrong"),
    Case("continued-fraction", "seed004", W, _deepest(r"\frac{1}{1+", "}"), "wrong"),
    Case("nested-squares", "seed004", W, _deepest("((x_1+x_2)", ")^{2}"), "wrong"),
    Case("powers-of-powers", "seed004", W, _deepest("(", ")^{64}", "x_1+x_2+x_3"), "refused", "exponent 4096"),
    Case("power-chain", "seed004", W, _deepest("(", "+x_2)^{64}"), "wrong"),
    # Products and powers that only expanding would make big.
    Case("sum-to-the-60", "seed004", W, "(" + "+".join(f"x_{k % 3 + 1}" for k in range(40)) + ")^{60}", "wrong"),
    Case(
        "110-sums-multiplied",
        "seed004",
        W,
        "".join(f"(x_1+x_{k % 3 + 1}+\\delta_{k % 2 + 1})" for k in range(110)),
        "wrong",
    ),
    Case("120-powers-multiplied", "seed004", W, "".join(f"(x_1+x_{k % 3 + 1})^{{64}}" for k in range(120)), "wrong"),
    Case("squares-of-products", "seed004", W, "((x_1+x_2)(x_1+x_3))" * 95, "wrong"),
    Case("200-sums-multiplied", "seed004", W, "".join(f"(x_1+{k})" for k in range(200)), "wrong"),
    Case(
        "same-sum-multiplied", "seed004", W, "((x_1+x_2)(x_1+x_2))" * 40, "refused", "exponent 66 is larger than the 64"
    ),
    Case(
        "80-fractions",
        "seed004",
        W,
        "+".join(f"\\frac{{1}}{{x_{k % 3 + 1}+x_{(k + 1) % 3 + 1}+{k}}}" for k in range(80)),
        "wrong",
    ),
    Case("ascii-products", "seed004", W, "*".join(f"(x{k % 3 + 1}+delta1_{k % 2 + 1})" for k in range(110)), "wrong"),
    Case("ascii-sigmoids", "seed004", W, "+".join(f"sigmoid(z1_{k % 2 + 1}+{k})" for k in range(90)), "wrong"),
    Case("ascii-right-padded", "seed004", W, "-delta1_1*x2" + "+x1-x1" * 330, "right"),
    Case("longest-sum", "seed004", W, "x_1+x_2-" * 249 + "x_3", "wrong"),
    Case("2001-characters", "seed004", W, "x_1+" * 500 + "x", "refused", "2001 characters is longer than the 2000"),
    # Numbers: exact integers beyond DIGITS digits are refused before sympy computes them.
    Case("power-of-a-power-of-ten", "seed004", W, "((10^{30})^{64})^{64}", "refused", DIGITS),
    Case("power-of-a-power-of-nine", "seed004", W, "((9^{64})^{64})^{64}", "refused", DIGITS),
    Case("big-but-allowed-number", "seed004", W, "(2^{64})^{64} x_1", "wrong"),
    # The exact comparison: cheap identities are proved, one whose expansion is too big is only numeric.
    Case("identity-proved", "seed004", W, rf"{RIGHT} + (x_1+x_2)^{{20}} - (x_1^2+2x_1x_2+x_2^2)^{{10}}", "right"),
    Case(
        "identity-too-big-to-expand",
        "seed004",
        W,
        rf"{RIGHT} + (\frac{{x_1+x_2+x_3}}{{3}})^{{8}}(\frac{{x_1-x_2+x_3}}{{3}})^{{8}}"
        rf" - ((\frac{{x_1+x_3}}{{3}})^2-(\frac{{x_2}}{{3}})^2)^{{8}}",
        "right",
    ),
    Case("exp-of-a-huge-multiple", "seed004", W, rf"{RIGHT} (\sigma(99999 x_1) + 1 - \sigma(99999 x_1))", "right"),
    # Matrices: products multiply the size of every entry; big ones are refused before they are made.
    Case("60-hadamard-products", "seed003", "W1", r"(\delta^{(1)} x^T)" + r"\odot(\delta^{(1)} x^T)" * 60, "wrong"),
    Case("60-matrix-products", "seed003", "delta1", "(W^{(2)})^T W^{(2)} " * 60 + r"\delta^{(1)}", "refused", GROWS),
    Case("nested-softmax", "seed003", "delta1", r"\mathrm{softmax}(" * 12 + "z^{(1)}" + ")" * 12, "refused", GROWS),
    Case("50-cubed-product", "big", "W1", "(W^{(2)})^T W^{(2)} " * 3 + r"\delta^{(1)} x^T", "refused", OPERATIONS),
    Case("40-weight-matrices", "big", "W2", "W^{(2)} " * 40, "refused", OPERATIONS),
    Case(
        "100-wide-matrix", "wide", "delta1", r"(W^{(2)})^T \delta^{(2)}", "refused", f"a 100×100 matrix has {ENTRIES}"
    ),
    Case("100-wide-parameter", "wide", "W1", r"\delta^{(1)} x^T", "refused", "parameter: W1 has 10000 elements"),
    # Right and wrong formulas on the big networks: a verdict, with a seeded sample of their elements.
    Case("big-element", "big", W, r"\delta^{(1)}_1 x_2", "right"),
    Case("big-element-wrong", "big", W, r"\delta^{(1)}_2 x_1", "wrong"),
    Case("big-matrix", "big", "W1", r"((W^{(2)})^T \delta^{(2)} \odot \sigma'(z^{(1)})) x^T", "right"),
    Case("big-matrix-wrong", "big", "W1", r"((W^{(2)})^T \delta^{(2)}) x^T", "wrong"),
    Case("big-every-element", "big", "W1[i,j]", EACH_W1, "right"),
    Case("big-every-delta", "big", "delta1[j]", r"\sum_k W^{(2)}_{kj} \delta^{(2)}_k", "wrong"),
    Case("big-every-layer", "big", DL, RECURSION, "right"),
    Case("wide-every-element", "wide", "W1[i,j]", r"\delta^{(1)}_i x_j", "right"),
    Case("wide-softmax", "wide", "delta2", r"\mathrm{softmax}(z^{(2)}) - y", "right"),
    Case("deep-element", "deep", W, r"\delta^{(1)}_1 x_2", "right"),
    Case("deep-element-wrong", "deep", W, r"\delta^{(1)}_2 x_1", "wrong"),
    Case("deep-every-layer", "deep", DL, RECURSION, "wrong"),  # half its layers are tanh: σ' is wrong there
    Case("deep-matrix", "deep", "delta1", r"(W^{(2)})^T \delta^{(2)} \odot \sigma'(z^{(1)})", "right"),
    Case("mnist-element", "mnist", W, r"\delta^{(1)}_1 x_2", "right"),
    Case("mnist-every-element", "mnist", "W1[i,j]", r"-\delta^{(1)}_i x_j", "wrong"),
    Case("mnist-matrix", "mnist", "W2", r"(a^{(2)} - y)(a^{(1)})^T", "right"),
    Case("mnist-whole-W1", "mnist", "W1", r"\delta^{(1)} x^T", "refused", "parameter: W1 has 78400 elements"),
    Case("deep100-element", "deep100", W, r"\delta^{(1)}_2 x_1", "wrong"),
    Case(
        "deep100-every-layer", "deep100", DL, r"\sum_k W^{(l+1)}_{kj}\delta^{(l+1)}_k\mathrm{ReLU}'(z^{(l)}_j)", "wrong"
    ),
    Case("deep100-every-weight", "deep100", "W^{(l)}_{ij}", r"\delta^{(l)}_i a^{(l-1)}_j", "right"),
    Case("deep100-output", "deep100", "W^{(100)}", r"(a^{(100)} - y)(a^{(99)})^T", "right"),
    Case("softmax-inside", "softmax", "delta1", _jacobian(1) + r" (W^{(2)})^T \delta^{(2)}", "right"),
    Case("softmax-inside-wrong", "softmax", "delta1", r"(W^{(2)})^T \delta^{(2)}", "wrong"),
    Case("softmax-output", "softmax", "delta3", _jacobian(3) + r" (a^{(3)} - y)", "right"),
    Case("softmax-output-wrong", "softmax", "delta3", r"a^{(3)} - y", "wrong"),
    Case("softmax-tanh", "softmax", "delta2", r"(W^{(3)})^T \delta^{(3)} \odot (1 - a^{(2)} \odot a^{(2)})", "right"),
]

# Undefined whatever the inputs: (id, formula, the message, its 1-based character), for delta2 of seed004.
UNDEFINED = [
    ("frac-1-0", r"\frac{1}{0}", "division by zero", 1),
    ("slash-1-minus-1", "1/(1-1)", "division by zero", 2),
    ("zero-over-zero", "0/0", "division by zero", 2),
    ("x-over-x-minus-x", r"\frac{x_1}{x_1 - x_1}", "division by zero", 1),
    ("commuted-products", r"x_1 + \frac{1}{x_1 x_2 - x_2 x_1}", "division by zero", 7),
    ("delta-minus-delta", r"\frac{1}{\delta_1 - \delta_1}", "division by zero", 1),
    ("ascii-slash", "1/(x1-x1)", "division by zero", 2),
    ("in-an-exponent", "e^{1/0}", "division by zero", 5),
    ("in-a-sigmoid", r"\sigma(1/0)", "division by zero", 9),
    ("log-0", r"\log(0)", "the logarithm of zero is undefined", 1),
    ("ln-0", r"\ln 0", "the logarithm of zero is undefined", 1),
    ("ascii-log-0", "log(x1 - x1)", "the logarithm of zero is undefined", 1),
    ("zero-to-minus-1", "0^{-1}", "zero to a negative power is undefined", 2),
    ("difference-to-minus-1", "(x_1-x_1)^{-1}", "zero to a negative power is undefined", 10),
    ("difference-to-minus-half", "(x_1-x_1)^{-1/2}", "zero to a negative power is undefined", 10),
    ("log-minus-1", r"\log(-1)", "the logarithm of a negative number is not a real number", 1),
    ("root-of-minus-1", "(-1)^{1/2}", "a root of a negative number is not a real number", 5),
    ("cube-root-of-minus-8", "(-8)^{1/3}", "a root of a negative number is not a real number", 5),
    ("in-a-sum", r"\sum_k \frac{1}{x_k - x_1}", "division by zero when k = 1", 8),
]


@pytest.fixture(scope="module")
def nets() -> dict[str, derive.Derivation]:
    return {name: derive.derive(load_spec(name)) for name in SPEC_NAMES}


@pytest.fixture(scope="module")
def spec_files(tmp_path_factory) -> dict[str, str]:
    """Every network as a TOML file, for the command line."""
    directory = tmp_path_factory.mktemp("specs")
    out = {name: str(path) for name, path in EXAMPLES.items()}
    for name, text in EXTRA_SPECS.items():
        (directory / f"{name}.toml").write_text(text, encoding="utf-8")
        out[name] = str(directory / f"{name}.toml")
    return out


def run(capsys, *args: str) -> tuple[int, str, str]:
    """``derive verify ARGS`` in this process: (exit code, stdout, stderr)."""
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return code, out, err


def one_error_line(code: int, out: str, err: str) -> str:
    """Exit 2 with nothing on stdout and exactly one line on stderr; that line."""
    assert code == 2, (code, out, err)
    assert out == ""
    assert err.endswith("\n") and len(err.splitlines()) == 1, repr(err)
    assert err.startswith(("derive: error: formula: ", "derive: error: parameter: "))
    return err.rstrip("\n")


def counterexample_line(out: str, word: str = "counterexample") -> str:
    lines = [line for line in out.splitlines() if word in line]
    assert len(lines) == 1, out
    return lines[0]


# ----------------------------------------------------------------- undefined whatever the inputs
@pytest.mark.parametrize(("formula", "says", "char"), [c[1:] for c in UNDEFINED], ids=[c[0] for c in UNDEFINED])
def test_undefined_formula_exits_2_naming_the_operation_and_character(capsys, formula, says, char):
    line = one_error_line(*run(capsys, str(EXAMPLES["seed004"]), "delta2", formula))
    assert f"formula: {says} at character {char}: " in line, line
    # the character shown between » « is the operator or command that made the value
    marked = re.search("»(.)«", line)
    assert marked is not None and marked.group(1) == formula[char - 1], line


@pytest.mark.parametrize(("formula", "says", "char"), [c[1:] for c in UNDEFINED], ids=[c[0] for c in UNDEFINED])
def test_undefined_formula_raises_undefined_error(nets, formula, says, char):
    with pytest.raises(UndefinedError) as info:
        verify(nets["seed004"], "delta2", formula)
    assert says in str(info.value) and f"at character {char}:" in str(info.value)


def test_a_parse_error_stays_a_parse_error(capsys):
    line = one_error_line(*run(capsys, str(EXAMPLES["seed004"]), "delta2", "/(1-1)"))
    assert "expected a term, found '/' at character 1" in line


def test_undefined_for_some_elements_names_the_element(nets):
    """1/(x_i − x_j) is undefined where i = j: refused, naming the first such binding."""
    with pytest.raises(UndefinedError) as info:
        verify(nets["seed004"], "W1[i,j]", r"\frac{1}{x_i - x_j}")
    assert "division by zero when i = 1, j = 1 at character 1" in str(info.value)


def test_elementwise_division_by_a_zero_vector(nets):
    with pytest.raises(UndefinedError) as info:
        verify(nets["seed003"], "delta1", r"\frac{z^{(1)}}{z^{(1)} - z^{(1)}}")
    assert "division by zero at character 1" in str(info.value)


# ----------------------------------------------------------------- undefined only at the sample points
AT_A_POINT = [
    ("relu-of-minus-output", r"\frac{1}{\operatorname{ReLU}(-\hat y)}", "nan", "undefined", "无定义"),
    ("log-of-negative", r"\log(x_1 - 5)", "nan", "undefined", "无定义"),
    ("root-of-negative", r"(x_1 - 2)^{1/2}", "nan", "undefined", "无定义"),
    ("overflow", r"e^{99999 x_1}", "inf", "infinite", "为无穷大"),
]


@pytest.mark.parametrize(("formula", "gives", "en", "zh"), [c[1:] for c in AT_A_POINT], ids=[c[0] for c in AT_A_POINT])
def test_undefined_at_a_point_is_a_verdict_that_says_so(nets, capsys, formula, gives, en, zh):
    v = verify(nets["seed004"], "delta2", formula)
    assert isinstance(v, Verdict) and not v
    c = v.counterexample
    assert c is not None and not c.defined and f"{c.given}" == gives
    # the derivative at that point is the one any wrong formula is compared with there
    reference = verify(nets["seed004"], "delta2", "0").counterexample
    assert reference is not None and c.inputs == reference.inputs and c.parameters == reference.parameters
    assert c.correct == reference.correct != 0
    assert v.diagnoses[0] == Undefined(gives)
    code, out, err = run(capsys, str(EXAMPLES["seed004"]), "delta2", formula)
    assert code == 1 and err == ""
    line = counterexample_line(out)
    assert f"the formula is {en} there (it gives {gives}), the derivative is {c.correct:.6g}, at" in line
    assert any(x.strip().startswith("why: the formula has no finite value at a sample point") for x in out.splitlines())
    code, out, err = run(capsys, "--lang", "zh", str(EXAMPLES["seed004"]), "delta2", formula)
    assert code == 1 and err == ""
    assert f"公式在该点{zh}（给出 {gives}），导数为 {c.correct:.6g}" in counterexample_line(out, "反例")
    assert any(x.strip().startswith("原因：公式在某个采样点没有有限值") for x in out.splitlines())


def test_formula_list_with_undefined_entries(capsys, tmp_path):
    """--file: identically undefined is 'not understood' with its reason, undefined at a point is 'wrong'."""
    entries = [("delta2", r"(y-\hat y)\hat y(1-\hat y)"), ("delta2", r"\frac{1}{0}"), ("delta2", r"\log(x_1 - 5)")]
    entries += [("W1[1,2]", "((10^{30})^{64})^{64}")]
    text = "".join(f"[[formula]]\nparam = '{p}'\nformula = '{f}'\n\n" for p, f in entries)
    listing = tmp_path / "list.toml"
    listing.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, str(EXAMPLES["seed004"]), "--file", str(listing))
    assert code == 2 and err == f"derive: error: {listing}: 2 of 4 formulas not understood (the table says why)\n"
    lines = out.splitlines()
    assert lines[-1] == "1 passed, 1 failed, 2 not understood"
    reasons = [line.strip() for line in lines if "cannot read it:" in line]
    assert reasons == [
        "cannot read it: division by zero at character 1: »\\«frac{1}{0}",
        f"cannot read it: {DIGITS} at character 17: ((10^{{30}})^{{64}})»^«{{64}}",
    ]
    assert any(line.strip().startswith("why: the formula has no finite value at a sample point") for line in lines)


# ----------------------------------------------------------------- bounded cost
@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_adversarial_formula_is_answered_or_refused_naming_the_limit(nets, case):
    assert len(case.formula) <= MAX_LENGTH or case.says.endswith(f"longer than the {MAX_LENGTH}")
    if case.outcome in ("refused", "undefined"):
        kind = LimitError if case.outcome == "refused" else UndefinedError
        with pytest.raises(kind) as info:
            verify(nets[case.spec], case.param, case.formula)
        message = str(info.value)
        assert len(message.splitlines()) == 1 and case.says in message, message
        assert message.startswith(("formula: ", "parameter: "))
        return
    v = verify(nets[case.spec], case.param, case.formula)
    assert isinstance(v, Verdict)
    assert bool(v) == (case.outcome == "right"), v.text()
    assert v.elements <= min(v.total_elements, Limits.CHECKED)
    assert v.elements >= 1 or v.codes == ("shape",)
    assert v.text("en") and v.text("zh")  # both languages print


@pytest.mark.parametrize(
    "case", [c for c in CORPUS if c.outcome == "refused"], ids=[c.id for c in CORPUS if c.outcome == "refused"]
)
def test_refusal_on_the_command_line_is_one_line_exit_2(capsys, spec_files, case):
    line = one_error_line(*run(capsys, spec_files[case.spec], case.param, case.formula))
    assert case.says in line


def test_nested_sums_are_refused_before_any_term_is_built(nets):
    """The sums' ranges are multiplied first: 8 sums over 3 inputs are 6561 terms, refused at the 8th Σ."""
    with pytest.raises(LimitError) as info:
        verify(nets["seed004"], W, _nested(8))
    message = str(info.value)
    assert f"nested sums of 3 × 3 × 3 × 3 × 3 × 3 × 3 × 3 = 6561 terms, more than the {Limits.SUM_TERMS}" in message
    assert "at character 43: " in message  # the eighth \sum
    assert _nested(8)[42:46] == r"\sum"


def test_a_sum_within_the_limits_has_the_right_value(nets):
    """Σ_iΣ_jΣ_k x_i x_j x_k is (x_1+x_2+x_3)^3: built term by term, it is the same number."""
    left = verify(nets["seed004"], W, _nested(3))
    right = verify(nets["seed004"], W, "(x_1+x_2+x_3)^3")
    assert left.counterexample is not None and right.counterexample is not None
    assert left.counterexample.given == pytest.approx(right.counterexample.given, rel=1e-12)
    assert left.counterexample.given != 0


def test_big_network_checks_a_seeded_sample_of_its_elements(nets):
    v = verify(nets["big"], "W1[i,j]", EACH_W1)
    assert v and v.method == "numeric"
    assert v.total_elements == 2500 and 1 <= v.elements < Limits.CHECKED
    assert v.target == "W1[1,1] … W1[50,50]"
    same = verify(nets["big"], "W1[i,j]", EACH_W1)
    assert same.elements == v.elements  # seeded: the same sample every time


def test_big_matrix_samples_what_it_evaluates(nets):
    v = verify(nets["big"], "W1", r"((W^{(2)})^T \delta^{(2)} \odot \sigma'(z^{(1)})) x^T")
    assert v and v.total_elements == 2500 and 1 <= v.elements <= Limits.CHECKED


def test_wrong_formula_on_the_big_network_has_a_counterexample_with_its_parameters(nets):
    v = verify(nets["big"], W, r"\delta^{(1)}_2 x_1")
    c = v.counterexample
    assert c is not None and c.defined and c.given != pytest.approx(c.correct)
    assert len(c.inputs) == 50 and len(c.targets) == 50
    # the formula's and the derivative's weights, not all 5100
    assert "W2[1,1]" in c.parameters and "W1[1,1]" not in c.parameters and len(c.parameters) < 200
    assert all(math.isfinite(x) for x in c.parameters.values())


def test_deep_network_prints_the_delta_form_without_the_closed_form(nets):
    """The closed form of δ in layer 1 of an 8-layer, 20-wide network repeats 20^7 paths: only the δ form."""
    v = verify(nets["deep"], W, r"\delta^{(1)}_2 x_1")
    assert not v
    assert v.correct.count(" = ") == 1 and r"\delta^{(1)}_{1}" in v.correct, v.correct
    small = verify(nets["seed004"], W, r"\delta_2 x_1")
    assert small.correct.count(" = ") == 2  # a small network keeps its closed form


def test_exact_comparison_is_skipped_when_expanding_would_be_too_big(nets):
    proved = verify(nets["seed004"], W, rf"{RIGHT} + (x_1+x_2)^{{20}} - (x_1^2+2x_1x_2+x_2^2)^{{10}}")
    assert proved and proved.method == "exact"
    big = next(c for c in CORPUS if c.id == "identity-too-big-to-expand")
    numeric = verify(nets["seed004"], W, big.formula)
    assert numeric and numeric.method == "numeric"
    assert verify(nets["seed004"], W, RIGHT).method == "exact"


def test_diagnoses_still_found_on_the_big_network(nets):
    """The mistakes are computed once per point: δ without σ' is still named on a 50-50-50 network."""
    v = verify(nets["big"], "delta1[j]", r"\sum_k W^{(2)}_{kj} \delta^{(2)}_k")
    assert not v
    assert MissingDerivative(layer=1) in v.diagnoses
    sign = verify(nets["mnist"], "W1[i,j]", r"-\delta^{(1)}_i x_j")
    assert sign.codes[0] == "sign" and sign.total_elements == 78400
    c = sign.counterexample
    assert c is not None and c.given == pytest.approx(-c.correct) and c.given != 0


def test_limits_are_counts_that_give_the_same_answer_every_time(nets):
    first = [verify(nets["seed004"], W, _nested(5)).elements for _ in range(2)]
    assert first[0] == first[1] == 1
    for _ in range(2):
        with pytest.raises(LimitError, match="building the formula takes more than"):
            verify(nets["seed004"], W, _nested(6))
