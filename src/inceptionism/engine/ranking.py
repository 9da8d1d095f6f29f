"""Channels ranked on a photo: what a layer already sees in it, strongest (or weakest) first.

``fire7:strong:8`` dreams the 8 channels of ``fire7`` most active on the input photo
("amplify what it already sees"), ``fire7:weak:8`` the 8 least. The photo is ranked at a long
side of at most :data:`RANK_SIDE` px, as ``atlas --photo`` ranks it, so both pick the same
channels; the dream then records the channels it used (``fire7:12,40,3,...``), so it repeats
exactly.

>>> from inceptionism.models import shared_model
>>> net = shared_model("squeezenet1_1")
>>> ranked_layers(["fire5:strong:3=2"], net, torch.full((1, 3, 64, 64), 128.0))
('fire5:47,50,123=2',)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from inceptionism.engine.pixels import resize
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.models.network import Network
from inceptionism.objectives.specs import ranked_spec, split_layer_spec, with_channels

RANK_SIDE = 512
"""The long side, in pixels, a photo is ranked at (smaller photos as they are)."""


def channel_means(net: Network, layer: str, pixels: Tensor) -> Tensor:
    """The mean activation of every channel of ``layer`` on each image: ``(B, C)`` for pixels ``(B, 3, H, W)``."""
    with torch.no_grad(), net.tap([layer]) as extract:
        activation = extract(pixels.float())[layer].float()
    return activation.flatten(2).mean(2) if activation.dim() > 2 else activation  # maps, or flat scores


def rank(net: Network, layer: str, pixels: Tensor, channels: Sequence[int] | None = None) -> list[tuple[int, float]]:
    """``channels`` (default: all) of ``layer`` with their mean activation on ``pixels``, strongest first.

    The pixels are first scaled to a long side of at most :data:`RANK_SIDE`. Ties keep channel order.
    """
    height, width = pixels.shape[-2:]
    scale = min(1.0, RANK_SIDE / max(height, width))
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    if min(size) < net.min_size:
        raise ImageError(f"the photo is {width}x{height} px, too small for {net.name}")
    means = channel_means(net, layer, resize(pixels.float().cpu(), size))[0]
    chosen = range(means.numel()) if channels is None else channels
    return sorted(((c, float(means[c])) for c in chosen), key=lambda pair: -pair[1])


def has_ranked(specs: Sequence[str]) -> bool:
    """Whether any layer spec ranks its channels on the photo (``strong:N``, ``weak:N``)."""
    return any(ranked_spec(spec) is not None for spec in specs)


def ranked_layers(specs: Sequence[str], net: Network, pixels: Tensor) -> tuple[str, ...]:
    """``specs`` with each ``strong:N`` / ``weak:N`` replaced by the channels it picks on ``pixels``."""
    resolved = []
    for spec in specs:
        ranked = ranked_spec(spec)
        if ranked is None:
            resolved.append(spec)
            continue
        mode, count = ranked
        order = [channel for channel, _ in rank(net, split_layer_spec(spec)[0], pixels)]
        picked = order[:count] if mode == "strong" else order[::-1][:count]
        resolved.append(with_channels(spec, picked))
    return tuple(resolved)


def check_ranked(spec: str, net: Network) -> None:
    """Refuse a ranked spec asking for more channels than its layer has."""
    ranked = ranked_spec(spec)
    if ranked is None:
        return
    name = split_layer_spec(spec)[0]
    count = net.layer_channels[name]
    if ranked[1] > count:
        raise InvalidParameterError(
            f"{spec!r} asks for {ranked[1]} channels but {name} of {net.name} has {count}", argument="layers"
        )
