"""Image input and output: reading anything Pillow reads into RGB, writing with parameters inside.

Kept apart from the compute: the engine only sees tensors.
"""

from __future__ import annotations

import io
import json
import logging
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, PngImagePlugin
from torch import Tensor

from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import atomic_writer
from inceptionism.io.rgb import draft_size, from_array, made_rgb, turn_of, upright_size

logger = logging.getLogger(__name__)
PREVIEW_SIDE = 320

ImageInput = str | os.PathLike | Image.Image | np.ndarray
"""A path, a PIL image or an ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` array."""

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
METADATA_KEY = "inceptionism"
_EXIF_IMAGE_DESCRIPTION = 0x010E


@dataclass(frozen=True)
class LoadedImage:
    """An input image made RGB, with what was done to it.

    Attributes:
        image: 8-bit RGB image, at most ``max_size`` on its long side.
        name: file name it came from, or ``None`` for in-memory input.
        original_size: ``(width, height)`` before any scaling.
    """

    image: Image.Image
    name: str | None
    original_size: tuple[int, int]

    @property
    def scaled(self) -> bool:
        """Whether the image was scaled down to fit ``max_size``."""
        return self.image.size != self.original_size


def sample_path() -> Path:
    """Path of the bundled sample photo (Chelsea the cat, CC0, from scikit-image)."""
    return Path(str(resources.files("inceptionism").joinpath("data/sample.jpg")))


def load_image(source: ImageInput, *, max_size: int | None = None) -> LoadedImage:
    """Read ``source`` as 8-bit RGB, upright, no larger than ``max_size`` on its long side.

    EXIF orientation is applied; greyscale, palette, 16-bit, float and CMYK images are
    converted; transparency is composited over white. An image is scaled down before it is
    made RGB, and a JPEG file is decoded at 1/2, 1/4 or 1/8 scale when that is still
    :data:`~inceptionism.io.rgb.REDUCING_GAP` times the size asked: a large photo has no full-size RGB or RGBA copy
    made only to be scaled down.

    Args:
        source: a path, a PIL image or a numpy array (uint8, uint16, or float in 0..1).
        max_size: longest side allowed; larger images are scaled down (Lanczos).

    Returns:
        The image and what was done to it.

    Raises:
        ImageError: the file is missing, empty, not an image, truncated or too large to be safe.

    >>> loaded = load_image(sample_path(), max_size=200)
    >>> loaded.image.size, loaded.original_size
    ((200, 133), (451, 300))
    """
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1):
        raise InvalidParameterError(f"max_size must be a positive integer, got {max_size!r}")
    if isinstance(source, Image.Image):
        turn = turn_of(source)
        name, original = None, upright_size(source.size, turn)
        image = made_rgb(source, scaled_size(source.size, max_size), turn)
        if image is source:
            image = source.copy()
    elif isinstance(source, np.ndarray):
        picture = from_array(source)
        name, original = None, picture.size
        image = made_rgb(picture, scaled_size(picture.size, max_size))
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        image, original = _read(Path(source), max_size=max_size)
    else:
        raise ImageError(f"cannot use {type(source).__name__} as an image; give a path, a PIL image or an array")
    if image.size != original:
        logger.info("scaled %s from %dx%d to %dx%d (max size %d)", name or "image", *original, *image.size, max_size)
    return LoadedImage(image=image, name=name, original_size=original)


def scaled_size(size: tuple[int, int], max_size: int | None) -> tuple[int, int]:
    """``(width, height)`` scaled down so that its long side is at most ``max_size`` (``None``: as is).

    >>> scaled_size((451, 300), 200)
    (200, 133)
    """
    if max_size is None or max(size) <= max_size:
        return size
    ratio = max_size / max(size)
    return max(1, round(size[0] * ratio)), max(1, round(size[1] * ratio))


def image_size(path: str | os.PathLike, *, max_size: int | None = None) -> tuple[int, int]:
    """The ``(width, height)`` :func:`load_image` gives the image file at ``path``, read from its header only.

    Raises:
        ImageError: as :func:`load_image` does for a file it cannot open.
    """
    path = Path(path)
    _check_readable(path)
    try:
        with Image.open(path) as opened:
            size = upright_size(opened.size, turn_of(opened))
    except Image.UnidentifiedImageError:
        raise ImageError(f"{path} is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path} is damaged or truncated: {error}") from None
    return scaled_size(size, max_size)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise ImageError(f"input not found: {path}")
    if path.is_dir():
        raise ImageError(f"input is a directory, not an image: {path}")
    if path.stat().st_size == 0:
        raise ImageError(f"input is an empty file: {path}")
    if not os.access(path, os.R_OK):
        raise ImageError(f"cannot read {path}: permission denied")


