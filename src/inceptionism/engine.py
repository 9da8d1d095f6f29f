"""The optimisation loop: gradient ascent on the pixels, octave by octave, with jitter.

The engine sees only tensors: pixels ``(1, 3, H, W)`` as RGB values in 0..255, a
:class:`~inceptionism.models.Network` and an :class:`~inceptionism.objectives.Objective`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from inceptionism.checks import check_int, check_number
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.gradients import (
    gaussian_blur,
    laplacian_normalize,
    luminance_only,
    mean_abs,
    total_variation_gradient,
)
from inceptionism.models.network import Network
from inceptionism.objectives import SHIFT, Objective
from inceptionism.runtime import autocast

PIXEL_MAX = 255.0
_EPS = 1e-8


@dataclass(frozen=True)
class Schedule:
    """How the ascent proceeds; every field is checked when the schedule is made.

    Attributes:
        octaves: number of scales, the smallest first.
        octave_scale: size ratio between neighbouring octaves (> 1).
        steps: gradient steps per octave.
        step_size: step length in pixel levels (0..255) after normalising the gradient
            by its mean absolute value over the pixels it reaches.
        jitter: largest random shift in pixels applied before each step.
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

    octaves: int = 4
    octave_scale: float = 1.4
    steps: int = 10
    step_size: float = 1.5
    jitter: int = 32
    lap_levels: int = 0
    smooth: float = 0.0
    tv: float = 0.0
    keep_colors: bool = False
    tile: int | None = None
    tile_batch: int = 1

    def __post_init__(self) -> None:
        check_int("octaves", self.octaves, 1)
        check_int("steps", self.steps, 1)
        check_int("jitter", self.jitter, 0)
        check_int("lap_levels", self.lap_levels, 0)
        check_int("tile_batch", self.tile_batch, 1)
        if self.tile is not None:
            check_int("tile", self.tile, 1)
        for name in ("smooth", "tv"):
            value = getattr(self, name)
            check_number(name, value)
            if value < 0:
                raise InvalidParameterError(f"{name} must be non-negative, got {value!r}")
        if not isinstance(self.keep_colors, bool):
            raise InvalidParameterError(f"keep_colors must be True or False, got {self.keep_colors!r}")
        check_number("octave_scale", self.octave_scale)
        if not self.octave_scale > 1.0:
            raise InvalidParameterError(f"octave_scale must be > 1.0, got {self.octave_scale!r}")
        check_number("step_size", self.step_size)
        if not self.step_size > 0:
            raise InvalidParameterError(f"step_size must be > 0, got {self.step_size!r}")

    def octave_sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        """``(height, width)`` of each octave, the smallest first, the last the full size.

        >>> Schedule(octaves=3, octave_scale=2.0).octave_sizes(400, 300)
        [(100, 75), (200, 150), (400, 300)]
        """
        sizes = []
        for level in reversed(range(self.octaves)):
            factor = self.octave_scale**level
            sizes.append((max(1, round(height / factor)), max(1, round(width / factor))))
        return sizes

    def as_dict(self) -> dict[str, float]:
        """The schedule as plain data."""
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """Reported after every step.

    Attributes:
        octave: 1-based octave number (1 is the smallest scale).
        octaves: number of octaves.
        step: 1-based step within the octave.
        steps: steps per octave.
        loss: objective value at this step (before the update).
    """

    octave: int
    octaves: int
    step: int
    steps: int
    loss: float

    @property
    def done(self) -> int:
        """Steps finished so far, over all octaves."""
        return (self.octave - 1) * self.steps + self.step

    @property
    def total(self) -> int:
        """Steps in the whole run."""
        return self.octaves * self.steps


ProgressCallback = Callable[[Progress], None]


def check_tile(net: Network, tile: int | None) -> None:
    """Refuse tiles smaller than the network's smallest input."""
    if tile is not None and tile < net.min_size:
        raise InvalidParameterError(
            f"tile must be at least {net.min_size} px for {net.name} (its smallest input), got {tile}"
        )


def check_size(net: Network, schedule: Schedule, height: int, width: int) -> None:
    """Refuse images whose smallest octave the network cannot take, saying what would work."""
    check_tile(net, schedule.tile)
    if min(height, width) < net.min_size:
        raise ImageError(
            f"image is {width}x{height} px, too small for {net.name}: "
            f"it needs at least {net.min_size}x{net.min_size} px"
        )
    small_h, small_w = schedule.octave_sizes(height, width)[0]
    if min(small_h, small_w) < net.min_size:
        fitting = 1 + int(math.log(min(height, width) / net.min_size) / math.log(schedule.octave_scale))
        raise ImageError(
            f"with octaves={schedule.octaves} and octave_scale={schedule.octave_scale:g} the smallest "
            f"octave of this {width}x{height} image is {small_w}x{small_h} px, under the "
            f"{net.min_size} px {net.name} needs; use octaves <= {fitting} or a larger image"
        )


