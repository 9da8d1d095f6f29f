"""What a training run leaves beside its model: ``NAME.metrics.csv`` and the chart ``NAME.metrics.png``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from inceptionism.io.files import atomic_writer
from inceptionism.training.fit import EpochRecord

COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "images_per_second")


def metrics_paths(output: Path) -> tuple[Path, Path]:
    """The CSV and the chart of the model ``output`` (``birds.pt``: ``birds.metrics.csv``, ``birds.metrics.png``)."""
    stem = output.with_suffix("")
    return stem.with_name(stem.name + ".metrics.csv"), stem.with_name(stem.name + ".metrics.png")


def write_metrics(path: Path, records: Sequence[EpochRecord], classes: Sequence[str]) -> None:
    """Every epoch's figures, one row each, the validation accuracy of each class last."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*COLUMNS, *(f"val_accuracy_{name}" for name in classes)])
    for record in records:
        values = [getattr(record, column) for column in COLUMNS] + record.class_accuracy
        writer.writerow(["" if value is None else round(value, 6) for value in values])
    with atomic_writer(path) as handle:
        handle.write(text.getvalue().encode())


def write_chart(path: Path, records: Sequence[EpochRecord], title: str) -> None:
    """Loss and accuracy by epoch, training beside validation, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=(9, 3.6), dpi=100, layout="constrained")
    loss, accuracy = figure.subplots(1, 2)
    epochs = [record.epoch for record in records]
    for axes, name in ((loss, "loss"), (accuracy, "accuracy")):
        axes.plot(epochs, [getattr(r, f"train_{name}") for r in records], "o-", label="training")
        val = [getattr(r, f"val_{name}") for r in records]
        if val and val[0] is not None:
            axes.plot(epochs, val, "o-", label="validation")
        axes.set_xlabel("epoch")
        axes.set_title(name)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right" if name == "accuracy" else "upper right")
    accuracy.set_ylim(0, 1.02)
    accuracy.yaxis.set_major_formatter(PercentFormatter(1.0))
    loss.set_ylim(bottom=0)
    for axes in (loss, accuracy):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    with atomic_writer(path) as handle:
        handle.write(buffer.getvalue())
