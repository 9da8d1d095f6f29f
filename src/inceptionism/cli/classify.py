"""``inceptionism classify``: what the network sees in an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from inceptionism.classify import CLASSIFY_OPTIONS, classify
from inceptionism.cli.app import cli
from inceptionism.cli.options import network_arguments, network_options, option_flags


@cli.command("classify")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@option_flags(CLASSIFY_OPTIONS)
@network_options(spellings={"input_size": ("--size", "--input-size")})
def classify_command(image: Path, top: int | None, model: str, weights: str, **options: Any) -> None:
    """Print the top labels the network sees in IMAGE, best first.

    The image is scaled so its short side is the network's input size (--size for a
    network from outside).

    \b
    Examples:
        inceptionism classify photo.jpg --top 3
        inceptionism classify photo.jpg --model caffe:deploy.prototxt --weights net.caffemodel
        inceptionism classify photo.jpg --model squeezenet.onnx --size 227 --labels-file classes.txt
    """
    top = CLASSIFY_OPTIONS["top"].default if top is None else top
    predictions = classify(image, model=model, weights=weights, top=top, **network_arguments(options))
    for prediction in predictions:
        click.echo(f"{prediction.probability:7.2%}  {prediction.label}")
