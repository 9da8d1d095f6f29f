"""The optimisation loop: gradient ascent on the pixels, octave by octave, with jitter.

The engine sees only tensors: pixels ``(1, 3, H, W)`` as RGB values in 0..255, a
:class:`~inceptionism.models.Network` and an :class:`~inceptionism.objectives.Objective`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from inceptionism.engine.filters import (
    gaussian_blur,
    laplacian_normalize,
    luminance_only,
    mean_abs,
    total_variation_gradient,
)
from inceptionism.engine.pixels import PIXEL_MAX, resize
from inceptionism.engine.progress import Progress, ProgressCallback, report
from inceptionism.engine.runtime import autocast
from inceptionism.engine.schedule import Schedule
from inceptionism.engine.tiles import TiledGradient
from inceptionism.engine.transforms import Transform, compose, random_rotate, random_scale
from inceptionism.engine.windows import roll_into
from inceptionism.errors import InvalidParameterError
from inceptionism.models.network import Network
from inceptionism.objectives import SHIFT, Objective

_EPS = 1e-8


def ascend(
    net: Network,
    pixels: Tensor,
    objective: Objective,
    schedule: Schedule,
    *,
    generator: torch.Generator,
    precision: str = "fp32",
    mask: Tensor | None = None,
    step_map: Tensor | None = None,
    callback: ProgressCallback | None = None,
    frame: int = 0,
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
        step_map: ``(1, 1, H, W)`` >= 0: each pixel's step is multiplied by it (a video
            dreams more where nothing was carried); unlike ``mask`` it does not hold back
            the detail of smaller octaves.
        callback: called with a :class:`~inceptionism.engine.progress.Progress` after each
            step; returning ``True`` stops the ascent with
            :class:`~inceptionism.engine.progress.Cancelled`.
        frame: the frame index the progress reports.

    Returns:
        The dreamed ``(1, 3, H, W)`` pixels and the objective value at each step.

    Raises:
        InvalidParameterError: a tiled schedule for an objective that needs the whole image.
    """
    _check_tiling(objective, schedule)
    device = pixels.device
    sizes = schedule.octave_shapes(*pixels.shape[-2:])
    transform = photo_transform(schedule)
    losses: list[float] = []
    detail: Tensor | None = None
    with net.tap(objective.layers) as extract:
        gradient_of = TiledGradient(extract, objective, schedule, device, precision) if schedule.tile else None
        for octave, size in enumerate(sizes, start=1):
            last = octave == len(sizes)
            # The last octave's base is the input itself, added in place even if it is uint8.
            base = pixels if last else resize(pixels.float(), size)
            # The image of this octave is its base plus the detail so far, built in place.
            octave_mask, octave_steps = _octave_weights(mask, step_map, size)
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
                        extract, objective, image, shifted, gradient, schedule.jitter, generator, device, precision,
                        transform,
                    )  # fmt: skip
                _step(image, gradient, schedule, octave_steps)
                losses.append(loss)
                report(callback, Progress(octave, len(sizes), step, schedule.steps, loss, frame, image))
            gradient = shifted = octave_mask = octave_steps = None  # freed before the next octave allocates its own
            if not last:
                detail = image.sub_(base)
    return image, losses


def _check_tiling(objective: Objective, schedule: Schedule) -> None:
    if schedule.tile and objective.needs_whole_image:
        raise InvalidParameterError(
            f"{objective} needs the whole image (a neuron at a position): it cannot be tiled; "
            "lower max_size or raise memory_budget",
            argument="tile",
        )
    if schedule.tile and (schedule.random_scale or schedule.random_rotate):
        raise InvalidParameterError(
            "random_scale and random_rotate move the whole image: it cannot be tiled; lower max_size or raise "
            "memory_budget",
            argument="tile",
        )


TRANSFORM_CHOICES = 10  # values each side of 1x (or 0 degrees) a random scale or rotation draws from


def photo_transform(schedule: Schedule) -> Transform | None:
    """The random rescaling and rotation a photo's image goes through before each step (``None``: off)."""
    scale, degrees, n = schedule.random_scale, schedule.random_rotate, TRANSFORM_CHOICES
    parts = []
    if scale:
        parts.append(random_scale([1 + scale * i / n for i in range(-n, n + 1)]))
    if degrees:
        parts.append(random_rotate([degrees * i / n for i in range(-n, n + 1)]))
    return compose(*parts) if parts else None


def _octave_weights(
    mask: Tensor | None, step_map: Tensor | None, size: tuple[int, int]
) -> tuple[Tensor | None, Tensor | None]:
    """The mask at an octave's ``size``, and what each pixel's step is multiplied by there (mask times step map)."""
    octave_mask = None if mask is None else resize(mask, size)
    if step_map is None:
        return octave_mask, octave_mask
    steps = resize(step_map, size)
    return octave_mask, steps if octave_mask is None else steps * octave_mask


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
    transform: Transform | None = None,
) -> float:
    """Objective's gradient for the whole image, jittered (and transformed), written into ``gradient``."""
    dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    roll_into(image, shifted, dy, dx)
    shifted.requires_grad_(True)
    with autocast(device, precision):
        seen = shifted if transform is None else transform(shifted, generator)
        loss = objective({**extract(seen), SHIFT: torch.tensor([dy, dx])})
    (shifted_gradient,) = torch.autograd.grad(loss, shifted)
    shifted.requires_grad_(False)
    roll_into(shifted_gradient, gradient, -dy, -dx)
    return float(loss.detach())


def _step(image: Tensor, gradient: Tensor, schedule: Schedule, weights: Tensor | None) -> None:
    """Filter and normalise ``gradient`` in place, then move ``image`` along it (times ``weights``)."""
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
    if weights is not None:
        gradient.mul_(weights)
    image.add_(gradient).clamp_(0, PIXEL_MAX)
