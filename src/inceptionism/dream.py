"""Dream a still image: the Python API behind ``inceptionism dream``."""

from __future__ import annotations

import inspect
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from inceptionism import presets
from inceptionism._version import __version__
from inceptionism.checks import check_int
from inceptionism.engine import (
    ProgressCallback,
    Schedule,
    activation_bytes_per_pixel,
    ascend,
    check_size,
    check_tile,
    plan_tiles,
)
from inceptionism.errors import ImageError, InvalidParameterError, closest
from inceptionism.gradients import gaussian_blur
from inceptionism.images import ImageInput, LoadedImage, load_image, sample_path, to_image, to_tensor
from inceptionism.models.network import Network
from inceptionism.models.registry import WeightsArg, get_model
from inceptionism.objectives import Objective, as_objective, guided, layer, parse_class_spec, split_layer_spec
from inceptionism.parameterization import FourierImage
from inceptionism.runtime import autocast_dtype, resolve_device, resolve_precision
from inceptionism.visualize import visualize

logger = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 2048
DEFAULT_MEMORY_BUDGET_MB = 512
GUIDE_MAX_SIZE = 512
MASK_FEATHER = 0.01  # feather width as a fraction of the long side
NOISE_GREY, NOISE_SPREAD = 100.0, 16.0  # plain noise: grey with a little uniform noise (the 2015 notebook)
PARAMS = ("fourier", "pixel")
FOURIER_STEPS, FOURIER_LR, FOURIER_DECAY = 256, 0.05, 1.5
SEED_LIMIT = 2**63 - 1


@dataclass
class DreamResult:
    """What :func:`dream` returns.

    Attributes:
        image: the dreamed RGB image.
        params: every parameter used (JSON-safe), including the seed drawn if none was given.
        losses: objective value at every step, in order.
        source: the input as it was dreamed (after conversion and scaling), or the starting noise.
    """

    image: Image.Image
    params: dict[str, Any]
    losses: list[float] = field(repr=False)
    source: LoadedImage = field(repr=False)


