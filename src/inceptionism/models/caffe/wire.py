"""A reader of ``.caffemodel`` files: the protobuf wire format of Caffe's ``NetParameter``, no Caffe needed.

Only what weights need is decoded: each layer's name, type and blobs. Both layouts found
in the wild are read: the V1 ``layers`` (field 2; blob dimensions as num, channels, height,
width) and the current ``layer`` (field 100; a ``BlobShape``). Packed float data becomes a
numpy array that shares the file's buffer (no copy).

Field numbers (from Caffe's ``caffe.proto``): ``NetParameter``: layers 2, layer 100;
``LayerParameter``: name 1, type 2, blobs 7; ``V1LayerParameter``: name 4, type 5 (an enum),
blobs 6; ``BlobProto``: num 1, channels 2, height 3, width 4, data 5, double_data 8,
shape 7; ``BlobShape``: dim 1.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inceptionism.errors import WeightsError

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_NET_V1_LAYERS, _NET_LAYER = 2, 100
# (name, type, blobs) field numbers of each layer layout
_LAYOUTS = {_NET_LAYER: (1, 2, 7), _NET_V1_LAYERS: (4, 5, 6)}
_BLOB_LEGACY_DIMS = (1, 2, 3, 4)  # num, channels, height, width
_BLOB_DATA, _BLOB_SHAPE, _BLOB_DOUBLE_DATA = 5, 7, 8
V1_TYPES = {
    3: "Concat",
    4: "Convolution",
    5: "Data",
    6: "Dropout",
    8: "Flatten",
    14: "InnerProduct",
    15: "LRN",
    17: "Pooling",
    18: "ReLU",
    20: "Softmax",
    21: "SoftmaxWithLoss",
    22: "Split",
    25: "Eltwise",
}
"""The V1 ``LayerType`` enum values of the layer types classification nets use."""


class Truncated(Exception):
    """A field runs past the end of its message (a cut or corrupt file)."""

    def __init__(self, end: int, size: int) -> None:
        super().__init__(f"a field ends at byte {end} of {size}")
        self.end, self.size = end, size


@dataclass(frozen=True)
class CaffeLayer:
    """One layer of a ``.caffemodel``.

    Attributes:
        name: the layer's name, e.g. ``"inception_4c/1x1"``.
        type: its type, e.g. ``"Convolution"`` (a V1 enum value becomes its name).
        blobs: its parameter arrays (float32) in the shape the file gives.
    """

    name: str
    type: str
    blobs: tuple[np.ndarray, ...]


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    """The varint at ``at`` and the offset after it."""
    value = shift = 0
    while True:
        if at >= len(data):
            raise Truncated(at + 1, len(data))
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise Truncated(at, len(data))


def fields(data: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Each ``(field number, wire type, value)`` of one message.

    A varint or fixed-size value comes as an int (fixed ones as their raw bits), a
    length-delimited one as a view into ``data``.

    Raises:
        Truncated: where a field runs past the end of ``data``.
    """
    at, size = 0, len(data)
    while at < size:
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, at = _varint(data, at)
            yield number, wire, value
        elif wire == LENGTH:
            length, at = _varint(data, at)
            if at + length > size:
                raise Truncated(at + length, size)
            yield number, wire, data[at : at + length]
            at += length
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if at + width > size:
                raise Truncated(at + width, size)
            yield number, wire, int.from_bytes(data[at : at + width], "little")
            at += width
        else:  # groups (3, 4) and the unused wire types: no Caffe file has them
            raise Truncated(at, size)


def _packed_varints(data: memoryview) -> list[int]:
    values, at = [], 0
    while at < len(data):
        value, at = _varint(data, at)
        values.append(value)
    return values


