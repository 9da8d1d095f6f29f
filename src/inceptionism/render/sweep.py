"""A grid of settings to dream each photo with: ``--sweep layer=fire3,fire5 --sweep octaves=3,4``.

Each ``--sweep`` names one option (by its keyword or its flag: ``octave_scale``,
``octave-scale``, ``layer``) and its values, separated by commas, or by semicolons where a
value holds commas of its own (``layer=fire7:3,12;fire5``); naming an option again adds
values. The grid is every combination, the first option varying slowest.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from inceptionism.engine.options import OPTIONS, Option
from inceptionism.errors import InvalidParameterError, unknown_name

VALUES_LIMIT = 64
"""Values one swept option may take."""
COMBINATIONS_LIMIT = 1024
_TRUE, _FALSE = ("on", "true", "yes", "1"), ("off", "false", "no", "0")
_NAMES = {
    **{name: name for name in OPTIONS},
    **{flag.lstrip("-").replace("-", "_"): name for name, option in OPTIONS.items() for flag in option.flags},
}
_NAMES = {key: value for key, value in _NAMES.items() if len(key) > 1}  # not the one-letter flags
_SHORT = {name: key for key, name in _NAMES.items() if key != name}  # layers -> layer, in labels


def parse_sweep(texts: Sequence[str]) -> dict[str, list[Any]]:
    """``["layer=fire3,fire5", "octaves=3,4"]`` as ``{"layers": [("fire3",), ("fire5",)], "octaves": [3, 4]}``.

    Values are checked as the option checks them.

    >>> parse_sweep(["layer=fire3,fire5", "octave-scale=1.3;1.5"])
    {'layers': [('fire3',), ('fire5',)], 'octave_scale': [1.3, 1.5]}

    Raises:
        InvalidParameterError: a text that is not ``NAME=VALUES``, a value of the wrong kind,
            too many values.
        UnknownNameError: an option that does not exist.
    """
    sweep: dict[str, list[Any]] = {}
    for text in texts:
        key, equals, values = text.partition("=")
        if not equals or not key.strip() or not values.strip():
            raise InvalidParameterError(f"a sweep is NAME=VALUE,VALUE..., e.g. layer=fire3,fire5; got {text!r}",
                                        argument="sweep")  # fmt: skip
        name = _option_name(key.strip())
        pieces = [piece.strip() for piece in re.split(";" if ";" in values else ",", values)]
        chosen = sweep.setdefault(name, [])
        for piece in pieces:
            value = _value(OPTIONS[name], piece)
            if value not in chosen:
                chosen.append(value)
        if len(chosen) > VALUES_LIMIT:
            raise InvalidParameterError(f"a sweep takes at most {VALUES_LIMIT} values of {key.strip()}, "
                                        f"got {len(chosen)}", argument="sweep")  # fmt: skip
    if combinations_count(sweep) > COMBINATIONS_LIMIT:
        raise InvalidParameterError(f"the sweep makes {combinations_count(sweep)} combinations; "
                                    f"at most {COMBINATIONS_LIMIT}", argument="sweep")  # fmt: skip
    return sweep


def combinations_count(sweep: dict[str, list[Any]]) -> int:
    """How many combinations the grid has (1 without a sweep)."""
    count = 1
    for values in sweep.values():
        count *= len(values)
    return count


def combinations(sweep: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid, the first option varying slowest (``[{}]`` without a sweep).

    >>> combinations({"octaves": [3, 4], "jitter": [0, 8]})
    [{'octaves': 3, 'jitter': 0}, {'octaves': 3, 'jitter': 8}, {'octaves': 4, 'jitter': 0}, {'octaves': 4, 'jitter': 8}]
    """
    names = list(sweep)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*sweep.values())]


def label(values: dict[str, Any]) -> str:
    """One combination as people read it: ``layer=fire5 octaves=3``."""
    return " ".join(f"{name}={value}" for name, value in shown_values(values).items())


def shown_values(values: dict[str, Any]) -> dict[str, str]:
    """A combination under the names people sweep by (``layer``, not ``layers``), its values as text.

    >>> shown_values({"layers": ("fire5",), "octaves": 3})
    {'layer': 'fire5', 'octaves': '3'}
    """
    return {_SHORT.get(name, name): shown(value) for name, value in values.items()}


def shown(value: Any) -> str:
    """A swept value as text: a one-spec list as the spec, a list joined with ``+``."""
    if isinstance(value, (tuple, list)):
        return "+".join(map(str, value))
    return str(value)


def _option_name(key: str) -> str:
    normal = key.lstrip("-").replace("-", "_")
    if normal not in _NAMES:
        raise unknown_name("option", key, sorted(_NAMES), "inceptionism dream --help", argument="sweep")
    return _NAMES[normal]


def _value(option: Option, text: str) -> Any:
    """``text`` as a value of ``option``, checked."""
    name = _SHORT.get(option.name, option.name)
    if text.lower() == "none":
        value: Any = None
    elif option.repeatable:
        value = (text,)
    elif option.kind is bool:
        if text.lower() not in (*_TRUE, *_FALSE):
            raise InvalidParameterError(f"sweep {name}: {text!r} is not on or off", argument="sweep")
        value = text.lower() in _TRUE
    elif option.numeric:
        try:
            value = option.kind(text)
        except ValueError:
            kind = "a whole number" if option.kind is int else "a number"
            raise InvalidParameterError(f"sweep {name}: {text!r} is not {kind}", argument="sweep") from None
    else:
        value = text
    try:
        return option.check(option.name, value)
    except InvalidParameterError as error:
        raise InvalidParameterError(f"sweep {name}: {error}", argument="sweep") from None
