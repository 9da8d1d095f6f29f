"""Writing files so that a reader never sees half of one: temporary file, then rename."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from inceptionism.errors import OutputError


def temporary_name(path: Path) -> Path:
    """A hidden, unique name beside ``path`` to write to before renaming."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _missing_directory(path: Path) -> str:
    """Why the directory of ``path`` is not there: it does not exist, or a file stands in its way.

    >>> _missing_directory(Path("/nowhere/at/all.png"))
    'directory /nowhere/at does not exist'
    """
    for above in path.parents:
        if above.exists() and not above.is_dir():
            return f"{above} is a file, not a directory; give an output in a directory"
    return f"directory {path.parent} does not exist"


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
        raise OutputError(f"cannot write {path}: {_missing_directory(path)}")
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


InputFiles = Mapping[str, object]
"""The files a render reads, by what they are: ``{"input video": path, "guide": None, "input image": [a, b]}``.

A value may be a path, a list of paths, or anything else (an image in memory, ``None``), which is skipped.
"""


def _input_paths(inputs: InputFiles) -> Iterator[tuple[str, Path]]:
    """Every ``(role, path)`` of ``inputs`` that names a file on disk."""
    for role, value in inputs.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, (str, os.PathLike)) and os.path.isfile(item):
                yield role, Path(item)


def _aside(given: Path, found: Path) -> str:
    """`` (NAME)``: the input's own name, when it is spelt differently from the output."""
    return "" if os.path.abspath(given) == os.path.abspath(found) else f" ({found})"


def check_not_input(output: str | os.PathLike, inputs: InputFiles, *, argument: str = "output") -> None:
    """Refuse to write ``output`` if it is one of the files the render reads.

    The same file is found by :func:`os.path.samefile`: through symbolic and hard links too.

    Args:
        output: a file the render will write.
        inputs: what the render reads (see :data:`InputFiles`).
        argument: the argument that named ``output``.

    Raises:
        OutputError: naming the output, the input it is and the fix.

    >>> import tempfile
    >>> clip = Path(tempfile.mkdtemp()) / "clip.mp4"
    >>> _ = clip.write_bytes(b"film")
    >>> check_not_input(clip, {"input video": clip})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    inceptionism.errors.OutputError: cannot write .../clip.mp4: it is the input video; give another output
    """
    output = Path(output)
    if not output.exists():
        return
    for role, path in _input_paths(inputs):
        if os.path.samefile(output, path):
            raise OutputError(
                f"cannot write {output}: it is the {role}{_aside(output, path)}; give another output", argument=argument
            )


def check_not_inside(directory: str | os.PathLike, inputs: InputFiles, *, argument: str = "work_dir") -> None:
    """Refuse ``directory`` as a work directory (removed when done) if it is or holds a file the render reads.

    Raises:
        OutputError: naming the directory, the input it holds and the fix.
    """
    directory = Path(directory)
    if not directory.exists():
        return
    for role, path in _input_paths(inputs):
        if os.path.samefile(directory, path):
            raise OutputError(
                f"cannot use {directory} as the work directory: it is the {role}; give another work directory",
                argument=argument,
            )
        if path.resolve().is_relative_to(directory.resolve()):
            raise OutputError(
                f"cannot use {directory} as the work directory: it holds the {role} ({path}); "
                "give another work directory",
                argument=argument,
            )


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
