"""Uploaded files: copied to fixed names in the job's folder, within the size limits, then checked.

An upload's own file name is never used to build a path: an image is kept as
``<role>.<format>`` after Pillow has recognised it, a video as ``image.video``.
"""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from inceptionism.engine.runtime import give_back_freed_memory
from inceptionism.errors import ImageError
from inceptionism.io.rgb import pixel_layout
from inceptionism.io.video import probe
from inceptionism.web.memory import decode_large_images_apart

CHUNK = 1 << 20
RGB_BYTES = 3  # the pixel cap in bytes: that many pixels of 8-bit RGB


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

    The pixel cap is also a cap on the memory decoding takes: what the file decodes to (width x
    height x bands x bytes a band, 8 bytes a pixel for 16-bit RGBA) must fit in ``max_pixels``
    of 8-bit RGB. Both are told from the header, before anything is decoded; the image is then
    decoded once, to show that it can be (a JPEG at 1/8 scale), and that memory given back.

    Raises:
        UploadRefused: too large (413), too many pixels or bytes once decoded (413), or not an image (415).
    """
    scratch = folder / f"{role}.upload"
    copy_limited(source, scratch, limit, role)
    decode_large_images_apart()  # checks run on many threads: what each decodes is unmapped once freed
    try:
        with closing(Image.open(scratch)) as image:  # closed, its decoded pixels are freed at once
            fmt = (image.format or "img").lower()
            _check_decoded_size(image, role, max_pixels)
            image.draft(None, (1, 1))  # a JPEG is proven whole at 1/8 scale: every block is still decoded
            image.load()  # the whole image decodes: a damaged or truncated file is refused here
    except UploadRefused:
        scratch.unlink(missing_ok=True)
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, above this studio's
        scratch.unlink(missing_ok=True)
        raise UploadRefused(413, f"the uploaded {role} has too many pixels; {_too_many(max_pixels)}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        scratch.unlink(missing_ok=True)
        raise UploadRefused(
            415, f"the uploaded {role} is not an image Pillow can read (PNG, JPEG, WebP...), or it is damaged"
        ) from None
    finally:
        give_back_freed_memory()
    name = f"{role}.{fmt}"
    scratch.rename(folder / name)
    return name


def _check_decoded_size(image: Image.Image, role: str, max_pixels: int) -> None:
    """Refuse (413) an opened, not yet decoded, image of more than ``max_pixels``, or more bytes than their RGB."""
    width, height = image.size
    pixels = width * height
    if pixels > max_pixels:
        raise UploadRefused(
            413, f"the uploaded {role} is {width}x{height} px ({_megapixels(pixels)}); {_too_many(max_pixels)}"
        )
    layout = pixel_layout(image)
    decoded, most = pixels * layout.pixel_bytes, max_pixels * RGB_BYTES
    if decoded > most:
        fix = "save it as 8-bit" if layout.bits > 8 else "save it as 8-bit RGB"
        raise UploadRefused(
            413, f"the uploaded {role} decodes to {_megabytes(decoded)} ({_megapixels(pixels)} of {layout}); "
            f"this studio takes at most {_megabytes(most)} ({_megapixels(max_pixels)} of 8-bit RGB): "
            f"{fix} or scale it down"
        )  # fmt: skip


def _too_many(max_pixels: int) -> str:
    return f"this studio takes at most {_megapixels(max_pixels)}: scale it down"


def _megapixels(pixels: int) -> str:
    """``1.2 MP``, ``0.25 MP``: three significant digits.

    >>> _megapixels(1_200_000), _megapixels(250_000)
    ('1.2 MP', '0.25 MP')
    """
    return f"{_three_digits(pixels / 1e6)} MP"


def _megabytes(size: int) -> str:
    """``317 MB``, ``7.92 MB``, ``1200 MB``: three significant digits, or the whole megabytes.

    >>> _megabytes(316_800_000), _megabytes(7_920_000), _megabytes(1_200_000_000)
    ('317 MB', '7.92 MB', '1200 MB')
    """
    return f"{_three_digits(size / 1e6)} MB"


def _three_digits(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


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
