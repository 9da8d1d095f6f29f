"""The objective: a value per batch item computed from layer activations, composable with ``+ - *``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import Tensor

from inceptionism.checks import check_number
from inceptionism.models.network import Network

Features = Mapping[str, Tensor]
SHIFT = "shift"
"""Features entry the engine may add: the ``(dy, dx)`` roll applied to the pixels before this pass."""


class _MeanSquare(torch.autograd.Function):
    """Per item, ``x.float().square().mean()`` in one pass each way, the gradient in ``x``'s dtype.

    The autograd chain of that expression makes four passes over the activation forward and
    back (a float copy, square, mean, and their gradients); this is a float32 norm forward and
    one scaled copy backward.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        # Reducing over the dimensions (not a flattened view) keeps channels-last input uncopied.
        norms = torch.linalg.vector_norm(x, dim=tuple(range(1, x.dim())), dtype=torch.float32)
        return norms.square() / x[0].numel()

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, gradient: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        scale = gradient * (2 / x[0].numel())
        return x * scale.view(-1, *(1,) * (x.dim() - 1)).to(x.dtype)


def mean_square(x: Tensor) -> Tensor:
    """Mean of the squares of each item of ``x`` ``(B, ...)``, as ``(B,)`` float32 whatever its dtype.

    >>> mean_square(torch.tensor([[1.0, 2.0, 2.0], [0.0, 0.0, 3.0]], dtype=torch.bfloat16))
    tensor([3., 3.])
    """
    return _MeanSquare.apply(x)


class Objective:
    """A value to maximise for each batch item, computed from layer activations.

    Calling an objective gives the mean over the batch (what a dream maximises);
    :meth:`per_item` gives one value per batch item, so that a batch can hold independent
    optimisations (one channel per item, one tile per item).

    Args:
        fn: maps ``{layer: activation (B, ...)}`` to a ``(B,)`` tensor (a 0-dim tensor counts
            as the same value for every item).
        layers: the layers ``fn`` reads.
        description: how the objective is written back (a spec string).
        checks: functions that raise if the objective does not fit a network.
        needs_whole_image: whether ``fn`` depends on where the batch sits in the image (a
            neuron at a position): such an objective cannot be computed tile by tile.

    >>> from inceptionism.objectives import layer, neuron
    >>> objective = layer("fire7") + 2 * neuron("fire5", 3)
    >>> str(objective), objective.needs_whole_image
    ('fire7 + 2 * (fire5:3@0.5,0.5)', True)
    """

    def __init__(
        self,
        fn: Callable[[Features], Tensor],
        *,
        layers: Iterable[str],
        description: str,
        checks: Sequence[Callable[[Network], None]] = (),
        needs_whole_image: bool = False,
    ) -> None:
        self.fn = fn
        self.layers = frozenset(layers)
        self.description = description
        self.checks = tuple(checks)
        self.needs_whole_image = needs_whole_image

    def per_item(self, features: Features) -> Tensor:
        """The objective's value for each batch item, ``(B,)`` (or 0-dim, see ``fn``)."""
        return self.fn(features)

    def __call__(self, features: Features) -> Tensor:
        """The objective's value for these activations: the mean over the batch."""
        return self.per_item(features).mean()

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
            lambda features: self.per_item(features) + other.per_item(features),
            layers=self.layers | other.layers,
            description=f"{self} + {other}",
            checks=self.checks + other.checks,
            needs_whole_image=self.needs_whole_image or other.needs_whole_image,
        )

    def __mul__(self, factor: float) -> Objective:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)):
            return NotImplemented
        check_number("factor", factor)
        return Objective(
            lambda features: factor * self.per_item(features),
            layers=self.layers,
            description=f"{factor:g} * ({self})",
            checks=self.checks,
            needs_whole_image=self.needs_whole_image,
        )

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1

    def __sub__(self, other: Objective) -> Objective:
        return self + (-other)


def total(objectives: Iterable[Objective]) -> Objective:
    """The sum of ``objectives`` (at least one).

    >>> from inceptionism.objectives import layer
    >>> str(total([layer("fire5"), layer("fire7")]))
    'fire5 + fire7'
    """
    parts = list(objectives)
    result = parts[0]
    for part in parts[1:]:
        result = result + part
    return result
