"""What a dream's ascent does: octaves, steps, step size, jitter, gradient filters and tiles."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from inceptionism.checks import check_int
from inceptionism.engine.options import OCTAVE_STEPS, OPTIONS, SIDE_LIMIT
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.models.network import Network

TILE_LIMIT = 4096
"""Most tiles one step may take: a tile small against a large image would take hours per step."""


@dataclass(frozen=True)
class Schedule:
    """How the ascent proceeds; every field is checked when the schedule is made.

    Attributes:
        octaves: number of scales, the smallest first.
        octave_scale: size ratio between neighbouring octaves (> 1).
        octave_sizes: the long side of each octave instead, smallest first; the last is the
            frame's own (the Dreamer scales the frame to it first).
        steps: gradient steps per octave.
        step_size: step length in pixel levels (0..255) after normalising the gradient
            by its mean absolute value over the pixels it reaches.
        jitter: largest random shift in pixels applied before each step.
        random_scale: largest relative rescaling before each step (0.1: 0.9x..1.1x).
        random_rotate: largest rotation in degrees before each step.
        lap_levels: normalise the gradient over this many Laplacian-pyramid bands (0: off).
        smooth: Gaussian blur of the gradient, sigma in pixels (0: off).
        tv: weight of the total-variation gradient relative to the objective's (0: off).
        keep_colors: step along luminance only, so the colours stay.
        tile: compute the gradient in square tiles of this side (``None``: whole image).
        tile_batch: tiles run through the network together.

    >>> Schedule(octave_scale=0.8)
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: octave_scale must be > 1.0, got 0.8
    """

    octaves: int = OPTIONS["octaves"].default
    octave_scale: float = OPTIONS["octave_scale"].default
    octave_sizes: tuple[int, ...] | None = None
    steps: int = OCTAVE_STEPS
    step_size: float = OPTIONS["step_size"].default
    jitter: int = OPTIONS["jitter"].default
    random_scale: float = OPTIONS["random_scale"].default
    random_rotate: float = OPTIONS["random_rotate"].default
    lap_levels: int = OPTIONS["lap_levels"].default
    smooth: float = OPTIONS["smooth"].default
    tv: float = OPTIONS["tv"].default
    keep_colors: bool = OPTIONS["keep_colors"].default
    tile: int | None = None
    tile_batch: int = 1

    def __post_init__(self) -> None:
        check_int("steps", self.steps, 1)  # the settings' steps may be None (chosen by mode); not here
        # The same checks and bounds as the settings: declared once, in OPTIONS.
        for field in fields(self):
            if field.name == "tile_batch":
                check_int("tile_batch", self.tile_batch, 1, TILE_LIMIT)
            else:
                object.__setattr__(self, field.name, OPTIONS[field.name].check(field.name, getattr(self, field.name)))

    def octave_shapes(self, height: int, width: int) -> list[tuple[int, int]]:
        """``(height, width)`` of each octave, the smallest first, the last the full size.

        >>> Schedule(octaves=3, octave_scale=2.0).octave_shapes(400, 300)
        [(100, 75), (200, 150), (400, 300)]
        """
        if self.octave_sizes is not None:
            return [_scaled(height, width, side / max(height, width)) for side in self.octave_sizes[:-1]] + [
                (height, width)
            ]
        sizes = []
        for level in reversed(range(self.octaves)):
            factor = self.octave_scale**level
            sizes.append((max(1, round(height / factor)), max(1, round(width / factor))))
        return sizes


def _scaled(height: int, width: int, factor: float) -> tuple[int, int]:
    return max(1, round(height * factor)), max(1, round(width * factor))


def check_tile(net: Network, tile: int | None) -> None:
    """Refuse tiles smaller than the network's smallest input."""
    if tile is not None and tile < net.min_size:
        raise InvalidParameterError(
            f"tile must be at least {net.min_size} px for {net.name} (its smallest input), got {tile}",
            argument="tile",
        )


def check_size(net: Network, schedule: Schedule, height: int, width: int) -> None:
    """Refuse images whose smallest octave the network cannot take, saying what would work."""
    check_tile(net, schedule.tile)
    if min(height, width) < net.min_size:
        raise ImageError(
            f"image is {width}x{height} px, too small for {net.name}: "
            f"it needs at least {net.min_size}x{net.min_size} px"
        )
    if max(height, width) > SIDE_LIMIT:
        raise ImageError(
            f"image is {width}x{height} px, over the {SIDE_LIMIT} px limit on a side; scale it down (max_size)",
            argument="max_size",
        )
    if schedule.tile is not None:
        tiles = math.ceil(height / min(schedule.tile, height)) * math.ceil(width / min(schedule.tile, width))
        if tiles > TILE_LIMIT:
            smallest = math.ceil(math.sqrt(height * width / TILE_LIMIT))
            raise InvalidParameterError(
                f"tile {schedule.tile} splits this {width}x{height} image into {tiles} tiles, over the "
                f"{TILE_LIMIT} a step may take; use tile >= {smallest}",
                argument="tile",
            )
    small_h, small_w = schedule.octave_shapes(height, width)[0]
    if min(small_h, small_w) < net.min_size:
        fitting = 1 + int(math.log(min(height, width) / net.min_size) / math.log(schedule.octave_scale))
        raise ImageError(
            f"with octaves={schedule.octaves} and octave_scale={schedule.octave_scale:g} the smallest "
            f"octave of this {width}x{height} image is {small_w}x{small_h} px, under the "
            f"{net.min_size} px {net.name} needs; use octaves <= {fitting} or a larger image",
            argument="octaves",
        )
