"""Windows of an image that wrap around its edges: tiles, and rolls without a temporary."""

from __future__ import annotations

from torch import Tensor


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
