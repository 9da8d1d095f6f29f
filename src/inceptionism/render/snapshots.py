"""Intermediate images of a dream: every N steps, or at the end of each octave, numbered beside the output.

``dream photo.jpg -o out.png --save-every 5`` writes ``out_step0005.png``, ``out_step0010.png``...
and ``--save-octaves`` writes ``out_octave1.png``... at each octave's own size; in Python,
``dream(photo, callback=Snapshots("out.png", every=5))``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inceptionism.engine.options import Option
from inceptionism.engine.progress import Progress
from inceptionism.errors import InvalidParameterError
from inceptionism.io.images import output_format, save_image, to_image

SNAPSHOT_OPTIONS: dict[str, Option] = {
    "save_every": Option("save_every", None, "Also write the image every this many steps, numbered beside the "
                         "output (OUT_step0005.png...).", minimum=1, maximum=4096, shown_default="off", kind=int),
    "save_octaves": Option("save_octaves", False, "Also write the image at the end of each octave, at its size "
                           "(OUT_octave1.png...).", shown_default="off", kind=bool),
}  # fmt: skip
"""The options of :class:`Snapshots`, as the ``dream`` command takes them."""


class Snapshots:
    """A progress callback writing the dream so far: every ``every`` steps and/or after each octave.

    Args:
        output: the dream's output; the snapshots are named after it, in its folder and format.
        every: steps between snapshots (``None``: none by steps).
        octaves: also one at the end of every octave.
        then: another callback to call after (its answer, ``True`` to stop, is kept).

    Attributes:
        paths: the files written, in order.
    """

    def __init__(
        self,
        output: str | Path,
        *,
        every: int | None = None,
        octaves: bool = False,
        then: Callable[[Progress], bool | None] | None = None,
    ) -> None:
        self.output = Path(output)
        output_format(self.output)
        if every is None and not octaves:
            raise InvalidParameterError("give every=STEPS, octaves=True or both", argument="save_every")
        self.every = None if every is None else SNAPSHOT_OPTIONS["save_every"].check("save_every", every)
        self.octaves = octaves
        self.then = then
        self.paths: list[Path] = []

    def name(self, label: str) -> Path:
        """The snapshot file ``label`` names (``step0005``, ``octave2``)."""
        return self.output.with_name(f"{self.output.stem}_{label}{self.output.suffix}")

    def planned(self, octaves: int, steps: int) -> list[Path]:
        """Every file a dream of ``octaves`` x ``steps`` will write (to check none is an input)."""
        labels = (
            [f"step{done:04d}" for done in range(self.every or 0, octaves * steps + 1, self.every or 1)][
                : octaves * steps
            ]
            if self.every
            else []
        )
        labels += [f"octave{octave}" for octave in range(1, octaves + 1)] if self.octaves else []
        return [self.name(label) for label in labels]

    def __call__(self, progress: Progress) -> bool | None:
        """Write the snapshots this step is due, then call ``then``."""
        labels = []
        if self.every is not None and progress.done % self.every == 0:
            labels.append(f"step{progress.done:04d}")
        if self.octaves and progress.step == progress.steps:
            labels.append(f"octave{progress.octave}")
        if labels and progress.pixels is not None:
            image = to_image(progress.snapshot())
            for label in labels:
                self.paths.append(save_image(image, self.name(label)))
        return None if self.then is None else self.then(progress)
