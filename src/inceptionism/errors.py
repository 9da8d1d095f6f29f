"""Typed errors. Each message is one line naming the problem and the fix.

The command line and the web app turn these into a one-line message and an exit code
or a 4xx status; anything else escaping the library is a bug.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InceptionismError(Exception):
    """Base class of every error caused by what the user asked for.

    Args:
        message: one line naming the problem and the fix.
        argument: the argument or setting at fault (``"octave_scale"``), if one is; the
            command line and the web app name their own flag or field for it.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class InvalidParameterError(InceptionismError, ValueError):
    """A parameter is out of its allowed range or of the wrong form."""


class UnknownNameError(InceptionismError, ValueError):
    """A model, layer or class name that does not exist."""


class ImageError(InceptionismError):
    """An input image that cannot be read or used."""


class OutputError(InceptionismError):
    """An output file that cannot be written."""


class WeightsError(InceptionismError):
    """Network weights that cannot be found, fetched or verified."""


class DeviceError(InceptionismError):
    """A device or precision this machine does not provide."""


def unknown_name(
    kind: str, name: str, choices: Iterable[str], how_to_list: str, where: str = "", *, argument: str | None = None
) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that suggests the closest names.

    Args:
        kind: what was looked up, e.g. ``"layer"``.
        name: the name given.
        choices: the valid names.
        how_to_list: how the user lists every valid name, e.g. ``"inceptionism layers"``.
        where: what holds the names, e.g. ``"squeezenet1_1"``.
        argument: the argument that gave the name (see :class:`InceptionismError`).

    Returns:
        The error, ready to raise.

    >>> str(unknown_name("model", "squeezenet", ["squeezenet1_1", "googlenet"], "inceptionism models"))
    "unknown model 'squeezenet'; did you mean squeezenet1_1? (list them with: inceptionism models)"
    """
    choices = list(choices)
    close = closest(name, choices)
    if not close:
        close = [c for c in choices if name.lower() in c.lower()][:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    place = f" in {where}" if where else ""
    return UnknownNameError(f"unknown {kind} {name!r}{place}{hint} (list them with: {how_to_list})", argument=argument)


def closest(name: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """Up to ``n`` choices most similar to ``name``, ties kept in the order given.

    >>> closest("conv", ["conv1", "conv2", "fc"])
    ['conv1', 'conv2']
    """
    scored = []
    for choice in choices:
        matcher = difflib.SequenceMatcher(None, name, choice)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff and matcher.ratio() >= cutoff:
            scored.append((matcher.ratio(), choice))
    scored.sort(key=lambda item: -item[0])
    return [choice for _, choice in scored[:n]]
