"""Size limits and untrusted numbers: refused in one line before anything is built."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

import derive
from derive import cli
from derive.errors import SpecError
from derive.model import limits

VERB_ARGS = {
    "grad": ["W1[1,1]"],
    "check": [],
    "render": ["-o", "{out}"],
    "verify": ["W1[1,1]", "0"],
    "codegen": [],
}


def spec(inputs: int, *units: int, bias: bool = True) -> str:
    layers = "".join(f'[[layer]]\nunits = {n}\nactivation = "sigmoid"\n' for n in units)
    return f'inputs = {inputs}\nloss = "squared_error"\nbias = {str(bias).lower()}\n{layers}'


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Any Derivation built from now on fails the test: a refusal must come before the work."""

    def refuse(self, network):
        raise AssertionError(f"a Derivation was built for {network.sizes}")

    monkeypatch.setattr(derive.Derivation, "__init__", refuse)


def run_verb(verb: str, path, tmp_path, capsys) -> tuple[int, str]:
    args = [a.format(out=tmp_path / "out") for a in VERB_ARGS[verb]]
    code = cli.main([verb, str(path), *args])
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def test_parameter_count_is_exact():
    # 784·100 + 100 + 100·10 + 10, written out by hand.
    assert limits.parameter_count((784, 100, 10), True) == 79_510
    assert limits.parameter_count((784, 100, 10), False) == 79_400
    assert limits.parameter_count((10**12, 10**12), True) == 10**24 + 10**12  # no int64 overflow


@pytest.mark.parametrize("verb", list(VERB_ARGS))
def test_a_trillion_units_is_refused_by_every_verb(verb, tmp_path, capsys, nothing_is_built):
    path = tmp_path / "huge.toml"
    path.write_text(spec(3, 1_000_000_000_000), encoding="utf-8")
    code, err = run_verb(verb, path, tmp_path, capsys)
    assert code == 2
    assert err == (
        f"derive: error: {path}: layer[1].units: 1,000,000,000,000 units is over the limit of 100,000 per layer"
        " (no derive verb takes more)\n"
    )


@pytest.mark.parametrize("verb", ["grad", "check", "render", "verify"])
def test_symbolic_verbs_stop_at_1024_units_and_100000_parameters(verb, tmp_path, capsys, nothing_is_built):
    wide = tmp_path / "wide.toml"
    wide.write_text(spec(1025, 2), encoding="utf-8")
    code, err = run_verb(verb, wide, tmp_path, capsys)
    assert (code, err) == (
        2,
        f"derive: error: {wide}: inputs: 1,025 units is over derive {verb}'s limit of 1,024 per layer\n",
    )
    many = tmp_path / "many.toml"
    many.write_text(spec(1000, 101), encoding="utf-8")  # 1000·101 + 101 = 101,101 parameters
    code, err = run_verb(verb, many, tmp_path, capsys)
    assert (code, err) == (
        2,
        f"derive: error: {many}: layer: 101,101 parameters is over derive {verb}'s limit of 100,000\n",
    )
    deep = tmp_path / "deep.toml"
    deep.write_text(spec(1, *[1] * 101), encoding="utf-8")
    code, err = run_verb(verb, deep, tmp_path, capsys)
    assert (code, err) == (2, f"derive: error: {deep}: layer: 101 layers is over derive {verb}'s limit of 100\n")


def test_codegen_takes_what_the_symbolic_verbs_refuse(tmp_path, capsys):
    path = tmp_path / "wide.toml"
    path.write_text(spec(5000, 3000, 10), encoding="utf-8")  # 15 million parameters
    assert cli.main(["codegen", str(path), "-o", str(tmp_path / "g.py")]) == 0
    assert "def gradients(" in (tmp_path / "g.py").read_text(encoding="utf-8")
    assert cli.main(["grad", str(path), "W1[1,1]"]) == 2
    assert "5,000 units is over derive grad's limit" in capsys.readouterr().err


