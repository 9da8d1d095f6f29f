"""Argument checks shared by every layer; each raises a one-line ``InvalidParameterError``."""

from __future__ import annotations

import math

import torch

from inceptionism.errors import InvalidParameterError


def check_number(name: str, value: object) -> None:
    """Refuse anything but a finite int or float (bools included).

    >>> check_number("lr", float("nan"))
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: lr must be a finite number, got nan
    """
    # Any int is finite (and may be too large for a float, so it is not converted).
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise InvalidParameterError(f"{name} must be a finite number, got {value!r}", argument=name)


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    """Refuse anything but an int in ``minimum..maximum`` (bools included).

    >>> check_int("steps", 0, 1)
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: steps must be >= 1, got 0
    >>> check_int("octaves", 99, 1, 16)
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: octaves must be in 1..16, got 99
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}", argument=name)
    if value < minimum:
        relation = "non-negative" if minimum == 0 else f">= {minimum}"
        raise InvalidParameterError(f"{name} must be {relation}, got {value}", argument=name)
    if maximum is not None and value > maximum:
        raise InvalidParameterError(f"{name} must be in {minimum}..{maximum}, got {value}", argument=name)


def check_float(name: str, value: object, minimum: float, maximum: float, *, open_below: bool = False) -> None:
    """Refuse anything but a finite number in ``minimum..maximum`` (``> minimum`` if ``open_below``).

    >>> check_float("octave_scale", 1e300, 1.0, 8.0, open_below=True)
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: octave_scale must be > 1.0 and <= 8.0, got 1e+300
    """
    check_number(name, value)
    low = f"> {minimum!r}" if open_below else ("non-negative" if minimum == 0 else f">= {minimum!r}")
    if value < minimum or (open_below and value == minimum):
        raise InvalidParameterError(f"{name} must be {low}, got {value!r}", argument=name)
    if value > maximum:
        raise InvalidParameterError(f"{name} must be {low} and <= {maximum!r}, got {value!r}", argument=name)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """Refuse anything but one of ``choices``.

    >>> check_choice("param", "pixels", ("fourier", "pixel"))
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: param must be one of fourier, pixel, got 'pixels'
    """
    if not isinstance(value, str) or value not in choices:
        raise InvalidParameterError(f"{name} must be one of {', '.join(choices)}, got {value!r}", argument=name)


def check_generator(generator: object) -> None:
    """Refuse anything but a CPU ``torch.Generator`` (the source of every random choice)."""
    if not isinstance(generator, torch.Generator):
        raise InvalidParameterError(
            f"generator must be a torch.Generator, got {type(generator).__name__}; "
            "use torch.Generator().manual_seed(seed)",
            argument="generator",
        )
    if generator.device.type != "cpu":
        raise InvalidParameterError(
            f"generator must be a CPU torch.Generator, got one on {generator.device}; "
            "use torch.Generator().manual_seed(seed)",
            argument="generator",
        )
