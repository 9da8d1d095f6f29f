"""A PyTorch network built from a Caffe ``NetParameter`` (a parsed ``deploy.prototxt``).

Every top blob is a submodule of :class:`CaffeNet` named like the blob
(``inception_4c/output``), so it can be tapped under its Caffe name. A layer that works in
place (``top`` equal to ``bottom``: ReLU, BatchNorm, Scale, Dropout) becomes a step of the
blob's module, so its tap gives what Caffe's ``net.blobs[name]`` holds after a forward pass.

Caffe's arithmetic is kept: pooling rounds its output size up (and drops a last window
that would start in the padding, as Caffe does), average pooling divides by the window
clipped to the padded image, LRN sums over ``local_size`` channels with ``alpha / size``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from inceptionism.errors import InvalidParameterError, WeightsError
from inceptionism.models.caffe.prototxt import Message
from inceptionism.models.caffe.wire import CaffeLayer

SUPPORTED = (
    "Input",
    "Convolution",
    "Pooling",
    "LRN",
    "ReLU",
    "Concat",
    "InnerProduct",
    "Dropout",
    "Softmax",
    "BatchNorm",
    "Scale",
    "Eltwise",
    "Flatten",
)
"""The layer types a network may have; any other is refused with its name."""
IN_PLACE_STEPS = {"ReLU": "relu", "BatchNorm": "bn", "Scale": "scale", "Dropout": "dropout", "Softmax": "softmax"}
_V1_NAMES = {name.upper(): name for name in SUPPORTED} | {
    "INNER_PRODUCT": "InnerProduct",
    "DATA": "Data",
    "IMAGE_DATA": "ImageData",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "ACCURACY": "Accuracy",
    "SILENCE": "Silence",
}
_SKIPPED = ("Data", "ImageData", "Silence", "Accuracy", "SoftmaxWithLoss")  # inputs and training-only layers
BLOB_LIMIT = 4096
"""Layers one network may have (ResNet-152 has about 500)."""


def _one(message: Message, name: str, default: Any = None) -> Any:
    values = message.get(name)
    return values[-1] if values else default


def _sub(layer: Message, name: str) -> Message:
    return _one(layer, name, {}) or {}


def _pair(param: Message, name: str, default: int) -> tuple[int, int]:
    """Caffe's ``kernel_size`` / ``kernel_h`` + ``kernel_w`` style of giving two sides."""
    height, width = _one(param, f"{name}_h"), _one(param, f"{name}_w")
    if height is not None or width is not None:
        return int(height if height is not None else default), int(width if width is not None else default)
    values = param.get(name if name != "kernel" else "kernel_size") or [default]
    if len(values) == 1:
        return int(values[0]), int(values[0])
    return int(values[0]), int(values[1])


class Stage(nn.Module):
    """One top blob: the layer that makes it, then the layers that work on it in place.

    Args:
        layer: the producing module; it takes the layer's bottoms.
    """

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer
        self.steps: list[str] = []

    def add(self, name: str, module: nn.Module) -> str:
        """Append an in-place step called ``name`` (made unique) and return its name."""
        unique, count = name, 1
        while unique in self._modules:
            count += 1
            unique = f"{name}{count}"
        self.add_module(unique, module)
        self.steps.append(unique)
        return unique

    def forward(self, *inputs: Tensor) -> Tensor:
        """The blob: ``layer(*inputs)`` then each step."""
        x = self.layer(*inputs)
        for name in self.steps:
            x = getattr(self, name)(x)
        return x

    def fold_batch_norm(self) -> None:
        """Merge BatchNorm and Scale steps right after a convolution into it: same outputs, fewer ops."""
        if type(self.layer) is not nn.Conv2d:
            return
        conv = self.layer
        gain = torch.ones(conv.out_channels, dtype=conv.weight.dtype)
        shift = torch.zeros(conv.out_channels, dtype=conv.weight.dtype)
        folded = []
        for name in self.steps:
            step = getattr(self, name)
            if isinstance(step, CaffeBatchNorm):
                mean, std = step.statistics()
                gain, shift = gain / std, (shift - mean) / std
            elif isinstance(step, CaffeScale):
                gain, shift = gain * step.weight.detach(), shift * step.weight.detach()
                if step.bias is not None:
                    shift = shift + step.bias.detach()
            else:
                break
            folded.append(name)
        if not folded:
            return
        new = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(shift)
        new.weight = nn.Parameter(conv.weight.detach() * gain.view(-1, 1, 1, 1), requires_grad=False)
        new.bias = nn.Parameter(bias * gain + shift, requires_grad=False)
        self.layer = new
        for name in folded:
            setattr(self, name, nn.Identity())


