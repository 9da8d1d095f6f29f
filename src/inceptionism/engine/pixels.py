"""Pixel conventions: RGB values in 0..255 as ``(B, 3, H, W)`` tensors, resized and recoloured."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

PIXEL_MAX = 255.0
LUMA = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights: Y = 0.299 R + 0.587 G + 0.114 B."""


def resize(pixels: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of ``(B, C, H, W)`` to ``size`` (antialiased when shrinking)."""
    if tuple(pixels.shape[-2:]) == size:
        return pixels
    shrinking = size[0] < pixels.shape[-2]
    return F.interpolate(pixels, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def luma(pixels: Tensor) -> Tensor:
    """ITU-R BT.601 luminance ``(B, 1, H, W)`` of RGB pixels ``(B, 3, H, W)``."""
    weights = torch.tensor(LUMA, dtype=torch.float32, device=pixels.device).view(1, 3, 1, 1)
    return (pixels.float() * weights).sum(1, keepdim=True)


def keep_chroma(dreamed: Tensor, original: Tensor) -> Tensor:
    """``dreamed``'s luminance with ``original``'s chroma (YCbCr), as float pixels in 0..255.

    Replacing the Y of YCbCr and converting back moves R, G and B alike by the change in Y.

    >>> grey, red = torch.full((1, 3, 1, 1), 100.0), torch.tensor([200.0, 0.0, 0.0]).view(1, 3, 1, 1)
    >>> [round(value, 3) for value in keep_chroma(grey, red).flatten().tolist()]
    [240.2, 40.2, 40.2]
    """
    return (original.float() + (luma(dreamed) - luma(original))).clamp_(0, PIXEL_MAX)
