"""``inceptionism dream``: dream an image, with a flag for every option of the settings."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm.auto import tqdm

from inceptionism.classify import Prediction, classify
from inceptionism.cli.app import cli, show_notices
from inceptionism.cli.options import dreaming_options, option_flags
from inceptionism.cli.render import bar_size
from inceptionism.engine.dreamer import settings_network
from inceptionism.engine.progress import Progress
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import InceptionismError, InvalidParameterError
from inceptionism.io.files import check_not_input, check_writable, unused_path
from inceptionism.io.images import output_format, read_metadata, sample_path, save_image
from inceptionism.models.imported import check_same_model
from inceptionism.render.snapshots import SNAPSHOT_OPTIONS, Snapshots
from inceptionism.render.still import dream, input_files


@cli.command("dream")
@click.argument("input", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Output file (.png, .jpg, .webp). Default: INPUT-dream.png, never overwriting.",
)
@dreaming_options
@option_flags(SNAPSHOT_OPTIONS)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, notices or labels.")
def dream_command(
    input: Path | None,
    output: Path | None,
    from_image: Path | None,
    guide: Path | None,
    mask: Path | None,
    save_every: int | None,
    save_octaves: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Dream INPUT (any image Pillow reads; the bundled sample photo if omitted).

    Prints where the result went and what the network saw before and after.

    \b
    Examples:
        inceptionism dream photo.jpg -o dream.png
        inceptionism dream photo.jpg -o eyes.png --layer fire7:3,12=2 --layer fire5 --seed 7
        inceptionism dream photo.jpg -o deep.png --preset deep --steps 30
        inceptionism dream other.jpg --from dream.png --steps 20
        inceptionism dream --noise 256x256 --class banana -o banana.png
        inceptionism dream photo.jpg --mask sky.png --keep-colors -o sky-dream.png
        inceptionism dream huge.tif --max-size 8000 --tile 512 -o huge-dream.png
        inceptionism dream photo.jpg --layer fire7:strong:8 -o seen.png
        inceptionism dream photo.jpg --octave-sizes 300,600,1200 -o large.png
        inceptionism dream photo.jpg --save-every 5 --save-octaves -o steps.png
    """
    show_notices(quiet)
    settings = dream_settings(from_image, options, guide=guide, mask=mask)
    if output is None:
        stem = input.stem if input else "noise" if settings.noise else sample_path().stem
        output = unused_path(Path(f"{stem}-dream.png"))
    read = {"input image": input, "--from image": from_image, "guide": guide, "mask": mask}
    snapshots = Snapshots(output, every=save_every, octaves=save_octaves) if save_every or save_octaves else None
    for written in [output, *(snapshots.planned(settings.octaves, settings.steps) if snapshots else [])]:
        check_not_input(written, input_files(settings, read))
    check_writable(output)
    output_format(output)
    net = settings_network(settings, progress=not quiet)

    started = time.perf_counter()
    with tqdm(
        unit="step", file=sys.stderr, disable=True if quiet else None, leave=False, **bar_size(sys.stderr)
    ) as bar:
        report = _bar_report(bar)
        if snapshots is not None:
            snapshots.then, report = report, snapshots
        result = dream(input, settings=settings, model=net, guide=guide, mask=mask, callback=report)
    save_image(result.image, output, metadata=result.params)
    elapsed = time.perf_counter() - started

    width, height = result.image.size
    what = " + ".join([*result.params["layers"], *(f"class {c}" for c in result.params["classes"])])
    click.echo(f"wrote {output} ({width}x{height}, {net.name} {what}, seed {result.params['seed']}) in {elapsed:.1f} s")
    if snapshots is not None and snapshots.paths:
        click.echo(f"wrote {len(snapshots.paths)} intermediate images: {snapshots.paths[0]} ... {snapshots.paths[-1]}")
    if not quiet:
        click.echo(f"before: {_labels(classify(result.source.image, model=net, top=3))}")
        click.echo(f"after:  {_labels(classify(result.image, model=net, top=3))}")


def _bar_report(bar: Any) -> Callable[[Progress], None]:
    """A callback moving ``bar`` one step, showing the octave and loss."""

    def report(progress: Progress) -> None:
        bar.total = progress.total
        bar.set_postfix(octave=f"{progress.octave}/{progress.octaves}", loss=f"{progress.loss:.4g}")
        bar.update()

    return report


def dream_settings(
    from_image: Path | None, options: dict[str, Any], *, guide: Path | None, mask: Path | None
) -> DreamSettings:
    """The settings of ``--from IMAGE`` (or the defaults), then the preset, then the flags given."""
    # A flag not given is None (a repeatable one an empty tuple): the recorded or preset value stays.
    given = {name: value for name, value in options.items() if value not in (None, ())}
    preset = given.pop("preset", None)
    if from_image is None:
        return DreamSettings.create(preset, **given)
    params = read_metadata(from_image)
    if params is None:
        raise InvalidParameterError(f"{from_image} holds no inceptionism parameters to dream with", argument="from")
    for name, value in (("guide", guide), ("mask", mask)):
        if params.get(name) and value is None:
            raise InvalidParameterError(
                f"{from_image} was dreamed with a {name} ({params[name]}); give it again with --{name} FILE"
            )
    try:
        recorded = DreamSettings.from_dict(params)
    except InceptionismError as error:
        raise InvalidParameterError(f"the parameters in {from_image} cannot be used: {error}") from None
    settings = recorded.updated(preset, **given)
    check_same_model(settings.model, params.get("model_sha256"), str(from_image))
    return settings


def _labels(predictions: list[Prediction]) -> str:
    return ", ".join(f"{p.label} {p.probability:.0%}" for p in predictions)