class CaffeBatchNorm(nn.Module):
    """Caffe's BatchNorm: its third blob is a factor that divides the stored mean and variance."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("variance", torch.ones(channels))
        self.register_buffer("scale_factor", torch.ones(1))

    def statistics(self) -> tuple[Tensor, Tensor]:
        """The mean and standard deviation it normalises with, ``(C,)`` each."""
        factor = self.scale_factor[0]
        factor = torch.where(factor == 0, torch.zeros_like(factor), 1 / factor)  # Caffe: 0 means 0
        return self.mean * factor, (self.variance * factor + self.eps).sqrt()

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``(B, C, ...)`` along channels."""
        mean, std = self.statistics()
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean.view(shape)) / std.view(shape)


class CaffeScale(nn.Module):
    """Caffe's Scale: a weight, and a bias if ``bias_term``, per channel."""

    def __init__(self, channels: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """``x * weight + bias`` per channel of ``(B, C, ...)``."""
        shape = (1, -1) + (1,) * (x.dim() - 2)
        x = x * self.weight.view(shape)
        return x if self.bias is None else x + self.bias.view(shape)


class InnerProduct(nn.Linear):
    """Caffe's InnerProduct: flattens from the channel axis, then a linear map."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` or ``(B, C)`` to ``(B, out)``."""
        return super().forward(x.flatten(1))


class GlobalPool(nn.Module):
    """Pooling over the whole map (``global_pooling: true``), for any input size."""

    def __init__(self, maximum: bool) -> None:
        super().__init__()
        self.maximum = maximum

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` to ``(B, C, 1, 1)``."""
        return x.amax((2, 3), keepdim=True) if self.maximum else x.mean((2, 3), keepdim=True)


class Concat(nn.Module):
    """Caffe's Concat along ``axis``."""

    def __init__(self, axis: int) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, *inputs: Tensor) -> Tensor:
        """The inputs joined along the axis."""
        return torch.cat(inputs, self.axis)


class Eltwise(nn.Module):
    """Caffe's Eltwise: SUM (with coefficients), PROD or MAX of its inputs."""

    def __init__(self, operation: str, coefficients: Sequence[float]) -> None:
        super().__init__()
        self.operation = operation
        self.coefficients = tuple(coefficients)

    def forward(self, *inputs: Tensor) -> Tensor:
        """The inputs combined element by element."""
        if self.operation == "PROD":
            return math.prod(inputs[1:], start=inputs[0])
        if self.operation == "MAX":
            out = inputs[0]
            for x in inputs[1:]:
                out = torch.maximum(out, x)
            return out
        coefficients = self.coefficients or (1.0,) * len(inputs)
        out = inputs[0] * coefficients[0] if coefficients[0] != 1 else inputs[0]
        for coefficient, x in zip(coefficients[1:], inputs[1:], strict=True):
            out = out + (x * coefficient if coefficient != 1 else x)
        return out


class Flatten(nn.Module):
    """Caffe's Flatten from the channel axis."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, ...)`` to ``(B, n)``."""
        return x.flatten(1)


@dataclass
class _Blob:
    """What the builder knows of a blob at the prototxt's input size."""

    shape: tuple[int, ...]  # without the batch axis
    varies: bool  # whether its shape changes with the input size
    fixed: bool = False  # whether it exists only at the prototxt's input size
    uses: int = 0


@dataclass
class CaffeSpec:
    """A network read from a prototxt.

    Attributes:
        name: the prototxt's ``name``.
        layers: the top blobs in forward order (the tap-able layers).
        input_shape: ``(channels, height, width)`` of the prototxt's input.
        fixed_layers: the layers that exist only at the input size (after a fixed head).
        output: the blob the network returns (the one a final Softmax reads).
        classes: the output's channel count.
    """

    name: str
    layers: list[str]
    input_shape: tuple[int, int, int]
    fixed_layers: set[str]
    output: str
    classes: int
    plan: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    input_blob: str = "data"
    params: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _layer_type(layer: Message) -> str:
    kind = str(_one(layer, "type", ""))
    return _V1_NAMES.get(kind, kind)


def _included(layer: Message) -> bool:
    """Whether the layer is part of the TEST (deploy) phase."""
    phases = {str(_one(rule, "phase", "")) for rule in layer.get("include", [])}
    if phases and "TEST" not in phases:
        return False
    return "TEST" not in {str(_one(rule, "phase", "")) for rule in layer.get("exclude", [])}


def _input(net: Message, layers: list[Message], source: str) -> tuple[str, tuple[int, ...]]:
    """The one input blob and its shape ``(N, C, H, W)``."""
    inputs = [(str(name), None) for name in net.get("input", [])]
    dims = [int(d) for d in net.get("input_dim", [])]
    shapes = [[int(d) for d in shape.get("dim", [])] for shape in net.get("input_shape", [])]
    for layer in layers:
        if _layer_type(layer) == "Input":
            for top, shape in zip(layer.get("top", []), _sub(layer, "input_param").get("shape", []), strict=False):
                inputs.append((str(top), tuple(int(d) for d in shape.get("dim", []))))
    if len(inputs) != 1:
        raise InvalidParameterError(
            f"{source} has {len(inputs)} inputs; inceptionism builds networks with one image input "
            "(an Input layer, or input with input_dim or input_shape)",
            argument="model",
        )
    name, shape = inputs[0]
    if shape is None:
        shape = tuple(dims) if dims else tuple(shapes[0]) if shapes else ()
    if len(shape) != 4 or shape[1] != 3 or min(shape[2:]) < 1:
        raise InvalidParameterError(
            f"{source}: input {name!r} has shape {shape}; inceptionism needs (N, 3, H, W), a colour image",
            argument="model",
        )
    return name, shape


def _pool_side(side: int, kernel: int, stride: int, pad: int) -> int:
    out = math.ceil((side + 2 * pad - kernel) / stride) + 1
    if pad and (out - 1) * stride >= side + pad:  # Caffe: the last window must start inside the image
        out -= 1
    return out


def _conv_side(side: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    return (side + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


class _Builder:
    def __init__(self, net: Message, source: str) -> None:
        self.source = source
        layers = [layer for layer in net.get("layer", []) or net.get("layers", []) if _included(layer)]
        if len(layers) > BLOB_LIMIT:
            raise InvalidParameterError(f"{source} has {len(layers)} layers, more than {BLOB_LIMIT}", argument="model")
        self.input_blob, shape = _input(net, layers, source)
        self.input_shape = (shape[1], shape[2], shape[3])
        self.blobs: dict[str, _Blob] = {self.input_blob: _Blob(self.input_shape, True)}
        self.stages: dict[str, Stage] = {}
        self.plan: list[tuple[str, tuple[str, ...]]] = []
        self.params: dict[str, list[tuple[str, str]]] = {}
        self.kinds: dict[str, str] = {}
        self.relu_sources: dict[str, str] = {}  # blob -> its stage's last step when that is a plain ReLU
        self.consumers: dict[str, list[str]] = {}
        self.name = str(_one(net, "name", ""))
        self.layers = layers

    def error(self, layer: str, message: str) -> InvalidParameterError:
        return InvalidParameterError(f"{self.source}: layer {layer!r} {message}", argument="model")

    def build(self) -> tuple[dict[str, Stage], CaffeSpec]:
        for layer in self.layers:
            self.add(layer)
        if not self.plan:
            raise InvalidParameterError(f"{self.source} has no layers to build", argument="model")
        output = self.plan[-1][0]
        if self.kinds[output] == "Softmax" and self.plan[-1][1]:
            output = self.plan[-1][1][0]
        spec = CaffeSpec(
            name=self.name,
            layers=[name for name, _ in self.plan],
            input_shape=self.input_shape,  # type: ignore[arg-type]
            fixed_layers={name for name, _ in self.plan if self.blobs[name].fixed},
            output=output,
            classes=int(np.prod(self.blobs[output].shape[:1])),
            plan=self.plan,
            input_blob=self.input_blob,
            params=self.params,
        )
        return self.stages, spec

    def bottoms(self, layer: Message, name: str, count: int | None) -> list[str]:
        bottoms = [str(b) for b in layer.get("bottom", [])]
        for bottom in bottoms:
            if bottom not in self.blobs:
                raise self.error(name, f"reads blob {bottom!r}, which no earlier layer makes")
        if count is not None and len(bottoms) != count:
            raise self.error(name, f"has {len(bottoms)} bottoms; a {_layer_type(layer)} layer takes {count}")
        if not bottoms:
            raise self.error(name, "has no bottom")
        return bottoms

    def add(self, layer: Message) -> None:
        name = str(_one(layer, "name", "")) or f"layer{len(self.plan)}"
        kind = _layer_type(layer)
        if kind in ("Input", *_SKIPPED):
            return
        if kind not in SUPPORTED:
            raise self.error(
                name, f"has type {kind!r}, which inceptionism cannot build; it builds {', '.join(SUPPORTED[1:])}"
            )
        tops = [str(t) for t in layer.get("top", [])]
        if len(tops) != 1:
            raise self.error(name, f"has {len(tops)} tops; inceptionism builds layers with one")
        top = tops[0]
        bottoms = self.bottoms(layer, name, None if kind in ("Concat", "Eltwise") else 1)
        in_place = bottoms == [top]
        if in_place and kind not in IN_PLACE_STEPS:
            raise self.error(
                name, f"is a {kind} layer writing its own bottom {top!r}; only {', '.join(IN_PLACE_STEPS)} may"
            )
        if not in_place and top in self.blobs:
            raise self.error(name, f"makes blob {top!r}, which an earlier layer already made")
        module, shape = self.module(layer, name, kind, [self.blobs[b] for b in bottoms])
        if in_place:
            if top == self.input_blob or self.consumers.get(top):
                raise self.error(
                    name, f"changes blob {top!r} in place after other layers read it; give it a top of its own"
                )
            stage = self.stages[top]
            step = stage.add(IN_PLACE_STEPS[kind], module)
            self.record(name, kind, f"{top}.{step}")
            if type(module) is nn.ReLU:
                self.relu_sources[top] = step
            else:
                self.relu_sources.pop(top, None)
            self.blobs[top].shape = shape
            return
        if "." in top:
            raise self.error(name, f"makes blob {top!r}; inceptionism needs blob names without '.'")
        for bottom in bottoms:
            self.consumers.setdefault(bottom, []).append(top)
            self.blobs[bottom].uses += 1
        stage = Stage(module)
        self.stages[top] = stage
        self.plan.append((top, tuple(bottoms)))
        self.kinds[top] = kind
        self.record(name, kind, f"{top}.layer")
        sources = [self.blobs[b] for b in bottoms]
        varies = any(s.varies for s in sources) and not (
            kind == "Pooling" and _one(_sub(layer, "pooling_param"), "global_pooling", False)
        )
        if kind == "InnerProduct":
            varies = False
        # A pooling that leaves one value per channel at the input size is a head of fixed size
        # (a 7x7 average over a 7x7 map), and so is what reads a map of varying size whole.
        collapses = kind == "Pooling" and varies and shape[1:] == (1, 1) and sources[0].shape[1:] != (1, 1)
        fixed = (
            any(s.fixed for s in sources) or collapses or (kind == "InnerProduct" and any(s.varies for s in sources))
        )
        self.blobs[top] = _Blob(shape, varies, fixed)
        if type(module) is nn.ReLU:
            self.relu_sources[top] = "layer"

    def record(self, name: str, kind: str, path: str) -> None:
        if kind in ("Convolution", "InnerProduct", "BatchNorm", "Scale"):
            names = {"BatchNorm": ("mean", "variance", "scale_factor"), "Scale": ("weight", "bias")}.get(
                kind, ("weight", "bias")
            )
            self.params[name] = [(f"{path}.{param}", kind) for param in names]

    def module(self, layer: Message, name: str, kind: str, sources: list[_Blob]) -> tuple[nn.Module, tuple[int, ...]]:
        shape = sources[0].shape
        spatial = len(shape) == 3
        if kind in ("Convolution", "Pooling", "LRN") and not spatial:
            raise self.error(name, f"needs a (C, H, W) input, got {shape}")
        if kind == "Convolution":
            param = _sub(layer, "convolution_param")
            out = int(_one(param, "num_output", 0))
            groups = int(_one(param, "group", 1))
            kernel, stride, pad = _pair(param, "kernel", 0), _pair(param, "stride", 1), _pair(param, "pad", 0)
            dilation = _pair(param, "dilation", 1)
            if out < 1 or min(kernel) < 1 or shape[0] % groups or out % groups:
                raise self.error(name, f"has num_output {out}, kernel {kernel}, group {groups} for {shape[0]} channels")
            conv = nn.Conv2d(
                shape[0], out, kernel, stride, pad, dilation, groups, bias=bool(_one(param, "bias_term", True))
            )
            sides = tuple(_conv_side(shape[1 + i], kernel[i], stride[i], pad[i], dilation[i]) for i in (0, 1))
            return conv, (out, *sides)
        if kind == "Pooling":
            param = _sub(layer, "pooling_param")
            method = str(_one(param, "pool", "MAX"))
            if method not in ("MAX", "AVE"):
                raise self.error(name, f"pools with {method}; inceptionism builds MAX and AVE pooling")
            if _one(param, "global_pooling", False):
                return GlobalPool(method == "MAX"), (shape[0], 1, 1)
            kernel, stride, pad = _pair(param, "kernel", 0), _pair(param, "stride", 1), _pair(param, "pad", 0)
            if min(kernel) < 1:
                raise self.error(name, "has no kernel_size")
            pool: nn.Module = (
                nn.MaxPool2d(kernel, stride, pad, ceil_mode=True)
                if method == "MAX"
                else nn.AvgPool2d(kernel, stride, pad, ceil_mode=True, count_include_pad=True)
            )
            sides = tuple(_pool_side(shape[1 + i], kernel[i], stride[i], pad[i]) for i in (0, 1))
            return pool, (shape[0], *sides)
        if kind == "LRN":
            param = _sub(layer, "lrn_param")
            if str(_one(param, "norm_region", "ACROSS_CHANNELS")) != "ACROSS_CHANNELS":
                raise self.error(name, "normalises WITHIN_CHANNEL; inceptionism builds ACROSS_CHANNELS LRN")
            size = int(_one(param, "local_size", 5))
            norm = nn.LocalResponseNorm(
                size, float(_one(param, "alpha", 1.0)), float(_one(param, "beta", 0.75)), float(_one(param, "k", 1.0))
            )
            return norm, shape
        if kind == "ReLU":
            slope = float(_one(_sub(layer, "relu_param"), "negative_slope", 0.0))
            return (nn.ReLU() if slope == 0 else nn.LeakyReLU(slope)), shape
        if kind == "Concat":
            param = _sub(layer, "concat_param")
            axis = int(_one(param, "axis", _one(param, "concat_dim", 1)))
            if axis != 1 or any(s.shape[1:] != shape[1:] for s in sources):
                raise self.error(
                    name,
                    f"joins shapes {[s.shape for s in sources]} along axis {axis}; it needs axis 1 and equal sides",
                )
            return Concat(1), (sum(s.shape[0] for s in sources), *shape[1:])
        if kind == "Eltwise":
            param = _sub(layer, "eltwise_param")
            operation = str(_one(param, "operation", "SUM"))
            if any(s.shape != shape for s in sources) or operation not in ("SUM", "PROD", "MAX"):
                raise self.error(
                    name, f"combines shapes {[s.shape for s in sources]} with {operation}; it needs equal shapes"
                )
            return Eltwise(operation, [float(c) for c in param.get("coeff", [])]), shape
        if kind == "InnerProduct":
            param = _sub(layer, "inner_product_param")
            if _one(param, "transpose", False) or int(_one(param, "axis", 1)) != 1:
                raise self.error(
                    name, "is transposed or flattens from an axis other than 1; inceptionism builds axis 1"
                )
            out = int(_one(param, "num_output", 0))
            return InnerProduct(int(np.prod(shape)), out, bias=bool(_one(param, "bias_term", True))), (out,)
        if kind == "BatchNorm":
            return CaffeBatchNorm(shape[0], float(_one(_sub(layer, "batch_norm_param"), "eps", 1e-5))), shape
        if kind == "Scale":
            param = _sub(layer, "scale_param")
            if int(_one(param, "axis", 1)) != 1 or int(_one(param, "num_axes", 1)) != 1:
                raise self.error(name, "scales other axes than the channels; inceptionism builds axis 1, num_axes 1")
            return CaffeScale(shape[0], bool(_one(param, "bias_term", False))), shape
        if kind == "Dropout":
            return nn.Dropout(float(_one(_sub(layer, "dropout_param"), "dropout_ratio", 0.5))), shape
        if kind == "Softmax":
            return nn.Softmax(dim=1), shape
        return Flatten(), (int(np.prod(shape)),)  # Flatten

    def relu_after_pool(self) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
        """Each max-pool whose input's ReLU can move after it: (pool, ReLU sources, blocks made pre-ReLU)."""
        moves = []
        for top, bottoms in self.plan:
            stage = self.stages[top]
            if type(stage.layer) is not nn.MaxPool2d or self.consumers.get(bottoms[0]) != [top]:
                continue
            source = bottoms[0]
            if source in self.relu_sources and self.relu_sources[source] != "layer":
                if self.stages[source].steps[-1] == self.relu_sources[source]:
                    moves.append((f"{top}.layer", (source,), ()))
                continue
            inputs = dict(self.plan).get(source, ())
            feeding = self.stages.get(source)
            if (
                feeding is not None
                and isinstance(feeding.layer, Concat)
                and not feeding.steps
                and all(
                    i in self.stages
                    and self.consumers.get(i) == [source]
                    and self.relu_sources.get(i) not in (None, "layer")
                    and self.stages[i].steps[-1] == self.relu_sources[i]
                    for i in inputs
                )
            ):
                moves.append((f"{top}.layer", tuple(inputs), (source,)))
        return tuple(moves)

    def stem(self) -> str:
        """The first convolution, if it alone reads the input (an inference copy folds the preprocessing into it)."""
        readers = self.consumers.get(self.input_blob, [])
        if len(readers) == 1 and type(self.stages[readers[0]].layer) is nn.Conv2d:
            return f"{readers[0]}.layer"
        return ""


class CaffeNet(nn.Module):
    """A network from a prototxt: one submodule per top blob, run in the prototxt's order.

    Args:
        net: the parsed ``NetParameter``.
        source: its file name, for messages.

    Attributes:
        spec: what was read (:class:`CaffeSpec`).
    """

    def __init__(self, net: Message, *, source: str = "prototxt") -> None:
        super().__init__()
        builder = _Builder(net, source)
        stages, self.spec = builder.build()
        reserved = set(dir(self)) | {"spec", "stem", "relu_after_pool"}
        for name, stage in stages.items():
            if name in reserved:
                raise InvalidParameterError(
                    f"{source}: blob {name!r} has the name of a torch module attribute; rename it", argument="model"
                )
            self.add_module(name, stage)
        self.stem = builder.stem()
        self.relu_after_pool = builder.relu_after_pool()
        last_use: dict[str, int] = {}
        for index, (_, bottoms) in enumerate(self.spec.plan):
            for bottom in bottoms:
                last_use[bottom] = index
        self._frees = [
            tuple(b for b in bottoms if last_use[b] == index and b != self.spec.output)
            for index, (_, bottoms) in enumerate(self.spec.plan)
        ]

    def accepts(self, side: int) -> bool:
        """Whether every layer but those after a fixed head works on ``side`` x ``side`` inputs."""
        sides = {self.spec.input_blob: side}
        for top, bottoms in self.spec.plan:
            if top in self.spec.fixed_layers:
                continue
            inputs = {sides[b] for b in bottoms}
            layer = self._modules[top].layer
            if len(inputs) != 1:
                return False  # a concatenation or sum of maps of different sizes
            (size,) = inputs
            if isinstance(layer, nn.Conv2d):
                size = min(
                    _conv_side(size, layer.kernel_size[i], layer.stride[i], layer.padding[i], layer.dilation[i])  # type: ignore[index]
                    for i in (0, 1)
                )
            elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                kernel, stride, pad = (
                    nn.modules.utils._pair(v) for v in (layer.kernel_size, layer.stride, layer.padding)
                )
                size = min(_pool_side(size, kernel[i], stride[i], pad[i]) for i in (0, 1))
            elif isinstance(layer, GlobalPool):
                size = 1
            if size < 1:
                return False
            sides[top] = size
        return True

    def min_size(self) -> int:
        """The smallest side :meth:`accepts` (the prototxt's input size at most)."""
        largest = max(self.spec.input_shape[1:])
        return next((side for side in range(1, largest + 1) if self.accepts(side)), largest)

    def default_layer(self) -> str:
        """The layer to dream when none is given: the last before the head that is not a pooling or dropout."""
        candidates = [
            top
            for top, _ in self.spec.plan
            if top not in self.spec.fixed_layers
            and isinstance(self._modules[top].layer, (nn.Conv2d, Concat, Eltwise, nn.LocalResponseNorm))
        ]
        return candidates[-1] if candidates else self.spec.layers[-1]

    def forward(self, x: Tensor) -> Tensor:
        """The output blob (the scores before a final Softmax) for a preprocessed ``(B, 3, H, W)`` batch."""
        values = {self.spec.input_blob: x}
        for (top, bottoms), frees in zip(self.spec.plan, self._frees, strict=True):
            values[top] = self._modules[top](*(values[b] for b in bottoms))
            for name in frees:
                del values[name]  # what no later layer reads is freed at once
        return values[self.spec.output]

    def caffe_state_dict(self, layers: Sequence[CaffeLayer], source: str) -> dict[str, Tensor]:
        """A state dict for this network from a ``.caffemodel``'s layers, matched by layer name.

        Layers of the file that this network lacks (a training net's auxiliary heads) are
        ignored, as Caffe ignores them.

        Raises:
            WeightsError: naming the layer, for a layer missing from the file, a wrong blob
                count or a blob whose shape does not fit.
        """
        found = {layer.name: layer for layer in layers}
        expected = self.state_dict()
        state = {}
        for name, params in self.spec.params.items():
            if name not in found:
                raise WeightsError(f"{source} has no layer {name!r}, which the network needs", argument="weights")
            blobs = found[name].blobs
            wanted = [(key, kind) for key, kind in params if key in expected]
            if len(blobs) != len(wanted):
                raise WeightsError(
                    f"{source}: layer {name!r} has {len(blobs)} blobs, the network expects {len(wanted)}",
                    argument="weights",
                )
            for (key, _), blob in zip(wanted, blobs, strict=True):
                shape = tuple(expected[key].shape)
                if _squeezed(blob.shape) != _squeezed(shape):
                    raise WeightsError(
                        f"{source}: layer {name!r} has a blob of shape {blob.shape}, the network expects {shape}",
                        argument="weights",
                    )
                state[key] = torch.from_numpy(blob.reshape(shape))
        for key, value in expected.items():
            state.setdefault(key, value)  # buffers with no blob of their own
        return state


def _squeezed(shape: Sequence[int]) -> tuple[int, ...]:
    """A shape without its leading 1s: V1 files give a bias of 64 as (1, 1, 1, 64)."""
    shape = tuple(int(d) for d in shape)
    while len(shape) > 1 and shape[0] == 1:
        shape = shape[1:]
    return shape


def is_caffe_state(state: Mapping[str, Any] | Sequence[CaffeLayer]) -> bool:
    """Whether ``state`` holds a ``.caffemodel``'s layers rather than a state dict."""
    return isinstance(state, (list, tuple))
