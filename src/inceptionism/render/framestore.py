"""Finished frames of a long render, kept in a work directory so that a later run goes on from them.

The directory holds ``params.json`` (what is being rendered) and ``000000.png``,
``000001.png`` ... each written atomically, so a crash or a kill leaves only whole frames.
A run with the same parameters continues after the last of them; one with other parameters
is refused unless it asks to restart. The directory is made when the first frame is kept: a
run that fails before it leaves nothing that would refuse the corrected one.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from inceptionism.errors import InvalidParameterError, OutputError
from inceptionism.io.files import atomic_writer
from inceptionism.io.images import load_image, save_image

PARAMS = "params.json"


def stored_params(directory: Path) -> dict[str, Any] | None:
    """The parameters of the render whose frames are in ``directory``, or ``None`` if there is none."""
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise OutputError(f"cannot use {directory} as a work directory: it is a file", argument="work_dir")
    try:
        return json.loads((directory / PARAMS).read_text())
    except (OSError, json.JSONDecodeError):
        raise InvalidParameterError(
            f"{directory} is not a work directory of inceptionism (no readable {PARAMS}); "
            "remove it or give another work directory",
            argument="work_dir",
        ) from None


def work_dir_for(output: Path, work_dir: str | Path | None = None) -> Path:
    """``work_dir`` if given, else ``OUT.frames`` beside the output ``OUT``."""
    return Path(work_dir) if work_dir is not None else output.with_name(f"{output.name}.frames")


def read_frames_dir(directory: str | Path) -> tuple[dict[str, Any] | None, int]:
    """What a directory of frames holds: its ``params.json`` (``None`` if none is readable), its frame count.

    Reads a work directory and the numbered PNGs a zoom writes alike; the count is of the
    frames ``000000.png`` onwards, none missing.

    >>> import tempfile
    >>> read_frames_dir(tempfile.mkdtemp())
    (None, 0)
    """
    directory = Path(directory)
    try:
        params = json.loads((directory / PARAMS).read_text())
    except (OSError, json.JSONDecodeError):
        params = None
    count = 0
    while (directory / f"{count:06d}.png").is_file():
        count += 1
    return (params if isinstance(params, dict) else None), count


def resumed_seed(directory: Path, restart: bool) -> int:
    """The seed of the render whose frames are in ``directory`` (a resume goes on with it), else a new one."""
    stored = None if restart else stored_params(directory)
    seed = stored.get("dream", {}).get("seed") if isinstance(stored, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else secrets.randbelow(2**31)


class FrameStore:
    """The frames of one render in ``directory``.

    Args:
        directory: the work directory (created with the first frame kept; its parent must exist).
        params: JSON-safe description of the render; frames found there must come from the same.
        restart: discard frames found there instead of going on from them.

    Raises:
        InvalidParameterError: the directory holds frames of a render with other parameters.
        OutputError: the directory cannot be created or written.
    """

    def __init__(self, directory: str | Path, params: dict[str, Any], *, restart: bool = False) -> None:
        self.directory = Path(directory)
        if restart and self.directory.is_dir():  # a file is refused below, not removed
            if any(self.directory.iterdir()):
                stored_params(self.directory)  # a folder of anything but our frames is refused, not removed
            shutil.rmtree(self.directory)
        stored = stored_params(self.directory)
        if stored is not None and stored != params:
            changed = sorted(key for key in {*stored, *params} if stored.get(key) != params.get(key))
            raise InvalidParameterError(
                f"{self.directory} holds frames of a render with other parameters ({', '.join(changed)}); "
                "give the same ones to resume, or restart to discard those frames",
                argument="restart",
            )
        self.params = params
        self.created = stored is not None
        if not self.created:  # fail now, not after the first frame, where it cannot be made
            self._make_directory()
            self.directory.rmdir()

    def _make_directory(self) -> None:
        try:
            self.directory.mkdir()
        except OSError as error:
            raise OutputError(
                f"cannot create the work directory {self.directory}: {error.strerror or error}", argument="work_dir"
            ) from None

    def create(self) -> None:
        """Make the directory and its ``params.json``, if not yet made: before the first frame is kept."""
        if not self.created:
            self._make_directory()
            with atomic_writer(self.directory / PARAMS) as handle:
                handle.write(json.dumps(self.params, sort_keys=True).encode())
            self.created = True

    def path(self, index: int) -> Path:
        """Where frame ``index`` is kept."""
        return self.directory / f"{index:06d}.png"

    def done(self) -> int:
        """How many frames are finished: ``0..done-1`` are all there."""
        count = 0
        while self.path(count).is_file():
            count += 1
        return count

    def save(self, index: int, image: Image.Image) -> None:
        """Keep frame ``index`` (written atomically)."""
        self.create()
        save_image(image, self.path(index))

    def save_encoded(self, index: int, data: bytes) -> None:
        """Keep frame ``index`` given as PNG bytes (written atomically)."""
        self.create()
        with atomic_writer(self.path(index)) as handle:
            handle.write(data)

    def load(self, index: int) -> Image.Image:
        """Frame ``index`` as it was kept."""
        return load_image(self.path(index)).image

    def frames(self, count: int) -> Iterator[Image.Image]:
        """Frames ``0..count-1``, read one at a time."""
        for index in range(count):
            yield self.load(index)

    def remove(self) -> None:
        """Delete the work directory and its frames."""
        shutil.rmtree(self.directory, ignore_errors=True)
