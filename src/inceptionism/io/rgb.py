"""Any image Pillow reads made 8-bit RGB and upright, scaled down before it is converted.

A large photo gets no full-size RGB or RGBA copy made only to be scaled down: a JPEG is
decoded at a fraction of its size (draft mode), other images are resized in their own mode
(one band for grey), transparency is pasted over white, and 16-bit values become 8-bit a few
rows at a time. :func:`pixel_layout` tells what a file's pixels decode to, for a cap on
decoded bytes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image

from inceptionism.errors import ImageError

REDUCING_GAP = 3.0
"""A scaled image is first reduced by a whole factor to no less than this many times its new size, then resampled."""
_WHITE = (255, 255, 255)
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""What makes an image upright, by its EXIF orientation (as ``ImageOps.exif_transpose`` turns it)."""
_QUARTER_TURNS = frozenset(_TURNS[orientation] for orientation in (5, 6, 7, 8))  # width and height swap
_ORIENTATION_KEYS = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")
_ROWS = 512  # rows of a 16-bit image made 8-bit at a time
_MODE_BITS = {"I": 32, "F": 32, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16}
_BAND_NAMES = {"1": "grey", "L": "grey", "I": "grey", "F": "grey", "LA": "grey+alpha", "La": "grey+alpha",
               "P": "palette", "PA": "palette+alpha", "RGBa": "RGBA"}  # fmt: skip


@dataclass(frozen=True)
class PixelLayout:
    """How the pixels of an image file decode: ``bands`` samples of ``bits`` bits each.

    Attributes:
        name: the bands as a person names them (``RGB``, ``RGBA``, ``grey``, ``grey+alpha``...).
        bands: samples per pixel.
        bits: bits per sample (at least 8: smaller samples take a byte each once decoded).
    """

    name: str
    bands: int
    bits: int

    @property
    def pixel_bytes(self) -> int:
        """Bytes a decoded pixel takes."""
        return self.bands * self.bits // 8

    def __str__(self) -> str:
        return f"{self.bits}-bit {self.name}"


def pixel_layout(image: Image.Image) -> PixelLayout:
    """How the pixels of ``image`` decode, told by the file's header while ``image`` is not loaded.

    Pillow decodes a 16-bit RGB or RGBA PNG to 8 bits a sample; the depth of the file itself is
    read from the decoder's raw mode, so that a file can be refused before it is decoded.

    >>> str(pixel_layout(Image.new("RGBA", (2, 2)))), pixel_layout(Image.new("I;16", (2, 2))).pixel_bytes
    ('8-bit RGBA', 2)
    """
    bits = _MODE_BITS.get(image.mode, 8)
    for tile in getattr(image, "tile", None) or ():  # an image in memory has no file to tell more
        raw = tile.args if isinstance(tile.args, str) else tile.args[0] if isinstance(tile.args, tuple) else None
        if isinstance(raw, str) and (depth := re.search(r";(\d+)", raw)):
            bits = max(bits, int(depth[1]))
    base = image.mode.split(";")[0]
    return PixelLayout(_BAND_NAMES.get(base, base), len(image.getbands()), bits)


def draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """The least size a JPEG may be decoded at to be scaled to ``size``: what a Lanczos resize reduces to first."""
    return math.ceil(size[0] * REDUCING_GAP), math.ceil(size[1] * REDUCING_GAP)


def turn_of(image: Image.Image) -> Image.Transpose | None:
    """What turns ``image`` upright, from the EXIF (or XMP) orientation stored before its pixels.

    An ``eXIf`` chunk after a PNG's pixel data is not looked for (a PNG's own ``getexif()``
    decodes the whole image to find one), so the header tells the size :func:`load_image` gives.
    """
    return _TURNS.get(Image.Image.getexif(image).get(ExifTags.Base.Orientation, 1))


def upright_size(size: tuple[int, int], turn: Image.Transpose | None) -> tuple[int, int]:
    """The size of an image of ``size`` once ``turn`` (from :func:`turn_of`) is applied."""
    return (size[1], size[0]) if turn in _QUARTER_TURNS else size


def made_rgb(
    image: Image.Image,
    size: tuple[int, int],
    turn: Image.Transpose | None = None,
    *,
    box: tuple[float, float, float, float] | None = None,
) -> Image.Image:
    """``image`` made 8-bit RGB at ``size`` (before ``turn``), then turned upright; ``image`` itself if it already is.

    Scaled before it is expanded: greyscale stays one band until it is small, and an image with
    alpha is composited straight into the image it becomes. ``box``: the part of ``image`` that
    holds the picture (a JPEG decoded at a reduced scale can end in a part pixel).
    """
    flat = _flattened(image)
    if flat.size != size:
        flat = flat.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
    if flat.mode != "RGB":
        flat = flat.convert("RGB")
    if turn is None:
        return flat
    upright = flat.transpose(turn)
    for key in _ORIENTATION_KEYS:  # turned once: nothing is left to turn it again
        upright.info.pop(key, None)
    return upright


def _flattened(image: Image.Image) -> Image.Image:
    """``image`` at its own size as 8-bit ``L`` or ``RGB`` without alpha (``image`` itself if it is one)."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "F":  # float images come in 0..1 or in 0..255
        array = np.nan_to_num(np.asarray(image, dtype=np.float64))
        return from_array((array / (255.0 if array.max(initial=0) > 1 else 1.0)).clip(0, 1))
    if image.mode.startswith("I"):  # integer greyscale: Pillow's modes for 16-bit files
        return _grey_levels(image)
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("LA", "RGBA"):  # over white: alpha_composite's pixels, without its three RGBA copies
        flat = Image.new(image.mode[:-1], image.size, _WHITE[: len(image.mode) - 1])
        flat.paste(image, mask=image)
        return flat
    if image.mode in ("PA", "La", "RGBa"):
        return _flattened(image.convert("RGBA"))
    return image.convert("RGB")


def _grey_levels(image: Image.Image) -> Image.Image:
    """Integer greyscale (16-bit, or 32-bit clipped to 16) as 8-bit ``L``, a band of rows at a time."""
    width, height = image.size
    levels = np.empty((height, width), np.uint8)
    for top in range(0, height, _ROWS):
        levels[top : top + _ROWS] = _eight_bit(np.asarray(image.crop((0, top, width, min(height, top + _ROWS)))))
    return Image.fromarray(levels)


def _eight_bit(values: np.ndarray) -> np.ndarray:
    """16-bit levels (integers, clipped to 0..65535) as 8-bit: ``round(value / 257)``, in integers.

    No quotient ends in exactly .5 (257 is odd), so rounding half up is rounding.

    >>> _eight_bit(np.array([0, 128, 129, 32896, 65535, 70000, -3])).tolist()
    [0, 0, 1, 128, 255, 255, 0]
    """
    wide = np.clip(values, 0, 65535).astype(np.uint32)
    return ((wide * 2 + 257) // 514).astype(np.uint8)


def from_array(array: np.ndarray) -> Image.Image:
    """The array's pixels as an 8-bit ``L``, ``RGB`` or ``RGBA`` image."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    if array.dtype == np.uint8:
        data = array
    elif array.dtype == np.uint16 or (np.issubdtype(array.dtype, np.integer) and array.max(initial=0) > 255):
        data = _eight_bit(array)
    elif np.issubdtype(array.dtype, np.integer):
        data = array.clip(0, 255).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise ImageError("a float image array must hold finite values in 0..1")
        data = (array * 255.0).round().astype(np.uint8)
    else:
        raise ImageError(f"unsupported image array dtype {array.dtype}")
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(data))
