"""What a network from outside is made of, found by running it: its layers in forward order and the sizes it takes.

A registered network declares its layers; a module, TorchScript or ONNX file says nothing,
so :func:`probe` runs it on a grey image with a hook on every submodule. The layers are the
submodules that give a tensor, in the order their outputs appear (a block after the layers
inside it, as lucent names them: ``features.7``, ``layer3.1.relu``); a module called more than
once per pass (a ResNet block's shared ReLU) is tapped at its last call. Layers that fail on
an input of another size than the network's own (after a flatten into a fixed-size linear
layer) are marked fixed, and the smallest side the rest accept is searched for.

>>> from torch import nn
>>> body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
>>> layout = probe(body, size=32)
>>> layout.layers, layout.classes, layout.min_size, layout.default_layer
(('0', '1', '2', '3', '4'), 5, 3, '1')
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from inceptionism.errors import InvalidParameterError

GREY = 0.5  # the probe's input, before the network's own normalisation: mid-grey
DEFAULT_DEPTH = 0.7
"""Where the default layer sits among the layers with a spatial map (0 first, 1 last): high enough to see things."""


@dataclass(frozen=True)
class Layout:
    """A network's layers as a probe found them.

    Attributes:
        layers: submodule paths in the order their outputs appear.
        repeated: those called more than once in a pass (tapped at their last call).
        fixed: those that run only at the probe's size.
        min_size: the smallest side every other layer takes.
        classes: the length of the output's second dimension (its classes).
        default_layer: a layer with a spatial map, about two thirds of the way up.
    """

    layers: tuple[str, ...]
    repeated: frozenset[str]
    fixed: frozenset[str]
    min_size: int
    classes: int
    default_layer: str


def probe(
    body: nn.Module, *, size: int, prepare: Callable[[Tensor], Tensor] = lambda x: x, name: str = "the network"
) -> Layout:
    """Run ``body`` on ``size`` x ``size`` grey images and describe its layers (see :class:`Layout`).

    Args:
        body: the module, in eval mode.
        size: the side it was trained at: every layer must run there.
        prepare: maps the grey image (0..1 RGB) to the body's input.
        name: the network, for messages.

    Raises:
        InvalidParameterError: the network does not run on an RGB image of that size, or gives no tensor.
    """
    try:
        shapes, calls, output = _run(body, prepare, size)
    except Exception as error:
        raise InvalidParameterError(
            f"{name} does not run on a 3x{size}x{size} image ({_first_line(error)}); give the size it takes with "
            "--input-size",
            argument="model",
        ) from None
    if not isinstance(output, Tensor) or output.dim() < 2:
        raise InvalidParameterError(f"{name} gives no (batch, classes) tensor; it must return class scores",
                                    argument="model")  # fmt: skip
    layers = tuple(shapes)
    fixed = _fixed(body, prepare, layers, round(size * 1.25) + 1)
    free = [layer for layer in layers if layer not in fixed]
    return Layout(
        layers=layers,
        repeated=frozenset(layer for layer, count in calls.items() if count > 1),
        fixed=fixed,
        min_size=_min_size(body, prepare, free, size),
        classes=int(output.shape[1]),
        default_layer=_default_layer(free, shapes),
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _forward(
    body: nn.Module, prepare: Callable[[Tensor], Tensor], size: int, seen: Callable[[str, object], None]
) -> object:
    """``body``'s output on a ``size`` grey image, ``seen(path, output)`` called as each submodule gives its output."""
    handles = [
        module.register_forward_hook(lambda _module, _inputs, output, path=path: seen(path, output))
        for path, module in body.named_modules()
        if path and not path.startswith("initializers")  # onnx2torch's constants: never called
    ]
    try:
        with torch.no_grad():
            return body(prepare(torch.full((1, 3, size, size), GREY)))
    finally:
        for handle in handles:
            handle.remove()


def _run(
    body: nn.Module, prepare: Callable[[Tensor], Tensor], size: int
) -> tuple[dict[str, tuple[int, ...]], dict[str, int], object]:
    """The output shape of every submodule that gives a tensor (in order of appearance), call counts, the output."""
    shapes: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}

    def seen(path: str, output: object) -> None:
        calls[path] = calls.get(path, 0) + 1
        if isinstance(output, Tensor):
            shapes.pop(path, None)  # a repeated module counts where it was last called
            shapes[path] = tuple(output.shape)

    output = _forward(body, prepare, size, seen)
    return shapes, calls, output


def _reached(body: nn.Module, prepare: Callable[[Tensor], Tensor], size: int) -> set[str]:
    """The layers that give their output on a ``size`` image, before any failure."""
    reached: set[str] = set()
    with contextlib.suppress(Exception):  # a layer of fixed size failed: the layers reached before it are known
        _forward(body, prepare, size, lambda path, _output: reached.add(path))
    return reached


def _fixed(body: nn.Module, prepare: Callable[[Tensor], Tensor], layers: Sequence[str], other: int) -> frozenset[str]:
    """The layers that run at the probe's size but not at ``other`` (after a fixed-size head)."""
    reached = _reached(body, prepare, other)
    return frozenset(layer for layer in layers if layer not in reached)


def _min_size(body: nn.Module, prepare: Callable[[Tensor], Tensor], layers: Sequence[str], size: int) -> int:
    """The smallest side on which all ``layers`` give their output (a binary search up to ``size``)."""
    wanted = set(layers)
    low, high = 1, size  # high runs
    while low < high:
        middle = (low + high) // 2
        if wanted <= _reached(body, prepare, middle):
            high = middle
        else:
            low = middle + 1
    return high


def _default_layer(layers: Sequence[str], shapes: dict[str, tuple[int, ...]]) -> str:
    """A layer with a spatial map about :data:`DEFAULT_DEPTH` of the way up (the last layer without one)."""
    spatial = [layer for layer in layers if len(shapes[layer]) == 4 and min(shapes[layer][2:]) > 1]
    if not spatial:
        return layers[-1]
    return spatial[round(DEFAULT_DEPTH * (len(spatial) - 1))]
