"""Image parameterisations for dreaming from noise: the pixels are a function of learnable tensors.

Optimising pixels directly from noise gives high-frequency patterns the network reacts to
but people do not see. Lucid's remedy (Olah et al., "Feature Visualization", Distill 2017),
followed here: learn the image's Fourier spectrum, scaled so that low frequencies dominate,
in a colour space whose channels are decorrelated the way natural images' are, and squash
the result into the valid pixel range with a sigmoid.

>>> image = FourierImage(64, 64, generator=torch.Generator().manual_seed(0))
>>> pixels = image()
>>> pixels.shape, bool(pixels.min() >= 0), bool(pixels.max() <= 255)
(torch.Size([1, 3, 64, 64]), True, True)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from inceptionism.checks import check_generator, check_int, check_number
from inceptionism.engine.pixels import PIXEL_MAX
from inceptionism.errors import InvalidParameterError

# Square root of the ImageNet colour covariance (from its SVD), as published with lucid:
# columns are the directions of decorrelated colour, the first being brightness.
_COLOR_CORRELATION_SQRT = (
    (0.26, 0.09, 0.02),
    (0.27, 0.00, -0.05),
    (0.27, -0.09, 0.03),
)
# Lucid divides the spatial image by this constant so that an Adam step of ~0.05 on the
# spectrum changes pixels by a moderate amount; kept for the same learning rates to work.
_SPECTRUM_GAIN = 1 / 4


def color_correlation_sqrt() -> Tensor:
    """The ``(3, 3)`` matrix mapping decorrelated colour to RGB, its largest column of norm 1.

    >>> matrix = color_correlation_sqrt()
    >>> round(float(matrix.norm(dim=0).max()), 6)
    1.0
    """
    matrix = torch.tensor(_COLOR_CORRELATION_SQRT)
    return matrix / matrix.norm(dim=0).max()


def decorrelated_to_rgb(values: Tensor) -> Tensor:
    """Map ``(B, 3, H, W)`` values in decorrelated colour space to (unbounded) RGB.

    >>> decorrelated_to_rgb(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).flatten()
    tensor([0.5628, 0.5845, 0.5845])
    """
    matrix = color_correlation_sqrt().to(device=values.device, dtype=values.dtype)
    return torch.einsum("ij,bjhw->bihw", matrix, values)


def spectrum_scale(height: int, width: int, *, decay_power: float = 1.0) -> Tensor:
    """Per-coefficient gain ``1 / max(f, 1 / max(H, W)) ** decay_power`` of an rfft2 spectrum.

    ``f`` is the radial frequency in cycles per pixel; the floor keeps the constant term finite.

    Returns:
        ``(H, W // 2 + 1)``, aligned with ``torch.fft.rfft2`` of an ``H x W`` image.

    >>> spectrum_scale(4, 4)
    tensor([[4.0000, 4.0000, 2.0000],
            [4.0000, 2.8284, 1.7889],
            [2.0000, 1.7889, 1.4142],
            [4.0000, 2.8284, 1.7889]])
    """
    rows = torch.fft.fftfreq(height).view(-1, 1)
    columns = torch.fft.rfftfreq(width).view(1, -1)
    radius = (rows.square() + columns.square()).sqrt()
    return radius.clamp(min=1 / max(height, width)).pow(-decay_power)


class _LearnedImage(nn.Module):
    """What both parameterisations share: checked size, batch and colour space."""

    def __init__(
        self, height: int, width: int, *, generator: torch.Generator, std: float, batch: int, decorrelate: bool
    ) -> None:
        super().__init__()
        _check_size(height, width, batch)
        _check_std(std)
        check_generator(generator)
        self.height, self.width, self.batch = height, width, batch
        self.decorrelate = decorrelate

    def extra_repr(self) -> str:
        """Size, batch and colour space, shown in ``repr``."""
        return f"{self.height}x{self.width}, batch={self.batch}, decorrelate={self.decorrelate}"


class FourierImage(_LearnedImage):
    """RGB pixels from a learnable Fourier spectrum in decorrelated colour (lucid's ``fft_image``).

    The spectrum's real and imaginary parts start as normal noise times ``std``; each
    coefficient is scaled by :func:`spectrum_scale`, so initially (and along the whole
    optimisation, since Adam's steps are about equal per coefficient) energy falls off with
    frequency like that of natural images. The inverse FFT gives an image in decorrelated
    colour, mapped to RGB by :func:`decorrelated_to_rgb` (unless ``decorrelate=False``),
    then into 0..255 by a sigmoid.

    Args:
        height: image height in pixels (>= 1).
        width: image width in pixels (>= 1).
        generator: source of the initial spectrum (a CPU generator; same seed, same image).
        std: standard deviation of the initial spectrum (> 0).
        decay_power: how fast the gain falls with frequency (>= 0; 0 gives white noise).
        batch: number of images (>= 1).
        decorrelate: learn in decorrelated colour space rather than RGB.

    Attributes:
        spectrum: the learnable parameter, ``(batch, 3, H, W // 2 + 1, 2)`` (real, imaginary).

    >>> image = FourierImage(32, 48, generator=torch.Generator().manual_seed(0), batch=2)
    >>> image().shape
    torch.Size([2, 3, 32, 48])
    """

    def __init__(
        self,
        height: int,
        width: int,
        *,
        generator: torch.Generator,
        std: float = 0.01,
        decay_power: float = 1.0,
        batch: int = 1,
        decorrelate: bool = True,
    ) -> None:
        super().__init__(height, width, generator=generator, std=std, batch=batch, decorrelate=decorrelate)
        check_number("decay_power", decay_power)
        if decay_power < 0:
            raise InvalidParameterError(f"decay_power must be >= 0, got {decay_power!r}")
        scale = spectrum_scale(height, width, decay_power=decay_power)
        self.register_buffer("scale", scale, persistent=False)
        noise = torch.randn(batch, 3, *scale.shape, 2, generator=generator)
        self.spectrum = nn.Parameter(noise * std)

    def forward(self) -> Tensor:
        """The current image, ``(batch, 3, H, W)`` RGB in 0..255, differentiable in :attr:`spectrum`."""
        coefficients = torch.view_as_complex(self.spectrum) * self.scale
        # "ortho" keeps the pixel scale independent of the image size.
        values = torch.fft.irfft2(coefficients, s=(self.height, self.width), norm="ortho") * _SPECTRUM_GAIN
        return _to_pixels(values, decorrelate=self.decorrelate)


class PixelImage(_LearnedImage):
    """RGB pixels ``sigmoid(parameter) * 255``, one learnable value per pixel and channel.

    Without a spectral prior the optimisation drifts to high-frequency patterns; this is the
    reference :class:`FourierImage` improves on, and a fine choice when starting from a photo.

    Args:
        height: image height in pixels (>= 1).
        width: image width in pixels (>= 1).
        generator: source of the initial values (a CPU generator; same seed, same image).
        std: standard deviation of the initial values (> 0).
        batch: number of images (>= 1).
        decorrelate: learn in decorrelated colour space rather than RGB.

    Attributes:
        values: the learnable parameter, ``(batch, 3, H, W)``.

    >>> image = PixelImage(32, 48, generator=torch.Generator().manual_seed(0))
    >>> image().shape
    torch.Size([1, 3, 32, 48])
    """

    def __init__(
        self,
        height: int,
        width: int,
        *,
        generator: torch.Generator,
        std: float = 0.01,
        batch: int = 1,
        decorrelate: bool = False,
    ) -> None:
        super().__init__(height, width, generator=generator, std=std, batch=batch, decorrelate=decorrelate)
        self.values = nn.Parameter(torch.randn(batch, 3, height, width, generator=generator) * std)

    def forward(self) -> Tensor:
        """The current image, ``(batch, 3, H, W)`` RGB in 0..255, differentiable in :attr:`values`."""
        return _to_pixels(self.values, decorrelate=self.decorrelate)


def _to_pixels(values: Tensor, *, decorrelate: bool) -> Tensor:
    if decorrelate:
        values = decorrelated_to_rgb(values)
    return torch.sigmoid(values) * PIXEL_MAX


def _check_size(height: object, width: object, batch: object) -> None:
    check_int("height", height, 1)
    check_int("width", width, 1)
    check_int("batch", batch, 1)


def _check_std(std: object) -> None:
    check_number("std", std)
    if not std > 0:  # type: ignore[operator]
        raise InvalidParameterError(f"std must be > 0, got {std!r}")
