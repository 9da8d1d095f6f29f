"""Any Caffe classification network as a model: ``caffe:PATH/deploy.prototxt``, its ``.caffemodel`` as the weights.

The network is built from the prototxt (see :mod:`inceptionism.models.caffe.builder`); its
layers, smallest input and default layer are read from what was built. It takes BGR pixels
in 0..255 minus a mean, as Caffe's ImageNet networks do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from inceptionism.errors import InvalidParameterError
from inceptionism.models.caffe.builder import CaffeNet
from inceptionism.models.caffe.prototxt import Message, parse_prototxt
from inceptionism.models.labels import numbered_labels
from inceptionism.models.network import CLASSES, LOGITS, Network, Preprocessing
from inceptionism.models.weights import WeightsArg, load_chosen

CAFFE_PREFIX = "caffe:"
CAFFE_MEAN = (104.0, 117.0, 123.0)
"""The BGR mean of a ``caffe:`` network when none is given: Caffe's ImageNet mean, rounded."""
PROTOTXT_BYTES = 16 * 2**20


def prototxt_path(name: str) -> str:
    """The prototxt file of the model ``caffe:PATH``, which must exist."""
    prototxt = name.removeprefix(CAFFE_PREFIX)
    if not os.path.isfile(prototxt):
        raise InvalidParameterError(
            f"prototxt file not found: {prototxt} (give the model as caffe:PATH/deploy.prototxt)", argument="model"
        )
    return prototxt


def checked_mean(mean: Sequence[float] | None) -> tuple[float, float, float]:
    """The BGR mean given for a ``caffe:`` network, or :data:`CAFFE_MEAN`."""
    if mean is None:
        return CAFFE_MEAN
    values = tuple(float(m) for m in mean)
    if len(values) != 3:
        raise InvalidParameterError(f"mean must be three numbers B,G,R, got {mean!r}", argument="mean")
    return values  # type: ignore[return-value]


def read_prototxt(prototxt: str) -> Message:
    """The parsed ``NetParameter`` of a text prototxt, refusing a file too large or not text."""
    if os.path.getsize(prototxt) > PROTOTXT_BYTES:
        raise InvalidParameterError(
            f"{prototxt} is over {PROTOTXT_BYTES // 2**20} MB; is it a prototxt?", argument="model"
        )
    try:
        text = Path(prototxt).read_text("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterError(f"{prototxt} is not a text prototxt (not UTF-8)", argument="model") from None
    return parse_prototxt(text, source=prototxt)


def caffe_network(name: str, prototxt: str, weights: WeightsArg, mean: tuple[float, float, float]) -> Network:
    """The network ``caffe:PATH`` with ``weights`` (a ``.caffemodel``, a state dict, or random).

    Args:
        name: the model's name, ``caffe:PATH``.
        prototxt: the file it names.
        weights: a file, or ``None`` / ``"random"``; ``"default"`` is refused (none are published).
        mean: the BGR mean its pixels in 0..255 are reduced by.
    """
    body = CaffeNet(read_prototxt(prototxt), source=prototxt)
    description = load_chosen(body, weights, model=name, default=None, progress=False)
    spec = body.spec
    fixed = set(spec.fixed_layers)
    if spec.output in fixed:
        fixed |= {LOGITS, CLASSES}
    return Network(
        body,
        name=name,
        preprocessing=Preprocessing("BGR", 1.0, mean),
        layers=spec.layers,
        labels=numbered_labels(spec.classes),
        min_size=body.min_size(),
        input_size=min(spec.input_shape[1:]),
        weights=description,
        default_layer=body.default_layer(),
        fixed_layers=fixed,
    )
