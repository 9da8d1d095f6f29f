"""The memory plan: how much one step costs per pixel, and the tiles that keep it in budget."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from inceptionism.engine.runtime import autocast
from inceptionism.models.network import Network
from inceptionism.objectives import Objective

DEFAULT_TILE = 512
BACKWARD_OVERHEAD = 1.3  # measured: peak of a step over the saved tensors (gradients in flight)


def activation_bytes_per_pixel(
    net: Network, objective: Objective, *, device: torch.device, precision: str, probe: int = 96
) -> float:
    """Peak memory of one gradient step per input pixel, measured on two probe sizes.

    Tensors saved by autograd are summed (each storage once); the slope between a ``probe``
    and a ``2 * probe`` square removes what does not grow with the image (the weights); a
    measured factor adds the gradients in flight during backward.
    """

    def saved_bytes(side: int) -> int:
        storages: dict[int, int] = {}

        def pack(tensor: Tensor) -> Tensor:
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
            return tensor

        pixels = torch.full((1, 3, side, side), 128.0, device=device, requires_grad=True)
        with (
            torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor),
            net.tap(objective.layers) as extract,
            autocast(device, precision),
        ):
            objective(extract(pixels))
        return sum(storages.values())

    if set(objective.layers) & net.fixed_layers:  # a head of fixed size takes one size only: measure it whole
        return BACKWARD_OVERHEAD * saved_bytes(net.input_size) / (3 * net.input_size**2)
    side = max(probe, net.min_size)
    small, large = saved_bytes(side), saved_bytes(2 * side)
    return BACKWARD_OVERHEAD * max(0.0, (large - small) / (3 * side * side))


def plan_tiles(
    bytes_per_pixel: float, height: int, width: int, *, budget: int, tile: int | None, min_size: int
) -> tuple[int | None, int]:
    """Choose ``(tile, tile_batch)`` so that one step's activations stay within ``budget`` bytes.

    With ``tile=None`` the whole image is used if it fits, else tiles of 512 px (halved while a
    single tile would not fit, down to the network's minimum). The batch is as many tiles as fit.

    >>> plan_tiles(1000.0, 4000, 6000, budget=2**30, tile=None, min_size=17)
    (512, 4)
    >>> plan_tiles(1000.0, 400, 600, budget=2**30, tile=None, min_size=17)
    (None, 1)
    """
    if tile is None:
        if bytes_per_pixel * height * width <= budget:
            return None, 1
        tile = max(DEFAULT_TILE, min_size)
        while bytes_per_pixel * tile * tile > budget and tile // 2 >= min_size:
            tile //= 2
    tiles = math.ceil(height / min(tile, height)) * math.ceil(width / min(tile, width))
    per_tile = bytes_per_pixel * min(tile, height) * min(tile, width)
    return tile, max(1, min(tiles, int(budget // max(per_tile, 1.0))))
