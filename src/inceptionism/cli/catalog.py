"""What there is to dream with: ``presets``, ``classes``, ``models`` and ``layers``."""

from __future__ import annotations

from typing import Any

import click

from inceptionism.cli.app import cli
from inceptionism.cli.options import network_arguments, network_options
from inceptionism.engine.options import OPTIONS
from inceptionism.engine.presets import PRESETS
from inceptionism.models import PSEUDO_LAYERS, get_model_entry, imagenet_classes, list_models, shared_model
from inceptionism.models.trained import models_dir, read_info, trained_files


@cli.command("presets")
def presets_command() -> None:
    """List the named settings dream --preset takes.

    \b
    Example:
        inceptionism presets
        inceptionism dream photo.jpg --preset deep --steps 30
    """
    for preset in PRESETS.values():
        click.echo(f"{preset.name:<14} {preset.description}")
        settings = ", ".join(f"{key}={_shown(value)}" for key, value in preset.options.items()) or "the defaults"
        click.echo(f"{'':<14} {settings}")


def _shown(value: object) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


@cli.command("classes")
@click.argument("search", required=False)
@click.option(
    "--model",
    "-m",
    default=None,
    metavar="NAME",
    help="The classes of this network (one you trained: NAME.pt, or a file).  [default: ImageNet's]",
)
@click.option("--labels-file", "--labels", default=None, metavar="FILE", help=OPTIONS["labels_file"].help)
def classes_command(search: str | None, model: str | None, labels_file: str | None) -> None:
    """List the classes dream --class takes (ImageNet's, or a network's), or those containing SEARCH.

    \b
    Examples:
        inceptionism classes
        inceptionism classes dog
        inceptionism classes --model mine.pt
    """
    if model is None and labels_file is None:
        labels = imagenet_classes()
    else:
        labels = shared_model(model or OPTIONS["model"].default, labels_file=labels_file).labels
    for index, label in enumerate(labels):
        if search is None or search.lower() in label.lower():
            click.echo(f"{index:>4}  {label}")


@cli.command("models")
def models_command() -> None:
    """List the networks you can dream with, where their weights come from and whether they are here.

    Then the networks you trained that are in the user data directory's models/ folder
    (~/.inceptionism/models, or $INCEPTIONISM_HOME/models): --model NAME.pt finds them there.

    Any Caffe network is usable too: --model caffe:PATH/deploy.prototxt --weights FILE.caffemodel.

    \b
    Example:
        inceptionism models
    """
    for name, weights in zip(list_models(), list_models(weights=True), strict=True):
        entry = get_model_entry(name)
        click.echo(f"{name}  (default layer {entry.default_layer}, {len(entry.layers) + len(PSEUDO_LAYERS)} layers)")
        click.echo(f"    {entry.description}")
        click.echo(f"    weights: {weights.source} [{weights.status}]")
    for name in trained_files():
        info = read_info(models_dir() / name)
        click.echo(f"{name}  (trained: {info['base']} on {len(info['classes'])} classes: {', '.join(info['classes'])})")
        click.echo(f"    {models_dir() / name}")


@cli.command("layers")
@network_options
def layers_command(model: str, weights: str, **options: Any) -> None:
    """List the layers of a network that can be dreamed, with their channel counts.

    Layers after a head of fixed size are marked: they take only inputs of the size the
    network was trained at; the others take any size. A network from outside (a module,
    TorchScript or ONNX file) lists its layers in the order they run, each with the module
    paths that name it too (in parentheses): any of them is a --layer.

    \b
    Examples:
        inceptionism layers --model googlenet
        inceptionism layers --model caffe:deploy.prototxt
        inceptionism layers --model mynet.py:build
        inceptionism layers --model resnet50.onnx
    """
    net = shared_model(model, weights=None if weights == "default" else weights, **network_arguments(options))
    channels = net.layer_channels
    named: dict[str, list[str]] = {}
    for alias, layer in net.aliases.items():
        named.setdefault(layer, []).append(alias)
    shown = {name: f"{name} ({', '.join(named[name])})" if name in named else name for name in channels}
    width = max(map(len, shown.values()))
    for name, count in channels.items():
        fixed = f"  (needs {net.input_size}x{net.input_size} input)" if name in net.fixed_layers else ""
        default = "  [default]" if name == net.aliases.get(net.default_layer, net.default_layer) else ""
        click.echo(f"{shown[name]:<{width}}  {count:>5} channels{fixed}{default}")
