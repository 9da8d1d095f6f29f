"""Frames dreamed one after another, each going on from the last one's dream moved along the optical flow.

The first frame of a shot (the first frame, and the first after a scene cut) is dreamed
alone, with the full settings; how strong its dream is (mean |dream - frame| in levels)
becomes the strength every later frame of the shot is held at. Each later frame starts from
the previous frame's dream (the dream minus its input) moved along the flow, times
``blend``, wherever the flow is valid, and is dreamed on with a short schedule
(:func:`carried_settings`) whose step, pixel by pixel, is small where the carried dream is
trusted and large where nothing could be carried (uncovered, occluded, changed): there the
dream is made at full strength in that same frame. Its dream is then scaled to the shot's
strength, so that it neither fades nor grows. A video is one chain, or, cut into segments,
one chain per segment.
"""

from __future__ import annotations

import numpy as np
import torch

from inceptionism.engine.dreamer import Dreamer, DreamFrame
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.settings import DreamSettings
from inceptionism.render.cuts import CutDetector, histogram_change
from inceptionism.render.flow import FlowWarp, Motion, warp
from inceptionism.render.meter import strength

CARRIED_OCTAVES = 3
CARRIED_STEPS = 0.4
"""A frame going on from a carried dream is dreamed over the last ``CARRIED_OCTAVES`` octaves
with this share of the steps: 3 octaves of 4 steps against 4 of 10 cost 37% of the gradient
computations (the last octave is the full size, each one before it 1/1.96 of that). With 2
octaves, pixels where nothing could be carried got less dream where the input moved fast
(70% of their dream alone on the walker of ``bikes.mp4``, 89% with 3): the third octave
grows shapes large enough to fill what was uncovered."""
STEP_FRESH = 5.0
"""The step, times the settings' step size, of a pixel whose dream is all made anew in this
frame; a pixel's step is this times the share made anew there, ``1 - blend x trust``: with
the default blend of 0.9, 0.5 where the carried dream is trusted and 5 where nothing could be
carried. Measured on three real clips (320 px, SqueezeNet fire7, blend 0.9): with 0.5 the
flicker stays at 16-17% of frames dreamed alone; with 5, pixels where nothing could be
carried get 102-135% of the dream they get alone."""
HOLD_LIMITS = (0.67, 1.5)
"""How far one frame's dream may be scaled toward the shot's strength."""
MAKE_UP = 4
MAKE_UP_MARGIN = 0.002
"""Each make-up pass aims this much over the target: rounding to whole levels moves few pixels,
so a pass aimed at the target exactly can stay a hair under it."""
TARGET_DRIFT = 0.25
"""When a frame's grey histogram has moved this far (0..1) from that of the frame the target
was measured on (a fade, a change of light), the frame is also dreamed alone to measure it
again: a dream out of black is weaker than one of the lit scene."""


def carried_settings(
    settings: DreamSettings, *, octaves: int = CARRIED_OCTAVES, share: float = CARRIED_STEPS
) -> DreamSettings:
    """The settings of a frame going on from the dream carried onto it: the last ``octaves``, ``share`` of the steps.

    >>> carried = carried_settings(DreamSettings(octaves=4, steps=10))
    >>> carried.octaves, carried.steps
    (3, 4)
    """
    steps = max(1, round(settings.steps * share))
    return settings.replace(octaves=min(settings.octaves, octaves), steps=steps)