def test_the_largest_network_each_verb_takes_is_accepted():
    for verb, limit in limits.LIMITS.items():
        limits.enforce((limit.units, limit.parameters // limit.units - 1), False, verb)  # at the limits: no error
    limits.enforce((784, 100, 10), True, "render")  # MNIST-sized, the goal of issue 14


def test_the_python_api_refuses_what_no_verb_takes():
    with pytest.raises(
        SpecError,
        match=r"^layer\[2\]\.units: 200,000 units is over the limit of 100,000 per layer \(no derive verb takes more",
    ):
        derive.Network(3, (derive.Layer(4), derive.Layer(200_000)), "mse")
    with pytest.raises(
        SpecError, match=r"^layer: 1,001 layers is over the limit of 1,000 \(no derive verb takes more\)$"
    ):
        derive.Network(1, tuple(derive.Layer(1) for _ in range(1001)), "mse")


def test_the_readme_table_shows_the_limits():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (`[a-z]+`(?:, `[a-z]+`)*) \| (.*) \|$", text, re.M))
    shown = {}
    for verbs, cells in rows.items():
        units, layers, parameters, paths = cells.split(" | ")
        paths = None if paths == "any" else int(paths.split()[0].replace(",", ""))
        for verb in re.findall(r"`([a-z]+)`", verbs):
            shown[verb] = limits.Limit(*(int(c.replace(",", "")) for c in (units, layers, parameters)), paths)
    assert shown == limits.LIMITS


def test_chain_rule_paths_are_the_terms_of_a_closed_form(tmp_path, capsys):
    # Counted by hand: 20-100-100-10 softmax: 100·10 paths through layers 2 and 3, times 10 softmax outputs.
    assert limits.paths((20, 100, 100, 10), True) == 10_000
    assert limits.paths((2,) + (2,) * 10, False) == 2**9
    assert limits.paths((784, 100, 10), True) == 100
    deep = tmp_path / "deep.toml"
    deep.write_text(spec(2, *[2] * 14), encoding="utf-8")  # 2^13 = 8,192 paths
    assert cli.main(["grad", str(deep), "W1[1,1]"]) == 2
    assert capsys.readouterr().err == (
        f"derive: error: {deep}: layer: a first-layer gradient's closed form has 8,192 chain-rule paths, over"
        " derive grad's limit of 4,096 (derive check, verify and codegen take this network)\n"
    )
    assert cli.main(["grad", str(deep), "W1[1,1]", "--form", "delta"]) == 0  # the δ form does not grow
    assert capsys.readouterr().out == "delta1[1]*x[1]\n"
    assert cli.main(["render", str(deep), "-o", str(tmp_path / "out")]) == 2
    assert "over derive render's limit of 1,000" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


EXAMPLE = """
[example]
x = [0.5, 0.1]
y = [0.2]
W1 = [[0.1, 0.2]]
b1 = [0.0]
learning_rate = 0.5
"""


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("learning_rate = 0.5", "learning_rate = nan", "example.learning_rate: must be a finite number, got nan"),
        ("learning_rate = 0.5", "learning_rate = inf", "example.learning_rate: must be a finite number, got inf"),
        ("learning_rate = 0.5", "learning_rate = -inf", "example.learning_rate: must be a finite number, got -inf"),
        ("x = [0.5, 0.1]", "x = [0.5, nan]", "example.x: must hold finite numbers"),
        ("y = [0.2]", "y = [-inf]", "example.y: must hold finite numbers"),
        ("W1 = [[0.1, 0.2]]", "W1 = [[0.1, inf]]", "example.W1: must hold finite numbers"),
        ("b1 = [0.0]", "b1 = [nan]", "example.b1: must hold finite numbers"),
    ],
)
def test_nan_and_inf_in_the_example_are_refused_with_the_key(old, new, key, tmp_path, capsys):
    text = spec(2, 1) + EXAMPLE
    derive.loads(text)  # the unchanged example is fine
    path = tmp_path / "net.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    assert cli.main(["render", str(path), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"derive: error: {path}: {key}\n"
    assert not (tmp_path / "out").exists()


