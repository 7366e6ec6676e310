"""Bad specs: one clear line naming the key (and the file), and exit code 2 from the CLI."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from inprocess import Ran, run_cli

import derive
from derive import Layer, Network, Notation, ParameterError, SpecError

GOOD = """\
inputs = 3
loss = "squared_error"

[[layer]]
units = 2
activation = "sigmoid"

[[layer]]
units = 1
activation = "sigmoid"
"""

NO_BIAS = GOOD.replace('loss = "squared_error"\n', 'loss = "squared_error"\nbias = false\n')


def spec(**replace: str) -> str:
    """GOOD with whole lines swapped: ``spec(old="new")`` for each ``old`` line."""
    text = GOOD
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def layers(*tables: str, head: str = 'inputs = 3\nloss = "squared_error"\n') -> str:
    return head + "".join(f"\n[[layer]]\n{t}\n" for t in tables)


S1 = 'units = 2\nactivation = "sigmoid"'  # a valid layer table
EXAMPLE = "\n[example]\nx = [0.5, 0.1, -0.2]\ny = [0.6]\n"

# (id, spec text, the key the message must name, a regex the message must also match)
CASES = [
    (
        "unknown-activation",
        layers(S1, 'units = 1\nactivation = "sinc"'),
        "layer[2].activation",
        "unknown activation 'sinc'",
    ),
    ("unknown-loss", GOOD.replace('"squared_error"', '"hinge"'), "loss", "unknown loss 'hinge'"),
    ("zero-units", layers("units = 0\nactivation = 'sigmoid'"), "layer[1].units", "at least 1, got 0"),
    ("negative-units", layers("units = -2\nactivation = 'sigmoid'"), "layer[1].units", "at least 1, got -2"),
    ("missing-inputs", GOOD.replace("inputs = 3\n", ""), "inputs", "missing"),
    ("missing-loss", GOOD.replace('loss = "squared_error"\n', ""), "loss", "missing"),
    ("missing-layer", 'inputs = 3\nloss = "mse"\n', "layer", "missing"),
    ("missing-units", layers('activation = "sigmoid"'), "layer[1].units", "missing"),
    ("missing-activation", layers("units = 2"), "layer[1].activation", "missing"),
    ("inputs-string", GOOD.replace("inputs = 3", 'inputs = "3"'), "inputs", "whole number, got '3'"),
    ("inputs-float", GOOD.replace("inputs = 3", "inputs = 3.0"), "inputs", "whole number, got 3.0"),
    ("inputs-bool", GOOD.replace("inputs = 3", "inputs = true"), "inputs", "whole number, got True"),
    ("units-float", layers('units = 2.5\nactivation = "sigmoid"'), "layer[1].units", "whole number, got 2.5"),
    ("bias-string", GOOD.replace("inputs = 3", 'inputs = 3\nbias = "yes"'), "bias", "true or false, got 'yes'"),
    ("activation-int", layers("units = 2\nactivation = 3"), "layer[1].activation", "a string, got 3"),
    ("layer-int", 'inputs = 3\nloss = "mse"\nlayer = 3\n', "layer", "an array, got 3"),
    ("layer-array-of-ints", 'inputs = 3\nloss = "mse"\nlayer = [1, 2]\n', "layer[1]", "a table, got 1"),
    (
        "layer-single-table",
        'inputs = 3\nloss = "mse"\n[layer]\nunits = 1\nactivation = "sigmoid"\n',
        "layer",
        "an array",
    ),
    ("layer-empty", 'inputs = 3\nloss = "mse"\nlayer = []\n', "layer", "at least one layer"),
    ("unknown-top-key", "colour = 1\n" + GOOD, "colour", "unknown key"),
    (
        "unknown-layer-key",
        layers(S1, 'units = 1\nactivation = "relu"\ndropout = 0.5'),
        "layer[2].dropout",
        "unknown key",
    ),
    ("slope-on-sigmoid", layers('units = 2\nactivation = "sigmoid"\nslope = 0.1'), "layer[1].slope", "only leaky_relu"),
    ("slope-string", layers('units = 2\nactivation = "leaky_relu"\nslope = "0.1"'), "layer[1].slope", "a number"),
    ("slope-inf", layers('units = 2\nactivation = "leaky_relu"\nslope = inf'), "layer[1].slope", "finite"),
    ("alpha-on-sigmoid", layers('units = 2\nactivation = "sigmoid"\nalpha = 0.5'), "layer[1].alpha", "only elu"),
    ("alpha-on-leaky", layers('units = 2\nactivation = "leaky_relu"\nalpha = 0.5'), "layer[1].alpha", "only elu"),
    ("slope-on-elu", layers('units = 2\nactivation = "elu"\nslope = 0.5'), "layer[1].slope", "only leaky_relu"),
    ("alpha-string", layers('units = 2\nactivation = "elu"\nalpha = "1"'), "layer[1].alpha", "a number"),
    ("alpha-bool", layers('units = 2\nactivation = "elu"\nalpha = true'), "layer[1].alpha", "a number"),
    ("alpha-nan", layers('units = 2\nactivation = "elu"\nalpha = nan'), "layer[1].alpha", "finite"),
    ("alpha-negative", layers('units = 2\nactivation = "elu"\nalpha = -0.5'), "layer[1].alpha", "at least 0"),
    ("notation-index-order", GOOD + '\n[notation]\nindex_order = "sideways"\n', "notation.index_order", "'sideways'"),
    ("notation-weight", GOOD + '\n[notation]\nweight = "V"\n', "notation.weight", "'V' is not one of"),
    ("notation-unknown-key", GOOD + '\n[notation]\nfont = "serif"\n', "notation.font", "unknown key"),
    ("notation-not-table", GOOD.replace("inputs = 3", 'inputs = 3\nnotation = "plain"'), "notation", "a table"),
    (
        "letters-count",
        GOOD + '\n[notation]\nletters = ["a", "b", "c", "d", "e"]\n',
        "notation.letters",
        "6 nodes but 5 letters",
    ),
    ("letters-repeated", GOOD + '\n[notation]\nletters = "abcdea"\n', "notation.letters", "its own letter"),
    ("letters-not-strings", GOOD + '\n[notation]\nletters = ["a", 2]\n', "notation.letters[2]", "a string"),
    ("output-y-target-y", GOOD + '\n[notation]\noutput = "y"\n', "notation.output", "another target letter"),
    (
        "cross-entropy-relu-output",
        layers("units = 2\nactivation = 'relu'", head='inputs = 3\nloss = "cross_entropy"\n'),
        "loss",
        "must be softmax or sigmoid, not relu",
    ),
    (
        "bce-tanh-output",
        layers("units = 1\nactivation = 'tanh'", head='inputs = 3\nloss = "binary_cross_entropy"\n'),
        "loss",
        "not tanh",
    ),
    ("bad-name", 'name = "my/net"\n' + GOOD, "name", "cannot be a file name"),
    (
        "example-W1-shape",
        GOOD + EXAMPLE + "W1 = [0.5, 0.1, 0.1]\nb1 = [0, 0]\nW2 = [[0.1, -0.3]]\nb2 = [0]\n",
        "example.W1",
        re.escape("has shape (3,), expected (2, 3)"),
    ),
    (
        "example-W1-ragged",
        GOOD + EXAMPLE + "W1 = [[0.5, 0.1], [0.1, 0.2, 0.3]]\nb1 = [0, 0]\nW2 = [[0.1, -0.3]]\nb2 = [0]\n",
        "example.W1",
        "array of numbers",
    ),
    (
        "example-x-shape",
        GOOD + "\n[example]\nx = [0.5]\ny = [0.6]\nW1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0, 0]\nW2 = [[1, 2]]\nb2 = [0]\n",
        "example.x",
        re.escape("has shape (1,), expected (3,)"),
    ),
    (
        "example-missing-b2",
        GOOD + EXAMPLE + "W1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0, 0]\nW2 = [[1, 2]]\n",
        "example.b2",
        "missing",
    ),
    (
        "example-unknown-array",
        GOOD + EXAMPLE + "W1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0, 0]\nW2 = [[1, 2]]\nb2 = [0]\nW3 = [[1]]\n",
        "example.W3",
        "unknown key",
    ),
]


def _key_pattern(key: str) -> str:
    """The key as a whole word, followed by the ': ' that ends the key."""
    return rf"(?<![\w.\[]){re.escape(key)}: "


def _assert_one_line(message: str) -> None:
    assert message, "empty message"
    assert "\n" not in message and "\r" not in message, repr(message)


# ---------------------------------------------------------------- loads(text, source=…)
@pytest.mark.parametrize(("text", "key", "detail"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_loads_names_source_and_key(text: str, key: str, detail: str) -> None:
    with pytest.raises(SpecError, match=rf"^net\.toml: {_key_pattern(key)}") as info:
        derive.loads(text, source="net.toml")
    message = str(info.value)
    _assert_one_line(message)
    assert re.search(detail, message), message


# ------------------------------------------------------------------------ load(path)
@pytest.mark.parametrize(("text", "key", "detail"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_load_names_file_and_key(tmp_path: Path, text: str, key: str, detail: str) -> None:
    path = tmp_path / "net.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: {_key_pattern(key)}") as info:
        derive.load(path)
    _assert_one_line(str(info.value))
    assert re.search(detail, str(info.value))


@pytest.mark.parametrize(
    "text",
    [
        'inputs = \nloss = "mse"\n',
        "inputs = 3\n[[layer]\nunits = 1\n",
        'inputs = 3\ninputs = 4\nloss = "mse"\n',
        'loss = "mse\n',
    ],
    ids=["no-value", "unclosed-header", "duplicate-key", "unclosed-string"],
)
def test_invalid_toml(tmp_path: Path, text: str) -> None:
    with pytest.raises(SpecError, match=r"^net\.toml: invalid TOML: .*line \d+") as info:
        derive.loads(text, source="net.toml")
    _assert_one_line(str(info.value))
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: invalid TOML"):
        derive.load(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: no such file$") as info:
        derive.load(path)
    _assert_one_line(str(info.value))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(str(tmp_path))}: is a directory, not a spec file$") as info:
        derive.load(tmp_path)
    _assert_one_line(str(info.value))
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    # é in Latin-1 is the byte 0xE9, the 12th of the file: not UTF-8.
    with pytest.raises(SpecError, match=r"latin1\.toml: is not UTF-8 text \(byte 12\)$"):
        derive.load(path)


def test_default_source_names_spec() -> None:
    with pytest.raises(SpecError, match=r"^<spec>: loss: missing$"):
        derive.loads("inputs = 3\n")


@pytest.mark.parametrize(
    "text",
    ['"a\\nb" = 1\n' + GOOD, layers(S1 + '\n"a\\nb" = 1'), GOOD + '\n[notation]\n"a\\nb" = 1\n'],
    ids=["top", "layer", "notation"],
)
def test_unknown_key_with_newline_is_one_line(text: str) -> None:
    with pytest.raises(SpecError) as info:
        derive.loads(text, source="net.toml")
    _assert_one_line(str(info.value))


def test_good_spec_loads() -> None:
    """The base of the cases above is itself valid (so each case fails for its own reason)."""
    net = derive.loads(GOOD, source="net.toml")
    assert net.sizes == (3, 2, 1)
    full = GOOD + EXAMPLE + "W1 = [[1, 2, 3], [4, 5, 6]]\nb1 = [0, 0]\nW2 = [[1, 2]]\nb2 = [0]\n"
    assert derive.loads(full).example.params["W1"].shape == (2, 3)


# ---------------------------------------------------------------------- Python API
API_CASES = [
    ("inputs-zero", lambda: Network(0, (Layer(1),), "mse"), "inputs", "at least 1, got 0"),
    ("inputs-float", lambda: Network(2.0, (Layer(1),), "mse"), "inputs", "whole number"),
    ("inputs-bool", lambda: Network(True, (Layer(1),), "mse"), "inputs", "whole number"),
    ("no-layers", lambda: Network(2, (), "mse"), "layer", "at least one layer"),
    ("sinc", lambda: Network(2, (Layer(2, "sinc"),), "mse"), "layer[1].activation", "'sinc'"),
    ("sinc-second", lambda: Network(2, (Layer(2), Layer(1, "sinc")), "mse"), "layer[2].activation", "'sinc'"),
    ("units-zero", lambda: Network(2, (Layer(2), Layer(0)), "mse"), "layer[2].units", "at least 1"),
    ("units-float", lambda: Network(2, (Layer(2.5),), "mse"), "layer[1].units", "whole number"),
    ("not-a-layer", lambda: Network(2, (Layer(2), 3), "mse"), "layer[2]", "expected a derive.Layer"),
    ("unknown-loss", lambda: Network(2, (Layer(1),), "hinge"), "loss", "'hinge'"),
    ("loss-none", lambda: Network(2, (Layer(1),), None), "loss", "unknown loss None"),
    ("bias-string", lambda: Network(2, (Layer(1),), "mse", "yes"), "bias", "true or false"),
    ("slope-on-tanh", lambda: Network(2, (Layer(1, "tanh", 0.1),), "mse"), "layer[1].slope", "only leaky_relu"),
    ("slope-string", lambda: Network(2, (Layer(1, "leaky_relu", "0.1"),), "mse"), "layer[1].slope", "a number"),
    ("slope-nan", lambda: Network(2, (Layer(1, "leaky_relu", math.nan),), "mse"), "layer[1].slope", "finite"),
    ("alpha-on-silu", lambda: Network(2, (Layer(1, "silu", alpha=1.0),), "mse"), "layer[1].alpha", "only elu"),
    ("alpha-string", lambda: Network(2, (Layer(1, "elu", alpha="1"),), "mse"), "layer[1].alpha", "a number"),
    ("alpha-inf", lambda: Network(2, (Layer(1, "elu", alpha=math.inf),), "mse"), "layer[1].alpha", "finite"),
    ("alpha-negative", lambda: Network(2, (Layer(1, "elu", alpha=-1),), "mse"), "layer[1].alpha", "at least 0"),
    (
        "ce-relu-output",
        lambda: Network(2, (Layer(2, "relu"),), "cross_entropy"),
        "loss",
        "softmax or sigmoid, not relu",
    ),
    ("index-order", lambda: Notation(index_order="sideways"), "notation.index_order", "'sideways'"),
    (
        "letters-count",
        lambda: Network(1, (Layer(1),), "mse", notation=Notation(letters=("a", "b", "c"))),
        "notation.letters",
        "2 nodes but 3 letters",
    ),
]


@pytest.mark.parametrize(("make", "key", "detail"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_python_api_names_key(make, key: str, detail: str) -> None:
    with pytest.raises(SpecError, match=rf"^{_key_pattern(key)}") as info:
        make()
    _assert_one_line(str(info.value))
    assert re.search(detail, str(info.value))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Network(2, (Layer(1),), ["mse"]),  # TypeError: unhashable type: 'list'
        lambda: Network(2, None, "mse"),  # TypeError: 'NoneType' object is not iterable
        lambda: Network(2, (Layer(1),), "mse", notation=None),  # AttributeError: no attribute 'letters'
    ],
    ids=["loss-list", "layers-none", "notation-none"],
)
def test_python_api_wrong_types_are_spec_errors(make) -> None:
    with pytest.raises(SpecError):
        make()


# -------------------------------------------------------------- unknown parameter names
PARAMETER_CASES = [
    (GOOD, "W3[1,1]", "layers are numbered 1 to 2"),
    (GOOD, "W0[1,1]", "layers are numbered 1 to 2"),
    (GOOD, "W1[9,1]", "index out of range, W1 is 2×3"),
    (GOOD, "W1[1,4]", "index out of range, W1 is 2×3"),
    (GOOD, "W1[0,1]", "index out of range"),
    (GOOD, "b2[2]", "index out of range, b2 has 1 entries"),
    (NO_BIAS, "b1[1]", "this network has no biases"),
    (GOOD, "foo", r"written W<l>\[i,j\] or b<l>\[i\]"),
    (GOOD, "W1[1]", r"written W<l>\[i,j\]"),
    (GOOD, "b1[1,1]", r"written W<l>\[i,j\]"),
    (GOOD, "z1[1]", r"written W<l>\[i,j\]"),
    (GOOD, "", r"written W<l>\[i,j\]"),
]


@pytest.mark.parametrize(("text", "name", "detail"), PARAMETER_CASES, ids=[c[1] or "empty" for c in PARAMETER_CASES])
@pytest.mark.parametrize("method", ["parameter", "gradient"])
def test_unknown_parameter(text: str, name: str, detail: str, method: str) -> None:
    d = derive.derive(derive.loads(text))
    with pytest.raises(ParameterError, match=rf"^unknown parameter {re.escape(repr(name))}: ") as info:
        getattr(d, method)(name)
    _assert_one_line(str(info.value))
    assert re.search(detail, str(info.value)), str(info.value)


def test_known_parameter_names_resolve() -> None:
    d = derive.derive(derive.loads(GOOD))
    assert d.parameters()[0] == "W1[1,1]" and "b2[1]" in d.parameters()
    assert d.parameter(" W1[ 2, 3 ] ").name == "W1[2,3]"  # whitespace is ignored


def test_unknown_gradient_form() -> None:
    d = derive.derive(derive.loads(GOOD))
    with pytest.raises(derive.DeriveError, match=r"^form: 'sideways' is not one of") as info:
        d.gradient("W1[1,1]", "sideways")
    _assert_one_line(str(info.value))


# ----------------------------------------------------------------------------- the CLI
def assert_usage_error(result: Ran, *needles: str) -> str:
    """Exit code 2, nothing on stdout, one 'derive: error:' line on stderr holding every needle."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert result.stderr.endswith("\n")
    line = result.stderr[:-1]
    _assert_one_line(line)
    assert line.startswith("derive: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


CLI_SPECS = {case[0]: case for case in CASES}
CLI_CASES = [
    "unknown-activation",
    "alpha-on-sigmoid",
    "alpha-negative",
    "unknown-loss",
    "zero-units",
    "missing-inputs",
    "bias-string",
    "layer-single-table",
    "unknown-top-key",
    "notation-index-order",
    "cross-entropy-relu-output",
    "example-W1-shape",
]


@pytest.mark.parametrize("verb", ["grad", "check"])
@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_bad_spec(tmp_path: Path, case: str, verb: str) -> None:
    _, text, key, _ = CLI_SPECS[case]
    (tmp_path / "net.toml").write_text(text, encoding="utf-8")
    args = ("grad", "net.toml", "W1[1,1]") if verb == "grad" else ("check", "net.toml")
    line = assert_usage_error(run_cli(*args, cwd=tmp_path), f"net.toml: {key}: ")
    assert line.startswith("derive: error: net.toml: ")


def test_cli_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("inputs = \n", encoding="utf-8")
    assert_usage_error(run_cli("check", "broken.toml", cwd=tmp_path), "broken.toml: invalid TOML")
    assert_usage_error(run_cli("grad", "absent.toml", "W1[1,1]", cwd=tmp_path), "absent.toml: no such file")


@pytest.mark.parametrize(
    ("text", "name", "detail"),
    [
        (GOOD, "W3[1,1]", "layers are numbered 1 to 2"),
        (GOOD, "W1[9,1]", "index out of range"),
        (NO_BIAS, "b1[1]", "no biases"),
        (GOOD, "foo", "parameters are written"),
    ],
    ids=["W3", "W1-row", "b1-no-bias", "foo"],
)
def test_cli_unknown_parameter(tmp_path: Path, text: str, name: str, detail: str) -> None:
    (tmp_path / "net.toml").write_text(text, encoding="utf-8")
    assert_usage_error(run_cli("grad", "net.toml", name, cwd=tmp_path), f"unknown parameter {name!r}", detail)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("frobnicate", "net.toml"), "unknown verb 'frobnicate'; choose from grad, check, render, verify, codegen"),
        (("grad", "net.toml"), "required: param"),
        (("check",), "required: spec"),
        (("--debug",), "give a verb: grad, check, render, verify, codegen"),
        (("check", "net.toml", "--points", "0"), "--points: must be between 1 and 100"),
        (("check", "net.toml", "--points", "many"), "--points: invalid int value"),
        (("grad", "net.toml", "W1[1,1]", "--form", "nope"), "grad: --form: unknown value 'nope'; choose from auto"),
        (("check", "net.toml", "--colour"), "unrecognized arguments: --colour"),
    ],
    ids=["unknown-verb", "grad-no-param", "check-no-spec", "no-verb", "points-zero", "points-text", "form", "flag"],
)
def test_cli_usage_errors(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    (tmp_path / "net.toml").write_text(GOOD, encoding="utf-8")
    assert_usage_error(run_cli(*args, cwd=tmp_path), needle)


def test_cli_good_spec_succeeds(tmp_path: Path) -> None:
    """The same file and parameter with nothing wrong: exit 0 and no error line."""
    (tmp_path / "net.toml").write_text(GOOD, encoding="utf-8")
    result = run_cli("grad", "net.toml", "W2[1,1]", "--form", "closed", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert "a1[1]" in result.stdout


def test_cli_unknown_key_with_newline(tmp_path: Path) -> None:
    (tmp_path / "net.toml").write_text('"a\\nb" = 1\n' + GOOD, encoding="utf-8")
    assert_usage_error(run_cli("check", "net.toml", cwd=tmp_path), "net.toml: ")


def test_cli_check_one_unit_softmax_bce_has_no_traceback(tmp_path: Path) -> None:
    text = 'inputs = 2\nloss = "binary_cross_entropy"\n\n[[layer]]\nunits = 1\nactivation = "softmax"\n'
    (tmp_path / "net.toml").write_text(text, encoding="utf-8")
    result = run_cli("check", "net.toml", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "net.toml: loss: a one-unit softmax output is always 1" in result.stderr