def _blob(data: memoryview) -> np.ndarray:
    """A ``BlobProto`` as a float32 array of its shape."""
    legacy = [0, 0, 0, 0]
    shape: list[int] | None = None
    values: np.ndarray | None = None
    loose: list[float] = []  # floats not packed (allowed by protobuf, rare)
    for number, wire, value in fields(data):
        if number in _BLOB_LEGACY_DIMS and wire == VARINT:
            legacy[number - 1] = int(value)  # type: ignore[arg-type]
        elif number == _BLOB_SHAPE and wire == LENGTH:
            shape = []
            for dim_number, dim_wire, dim in fields(value):  # type: ignore[arg-type]
                if dim_number == 1:
                    shape += _packed_varints(dim) if dim_wire == LENGTH else [int(dim)]  # type: ignore[arg-type]
        elif number == _BLOB_DATA and wire == LENGTH:
            if len(value) % 4:  # type: ignore[arg-type]
                raise Truncated(len(value), len(value) - len(value) % 4)  # type: ignore[arg-type]
            values = np.frombuffer(value, dtype="<f4")  # type: ignore[call-overload]
        elif number == _BLOB_DATA and wire == FIXED32:
            loose.append(struct.unpack("<f", int(value).to_bytes(4, "little"))[0])  # type: ignore[arg-type]
        elif number == _BLOB_DOUBLE_DATA and wire == LENGTH:
            values = np.frombuffer(value, dtype="<f8").astype(np.float32)  # type: ignore[call-overload]
    if values is None:
        values = np.asarray(loose, dtype=np.float32)
    if shape is None:
        shape = legacy if any(legacy) else [values.size]
    if int(np.prod(shape)) != values.size:
        raise ValueError(f"a blob of shape {tuple(shape)} holds {values.size} values")
    return values.reshape(shape)


def _text(value: int | memoryview) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, memoryview) else str(value)


def _layer(data: memoryview, layout: tuple[int, int, int]) -> tuple[str, str, list[memoryview]]:
    name_field, type_field, blobs_field = layout
    name, kind, blobs = "", "", []
    for number, wire, value in fields(data):
        if number == name_field and wire == LENGTH:
            name = _text(value)
        elif number == type_field:
            kind = _text(value) if wire == LENGTH else V1_TYPES.get(int(value), f"V1 type {value}")  # type: ignore[arg-type]
        elif number == blobs_field and wire == LENGTH:
            blobs.append(value)
    return name, kind, blobs


def _partial_name(data: memoryview, layout: tuple[int, int, int]) -> str:
    """The name of a layer whose bytes are cut off, if its name field made it."""
    try:
        for number, wire, value in fields(data):
            if number == layout[0] and wire == LENGTH:
                return _text(value)
    except Truncated:
        pass
    return ""


def _last_layer(data: memoryview) -> tuple[memoryview, tuple[int, int, int]] | None:
    """The bytes of the layer field that runs past the end of the file, if one does."""
    at = 0
    while at < len(data):
        try:
            key, start = _varint(data, at)
            if key & 7 != LENGTH:
                return None
            length, start = _varint(data, start)
        except Truncated:
            return None
        if start + length > len(data):
            layout = _LAYOUTS.get(key >> 3)
            return (data[start:], layout) if layout else None
        at = start + length
    return None


def read_caffemodel(path: str | Path) -> list[CaffeLayer]:
    """The layers of a ``.caffemodel`` file that hold blobs, in file order.

    Raises:
        WeightsError: one line for a missing, truncated or corrupt file, naming the layer
            where it breaks off.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty.caffemodel"
    >>> _ = path.write_bytes(b"")
    >>> read_caffemodel(path)
    []
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}", argument="weights")
    with path.open("rb") as file:
        buffer = bytearray(path.stat().st_size)  # writable, so tensors can share it without a copy
        file.readinto(buffer)
    data = memoryview(buffer)
    layers = []
    current: tuple[memoryview, tuple[int, int, int]] | None = None
    try:
        for number, wire, value in fields(data):
            layout = _LAYOUTS.get(number)
            if layout is None or wire != LENGTH:
                continue
            current = (value, layout)  # type: ignore[assignment]
            name, kind, blobs = _layer(value, layout)  # type: ignore[arg-type]
            if blobs:
                layers.append(CaffeLayer(name, kind, tuple(_blob(blob) for blob in blobs)))
    except Truncated as error:
        cut = _last_layer(data) or current
        name = _partial_name(*cut) if cut else ""
        where = f" in layer {name!r}" if name else ""
        raise WeightsError(
            f"{path} is truncated or corrupt{where}: a field ends at byte {error.end} of {error.size}; "
            "download the file again",
            argument="weights",
        ) from None
    except ValueError as error:
        name = _partial_name(*current) if current else ""
        raise WeightsError(f"{path} is corrupt in layer {name!r}: {error}", argument="weights") from None
    return layers