def test_files_are_read_with_a_bound(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 * 2**20) + b"\n")
    with pytest.raises(SpecError, match=r"big\.toml: is larger than the 2 MiB a spec file may have$"):
        derive.load(big)
    deep = tmp_path / "deep.toml"
    deep.write_text("inputs = 1\nx = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"deep\.toml: invalid TOML: arrays or tables nested too deeply$"):
        derive.load(deep)


def test_a_formula_list_holds_at_most_500(tmp_path, capsys):
    listing = tmp_path / "list.md"
    listing.write_text("".join(f"- `delta2` $x_{1 + k % 3}$\n" for k in range(501)), encoding="utf-8")
    assert cli.main(["verify", str(ROOT / "examples" / "seed004.toml"), "--file", str(listing)]) == 2
    assert capsys.readouterr().err == f"derive: error: {listing}: 501 formulas is over the limit of 500 in one list\n"


def test_example_numbers_are_bounded_and_must_not_overflow():
    big = (spec(2, 1) + EXAMPLE).replace("x = [0.5, 0.1]", "x = [0.5, 2e6]")
    with pytest.raises(SpecError, match=r"^<spec>: example\.x: 2e\+06 is larger than the 1e\+06 an example may hold$"):
        derive.loads(big)
    rate = (spec(2, 1) + EXAMPLE).replace("learning_rate = 0.5", "learning_rate = -1e7")
    with pytest.raises(SpecError, match=r"example\.learning_rate: -1e\+07 is larger than the 1e\+06"):
        derive.loads(rate)
    # 60 identity layers with weights 1e6: the forward pass passes 1e308 at layer 52 (6·52 + 0 > 308).
    layers = "".join('[[layer]]\nunits = 1\nactivation = "identity"\n' for _ in range(60))
    weights = "".join(f"W{k} = [[1e6]]\nb{k} = [0.0]\n" for k in range(1, 61))
    text = f'inputs = 1\nloss = "squared_error"\n{layers}[example]\nx = [1.0]\ny = [0.0]\n{weights}'
    with pytest.raises(
        SpecError, match=r"^<spec>: example: the forward pass overflows at layer 52; use smaller numbers$"
    ):
        derive.loads(text)


def test_example_targets_of_softmax_cross_entropy_must_sum_to_one():
    text = 'inputs = 1\nloss = "cross_entropy"\n[[layer]]\nunits = 2\nactivation = "softmax"\n'
    text += "[example]\nx = [1.0]\ny = [0.3, 0.3]\nW1 = [[0.1], [0.2]]\nb1 = [0.0, 0.0]\n"
    with pytest.raises(SpecError, match=r"^<spec>: example\.y: cross_entropy with a softmax output is derived"):
        derive.loads(text)
    derive.loads(text.replace("y = [0.3, 0.3]", "y = [0.3, 0.7]"))


def test_spec_reading_details():
    text = spec(2, 1)
    assert derive.loads(text).sizes == (2, 1)
    with pytest.raises(SpecError, match=r"layer\[1\]\.bias: unknown key .*; bias belongs at the top of the file"):
        derive.loads(text + "bias = false\n")
    with pytest.raises(SpecError, match=r"^<spec>: layer\[1\]\.slope: must be a number, got 'x'$"):
        derive.loads(text.replace('activation = "sigmoid"', 'activation = "leaky_relu"\nslope = "x"'))
    with pytest.raises(SpecError, match=r"^<spec>: title: 201 characters, more than the 200 a title may have$"):
        derive.loads(f'title = "{"t" * 201}"\n' + text)


def test_a_byte_order_mark_is_not_part_of_the_spec(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + spec(2, 1).encode())
    assert derive.load(path).sizes == (2, 1)


def test_a_nan_gradient_fails_the_check_instead_of_passing(monkeypatch):
    from derive.check import check
    from derive.engine import numbers

    network = derive.load(ROOT / "examples" / "seed004.toml")
    original = numbers.at_batch

    def nan_for_one(d, params, x, y):
        values = original(d, params, x, y)
        values.gradients["W2"][0, 0] = float("nan")
        return values

    monkeypatch.setattr(numbers, "at_batch", nan_for_one)
    report = check(derive.derive(network), use_torch=False, symbolic=False)
    failed = [p.name for p in report.parameters if not p.passed]
    assert failed == ["W2[1,1]"]
