"""A small protobuf wire writer for the tests: Caffe ``NetParameter`` files from numpy arrays.

Written from the protobuf encoding rules (varint keys, length-delimited fields, packed
floats), independently of the package's reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

V1_ENUM = {"Convolution": 4, "InnerProduct": 14, "ReLU": 18, "Pooling": 17}


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def delimited(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


def integer(number: int, value: int) -> bytes:
    return tag(number, 0) + varint(value)


def blob(array: np.ndarray, *, v1: bool) -> bytes:
    data = delimited(5, np.ascontiguousarray(array, dtype="<f4").tobytes())
    if v1:  # num, channels, height, width, leading 1s first (a bias of 64 is 1x1x1x64)
        dims = (1,) * (4 - array.ndim) + array.shape
        return b"".join(integer(number, dim) for number, dim in zip((1, 2, 3, 4), dims, strict=True)) + data
    shape = delimited(1, b"".join(varint(dim) for dim in array.shape))  # BlobShape, dims packed
    return delimited(7, shape) + data


def layer(name: str, kind: str, blobs: list[np.ndarray], *, v1: bool) -> bytes:
    if v1:
        head = delimited(4, name.encode()) + integer(5, V1_ENUM.get(kind, 4))
        return head + b"".join(delimited(6, blob(b, v1=True)) for b in blobs)
    head = delimited(1, name.encode()) + delimited(2, kind.encode())
    return head + b"".join(delimited(7, blob(b, v1=False)) for b in blobs)


@dataclass
class CaffeFile:
    """A written file and where each layer's bytes are (for cutting it on purpose)."""

    data: bytes = b""
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer -> (payload start, payload end)


def net_file(layers: list[tuple[str, str, list[np.ndarray]]], *, v1: bool) -> CaffeFile:
    """A ``NetParameter`` with ``layers`` (name, type, blobs) in the V1 (field 2) or current (field 100) layout."""
    out = CaffeFile(delimited(1, b"synthetic"))
    number = 2 if v1 else 100
    for name, kind, blobs in layers:
        payload = layer(name, kind, blobs, v1=v1)
        head = tag(number, 2) + varint(len(payload))
        start = len(out.data) + len(head)
        out.data += head + payload
        out.spans[name] = (start, start + len(payload))
    return out
