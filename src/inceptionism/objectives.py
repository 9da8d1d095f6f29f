"""What to maximise: objectives over a dict of layer activations, composable with ``+ - *``.

A layer spec string ``name[:channels][=weight]`` names a term: ``fire7``, ``fire7:12``,
``fire7:3,12,40=2``, ``fire7:0-15``. Each term is the mean squared activation of the layer
(restricted to the channels), times the weight.

>>> objective = as_objective(["fire7:3,12=2", "fire5"])
>>> str(objective), sorted(objective.layers)
('fire7:3,12=2 + fire5', ['fire5', 'fire7'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from torch import Tensor

from inceptionism.errors import InvalidParameterError, UnknownNameError, closest
from inceptionism.models.network import CLASSES, Network

Features = Mapping[str, Tensor]
_SPEC = re.compile(r"^(?P<name>[^:=]+?)(?::(?P<channels>[^=]*))?(?:=(?P<weight>.*))?$")
_SPEC_HELP = "use name[:channels][=weight], e.g. fire7, fire7:12, fire7:3,12,40=2 or fire7:0-15=0.5"


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

    def mean_square(features: Features) -> Tensor:
        activation = features[name]
        if chosen is not None:
            activation = activation[:, chosen]
        return weight * activation.float().square().mean()

    def check_channels(net: Network) -> None:
        count = net.layer_channels[name]
        wrong = [c for c in chosen or () if not 0 <= c < count]
        if wrong:
            raise InvalidParameterError(
                f"channel {wrong[0]} does not exist in {name} of {net.name}: it has channels 0..{count - 1}"
            )

    return Objective(mean_square, layers=[name], description=description, checks=[check_channels])


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
    if name.isdigit():
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


def parse_layer_spec(spec: str) -> Objective:
    """Turn ``"fire7:3,12,40=2"`` into :func:`layer` ``("fire7", [3, 12, 40], weight=2)``.

    Raises:
        InvalidParameterError: naming the spec and the accepted form.
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
    return layer(match["name"].strip(), channels, weight=weight)


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


def as_objective(value: str | Objective | Iterable[str | Objective]) -> Objective:
    """Make an objective from a spec string, an objective, or a list of either (summed).

    >>> str(as_objective("fire7:12"))
    'fire7:12'
    """
    if isinstance(value, Objective):
        return value
    if isinstance(value, str):
        return parse_layer_spec(value)
    parts = [as_objective(item) for item in value]
    if not parts:
        raise InvalidParameterError("layers is empty; give at least one layer, e.g. fire7")
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