def _read(path: Path, *, max_size: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    _check_readable(path)
    return _decoded(path, str(path), max_size=max_size)


def image_bytes(source: ImageInput) -> bytes:
    """``source`` as the bytes of an image file, checked to be readable (what travels to a worker).

    A file's own bytes; a PIL image or an array encoded as PNG.

    Raises:
        ImageError: as :func:`load_image` does.
    """
    loaded = load_image(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    return encode_image(loaded.image, "PNG")


def decode_image(data: bytes, name: str) -> Image.Image:
    """The encoded image ``data`` (the bytes of the file ``name``) as 8-bit RGB, upright.

    Raises:
        ImageError: naming ``name``, as :func:`load_image` does for a file.
    """
    if not data:
        raise ImageError(f"input is an empty file: {name}")
    return _decoded(io.BytesIO(data), name)[0]


def _decoded(
    source: Path | io.BytesIO, name: str, *, max_size: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """The image in ``source`` as :func:`load_image` gives it, and its upright size before scaling."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as opened:
                turn = turn_of(opened)
                size = scaled_size(opened.size, max_size)
                original = upright_size(opened.size, turn)
                drafted = opened.draft(None, draft_size(size)) if size != opened.size else None  # JPEG only
                opened.load()
                return made_rgb(opened, size, turn, box=drafted[1] if drafted else None), original
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name} is refused as a possible decompression bomb: {error}") from None
    except Image.UnidentifiedImageError:
        raise ImageError(f"{name} is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{name} is damaged or truncated: {error}") from None


def to_tensor(image: Image.Image, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """RGB image to a ``(1, 3, H, W)`` tensor of pixel values in 0..255 (float, or uint8)."""
    levels = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).unsqueeze(0)
    if dtype == torch.uint8:
        return levels.contiguous()
    # One float allocation: the uint8 view is converted while it is copied.
    return torch.empty(levels.shape, dtype=dtype).copy_(levels)


def to_image(pixels: Tensor) -> Image.Image:
    """A ``(1, 3, H, W)`` or ``(3, H, W)`` tensor of 0..255 values to an 8-bit RGB image."""
    if pixels.dim() == 4:
        pixels = pixels[0]
    levels = pixels.detach().round().clamp_(0, 255).to(torch.uint8)  # one float temporary
    return Image.fromarray(levels.permute(1, 2, 0).cpu().numpy(), "RGB")


def preview_jpeg(pixels: Tensor, side: int = PREVIEW_SIDE) -> bytes:
    """A small JPEG (long side at most ``side``) of ``pixels`` ``(1, 3, H, W)`` in 0..255: a live preview."""
    array = pixels[0].detach().float().clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    image = Image.fromarray(array)
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def output_format(path: str | os.PathLike) -> str:
    """Pillow format name for an output path, from its extension."""
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        allowed = ", ".join(FORMATS)
        raise OutputError(
            f"cannot write {os.fspath(path)}: unknown image extension {suffix or '(none)'!r}; use one of {allowed}"
        ) from None


def save_image(image: Image.Image, path: str | os.PathLike, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``image`` atomically; the format follows the extension (PNG, JPEG, WebP).

    ``metadata`` is stored as JSON: a PNG text chunk named ``inceptionism``, or the EXIF
    ImageDescription of a JPEG or WebP; :func:`read_metadata` reads it back.

    Raises:
        OutputError: unknown extension or the file cannot be written.
    """
    path = Path(path)
    data = encode_image(image, output_format(path), metadata=metadata, name=os.fspath(path))
    with atomic_writer(path) as handle:
        handle.write(data)
    return path


def encode_image(
    image: Image.Image, fmt: str = "PNG", *, metadata: dict[str, Any] | None = None, name: str = "the image"
) -> bytes:
    """``image`` encoded as ``fmt`` (``PNG``, ``JPEG``, ``WEBP``), ``metadata`` stored as :func:`save_image` does.

    Raises:
        OutputError: the image cannot be encoded (naming ``name``).
    """
    options: dict[str, Any] = {}
    if fmt == "JPEG":
        options.update(quality=95, subsampling=0)
    elif fmt == "WEBP":
        options.update(quality=95, method=4)
    if metadata is not None:
        text = json.dumps(metadata, sort_keys=True)
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            info.add_text(METADATA_KEY, text)
            info.add_text("Software", f"inceptionism {metadata.get('version', '')}".strip())
            options["pnginfo"] = info
        else:
            exif = Image.Exif()
            exif[_EXIF_IMAGE_DESCRIPTION] = f"{METADATA_KEY}:{text}"
            options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt, **options)
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write {name}: {error}") from None
    return buffer.getvalue()


def read_metadata(path: str | os.PathLike) -> dict[str, Any] | None:
    """The parameters :func:`save_image` stored in ``path``, or ``None`` if it holds none.

    Raises:
        ImageError: ``path`` cannot be read as an image.
    """
    path = Path(path)
    _check_readable(path)
    try:
        with Image.open(path) as image:
            text = image.info.get(METADATA_KEY)
            comment = image.info.get("comment", b"")  # a GIF's
            if text is None and isinstance(comment, bytes) and comment.startswith(f"{METADATA_KEY}:".encode()):
                text = comment.decode("utf-8", "replace")[len(METADATA_KEY) + 1 :]
            if text is None:
                description = image.getexif().get(_EXIF_IMAGE_DESCRIPTION, "")
                prefix = f"{METADATA_KEY}:"
                text = description[len(prefix) :] if description.startswith(prefix) else None
    except Image.UnidentifiedImageError:
        raise ImageError(f"{path} is not an image Pillow can read") from None
    except OSError as error:
        raise ImageError(f"{path} is damaged or truncated: {error}") from None
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ImageError(f"{path} has damaged inceptionism metadata") from None
