"""The feedback bias made visible: what the network sees in every frame, as a CSV and a chart."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from inceptionism.classify import class_probabilities
from inceptionism.io.files import atomic_writer
from inceptionism.models.network import Network

TOP = 5  # labels per frame in the CSV
CHARTED = 3  # a label is charted if it is among the top 3 of any frame


class LabelTrack:
    """Class probabilities frame after frame, from :func:`~inceptionism.classify.class_probabilities`."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.probabilities: list[Tensor] = []

    def add(self, image: Image.Image) -> None:
        """Record what the network sees in the next frame."""
        self.probabilities.append(class_probabilities(image, self.net))

    def rows(self) -> list[tuple[int, int, str, float]]:
        """``(frame, rank, label, probability)`` for the top labels of every frame."""
        rows = []
        for frame, probabilities in enumerate(self.probabilities):
            values, indices = probabilities.topk(TOP)
            for rank, (value, index) in enumerate(zip(values.tolist(), indices.tolist(), strict=True), start=1):
                rows.append((frame, rank, self.net.labels[index], value))
        return rows

    def charted(self) -> list[int]:
        """Classes among the top 3 of any frame, the most probable at the last frame first."""
        table = torch.stack(self.probabilities)
        chosen = torch.unique(table.topk(CHARTED, dim=1).indices)
        return sorted(chosen.tolist(), key=lambda index: -float(table[-1, index]))

    def write_csv(self, path: Path) -> None:
        """The top labels of every frame as ``frame,rank,label,probability``."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(("frame", "rank", "label", "probability"))
        writer.writerows((frame, rank, label, f"{value:.6f}") for frame, rank, label, value in self.rows())
        with atomic_writer(path) as handle:
            handle.write(text.getvalue().encode())

    def write_chart(self, path: Path, *, title: str) -> None:
        """A chart of the charted labels' probability across frames, as PNG."""
        import matplotlib  # the [video] extra

        matplotlib.use("Agg")
        from matplotlib import pyplot

        table = torch.stack(self.probabilities)
        figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=100)
        frames = range(len(self.probabilities))
        for index in self.charted():
            axes.plot(frames, table[:, index].tolist(), label=self.net.labels[index], linewidth=1.8)
        axes.set(xlabel="frame", ylabel="probability", ylim=(0, 1), title=title)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize="small", ncols=2)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        pyplot.close(figure)
        with atomic_writer(path) as handle:
            handle.write(buffer.getvalue())


def label_paths(output: Path) -> Sequence[Path]:
    """``OUT.labels.csv`` and ``OUT.labels.png`` beside ``output``."""
    return output.with_name(f"{output.name}.labels.csv"), output.with_name(f"{output.name}.labels.png")
