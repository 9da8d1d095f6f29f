"""From a prototxt layer to a torch module: one builder per Caffe layer type, found in :data:`BUILDERS`.

A builder reads the layer's parameters and the shapes of the blobs it reads, and returns the
module and the shape of the blob it makes (shapes without the batch axis), or refuses the
layer in one line naming it.

>>> from inceptionism.models.caffe.prototxt import parse_prototxt
>>> layer = parse_prototxt('name: "fc" inner_product_param { num_output: 10 }')
>>> BUILDERS["InnerProduct"](LayerInput(layer, "fc", ((64, 2, 2),), "deploy.prototxt"))[1]
(10,)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from inceptionism.errors import InvalidParameterError
from inceptionism.models.caffe.modules import (
    CaffeBatchNorm,
    CaffeScale,
    Concat,
    Eltwise,
    Flatten,
    GlobalPool,
    InnerProduct,
    conv_side,
    pool_side,
)
from inceptionism.models.caffe.prototxt import Message

Shape = tuple[int, ...]
"""A blob's shape without the batch axis: ``(C, H, W)`` or ``(C,)``."""


def one(message: Message, name: str, default: Any = None) -> Any:
    """The value of field ``name`` (the last one where it repeats), or ``default``."""
    values = message.get(name)
    return values[-1] if values else default


def sub(layer: Message, name: str) -> Message:
    """The sub-message ``name`` (``convolution_param`` ...), empty when absent."""
    return one(layer, name, {}) or {}


def _pair(param: Message, name: str, default: int) -> tuple[int, int]:
    """Caffe's ``kernel_size`` / ``kernel_h`` + ``kernel_w`` style of giving two sides."""
    height, width = one(param, f"{name}_h"), one(param, f"{name}_w")
    if height is not None or width is not None:
        return int(height if height is not None else default), int(width if width is not None else default)
    values = param.get(name if name != "kernel" else "kernel_size") or [default]
    if len(values) == 1:
        return int(values[0]), int(values[0])
    return int(values[0]), int(values[1])


def layer_error(source: str, layer: str, message: str) -> InvalidParameterError:
    """The error for a layer the builder refuses: ``deploy.prototxt: layer 'conv' <message>``."""
    return InvalidParameterError(f"{source}: layer {layer!r} {message}", argument="model")


@dataclass(frozen=True)
class LayerInput:
    """What a builder is given.

    Attributes:
        layer: the layer's prototxt message.
        name: its name, for messages.
        shapes: the shapes of the blobs it reads, in order.
        source: the prototxt's file name, for messages.
    """

    layer: Message
    name: str
    shapes: tuple[Shape, ...]
    source: str

    @property
    def shape(self) -> Shape:
        """The shape of the first blob read."""
        return self.shapes[0]

    def param(self, name: str) -> Message:
        """The layer's sub-message ``name`` (empty when absent)."""
        return sub(self.layer, name)

    def error(self, message: str) -> InvalidParameterError:
        """The one-line refusal of this layer."""
        return layer_error(self.source, self.name, message)

    def spatial(self) -> tuple[int, int, int]:
        """The first blob's ``(C, H, W)``; a flat blob is refused."""
        if len(self.shape) != 3:
            raise self.error(f"needs a (C, H, W) input, got {self.shape}")
        return self.shape  # type: ignore[return-value]


Built = tuple[nn.Module, Shape]
"""A builder's result: the module and the shape of the blob it makes."""


def convolution(given: LayerInput) -> Built:
    """``Convolution``: grouped, dilated, with or without bias."""
    channels, height, width = given.spatial()
    param = given.param("convolution_param")
    out = int(one(param, "num_output", 0))
    groups = int(one(param, "group", 1))
    kernel, stride, pad = _pair(param, "kernel", 0), _pair(param, "stride", 1), _pair(param, "pad", 0)
    dilation = _pair(param, "dilation", 1)
    if out < 1 or min(kernel) < 1 or channels % groups or out % groups:
        raise given.error(f"has num_output {out}, kernel {kernel}, group {groups} for {channels} channels")
    conv = nn.Conv2d(channels, out, kernel, stride, pad, dilation, groups, bias=bool(one(param, "bias_term", True)))
    sides = tuple(conv_side((height, width)[i], kernel[i], stride[i], pad[i], dilation[i]) for i in (0, 1))
    return conv, (out, *sides)


def pooling(given: LayerInput) -> Built:
    """``Pooling``: MAX or AVE, over windows rounded up as Caffe does, or over the whole map."""
    channels, height, width = given.spatial()
    param = given.param("pooling_param")
    method = str(one(param, "pool", "MAX"))
    if method not in ("MAX", "AVE"):
        raise given.error(f"pools with {method}; inceptionism builds MAX and AVE pooling")
    if one(param, "global_pooling", False):
        return GlobalPool(method == "MAX"), (channels, 1, 1)
    kernel, stride, pad = _pair(param, "kernel", 0), _pair(param, "stride", 1), _pair(param, "pad", 0)
    if min(kernel) < 1:
        raise given.error("has no kernel_size")
    pool: nn.Module = (
        nn.MaxPool2d(kernel, stride, pad, ceil_mode=True)
        if method == "MAX"
        else nn.AvgPool2d(kernel, stride, pad, ceil_mode=True, count_include_pad=True)
    )
    sides = tuple(pool_side((height, width)[i], kernel[i], stride[i], pad[i]) for i in (0, 1))
    return pool, (channels, *sides)