class FlowChain:
    """Dream consecutive frames, the dream carried from each to the next.

    Args:
        dreamers: the Dreamer of a frame dreamed alone, and that of a frame going on from a
            carried dream (:func:`carried_settings`).
        blend: how much of the previous frame's dream is carried where the flow is valid (0..1).
        flow: carry it along the optical flow (``False``: every frame dreamed alone).
        steady: every frame after the first costs the same (live): a new shot is dreamed with
            the short schedule, nothing carried and every pixel's step the largest, and the
            strength held is the first frame's, never measured again.
    """

    def __init__(self, dreamers: tuple[Dreamer, Dreamer], *, blend: float, flow: bool, steady: bool = False) -> None:
        self.dreamers = dreamers
        self.blend = blend
        self.steady = steady
        self.warper = FlowWarp() if flow else None
        self.cuts = CutDetector()
        self.previous_detail: np.ndarray | None = None
        self.target = 0.0  # the strength of a frame of this shot dreamed alone
        self.measured_on: np.ndarray | None = None  # the grey histogram of that frame
        self.unmeasured: np.ndarray | None = None  # a frame to measure the target on (found by follow)

    def _motion(self, picture: np.ndarray) -> Motion | None:
        """How ``picture`` came from the previous frame; ``None`` if it starts a shot (or without flow)."""
        if self.warper is None:
            return None
        motion = self.warper.step(picture)
        return None if self.cuts(picture, motion) or self.previous_detail is None else motion

    def _drifted(self) -> bool:
        """Whether the picture has changed so much since the target was measured that it is measured again."""
        return histogram_change(self.cuts.histogram, self.measured_on) > TARGET_DRIFT

    def _set_target(self, detail: np.ndarray) -> None:
        """The shot's strength is that of ``detail``, a frame's dream dreamed alone (this frame's)."""
        self.target, self.measured_on, self.unmeasured = strength(detail), self.cuts.histogram, None

    def follow(self, picture: np.ndarray, dreamed: np.ndarray) -> None:
        """Go on from a frame dreamed before (kept from an earlier run) without dreaming it."""
        if self.warper is None:
            return
        starts_shot = self._motion(picture) is None
        self.previous_detail = dream_of(dreamed, picture)
        if starts_shot:
            self._set_target(self.previous_detail)
        elif self._drifted():  # measured if the chain goes on: only the last such frame counts
            self.unmeasured, self.measured_on = picture, self.cuts.histogram

    def __call__(self, picture: np.ndarray, *, index: int = 0, progress: ProgressCallback | None = None) -> np.ndarray:
        """Dream the next frame ``(H, W, 3)`` uint8; the dream, ``(H, W, 3)`` uint8."""
        motion = self._motion(picture)
        if motion is None and not (self.steady and self.previous_detail is not None):
            dreamed = _pixels(self.dreamers[0](_tensor(picture), callback=progress, index=index))
            if self.warper is not None:
                self.previous_detail = dream_of(dreamed, picture)
                self._set_target(self.previous_detail)
            return dreamed
        if self.unmeasured is not None:  # a resumed chain measures what the first run measured there
            self._measure_alone(self.unmeasured, self.measured_on, index, progress)
        if not self.steady and self._drifted():
            self._measure_alone(picture, self.cuts.histogram, index, progress)
        carried, steps = self._carried(picture, motion)
        frame = self.dreamers[1](
            _tensor(picture), detail=_tensor(carried), step_map=torch.from_numpy(steps)[None, None],
            callback=progress, index=index,
        )  # fmt: skip
        dreamed, self.previous_detail = held(picture, _pixels(frame), self.target)
        return dreamed

    def _carried(self, picture: np.ndarray, motion: Motion | None) -> tuple[np.ndarray, np.ndarray]:
        """The dream carried onto ``picture``, and each pixel's step: the share of its dream made anew.

        Across a cut of a steady chain nothing is carried and every pixel takes the largest step.
        """
        if motion is None:
            return np.zeros_like(picture, np.float32), np.full(picture.shape[:2], STEP_FRESH, np.float32)
        return self.blend * warp(self.previous_detail, motion), STEP_FRESH * (1.0 - self.blend * motion.trust)

    def _measure_alone(
        self, picture: np.ndarray, histogram: np.ndarray, index: int, progress: ProgressCallback | None
    ) -> None:
        """Set the target to the strength of ``picture`` dreamed alone (that dream is not shown)."""
        alone = _pixels(self.dreamers[0](_tensor(picture), callback=progress, index=index))
        self.target = strength(dream_of(alone, picture))
        self.measured_on, self.unmeasured = histogram, None


def held(picture: np.ndarray, dreamed: np.ndarray, target: float) -> tuple[np.ndarray, np.ndarray]:
    """``dreamed`` with its dream scaled toward the strength ``target`` (within :data:`HOLD_LIMITS`).

    What the 0..255 range clips off and rounding takes is made up (in at most :data:`MAKE_UP` more
    passes, within the limits): the frame shown is as strong as the target, not a shade under.

    Returns:
        The frame ``(H, W, 3)`` uint8 and its dream (frame minus ``picture``) as float32.
    """
    detail = dream_of(dreamed, picture)
    now = strength(detail)
    if now <= 0 or target <= 0:
        return dreamed, detail
    scale = _bounded(target / now)
    frame = _added(picture, detail * scale)
    for _ in range(MAKE_UP):
        shown = strength(dream_of(frame, picture))
        wanted = _bounded(scale * target / shown * (1 + MAKE_UP_MARGIN)) if shown > 0 else scale
        if shown >= target or wanted <= scale:
            break
        scale = wanted
        frame = _added(picture, detail * scale)
    return frame, dream_of(frame, picture)


def _bounded(scale: float) -> float:
    return min(max(scale, HOLD_LIMITS[0]), HOLD_LIMITS[1])


def _added(picture: np.ndarray, detail: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(picture.astype(np.float32) + detail), 0, 255).astype(np.uint8)


def dream_of(dreamed: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """What was dreamed on ``picture``: ``dreamed - picture`` as float32 ``(H, W, 3)``."""
    return dreamed.astype(np.float32) - picture.astype(np.float32)


def _pixels(frame: DreamFrame) -> np.ndarray:
    return frame.pixels[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _tensor(values: np.ndarray) -> torch.Tensor:
    # A copy: the decoded frame is read-only, and torch warns about arrays it cannot write.
    return torch.from_numpy(np.array(values, copy=True)).permute(2, 0, 1).unsqueeze(0)
