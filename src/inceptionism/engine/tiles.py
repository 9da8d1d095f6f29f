"""The gradient computed over square tiles on a grid shifted at random every step."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from inceptionism.engine.runtime import autocast
from inceptionism.engine.schedule import Schedule
from inceptionism.engine.windows import copy_window, paste_window
from inceptionism.objectives import Objective


class TiledGradient:
    """Objective's gradient computed over square tiles, a batch of tiles per forward pass.

    The tile grid wraps around the image and is shifted by a random offset every step, so
    seams never stay in one place (which also serves as jitter). Where the wrapped grid
    overlaps itself, the later tile's gradient is kept.
    """

    def __init__(
        self,
        extract: Callable[[Tensor], dict[str, Tensor]],
        objective: Objective,
        schedule: Schedule,
        device: torch.device,
        precision: str,
    ) -> None:
        self.extract, self.objective, self.device, self.precision = extract, objective, device, precision
        self.tile, self.batch = schedule.tile or 0, schedule.tile_batch
        self.tiles: Tensor | None = None  # the batch buffer, reused while the size stays

    def __call__(self, image: Tensor, gradient: Tensor, generator: torch.Generator) -> float:
        """Write the objective's gradient for ``image`` into ``gradient``; return the mean tile value."""
        height, width = image.shape[-2:]
        tile_h, tile_w = min(self.tile, height), min(self.tile, width)
        top, left = (int(torch.randint(0, limit, (1,), generator=generator)) for limit in (height, width))
        origins = [
            ((top + row * tile_h) % height, (left + col * tile_w) % width)
            for row in range(math.ceil(height / tile_h))
            for col in range(math.ceil(width / tile_w))
        ]
        shape = (min(self.batch, len(origins)), 3, tile_h, tile_w)
        if self.tiles is None or self.tiles.shape != shape:
            self.tiles = torch.empty(shape, device=image.device).contiguous(memory_format=torch.channels_last)
        tiles = self.tiles
        total = 0.0
        for start in range(0, len(origins), len(tiles)):
            chunk = origins[start : start + len(tiles)]
            batch = tiles[: len(chunk)]
            with torch.no_grad():
                for index, (y, x) in enumerate(chunk):
                    copy_window(image, batch[index : index + 1], y, x)
            batch.requires_grad_(True)
            with autocast(self.device, self.precision):
                # One value per tile, summed: every tile weighs the same in any chunk.
                loss = self.objective.per_item(self.extract(batch)).sum()
            (batch_gradient,) = torch.autograd.grad(loss, batch)
            batch.requires_grad_(False)
            for index, (y, x) in enumerate(chunk):
                paste_window(batch_gradient[index : index + 1], gradient, y, x)
            total += float(loss.detach())
        return total / len(origins)
