"""Reading the files a user names, with one-line errors and a size bound."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from derive.errors import DeriveError, SpecError

MAX_BYTES = 2 * 2**20
"""The largest file derive reads: a 784-100-10 spec with every parameter in ``[example]`` takes about 1 MiB,
and tomllib reads 2 MiB in about 0.4 s."""


def read_text(path: str | Path, what: str, limit: int = MAX_BYTES) -> str:
    """A regular UTF-8 file's text, at most ``limit`` bytes; every failure is one SpecError naming the path.

    Reading stops at the limit, so /dev/zero or a huge file cannot exhaust memory, and a FIFO is refused
    rather than waited on.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise SpecError(f"{path}: is a directory, not a {what} file")
        if path.exists() and not path.is_file():
            raise SpecError(f"{path}: is not a regular file")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({(exc.strerror or exc.__class__.__name__).lower()})") from None
    if len(data) > limit:
        raise SpecError(f"{path}: is larger than the {limit // 2**20} MiB a {what} file may have")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # an editor's byte-order mark is not text
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: is not UTF-8 text (byte {exc.start + 1})") from None


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` whole or not at all: a temporary file beside the target, then a rename.

    A symbolic link is written through to the file it names. Anything there that is not a regular file
    (a device such as /dev/null, a FIFO, a socket) is refused: a rename would replace it with a file.
    Returns the path written; an OSError from the system is the caller's to word.
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise DeriveError(f"{path}: is not a regular file; derive writes only regular files")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
