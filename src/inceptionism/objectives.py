"""What to maximise: objectives over a dict of layer activations, composable with ``+ - *``.

A layer spec string ``name[:channels][@x,y][=weight]`` names a term: ``fire7``, ``fire7:12``,
``fire7:3,12,40=2``, ``fire7:0-15``. Each term is the mean squared activation of the layer
(restricted to the channels), times the weight. ``fire7:12@200,150`` is one neuron: channel 12
at the layer position that sees pixel (200, 150) of the image.

>>> objective = as_objective(["fire7:3,12=2", "fire5"])
>>> str(objective), sorted(objective.layers)
('fire7:3,12=2 + fire5', ['fire5', 'fire7'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import Tensor

from inceptionism.errors import InvalidParameterError, UnknownNameError, closest
from inceptionism.models.network import CLASSES, INPUT, Network

Features = Mapping[str, Tensor]
SHIFT = "shift"
"""Features entry the engine may add: the ``(dy, dx)`` roll applied to the pixels before this pass."""
_SPEC = re.compile(r"^(?P<name>[^:=@]+?)(?::(?P<channels>[^=@]*))?(?:@(?P<at>[^=]*))?(?:=(?P<weight>.*))?$")
_SPEC_HELP = (
    "use name[:channels][@x,y][=weight], e.g. fire7, fire7:12, fire7:3,12,40=2, fire7:0-15=0.5 or fire7:12@100,80"
)


class _MeanSquare(torch.autograd.Function):
    """``x.float().square().mean()`` in one pass each way, keeping the gradient in ``x``'s dtype.

    The autograd chain of that expression makes four passes over the activation forward and
    back (a float copy, square, mean, and their gradients); this is a float32 norm forward and
    one scaled copy backward.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return torch.linalg.vector_norm(x, dtype=torch.float32).square() / x.numel()

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, gradient: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return x * (gradient * (2 / x.numel())).to(x.dtype)


def mean_square(x: Tensor) -> Tensor:
    """Mean of the squares of ``x``, computed in float32 whatever ``x``'s dtype.

    >>> float(mean_square(torch.tensor([1.0, 2.0, 2.0], dtype=torch.bfloat16)))
    3.0
    """
    return _MeanSquare.apply(x)


class Objective:
    """A scalar to maximise, computed from layer activations.

    Args:
        fn: maps ``{layer: activation}`` to a 0-dim tensor.
        layers: the layers ``fn`` reads.
        description: how the objective is written back (a spec string).
        checks: functions that raise if the objective does not fit a network.
    """

    def __init__(
        self,
        fn: Callable[[Features], Tensor],
        *,
        layers: Iterable[str],
        description: str,
        checks: Sequence[Callable[[Network], None]] = (),
    ) -> None:
        self.fn = fn
        self.layers = frozenset(layers)
        self.description = description
        self.checks = tuple(checks)

    def __call__(self, features: Features) -> Tensor:
        """The objective's value for these activations."""
        return self.fn(features)

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"Objective({self.description!r})"

    def validate(self, net: Network) -> None:
        """Raise a one-line error if a layer or channel does not exist in ``net``."""
        net.check_layers(self.layers)
        for check in self.checks:
            check(net)

    def __add__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(
            lambda features: self(features) + other(features),
            layers=self.layers | other.layers,
            description=f"{self} + {other}",
            checks=self.checks + other.checks,
        )

    def __mul__(self, factor: float) -> Objective:
        if not isinstance(factor, (int, float)):
            return NotImplemented
        return Objective(
            lambda features: factor * self(features),
            layers=self.layers,
            description=f"{factor:g} * ({self})",
            checks=self.checks,
        )

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1

    def __sub__(self, other: Objective) -> Objective:
        return self + (-other)


def layer(name: str, channels: Sequence[int] | None = None, *, weight: float = 1.0) -> Objective:
    """Mean squared activation of ``name`` (only ``channels`` if given), times ``weight``.

    >>> str(layer("fire7", [12], weight=2))
    'fire7:12=2'
    """
    chosen = list(channels) if channels else None
    description = name
    if chosen:
        description += ":" + ",".join(map(str, chosen))
    if weight != 1:
        description += f"={weight:g}"

    def term(features: Features) -> Tensor:
        activation = features[name]
        if chosen is not None:
            activation = activation[:, chosen]
        return weight * mean_square(activation)

    def check_channels(net: Network) -> None:
        count = net.layer_channels[name]
        wrong = [c for c in chosen or () if not 0 <= c < count]
        if wrong:
            raise InvalidParameterError(
                f"channel {wrong[0]} does not exist in {name} of {net.name}: it has channels 0..{count - 1}"
            )

    return Objective(term, layers=[name], description=description, checks=[check_channels])


