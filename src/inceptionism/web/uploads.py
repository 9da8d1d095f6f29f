"""Uploaded files: copied to fixed names in the job's folder, within the size limits, then checked.

An upload's own file name is never used to build a path: an image is kept as
``<role>.<format>`` after Pillow has recognised it, a video as ``image.video``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from inceptionism.errors import ImageError
from inceptionism.io.video import probe

CHUNK = 1 << 20


class UploadRefused(Exception):
    """An upload the studio does not take, with the HTTP status that says why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def copy_limited(source: BinaryIO, target: Path, limit: int, role: str) -> int:
    """Copy ``source`` to ``target``, refusing (413) more than ``limit`` bytes; the bytes copied."""
    copied = 0
    with target.open("wb") as handle:
        while chunk := source.read(CHUNK):
            copied += len(chunk)
            if copied > limit:
                handle.close()
                target.unlink(missing_ok=True)
                raise UploadRefused(
                    413, f"the uploaded {role} is larger than this studio's limit of {limit // 2**20} MB"
                )
            handle.write(chunk)
    if copied == 0:
        target.unlink(missing_ok=True)
        raise UploadRefused(415, f"the uploaded {role} is an empty file")
    return copied


def keep_image(source: BinaryIO, folder: Path, role: str, *, limit: int, max_pixels: int) -> str:
    """Keep an uploaded image in ``folder``; its file name there.

    Raises:
        UploadRefused: too large (413), too many pixels (413), or not an image (415).
    """
    scratch = folder / f"{role}.upload"
    copy_limited(source, scratch, limit, role)
    too_many = f"this studio takes at most {_megapixels(max_pixels)}: scale it down"
    try:
        with Image.open(scratch) as image:
            width, height = image.size
            fmt = (image.format or "img").lower()
            if width * height > max_pixels:
                raise UploadRefused(
                    413, f"the uploaded {role} is {width}x{height} px ({_megapixels(width * height)}); {too_many}"
                )
            image.load()  # the whole image decodes: a damaged or truncated file is refused here
    except UploadRefused:
        scratch.unlink(missing_ok=True)
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, above this studio's
        scratch.unlink(missing_ok=True)
        raise UploadRefused(413, f"the uploaded {role} has too many pixels; {too_many}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        scratch.unlink(missing_ok=True)
        raise UploadRefused(
            415, f"the uploaded {role} is not an image Pillow can read (PNG, JPEG, WebP...), or it is damaged"
        ) from None
    name = f"{role}.{fmt}"
    scratch.rename(folder / name)
    return name


def _megapixels(pixels: int) -> str:
    """``1.2 MP``, ``0.25 MP``: three significant digits.

    >>> _megapixels(1_200_000), _megapixels(250_000)
    ('1.2 MP', '0.25 MP')
    """
    return f"{pixels / 1e6:.3g} MP"


def keep_video(source: BinaryIO, folder: Path, *, limit: int, max_frames: int) -> str:
    """Keep an uploaded video in ``folder``; its file name there.

    Raises:
        UploadRefused: too large (413), too many frames (413), or not a video (415).
    """
    path = folder / "image.video"
    copy_limited(source, path, limit, "video")
    try:
        info = probe(path)
    except ImageError as error:
        path.unlink(missing_ok=True)
        raise UploadRefused(415, str(error).replace(str(path), "the uploaded video")) from None
    if info.frames > max_frames:
        path.unlink(missing_ok=True)
        raise UploadRefused(413, f"the video has {info.frames} frames; this studio takes at most {max_frames}")
    return path.name


def discard(folder: Path) -> None:
    """Remove a job folder whose job was refused."""
    shutil.rmtree(folder, ignore_errors=True)
