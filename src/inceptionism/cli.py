"""The ``inceptionism`` command line: a thin layer over the library that owns the terminal."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from tqdm import tqdm

from inceptionism import presets
from inceptionism._version import __version__
from inceptionism.classify import Prediction, classify
from inceptionism.dream import DEFAULT_MAX_SIZE, DEFAULT_MEMORY_BUDGET_MB, PARAMS, dream
from inceptionism.engine import Progress
from inceptionism.errors import InceptionismError
from inceptionism.files import check_writable, unused_path
from inceptionism.images import output_format, read_metadata, sample_path, save_image
from inceptionism.models import PSEUDO_LAYERS, get_model, get_model_entry, imagenet_classes, list_models
from inceptionism.runtime import DEVICES, PRECISIONS, keep_freed_memory

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns every expected failure into one line on stderr and a non-zero exit, no traceback."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "inceptionism"
            _fail(f"{error.format_message()} (see: {command} --help)", error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except InceptionismError as error:
            _fail(str(error))
        except (click.Abort, KeyboardInterrupt):
            _fail("interrupted; nothing was written", EXIT_INTERRUPTED)
        sys.exit(code or 0)


class _NoticeHandler(logging.Handler):
    """Shows the library's INFO records (scaling, downloads) as notices on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(f"notice: {record.getMessage()}", file=sys.stderr)


def _show_notices(quiet: bool) -> None:
    logger = logging.getLogger("inceptionism")
    logger.handlers = [handler for handler in logger.handlers if not isinstance(handler, _NoticeHandler)]
    if not quiet:
        logger.addHandler(_NoticeHandler())
        logger.setLevel(logging.INFO)


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--model`` and ``--weights``, shared by every command that runs a network."""
    command = click.option(
        "--weights",
        default="default",
        show_default=True,
        metavar="default|none|FILE",
        help="Published weights, 'none' for random initialisation, or a state dict file.",
    )(command)
    return click.option(
        "--model",
        "-m",
        default="squeezenet1_1",
        show_default=True,
        help="Network to use (see: inceptionism models).",
    )(command)


def _weights_arg(value: str) -> str | None:
    return None if value == "none" else value


def _labels(predictions: list[Prediction]) -> str:
    return ", ".join(f"{p.label} {p.probability:.0%}" for p in predictions)


@click.group("inceptionism", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="inceptionism")
def cli() -> None:
    """DeepDream images from the command line.

    \b
    Example:
        inceptionism dream photo.jpg -o dream.png --layer fire7
    """
    keep_freed_memory()  # this process is ours: let the allocator keep freed activations


@cli.command("dream")
@click.argument("input", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Output file (.png, .jpg, .webp). Default: INPUT-dream.png, never overwriting.",
)
@click.option("--preset", "-p", help="Named settings (see: inceptionism presets); other flags override it.")
@model_options
@click.option(
    "--layer",
    "-l",
    "layers",
    multiple=True,
    metavar="SPEC",
    help="name[:channels][@x,y][=weight], repeatable, e.g. fire7:3,12=2 or fire7:12@100,80 (one neuron).",
)
@click.option(
    "--class",
    "-c",
    "classes",
    multiple=True,
    metavar="NAME",
    help="ImageNet class to dream, by name or index, repeatable, e.g. banana=2 (see: inceptionism classes).",
)
@click.option("--guide", type=click.Path(dir_okay=False, path_type=Path), help="Dream the layers toward this image.")
@click.option("--mask", type=click.Path(dir_okay=False, path_type=Path), help="White dreams, black stays.")
@click.option("--noise", metavar="WxH", help="Start from noise of this size instead of an image.")
@click.option("--param", type=click.Choice(PARAMS), help="How noise is optimised.  [default: fourier]")
@click.option("--octaves", type=int, help="Number of scales.  [default: 4]")
@click.option("--octave-scale", type=float, help="Size ratio between scales.  [default: 1.4]")
@click.option("--steps", type=int, help="Gradient steps per octave (in total for Fourier noise).  [default: 10]")
@click.option("--step-size", type=float, help="Step in pixel levels.  [default: 1.5]")
@click.option("--jitter", type=int, help="Largest random shift in pixels.  [default: 32]")
@click.option("--lap-levels", type=int, help="Laplacian-pyramid gradient normalisation bands.  [default: 0, off]")
@click.option("--smooth", type=float, help="Gaussian smoothing of the gradient, sigma in px.  [default: 0, off]")
@click.option("--tv", type=float, help="Total-variation weight, relative to the objective.  [default: 0, off]")
@click.option("--keep-colors/--no-keep-colors", default=None, help="Dream the luminance only; keep the colours.")
@click.option("--tile", type=int, metavar="PX", help="Gradient in tiles of PX pixels.  [default: when needed]")
@click.option(
    "--memory-budget",
    default=DEFAULT_MEMORY_BUDGET_MB,
    show_default=True,
    type=int,
    metavar="MB",
    help="Activation memory one step may use; larger images are tiled.",
)
@click.option("--lr", type=float, help="Learning rate for Fourier noise.  [default: 0.05]")
@click.option("--seed", type=int, help="Repeatable result; drawn at random if not given.")
@click.option(
    "--max-size",
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    type=int,
    help="Larger inputs are scaled down to this long side.",
)
@click.option("--device", default="auto", show_default=True, type=click.Choice(DEVICES))
@click.option("--precision", default="auto", show_default=True, type=click.Choice(PRECISIONS))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, notices or labels.")
def dream_command(
    input: Path | None,
    output: Path | None,
    model: str,
    weights: str,
    layers: tuple[str, ...],
    classes: tuple[str, ...],
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
        inceptionism dream --noise 256x256 --class banana -o banana.png
        inceptionism dream photo.jpg --mask sky.png --keep-colors -o sky-dream.png
        inceptionism dream huge.tif --max-size 8000 --tile 512 -o huge-dream.png
    """
    _show_notices(quiet)
    if output is None:
        from_noise = presets.resolve(options["preset"], {"noise": options["noise"]})["noise"] is not None
        stem = input.stem if input else "noise" if from_noise else sample_path().stem
        output = unused_path(Path(f"{stem}-dream.png"))
    check_writable(output)
    output_format(output)
    net = get_model(model, weights=_weights_arg(weights), progress=not quiet)

    started = time.perf_counter()
    with tqdm(unit="step", file=sys.stderr, disable=True if quiet else None, leave=False) as bar:

        def report(progress: Progress) -> None:
            bar.total = progress.total
            bar.set_postfix(octave=f"{progress.octave}/{progress.octaves}", loss=f"{progress.loss:.4g}")
            bar.update()

        result = dream(
            input, model=net, layers=list(layers) or None, classes=list(classes) or None, callback=report, **options
        )
    save_image(result.image, output, metadata=result.params)
    elapsed = time.perf_counter() - started

    width, height = result.image.size
    what = " + ".join([*result.params["layers"], *(f"class {c}" for c in result.params.get("classes", []))])
    click.echo(f"wrote {output} ({width}x{height}, {net.name} {what}, seed {result.params['seed']}) in {elapsed:.1f} s")
    if not quiet:
        click.echo(f"before: {_labels(classify(result.source.image, model=net, top=3))}")
        click.echo(f"after:  {_labels(classify(result.image, model=net, top=3))}")