def class_logit(index: int, *, weight: float = 1.0, label: str | None = None) -> Objective:
    """The score of class ``index`` before softmax (and before any ReLU), times ``weight``.

    Reads the ``"classes"`` pseudo-layer; a spatial class map is averaged over positions.

    >>> str(class_logit(954, label="banana", weight=2))
    'class banana=2'
    """
    description = f"class {label if label is not None else index}"
    if weight != 1:
        description += f"={weight:g}"

    def score(features: Features) -> Tensor:
        scores = features[CLASSES][:, index].float()
        return weight * scores.mean()

    def check_index(net: Network) -> None:
        if not 0 <= index < len(net.labels):
            raise InvalidParameterError(
                f"class {index} does not exist in {net.name}: it has classes 0..{len(net.labels) - 1}"
            )

    return Objective(score, layers=[CLASSES], description=description, checks=[check_index])


def parse_class_spec(spec: str, labels: Sequence[str]) -> Objective:
    """Turn ``"banana"``, ``"Banana=2"`` or ``"954=0.5"`` into :func:`class_logit`.

    Names match case-insensitively; an unknown name fails with the closest labels.

    >>> from inceptionism.models import imagenet_classes
    >>> str(parse_class_spec("Granny Smith=2", imagenet_classes()))
    'class Granny Smith=2'
    """
    name, equals, weight_text = spec.rpartition("=") if "=" in spec else (spec, "", "")
    name = name.strip()
    weight = 1.0
    if equals:
        try:
            weight = float(weight_text)
        except ValueError:
            raise InvalidParameterError(
                f"bad weight in class spec {spec!r}: use NAME[=weight], e.g. banana=2"
            ) from None
    if name.isascii() and name.isdigit():
        index = int(name)
        if index >= len(labels):
            raise InvalidParameterError(f"class {index} does not exist: there are classes 0..{len(labels) - 1}")
        return class_logit(index, weight=weight, label=labels[index])
    lowered = [label.lower() for label in labels]
    if name.lower() not in lowered:
        close = closest(name.lower(), lowered)
        hint = f"; did you mean {', '.join(labels[lowered.index(c)] for c in close)}?" if close else ""
        raise UnknownNameError(f"unknown class {name!r}{hint} (list them with: inceptionism classes)")
    index = lowered.index(name.lower())
    return class_logit(index, weight=weight, label=labels[index])


def neuron(
    name: str, channel: int, *, at: tuple[float, float] = (0.5, 0.5), weight: float = 1.0, label: str | None = None
) -> Objective:
    """The activation of one unit: ``channel`` of ``name`` at a relative position, times ``weight``.

    Args:
        name: layer name.
        channel: channel index.
        at: ``(x, y)`` as fractions of the width and height (``(0.5, 0.5)`` is the centre);
            fractions keep the unit on the same image content at every octave.
        weight: multiplies the activation.
        label: how the position is written back (default: the fractions).

    >>> str(neuron("fire7", 12, at=(0.25, 0.5)))
    'fire7:12@0.25,0.5'
    """
    fx, fy = at
    if not (0 <= fx <= 1 and 0 <= fy <= 1):
        raise InvalidParameterError(f"neuron position must be inside the image, got fractions {at}")
    description = f"{name}:{channel}@{label or f'{fx:g},{fy:g}'}"
    if weight != 1:
        description += f"={weight:g}"

    def activation(features: Features) -> Tensor:
        value, (image_h, image_w) = features[name], features[INPUT].shape[-2:]
        # Follow the image content through the engine's jitter: the roll moved it by (dy, dx).
        dy, dx = features[SHIFT].tolist() if SHIFT in features else (0, 0)
        height, width = value.shape[-2:]
        y = (min(fy * image_h, image_h - 0.5) + dy) % image_h
        x = (min(fx * image_w, image_w - 0.5) + dx) % image_w
        row, col = min(height - 1, int(y / image_h * height)), min(width - 1, int(x / image_w * width))
        return weight * value[:, channel, row, col].float().mean()

    check = layer(name, [channel]).checks
    return Objective(activation, layers=[name, INPUT], description=description, checks=check)


