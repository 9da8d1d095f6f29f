"""``inceptionism info``: the parameters stored in a dreamed image, video or directory of frames."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inceptionism.cli.app import cli, fail
from inceptionism.io.animation import read_video_metadata
from inceptionism.io.images import read_metadata
from inceptionism.models.trained import is_model_file, read_info
from inceptionism.render.framestore import read_frames_dir


@cli.command("info")
@click.argument("image", metavar="PATH", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the parameters as JSON.")
def info_command(image: Path, as_json: bool) -> None:
    """Print the parameters stored in an image, MP4, trained network or directory of frames made by inceptionism.

    A trained network (NAME.pt, from inceptionism train) shows its base model, classes,
    training settings, dataset and final metrics. A directory is the work directory of a
    zoom or video (OUT.frames) or a zoom's PNG frames: its params.json is printed, and how
    many frames it holds.

    \b
    Examples:
        inceptionism info dream.png
        inceptionism info dream.png --json
        inceptionism info dream.mp4.frames
        inceptionism info mine.pt
    """
    if is_model_file(image.name) and image.is_file():
        params = read_info(image)
    elif image.is_dir():
        params, count = read_frames_dir(image)
        if params is not None:
            params = {**params, "frames": count}
    else:
        params = read_video_metadata(image) if image.suffix.lower() == ".mp4" else read_metadata(image)
    if params is None:
        fail(f"{image} holds no inceptionism parameters (only files written by inceptionism do)", 1)
    if as_json:
        click.echo(json.dumps(params, indent=2, sort_keys=True))
        return
    width = max(map(len, params))
    for key, value in params.items():
        click.echo(f"{key:<{width}}  {_shown(value)}")


def _shown(value: object) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value)) or "(none)"
    if isinstance(value, dict):
        return " ".join(f"{key}={_number(item)}" for key, item in value.items())
    return str(value)


def _number(value: object) -> object:
    return round(value, 4) if isinstance(value, float) else value
