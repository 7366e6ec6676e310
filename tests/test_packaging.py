"""The package as users get it: the wheel carries the templates, the sdist carries the tests, both run elsewhere."""

from __future__ import annotations

import fcntl
import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from conftest import ROOT

import derive

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def template_files() -> list[Path]:
    """Every file under templates/, relative to it (caches left out)."""
    top = ROOT / "templates"
    return sorted(
        p.relative_to(top)
        for p in top.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def test_every_subpackage_of_derive_is_listed():
    """A subpackage missing from pyproject's list would be left out of the wheel and fail only once installed."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "derive").rglob("__init__.py")}
    assert {"derive", "derive.engine", "derive.verify"} <= found
    assert found <= listed, sorted(found - listed)


def test_every_template_folder_and_file_is_package_data():
    """Without building: pyproject lists each folder of templates/ and a pattern for each of its files."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"derive.templates": "templates"}
    data = setuptools["package-data"]
    for rel in template_files():
        package = ".".join(("derive", "templates", *rel.parent.parts))
        assert package in setuptools["packages"], f"{package} is not listed in pyproject's packages"
        if rel.name != "__init__.py":
            assert any(fnmatch.fnmatch(rel.name, pattern) for pattern in data.get(package, [])), rel


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist and, built from it, the wheel (python -m build), built once per test run.

    python -m build writes into the source tree (derive_backprop.egg-info, the sdist's release tree), so two
    builds at once break each other: the xdist workers of a run take a lock, and the first one builds into
    a folder they share (their base temporary folders' parent, which is this run's own).
    """
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = run / "dist"
    with open(run / "dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "built").exists():
            shutil.rmtree(out, ignore_errors=True)
            done = subprocess.run(
                [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            (out / "built").touch()
    return out


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
def test_the_wheel_carries_every_template_and_the_metadata(dist):
    wheel = _one(dist, f"derive_backprop-{derive.__version__}-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in template_files():
        assert f"derive/templates/{rel.as_posix()}" in names, rel
    assert "derive/py.typed" in names
    assert f"derive_backprop-{derive.__version__}.dist-info/licenses/LICENSE" in names
    assert not any(n.startswith(("tests/", "examples/", "output/", "templates/")) for n in names)
    meta = Parser().parsestr(
        zipfile.ZipFile(wheel).read(f"derive_backprop-{derive.__version__}.dist-info/METADATA").decode()
    )
    assert meta["Name"] == "derive-backprop" and meta["Version"] == derive.__version__
    assert meta["License-Expression"] == "MIT" and meta["Author"] == "The derive authors"
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert 'torch==2.13.0; extra == "torch"' in meta.get_all("Requires-Dist")
    entry = zipfile.ZipFile(wheel).read(f"derive_backprop-{derive.__version__}.dist-info/entry_points.txt").decode()
    assert "derive = derive.cli:run" in entry


@pytest.mark.slow
def test_the_sdist_carries_what_the_tests_read(dist):
    sdist = _one(dist, f"derive_backprop-{derive.__version__}.tar.gz")
    top = f"derive_backprop-{derive.__version__}/"
    names = {n.removeprefix(top) for n in tarfile.open(sdist).getnames()}
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    needed = [n for n in tracked if n.startswith(("tests/", "examples/", "templates/", "output/", ".ci/", "derive/"))]
    assert len(needed) > 80
    missing = sorted(set(needed) - names)
    assert not missing, missing
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names


# Runs in a fresh interpreter whose first import path is the unpacked wheel, from a folder outside the tree.
_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    import derive
    from derive import cli
    from derive.templating import TEMPLATES
    site = Path(sys.argv[1]).resolve()
    assert site in Path(derive.__file__).resolve().parents, derive.__file__
    assert site in TEMPLATES.resolve().parents, TEMPLATES
    codes = [
        cli.main(["grad", "net.toml", "W1[1,2]"]),
        cli.main(["check", "net.toml", "--no-torch"]),
        cli.main(["render", "net.toml", "-o", "docs", "--lang", "en,zh", "--quiet"]),
        cli.main(["verify", "net.toml", "delta2", "(y - \\\\hat y)\\\\hat y(1-\\\\hat y)"]),
        cli.main(["verify", "net.toml", "--file", "formulas.md", "--lang", "zh"]),
        cli.main(["codegen", "net.toml", "-o", "grads.py"]),
        cli.main(["codegen", "net.toml", "--pytest", "--function", "grads:gradients", "-o", "test_grads.py"]),
    ]
    print("codes", codes, file=sys.stderr)
    """
)


@pytest.mark.slow
def test_the_unpacked_wheel_runs_every_verb_from_another_folder(dist, tmp_path):
    wheel = _one(dist, "*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "seed004.toml", work / "net.toml")
    shutil.copy(ROOT / "examples" / "formulas" / "seed004.md", work / "formulas.md")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(site)], capture_output=True, text=True, cwd=work, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "codes [0, 0, 0, 0, 0, 0, 0]" in done.stderr, done.stderr[-3000:]
    for name in (
        "seed004.md",
        "seed004.zh.md",
        "seed004.tex",
        "seed004.zh.tex",
        "seed004.html",
        "seed004.zh.html",
        "seed004.svg",
    ):
        assert (work / "docs" / name).stat().st_size > 1000, name
    assert "Two-layer sigmoid network" in (work / "docs" / "seed004.html").read_text(encoding="utf-8")
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_grads.py"],
        capture_output=True,
        text=True,
        cwd=work,
        env={**env, "PYTHONPATH": str(work)},
        timeout=600,
    )
    assert tests.returncode == 0 and "9 passed" in tests.stdout, tests.stdout[-2000:]