def guided(name: str, guide: Tensor, *, weight: float = 1.0) -> Objective:
    """Make every position of ``name`` more like its best-matching feature of a guide image.

    At each position the features ``x`` are matched to the guide feature ``g`` with the largest
    dot product, and ``x . g`` is maximised (the guided dream of the 2015 DeepDream notebook).

    Args:
        name: layer name.
        guide: the guide image's features at that layer, ``(C, M)`` for ``M`` positions.
        weight: multiplies the objective.
    """
    guide = guide.detach().float()
    description = f"{name} guided" + (f"={weight:g}" if weight != 1 else "")

    def match(features: Features) -> Tensor:
        flat = features[name].float().flatten(2)  # (B, C, N)
        scores = torch.einsum("bcn,cm->bnm", flat, guide.to(flat.device))
        best = guide.to(flat.device)[:, scores.argmax(-1)]  # (C, B, N)
        return weight * (flat * best.permute(1, 0, 2)).sum(1).mean()

    def check_channels(net: Network) -> None:
        if net.layer_channels[name] != guide.shape[0]:
            raise InvalidParameterError(
                f"guide features have {guide.shape[0]} channels but {name} of {net.name} has {net.layer_channels[name]}"
            )

    return Objective(match, layers=[name], description=description, checks=[check_channels])


def split_layer_spec(spec: str) -> tuple[str, list[int] | None, tuple[int, int] | None, float]:
    """Split ``"fire7:12@100,80=2"`` into ``("fire7", [12], (100, 80), 2.0)``.

    >>> split_layer_spec("fire7:0-2=0.5")
    ('fire7', [0, 1, 2], None, 0.5)
    """
    match = _SPEC.match(spec.strip())
    if not match or not match["name"].strip():
        raise InvalidParameterError(f"bad layer spec {spec!r}: {_SPEC_HELP}")
    channels = _parse_channels(spec, match["channels"]) if match["channels"] is not None else None
    weight = 1.0
    if match["weight"] is not None:
        try:
            weight = float(match["weight"])
        except ValueError:
            raise InvalidParameterError(f"bad weight in layer spec {spec!r}: {_SPEC_HELP}") from None
    at = None
    if match["at"] is not None:
        try:
            x, y = (int(part) for part in match["at"].split(","))
        except ValueError:
            raise InvalidParameterError(f"bad position in layer spec {spec!r}: {_SPEC_HELP}") from None
        at = (x, y)
        if not channels or len(channels) != 1:
            name = match["name"].strip()
            raise InvalidParameterError(f"a neuron needs exactly one channel, e.g. {name}:12@100,80; got {spec!r}")
    return match["name"].strip(), channels, at, weight


def parse_layer_spec(spec: str, *, image_size: tuple[int, int] | None = None) -> Objective:
    """Turn ``"fire7:3,12,40=2"`` into :func:`layer` ``("fire7", [3, 12, 40], weight=2)``.

    ``"fire7:12@200,150"`` becomes a :func:`neuron` at pixel (200, 150) of an image of
    ``image_size`` ``(width, height)``.

    Raises:
        InvalidParameterError: naming the spec and the accepted form.
    """
    name, channels, at, weight = split_layer_spec(spec)
    if at is None or channels is None:
        return layer(name, channels, weight=weight)
    if image_size is None:
        raise InvalidParameterError(f"the neuron {spec!r} needs the image size to place @{at[0]},{at[1]}")
    (x, y), (width, height) = at, image_size
    if not (0 <= x < width and 0 <= y < height):
        raise InvalidParameterError(
            f"neuron position @{x},{y} is outside the {width}x{height} image; use 0..{width - 1},0..{height - 1}"
        )
    return neuron(name, channels[0], at=((x + 0.5) / width, (y + 0.5) / height), weight=weight, label=f"{x},{y}")


def _parse_channels(spec: str, text: str) -> list[int]:
    channels: list[int] = []
    try:
        for part in text.split(","):
            first, dash, last = part.strip().partition("-")
            if dash:
                low, high = int(first), int(last)
                if high < low:
                    raise ValueError
                channels.extend(range(low, high + 1))
            else:
                channels.append(int(first))
    except ValueError:
        raise InvalidParameterError(f"bad channels in layer spec {spec!r}: {_SPEC_HELP}") from None
    return channels


def as_objective(
    value: str | Objective | Iterable[str | Objective], *, image_size: tuple[int, int] | None = None
) -> Objective:
    """Make an objective from a spec string, an objective, or a list of either (summed).

    ``image_size`` ``(width, height)`` places neurons given in pixels (``fire7:12@200,150``).

    >>> str(as_objective("fire7:12"))
    'fire7:12'
    """
    if isinstance(value, Objective):
        return value
    if isinstance(value, str):
        return parse_layer_spec(value, image_size=image_size)
    parts = [as_objective(item, image_size=image_size) for item in value]
    if not parts:
        raise InvalidParameterError("layers is empty; give at least one layer, e.g. fire7")
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
