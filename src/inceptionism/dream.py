"""Dream a still image: the Python API behind ``inceptionism dream``."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from inceptionism.engine import ProgressCallback, Schedule, ascend, check_size
from inceptionism.errors import InvalidParameterError, closest
from inceptionism.images import ImageInput, LoadedImage, load_image, sample_path, to_image, to_tensor
from inceptionism.models.network import Network
from inceptionism.models.registry import WeightsArg, get_model
from inceptionism.objectives import Objective, as_objective
from inceptionism.runtime import resolve_device, resolve_precision

logger = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 2048
SEED_LIMIT = 2**63 - 1


@dataclass
class DreamResult:
    """What :func:`dream` returns.

    Attributes:
        image: the dreamed RGB image.
        params: every parameter used (JSON-safe), including the seed drawn if none was given;
            passing them back to :func:`dream` reproduces the image.
        losses: objective value at every step, in order.
        source: the input as it was dreamed (after conversion and scaling).
    """

    image: Image.Image
    params: dict[str, Any]
    losses: list[float] = field(repr=False)
    source: LoadedImage = field(repr=False)


def dream(
    image: ImageInput | None = None,
    *,
    model: str | Network = "squeezenet1_1",
    weights: WeightsArg = "default",
    layers: list[str | Objective] | str | Objective | None = None,
    octaves: int = 4,
    octave_scale: float = 1.4,
    steps: int = 10,
    step_size: float = 1.5,
    jitter: int = 32,
    seed: int | None = None,
    max_size: int | None = DEFAULT_MAX_SIZE,
    device: str = "auto",
    precision: str = "auto",
    callback: ProgressCallback | None = None,
    **unknown: Any,
) -> DreamResult:
    """DeepDream ``image``: make the chosen layers fire harder by changing its pixels.

    Args:
        image: a path, PIL image or array; ``None`` dreams the bundled sample photo.
        model: a registry name (see :func:`~inceptionism.models.list_models`) or a network.
        weights: ``"default"``, ``None`` (random) or a state dict file; ignored for a network.
        layers: layer specs like ``"fire7:3,12=2"`` or objectives (summed); ``None`` uses the
            model's default layer.
        octaves: number of scales.
        octave_scale: size ratio between octaves (> 1).
        steps: gradient steps per octave.
        step_size: step in pixel levels after gradient normalisation.
        jitter: largest random shift in pixels per step.
        seed: makes the run repeatable; ``None`` draws one (returned in ``params``).
        max_size: longest side to dream at; larger inputs are scaled down. ``None``: no limit.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        precision: ``auto``, ``fp32``, ``bf16`` or ``fp16``.
        callback: called with a :class:`~inceptionism.engine.Progress` after every step.
        **unknown: refused with a suggestion (catches misspelt options).

    Returns:
        The image, the parameters used and the objective per step.

    >>> result = dream(octaves=2, steps=2, seed=1, max_size=160)
    >>> result.image.size, result.params["layers"], result.params["seed"]
    ((160, 106), ['fire7'], 1)
    """
    if unknown:
        name = next(iter(unknown))
        close = closest(name, _OPTIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(f"dream() got an unknown option {name!r}{hint}")
    schedule = Schedule(octaves=octaves, octave_scale=octave_scale, steps=steps, step_size=step_size, jitter=jitter)
    if seed is None:
        seed = secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_LIMIT:
        raise InvalidParameterError(f"seed must be an integer in 0..{SEED_LIMIT}, got {seed!r}")
    torch_device = resolve_device(device)
    chosen_precision = resolve_precision(precision, torch_device)
    net = model if isinstance(model, Network) else get_model(model, weights=weights)
    if layers is None:
        layers = [net.default_layer]
    elif isinstance(layers, (str, Objective)):
        layers = [layers]
    objective = as_objective(layers)
    objective.validate(net)
    source = load_image(sample_path() if image is None else image, max_size=max_size)
    width, height = source.image.size
    check_size(net, schedule, height, width)

    generator = torch.Generator().manual_seed(seed)
    pixels = to_tensor(source.image).to(torch_device)
    dreamed, losses = ascend(
        net.prepared(torch_device),
        pixels,
        objective,
        schedule,
        generator=generator,
        precision=chosen_precision,
        callback=callback,
    )
    from inceptionism import __version__

    params = {
        "version": __version__,
        "input": os.path.basename(source.name) if source.name else None,
        "size": [width, height],
        "model": net.name,
        "weights": net.weights,
        "layers": [str(item) for item in layers],
        **schedule.as_dict(),
        "seed": seed,
        "max_size": max_size,
        "device": torch_device.type,
        "precision": chosen_precision,
    }
    return DreamResult(image=to_image(dreamed), params=params, losses=losses, source=source)


_OPTIONS = [
    "image",
    "model",
    "weights",
    "layers",
    "octaves",
    "octave_scale",
    "steps",
    "step_size",
    "jitter",
    "seed",
    "max_size",
    "device",
    "precision",
    "callback",
]
