"""``inceptionism classify``: what the network sees in an image."""

from __future__ import annotations

from pathlib import Path

import click

from inceptionism.classify import CLASSIFY_OPTIONS, classify
from inceptionism.cli.app import cli
from inceptionism.cli.options import model_options, option_flags
from inceptionism.engine.options import OPTIONS


@cli.command("classify")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@option_flags(CLASSIFY_OPTIONS)
@model_options
@option_flags({name: OPTIONS[name] for name in ("mean", "labels_file")})
def classify_command(
    image: Path, top: int | None, model: str, weights: str, mean: str | None, labels_file: str | None
) -> None:
    """Print the top labels the network sees in IMAGE, best first.

    \b
    Examples:
        inceptionism classify photo.jpg --top 3
        inceptionism classify photo.jpg --model caffe:deploy.prototxt --weights net.caffemodel
    """
    bgr = OPTIONS["mean"].check("mean", mean) if mean is not None else None
    top = CLASSIFY_OPTIONS["top"].default if top is None else top
    predictions = classify(image, model=model, weights=weights, top=top, mean=bgr, labels_file=labels_file)
    for prediction in predictions:
        click.echo(f"{prediction.probability:7.2%}  {prediction.label}")
