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

from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.models.network import Network
from inceptionism.objectives import Objective
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
            by its mean absolute value.
        jitter: largest random shift in pixels applied before each step.

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

    def __post_init__(self) -> None:
        _check_int("octaves", self.octaves, 1)
        _check_int("steps", self.steps, 1)
        _check_int("jitter", self.jitter, 0)
        _check_number("octave_scale", self.octave_scale)
        if not self.octave_scale > 1.0:
            raise InvalidParameterError(f"octave_scale must be > 1.0, got {self.octave_scale!r}")
        _check_number("step_size", self.step_size)
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


def _check_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidParameterError(f"{name} must be a finite number, got {value!r}")


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        relation = "non-negative" if minimum == 0 else f">= {minimum}"
        raise InvalidParameterError(f"{name} must be {relation}, got {value}")


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


def check_size(net: Network, schedule: Schedule, height: int, width: int) -> None:
    """Refuse images whose smallest octave the network cannot take, saying what would work."""
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
    callback: ProgressCallback | None = None,
) -> tuple[Tensor, list[float]]:
    """Run DeepDream's gradient ascent on ``pixels``.

    At each octave, from the smallest, the image is the input at that scale plus the detail
    dreamed so far (upscaled). Each step shifts the image by a random jitter, follows the
    objective's gradient normalised by its mean absolute value, shifts back and clips to 0..255.

    Args:
        net: the network, already on the device of ``pixels``.
        pixels: ``(1, 3, H, W)`` RGB in 0..255; not modified.
        objective: what to maximise; its layers must exist in ``net``.
        schedule: octaves, steps, step size, jitter.
        generator: source of the jitter offsets (a CPU generator; same seed, same result).
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (autocast of the network's forward).
        callback: called with a :class:`Progress` after each step.

    Returns:
        The dreamed ``(1, 3, H, W)`` pixels and the objective value at each step.
    """
    device = pixels.device
    sizes = schedule.octave_sizes(*pixels.shape[-2:])
    detail = torch.zeros(1, 3, *sizes[0], device=device)
    losses: list[float] = []
    with net.tap(objective.layers) as extract:
        for octave, size in enumerate(sizes, start=1):
            base = resize(pixels, size)
            # Three buffers per octave, reused by every step: the image, its shifted copy
            # (the leaf the gradient is taken for) and the gradient shifted back.
            image = (base + resize(detail, size)).clamp_(0, PIXEL_MAX)
            image = image.contiguous(memory_format=torch.channels_last)
            shifted = torch.empty_like(image).requires_grad_(True)
            unshifted = torch.empty_like(image)
            for step in range(1, schedule.steps + 1):
                dy, dx = torch.randint(-schedule.jitter, schedule.jitter + 1, (2,), generator=generator).tolist()
                with torch.no_grad():
                    roll_into(image, shifted, dy, dx)
                with autocast(device, precision):
                    loss = objective(extract(shifted))
                (gradient,) = torch.autograd.grad(loss, shifted)
                roll_into(gradient, unshifted, -dy, -dx)
                # Normalise by the mean absolute gradient: the step is step_size levels on average.
                scale = schedule.step_size * unshifted.numel() / (torch.linalg.vector_norm(unshifted, 1) + _EPS)
                image.addcmul_(unshifted, scale).clamp_(0, PIXEL_MAX)
                losses.append(float(loss.detach()))
                if callback is not None:
                    callback(Progress(octave, len(sizes), step, schedule.steps, losses[-1]))
            detail = image - base
    return image.contiguous(), losses


def roll_into(source: Tensor, target: Tensor, dy: int, dx: int) -> None:
    """``target[..., (i + dy) % H, (j + dx) % W] = source[..., i, j]`` without a temporary.

    The same as ``target.copy_(source.roll((dy, dx), dims=(-2, -1)))``, as four block copies.
    """
    height, width = source.shape[-2:]
    dy, dx = dy % height, dx % width
    for rows_from, rows_to, rows_at in ((0, height - dy, dy), (height - dy, height, 0)):
        for cols_from, cols_to, cols_at in ((0, width - dx, dx), (width - dx, width, 0)):
            if rows_to > rows_from and cols_to > cols_from:
                target[..., rows_at : rows_at + rows_to - rows_from, cols_at : cols_at + cols_to - cols_from].copy_(
                    source[..., rows_from:rows_to, cols_from:cols_to]
                )
