"""What a render of many frames reports after each one, and how a caller stops it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inceptionism.engine.progress import Cancelled


@dataclass(frozen=True)
class FrameDone:
    """Reported after every finished frame.

    Attributes:
        index: the frame's index, from 0.
        frames: frames in the render: for a video, those of the part dreamed (from ``start`` to
            ``end``), estimated from its frame rate until it is decoded.
        resumed: whether the frame was found finished in the work directory.
    """

    index: int
    frames: int
    resumed: bool


FrameCallback = Callable[[FrameDone], "bool | None"]
"""Called after every frame; returning ``True`` stops the render after it (it can be resumed)."""


class RenderStopped(Cancelled):
    """A frame callback stopped the render; the finished frames are kept for a resume."""


def report_frame(callback: FrameCallback | None, done: FrameDone, *, last: bool, what: str = "frame") -> None:
    """Give ``done`` to ``callback``; raise :class:`RenderStopped` if it asks to stop before the end.

    ``what``: what the render makes, for the message (``"dream"`` for a batch).
    """
    if callback is not None and callback(done) is True and not last:
        raise RenderStopped(
            f"stopped after {what} {done.index + 1} of {done.frames}; run the same again to resume from there"
        )
