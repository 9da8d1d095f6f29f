"""Rewrites of layers for a network's inference copy.

:class:`SpaceToDepthConv2d` computes the same function as the layer it replaces (up to
rounding): oneDNN computes the input gradient of a stride-2 convolution over 3 input
channels (the stem of every ImageNet network) several times slower than that of the
equivalent stride-1 convolution on 2x2 blocks. :class:`ThreadedMaxPool2d` computes the
same max-pooling and scatters its gradient on two threads where PyTorch uses one.
:class:`RedirectedReLU` keeps the forward pass and changes only the gradient, so that a unit
that is off can be switched on.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

MAX_STEM_CHANNELS = 4
MIN_STEM_KERNEL = 3  # a 1x1 or 2x2 kernel has too few taps to gain from 2x2 blocks
MIN_SPLIT_ROWS = 8  # output rows per thread below which a pool's gradient is scattered on one thread


class _PadToBlocks(torch.autograd.Function):
    """Pad ``(B, C, H, W)`` with a value per channel and fold each 2x2 block into channels.

    The result is ``pixel_unshuffle(pad(x))`` in ``dtype`` and channels-last, written in one
    pass (and its gradient read back in one pass) instead of the three that padding,
    unshuffling and casting take separately.
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        x: Tensor,
        fill: Tensor,
        pads: tuple[int, int, int, int],
        dtype: torch.dtype,
    ) -> Tensor:
        batch, channels, height, width = x.shape
        top, bottom, left, right = pads
        blocks_h, blocks_w = (height + top + bottom) // 2, (width + left + right) // 2
        # Physical layout (B, h, w, C, 2, 2) is the channels-last layout of (B, 4C, h, w).
        out = torch.empty(batch, blocks_h, blocks_w, channels, 2, 2, dtype=dtype, device=x.device)
        ctx.parts = _block_parts((height, width), (top, left), (blocks_h, blocks_w))
        # Fill the blocks that hold some border: those outside the blocks every position fills.
        block_rows = [rows for _, (rows, _), _ in ctx.parts]
        block_cols = [cols for _, (_, cols), _ in ctx.parts]
        first_row, end_row = max(s.start for s in block_rows), min(s.stop for s in block_rows)
        first_col, end_col = max(s.start for s in block_cols), min(s.stop for s in block_cols)
        border = fill.to(dtype).view(channels, 1, 1)
        for rows, cols in (
            (slice(0, first_row), slice(None)),
            (slice(end_row, None), slice(None)),
            (slice(None), slice(0, first_col)),
            (slice(None), slice(end_col, None)),
        ):
            out[:, rows, cols] = border
        ctx.x_shape, ctx.x_dtype = x.shape, x.dtype
        pixels = x.permute(0, 2, 3, 1)
        for (row, col), (block_rows, block_cols), (rows, cols) in ctx.parts:
            out[:, block_rows, block_cols, :, row, col] = pixels[:, rows, cols]
        return out.view(batch, blocks_h, blocks_w, 4 * channels).permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, gradient: Tensor) -> tuple[Tensor | None, ...]:
        batch, channels, height, width = ctx.x_shape
        blocks = gradient.permute(0, 2, 3, 1).reshape(batch, *gradient.shape[-2:], channels, 2, 2)
        grad = torch.empty(batch, height, width, channels, dtype=ctx.x_dtype, device=gradient.device)
        for (row, col), (block_rows, block_cols), (rows, cols) in ctx.parts:
            grad[:, rows, cols] = blocks[:, block_rows, block_cols, :, row, col]
        return grad.permute(0, 3, 1, 2), None, None, None


def _block_parts(
    size: tuple[int, int], before: tuple[int, int], blocks: tuple[int, int]
) -> list[tuple[tuple[int, int], ...]]:
    """For each position (row, col) in a 2x2 block: which blocks hold image pixels, and which pixels."""

    def spans(axis: int, offset: int) -> tuple[slice, slice]:
        first = (before[axis] - offset + 1) // 2  # first block whose pixel at this offset is in the image
        last = min((size[axis] + before[axis] - offset - 1) // 2, blocks[axis] - 1)  # and the last
        start = 2 * first + offset - before[axis]
        return slice(first, last + 1), slice(start, start + 2 * (last - first) + 1, 2)

    parts = []
    for row in (0, 1):
        for col in (0, 1):
            (block_rows, rows), (block_cols, cols) = spans(0, row), spans(1, col)
            parts.append(((row, col), (block_rows, block_cols), (rows, cols)))
    return parts


class SpaceToDepthConv2d(nn.Module):
    """A stride-2 convolution computed on 2x2 pixel blocks (``pixel_unshuffle``) with stride 1.

    The kernel is zero-padded to even size and rearranged so that
    ``conv2d(x, w, stride=2, padding=p) == conv2d(unshuffle(pad(x)), w')``.

    Args:
        conv: a ``Conv2d`` with stride 2, no dilation, one group and zero padding mode.

    Attributes:
        fill: the value per input channel the border is padded with (zeros, as ``conv`` does);
            :meth:`~inceptionism.models.network.Network.prepared` changes it when it folds the
            input normalisation into the kernel, so the border stays what the network saw.
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
        self.register_buffer("fill", torch.zeros(conv.in_channels, device=weight.device), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Same as the stride-2 convolution it was made from, on ``(B, C, H, W)``."""
        height, width = x.shape[-2:]
        (kernel_h, kernel_w), (pad_h, pad_w) = self.kernel_size, self.padding
        out_h = (height + 2 * pad_h - kernel_h) // 2 + 1
        out_w = (width + 2 * pad_w - kernel_w) // 2 + 1
        blocks_h, blocks_w = self.weight.shape[-2:]
        # Enough rows and columns for out + blocks - 1 block positions; extra ones meet zero taps only.
        pads = (pad_h, 2 * (out_h + blocks_h - 1) - height - pad_h, pad_w, 2 * (out_w + blocks_w - 1) - width - pad_w)
        device = x.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else x.dtype
        return F.conv2d(_PadToBlocks.apply(x, self.fill, pads, dtype), self.weight, self.bias)


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


@functools.cache
def _worker() -> ThreadPoolExecutor:
    """The thread that scatters half of each max-pool gradient (created on first use, not at import)."""
    _forgotten_in_forked_children()
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="inceptionism-pool")


