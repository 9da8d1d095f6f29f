"""Images as the engine takes them: the frame, the guide and the mask as tensors.

The :class:`~inceptionism.engine.dreamer.Dreamer` works on tensors only; this is where a
path, a PIL image or an array becomes one: the frame scaled to ``max_size``, the guide to
:data:`GUIDE_MAX_SIZE`, the mask read as grey levels in 0..1 no larger than the frames.

>>> from inceptionism.io.images import sample_path
>>> pixels, loaded = frame_pixels(sample_path(), max_size=160)
>>> tuple(pixels.shape), pixels.dtype, loaded.original_size
((1, 3, 106, 160), torch.uint8, (451, 300))
"""

from __future__ import annotations

import torch
from torch import Tensor

from inceptionism.io.images import ImageInput, LoadedImage, load_image, to_tensor

GUIDE_MAX_SIZE = 512
"""A guide is read at most this large: its features, not its detail, are matched."""


def frame_pixels(image: ImageInput, *, max_size: int | None) -> tuple[Tensor, LoadedImage]:
    """``image`` as ``(1, 3, H, W)`` uint8 pixels scaled down to ``max_size``, and what was read."""
    loaded = load_image(image, max_size=max_size)
    return to_tensor(loaded.image, dtype=torch.uint8), loaded


def guide_pixels(guide: ImageInput | Tensor | None) -> Tensor | None:
    """The guide as ``(1, 3, H, W)`` float pixels, read at most :data:`GUIDE_MAX_SIZE` large."""
    if guide is None or isinstance(guide, Tensor):
        return guide
    return to_tensor(load_image(guide, max_size=GUIDE_MAX_SIZE).image)


def mask_values(mask: ImageInput | Tensor | None, *, max_size: int | None) -> Tensor | None:
    """The mask as ``(1, 1, H, W)`` grey levels in 0..1 (white dreams, black stays).

    ``max_size``: the frames' (a mask is resized to each frame, so it is read no larger).
    """
    if mask is None or isinstance(mask, Tensor):
        return mask
    grey = load_image(mask, max_size=max_size).image.convert("L").convert("RGB")
    return to_tensor(grey)[:, :1] / 255.0
