"""``inceptionism train``: fine-tune a network on a folder of your photos, with a bar per epoch and Ctrl-C to pause."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm.auto import tqdm

from inceptionism.cli.app import EXIT_INTERRUPTED, cli, fail, show_notices
from inceptionism.cli.options import option_flags
from inceptionism.cli.render import StopOnInterrupt, bar_size
from inceptionism.engine.options import OPTIONS
from inceptionism.training.fit import EpochRecord, TrainingStopped
from inceptionism.training.options import TRAIN_OPTIONS
from inceptionism.training.train import Hooks, train


@cli.command("train")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The model file to write (NAME.pt); NAME.metrics.csv and NAME.metrics.png go beside it.",
)
@click.option(
    "--model",
    "-m",
    default="squeezenet1_1",
    show_default=True,
    metavar="NAME",
    help="The network to start from (its weights must be here; see: inceptionism models).",
)
@click.option("--weights", default="default", show_default=True, metavar="default|random|FILE",
              help="Start from the model's published weights, random ones, or a file of them (offline: the file "
              "the download error names).")  # fmt: skip
@option_flags(TRAIN_OPTIONS)
@option_flags({name: OPTIONS[name] for name in ("device", "precision")})
@click.option("--restart", is_flag=True, help="Start over, discarding the checkpoint of an earlier run.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def train_command(dataset: Path, output: Path, model: str, weights: str, device: str | None, precision: str | None,
                  restart: bool, quiet: bool, **options: Any) -> None:  # fmt: skip
    """Fine-tune a network on DATASET, a folder with one sub-folder of photos per class.

    The layers up to --freeze-to stay as they are; those above it and a new classifier
    learn the classes. After every epoch the run is checkpointed: Ctrl-C stops after the
    current batch, and the same command goes on from the last finished epoch. The model
    file works with every command (--model NAME.pt) and dreams what it learned.

    \b
    Examples:
        inceptionism train photos/ -o mine.pt
        inceptionism train photos/ -o mine.pt --freeze-to fire7 --epochs 10 --size 160
        inceptionism dream photo.jpg --model mine.pt --class cats -o cats.png
        inceptionism atlas --model mine.pt --layer logits -o classes.png
    """
    show_notices(quiet)
    given = {name: value for name, value in options.items() if value is not None}
    stop = StopOnInterrupt("batch")
    with _Bars(quiet, stop) as bars, stop:
        try:
            result = train(dataset, output, model=model, weights=weights, device=device or "auto",
                           precision=precision or "auto", restart=restart, hooks=bars.hooks(), **given)  # fmt: skip
        except TrainingStopped as stopped:
            bars.close()
            fail(f"{stopped}; the finished epochs are kept: run the same command to go on", EXIT_INTERRUPTED)
    accuracy = _percent(result.records[-1].val_accuracy)
    click.echo(f"wrote {result.path} ({len(result.classes)} classes; validation accuracy {accuracy}), "
               f"{result.metrics} and {result.chart}")  # fmt: skip


class _Bars:
    """The bars of a run: reading the images, then one per epoch; a line after each epoch."""

    def __init__(self, quiet: bool, stop: StopOnInterrupt) -> None:
        self.quiet, self.stop = quiet, stop
        self.bar: tqdm | None = None
        self.desc = ""

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def hooks(self) -> Hooks:
        notice = (lambda line: tqdm.write(f"notice: {line}", file=sys.stderr)) if not self.quiet else None
        return Hooks(notice=notice, read=self._read, batch=self._batch, epoch=self._epoch)

    def _bar(self, total: int, desc: str, unit: str) -> tqdm:
        if self.bar is None or self.desc != desc:
            self.close()
            self.desc = desc
            self.bar = tqdm(total=total, desc=desc, unit=unit, disable=self.quiet, file=sys.stderr,
                            **bar_size(sys.stderr))  # fmt: skip
        return self.bar

    def _read(self, done: int, total: int) -> None:
        bar = self._bar(total, "reading images", "image")
        bar.update(done - bar.n)
        if done == total:
            self.close()

    def _batch(self, epoch: int, done: int, total: int, loss: float, accuracy: float) -> bool:
        bar = self._bar(total, f"epoch {epoch}", "batch")
        bar.set_postfix_str(f"loss {loss:.3f}, accuracy {_percent(accuracy)}", refresh=False)
        bar.update(done - bar.n)
        return self.stop.asked

    def _epoch(self, record: EpochRecord, classes: tuple[str, ...]) -> None:
        self.close()
        click.echo(epoch_line(record, classes))


def epoch_line(record: EpochRecord, classes: tuple[str, ...]) -> str:
    """One line for a finished epoch: training and validation loss and accuracy, each class's, the speed.

    >>> epoch_line(EpochRecord(2, 0.4123, 0.875, 0.38, 0.9, [1.0, 0.8], 52.4), ("cats", "dogs")).split("; ")[1:]
    ['validation loss 0.380, accuracy 90.0% (cats 100.0%, dogs 80.0%)', '52 images/s']
    """
    line = f"epoch {record.epoch}: train loss {record.train_loss:.3f}, accuracy {_percent(record.train_accuracy)}"
    if record.val_loss is not None:
        each = ", ".join(f"{name} {_percent(share)}"
                         for name, share in zip(classes, record.class_accuracy, strict=True))  # fmt: skip
        line += f"; validation loss {record.val_loss:.3f}, accuracy {_percent(record.val_accuracy)} ({each})"
    return line + f"; {record.images_per_second:.0f} images/s"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"
