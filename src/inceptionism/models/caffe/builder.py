"""A PyTorch network built from a Caffe ``NetParameter`` (a parsed ``deploy.prototxt``).

Every top blob is a submodule of :class:`CaffeNet` named like the blob
(``inception_4c/output``), so it can be tapped under its Caffe name. A layer that works in
place (``top`` equal to ``bottom``: ReLU, BatchNorm, Scale, Dropout) becomes a step of the
blob's module, so its tap gives what Caffe's ``net.blobs[name]`` holds after a forward pass.

Each layer is made by the builder of its type (:data:`inceptionism.models.caffe.layers.BUILDERS`);
this module wires them: which blob each reads, which exist only at the prototxt's input
size, and what an inference copy may rewrite. Caffe's arithmetic is kept (see
:mod:`inceptionism.models.caffe.modules`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from inceptionism.errors import InvalidParameterError, WeightsError
from inceptionism.models.caffe.layers import (
    BUILDERS,
    IN_PLACE_STEPS,
    MANY_BOTTOMS,
    PARAMETERS,
    LayerInput,
    layer_error,
    one,
    sub,
)
from inceptionism.models.caffe.modules import Concat, Eltwise, GlobalPool, Stage, conv_side, pool_side
from inceptionism.models.caffe.prototxt import Message
from inceptionism.models.caffe.wire import CaffeLayer

SUPPORTED = ("Input", *BUILDERS)
"""The layer types a network may have; any other is refused with its name."""
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


@dataclass
class _Blob:
    """What the builder knows of a blob at the prototxt's input size."""

    shape: tuple[int, ...]  # without the batch axis
    varies: bool  # whether its shape changes with the input size
    fixed: bool = False  # whether it exists only at the prototxt's input size


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
    kind = str(one(layer, "type", ""))
    return _V1_NAMES.get(kind, kind)


def _included(layer: Message) -> bool:
    """Whether the layer is part of the TEST (deploy) phase."""
    phases = {str(one(rule, "phase", "")) for rule in layer.get("include", [])}
    if phases and "TEST" not in phases:
        return False
    return "TEST" not in {str(one(rule, "phase", "")) for rule in layer.get("exclude", [])}


def _input(net: Message, layers: list[Message], source: str) -> tuple[str, tuple[int, ...]]:
    """The one input blob and its shape ``(N, C, H, W)``."""
    inputs = [(str(name), None) for name in net.get("input", [])]
    dims = [int(d) for d in net.get("input_dim", [])]
    shapes = [[int(d) for d in shape.get("dim", [])] for shape in net.get("input_shape", [])]
    for layer in layers:
        if _layer_type(layer) == "Input":
            for top, shape in zip(layer.get("top", []), sub(layer, "input_param").get("shape", []), strict=False):
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


def _made_blob(layer: Message, kind: str, sources: list[_Blob], shape: tuple[int, ...]) -> _Blob:
    """The blob a layer makes from ``sources``: whether its shape varies, whether it exists only at one size."""
    varies = any(s.varies for s in sources) and not (
        kind == "Pooling" and one(sub(layer, "pooling_param"), "global_pooling", False)
    )
    if kind == "InnerProduct":
        varies = False
    # A pooling that leaves one value per channel at the input size is a head of fixed size
    # (a 7x7 average over a 7x7 map), and so is what reads a map of varying size whole.
    collapses = kind == "Pooling" and varies and shape[1:] == (1, 1) and sources[0].shape[1:] != (1, 1)
    fixed = any(s.fixed for s in sources) or collapses or (kind == "InnerProduct" and any(s.varies for s in sources))
    return _Blob(shape, varies, fixed)


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
        self.name = str(one(net, "name", ""))
        self.layers = layers

    def error(self, layer: str, message: str) -> InvalidParameterError:
        return layer_error(self.source, layer, message)

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

    def top(self, layer: Message, name: str) -> str:
        """The one blob the layer makes."""
        tops = [str(t) for t in layer.get("top", [])]
        if len(tops) != 1:
            raise self.error(name, f"has {len(tops)} tops; inceptionism builds layers with one")
        return tops[0]

    def add(self, layer: Message) -> None:
        """Build one layer: a stage for the blob it makes, or a step of the blob it changes in place."""
        name = str(one(layer, "name", "")) or f"layer{len(self.plan)}"
        kind = _layer_type(layer)
        if kind in ("Input", *_SKIPPED):
            return
        if kind not in BUILDERS:
            raise self.error(
                name, f"has type {kind!r}, which inceptionism cannot build; it builds {', '.join(SUPPORTED[1:])}"
            )
        top = self.top(layer, name)
        bottoms = self.bottoms(layer, name, None if kind in MANY_BOTTOMS else 1)
        in_place = bottoms == [top]
        if in_place and kind not in IN_PLACE_STEPS:
            raise self.error(
                name, f"is a {kind} layer writing its own bottom {top!r}; only {', '.join(IN_PLACE_STEPS)} may"
            )
        if not in_place and top in self.blobs:
            raise self.error(name, f"makes blob {top!r}, which an earlier layer already made")
        given = LayerInput(layer, name, tuple(self.blobs[b].shape for b in bottoms), self.source)
        module, shape = BUILDERS[kind](given)
        if in_place:
            self.add_step(name, kind, top, module, shape)
        else:
            self.add_stage(given, kind, top, bottoms, (module, shape))

    def add_step(self, name: str, kind: str, top: str, module: nn.Module, shape: tuple[int, ...]) -> None:
        """Append an in-place layer to the stage of ``top``."""
        if top == self.input_blob or self.consumers.get(top):
            raise self.error(
                name, f"changes blob {top!r} in place after other layers read it; give it a top of its own"
            )
        step = self.stages[top].add(IN_PLACE_STEPS[kind], module)
        self.record(name, kind, f"{top}.{step}")
        if type(module) is nn.ReLU:
            self.relu_sources[top] = step
        else:
            self.relu_sources.pop(top, None)
        self.blobs[top].shape = shape

    def add_stage(
        self, given: LayerInput, kind: str, top: str, bottoms: list[str], built: tuple[nn.Module, tuple[int, ...]]
    ) -> None:
        """Make ``top``'s stage from the module ``built`` for it."""
        if "." in top:
            raise self.error(given.name, f"makes blob {top!r}; inceptionism needs blob names without '.'")
        module, shape = built
        for bottom in bottoms:
            self.consumers.setdefault(bottom, []).append(top)
        self.stages[top] = Stage(module)
        self.plan.append((top, tuple(bottoms)))
        self.kinds[top] = kind
        self.record(given.name, kind, f"{top}.layer")
        self.blobs[top] = _made_blob(given.layer, kind, [self.blobs[b] for b in bottoms], shape)
        if type(module) is nn.ReLU:
            self.relu_sources[top] = "layer"

    def record(self, name: str, kind: str, path: str) -> None:
        """Note the parameters of a layer with blobs in a ``.caffemodel``, under the layer's name."""
        if kind in PARAMETERS:
            self.params[name] = [(f"{path}.{param}", kind) for param in PARAMETERS[kind]]

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
                    conv_side(size, layer.kernel_size[i], layer.stride[i], layer.padding[i], layer.dilation[i])  # type: ignore[index]
                    for i in (0, 1)
                )
            elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                kernel, stride, pad = (
                    nn.modules.utils._pair(v) for v in (layer.kernel_size, layer.stride, layer.padding)
                )
                size = min(pool_side(size, kernel[i], stride[i], pad[i]) for i in (0, 1))
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
