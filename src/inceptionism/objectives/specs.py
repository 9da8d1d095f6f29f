"""Objectives written as text: layer specs ``name[:channels][@x,y][=weight]`` and class specs.

``fire7`` is the mean squared activation of the whole layer; ``fire7:12`` only channel 12;
``fire7:3,12,40=2`` three channels with weight 2; ``fire7:0-15`` a range;
``fire7:12@200,150`` one neuron: channel 12 at the layer position that sees pixel
(200, 150) of the image.

>>> objective = as_objective(["fire7:3,12=2", "fire5"])
>>> str(objective), sorted(objective.layers)
('fire7:3,12=2 + fire5', ['fire5', 'fire7'])
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from inceptionism.errors import InvalidParameterError, UnknownNameError, closest
from inceptionism.objectives.base import Objective, total
from inceptionism.objectives.losses import DEFAULT_LOSS, check_loss
from inceptionism.objectives.terms import class_logit, layer, neuron

CHANNEL_LIMIT = 65536
"""Channels a spec may name, and the highest channel index + 1 (no network has more)."""
_SPEC = re.compile(r"^(?P<name>[^:=@]+?)(?::(?P<channels>[^=@]*))?(?:@(?P<at>[^=]*))?(?:=(?P<weight>.*))?$")
_SPEC_HELP = (
    "use name[:channels][@x,y][=weight][~loss], e.g. fire7, fire7:12, fire7:3,12,40=2, fire7:0-15=0.5, "
    "fire7:strong:8, fire7:12@100,80 or fire7=2~abs-mean"
)
RANK_MODES = ("strong", "weak")
"""Channels chosen by rank on the input photo: ``fire7:strong:8`` (the 8 most active), ``fire7:weak:8``."""
_RANKED = re.compile(r"\s*(?P<mode>strong|weak)\s*:\s*(?P<count>[0-9]+)\s*")


def _weight(spec: str, text: str, form: str) -> float:
    try:
        weight = float(text)
    except ValueError:
        raise InvalidParameterError(f"bad weight in {form} {spec!r}: {_help(form)}") from None
    if not math.isfinite(weight):
        raise InvalidParameterError(f"bad weight in {form} {spec!r}: it must be a finite number, got {text.strip()}")
    return weight


def _help(form: str) -> str:
    return _SPEC_HELP if form == "layer spec" else "use NAME[=weight], e.g. banana=2"


def split_class_spec(spec: str) -> tuple[str, float]:
    """Split ``"banana=2"`` into ``("banana", 2.0)``; the name is looked up later.

    >>> split_class_spec("Granny Smith")
    ('Granny Smith', 1.0)
    """
    name, equals, weight_text = spec.rpartition("=") if "=" in spec else (spec, "", "")
    return name.strip(), _weight(spec, weight_text, "class spec") if equals else 1.0


FEW_CLASSES = 20  # a network of at most this many classes (one you trained) names them all in an error


def parse_class_spec(spec: str, labels: Sequence[str]) -> Objective:
    """Turn ``"banana"``, ``"Banana=2"`` or ``"954=0.5"`` into :func:`class_logit`.

    Names match case-insensitively; an unknown name fails with the closest labels.

    >>> from inceptionism.models import imagenet_classes
    >>> str(parse_class_spec("Granny Smith=2", imagenet_classes()))
    'class Granny Smith=2'
    """
    name, weight = split_class_spec(spec)
    if name.isascii() and name.isdigit():
        index = int(name)
        if index >= len(labels):
            raise InvalidParameterError(f"class {index} does not exist: there are classes 0..{len(labels) - 1}")
        return class_logit(index, weight=weight, label=labels[index])
    lowered = [label.lower() for label in labels]
    if name.lower() not in lowered:
        close = closest(name.lower(), lowered)
        hint = f"; did you mean {', '.join(labels[lowered.index(c)] for c in close)}?" if close else ""
        few = len(labels) <= FEW_CLASSES
        listing = f"its classes are {', '.join(labels)}" if few else "list them with: inceptionism classes"
        raise UnknownNameError(f"unknown class {name!r}{hint} ({listing})")
    index = lowered.index(name.lower())
    return class_logit(index, weight=weight, label=labels[index])


def split_layer_spec(spec: str) -> tuple[str, list[int] | None, tuple[int, int] | None, float]:
    """Split ``"fire7:12@100,80=2"`` into ``("fire7", [12], (100, 80), 2.0)``.

    A loss after ``~`` (see :func:`spec_loss`) is left out.

    >>> split_layer_spec("fire7:0-2=0.5")
    ('fire7', [0, 1, 2], None, 0.5)
    """
    spec, _ = _without_loss(spec)
    match = _SPEC.match(spec.strip())
    if not match or not match["name"].strip():
        raise InvalidParameterError(f"bad layer spec {spec!r}: {_SPEC_HELP}")
    channels = None
    if match["channels"] is not None and not _RANKED.fullmatch(match["channels"]):
        try:
            channels = parse_channels(match["channels"])
        except InvalidParameterError as error:
            raise InvalidParameterError(f"bad channels in layer spec {spec!r}: {error}") from None
    weight = _weight(spec, match["weight"], "layer spec") if match["weight"] is not None else 1.0
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


def ranked_spec(spec: str) -> tuple[str, int] | None:
    """``("strong", 8)`` for ``"fire7:strong:8"``: channels to be ranked on the photo; ``None`` for other specs.

    >>> ranked_spec("fire7:weak:4=2~mean"), ranked_spec("fire7:3,4")
    (('weak', 4), None)
    """
    match = _SPEC.match(_without_loss(spec)[0].strip())
    ranked = _RANKED.fullmatch(match["channels"]) if match and match["channels"] else None
    if ranked is None:
        return None
    count = int(ranked["count"])
    if not 1 <= count <= CHANNEL_LIMIT:
        raise InvalidParameterError(f"bad channels in layer spec {spec!r}: {ranked['mode']}:N takes N in "
                                    f"1..{CHANNEL_LIMIT}, got {count}")  # fmt: skip
    return ranked["mode"], count


def with_channels(spec: str, channels: Sequence[int]) -> str:
    """``spec`` with its ranked channels replaced by ``channels`` (its weight and loss kept).

    >>> with_channels("fire7:strong:3=2~mean", [40, 3, 12])
    'fire7:40,3,12=2~mean'
    """
    body, mark, loss = spec.rpartition("~") if "~" in spec else (spec, "", "")
    match = _SPEC.match(body.strip())
    weight = f"={match['weight']}" if match["weight"] is not None else ""  # type: ignore[index]
    return f"{match['name'].strip()}:{','.join(map(str, channels))}{weight}{mark}{loss}"  # type: ignore[index]


def _without_loss(spec: str) -> tuple[str, str | None]:
    """``"fire7=2~abs-mean"`` as ``("fire7=2", "abs-mean")``: the spec, and the loss it names (checked) if any."""
    body, mark, loss = spec.rpartition("~")
    if not mark:
        return spec, None
    return body, check_loss(loss.strip(), f"layer spec {spec!r}")


def spec_loss(spec: str) -> str | None:
    """The loss a layer spec names after ``~`` (``"fire7~l2-norm"``), ``None`` where it names none.

    >>> spec_loss("fire7:3=2~abs-mean"), spec_loss("fire7")
    ('abs-mean', None)
    """
    return _without_loss(spec)[1]


def parse_layer_spec(spec: str, *, image_size: tuple[int, int] | None = None, loss: str = DEFAULT_LOSS) -> Objective:
    """Turn ``"fire7:3,12,40=2"`` into :func:`layer` ``("fire7", [3, 12, 40], weight=2)``.

    ``"fire7:12@200,150"`` becomes a :func:`neuron` at pixel (200, 150) of an image of
    ``image_size`` ``(width, height)``. A layer term takes the loss its spec names after
    ``~``, else ``loss``; a neuron is one value, raised as it is.

    Raises:
        InvalidParameterError: naming the spec and the accepted form.
    """
    name, channels, at, weight = split_layer_spec(spec)
    if ranked_spec(spec) is not None:
        raise InvalidParameterError(f"the channels of {spec!r} are ranked on a photo: rank them first "
                                    "(inceptionism.engine.ranking.ranked_layers)")  # fmt: skip
    if at is None or channels is None:
        return layer(name, channels, weight=weight, loss=spec_loss(spec) or loss)
    if image_size is None:
        raise InvalidParameterError(f"the neuron {spec!r} needs the image size to place @{at[0]},{at[1]}")
    (x, y), (width, height) = at, image_size
    if not (0 <= x < width and 0 <= y < height):
        raise InvalidParameterError(
            f"neuron position @{x},{y} is outside the {width}x{height} image; use 0..{width - 1},0..{height - 1}"
        )
    return neuron(name, channels[0], at=((x + 0.5) / width, (y + 0.5) / height), weight=weight, label=f"{x},{y}")


def parse_channels(text: str) -> list[int]:
    """``"0-3,12"`` as ``[0, 1, 2, 3, 12]``: the one reading of a channel list.

    A layer spec's channels (``fire7:0-3,12``), the atlas's ``--channels`` and its API's
    ``channels`` are all read by this: the same text gives the same channels, or the same
    error, everywhere. Repeats are kept (the caller decides what they mean); whether each
    channel exists is checked against the network later.

    Raises:
        InvalidParameterError: a list not of numbers and ``A-B`` ranges, a range that runs
            backwards, or channels past :data:`CHANNEL_LIMIT` (no network has more).

    >>> parse_channels(" 0-3 , 12")
    [0, 1, 2, 3, 12]
    >>> parse_channels("5-2")
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: channel range 5-2 runs backwards
    """
    channels: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?", part)
        if not match:
            raise InvalidParameterError(
                f"channels must be numbers and ranges like 0-63 or 3,12,40, got {text!r}", argument="channels"
            )
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low:
            raise InvalidParameterError(f"channel range {part.strip()} runs backwards", argument="channels")
        if high >= CHANNEL_LIMIT or len(channels) + high - low >= CHANNEL_LIMIT:
            raise InvalidParameterError(
                f"channels must be in 0..{CHANNEL_LIMIT - 1}, at most {CHANNEL_LIMIT} of them, got {text!r}",
                argument="channels",
            )
        channels.extend(range(low, high + 1))
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
    return total(parts)
