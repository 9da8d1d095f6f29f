"""Optical flow between consecutive input frames: where each pixel came from, and whether to trust it.

OpenCV's DIS flow is computed both ways; a pixel whose backward flow is not undone by the
forward flow at the place it points to (occluded, newly uncovered, or simply wrong) is not
trusted, and nothing is carried there, so nothing smears.
"""

from __future__ import annotations

import numpy as np

CONSISTENCY = 0.5  # pixels: the forward-backward round trip must end this close to where it started
RELATIVE = 0.05  # ... plus this fraction of the flow's length (fast motion is less precise)


def _cv2():
    import cv2  # the [video] extra (opencv-python-headless)

    return cv2


class FlowWarp:
    """Warps what was dreamed on the previous frame onto the current one.

    One instance per video: it keeps the DIS flow object and the previous grey frame.
    """

    def __init__(self) -> None:
        cv2 = _cv2()
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.previous: np.ndarray | None = None

    def step(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Give the next input frame ``(H, W, 3)`` uint8; get ``(map, valid)`` from the previous frame.

        ``map`` ``(H, W, 2)`` float32 holds, for every pixel of this frame, where it was in the
        previous one; ``valid`` ``(H, W)`` float32 is 1 where that is trusted, 0 where not.
        ``None`` for the first frame (or after a change of size).
        """
        cv2 = _cv2()
        grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
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
        valid = inside & (error <= CONSISTENCY + RELATIVE * np.linalg.norm(backward, axis=2))
        return where, valid.astype(np.float32)


def warp(values: np.ndarray, where: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``values`` ``(H, W, C)`` of the previous frame moved to this frame's pixels; 0 where not ``valid``."""
    cv2 = _cv2()
    moved = cv2.remap(values, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return moved * valid[..., None]
