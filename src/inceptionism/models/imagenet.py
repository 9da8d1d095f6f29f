"""The 1000 ImageNet-1k classes, in the index order every registered network uses."""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def _rows() -> tuple[tuple[str, str], ...]:
    text = resources.files("inceptionism").joinpath("data/imagenet_classes.tsv").read_text("utf-8")
    return tuple(tuple(line.split("\t", 1)) for line in text.splitlines() if line)  # type: ignore[misc]


def imagenet_classes() -> tuple[str, ...]:
    """Short English name of each class, e.g. ``"tabby"`` at index 281.

    >>> imagenet_classes()[281]
    'tabby'
    """
    return tuple(name for _, name in _rows())


def imagenet_wnids() -> tuple[str, ...]:
    """WordNet id of each class, e.g. ``"n02123045"`` at index 281."""
    return tuple(wnid for wnid, _ in _rows())
