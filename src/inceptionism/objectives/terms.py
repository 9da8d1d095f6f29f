"""The terms an objective is made of: a layer, a neuron, a class score, a guide image's features."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from inceptionism.checks import check_number
from inceptionism.errors import InvalidParameterError
from inceptionism.models.network import CLASSES, INPUT, Network
from inceptionism.objectives.base import SHIFT, Features, Objective
from inceptionism.objectives.losses import DEFAULT_LOSS, LOSSES, check_loss


def _weighted(description: str, weight: float) -> str:
    check_number("weight", weight)
    return description + (f"={weight:g}" if weight != 1 else "")


def _channels_exist(name: str, channels: Sequence[int]):
    """A check that every one of ``channels`` is a channel of layer ``name``."""

    def check(net: Network) -> None:
        count = net.layer_channels[name]
        wrong = [c for c in channels if not 0 <= c < count]
        if wrong:
            raise InvalidParameterError(
                f"channel {wrong[0]} does not exist in {name} of {net.name}: it has channels 0..{count - 1}"
            )

    return check


def layer(
    name: str, channels: Sequence[int] | None = None, *, weight: float = 1.0, loss: str = DEFAULT_LOSS
) -> Objective:
    """The ``loss`` (mean square by default) of ``name``'s activation (only ``channels`` if given), times ``weight``.

    >>> str(layer("fire7", [12], weight=2)), str(layer("fire7", loss="abs-mean"))
    ('fire7:12=2', 'fire7~abs-mean')
    """
    chosen = list(channels) if channels else None
    reduce = LOSSES[check_loss(loss)]
    named = name + (":" + ",".join(map(str, chosen)) if chosen else "")
    description = _weighted(named, weight) + ("" if loss == DEFAULT_LOSS else f"~{loss}")

    def term(features: Features) -> Tensor:
        activation = features[name]
        if chosen is not None:
            activation = activation[:, chosen]
        return weight * reduce(activation)

    return Objective(term, layers=[name], description=description, checks=[_channels_exist(name, chosen or ())])


def channel_each(name: str, channels: Sequence[int]) -> Objective:
    """Item ``i`` of the batch: the mean activation of channel ``channels[i]`` of ``name`` (lucid's ``channel``).

    One batch then holds one independent optimisation per channel: the neuron atlas draws
    many channels in one forward pass. The batch must have ``len(channels)`` items.

    >>> objective = channel_each("conv1", [0, 2])
    >>> objective.per_item({"conv1": torch.arange(12.0).view(2, 3, 2, 1)}).tolist()
    [0.5, 10.5]
    """
    chosen = torch.tensor(list(channels), dtype=torch.long)
    if chosen.numel() == 0:
        raise InvalidParameterError("channel_each needs at least one channel")

    def term(features: Features) -> Tensor:
        activation = features[name]
        if activation.shape[0] != len(chosen):
            raise InvalidParameterError(
                f"channel_each has {len(chosen)} channels for a batch of {activation.shape[0]} images"
            )
        picked = activation[torch.arange(len(chosen), device=activation.device), chosen.to(activation.device)]
        return picked.float().flatten(1).mean(1) if picked.dim() > 1 else picked.float()  # a map, or flat scores

    description = f"{name}:{','.join(map(str, chosen.tolist()))} (one per image)"
    return Objective(term, layers=[name], description=description, checks=[_channels_exist(name, chosen.tolist())])


def class_logit(index: int, *, weight: float = 1.0, label: str | None = None) -> Objective:
    """The score of class ``index`` before softmax (and before any ReLU), times ``weight``.

    Reads the ``"classes"`` pseudo-layer; a spatial class map is averaged over positions.

    >>> str(class_logit(954, label="banana", weight=2))
    'class banana=2'
    """
    description = _weighted(f"class {label if label is not None else index}", weight)

    def score(features: Features) -> Tensor:
        scores = features[CLASSES][:, index].float()
        return weight * (scores.flatten(1).mean(1) if scores.dim() > 1 else scores)

    def check_index(net: Network) -> None:
        if not 0 <= index < len(net.labels):
            raise InvalidParameterError(
                f"class {index} does not exist in {net.name}: it has classes 0..{len(net.labels) - 1}"
            )

    return Objective(score, layers=[CLASSES], description=description, checks=[check_index])


def neuron(
    name: str, channel: int, *, at: tuple[float, float] = (0.5, 0.5), weight: float = 1.0, label: str | None = None
) -> Objective:
    """The activation of one unit: ``channel`` of ``name`` at a relative position, times ``weight``.

    The objective depends on where the unit sits in the whole image, so it cannot be
    computed on tiles (``needs_whole_image``).

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
    description = _weighted(f"{name}:{channel}@{label or f'{fx:g},{fy:g}'}", weight)

    def activation(features: Features) -> Tensor:
        value, (image_h, image_w) = features[name], features[INPUT].shape[-2:]
        # Follow the image content through the engine's jitter: the roll moved it by (dy, dx).
        dy, dx = features[SHIFT].tolist() if SHIFT in features else (0, 0)
        height, width = value.shape[-2:]
        y = (min(fy * image_h, image_h - 0.5) + dy) % image_h
        x = (min(fx * image_w, image_w - 0.5) + dx) % image_w
        row, col = min(height - 1, int(y / image_h * height)), min(width - 1, int(x / image_w * width))
        return weight * value[:, channel, row, col].float()

    check = layer(name, [channel]).checks
    return Objective(activation, layers=[name, INPUT], description=description, checks=check, needs_whole_image=True)


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
    description = _weighted(f"{name} guided", weight)

    def match(features: Features) -> Tensor:
        flat = features[name].float().flatten(2)  # (B, C, N)
        scores = torch.einsum("bcn,cm->bnm", flat, guide.to(flat.device))
        best = guide.to(flat.device)[:, scores.argmax(-1)]  # (C, B, N)
        return weight * (flat * best.permute(1, 0, 2)).sum(1).mean(1)

    def check_channels(net: Network) -> None:
        if net.layer_channels[name] != guide.shape[0]:
            raise InvalidParameterError(
                f"guide features have {guide.shape[0]} channels but {name} of {net.name} has {net.layer_channels[name]}"
            )

    return Objective(match, layers=[name], description=description, checks=[check_channels])
