"""Transformation robustness: small random, differentiable changes to the pixels before each step.

An image that keeps activating a class while it is padded, shifted, scaled and rotated at
random cannot rely on a pixel-exact adversarial pattern (lucid's ``transform`` module).
Every transform maps ``(B, 3, H, W)`` RGB pixels in 0..255 and a CPU ``torch.Generator``
to new pixels; the size may change (pad grows it, jitter and scale change it), the gradient
flows back to the input, and all randomness comes from the generator.

>>> apply = standard_transforms()
>>> generator = torch.Generator().manual_seed(0)
>>> apply(torch.full((1, 3, 64, 64), 127.5), generator).shape[:2]
torch.Size([1, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from inceptionism.checks import check_int, check_number
from inceptionism.engine.pixels import PIXEL_MAX
from inceptionism.errors import InvalidParameterError

Transform = Callable[[Tensor, torch.Generator], Tensor]
"""Maps pixels ``(B, 3, H, W)`` and a generator to transformed pixels ``(B, 3, H', W')``."""

PAD_MODES = ("constant", "reflect", "replicate", "circular")
FILL_MODES = ("zeros", "border", "reflection")


def _choose(values: Sequence[float], generator: torch.Generator) -> float:
    """One of ``values``, uniformly, drawn from ``generator``."""
    return values[int(torch.randint(len(values), (), generator=generator))]


@dataclass(frozen=True)
class Pad:
    """Pad every side by ``width`` pixels; see :func:`pad`."""

    width: int
    mode: str = "reflect"
    value: float = PIXEL_MAX / 2

    def __call__(self, pixels: Tensor, generator: torch.Generator) -> Tensor:
        """``(B, 3, H, W)`` to ``(B, 3, H + 2 * width, W + 2 * width)``; ``generator`` is unused."""
        if self.width == 0:
            return pixels
        if self.mode == "reflect" and min(pixels.shape[-2:]) <= self.width:
            raise InvalidParameterError(
                f"reflect padding by {self.width} px needs an image larger than {self.width} px, "
                f"got {pixels.shape[-1]}x{pixels.shape[-2]}"
            )
        value = self.value if self.mode == "constant" else None
        return F.pad(pixels, (self.width,) * 4, mode=self.mode, value=value)


@dataclass(frozen=True)
class Jitter:
    """Crop ``distance`` pixels off each dimension at a random offset; see :func:`jitter`."""

    distance: int

    def __call__(self, pixels: Tensor, generator: torch.Generator) -> Tensor:
        """``(B, 3, H, W)`` to ``(B, 3, H - distance, W - distance)``."""
        if self.distance == 0:
            return pixels
        height, width = pixels.shape[-2:]
        if min(height, width) <= self.distance:
            raise InvalidParameterError(
                f"jitter by {self.distance} px needs an image larger than {self.distance} px, got {width}x{height}"
            )
        dy, dx = torch.randint(self.distance + 1, (2,), generator=generator).tolist()
        return pixels[..., dy : dy + height - self.distance, dx : dx + width - self.distance]


@dataclass(frozen=True)
class RandomScale:
    """Resize by a factor drawn from ``scales``; see :func:`random_scale`."""

    scales: tuple[float, ...]

    def __call__(self, pixels: Tensor, generator: torch.Generator) -> Tensor:
        """``(B, 3, H, W)`` to ``(B, 3, round(s * H), round(s * W))`` for the drawn ``s``."""
        factor = _choose(self.scales, generator)
        height, width = pixels.shape[-2:]
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        if size == (height, width):
            return pixels
        return F.interpolate(pixels, size=size, mode="bilinear", align_corners=False)


@dataclass(frozen=True)
class RandomRotate:
    """Rotate about the centre by an angle drawn from ``degrees``; see :func:`random_rotate`."""

    degrees: tuple[float, ...]
    fill: str = "reflection"

    def __call__(self, pixels: Tensor, generator: torch.Generator) -> Tensor:
        """``(B, 3, H, W)`` to ``(B, 3, H, W)``, bilinear, one angle for the whole batch."""
        angle = math.radians(_choose(self.degrees, generator))
        if angle == 0:
            return pixels
        height, width = pixels.shape[-2:]
        cos, sin = math.cos(angle), math.sin(angle)
        # affine_grid works in coordinates normalised to -1..1 per axis; the aspect ratio
        # terms make the rotation rigid in pixels for non-square images.
        theta = torch.tensor(
            [[cos, -sin * height / width, 0.0], [sin * width / height, cos, 0.0]],
            dtype=pixels.dtype,
            device=pixels.device,
        ).expand(pixels.shape[0], 2, 3)
        grid = F.affine_grid(theta, list(pixels.shape), align_corners=False)
        return F.grid_sample(pixels, grid, mode="bilinear", padding_mode=self.fill, align_corners=False)


@dataclass(frozen=True)
class Compose:
    """Apply ``transforms`` in order; see :func:`compose`."""

    transforms: tuple[Transform, ...]

    def __call__(self, pixels: Tensor, generator: torch.Generator) -> Tensor:
        """Pixels ``(B, 3, H, W)`` through every transform in turn."""
        for transform in self.transforms:
            pixels = transform(pixels, generator)
        return pixels


def pad(width: int, *, mode: str = "reflect", value: float = PIXEL_MAX / 2) -> Pad:
    """Pad every side by ``width`` pixels, so later shifts and rotations do not cut the image.

    Args:
        width: pixels added on each side (>= 0).
        mode: ``"constant"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        value: the fill level (0..255) for ``mode="constant"``.

    >>> pad(2)(torch.zeros(1, 3, 8, 8), torch.Generator()).shape
    torch.Size([1, 3, 12, 12])
    """
    check_int("width", width, 0)
    if mode not in PAD_MODES:
        raise InvalidParameterError(f"mode must be one of {', '.join(PAD_MODES)}, got {mode!r}")
    check_number("value", value)
    if not 0 <= value <= PIXEL_MAX:
        raise InvalidParameterError(f"value must be in 0..255, got {value!r}")
    return Pad(width, mode, float(value))


def jitter(distance: int) -> Jitter:
    """Random crop ``distance`` pixels smaller in each dimension, at an offset in ``0..distance``.

    >>> jitter(4)(torch.zeros(1, 3, 16, 16), torch.Generator()).shape
    torch.Size([1, 3, 12, 12])
    """
    check_int("distance", distance, 0)
    return Jitter(distance)


def random_scale(scales: Sequence[float]) -> RandomScale:
    """Resize (bilinear) by a factor drawn uniformly from ``scales`` (each > 0).

    >>> random_scale([0.5])(torch.zeros(1, 3, 16, 16), torch.Generator()).shape
    torch.Size([1, 3, 8, 8])
    """
    chosen = _check_choices("scales", scales)
    wrong = [s for s in chosen if not s > 0]
    if wrong:
        raise InvalidParameterError(f"scales must all be > 0, got {wrong[0]!r}")
    return RandomScale(chosen)


def random_rotate(degrees: Sequence[float], *, fill: str = "reflection") -> RandomRotate:
    """Rotate about the centre by an angle in degrees drawn uniformly from ``degrees``.

    Args:
        degrees: the angles to draw from (repeat one to make it more likely).
        fill: what enters at the corners, a ``grid_sample`` padding mode:
            ``"zeros"`` (black), ``"border"`` or ``"reflection"``.

    >>> random_rotate([90])(torch.zeros(1, 3, 16, 24), torch.Generator()).shape
    torch.Size([1, 3, 16, 24])
    """
    chosen = _check_choices("degrees", degrees)
    if fill not in FILL_MODES:
        raise InvalidParameterError(f"fill must be one of {', '.join(FILL_MODES)}, got {fill!r}")
    return RandomRotate(chosen, fill)


def compose(*transforms: Transform) -> Compose:
    """One transform applying ``transforms`` in order (none: the identity).

    >>> compose(pad(2), jitter(4))(torch.zeros(1, 3, 8, 8), torch.Generator()).shape
    torch.Size([1, 3, 8, 8])
    """
    for index, transform in enumerate(transforms):
        if not callable(transform):
            raise InvalidParameterError(
                f"transform {index} must be callable as transform(pixels, generator), got {transform!r}"
            )
    return Compose(tuple(transforms))


def standard_transforms() -> Compose:
    """Lucid's ``standard_transforms``: pad 12 (grey), jitter 8, scale 0.9..1.1, rotate ±10°, jitter 4.

    Angles are drawn from -10..10 with 0 six times as likely as the others, as in lucid.
    The output is about 20 pixels larger than the input in each dimension (±10 %).

    >>> standard_transforms()(torch.zeros(2, 3, 64, 64), torch.Generator()).shape[:2]
    torch.Size([2, 3])
    """
    return compose(
        pad(12, mode="constant", value=PIXEL_MAX / 2),
        jitter(8),
        random_scale([1 + (i - 5) / 50 for i in range(11)]),
        random_rotate([*range(-10, 11), *[0] * 5]),
        jitter(4),
    )


def _check_choices(name: str, values: object) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise InvalidParameterError(f"{name} must be a non-empty list of numbers, got {values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidParameterError(f"{name} must contain only finite numbers, got {value!r} in {values!r}")
    return tuple(float(value) for value in values)


STANDARD_TRANSFORMS = standard_transforms()
"""The default of :func:`~inceptionism.visualize.visualize`: :func:`standard_transforms`."""
