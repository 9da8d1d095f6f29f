"""Command-line options generated from the dream options, and the shared ``--model``/``--weights`` pair."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from inceptionism.engine.options import OPTIONS, Option

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _click_option(option: Option, without: tuple[str, ...] = ()) -> Decorator:
    """One flag for ``option``; its default is ``None`` ("not given"), so presets and ``--from`` show through.

    ``without``: spellings a command uses for something else (``zoom``'s ``--labels``).
    """
    shown = f"  [default: {option.default_text}]" if option.default_text else ""
    if option.kind is bool:
        flag = option.flag.removeprefix("--")
        return click.option(f"--{flag}/--no-{flag}", option.name, default=None, help=option.help + shown)
    kind = click.Choice(option.kind) if isinstance(option.kind, tuple) else option.kind
    return click.option(
        *(flag for flag in option.flags or (option.flag,) if flag not in without),
        option.name,
        type=kind,
        default=None,
        multiple=option.repeatable,
        metavar=option.metavar,
        help=option.help + shown,
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
    """``--model`` and ``--weights``, for the commands that run a network."""
    for name in ("weights", "model"):
        option = OPTIONS[name]
        command = click.option(
            *option.flags or (option.flag,),
            name,
            default=option.default,
            show_default=True,
            metavar=option.metavar,
            help=option.help,
        )(command)
    return command


def weights_value(value: str | None) -> str | None:
    """``none`` (the spelling of earlier versions) is ``random``."""
    return "random" if value == "none" else value


def cluster_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--cluster`` and ``--threads``: where a render's tasks run, and with how many torch threads each."""
    command = click.option(
        "--threads",
        type=click.IntRange(1, 1024),
        default=None,
        help="torch threads per dream (the pixels depend on it). Default: all cores here; "
        "this machine's cores divided by N on local:N; the workers' own on a scheduler.",
    )(command)
    return click.option(
        "--cluster",
        metavar="ADDRESS|local:N",
        default=None,
        help="Run on a Dask cluster: a scheduler's address (tcp://10.0.0.5:8786) or local:N, "
        "N worker processes on this machine. Default: in this process.",
    )(command)
