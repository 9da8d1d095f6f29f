"""Caffe's layers as torch modules, with Caffe's arithmetic.

Pooling rounds its output size up and drops a last window that would start in the padding
(:func:`pool_side`); LRN is ``nn.LocalResponseNorm``, which sums over ``local_size`` channels
with ``alpha / size`` as Caffe does. A :class:`Stage` is one top blob: the layer that makes it
and the layers that then work on it in place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn


class Stage(nn.Module):
    """One top blob: the layer that makes it, then the layers that work on it in place.

    Args:
        layer: the producing module; it takes the layer's bottoms.
    """

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer
        self.steps: list[str] = []

    def add(self, name: str, module: nn.Module) -> str:
        """Append an in-place step called ``name`` (made unique) and return its name."""
        unique, count = name, 1
        while unique in self._modules:
            count += 1
            unique = f"{name}{count}"
        self.add_module(unique, module)
        self.steps.append(unique)
        return unique

    def forward(self, *inputs: Tensor) -> Tensor:
        """The blob: ``layer(*inputs)`` then each step."""
        x = self.layer(*inputs)
        for name in self.steps:
            x = getattr(self, name)(x)
        return x

    def fold_batch_norm(self) -> None:
        """Merge BatchNorm and Scale steps right after a convolution into it: same outputs, fewer ops."""
        if type(self.layer) is not nn.Conv2d:
            return
        conv = self.layer
        gain = torch.ones(conv.out_channels, dtype=conv.weight.dtype)
        shift = torch.zeros(conv.out_channels, dtype=conv.weight.dtype)
        folded = []
        for name in self.steps:
            step = getattr(self, name)
            if isinstance(step, CaffeBatchNorm):
                mean, std = step.statistics()
                gain, shift = gain / std, (shift - mean) / std
            elif isinstance(step, CaffeScale):
                gain, shift = gain * step.weight.detach(), shift * step.weight.detach()
                if step.bias is not None:
                    shift = shift + step.bias.detach()
            else:
                break
            folded.append(name)
        if not folded:
            return
        new = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(shift)
        new.weight = nn.Parameter(conv.weight.detach() * gain.view(-1, 1, 1, 1), requires_grad=False)
        new.bias = nn.Parameter(bias * gain + shift, requires_grad=False)
        self.layer = new
        for name in folded:
            setattr(self, name, nn.Identity())


class CaffeBatchNorm(nn.Module):
    """Caffe's BatchNorm: its third blob is a factor that divides the stored mean and variance."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("variance", torch.ones(channels))
        self.register_buffer("scale_factor", torch.ones(1))

    def statistics(self) -> tuple[Tensor, Tensor]:
        """The mean and standard deviation it normalises with, ``(C,)`` each."""
        factor = self.scale_factor[0]
        factor = torch.where(factor == 0, torch.zeros_like(factor), 1 / factor)  # Caffe: 0 means 0
        return self.mean * factor, (self.variance * factor + self.eps).sqrt()

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``(B, C, ...)`` along channels."""
        mean, std = self.statistics()
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean.view(shape)) / std.view(shape)


class CaffeScale(nn.Module):
    """Caffe's Scale: a weight, and a bias if ``bias_term``, per channel."""

    def __init__(self, channels: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """``x * weight + bias`` per channel of ``(B, C, ...)``."""
        shape = (1, -1) + (1,) * (x.dim() - 2)
        x = x * self.weight.view(shape)
        return x if self.bias is None else x + self.bias.view(shape)


class InnerProduct(nn.Linear):
    """Caffe's InnerProduct: flattens from the channel axis, then a linear map."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` or ``(B, C)`` to ``(B, out)``."""
        return super().forward(x.flatten(1))


class GlobalPool(nn.Module):
    """Pooling over the whole map (``global_pooling: true``), for any input size."""

    def __init__(self, maximum: bool) -> None:
        super().__init__()
        self.maximum = maximum

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` to ``(B, C, 1, 1)``."""
        return x.amax((2, 3), keepdim=True) if self.maximum else x.mean((2, 3), keepdim=True)


class Concat(nn.Module):
    """Caffe's Concat along ``axis``."""

    def __init__(self, axis: int) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, *inputs: Tensor) -> Tensor:
        """The inputs joined along the axis."""
        return torch.cat(inputs, self.axis)


class Eltwise(nn.Module):
    """Caffe's Eltwise: SUM (with coefficients), PROD or MAX of its inputs."""

    def __init__(self, operation: str, coefficients: Sequence[float]) -> None:
        super().__init__()
        self.operation = operation
        self.coefficients = tuple(coefficients)

    def forward(self, *inputs: Tensor) -> Tensor:
        """The inputs combined element by element."""
        if self.operation == "PROD":
            return math.prod(inputs[1:], start=inputs[0])
        if self.operation == "MAX":
            out = inputs[0]
            for x in inputs[1:]:
                out = torch.maximum(out, x)
            return out
        coefficients = self.coefficients or (1.0,) * len(inputs)
        out = inputs[0] * coefficients[0] if coefficients[0] != 1 else inputs[0]
        for coefficient, x in zip(coefficients[1:], inputs[1:], strict=True):
            out = out + (x * coefficient if coefficient != 1 else x)
        return out


class Flatten(nn.Module):
    """Caffe's Flatten from the channel axis."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, ...)`` to ``(B, n)``."""
        return x.flatten(1)


def pool_side(side: int, kernel: int, stride: int, pad: int) -> int:
    """The output side of Caffe's pooling: rounded up, without a last window that starts in the padding."""
    out = math.ceil((side + 2 * pad - kernel) / stride) + 1
    if pad and (out - 1) * stride >= side + pad:  # Caffe: the last window must start inside the image
        out -= 1
    return out


def conv_side(side: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """The output side of a convolution."""
    return (side + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