def dream(
    image: ImageInput | None = None,
    *,
    preset: str | None = None,
    model: str | Network = "squeezenet1_1",
    weights: WeightsArg = "default",
    layers: Sequence[str | Objective] | str | Objective | None = None,
    classes: Sequence[str | int] | str | int | None = None,
    guide: ImageInput | None = None,
    mask: ImageInput | None = None,
    noise: tuple[int, int] | str | None = None,
    param: str | None = None,
    octaves: int | None = None,
    octave_scale: float | None = None,
    steps: int | None = None,
    step_size: float | None = None,
    jitter: int | None = None,
    lap_levels: int | None = None,
    smooth: float | None = None,
    tv: float | None = None,
    keep_colors: bool | None = None,
    tile: int | None = None,
    lr: float | None = None,
    seed: int | None = None,
    max_size: int | None = DEFAULT_MAX_SIZE,
    memory_budget: int = DEFAULT_MEMORY_BUDGET_MB,
    device: str = "auto",
    precision: str = "auto",
    callback: ProgressCallback | None = None,
    **unknown: Any,
) -> DreamResult:
    """DeepDream ``image``: make the chosen layers or classes fire harder by changing its pixels.

    Options left at ``None`` take the preset's value, else the standard one (in brackets).

    Args:
        image: a path, PIL image or array; ``None`` dreams the bundled sample photo.
        preset: named settings (see :data:`inceptionism.presets.PRESETS`).
        model: a registry name (see :func:`~inceptionism.models.list_models`) or a network.
        weights: ``"default"``, ``None`` (random) or a state dict file; ignored for a network.
        layers: layer specs like ``"fire7:3,12=2"`` or ``"fire7:12@100,80"`` (a neuron at a
            pixel), or objectives; summed. Without layers or classes: the model's default layer.
        classes: ImageNet classes to maximise, by name (any case) or index, ``"banana=2"``.
        guide: make the chosen layers look like this image's features instead of stronger.
        mask: white dreams, black stays, grey in between (any image, resized to fit).
        noise: start from noise of this size, ``(width, height)`` or ``"WxH"``, not an image.
        param: how noise is optimised: ``"fourier"`` (decorrelated colours in Fourier space,
            with transformation robustness; the default for noise) or ``"pixel"`` (octaves).
        octaves: number of scales [4].
        octave_scale: size ratio between octaves, > 1 [1.4].
        steps: gradient steps per octave [10]; in total for Fourier noise [256].
        step_size: step in pixel levels after gradient normalisation [1.5].
        jitter: largest random shift in pixels per step [32].
        lap_levels: Laplacian-pyramid normalisation of the gradient over this many bands [0: off].
        smooth: Gaussian blur of the gradient, sigma in pixels [0: off].
        tv: weight of the total-variation penalty relative to the objective [0: off].
        keep_colors: dream the luminance only; the input's colours stay [False].
        tile: compute gradients in tiles of this many pixels; ``None`` tiles only when a step
            would not fit ``memory_budget``.
        lr: Adam learning rate for Fourier noise [0.05].
        seed: makes the run repeatable; ``None`` draws one (returned in ``params``).
        max_size: longest side to dream at; larger inputs are scaled down. ``None``: no limit.
        memory_budget: megabytes of activations one step may use (decides tiling).
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
        close = closest(name, list(inspect.signature(dream).parameters), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(f"dream() got an unknown option {name!r}{hint}")
    settings = presets.resolve(
        preset,
        {
            "octaves": octaves,
            "octave_scale": octave_scale,
            "steps": steps,
            "step_size": step_size,
            "jitter": jitter,
            "lap_levels": lap_levels,
            "smooth": smooth,
            "tv": tv,
            "keep_colors": keep_colors,
            "noise": noise,
            "param": param,
        },
    )
    noise_size = parse_size(settings["noise"]) if settings["noise"] is not None else None
    mode = _mode(image, noise_size, settings["param"], mask, settings["keep_colors"])
    if mode == "fourier":
        settings["steps"] = steps if steps is not None else FOURIER_STEPS
    schedule = Schedule(**{key: settings[key] for key in _SCHEDULE_KEYS})
    lr = FOURIER_LR if lr is None else lr
    if seed is None:
        seed = secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_LIMIT:
        raise InvalidParameterError(f"seed must be an integer in 0..{SEED_LIMIT}, got {seed!r}")
    check_int("memory_budget", memory_budget, 1)
    torch_device = resolve_device(device)
    chosen_precision = resolve_precision(precision, torch_device)
    net = model if isinstance(model, Network) else get_model(model, weights=weights)
    _check_names(net, layers, classes)  # before the image is read: a typo fails at once
    if tile is not None:
        check_int("tile", tile, 1)
        check_tile(net, tile)
    guide_picture = None if guide is None else load_image(guide, max_size=GUIDE_MAX_SIZE).image
    mask_picture = None if mask is None else load_image(mask).image
    generator = torch.Generator().manual_seed(seed)

    if mode == "fourier":
        # Decay 1.5 (lucid: 1.0): measured, banana from noise was top-1 for 20 of 20 seeds, not 16.
        parameterized = FourierImage(noise_size[1], noise_size[0], generator=generator, decay_power=FOURIER_DECAY).to(
            torch_device
        )
        with torch.no_grad():
            source = LoadedImage(image=to_image(parameterized()), name=None, original_size=noise_size)
    elif noise_size is not None:
        source = _noise(noise_size, generator)
    else:
        source = load_image(sample_path() if image is None else image, max_size=max_size)
    width, height = source.image.size
    objective, layer_specs, class_specs = _objective(net, layers, classes, guide_picture, (width, height), torch_device)
    objective.validate(net)
    has_neuron = any(isinstance(spec, str) and split_layer_spec(spec)[2] is not None for spec in layer_specs)
    fast = net.prepared(torch_device, redirect_relu=has_neuron, dtype=autocast_dtype(chosen_precision))

    if mode == "fourier":
        pixels, losses = visualize(
            fast,
            objective,
            parameterized,
            steps=schedule.steps,
            lr=lr,
            generator=generator,
            precision=chosen_precision,
            callback=callback,
        )
        chosen_tile = None
    else:
        bytes_per_pixel = activation_bytes_per_pixel(fast, objective, device=torch_device, precision=chosen_precision)
        chosen_tile, tile_batch = plan_tiles(
            bytes_per_pixel, height, width, budget=memory_budget * 2**20, tile=tile, min_size=net.min_size
        )
        if chosen_tile is not None and has_neuron:
            raise InvalidParameterError(
                "a neuron objective (name:channel@x,y) needs the whole image: it cannot be tiled; "
                "lower --max-size or raise --memory-budget"
            )
        if tile is None and chosen_tile is not None:
            logger.info("tiling %dx%d into %d px tiles, %d per batch (memory budget %d MB)",
                        width, height, chosen_tile, tile_batch, memory_budget)  # fmt: skip
        schedule = Schedule(**{**schedule.as_dict(), "tile": chosen_tile, "tile_batch": tile_batch})
        check_size(net, schedule, height, width)
        weights_mask = None if mask_picture is None else _fit_mask(mask_picture, (width, height)).to(torch_device)
        pixels, losses = ascend(
            fast,
            to_tensor(source.image, dtype=torch.uint8).to(torch_device),
            objective,
            schedule,
            generator=generator,
            precision=chosen_precision,
            mask=weights_mask,
            callback=callback,
        )
    result = to_image(pixels)
    if schedule.keep_colors:
        result = keep_chroma(result, source.image)

    params = {
        "version": __version__,
        "preset": preset,
        "input": None if noise_size else os.path.basename(source.name) if source.name else None,
        "noise": f"{width}x{height}" if noise_size else None,
        "param": mode if noise_size else None,
        "size": [width, height],
        "model": net.name,
        "weights": net.weights,
        "layers": [str(spec) for spec in layer_specs],
        "classes": class_specs,
        "guide": _name_of(guide),
        "mask": _name_of(mask),
        **{key: value for key, value in schedule.as_dict().items() if key in _RECORDED[mode == "fourier"]},
        "tile": chosen_tile,
        "lr": lr if mode == "fourier" else None,
        "seed": seed,
        "max_size": max_size,
        "device": torch_device.type,
        "precision": chosen_precision,
    }
    params = {key: value for key, value in params.items() if key not in _ONLY_IF_SET or value not in (None, [])}
    return DreamResult(image=result, params=params, losses=losses, source=source)


# Schedule fields worth recording: all but the tile batch; for Fourier noise, only the steps.
_RECORDED = (tuple(key for key in Schedule.__dataclass_fields__ if key != "tile_batch"), ("steps",))
_ONLY_IF_SET = ("preset", "input", "noise", "param", "classes", "guide", "mask", "tile", "lr")
_SCHEDULE_KEYS = (
    "octaves",
    "octave_scale",
    "steps",
    "step_size",
    "jitter",
    "lap_levels",
    "smooth",
    "tv",
    "keep_colors",
)


def parse_size(value: tuple[int, int] | str) -> tuple[int, int]:
    """``"640x480"`` or ``(640, 480)`` to ``(width, height)``.

    >>> parse_size("640x480")
    (640, 480)
    """
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", value)
        if not match:
            raise InvalidParameterError(f"noise size must be WIDTHxHEIGHT like 512x512, got {value!r}")
        value = (int(match[1]), int(match[2]))
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise InvalidParameterError(f"noise size must be two positive integers (width, height), got {value!r}")
    return int(value[0]), int(value[1])


def _mode(
    image: ImageInput | None, noise: tuple[int, int] | None, param: str | None, mask: object, keep_colors: bool
) -> str:
    """``"image"``, ``"pixel"`` (noise dreamed with octaves) or ``"fourier"``; refuses mixtures."""
    if noise is None:
        if param is not None:
            raise InvalidParameterError("param chooses how noise is optimised; it needs noise (--noise WxH)")
        return "image"
    if image is not None:
        raise InvalidParameterError("give an input image or noise, not both")
    if mask is not None or keep_colors:
        raise InvalidParameterError("mask and keep_colors work on an input image; noise has none")
    param = param or "fourier"
    if param not in PARAMS:
        raise InvalidParameterError(f"param must be one of {', '.join(PARAMS)}, got {param!r}")
    return param


def _noise(size: tuple[int, int], generator: torch.Generator) -> LoadedImage:
    width, height = size
    values = NOISE_GREY + NOISE_SPREAD * torch.rand(1, 3, height, width, generator=generator)
    return LoadedImage(image=to_image(values), name=None, original_size=size)


def _check_names(net: Network, layers: Sequence[str | Objective] | str | Objective | None, classes: object) -> None:
    """Fail on an unknown layer, channel or class before any work is done."""
    for spec in [layers] if isinstance(layers, (str, Objective)) else list(layers or []):
        if isinstance(spec, str):
            name, channels, _, _ = split_layer_spec(spec)
            layer(name, channels).validate(net)
    for spec in [classes] if isinstance(classes, (str, int)) else list(classes or []):
        parse_class_spec(str(spec), net.labels).validate(net)


def _objective(
    net: Network,
    layers: Sequence[str | Objective] | str | Objective | None,
    classes: Sequence[str | int] | str | int | None,
    guide: Image.Image | None,
    image_size: tuple[int, int],
    device: torch.device,
) -> tuple[Objective, list[str | Objective], list[str]]:
    """Sum the layer, neuron, class and guide terms; return it with the specs as given."""
    layer_specs = [layers] if isinstance(layers, (str, Objective)) else list(layers or [])
    class_specs = [classes] if isinstance(classes, (str, int)) else list(classes or [])
    if not layer_specs and not class_specs:
        layer_specs = [net.default_layer]
    terms: list[Objective] = [parse_class_spec(str(spec), net.labels) for spec in class_specs]
    if guide is None:
        if layer_specs:
            terms.append(as_objective(layer_specs, image_size=image_size))
    else:
        terms.extend(_guided_terms(net, layer_specs, guide, device))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total, layer_specs, [str(term).removeprefix("class ") for term in terms[: len(class_specs)]]


def _guided_terms(
    net: Network, layer_specs: list[str | Objective], picture: Image.Image, device: torch.device
) -> list[Objective]:
    if not layer_specs:
        raise InvalidParameterError("a guide needs layers to match on (give --layer)")
    specs = []
    for spec in layer_specs:
        if not isinstance(spec, str):
            raise InvalidParameterError("a guide works on layer names, not on objectives")
        name, channels, at, weight = split_layer_spec(spec)
        if channels is not None or at is not None:
            raise InvalidParameterError(f"a guide matches whole layers; drop the channels from {spec!r}")
        specs.append((name, weight))
    net.check_layers([name for name, _ in specs])
    if min(picture.size) < net.min_size:
        raise ImageError(f"guide image is {picture.width}x{picture.height} px, too small for {net.name}")
    with torch.no_grad(), net.tap([name for name, _ in specs]) as extract:
        features = extract(to_tensor(picture).to(next(net.parameters()).device))
    return [guided(name, features[name][0].flatten(1).to(device), weight=weight) for name, weight in specs]


def _fit_mask(picture: Image.Image, size: tuple[int, int]) -> torch.Tensor:
    """The mask as ``(1, 1, H, W)`` in 0..1 at ``size``, feathered inside its white parts."""
    picture = picture.convert("L")
    if picture.size != size:
        logger.info("resized the mask from %dx%d to %dx%d to fit the image", *picture.size, *size)
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    values = to_tensor(picture.convert("RGB"))[:, :1] / 255.0
    # Feather only inwards: black stays exactly black, white edges fade in.
    return torch.minimum(values, gaussian_blur(values, MASK_FEATHER * max(size)))


def keep_chroma(dreamed: Image.Image, original: Image.Image) -> Image.Image:
    """``dreamed``'s luminance with ``original``'s chroma (YCbCr)."""
    luma = dreamed.convert("YCbCr").getchannel(0)
    _, blue, red = original.convert("YCbCr").split()
    return Image.merge("YCbCr", (luma, blue, red)).convert("RGB")


def _name_of(value: ImageInput | None) -> str | None:
    if value is None:
        return None
    return os.path.basename(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else "(in memory)"
