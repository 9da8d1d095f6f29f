"""Filters for the pixel gradient: smoothing, Laplacian normalisation, luminance, total variation.

All take and return ``(B, 3, H, W)`` tensors and keep their shape.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from inceptionism.engine.pixels import LUMA

_EPS = 1e-8
_SHARPEST = 0.1  # sigma in pixels below which a Gaussian blur changes nothing (and 2 * sigma**2 may underflow)
_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _separable(x: Tensor, kernel: Tensor, *, stride: int = 1) -> Tensor:
    """Convolve each channel with ``kernel`` along rows then columns, reflecting at the borders."""
    channels, radius = x.shape[1], (kernel.numel() - 1) // 2
    rows = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    cols = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    pad_h, pad_w = min(radius, x.shape[-2] - 1), min(radius, x.shape[-1] - 1)
    # A side shorter than the kernel gets the kernel's middle, renormalised to keep the mean.
    rows = rows[:, :, radius - pad_h : radius + pad_h + 1]
    cols = cols[:, :, :, radius - pad_w : radius + pad_w + 1]
    x = F.pad(x, (0, 0, pad_h, pad_h), mode="reflect") if pad_h else x
    x = F.conv2d(x, rows / rows[0].sum(), stride=(stride, 1), groups=channels)
    x = F.pad(x, (pad_w, pad_w, 0, 0), mode="reflect") if pad_w else x
    return F.conv2d(x, cols / cols[0].sum(), stride=(1, stride), groups=channels)


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Gaussian blur of each channel with standard deviation ``sigma`` pixels (0: unchanged).

    >>> gaussian_blur(torch.ones(1, 3, 8, 8), 1.5).allclose(torch.ones(1, 3, 8, 8))
    True
    """
    if sigma < _SHARPEST:  # the neighbours' weights are below exp(-50): no blur at all in float32
        return x
    # Taps beyond the image would only be cut off again: the kernel never outgrows it.
    radius = min(max(1, math.ceil(3 * sigma)), max(x.shape[-2:]))
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    return _separable(x, kernel / kernel.sum())


def _binomial(x: Tensor) -> Tensor:
    return torch.tensor(_BINOMIAL, dtype=x.dtype, device=x.device) / 16


def laplacian_normalize(gradient: Tensor, levels: int) -> Tensor:
    """Split into ``levels`` Laplacian-pyramid bands, scale each to unit RMS, add them back.

    Low frequencies, which a raw gradient underweights, get as much say as high ones: the
    dream gets larger, smoother structures (the TensorFlow DeepDream notebook's ``lap_normalize``).

    >>> laplacian_normalize(torch.randn(1, 3, 64, 64), 4).shape
    torch.Size([1, 3, 64, 64])
    """
    if levels <= 1:
        return gradient / (gradient.square().mean().sqrt() + _EPS)
    kernel = _binomial(gradient)
    bands = []
    current = gradient
    for _ in range(levels - 1):
        if min(current.shape[-2:]) < 2:
            break
        low = _separable(current, kernel, stride=2)
        up = _upsample(low, current.shape[-2:], kernel)
        bands.append(current - up)
        current = low
    bands.append(current)
    merged = bands[-1] / (bands[-1].square().mean().sqrt() + _EPS)
    for band in reversed(bands[:-1]):
        merged = _upsample(merged, band.shape[-2:], kernel) + band / (band.square().mean().sqrt() + _EPS)
    return merged


def _upsample(x: Tensor, size: torch.Size | tuple[int, int], kernel: Tensor) -> Tensor:
    """Double the size by zero insertion and binomial smoothing, cropped to ``size``."""
    batch, channels, height, width = x.shape
    up = x.new_zeros(batch, channels, height * 2, width * 2)
    up[..., ::2, ::2] = x * 4
    return _separable(up, kernel)[..., : size[0], : size[1]]


def luminance_only(gradient: Tensor) -> Tensor:
    """Project an RGB gradient onto grey: every channel moves by the luminance component.

    Adding the same amount to R, G and B changes luma only (the chroma weights sum to zero),
    so steps along the result keep the image's colours.

    >>> g = luminance_only(torch.randn(1, 3, 4, 4))
    >>> bool((g[:, 0] == g[:, 1]).all() and (g[:, 1] == g[:, 2]).all())
    True
    """
    weights = torch.tensor(LUMA, dtype=gradient.dtype, device=gradient.device).view(1, 3, 1, 1)
    return (gradient * weights).sum(1, keepdim=True).expand_as(gradient).contiguous()


def total_variation_gradient(image: Tensor) -> Tensor:
    """Gradient of the total variation ``sum |x[i+1] - x[i]|`` over rows and columns."""
    gradient = torch.zeros_like(image)
    dy = torch.sign(image[..., 1:, :] - image[..., :-1, :])
    dx = torch.sign(image[..., :, 1:] - image[..., :, :-1])
    gradient[..., 1:, :] += dy
    gradient[..., :-1, :] -= dy
    gradient[..., :, 1:] += dx
    gradient[..., :, :-1] -= dx
    return gradient


def mean_abs(x: Tensor) -> Tensor:
    """Mean absolute value as a 0-dim tensor, without a temporary the size of ``x``."""
    return torch.linalg.vector_norm(x, 1) / x.numel()