def resize(pixels: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of ``(B, C, H, W)`` to ``size`` (antialiased when shrinking)."""
    if tuple(pixels.shape[-2:]) == size:
        return pixels
    shrinking = size[0] < pixels.shape[-2]
    return F.interpolate(pixels, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def ascend(
    net: Network,
    pixels: Tensor,
    objective: Objective,
    schedule: Schedule,
    *,
    generator: torch.Generator,
    precision: str = "fp32",
    mask: Tensor | None = None,
    callback: ProgressCallback | None = None,
) -> tuple[Tensor, list[float]]:
    """Run DeepDream's gradient ascent on ``pixels``.

    At each octave, from the smallest, the image is the input at that scale plus the detail
    dreamed so far (upscaled). Each step shifts the image by a random jitter, takes the
    objective's gradient (whole, or tile by tile on a randomly shifted grid), filters it
    (smoothing, Laplacian normalisation, luminance projection), normalises it by its mean
    absolute value over the pixels it reaches, subtracts the weighted total-variation gradient, applies the mask and
    steps, clipping to 0..255.

    Args:
        net: the network, already on the device of ``pixels``.
        pixels: ``(1, 3, H, W)`` RGB in 0..255, float or uint8 (a quarter of the memory);
            not modified.
        objective: what to maximise; its layers must exist in ``net``.
        schedule: octaves, steps, step size, jitter, gradient filters, tiling.
        generator: source of the jitter offsets (a CPU generator; same seed, same result).
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (autocast of the network's forward).
        mask: ``(1, 1, H, W)`` in 0..1: how much each pixel may change (1 everywhere if ``None``).
        callback: called with a :class:`Progress` after each step.

    Returns:
        The dreamed ``(1, 3, H, W)`` pixels and the objective value at each step.
    """
    device = pixels.device
    sizes = schedule.octave_sizes(*pixels.shape[-2:])
    detail: Tensor | None = None
    losses: list[float] = []
    with net.tap(objective.layers) as extract:
        gradient_of = _TiledGradient(extract, objective, schedule, device, precision) if schedule.tile else None
        for octave, size in enumerate(sizes, start=1):
            last = octave == len(sizes)
            # The last octave's base is the input itself, added in place even if it is uint8.
            base = pixels if last else resize(pixels.float(), size)
            # The image of this octave is its base plus the detail so far, built in place.
            octave_mask = None if mask is None else resize(mask, size)
            image = torch.zeros(1, 3, *size, device=device) if detail is None else resize(detail, size).contiguous()
            if octave_mask is not None:  # upscaled detail must not spill into what stays
                image.mul_(octave_mask)
            image.add_(base).clamp_(0, PIXEL_MAX)
            detail = None
            if last:  # the largest buffers: drop what the last octave does not need
                base = pixels = None
            gradient = torch.empty_like(image)
            shifted = None if gradient_of else torch.empty_like(image, memory_format=torch.channels_last)
            for step in range(1, schedule.steps + 1):
                if gradient_of is not None:
                    loss = gradient_of(image, gradient, generator)
                else:
                    loss = _whole_gradient(
                        extract, objective, image, shifted, gradient, schedule.jitter, generator, device, precision
                    )
                _step(image, gradient, schedule, octave_mask)
                losses.append(loss)
                if callback is not None:
                    callback(Progress(octave, len(sizes), step, schedule.steps, loss))
            gradient = shifted = octave_mask = None  # freed before the next octave allocates its own
            if not last:
                detail = image.sub_(base)
    return image, losses


def _whole_gradient(
    extract: Callable[[Tensor], dict[str, Tensor]],
    objective: Objective,
    image: Tensor,
    shifted: Tensor,
    gradient: Tensor,
    jitter: int,
    generator: torch.Generator,
    device: torch.device,
    precision: str,
) -> float:
    """Objective's gradient for the whole image, jittered, written into ``gradient``."""
    dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    roll_into(image, shifted, dy, dx)
    shifted.requires_grad_(True)
    with autocast(device, precision):
        loss = objective({**extract(shifted), SHIFT: torch.tensor([dy, dx])})
    (shifted_gradient,) = torch.autograd.grad(loss, shifted)
    shifted.requires_grad_(False)
    roll_into(shifted_gradient, gradient, -dy, -dx)
    return float(loss.detach())


class _TiledGradient:
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
                loss = self.objective(self.extract(batch))
            # Objectives average over the batch: scale so every tile weighs the same in any chunk.
            (batch_gradient,) = torch.autograd.grad(loss * len(chunk), batch)
            batch.requires_grad_(False)
            for index, (y, x) in enumerate(chunk):
                paste_window(batch_gradient[index : index + 1], gradient, y, x)
            total += float(loss.detach()) * len(chunk)
        return total / len(origins)


def _step(image: Tensor, gradient: Tensor, schedule: Schedule, mask: Tensor | None) -> None:
    """Filter and normalise ``gradient`` in place, then move ``image`` along it."""
    if schedule.smooth > 0:
        gradient.copy_(gaussian_blur(gradient, schedule.smooth))
    if schedule.lap_levels > 0:
        gradient.copy_(laplacian_normalize(gradient, schedule.lap_levels))
    if schedule.keep_colors:
        gradient.copy_(luminance_only(gradient))
    # Normalise by the mean absolute gradient over the pixels it reaches: the step is step_size
    # levels on average there. For the usual dense objectives that is every pixel; a single
    # neuron reaches only its receptive field, which would otherwise get enormous steps.
    reached = torch.count_nonzero(gradient).clamp_min(1)
    gradient.mul_(schedule.step_size * reached / (torch.linalg.vector_norm(gradient, 1) + _EPS))
    if schedule.tv > 0:
        smoothing = total_variation_gradient(image)
        if schedule.keep_colors:
            smoothing = luminance_only(smoothing)
        weight = schedule.tv * schedule.step_size / float(mean_abs(smoothing) + _EPS)
        gradient.add_(smoothing, alpha=-weight)
    if mask is not None:
        gradient.mul_(mask)
    image.add_(gradient).clamp_(0, PIXEL_MAX)


def _windows(top: int, left: int, height: int, width: int, full_h: int, full_w: int):
    """Blocks of a ``height x width`` window at ``(top, left)`` that wraps around a full image.

    Yields ``(full_rows, full_cols, window_rows, window_cols)`` slice pairs, at most four.
    """
    for row_start, row_end, row_at in _spans(top % full_h, height, full_h):
        for col_start, col_end, col_at in _spans(left % full_w, width, full_w):
            yield (
                slice(row_start, row_end),
                slice(col_start, col_end),
                slice(row_at, row_at + row_end - row_start),
                slice(col_at, col_at + col_end - col_start),
            )


def _spans(start: int, length: int, full: int) -> list[tuple[int, int, int]]:
    first = min(length, full - start)
    spans = [(start, start + first, 0)]
    if first < length:
        spans.append((0, length - first, first))
    return spans


def copy_window(source: Tensor, target: Tensor, top: int, left: int) -> None:
    """``target`` = the window of ``source`` at ``(top, left)``, wrapping around its edges."""
    height, width = target.shape[-2:]
    for rows, cols, window_rows, window_cols in _windows(top, left, height, width, *source.shape[-2:]):
        target[..., window_rows, window_cols].copy_(source[..., rows, cols])


def paste_window(window: Tensor, target: Tensor, top: int, left: int) -> None:
    """Write ``window`` into ``target`` at ``(top, left)``, wrapping around its edges."""
    height, width = window.shape[-2:]
    for rows, cols, window_rows, window_cols in _windows(top, left, height, width, *target.shape[-2:]):
        target[..., rows, cols].copy_(window[..., window_rows, window_cols])


def roll_into(source: Tensor, target: Tensor, dy: int, dx: int) -> None:
    """``target[..., (i + dy) % H, (j + dx) % W] = source[..., i, j]`` without a temporary.

    The same as ``target.copy_(source.roll((dy, dx), dims=(-2, -1)))``, as block copies.
    """
    copy_window(source, target, -dy, -dx)


DEFAULT_TILE = 512
BACKWARD_OVERHEAD = 1.3  # measured: peak of a step over the saved tensors (gradients in flight)


def activation_bytes_per_pixel(
    net: Network, objective: Objective, *, device: torch.device, precision: str, probe: int = 96
) -> float:
    """Peak memory of one gradient step per input pixel, measured on two probe sizes.

    Tensors saved by autograd are summed (each storage once); the slope between a ``probe``
    and a ``2 * probe`` square removes what does not grow with the image (the weights); a
    measured factor adds the gradients in flight during backward.
    """

    def saved_bytes(side: int) -> int:
        storages: dict[int, int] = {}

        def pack(tensor: Tensor) -> Tensor:
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
            return tensor

        pixels = torch.full((1, 3, side, side), 128.0, device=device, requires_grad=True)
        with (
            torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor),
            net.tap(objective.layers) as extract,
            autocast(device, precision),
        ):
            objective(extract(pixels))
        return sum(storages.values())

    side = max(probe, net.min_size)
    small, large = saved_bytes(side), saved_bytes(2 * side)
    return BACKWARD_OVERHEAD * max(0.0, (large - small) / (3 * side * side))


def plan_tiles(
    bytes_per_pixel: float, height: int, width: int, *, budget: int, tile: int | None, min_size: int
) -> tuple[int | None, int]:
    """Choose ``(tile, tile_batch)`` so that one step's activations stay within ``budget`` bytes.

    With ``tile=None`` the whole image is used if it fits, else tiles of 512 px (halved while a
    single tile would not fit, down to the network's minimum). The batch is as many tiles as fit.

    >>> plan_tiles(1000.0, 4000, 6000, budget=2**30, tile=None, min_size=17)
    (512, 4)
    >>> plan_tiles(1000.0, 400, 600, budget=2**30, tile=None, min_size=17)
    (None, 1)
    """
    if tile is None:
        if bytes_per_pixel * height * width <= budget:
            return None, 1
        tile = max(DEFAULT_TILE, min_size)
        while bytes_per_pixel * tile * tile > budget and tile // 2 >= min_size:
            tile //= 2
    tiles = math.ceil(height / min(tile, height)) * math.ceil(width / min(tile, width))
    per_tile = bytes_per_pixel * min(tile, height) * min(tile, width)
    return tile, max(1, min(tiles, int(budget // max(per_tile, 1.0))))
