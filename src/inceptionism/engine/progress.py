"""What the engine reports after every step, and how a caller stops it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor

from inceptionism.errors import InceptionismError


class Cancelled(InceptionismError):
    """A progress callback asked the dream to stop; nothing was returned."""


@dataclass(frozen=True)
class Progress:
    """Reported after every step.

    Attributes:
        octave: 1-based octave number (1 is the smallest scale).
        octaves: number of octaves.
        step: 1-based step within the octave.
        steps: steps per octave.
        loss: objective value at this step (before the update).
        frame: index of the frame being dreamed (0 for a still; a zoom or video counts up).
        pixels: the image so far, ``(1, 3, h, w)`` RGB in 0..255 at this octave's size, on the
            engine's device; valid only during the callback (see :meth:`snapshot`).
    """

    octave: int
    octaves: int
    step: int
    steps: int
    loss: float
    frame: int = 0
    pixels: Tensor | None = field(default=None, repr=False, compare=False)

    @property
    def done(self) -> int:
        """Steps finished so far, over all octaves."""
        return (self.octave - 1) * self.steps + self.step

    @property
    def total(self) -> int:
        """Steps in the whole run."""
        return self.octaves * self.steps

    def snapshot(self) -> Tensor | None:
        """A CPU copy of the image so far, for a preview (``None`` if the engine gave none)."""
        return None if self.pixels is None else self.pixels.detach().float().cpu().clone()


ProgressCallback = Callable[[Progress], "bool | None"]
"""Called after every step; returning ``True`` stops the dream (the engine raises :class:`Cancelled`)."""


def report(callback: ProgressCallback | None, progress: Progress) -> None:
    """Give ``progress`` to ``callback``; raise :class:`Cancelled` if it asks to stop."""
    if callback is not None and callback(progress) is True:
        raise Cancelled(
            f"cancelled at step {progress.done} of {progress.total}"
            + (f" of frame {progress.frame}" if progress.frame else "")
        )
