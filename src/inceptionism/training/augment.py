"""What a training image looks like each time it is seen: a random crop, a flip, a mild change of colour.

Suited to dreaming: crops from a third of the image to all of it (the parts of an object, and
the whole), mirror images, and colours changed little (strong colour jitter teaches a network
to ignore colour, and its dreams lose it). Every draw comes from the generator given, so an
epoch seeded alike is drawn alike.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

SCALE = (0.35, 1.0)  # share of the kept square's area a crop covers
RATIO = (3 / 4, 4 / 3)  # its width over its height
JITTER = 0.2  # brightness, contrast and saturation each change by at most this share
GREY = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def augmented(batch: Tensor, size: int, generator: torch.Generator) -> Tensor:
    """``(B, 3, S, S)`` uint8 squares as ``(B, 3, size, size)`` float crops in 0..255, each drawn anew."""
    crops = torch.stack([_random_crop(image, size, generator) for image in batch])
    flip = torch.rand(len(batch), generator=generator) < 0.5
    crops = torch.where(flip.view(-1, 1, 1, 1), crops.flip(3), crops)
    return _jittered(crops, generator)


def centred(batch: Tensor, size: int) -> Tensor:
    """``(B, 3, S, S)`` uint8 squares as their central ``size`` crops, float 0..255 (validation)."""
    start = (batch.shape[-1] - size) // 2
    return batch[..., start : start + size, start : start + size].float()


def _random_crop(image: Tensor, size: int, generator: torch.Generator) -> Tensor:
    side = image.shape[-1]
    draw = torch.rand(4, generator=generator).tolist()
    area = side * side * (SCALE[0] + (SCALE[1] - SCALE[0]) * draw[0])
    ratio = math.exp(math.log(RATIO[0]) + (math.log(RATIO[1]) - math.log(RATIO[0])) * draw[1])
    width = min(side, round(math.sqrt(area * ratio)))
    height = min(side, round(math.sqrt(area / ratio)))
    left, top = round((side - width) * draw[2]), round((side - height) * draw[3])
    crop = image[:, top : top + height, left : left + width].float().unsqueeze(0)
    return F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]


def _jittered(crops: Tensor, generator: torch.Generator) -> Tensor:
    factors = 1 + JITTER * (2 * torch.rand(3, len(crops), 1, 1, 1, generator=generator) - 1)
    brightness, contrast, saturation = factors
    crops = crops * brightness
    mean = crops.mean(dim=(1, 2, 3), keepdim=True)
    crops = (crops - mean) * contrast + mean
    grey = (crops * GREY).sum(1, keepdim=True)
    crops = (crops - grey) * saturation + grey
    return crops.clamp(0, 255)
