"""The feedback bias made visible: what the network sees in every frame, as a CSV and a chart."""

from __future__ import annotations

import csv
import io
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from PIL import Image
from torch import Tensor

from inceptionism.classify import class_probabilities
from inceptionism.io.files import atomic_writer
from inceptionism.models.network import Network

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP = 5  # labels per frame in the CSV
CHARTED = 3  # a label is charted if it is among the top 3 of any frame (or of the input)
COLOURS = 20  # matplotlib's "tab20": 20 distinct colours, then the same again dashed, dotted...
DASHES = ("-", "--", ":", "-.")
# The studio shows the chart in a gallery column 220-310 px wide: at 4 inches wide, 11 pt text is
# 8.5-12 px there, and the PNG (600 px at 150 dpi) stays sharp on a screen of two pixels per px.
CHART_WIDTH, CHART_DPI, CHART_FONT = 4.0, 150, 11
LEGEND_ROWS = 20  # legend entries in a column: up to 20 labels, one column beside the axes
LEGEND_CHARS = 20  # a longer label is cut with an ellipsis in the legend


class LabelTrack:
    """Class probabilities frame after frame, from :func:`~inceptionism.classify.class_probabilities`.

    Attributes:
        net: the network that looks.
        input: what it sees in the input before any dream (``None`` if not given, e.g. noise).
        probabilities: what it sees in every frame, in order.
    """

    def __init__(self, net: Network) -> None:
        self.net = net
        self.input: Tensor | None = None
        self.probabilities: list[Tensor] = []

    def add_input(self, image: Image.Image) -> None:
        """Record what the network sees in the input, before any dream: the chart's first point."""
        self.input = class_probabilities(image, self.net)

    def add(self, image: Image.Image) -> None:
        """Record what the network sees in the next frame."""
        self.probabilities.append(class_probabilities(image, self.net))

    def rows(self) -> list[tuple[int, int, str, float]]:
        """``(frame, rank, label, probability)`` for the top labels of every frame."""
        rows = []
        for frame, probabilities in enumerate(self.probabilities):
            values, indices = probabilities.topk(min(TOP, probabilities.shape[-1]))
            for rank, (value, index) in enumerate(zip(values.tolist(), indices.tolist(), strict=True), start=1):
                rows.append((frame, rank, self.net.labels[index], value))
        return rows

    def series(self) -> tuple[list[int], Tensor]:
        """The chart's points: how many times each was dreamed (0: the input), and ``(points, classes)``."""
        first = [] if self.input is None else [self.input]
        table = torch.stack([*first, *self.probabilities])
        start = 0 if self.input is not None else 1
        return list(range(start, start + len(table))), table

    def charted(self) -> list[int]:
        """Classes among the top 3 of any point, the most probable at the last frame first."""
        table = self.series()[1]
        chosen = torch.unique(table.topk(min(CHARTED, table.shape[1]), dim=1).indices)
        return sorted(chosen.tolist(), key=lambda index: -float(table[-1, index]))

    def write_csv(self, path: Path) -> None:
        """The top labels of every frame as ``frame,rank,label,probability``."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(("frame", "rank", "label", "probability"))
        writer.writerows((frame, rank, label, f"{value:.6f}") for frame, rank, label, value in self.rows())
        with atomic_writer(path) as handle:
            handle.write(text.getvalue().encode())

    def chart(self, *, title: str) -> Figure:
        """The charted labels' probability, the input first and then frame after frame; the legend beside the axes."""
        from matplotlib.figure import Figure  # the [video] extra
        from matplotlib.ticker import PercentFormatter

        points, table = self.series()
        charted = self.charted()
        columns = math.ceil(len(charted) / LEGEND_ROWS)
        height = max(3.2, 0.9 + 0.21 * min(len(charted), LEGEND_ROWS))
        figure = Figure(figsize=(CHART_WIDTH + 2.3 * (columns - 1), height), dpi=CHART_DPI, layout="constrained")
        axes = figure.add_subplot()
        for position, index in enumerate(charted):
            colour, dash = line_style(position)
            axes.plot(points, table[:, index].tolist(), color=colour, linestyle=dash, linewidth=1.8,
                      label=shortened(self.net.labels[index]))  # fmt: skip
        axes.set_ylim(0, 1)
        axes.margins(x=0.03)  # the input's point off the spine
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_xlabel("dreams (0: the input)", fontsize=CHART_FONT)
        axes.tick_params(labelsize=CHART_FONT - 1)
        axes.grid(alpha=0.3)
        figure.suptitle(textwrap.fill(title, round(CHART_WIDTH * 72 / (0.55 * CHART_FONT))), fontsize=CHART_FONT)
        axes.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0, fontsize=CHART_FONT - 1,
                    ncols=columns, frameon=False, handlelength=1.4, labelspacing=0.3)  # fmt: skip
        return figure

    def write_chart(self, path: Path, *, title: str) -> None:
        """:meth:`chart` as PNG."""
        buffer = io.BytesIO()
        self.chart(title=title).savefig(buffer, format="png")
        with atomic_writer(path) as handle:
            handle.write(buffer.getvalue())


def line_style(position: int) -> tuple[tuple[float, float, float, float], str]:
    """The colour and dash of the ``position``-th charted label.

    The 20 colours of "tab20", its ten strong ones first, then their light pairs; past 20 the
    colours come again, dashed, then dotted.

    >>> line_style(0)[1], line_style(20)[1], line_style(0)[0] == line_style(20)[0]
    ('-', '--', True)
    """
    from matplotlib import colormaps

    order = position % COLOURS
    colour = colormaps["tab20"](2 * (order % 10) + order // 10)
    return colour, DASHES[position // COLOURS % len(DASHES)]


def shortened(label: str) -> str:
    """``label`` cut to :data:`LEGEND_CHARS` with an ellipsis.

    >>> shortened("Chesapeake Bay retriever")
    'Chesapeake Bay retr…'
    """
    return label if len(label) <= LEGEND_CHARS else label[: LEGEND_CHARS - 1] + "…"


def label_paths(output: Path) -> Sequence[Path]:
    """``OUT.labels.csv`` and ``OUT.labels.png`` beside ``output``."""
    return output.with_name(f"{output.name}.labels.csv"), output.with_name(f"{output.name}.labels.png")
