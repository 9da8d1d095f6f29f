"""Writing frames as an animation: H.264 MP4 (PyAV), animated GIF or WebP (Pillow), or numbered PNGs.

The output appears only when complete: frames go to a temporary name beside it, renamed at
the end; a failure leaves nothing behind. Parameters travel inside: the MP4's comment tag,
the GIF's comment, the WebP's EXIF description, a ``params.json`` beside numbered PNGs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inceptionism.errors import ImageError, OutputError
from inceptionism.io.files import check_writable, temporary_name
from inceptionism.io.images import METADATA_KEY, save_image
from inceptionism.io.video import h264_stream, rgb_frame

ANIMATIONS = (".mp4", ".gif", ".webp")
"""Extensions written as one animated file; any other path without an extension is a directory of PNGs."""
PARAMS_FILE = "params.json"
GIF_DELAY_MS = 10
"""A GIF's frame delays are whole hundredths of a second."""


def animation_kind(path: str | os.PathLike) -> str:
    """``"mp4"``, ``"gif"``, ``"webp"`` or ``"frames"`` (a directory of PNGs) for an output path.

    >>> animation_kind("zoom.mp4"), animation_kind("zoom-frames")
    ('mp4', 'frames')
    """
    suffix = Path(path).suffix.lower()
    if suffix in ANIMATIONS:
        return suffix[1:]
    if suffix:
        raise OutputError(
            f"cannot write {os.fspath(path)}: unknown animation extension {suffix!r}; use .mp4, .gif, .webp, "
            "or a name without extension for a directory of PNG frames",
            argument="output",
        )
    return "frames"


def check_animation_output(path: str | os.PathLike) -> str:
    """Fail now, not after the render, if ``path`` cannot be written; return its kind."""
    kind = animation_kind(path)
    path = Path(path)
    if kind == "frames" and path.exists():
        raise OutputError(f"cannot write {path}: it exists already; remove it or give another name", argument="output")
    if kind != "frames" and path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory; give a file name", argument="output")
    check_writable(path)
    return kind


def write_animation(
    frames: Iterable[Image.Image], path: str | os.PathLike, *, fps: float, metadata: dict[str, Any] | None = None
) -> int:
    """Write ``frames`` (RGB images of one size) to ``path`` at ``fps``; returns the frame count.

    The frames are consumed one at a time (an MP4 or a directory never holds them all in memory).

    Raises:
        OutputError: an unknown extension or a file that cannot be written.
    """
    kind = animation_kind(path)
    path = Path(path)
    text = None if metadata is None else json.dumps(metadata, sort_keys=True)
    with _replacing(path) as scratch:
        if kind == "mp4":
            return _write_mp4(frames, scratch, fps=fps, comment=text)
        if kind == "frames":
            return _write_frames(frames, scratch, text)
        return _write_pillow(frames, scratch, kind, fps=fps, comment=text)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it only if the block succeeds."""
    scratch = temporary_name(path)
    try:
        yield scratch
        os.replace(scratch, path)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}", argument="output") from None
    finally:
        if scratch.is_dir():
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            scratch.unlink(missing_ok=True)


def _write_mp4(frames: Iterable[Image.Image], path: Path, *, fps: float, comment: str | None) -> int:
    import av  # the [video] extra

    count = 0
    with av.open(str(path), "w", format="mp4") as container:
        if comment is not None:
            container.metadata["comment"] = comment
        stream = None
        for image in frames:
            if stream is None:
                stream = h264_stream(container, rate=_rate(fps), size=image.size)
            container.mux(stream.encode(rgb_frame(stream, np.asarray(image.convert("RGB")))))
            count += 1
        if stream is None:
            raise OutputError(f"cannot write {path}: no frames to write")
        container.mux(stream.encode())
    return count


def _rate(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)


def frame_durations(count: int, fps: float, *, step: int = 1) -> list[int]:
    """How long each of ``count`` frames shows, in ms and in whole ``step`` ms, so that the mean is ``1/fps``.

    Frame ``i`` ends at ``(i + 1) / fps`` seconds rounded to the nearest ``step``: where ``1/fps``
    is not a whole number of steps (a GIF counts in 10 ms), the delays alternate, and never drift.

    >>> frame_durations(6, 24, step=10)
    [40, 40, 50, 40, 40, 40]
    """
    ends = [math.floor(index * 1000 / (fps * step) + 0.5) * step for index in range(count + 1)]
    return [end - begin for begin, end in pairwise(ends)]


def _write_pillow(frames: Iterable[Image.Image], path: Path, kind: str, *, fps: float, comment: str | None) -> int:
    images = [image.convert("RGB") for image in frames]  # Pillow writes an animation from a list
    if not images:
        raise OutputError(f"cannot write {path}: no frames to write")
    step = GIF_DELAY_MS if kind == "gif" else 1
    options: dict[str, Any] = {
        "save_all": True,
        "append_images": images[1:],
        "duration": frame_durations(len(images), fps, step=step),
        "loop": 0,
    }
    if kind == "gif" and comment is not None:
        options["comment"] = f"{METADATA_KEY}:{comment}"
    if kind == "webp":
        options.update(quality=90, method=4)
        if comment is not None:
            exif = Image.Exif()
            exif[0x010E] = f"{METADATA_KEY}:{comment}"
            options["exif"] = exif.tobytes()
    images[0].save(path, format=kind.upper(), **options)
    return len(images)


def _write_frames(frames: Iterable[Image.Image], path: Path, comment: str | None) -> int:
    path.mkdir()
    count = 0
    for count, image in enumerate(frames, start=1):
        save_image(image, path / f"{count - 1:06d}.png")
    if comment is not None:
        (path / PARAMS_FILE).write_text(comment)
    return count


def read_video_metadata(path: str | os.PathLike) -> dict[str, Any] | None:
    """The parameters :func:`write_animation` stored in an MP4, or ``None`` if it holds none."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            text = container.metadata.get("comment")
    except av.error.FFmpegError as error:
        raise ImageError(f"{os.fspath(path)} is not a video FFmpeg can read: {error}") from None
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
