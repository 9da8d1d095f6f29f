"""Dreaming from noise: optimise an image parameterisation with Adam to maximise an objective.

Where :func:`~inceptionism.engine.ascend` changes a photo's pixels, :func:`visualize` starts
from a learnable image (usually a :class:`~inceptionism.parameterization.FourierImage`) and
shows what an objective, such as a class score, looks like to the network (lucid's
``render_vis`` without the display and saving).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from inceptionism.checks import check_generator, check_int
from inceptionism.engine.progress import Progress, ProgressCallback, report
from inceptionism.engine.runtime import autocast, resolve_precision
from inceptionism.engine.transforms import STANDARD_TRANSFORMS, Transform, compose
from inceptionism.errors import InvalidParameterError
from inceptionism.models.network import Network
from inceptionism.objectives import Objective


def visualize(
    net: Network,
    objective: Objective,
    image: nn.Module,
    *,
    steps: int,
    lr: float = 0.05,
    transforms: Transform | Sequence[Transform] = STANDARD_TRANSFORMS,
    generator: torch.Generator,
    precision: str = "fp32",
    callback: ProgressCallback | None = None,
    frame: int = 0,
) -> tuple[Tensor, list[float]]:
    """Maximise ``objective`` over the parameters of ``image`` with Adam.

    Each step renders the image, transforms it at random (transformation robustness),
    evaluates the objective on the network's activations and takes an Adam step on the
    image's parameters against the negative objective. The network's parameters are never
    given gradients.

    Args:
        net: the network, frozen, on the device of ``image``.
        objective: what to maximise; its layers and classes must exist in ``net``.
        image: a module whose ``forward()`` returns ``(B, 3, H, W)`` RGB pixels in 0..255,
            differentiable in its parameters (e.g. :class:`~inceptionism.parameterization.FourierImage`).
            Its parameters are updated in place.
        steps: number of Adam steps (>= 1).
        lr: Adam's learning rate (> 0).
        transforms: one transform ``(pixels, generator) -> pixels`` or a list applied in
            order (``[]`` for none); the default is lucid's standard set.
        generator: source of the transforms' randomness (a CPU generator; same seed, same image).
        precision: ``"fp32"``, ``"bf16"``, ``"fp16"`` (CUDA only) or ``"auto"``, for the
            network's forward (autocast); the image itself is always computed in fp32.
        callback: called with a :class:`~inceptionism.engine.progress.Progress` after each step
            (``octave=1, octaves=1``); returning ``True`` stops with
            :class:`~inceptionism.engine.progress.Cancelled`.
        frame: the frame index the progress reports.

    Returns:
        The final pixels ``(B, 3, H, W)`` in 0..255, detached (``B`` is the image's batch,
        1 unless asked otherwise), and the objective's value at each step, before its update.

    Raises:
        InvalidParameterError: for an argument out of range, naming it, the value and what is allowed.
        UnknownNameError: for an objective layer the network does not have.

    >>> from inceptionism.models import get_model
    >>> from inceptionism.objectives import class_logit
    >>> from inceptionism.engine.parameterization import FourierImage
    >>> net = get_model("squeezenet1_1")
    >>> generator = torch.Generator().manual_seed(0)
    >>> image = FourierImage(128, 128, generator=generator)
    >>> pixels, losses = visualize(net, class_logit(954), image, steps=5, generator=generator)
    >>> pixels.shape, losses[-1] > losses[0]
    (torch.Size([1, 3, 128, 128]), True)
    """
    # 1. Check the inputs.
    transform = _check_inputs(net, objective, image, steps, lr, transforms, generator, callback)
    parameters = [p for p in image.parameters() if p.requires_grad]
    device = parameters[0].device
    net_device = next(net.parameters(), parameters[0]).device
    if net_device != device:
        raise InvalidParameterError(
            f"image is on {device} but the network is on {net_device}; move one with .to(device)"
        )
    precision = resolve_precision(precision, device)
    objective.validate(net)

    # 2. Optimise.
    optimizer = torch.optim.Adam(parameters, lr=lr)
    losses: list[float] = []
    with net.tap(objective.layers) as extract:
        for step in range(1, steps + 1):
            rendered = image()
            pixels = transform(rendered, generator)
            with autocast(device, precision):
                value = objective(extract(pixels))
            # autograd.grad rather than backward: no gradient ever lands on the network.
            gradients = torch.autograd.grad(-value, parameters)
            for parameter, gradient in zip(parameters, gradients, strict=True):
                parameter.grad = gradient
            optimizer.step()
            losses.append(float(value.detach()))
            report(callback, Progress(1, 1, step, steps, losses[-1], frame, rendered.detach()))

    # 3. Render the result.
    with torch.no_grad():
        result = image().float()
    for parameter in parameters:
        parameter.grad = None
    return result, losses


def _check_inputs(
    net: object,
    objective: object,
    image: object,
    steps: object,
    lr: object,
    transforms: object,
    generator: object,
    callback: object,
) -> Transform:
    """Raise for the first bad argument; return ``transforms`` as one callable."""
    if not isinstance(net, Network):
        raise InvalidParameterError(f"net must be an inceptionism Network (see get_model), got {type(net).__name__}")
    if not isinstance(objective, Objective):
        raise InvalidParameterError(
            f"objective must be an Objective (e.g. class_logit(954) or as_objective('fire7')), "
            f"got {type(objective).__name__}"
        )
    if not isinstance(image, nn.Module) or not any(p.requires_grad for p in image.parameters()):
        raise InvalidParameterError(
            f"image must be a module with learnable parameters, such as FourierImage, got {type(image).__name__}"
        )
    check_int("steps", steps, 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not lr > 0:
        raise InvalidParameterError(f"lr must be > 0, got {lr!r}")
    check_generator(generator)
    if callback is not None and not callable(callback):
        raise InvalidParameterError(f"callback must be callable or None, got {callback!r}")
    if callable(transforms):
        return transforms
    if isinstance(transforms, Sequence) and not isinstance(transforms, (str, bytes)):
        return compose(*transforms)
    raise InvalidParameterError(
        f"transforms must be a transform or a list of them (e.g. standard_transforms()), got {transforms!r}"
    )
