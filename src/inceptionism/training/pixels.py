"""The training images in memory, decoded once: a square of each, a little larger than the crops.

Decoding a photo costs more than a training step of SqueezeNet's upper layers, so every
image is decoded once, shrunk (JPEG's draft mode decodes at a fraction of the size) and kept
as 8-bit RGB; each epoch crops, flips and colours these anew.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import torch
from PIL import Image, ImageOps
from torch import Tensor

MARGIN = 8 / 7
"""The kept square's side over the crop's: 256 px kept for 224 px crops, ImageNet's custom."""


def kept_side(size: int) -> int:
    """The side of the squares kept for crops of ``size`` px.

    >>> kept_side(224)
    256
    """
    return round(size * MARGIN)


def decode(path: str | os.PathLike, side: int) -> Tensor:
    """The image at ``path`` as ``(3, side, side)`` uint8 RGB: its shorter side scaled to ``side``, centred."""
    with Image.open(path) as image:
        image.draft("RGB", (side, side))  # JPEG: decode at the smallest scale still larger than side
        image = ImageOps.exif_transpose(image).convert("RGB")
        scale = side / min(image.size)
        width, height = max(side, round(image.width * scale)), max(side, round(image.height * scale))
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        left, top = (width - side) // 2, (height - side) // 2
        square = image.crop((left, top, left + side, top + side))
    return torch.frombuffer(bytearray(square.tobytes()), dtype=torch.uint8).view(side, side, 3).permute(2, 0, 1)


def decode_all(paths: Sequence[str | os.PathLike], side: int, done: Callable[[], None] | None = None) -> Tensor:
    """Every image of ``paths`` as ``(N, 3, side, side)`` uint8; ``done()`` after each."""
    pixels = torch.empty((len(paths), 3, side, side), dtype=torch.uint8)
    for index, path in enumerate(paths):
        pixels[index] = decode(path, side)
        if done is not None:
            done()
    return pixels
