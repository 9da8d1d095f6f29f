"""``inceptionism batch``: many photos with the same options, or a grid of settings over each one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from inceptionism.cli.app import cli, show_notices
from inceptionism.cli.dream import dream_settings
from inceptionism.cli.options import cluster_options, dreaming_options
from inceptionism.cli.render import run_render
from inceptionism.engine.dreamer import settings_network
from inceptionism.render.batch import batch


@cli.command("batch")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the dreams, index.json and index.csv (made if missing).")  # fmt: skip
@click.option("--sweep", "-s", multiple=True, metavar="NAME=V1,V2",
              help="Dream each photo with every value of this option, repeatable for a grid "
              "(separate values holding commas with ';': layer='fire7:3,12;fire5').")  # fmt: skip
@click.option("--sheet", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a contact sheet: a photo per row, a setting per column.")  # fmt: skip
@click.option("--restart", is_flag=True, help="Dream every item again instead of keeping finished ones.")
@cluster_options
@dreaming_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or notices.")
def batch_command(
    inputs: tuple[Path, ...],
    output: Path,
    sweep: tuple[str, ...],
    sheet: Path | None,
    restart: bool,
    cluster: str | None,
    threads: int | None,
    from_image: Path | None,
    guide: Path | None,
    mask: Path | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Dream every photo of INPUTS into a folder, once per combination of the --sweep values.

    Finished dreams are kept: after a crash or Ctrl-C the same command dreams only what is
    missing. Each photo's seed is the batch's plus its position, the same for every setting.

    \b
    Examples:
        inceptionism batch holiday/*.jpg -o dreams/ --layer fire5 --seed 7
        inceptionism batch cat.jpg dog.jpg -o grid/ --sweep layer=fire3,fire5,fire7 --sweep octaves=3,4 --sheet grid.png
        inceptionism batch photos/*.jpg -o out/ --cluster local:2
        inceptionism batch photos/*.jpg -o out/ --cluster tcp://10.0.0.5:8786
    """
    show_notices(quiet)
    settings = dream_settings(from_image, options, guide=guide, mask=mask)
    net = None
    if cluster is None:  # in this process: load (or download) the network here, with a bar
        net = settings_network(settings, progress=not quiet)
    result = run_render(
        lambda callback: batch(
            inputs, output, settings=settings, model=net, sweep=list(sweep), guide=guide, mask=mask, sheet=sheet,
            cluster=cluster, threads=threads, restart=restart, callback=callback, reads={"--from image": from_image},
        ),
        kept=output, total=None, quiet=quiet, unit="dream",
    )  # fmt: skip
    click.echo(
        f"wrote {result.dreamed} dreams to {output} ({result.reused} kept from before, seed {result.seed}), "
        f"index {result.index}"
    )
    if result.sheet is not None:
        click.echo(f"wrote {result.sheet}")
