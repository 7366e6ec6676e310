"""What derive writes does not depend on the hash seed: another process, with another one, writes the same.

Inside one process a set of names iterates in one order however often it is rendered, so rendering twice
there cannot find an order that comes from hashing. This test computes everything derive writes for the
examples (tests/outputs.py: every document in every format and language, the SVGs, the generated code,
every derived LaTeX string and the MathML of every step, two more networks included) in a child process
whose string hashes differ from this one's, and compares the two byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import outputs
from conftest import ROOT

from derive.present import render

PROBE = "W1[1,2]"  # a string whose hash tells whether two processes hash alike
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import outputs
everything = outputs.everything(outputs.files(outputs.documents()), outputs.derived_strings())
sys.stdout.buffer.write(json.dumps({"probe": hash(sys.argv[2]), "outputs": everything}).encode("utf-8"))
"""


def _in_a_child(seed: str) -> tuple[int, dict[str, str]]:
    """The probe's hash and every output, from a fresh interpreter with PYTHONHASHSEED=seed."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    command = [sys.executable, "-c", CHILD, str(ROOT / "tests"), PROBE]
    done = subprocess.run(command, capture_output=True, env=env, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    answer = json.loads(done.stdout)
    return answer["probe"], answer["outputs"]


def test_every_output_is_the_same_under_another_hash_seed(rendered, derived):
    here = outputs.everything(rendered, derived)
    for seed in ("1", "2"):  # the second only if this process happens to hash as seed 1 does
        probe, there = _in_a_child(seed)
        if probe != hash(PROBE):
            break
    assert probe != hash(PROBE), "the child hashed as this process does: not a second hash seed"
    assert sorted(there) == sorted(here)
    documents = len(render.LANGS) * len(render.FORMATS) + 1  # and the SVG
    assert len(here) == len(outputs.EXAMPLES) * (documents + 2) + 2 and all(here.values())  # 2: module, pytest file
    differ = [name for name, text in here.items() if there[name] != text]
    assert not differ, f"these outputs depend on the hash seed: {differ}"
