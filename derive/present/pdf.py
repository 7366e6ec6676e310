"""Compile the generated ``.tex`` documents to PDF, and read a PDF's text back.

English documents compile with pdflatex; Chinese ones (ctex) with xelatex. Each
compile runs in a fresh temporary directory with a fixed ``SOURCE_DATE_EPOCH``,
so compiling the same file twice gives the same bytes, and the PDF reaches its
destination by an atomic rename: it is either complete or absent. The engines
run without shell escape and with kpathsea's paranoid file access
(``openin_any=p``, ``openout_any=p``): a document writes only inside its
temporary directory and reads only there and on TeX's search paths.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from derive.errors import RenderError
from derive.files import write_atomic

ENGINES: dict[str, str] = {"en": "pdflatex", "zh": "xelatex"}
"""The LaTeX engine for each document language."""

# Debian packages that provide each engine, tool, or commonly missing LaTeX file.
_PACKAGES: dict[str, str] = {
    "pdflatex": "texlive-latex-base",
    "xelatex": "texlive-xetex",
    "pdftotext": "poppler-utils",
    "ctexart.cls": "texlive-lang-chinese",
    "ctex.sty": "texlive-lang-chinese",
    "tikz.sty": "texlive-pictures",
}

_ENV: dict[str, str] = {
    "SOURCE_DATE_EPOCH": "0",  # fixed /CreationDate, /ModDate and, for pdfTeX, a fixed trailer /ID
    "FORCE_SOURCE_DATE": "1",  # \today and \time from SOURCE_DATE_EPOCH too
    "max_print_line": "10000",  # one log line per message, so errors and warnings parse
    # kpathsea's paranoid file access: TeX opens only files below its working directory (and reads
    # those it finds on its search paths), never an absolute path, a path with .. or a dot file.
    # A document is built from an untrusted spec; should anything slip through escaping, \input or
    # \openin of /etc/passwd, or \openout over ~/.bashrc, still fails.
    "openin_any": "p",
    "openout_any": "p",
    "TEXMFOUTPUT": "",  # absolute paths under TEXMFOUTPUT would be allowed; empty, it also hides texmf.cnf's
}
# kpathsea reads openin_any.pdflatex, openin_any_xelatex, … before openin_any: the caller's would win.
_OVERRIDDEN = ("openin_any", "openout_any", "TEXMFOUTPUT")
_MAX_RUNS = 3
_TIMEOUT = 600  # seconds per engine run
_RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|Please rerun", re.IGNORECASE)
# A run reads the table of contents and the bookmarks the previous run wrote; when they changed (a page moved),
# the engine runs again, although LaTeX asks for no rerun when only the contents moved.
_READ_BACK = (".toc", ".out")
_MISSING_FILE = re.compile(r"File `([^']+)' not found")
_LINE = re.compile(r"^l\.(\d+) ?(.*)$")


def require_engines(langs: list[str]) -> None:
    """Refuse at once, before any work, when the TeX engine of a language is not installed."""
    for lang in langs:
        engine = engine_for(lang)
        if shutil.which(engine) is None:
            raise RenderError(f"--format pdf: {engine} not found; install the Debian package {_PACKAGES[engine]}")


def engine_for(lang: str) -> str:
    """The engine for a document language: pdflatex for ``en``, xelatex for ``zh`` (ctex)."""
    try:
        return ENGINES[lang]
    except KeyError:
        known = ", ".join(repr(k) for k in ENGINES)
        raise RenderError(f"no LaTeX engine for language {lang!r}; expected one of {known}") from None


def language_of(tex_path: Path) -> str:
    """The language of a generated document from its name: ``*.zh.tex`` is Chinese, anything else English."""
    return "zh" if Path(tex_path).name.endswith(".zh.tex") else "en"


def compile_pdf(tex_path: Path, lang: str, out_path: Path | None = None, *, log_path: Path | None = None) -> Path:
    """Compile ``tex_path`` to ``out_path`` (default: beside it, ``.pdf``) and return the PDF's path.

    ``log_path``, when given, receives the last run's log, also when compiling fails.
    Raises RenderError naming the file and the first LaTeX error, or the package to install.
    """
    tex_path = Path(tex_path)
    out_path = Path(out_path) if out_path is not None else tex_path.with_suffix(".pdf")
    engine = engine_for(lang)
    if shutil.which(engine) is None:
        raise RenderError(f"{tex_path.name}: {engine} not found; install the Debian package {_PACKAGES[engine]}")
    try:
        source = tex_path.read_bytes()
    except OSError as exc:
        raise RenderError(f"{tex_path}: cannot read: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as tmp:
        work = Path(tmp)
        (work / tex_path.name).write_bytes(source)
        log, failed = _run(engine, tex_path.name, work)
        if log_path is not None:
            try:
                Path(log_path).write_text(log, encoding="utf-8")
            except OSError as exc:
                raise RenderError(f"{log_path}: cannot write the log: {exc.strerror or exc}") from None
        built = work / f"{tex_path.stem}.pdf"
        if failed or not built.is_file():
            raise RenderError(f"{tex_path.name}: {_first_error(log, engine)}")
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(out_path, built.read_bytes())
        except OSError as exc:
            raise RenderError(f"{out_path}: cannot write the PDF: {exc.strerror or exc}") from None
    return out_path


def log_problems(log: str) -> list[str]:
    """The warnings in a LaTeX log that mean a wrong document: anything undefined, and missing glyphs."""
    problems = []
    for line in log.splitlines():
        if ("Warning" in line and "undefined" in line) or line.startswith("Missing character:"):
            problems.append(line.strip())
    return problems


def pdf_text(pdf_path: Path) -> str:
    """The text of a PDF laid out as on the page (``pdftotext -layout``), for comparing two PDFs' content."""
    if shutil.which("pdftotext") is None:
        raise RenderError(f"pdftotext not found; install the Debian package {_PACKAGES['pdftotext']}")
    try:
        done = subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf_path), "-"],
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{Path(pdf_path).name}: pdftotext timed out") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"{Path(pdf_path).name}: pdftotext failed: {detail[0] if detail else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def engine_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every engine run: ``base`` (default: this process's) with derive's fixed settings.

    The caller's own file-access settings are dropped, not just overridden: kpathsea would read a
    per-program ``openin_any_pdflatex`` or ``openin_any.xelatex`` before derive's ``openin_any``.
    """
    base = os.environ if base is None else base
    return {k: v for k, v in base.items() if not k.startswith(_OVERRIDDEN)} | _ENV


def _run(engine: str, name: str, work: Path) -> tuple[str, bool]:
    """Run the engine in ``work`` until the log asks for no rerun and the contents and bookmarks are settled.

    Return the last log and whether it failed.
    """
    env = engine_environment()
    command = [engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name]
    log_file = work / f"{Path(name).stem}.log"
    log = ""
    read = _written(work, name)  # what the first run reads: nothing
    for _ in range(_MAX_RUNS):
        try:
            done = subprocess.run(
                command,
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"! {engine} timed out after {_TIMEOUT} s.\n", True
        log = _read_log(log_file) or done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            return log, True
        written = _written(work, name)
        if not _RERUN.search(log) and written == read:
            break
        read = written
    return log, False


def _written(work: Path, name: str) -> dict[str, bytes | None]:
    """The files a run writes for the next one to read (the contents, the bookmarks), as this run left them."""
    found = {}
    for suffix in _READ_BACK:
        path = work / f"{Path(name).stem}{suffix}"
        found[suffix] = path.read_bytes() if path.is_file() else None
    return found


def _read_log(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def _first_error(log: str, engine: str) -> str:
    """One line: the log's first ``!`` message with its ``l.<n>`` line, and a package hint for a missing file."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("!")), None)
    if start is None:
        return f"{engine} failed without an error message in its log"
    message = lines[start].lstrip("! ").strip()
    where = ""
    for line in lines[start + 1 :]:
        found = _LINE.match(line)
        if found:
            context = found.group(2).strip()
            where = f"line {found.group(1)}: "
            if context and not _MISSING_FILE.search(message):
                message += f" (at '{context[-40:]}')"
            break
    missing = _MISSING_FILE.search(message)
    if missing and missing.group(1) in _PACKAGES:
        message += f"; install the Debian package {_PACKAGES[missing.group(1)]}"
    if not where and start + 1 < len(lines) and lines[start + 1].startswith("<*>"):
        message += r" (the file ended before \end{document})"
    return where + message
