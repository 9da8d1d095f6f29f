"""``inceptionism zoom``: the infinite zoom, every frame the last one dreamed again, moved a little."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from inceptionism.cli.app import cli, show_notices
from inceptionism.cli.dream import dream_settings
from inceptionism.cli.options import dreaming_options, option_flags, resume_options
from inceptionism.cli.render import run_render
from inceptionism.engine.dreamer import settings_network
from inceptionism.io.files import unused_path
from inceptionism.io.images import sample_path
from inceptionism.render.framestore import work_dir_for
from inceptionism.render.zoom import ZOOM_OPTIONS, zoom


@cli.command("zoom")
@click.argument("input", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Output: .mp4, .gif, .webp, or a name without extension for PNG frames. Default: INPUT-zoom.mp4.",
)
@option_flags(ZOOM_OPTIONS)
@click.option("--labels/--no-labels", default=True, help="Write OUT.labels.csv and OUT.labels.png.  [default: on]")
@resume_options
@dreaming_options(without=("--labels",))  # --labels/--no-labels is the zoom's labels chart
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or notices.")
def zoom_command(
    input: Path | None,
    output: Path | None,
    labels: bool,
    work_dir: Path | None,
    restart: bool,
    keep_frames: bool,
    from_image: Path | None,
    guide: Path | None,
    mask: Path | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Zoom into INPUT forever: dream it, zoom a little, dream again (the sample photo if omitted).

    Finished frames are kept in a work directory: after a crash or Ctrl-C, the same command
    goes on from the last finished frame and gives the same output. The zoom is sequential
    by nature (each frame is dreamed from the one before): it takes no --cluster; run several
    zooms at once instead.

    \b
    Examples:
        inceptionism zoom photo.jpg -o zoom.mp4 --frames 120
        inceptionism zoom photo.jpg -o spin.gif --frames 60 --zoom 1.03 --rotate 1.5
        inceptionism zoom --noise 320x240 --preset fractal-noise -o noise.webp
        inceptionism zoom photo.jpg -o frames --frames 24 --layer fire5   # a directory of PNGs
    """
    show_notices(quiet)
    motion = {name: options.pop(name) for name in ZOOM_OPTIONS}
    settings = dream_settings(from_image, options, guide=guide, mask=mask)
    if output is None:
        stem = input.stem if input else "noise" if settings.noise else sample_path().stem
        output = unused_path(Path(f"{stem}-zoom.mp4"))
    net = settings_network(settings, progress=not quiet)
    result = run_render(
        lambda callback: zoom(
            input, output, settings=settings, model=net, guide=guide, mask=mask, labels=labels,
            work_dir=work_dir, restart=restart, keep_frames=keep_frames, callback=callback,
            reads={"--from image": from_image}, **motion,
        ),
        kept=work_dir_for(output, work_dir), total=motion["frames"] or ZOOM_OPTIONS["frames"].default, quiet=quiet,
    )  # fmt: skip
    click.echo(f"wrote {result.output} ({result.frames} frames, seed {result.params['dream']['seed']})")
    for path in result.labels:
        click.echo(f"wrote {path}")
