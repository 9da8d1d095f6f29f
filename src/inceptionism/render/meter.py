"""How a dreamed film looks, in numbers: how strong its dream is, and how much it flickers.

Measured frame by frame against the input, on the input's own optical flow:

- **strength**: the mean absolute difference between the dreamed frame and its input, in levels;
- **flicker**: the dreamed frame before, moved onto this one along the input's flow, against
  this one (mean absolute difference over the pixels whose flow passes its check), less the
  same for the input frames (what the motion itself leaves);
- **saturation gain**: how much more saturated the dreamed frame is than its input (the mean
  of HSV saturation, 0..255);
- strength on **moving** pixels (the input changes there by more than :data:`MOVING` levels
  from the frame before) and on **still** ones, and on pixels where nothing could be
  **carried** (the flow fails its check).

Frames that start a shot (see :mod:`~inceptionism.render.cuts`) have no flicker.

>>> import numpy as np
>>> meter = VideoMeter()
>>> still = np.full((48, 64, 3), 100, np.uint8)
>>> for _ in range(3):
...     meter.add(still, still + 5)
>>> meter.summary().strength
5.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inceptionism.render.cuts import CutDetector
from inceptionism.render.flow import FlowWarp, Motion, warp

MOVING = 12.0
"""Levels (mean over RGB) by which a pixel of the input changes from the frame before to count as moving."""
FEW = 0.002  # a frame counts toward a part's strength only if that part holds this share of its pixels


def strength(detail: np.ndarray) -> float:
    """How strong a dream is: the mean absolute value of ``detail`` (dream minus input), in levels."""
    return float(np.abs(detail).mean())


@dataclass
class VideoMeasures:
    """A dreamed film's measures (see the module); means over the frames where they apply.

    Attributes:
        strengths: the strength of every frame, in order.
        cuts: the indices of frames that start a shot (0 among them).
        flicker: mean flicker, in levels.
        moving: mean strength on moving pixels.
        still: mean strength on still pixels.
        uncarried: mean strength on pixels whose flow fails its check.
        saturation: mean saturation gain.
    """

    strengths: list[float] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    flicker: float = float("nan")
    moving: float = float("nan")
    still: float = float("nan")
    uncarried: float = float("nan")
    saturation: float = float("nan")

    @property
    def strength(self) -> float:
        """The mean strength over the frames (NaN before any)."""
        return float(np.mean(self.strengths)) if self.strengths else float("nan")


class VideoMeter:
    """Measures a dreamed film frame by frame, as it is made or read back."""

    def __init__(self) -> None:
        self.warper, self.cuts = FlowWarp(), CutDetector()
        self.previous: tuple[np.ndarray, np.ndarray] | None = None
        self.measures = VideoMeasures()
        self._parts: dict[str, list[float]] = {
            name: [] for name in ("flicker", "moving", "still", "uncarried", "saturation")
        }

    def add(self, picture: np.ndarray, dreamed: np.ndarray) -> None:
        """Measure the next frame: its input and its dream, each ``(H, W, 3)`` uint8."""
        source, result = picture.astype(np.float32), dreamed.astype(np.float32)
        motion = self.warper.step(picture)
        detail = np.abs(result - source).mean(axis=2)
        self.measures.strengths.append(strength(detail))
        self._parts["saturation"].append(_saturation(dreamed) - _saturation(picture))
        if self.cuts(picture, motion) or motion is None:  # a shot's first frame (the first of all too)
            self.measures.cuts.append(len(self.measures.strengths) - 1)
        else:
            self._compare(motion, source, result, detail)
        self.previous = source, result

    def _compare(self, motion: Motion, source: np.ndarray, result: np.ndarray, detail: np.ndarray) -> None:
        """Flicker and the strength of moving, still and uncarried pixels, against the frame before."""
        before, dreamed_before = self.previous
        valid = motion.valid > 0
        own = np.abs(source - warp(before, motion))[valid].mean()
        self._parts["flicker"].append(float(np.abs(result - warp(dreamed_before, motion))[valid].mean() - own))
        moving = np.abs(source - before).mean(axis=2) > MOVING
        for name, where in (("moving", moving), ("still", ~moving), ("uncarried", ~valid)):
            if where.mean() >= FEW:
                self._parts[name].append(float(detail[where].mean()))

    def summary(self) -> VideoMeasures:
        """The measures so far."""
        for name, values in self._parts.items():
            setattr(self.measures, name, float(np.mean(values)) if values else float("nan"))
        return self.measures


def _saturation(pixels: np.ndarray) -> float:
    """The mean HSV saturation of ``(H, W, 3)`` uint8 RGB pixels, 0..255."""
    import cv2  # the [video] extra

    return float(cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2HSV)[..., 1].mean())
