"""A progress bar to pass as a dream's callback: a widget in Jupyter, a text bar in a terminal (``tqdm.auto``).

>>> import inceptionism
>>> result = inceptionism.dream(octaves=1, steps=2, max_size=64, callback=ProgressBar(disable=True))
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from inceptionism.engine.progress import Progress


class ProgressBar:
    """Steps of a dream (or of each frame of a zoom or video) on a ``tqdm.auto`` bar.

    Args:
        **options: passed to ``tqdm`` (``desc``, ``disable``, ``leave``...).
    """

    def __init__(self, **options: Any) -> None:
        self.options = {"unit": "step", **options}
        self.bar: Any = None

    def __call__(self, progress: Progress) -> None:
        """Move the bar one step (a new bar for each frame)."""
        if self.bar is None or progress.done == 1:
            self.close()
            self.bar = tqdm(total=progress.total, **self.options)
        self.bar.set_postfix(octave=f"{progress.octave}/{progress.octaves}", loss=f"{progress.loss:.4g}",
                             refresh=False)  # fmt: skip
        self.bar.update()
        if progress.done == progress.total:
            self.close()

    def close(self) -> None:
        """Close the bar (done by itself after the last step)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
