"""Moving a frame: zoom about the centre, rotation and shift, sub-pixel, at the same size.

The infinite zoom feeds each dreamed frame back after a small move; bilinear sampling at
fractional positions makes the move smooth (no jumps from rounding to whole pixels), and
the border is extended where the move uncovers it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def move(pixels: Tensor, *, zoom: float = 1.0, rotate: float = 0.0, shift: tuple[float, float] = (0.0, 0.0)) -> Tensor:
    """``pixels`` ``(B, C, H, W)`` zoomed, rotated and shifted, at the same size.

    The zoom by ``zoom`` is about the centre, the rotation by ``rotate`` degrees anticlockwise,
    the shift by ``shift`` ``(dx, dy)`` pixels; the result is cropped back to ``(H, W)``.

    >>> frame = torch.arange(16.0).view(1, 1, 4, 4)
    >>> torch.equal(move(frame), frame)
    True
    >>> move(frame, shift=(1.0, 0.0))[0, 0, 0].tolist()  # the content moves one pixel right
    [0.0, 0.0, 1.0, 2.0]
    """
    if zoom == 1.0 and rotate == 0.0 and shift == (0.0, 0.0):
        return pixels
    batch, _, height, width = pixels.shape
    angle = math.radians(rotate)
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    # affine_grid maps output positions (in -1..1 of each side) to where they sample the input:
    # the inverse of the move. Aspect ratio is kept by rotating in pixel units.
    aspect = width / height
    theta = torch.tensor(
        [
            [cos, -sin / aspect, -2 * shift[0] / width],
            [sin * aspect, cos, -2 * shift[1] / height],
        ],
        dtype=torch.float32,
        device=pixels.device,
    )
    # The shift is applied after the zoom and rotation about the centre: undo it first.
    theta[:, 2] = theta[:, :2] @ theta[:, 2]
    grid = F.affine_grid(theta.expand(batch, 2, 3), [batch, 1, height, width], align_corners=False)
    return F.grid_sample(pixels.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
