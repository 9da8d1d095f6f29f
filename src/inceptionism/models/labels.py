r"""Class names read from a file: one per line, as Caffe models ship them.

Three forms are read: a bare name per line; ``/a/abbey 0`` (a Places category path and its
index, as in ``categoryIndex_places205.csv`` and ``categories_places365.txt``: the name is
``abbey``); and ``n01440764 tench, Tinca tinca`` (Caffe's ``synset_words.txt``: the name is
``tench``).

>>> parse_labels("/a/abbey 0\n/b/bakery/shop 1\n")
('abbey', 'bakery/shop')
"""

from __future__ import annotations

import re
from pathlib import Path

from inceptionism.errors import InvalidParameterError

LABELS_BYTES = 16 * 2**20
"""Largest labels file read."""
_INDEXED = re.compile(r"^(?P<name>\S.*?)\s+(?P<index>\d+)$")
_SYNSET = re.compile(r"^n\d{8}\s+(?P<name>[^,]+)")
_PLACES_PREFIX = re.compile(r"^/[a-z]/")


def numbered_labels(count: int) -> tuple[str, ...]:
    """``("class 0", "class 1", ...)``: the names of classes no file names."""
    return tuple(f"class {index}" for index in range(count))


def parse_labels(text: str, *, source: str = "labels") -> tuple[str, ...]:
    """The class names of a labels file's text, in index order.

    Raises:
        InvalidParameterError: when indexed lines skip or repeat an index.
    """
    names: dict[int, str] = {}
    plain: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if match := _INDEXED.match(line):
            index = int(match["index"])
            if index in names:
                raise InvalidParameterError(f"{source} names class {index} twice", argument="labels_file")
            names[index] = _PLACES_PREFIX.sub("", match["name"])
        elif match := _SYNSET.match(line):
            plain.append(match["name"].strip())
        else:
            plain.append(line)
    if names and plain:
        raise InvalidParameterError(
            f"{source} mixes numbered lines ('/a/abbey 0') and plain names; use one form", argument="labels_file"
        )
    if names:
        if sorted(names) != list(range(len(names))):
            raise InvalidParameterError(
                f"{source} numbers its classes with gaps; number them 0..N-1", argument="labels_file"
            )
        return tuple(names[index] for index in range(len(names)))
    return tuple(plain)


def read_labels(path: str | Path, *, classes: int) -> tuple[str, ...]:
    """The class names in ``path``, checked to be one per output of a network of ``classes`` outputs.

    Raises:
        InvalidParameterError: for a missing, oversized or unreadable file, or a count that does not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"labels file not found: {path}", argument="labels_file")
    if path.stat().st_size > LABELS_BYTES:
        raise InvalidParameterError(f"labels file {path} is over {LABELS_BYTES // 2**20} MB", argument="labels_file")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterError(f"labels file {path} is not UTF-8 text", argument="labels_file") from None
    labels = parse_labels(text, source=str(path))
    if len(labels) != classes:
        raise InvalidParameterError(
            f"labels file {path} names {len(labels)} classes but the network has {classes} outputs",
            argument="labels_file",
        )
    return labels
