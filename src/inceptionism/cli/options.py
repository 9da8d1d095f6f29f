"""Command-line options generated from the dream options, and the shared ``--model``/``--weights`` pair."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from inceptionism.engine.options import CONVENTION_OPTIONS, OPTIONS, Option, parse_weights
from inceptionism.models.imported import Convention
from inceptionism.objectives import parse_channels
from inceptionism.render.batch import BATCH_OPTIONS

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class OptionInt(click.IntRange):
    """click's ``IntRange`` of an option's bounds; a value outside is refused with the option's own message.

    The library's ``InvalidParameterError`` goes up to the command group, which prints it in one
    line with the flag (``Error: octaves must be in 1..16, got 17 (--octaves)``), as the API says it.
    """

    def __init__(self, option: Option) -> None:
        super().__init__(int(option.minimum), int(option.maximum))
        self.option = option

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The text as an integer (click's message if it is none), then checked by the option."""
        return self.option.check(self.option.name, click.INT.convert(value, param, ctx))


class OptionFloat(click.FloatRange):
    """click's ``FloatRange`` of an option's bounds; a value outside is refused with the option's own message."""

    def __init__(self, option: Option) -> None:
        super().__init__(option.minimum, option.maximum, min_open=option.open_below)
        self.option = option

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The text as a number (click's message if it is none), then checked by the option."""
        return self.option.check(self.option.name, click.FLOAT.convert(value, param, ctx))


class OptionFlag(click.Option):
    """A flag whose ``--help`` line ends in its option's default and bounds: ``[default: 4; 1..16]``.

    Its click default is ``None`` ("not given"), so that presets and ``--from`` show through;
    the default shown is the option's.
    """

    def __init__(self, *args: Any, option: Option, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.option = option

    def get_help_extra(self, ctx: click.Context) -> Any:
        """The extras click shows, with the option's default, and its bounds as the range."""
        extra = super().get_help_extra(ctx)
        extra.pop("range", None)
        if self.option.default_text:
            extra["default"] = self.option.default_text
        if self.option.bounds:
            extra["range"] = self.option.bounds
        return extra


class ChannelList(click.ParamType):
    """A channel list (``0-63`` or ``3,12,40``), read when the command line is: by the one parser of channel lists."""

    name = "list"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The channels, in order (``InvalidParameterError`` for a list that is none)."""
        return value if isinstance(value, list) else parse_channels(value)


def click_type(option: Option) -> click.ParamType:
    """The click type of ``option``: a range of its bounds, its choices, or plain text.

    >>> click_type(OPTIONS["octaves"])
    <OptionInt 1<=x<=16>
    """
    if option.choices:
        return click.Choice(option.choices)
    if option.numeric and option.kind is int:
        return OptionInt(option)
    if option.numeric:
        return OptionFloat(option)
    return click.STRING


def _click_option(option: Option, without: tuple[str, ...] = ()) -> Decorator:
    """One flag for ``option``; its default is ``None`` ("not given"), so presets and ``--from`` show through.

    ``without``: spellings a command uses for something else (``zoom``'s ``--labels``).
    """
    if option.kind is bool:
        flag = option.flag.removeprefix("--")
        return click.option(
            f"--{flag}/--no-{flag}", option.name, cls=OptionFlag, option=option, default=None, help=option.help
        )
    return click.option(
        *(flag for flag in option.flags or (option.flag,) if flag not in without),
        option.name,
        cls=OptionFlag,
        option=option,
        type=click_type(option),
        default=None,
        multiple=option.repeatable,
        metavar=option.metavar,
        help=option.help,
    )


def option_flags(table: dict[str, Option], *, without: tuple[str, ...] = ()) -> Decorator:
    """A decorator adding a flag for every option of ``table``, in its order (less the spellings ``without``).

    An option all of whose spellings are ``without`` is left out: the command does not take it.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(table.values()):
            if not set(option.flags or (option.flag,)) <= set(without):
                command = _click_option(option, without)(command)
        return command

    return decorate


def dreaming_options(command: Callable[..., Any] | None = None, *, without: tuple[str, ...] = ()) -> Callable[..., Any]:
    """``--from IMAGE``, a flag for every dream option, ``--guide`` and ``--mask``: what each dreaming command takes.

    Used bare (``@dreaming_options``) or with the spellings a command uses for something else
    (``@dreaming_options(without=("--labels",))``) or does not take (``without=("--noise",)``).
    """
    if command is None:
        return functools.partial(dreaming_options, without=without)
    command = click.option(
        "--mask", type=click.Path(dir_okay=False, path_type=Path), help="White dreams, black stays."
    )(command)
    command = click.option(
        "--guide", type=click.Path(dir_okay=False, path_type=Path), help="Dream the layers toward this image."
    )(command)
    command = option_flags(OPTIONS, without=without)(command)
    return click.option(
        "--from",
        "from_image",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="IMAGE",
        help="Dream with the parameters stored in IMAGE, seed included; the flags you give override them.",
    )(command)


def resume_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--work-dir``, ``--restart`` and ``--keep-frames``: the work directory of a render of many frames."""
    command = click.option("--keep-frames", is_flag=True, help="Keep the work directory after success.")(command)
    command = click.option(
        "--restart", is_flag=True, help="Discard the frames of an earlier render instead of resuming."
    )(command)
    return click.option(
        "--work-dir", type=click.Path(file_okay=False, path_type=Path), help="Where finished frames are kept."
    )(command)


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--model`` and ``--weights`` (read by :func:`parse_weights`), for the commands that run a network."""
    for name in ("weights", "model"):
        option = OPTIONS[name]
        command = click.option(
            *option.flags or (option.flag,),
            name,
            default=option.default,
            show_default=True,
            metavar=option.metavar,
            help=option.help,
            callback=_weights_spelling if name == "weights" else None,
        )(command)
    return command


def network_options(
    command: Callable[..., Any] | None = None, *, spellings: dict[str, tuple[str, ...]] | None = None
) -> Callable[..., Any]:
    """``--model``, ``--weights``, a network's preprocessing (``--mean``, ``--std``, ...) and ``--labels-file``.

    Used bare, or with other spellings of some (``spellings={"input_size": ("--size", "--input-size")}``).
    The command reads them with :func:`network_arguments`.
    """
    if command is None:
        return functools.partial(network_options, spellings=spellings)
    names = (*CONVENTION_OPTIONS, "labels_file")
    table = {name: dataclasses.replace(OPTIONS[name], flags=(spellings or {}).get(name, OPTIONS[name].flags))
             for name in names}  # fmt: skip
    return model_options(option_flags(table)(command))


def network_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`~inceptionism.models.shared_model` from a command's network options.

    They are those :func:`network_options` adds, removed from ``options`` and checked.
    """
    values = {name: options.pop(name, None) for name in (*CONVENTION_OPTIONS, "labels_file")}
    checked = {name: None if value is None else OPTIONS[name].check(name, value) for name, value in values.items()}
    labels_file = checked.pop("labels_file")
    return {"labels_file": labels_file, "convention": Convention(**checked)}


def _weights_spelling(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return parse_weights("weights", value)


def cluster_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--cluster`` and ``--threads``: where a render's tasks run, and with how many torch threads each."""
    return option_flags(BATCH_OPTIONS)(command)
