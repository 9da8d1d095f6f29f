"""Writing files so that a reader never sees half of one: temporary file, then rename."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from inceptionism.errors import OutputError


def temporary_name(path: Path) -> Path:
    """A hidden, unique name beside ``path`` to write to before renaming."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, not after minutes of work, if ``path`` cannot be created.

    A scratch file is created beside ``path`` and removed again; ``path`` itself is untouched.

    Raises:
        OutputError: naming the path and the operating system's reason.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory; give a file name")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: directory {path.parent} does not exist")
    scratch = temporary_name(path)
    try:
        os.close(os.open(scratch, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    scratch.unlink()
    return path


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds.

    The file gets the usual permissions (``0o666`` less the umask), unlike ``tempfile``'s ``0o600``.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "done.txt"
    >>> with atomic_writer(target) as f:
    ...     _ = f.write(b"done")
    >>> target.read_bytes()
    b'done'
    """
    path = Path(path)
    scratch = temporary_name(path)
    try:
        fd = os.open(scratch, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
    except OSError as error:
        scratch.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def unused_path(path: str | os.PathLike) -> Path:
    """``path`` if nothing is there yet, else the first free ``stem-2.ext``, ``stem-3.ext`` ...

    Used for default output names so that an earlier result is never overwritten.
    """
    path = Path(path)
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()
