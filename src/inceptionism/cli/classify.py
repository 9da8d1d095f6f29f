"""``inceptionism classify``: what the network sees in an image."""

from __future__ import annotations

from pathlib import Path

import click

from inceptionism.classify import classify
from inceptionism.cli.app import cli
from inceptionism.cli.options import model_options, weights_value


@cli.command("classify")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--top", "-k", default=5, show_default=True, type=int, help="How many labels to print.")
@model_options
def classify_command(image: Path, top: int, model: str, weights: str) -> None:
    """Print the top ImageNet labels the network sees in IMAGE, best first.

    \b
    Example:
        inceptionism classify photo.jpg --top 3
    """
    for prediction in classify(image, model=model, weights=weights_value(weights), top=top):
        click.echo(f"{prediction.probability:7.2%}  {prediction.label}")
