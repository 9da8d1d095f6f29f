"""Rewrites of layers for a network's inference copy.

:class:`SpaceToDepthConv2d` computes the same function as the layer it replaces (up to
rounding): oneDNN computes the input gradient of a stride-2 convolution over 3 input
channels (the stem of every ImageNet network) several times slower than that of the
equivalent stride-1 convolution on 2x2 blocks. :class:`RedirectedReLU` keeps the forward
pass and changes only the gradient, so that a unit that is off can be switched on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MAX_STEM_CHANNELS = 4
MIN_STEM_KERNEL = 5  # measured: for 3x3 stems the rewrite's own reshuffling costs more than it saves


class SpaceToDepthConv2d(nn.Module):
    """A stride-2 convolution computed on 2x2 pixel blocks (``pixel_unshuffle``) with stride 1.

    The kernel is zero-padded to even size and rearranged so that
    ``conv2d(x, w, stride=2, padding=p) == conv2d(unshuffle(pad(x)), w')``.

    Args:
        conv: a ``Conv2d`` with stride 2, no dilation, one group and zero padding mode.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        kernel_h, kernel_w = conv.kernel_size
        self.kernel_size = conv.kernel_size
        self.padding = conv.padding
        weight = conv.weight.detach()
        # Pad the kernel to even size, then fold each 2x2 block of taps into channels.
        weight = F.pad(weight, (0, kernel_w % 2, 0, kernel_h % 2))
        self.weight = nn.Parameter(F.pixel_unshuffle(weight, 2), requires_grad=False)
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone(), requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        """Same as the stride-2 convolution it was made from, on ``(B, C, H, W)``."""
        height, width = x.shape[-2:]
        (kernel_h, kernel_w), (pad_h, pad_w) = self.kernel_size, self.padding
        out_h = (height + 2 * pad_h - kernel_h) // 2 + 1
        out_w = (width + 2 * pad_w - kernel_w) // 2 + 1
        blocks_h, blocks_w = self.weight.shape[-2:]
        # Enough rows and columns for out + blocks - 1 block positions; extra ones only add zeros.
        padded = F.pad(
            x,
            (pad_w, 2 * (out_w + blocks_w - 1) - width - pad_w, pad_h, 2 * (out_h + blocks_h - 1) - height - pad_h),
        )
        return F.conv2d(F.pixel_unshuffle(padded, 2), self.weight, self.bias)


def faster_conv(conv: nn.Module) -> nn.Module:
    """The fastest equivalent of ``conv`` for dreaming (a stem convolution gets rewritten)."""
    if (
        type(conv) is nn.Conv2d
        and conv.stride == (2, 2)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and isinstance(conv.padding, tuple)
        and conv.in_channels <= MAX_STEM_CHANNELS
        and min(conv.kernel_size) >= MIN_STEM_KERNEL
    ):
        return SpaceToDepthConv2d(conv)
    return conv


class _RedirectedReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, gradient: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        negative = x < 0
        through = gradient.masked_fill(negative, 0)
        # Where nothing gets through for a whole batch element, let the gradient through
        # wherever it would raise the input (never push a negative input further down).
        redirected = gradient.masked_fill(negative & (gradient < 0), 0)
        blocked = through.flatten(1).abs().amax(1) == 0
        if blocked.any():
            through[blocked] = redirected[blocked]
        return through


class RedirectedReLU(nn.Module):
    """ReLU whose gradient reaches a unit that is off (lucid's "redirected ReLU").

    The forward pass is ``relu``. The backward pass is ReLU's, except for a batch element
    where ReLU would pass no gradient at all: there the gradient passes wherever following
    it would raise the input. Without it, maximising one neuron that starts at zero is stuck.
    """

    def forward(self, x: Tensor) -> Tensor:
        """``relu(x)`` for ``(B, ...)``."""
        return _RedirectedReLUFunction.apply(x)