@cli.command("presets")
def presets_command() -> None:
    """List the named settings ``dream --preset`` takes.

    \b
    Example:
        inceptionism presets
        inceptionism dream photo.jpg --preset deep --steps 30
    """
    for preset in presets.PRESETS.values():
        click.echo(f"{preset.name:<14} {preset.description}")
        settings = ", ".join(f"{key}={_shown(value)}" for key, value in preset.options.items()) or "the defaults"
        click.echo(f"{'':<14} {settings}")


def _shown(value: object) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


@cli.command("classes")
@click.argument("search", required=False)
def classes_command(search: str | None) -> None:
    """List the ImageNet classes ``dream --class`` takes, or those containing SEARCH.

    \b
    Examples:
        inceptionism classes
        inceptionism classes dog
    """
    for index, label in enumerate(imagenet_classes()):
        if search is None or search.lower() in label.lower():
            click.echo(f"{index:>4}  {label}")


@cli.command("info")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the parameters as JSON.")
def info_command(image: Path, as_json: bool) -> None:
    """Print the parameters stored in an image made by ``inceptionism dream``.

    \b
    Example:
        inceptionism info dream.png
    """
    params = read_metadata(image)
    if params is None:
        _fail(f"{image} holds no inceptionism parameters (only files written by inceptionism do)", 1)
    if as_json:
        click.echo(json.dumps(params, indent=2, sort_keys=True))
        return
    width = max(map(len, params))
    for key, value in params.items():
        shown = " ".join(map(str, value)) if isinstance(value, list) else value
        click.echo(f"{key:<{width}}  {shown}")


@cli.command("models")
def models_command() -> None:
    """List the networks you can dream with.

    \b
    Example:
        inceptionism models
    """
    for name in list_models():
        entry = get_model_entry(name)
        click.echo(f"{name}  (default layer {entry.default_layer}, {len(entry.layers) + len(PSEUDO_LAYERS)} layers)")
        click.echo(f"    {entry.description}")
        click.echo(f"    weights: {entry.weights_source}")


@cli.command("layers")
@click.option(
    "--model", "-m", default="squeezenet1_1", show_default=True, help="Network to list (see: inceptionism models)."
)
def layers_command(model: str) -> None:
    """List the layers of a network that can be dreamed, with their channel counts.

    \b
    Example:
        inceptionism layers --model googlenet
    """
    net = get_model(model, weights=None)  # shapes only: no weights needed
    channels = net.layer_channels
    width = max(map(len, channels))
    for name, count in channels.items():
        click.echo(f"{name:<{width}}  {count:>5} channels")


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
    for prediction in classify(image, model=model, weights=_weights_arg(weights), top=top):
        click.echo(f"{prediction.probability:7.2%}  {prediction.label}")


def main() -> NoReturn:
    """Entry point of the ``inceptionism`` console script."""
    cli.main(prog_name="inceptionism")
