"""Optical flow between consecutive input frames: where each pixel came from, and how far to trust it.

OpenCV's DIS flow is computed both ways; a pixel whose backward flow is not undone by the
forward flow at the place it points to (occluded, newly uncovered, or simply wrong) is not
valid, and nothing is carried there, so nothing smears. A valid pixel is trusted less where
the previous frame, moved by the flow, does not look like this one (a turning head, a
stretching arm, a reflection): the dream carried there no longer fits what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONSISTENCY = 0.5  # pixels: the forward-backward round trip must end this close to where it started
RELATIVE = 0.05  # ... plus this fraction of the flow's length (fast motion is less precise)
MISMATCH = 12.0
"""Grey levels: where the moved previous frame differs from this one by this much, a valid
pixel is trusted exp(-1) = 37%. Measured on the Big Buck Bunny clip (320x180, SqueezeNet
fire7): with trust from the forward-backward check alone, the bunny's moving arm and body
kept 66% of the dream of a frame dreamed alone relative to the still grass; with this, 114%."""
MISMATCH_BLUR = 1.5  # sigma in pixels: one noisy pixel is not a mismatch


def _cv2():
    import cv2  # the [video] extra (opencv-python-headless)

    return cv2


def grey_levels(pixels: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB as ``(H, W)`` uint8 luma."""
    cv2 = _cv2()
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


@dataclass(frozen=True)
class Motion:
    """How this frame came from the previous one.

    Attributes:
        where: ``(H, W, 2)`` float32: for every pixel of this frame, where it was in the previous one.
        valid: ``(H, W)`` float32, 1 where the flow passes its forward-backward check, else 0.
        trust: ``(H, W)`` float32 in 0..1: ``valid``, lowered where the moved previous frame
            does not match this one.
    """

    where: np.ndarray
    valid: np.ndarray
    trust: np.ndarray

    @property
    def valid_share(self) -> float:
        """The share of pixels whose flow passes its check (near 0 across a scene cut)."""
        return float(self.valid.mean())


class FlowWarp:
    """Follows the input frame by frame and tells how each frame came from the one before.

    One instance per chain of frames: it keeps the DIS flow object and the previous grey frame.
    DIS's medium preset: its fast one (6 times quicker at 320x240) more than doubled the flicker
    of a live dream on real footage (``carphone_pristine.mp4``: 2.04 against 1.13 levels).
    """

    def __init__(self) -> None:
        cv2 = _cv2()
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.previous: np.ndarray | None = None

    def step(self, pixels: np.ndarray) -> Motion | None:
        """Give the next input frame ``(H, W, 3)`` uint8; get its :class:`Motion` from the previous one.

        ``None`` for the first frame (or after a change of size).
        """
        cv2 = _cv2()
        grey = grey_levels(pixels)
        previous, self.previous = self.previous, grey
        if previous is None or previous.shape != grey.shape:
            return None
        backward = self.dis.calc(grey, previous, None)  # this frame -> previous frame
        forward = self.dis.calc(previous, grey, None)  # previous frame -> this frame
        height, width = grey.shape
        columns, rows = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        where = np.dstack((columns + backward[..., 0], rows + backward[..., 1]))
        back_again = cv2.remap(forward, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        error = np.linalg.norm(backward + back_again, axis=2)
        inside = (
            (where[..., 0] >= 0) & (where[..., 0] <= width - 1) & (where[..., 1] >= 0) & (where[..., 1] <= height - 1)
        )
        valid = (inside & (error <= CONSISTENCY + RELATIVE * np.linalg.norm(backward, axis=2))).astype(np.float32)
        return Motion(where, valid, valid * _match(grey, previous, where))


def _match(grey: np.ndarray, previous: np.ndarray, where: np.ndarray) -> np.ndarray:
    """How well the previous grey frame moved along ``where`` matches this one, 0..1 per pixel."""
    cv2 = _cv2()
    moved = cv2.remap(previous.astype(np.float32), where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mismatch = cv2.GaussianBlur(np.abs(grey.astype(np.float32) - moved), (0, 0), MISMATCH_BLUR)
    return np.exp(-np.square(mismatch / MISMATCH))


def warp(values: np.ndarray, motion: Motion) -> np.ndarray:
    """``values`` ``(H, W, C)`` float32 of the previous frame moved to this frame's pixels; 0 where not valid.

    Bicubic: the dream is moved again on every frame, and bilinear interpolation blurs it a
    little each time (measured: 5% less dream on moving things after 60 frames).
    """
    cv2 = _cv2()
    moved = cv2.remap(values, motion.where, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return moved * motion.valid[..., None]