@functools.cache
def _forgotten_in_forked_children() -> None:
    """Registered once, with the first pool: a forked child has no such thread, so it makes its own."""
    os.register_at_fork(after_in_child=_worker.cache_clear)


def _rows(t: Tensor, start: int, stop: int) -> Tensor:
    """Rows ``start:stop`` of a channels-last ``(1, C, H, W)`` tensor, a view PyTorch's out= ops accept."""
    _, channels, _, width = t.shape
    rows = stop - start
    # Strides exactly those of a channels-last tensor of this shape, so out= ops write in place.
    strides = (rows * width * channels, 1, width * channels, channels)
    return t.as_strided((1, channels, rows, width), strides, t.storage_offset() + start * width * channels)


def _scatter(
    gradient: Tensor, indices: Tensor, into: Tensor, kernel_w: int, stride_w: int, pad_w: int, ceil: bool
) -> None:
    """Zero ``into`` and add each of ``gradient``'s values where ``indices`` point (row-major in ``into``).

    PyTorch's max-pool backward checks the gradient's height against the input's, then only
    follows the indices: a kernel of (input rows - gradient rows + 1) rows with stride 1 passes
    the check for any band of gradient rows no taller than ``into``.
    """
    kernel_h = into.shape[2] - gradient.shape[2] + 1
    torch.ops.aten.max_pool2d_with_indices_backward.grad_input(
        gradient, into, [kernel_h, kernel_w], [1, stride_w], [0, pad_w], [1, 1], ceil, indices, grad_input=into
    )


class _SplitMaxPool2d(torch.autograd.Function):
    """Max-pooling of one channels-last image whose gradient two threads scatter.

    PyTorch's channels-last max-pool backward divides its work over the batch only, so for one
    image one core works while the other waits. Here a worker thread scatters the gradient of
    the top half of the output rows into a buffer as tall as the input rows they reach, while
    this thread scatters the bottom half into the whole input gradient; then the buffer is
    added in. The indices count from the first input row, where both start.
    """

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        x: Tensor,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
        ceil: bool,
    ) -> Tensor:
        out, indices = torch.ops.aten.max_pool2d_with_indices(x, kernel, stride, padding, [1, 1], ceil)
        ctx.save_for_backward(indices)
        ctx.shape, ctx.kernel, ctx.stride, ctx.padding, ctx.ceil = x.shape, kernel, stride, padding, ceil
        return out

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, gradient: Tensor) -> tuple[Tensor | None, ...]:
        (indices,) = ctx.saved_tensors
        (kernel_h, kernel_w), (stride_h, stride_w), (pad_h, pad_w) = ctx.kernel, ctx.stride, ctx.padding
        _, channels, height, width = ctx.shape
        gradient = gradient.contiguous(memory_format=torch.channels_last)
        grad = torch.empty(ctx.shape, dtype=gradient.dtype, memory_format=torch.channels_last)
        out_rows = gradient.shape[2]
        if out_rows < 2 * MIN_SPLIT_ROWS:
            torch.ops.aten.max_pool2d_with_indices_backward.grad_input(
                gradient, grad, ctx.kernel, ctx.stride, ctx.padding, [1, 1], ctx.ceil, indices, grad_input=grad
            )
            return grad, None, None, None, None
        scatter = functools.partial(_scatter, kernel_w=kernel_w, stride_w=stride_w, pad_w=pad_w, ceil=ctx.ceil)
        middle = out_rows // 2
        reach = min(height, (middle - 1) * stride_h - pad_h + kernel_h)  # input rows the top half's windows reach
        top = torch.empty(1, channels, reach, width, dtype=gradient.dtype, memory_format=torch.channels_last)
        pending = _worker().submit(scatter, _rows(gradient, 0, middle), _rows(indices, 0, middle), top)
        scatter(_rows(gradient, middle, out_rows), _rows(indices, middle, out_rows), grad)
        pending.result()
        _rows(grad, 0, reach).add_(top)
        return grad, None, None, None, None


class ThreadedMaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` whose gradient, for one channels-last image on the CPU, two threads compute.

    Same values and (up to the order of additions) same gradient; other inputs, and runs with
    one thread, take ``nn.MaxPool2d``'s own path.
    """

    def forward(self, x: Tensor) -> Tensor:
        """Max-pool ``(B, C, H, W)``."""
        if not (
            torch.is_grad_enabled()
            and x.requires_grad
            and x.device.type == "cpu"
            and x.dim() == 4
            and x.shape[0] == 1
            and x.is_contiguous(memory_format=torch.channels_last)
            and not self.return_indices
            and _pair(self.dilation) == (1, 1)
            and torch.get_num_threads() > 1
        ):
            return super().forward(x)
        kernel = _pair(self.kernel_size)
        return _SplitMaxPool2d.apply(x, kernel, _pair(self.stride or kernel), _pair(self.padding), self.ceil_mode)


def faster_pool(pool: nn.Module) -> nn.Module:
    """A :class:`ThreadedMaxPool2d` for an ``nn.MaxPool2d``; anything else as it is."""
    if type(pool) is not nn.MaxPool2d:
        return pool
    return ThreadedMaxPool2d(
        pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.return_indices, pool.ceil_mode
    )


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
