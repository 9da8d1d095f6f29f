"""Argument checks shared by the engine layer; each raises a one-line ``InvalidParameterError``."""

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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidParameterError(f"{name} must be a finite number, got {value!r}")


def check_int(name: str, value: object, minimum: int) -> None:
    """Refuse anything but an int of at least ``minimum`` (bools included).

    >>> check_int("steps", 0, 1)
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: steps must be >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        relation = "non-negative" if minimum == 0 else f">= {minimum}"
        raise InvalidParameterError(f"{name} must be {relation}, got {value}")


def check_generator(generator: object) -> None:
    """Refuse anything but a CPU ``torch.Generator`` (the source of every random choice)."""
    if not isinstance(generator, torch.Generator):
        raise InvalidParameterError(
            f"generator must be a torch.Generator, got {type(generator).__name__}; "
            "use torch.Generator().manual_seed(seed)"
        )
    if generator.device.type != "cpu":
        raise InvalidParameterError(
            f"generator must be a CPU torch.Generator, got one on {generator.device}; "
            "use torch.Generator().manual_seed(seed)"
        )
