"""``inceptionism atlas``: the image every channel of a layer likes best, as a labelled contact sheet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm.auto import tqdm

from inceptionism.cli.app import cli, fail, show_notices
from inceptionism.cli.options import ChannelList, cluster_options, network_arguments, network_options, option_flags
from inceptionism.cli.render import bar_size
from inceptionism.engine.options import OPTIONS
from inceptionism.io.files import check_not_input, check_writable
from inceptionism.io.images import output_format, save_image
from inceptionism.models import shared_model
from inceptionism.render.atlas import ATLAS_OPTIONS, AtlasProgress, atlas, plan_atlas
from inceptionism.render.still import network_files

BAR = "{desc}{percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} channels [{elapsed}<{remaining}]"


@cli.command("atlas")
@network_options
@click.option("--layer", "-l", default=None, help="Layer to draw (default: the model's; see: inceptionism layers).")
@click.option("--channels", "-c", default=None, type=ChannelList(), metavar="LIST",
              help="Channels, e.g. 0-63 or 3,12,40 (default: all).")  # fmt: skip
@option_flags(ATLAS_OPTIONS)
@click.option(
    "--photo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rank the channels by their activation on this photo; draw the --top strongest.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The contact sheet (.png, .jpg, .webp). Default: LAYER-atlas.png.",
)
@click.option(
    "--save-tiles",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write every tile to this folder as LAYER_cINDEX.png.",
)
@click.option(
    "--cache/--no-cache", default=True, help="Reuse and keep finished tiles in the user's cache.  [default: on]"
)
@option_flags({name: OPTIONS[name] for name in ("device", "precision")})
@cluster_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def atlas_command(
    model: str,
    weights: str,
    layer: str | None,
    channels: list[int] | None,
    photo: Path | None,
    output: Path | None,
    save_tiles: Path | None,
    cache: bool,
    device: str | None,
    precision: str | None,
    cluster: str | None,
    threads: int | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Draw, for each channel of a layer, the image that excites it most (from Fourier noise).

    Tiles are kept in the user's cache: drawing the same sheet again, or one that shares
    channels with an earlier one, reuses them.

    \b
    Examples:
        inceptionism atlas --layer fire5 --channels 0-15 -o fire5.png
        inceptionism atlas --model googlenet --layer inception4c --channels 0-63 --save-tiles tiles/
        inceptionism atlas --layer fire7 --photo photo.jpg --top 16 -o seen.png
        inceptionism atlas --layer fire5 --channels 0-63 --cluster local:2
    """
    show_notices(quiet)
    arguments = network_arguments(options)
    net = shared_model(model, weights=weights, progress=not quiet, **arguments)
    layer = layer or net.default_layer
    given = {name: value for name, value in options.items() if value is not None}
    plan_atlas(net, layer, channels, device=device or "auto", precision=precision or "auto", **given)  # before any file
    output = output or Path(f"{layer.replace('/', '_')}-atlas.png")
    output_format(output)
    check_not_input(output, {"photo": photo, **network_files(model, weights, arguments["labels_file"])})
    check_writable(output)
    if save_tiles is not None:
        try:
            save_tiles.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            fail(f"cannot make the tiles folder {save_tiles}: {error.strerror or error} (--save-tiles)")
    with tqdm(total=1, unit="channel", disable=quiet, mininterval=0.5, bar_format=BAR, **bar_size(sys.stderr)) as bar:

        def progress(report: AtlasProgress) -> None:
            bar.total = report.total
            bar.update(report.done + report.step / report.steps - bar.n)  # tqdm redraws at most twice a second

        result = atlas(net, layer, channels, photo=photo, device=device or "auto", precision=precision or "auto",
                       cache_tiles=cache, progress=progress, cluster=cluster, threads=threads, **given)  # fmt: skip
        bar.total = len(result.tiles)
        bar.update(bar.total - bar.n)
    save_image(result.sheet(), output, metadata=result.params)
    if save_tiles is not None:
        result.save_tiles(save_tiles)
    reused = len(result.tiles) - result.rendered
    click.echo(
        f"wrote {output} ({len(result.tiles)} channels of {layer}: {result.rendered} drawn, {reused} from the cache)"
    )
    if result.ranking is not None:
        for channel, value in result.ranking[: len(result.tiles)]:
            click.echo(f"{layer}:{channel}  {value:.3f}")
