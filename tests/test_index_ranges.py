"""The index letters a parameter leaves free, and their ranges: found in one reading of the name.

The ranges expected are the layer sizes of the example specs (seed001: 2 inputs, 3 hidden, 2 outputs, W_{ij}
into neuron i from neuron j, W^{(l)} numbered by the layer it leaves as in article 001, so W^{(0)} is derive's W1;
seed004: 3 inputs, 2 hidden, 1 output, w_{ij} from neuron i to neuron j).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive import derive, load
from derive.errors import DeriveError
from derive.verify import verify
from derive.verify.read import _parse_param
from derive.verify.read_bindings import _ranges
from derive.verify.reading import Reader
from derive.verify.reading_refs import Reading

ROOT = Path(__file__).resolve().parent.parent


def ranges(seed: str, param: str, env: dict[str, int] | None = None) -> dict[str, int]:
    d = derive(load(ROOT / "examples" / f"{seed}.toml"))
    return _ranges(Reader(d, Reading(d.network.notation), param), _parse_param(param).rhs, env or {})


@pytest.mark.parametrize(
    ("seed", "param", "expected"),
    [
        ("seed001", r"W^{(0)}_{ij}", {"i": 3, "j": 2}),  # into hidden neuron i (3) from input j (2)
        ("seed001", r"W^{(1)}_{ij}", {"i": 2, "j": 3}),
        ("seed001", "W2[i,1]", {"i": 2}),
        ("seed001", r"\delta^{(1)}_j", {"j": 3}),
        ("seed001", r"\frac{\partial C}{\partial b^{(2)}_k}", {"k": 2}),
        ("seed004", r"w^{(1)}_{ij}", {"i": 3, "j": 2}),  # from input i (3) to hidden neuron j (2)
        ("seed004", r"\Delta w^{(2)}_{ij}", {"i": 2, "j": 1}),
        ("seed004", "W1[1,2]", {}),
    ],
)
def test_the_ranges_are_the_sizes_the_letters_index(seed: str, param: str, expected: dict[str, int]) -> None:
    assert ranges(seed, param) == expected


def test_a_free_layer_takes_each_layer_the_name_exists_for() -> None:
    assert ranges("seed001", r"W^{(l)}_{ij}", {"l": 0}) == {"i": 3, "j": 2}
    assert ranges("seed001", r"W^{(l)}_{ij}", {"l": 1}) == {"i": 2, "j": 3}
    v = verify(load(ROOT / "examples" / "seed001.toml"), r"W^{(l)}_{ij}", r"\delta^{(l+1)}_i a^{(l)}_j")
    assert v and v.elements == 3 * 2 + 2 * 3 and v.target == "W1[1,1] … W2[2,3]"


def test_the_name_is_read_once(monkeypatch) -> None:
    calls = []
    target = Reader.target

    def counting(self, node):
        calls.append(node)
        return target(self, node)

    monkeypatch.setattr(Reader, "target", counting)
    assert ranges("seed001", r"W^{(0)}_{ij}") == {"i": 3, "j": 2}
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("param", "places"),
    [
        ("W1[i,i]", "1…3 in W1[i,i]; 1…2 in W1[i,i]"),
        (r"W^{(0)}_{i,i+j}", r"1…3 in W^{(0)}_{i,i+j}; 1…2 in W^{(0)}_{i,i+j}"),
        (r"W^{(0)}_{i+j,i}", r"1…3 in W^{(0)}_{i+j,i}; 1…2 in W^{(0)}_{i+j,i}"),
    ],
)
def test_a_letter_indexing_two_sizes_names_each_place_once(param: str, places: str) -> None:
    """W1 is 3×2: a letter used as both its row and its column has no one range; each place is said once."""
    with pytest.raises(DeriveError) as caught:
        verify(load(ROOT / "examples" / "seed001.toml"), param, "0")
    assert f"parameter: the range of i is not clear ({places})" in str(caught.value)