def lrn(given: LayerInput) -> Built:
    """``LRN`` across channels."""
    given.spatial()
    param = given.param("lrn_param")
    if str(one(param, "norm_region", "ACROSS_CHANNELS")) != "ACROSS_CHANNELS":
        raise given.error("normalises WITHIN_CHANNEL; inceptionism builds ACROSS_CHANNELS LRN")
    size = int(one(param, "local_size", 5))
    alpha, beta, k = float(one(param, "alpha", 1.0)), float(one(param, "beta", 0.75)), float(one(param, "k", 1.0))
    return nn.LocalResponseNorm(size, alpha, beta, k), given.shape


def relu(given: LayerInput) -> Built:
    """``ReLU``, leaky where it has a ``negative_slope``."""
    slope = float(one(given.param("relu_param"), "negative_slope", 0.0))
    return (nn.ReLU() if slope == 0 else nn.LeakyReLU(slope)), given.shape


def concat(given: LayerInput) -> Built:
    """``Concat`` along the channels of maps of equal sides."""
    param = given.param("concat_param")
    axis = int(one(param, "axis", one(param, "concat_dim", 1)))
    if axis != 1 or any(shape[1:] != given.shape[1:] for shape in given.shapes):
        raise given.error(f"joins shapes {list(given.shapes)} along axis {axis}; it needs axis 1 and equal sides")
    return Concat(1), (sum(shape[0] for shape in given.shapes), *given.shape[1:])


def eltwise(given: LayerInput) -> Built:
    """``Eltwise``: SUM (with coefficients), PROD or MAX of blobs of one shape."""
    param = given.param("eltwise_param")
    operation = str(one(param, "operation", "SUM"))
    if any(shape != given.shape for shape in given.shapes) or operation not in ("SUM", "PROD", "MAX"):
        raise given.error(f"combines shapes {list(given.shapes)} with {operation}; it needs equal shapes")
    return Eltwise(operation, [float(c) for c in param.get("coeff", [])]), given.shape


def inner_product(given: LayerInput) -> Built:
    """``InnerProduct`` from the channel axis on."""
    param = given.param("inner_product_param")
    if one(param, "transpose", False) or int(one(param, "axis", 1)) != 1:
        raise given.error("is transposed or flattens from an axis other than 1; inceptionism builds axis 1")
    out = int(one(param, "num_output", 0))
    return InnerProduct(int(np.prod(given.shape)), out, bias=bool(one(param, "bias_term", True))), (out,)


def batch_norm(given: LayerInput) -> Built:
    """``BatchNorm`` with stored statistics."""
    return CaffeBatchNorm(given.shape[0], float(one(given.param("batch_norm_param"), "eps", 1e-5))), given.shape


def scale(given: LayerInput) -> Built:
    """``Scale`` per channel, with a bias where ``bias_term``."""
    param = given.param("scale_param")
    if int(one(param, "axis", 1)) != 1 or int(one(param, "num_axes", 1)) != 1:
        raise given.error("scales other axes than the channels; inceptionism builds axis 1, num_axes 1")
    return CaffeScale(given.shape[0], bool(one(param, "bias_term", False))), given.shape


def dropout(given: LayerInput) -> Built:
    """``Dropout`` (an identity in eval mode)."""
    return nn.Dropout(float(one(given.param("dropout_param"), "dropout_ratio", 0.5))), given.shape


def softmax(given: LayerInput) -> Built:
    """``Softmax`` over the channels."""
    return nn.Softmax(dim=1), given.shape


def flatten(given: LayerInput) -> Built:
    """``Flatten`` from the channel axis."""
    return Flatten(), (int(np.prod(given.shape)),)


BUILDERS: dict[str, Callable[[LayerInput], Built]] = {
    "Convolution": convolution,
    "Pooling": pooling,
    "LRN": lrn,
    "ReLU": relu,
    "Concat": concat,
    "InnerProduct": inner_product,
    "Dropout": dropout,
    "Softmax": softmax,
    "BatchNorm": batch_norm,
    "Scale": scale,
    "Eltwise": eltwise,
    "Flatten": flatten,
}
"""The builder of each layer type a network may have, in the order messages list them."""
IN_PLACE_STEPS = {"ReLU": "relu", "BatchNorm": "bn", "Scale": "scale", "Dropout": "dropout", "Softmax": "softmax"}
"""The types that may write their own bottom, and the name of the step they become."""
MANY_BOTTOMS = ("Concat", "Eltwise")
"""The types that read more than one blob; the others read exactly one."""
PARAMETERS = {
    "Convolution": ("weight", "bias"),
    "InnerProduct": ("weight", "bias"),
    "BatchNorm": ("mean", "variance", "scale_factor"),
    "Scale": ("weight", "bias"),
}
"""The module parameters of the types that have blobs in a ``.caffemodel``, in blob order."""
