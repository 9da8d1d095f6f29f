"""Running a render of many frames from the command line: a progress bar, Ctrl-C, and how to resume."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from tqdm.auto import tqdm

from inceptionism.cli.app import EXIT_INTERRUPTED, fail
from inceptionism.render.frames import FrameCallback, FrameDone, RenderStopped

T = TypeVar("T")
FALLBACK_SIZE = (80, 24)
"""Columns and rows a bar is drawn for where the terminal reports none."""


def bar_size(file: IO[str]) -> dict[str, int]:
    """The ``ncols`` and ``nrows`` a bar on ``file`` needs: on a terminal that reports 0 columns tqdm draws nothing.

    A terminal that reports its size, or a file that is no terminal, is left to tqdm (``{}``).
    """
    try:
        columns, rows = os.get_terminal_size(file.fileno())
    except (AttributeError, OSError, ValueError):
        return {}
    if columns > 1 and rows > 1:
        return {}
    return {"ncols": FALLBACK_SIZE[0] - 1, "nrows": FALLBACK_SIZE[1] - 1}  # tqdm keeps the last column free


def run_render(
    render: Callable[[FrameCallback], T], *, kept: Path, total: int | None, quiet: bool, unit: str = "frame"
) -> T:
    """Call ``render(callback)`` with a progress bar; the first Ctrl-C stops it after the frame (or item).

    A stopped render exits 130 with one line saying where its finished ``kept`` frames are
    and how to resume.
    """
    stop = StopOnInterrupt(unit)
    with tqdm(total=total, unit=unit, file=sys.stderr, disable=True if quiet else None, **bar_size(sys.stderr)) as bar:

        def frame_done(done: FrameDone) -> bool:
            bar.total = done.frames
            bar.update()
            return stop.asked

        try:
            with stop:
                return render(frame_done)
        except RenderStopped as stopped:
            bar.close()
            fail(f"{stopped} (the finished {unit}s are in {kept})", EXIT_INTERRUPTED)


class StopOnInterrupt:
    """The first Ctrl-C asks to stop after the current frame; a second one stops at once."""

    def __init__(self, unit: str) -> None:
        self.asked = False
        self.unit = unit

    def __enter__(self) -> StopOnInterrupt:
        self._previous = signal.signal(signal.SIGINT, self._ask)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _ask(self, signum: int, frame: object) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        tqdm.write(f"stopping after this {self.unit} (Ctrl-C again to stop at once)", file=sys.stderr)
