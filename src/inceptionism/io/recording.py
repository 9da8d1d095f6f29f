"""An MP4 written frame by frame as frames come, at the moments they came, and finished atomically.

A live session is recorded this way: frames arrive when they are dreamed, not at a fixed
rate, so each is stamped with its own time (milliseconds). The file is written under a
hidden name beside the output and takes the output's name only when it is finished: an
output is never half-written, and a recording abandoned leaves nothing.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from inceptionism.io.files import temporary_name
from inceptionism.io.video import _av, h264_stream, rgb_frame

TIME_BASE = Fraction(1, 1000)
NOMINAL_RATE = Fraction(30)  # what the stream declares; each frame keeps its own time


class Recording:
    """Frames ``(H, W, 3)`` uint8 RGB written to the MP4 ``output`` at the times they are given.

    Every frame has the first frame's size (others are scaled to it).
    """

    def __init__(self, output: str | os.PathLike, *, comment: str = "") -> None:
        self.output = Path(output)
        self.scratch = temporary_name(self.output)
        self.container = _av().open(str(self.scratch), "w", format="mp4")
        self.container.metadata["comment"] = comment
        self.stream = None
        self.shape: tuple[int, ...] = ()  # the first frame's (H, W, 3)
        self.first = 0.0
        self.last_pts = -1
        self.count = 0

    def write(self, pixels: np.ndarray, seconds: float) -> None:
        """Add a frame shown at ``seconds`` (any clock; the first frame is at 0)."""
        if self.stream is None:
            height, width = pixels.shape[:2]
            self.stream = h264_stream(self.container, rate=NOMINAL_RATE, size=(width, height))
            self.stream.time_base = self.stream.codec_context.time_base = TIME_BASE
            self.first, self.shape = seconds, pixels.shape
        elif pixels.shape != self.shape:
            pixels = _resized(pixels, (self.shape[1], self.shape[0]))
        frame = rgb_frame(self.stream, pixels)
        frame.pts = max(self.last_pts + 1, round((seconds - self.first) / TIME_BASE))
        frame.time_base = TIME_BASE
        self.last_pts = frame.pts
        self.container.mux(self.stream.encode(frame))
        self.count += 1

    def finish(self) -> bool:
        """Finish the file and give it its name; ``False`` (and nothing written) if no frame was given."""
        if self.stream is None:
            self.abandon()
            return False
        try:
            self.container.mux(self.stream.encode())
            self.container.close()
            os.replace(self.scratch, self.output)
        except BaseException:
            self.abandon()
            raise
        return True

    def abandon(self) -> None:
        """Close and remove what was written."""
        with contextlib.suppress(Exception):  # closing a file that failed: what is left is removed below
            self.container.close()
        self.scratch.unlink(missing_ok=True)


def _resized(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2  # the [video] extra

    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
