"""How a layer's activation becomes one number to raise: the loss modes of a layer term.

Each gives one float32 value per batch item. ``mean-square`` (the default, DeepDream's) grows
the units that already fire most; ``mean`` raises every unit alike, negative ones too; ``abs-mean``
pushes every unit away from zero; ``l2-norm`` is the square root of the summed squares, whose
gradient is the activation's direction alone.

>>> x = torch.tensor([[1.0, -2.0, 2.0]])
>>> [round(float(LOSSES[name](x)[0]), 3) for name in LOSS_NAMES]
[3.0, 0.333, 1.667, 3.0]
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from inceptionism.errors import InvalidParameterError
from inceptionism.objectives.base import mean_square


def _dims(x: Tensor) -> tuple[int, ...]:
    return tuple(range(1, x.dim()))


LOSSES: dict[str, Callable[[Tensor], Tensor]] = {
    "mean-square": mean_square,
    "mean": lambda x: x.mean(dim=_dims(x), dtype=torch.float32),
    "abs-mean": lambda x: x.abs().mean(dim=_dims(x), dtype=torch.float32),
    "l2-norm": lambda x: torch.linalg.vector_norm(x, dim=_dims(x), dtype=torch.float32),
}
LOSS_NAMES = tuple(LOSSES)
DEFAULT_LOSS = "mean-square"


def check_loss(name: str, where: str = "loss") -> str:
    """``name`` if it is a loss mode; else a one-line error naming ``where`` and the modes.

    >>> check_loss("abs-mean")
    'abs-mean'
    """
    if name not in LOSSES:
        raise InvalidParameterError(f"unknown loss {name!r} in {where}; use {', '.join(LOSS_NAMES)}", argument="loss")
    return name
