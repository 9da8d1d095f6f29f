"""The Dreamer: settings and a network prepared once, then called on frame after frame.

Everything that does not depend on the frame is done when the Dreamer is made: the network
is loaded (once per process, see :mod:`inceptionism.models.cache`), the inputs checked
(:func:`~inceptionism.engine.inputs.check_inputs`), the inference copy built and the guide's
features extracted. What depends on the frame's size (the memory one step costs per pixel,
measured once per network copy and objective; the tile plan and schedule, the mask at that
size, neurons placed in pixels) is made on the first frame of each size and kept. A still, a
zoom, a video segment or a web job all dream through one. The Dreamer takes and returns
tensors: reading images is :mod:`inceptionism.io.tensors`'s.

>>> dreamer = Dreamer(DreamSettings(octaves=2, steps=2))
>>> frame = dreamer(torch.full((1, 3, 106, 160), 128, dtype=torch.uint8), seed=1)
>>> tuple(frame.pixels.shape), frame.seed, frame.losses[-1] > frame.losses[0], dreamer.settings.layers
((1, 3, 106, 160), 1, True, ('fire7',))
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from inceptionism.checks import check_generator
from inceptionism.engine.ascent import ascend
from inceptionism.engine.filters import gaussian_blur
from inceptionism.engine.inputs import check_frame, check_inputs
from inceptionism.engine.memory import activation_bytes_per_pixel, plan_tiles
from inceptionism.engine.options import CONVENTION_OPTIONS, OPTIONS, SIDE_LIMIT
from inceptionism.engine.parameterization import FourierImage
from inceptionism.engine.pixels import PIXEL_MAX, keep_chroma, resize
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.ranking import has_ranked, ranked_layers
from inceptionism.engine.runtime import autocast_dtype, memory_budget, resolve_device, resolve_precision
from inceptionism.engine.schedule import Schedule, check_size
from inceptionism.engine.settings import DreamSettings, check_start
from inceptionism.engine.visualize import visualize
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.lru import KeptCache, KeptPerObject
from inceptionism.models import cache
from inceptionism.models.imported import Convention
from inceptionism.models.network import Network
from inceptionism.models.registry import shared_model
from inceptionism.objectives import Objective, guided, parse_class_spec, split_layer_spec, total
from inceptionism.objectives.specs import parse_layer_spec

logger = logging.getLogger(__name__)

MASK_FEATHER = 0.01  # feather width as a fraction of the long side
NOISE_GREY, NOISE_SPREAD = 100.0, 16.0  # plain noise: grey with a little uniform noise (the 2015 notebook)
# Measured memory per pixel, kept with the cached inference copy it was measured on (and freed with it).
_MEASURED: KeptPerObject[float] = KeptPerObject(16)
SIZES_KEPT = 4  # frame sizes whose plan, mask and objective a Dreamer keeps (a zoom or video has one)
FOURIER_DECAY = 1.5  # lucid uses 1.0; measured: banana from noise top-1 for 20 of 20 seeds, not 16
# Fourier noise's own memory a pixel besides the network's activations (the spectrum, its
# gradient and Adam's moments, the rendered and transformed images and their gradients).
# Measured: a 1024x1024 banana from noise peaked 518 B/px above a 512x512 one, 196 of them
# the network's (the probe's estimate).
FOURIER_BYTES_PER_PIXEL = 320


def settings_network(settings: DreamSettings, *, progress: bool = False) -> Network:
    """The network ``settings`` name (model, weights, mean, labels), loaded once per process and shared.

    ``progress``: show a bar while weights are downloaded.
    """
    return shared_model(
        settings.model,
        weights=settings.weights,
        progress=progress,
        labels_file=settings.labels_file,
        convention=settings_convention(settings),
    )


def settings_convention(options: DreamSettings | Mapping[str, Any]) -> Convention:
    """The preprocessing options of ``options`` (settings, or a mapping of option values) as a :class:`Convention`."""
    get = options.get if isinstance(options, Mapping) else functools.partial(getattr, options)
    return Convention(**{name: get(name, None) for name in CONVENTION_OPTIONS})


@dataclass(frozen=True)
class TilePlan:
    """How a frame's gradient is computed: whole (``tile=None``) or in tiles, ``batch`` per pass."""

    tile: int | None
    batch: int = 1


@dataclass
class DreamFrame:
    """One dreamed frame, its tensors on the Dreamer's device.

    Attributes:
        pixels: the dream, ``(1, 3, H, W)`` float RGB in 0..255.
        source: what was dreamed from, ``(1, 3, H, W)`` RGB in 0..255 (the frame, or the noise).
        losses: objective value at every step, in order.
        seed: the seed the frame was dreamed with (``None`` if a generator was given).
        plan: how the gradient was computed.
    """

    pixels: Tensor
    source: Tensor = field(repr=False)
    losses: list[float] = field(repr=False)
    seed: int | None
    plan: TilePlan

    @property
    def detail(self) -> Tensor:
        """What the dream added, ``pixels - source``: carry it into the next frame."""
        return self.pixels - self.source.float()


class Dreamer:
    """Dream frames with fixed settings, paying the setup once.

    Args:
        settings: the options (the defaults if ``None``).
        model: a network to use instead of loading ``settings.model``.
        objective: an objective object to dream, added to the settings' layers and classes.
        guide: make the layers look like this image's features: ``(1, 3, H, W)`` RGB pixels
            in 0..255 (:func:`~inceptionism.io.tensors.guide_pixels` reads a file).
        mask: white dreams, black stays: ``(1, 1, H, W)`` in 0..1, resized to each frame
            (:func:`~inceptionism.io.tensors.mask_values` reads a file).

    Raises:
        InceptionismError: for a bad name, channel, class, tile, device or image, before
            any frame is dreamed.
    """

    def __init__(
        self,
        settings: DreamSettings | None = None,
        *,
        model: Network | None = None,
        objective: Objective | None = None,
        guide: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> None:
        settings = settings or DreamSettings()
        if not isinstance(settings, DreamSettings):
            raise InvalidParameterError(f"settings must be DreamSettings, got {type(settings).__name__}")
        self._made = {"objective": objective, "guide": guide, "mask": mask}  # to make a Dreamer of ranked channels
        self.net = model if model is not None else settings_network(settings)
        guide, mask = _checked_guide(guide), _checked_mask(mask)
        guide_size = None if guide is None else (guide.shape[-1], guide.shape[-2])
        self.settings = check_inputs(settings, self.net, objective=objective, guide=guide_size, mask=mask is not None)
        self.device = resolve_device(settings.device)
        self.precision = resolve_precision(settings.precision, self.device)
        self.memory_budget = memory_budget(
            settings.memory_budget, self.device, maximum=OPTIONS["memory_budget"].maximum
        )  # MB: as asked, else a share of the device's memory
        self._classes = [parse_class_spec(spec, self.net.labels) for spec in self.settings.classes]
        self._guide_terms = None if guide is None else self._guided(guide)
        self._custom = objective
        self._positioned = any(split_layer_spec(spec)[2] is not None for spec in self.settings.layers)
        self._objectives: KeptCache[Objective] = KeptCache(SIZES_KEPT)
        redirect = self._positioned or (objective is not None and objective.needs_whole_image)
        self.fast = cache.inference_copy(
            self.net, self.device, dtype=autocast_dtype(self.precision), redirect_relu=redirect
        )
        self._mask = None if mask is None else mask.float().to(self.device)
        self._masks: KeptCache[Tensor] = KeptCache(SIZES_KEPT)
        self._plans: KeptCache[tuple[TilePlan, Schedule]] = KeptCache(SIZES_KEPT)

    def ranked_on(self, pixels: Tensor) -> Dreamer:
        """This Dreamer, or one whose ranked channels (``fire7:strong:8``) are picked on ``pixels``.

        ``pixels`` is ``(1, 3, H, W)``, the photo dreamed (each photo of a batch is ranked on its own).
        """
        if not has_ranked(self.settings.layers):
            return self
        layers = ranked_layers(self.settings.layers, self.net, pixels)
        return Dreamer(self.settings.replace(layers=layers), model=self.net, **self._made)

    @property
    def layer_specs(self) -> list[str]:
        """The layer specs dreamed (the model's default layer if neither layers nor classes were given)."""
        return list(self.settings.layers)

    @property
    def class_specs(self) -> list[str]:
        """The class specs dreamed, each class by its label (``"954=2"`` is ``"banana=2"``)."""
        return list(self.settings.classes)

    def objective(self, size: tuple[int, int]) -> Objective:
        """The objective for a frame of ``size`` ``(width, height)`` (neurons are placed in pixels)."""
        return self._objectives.get(size if self._positioned else None, lambda: self._build(size))

    def _build(self, size: tuple[int, int]) -> Objective:
        terms = list(self._classes)
        if self._guide_terms is not None:
            terms.extend(self._guide_terms)
        elif self.settings.layers:
            loss = self.settings.loss
            terms.append(total(parse_layer_spec(spec, image_size=size, loss=loss) for spec in self.settings.layers))
        if self._custom is not None:
            terms.append(self._custom)
        built = total(terms)
        built.validate(self.net)
        return built

    def plan(self, size: tuple[int, int]) -> tuple[TilePlan, Schedule]:
        """The tile plan and engine schedule for a frame of ``size`` ``(width, height)``."""
        return self._plans.get(size, lambda: self._planned(size))

    def _planned(self, size: tuple[int, int]) -> tuple[TilePlan, Schedule]:
        width, height = size
        settings = self.settings
        tile, batch = plan_tiles(
            self._measured_bytes_per_pixel(self.objective(size)),
            height,
            width,
            budget=self.memory_budget * 2**20,
            tile=settings.tile,
            min_size=self.net.min_size,
        )
        if settings.tile is None and tile is not None:
            logger.info("tiling %dx%d into %d px tiles, %d per batch (memory budget %d MB)",
                        width, height, tile, batch, self.memory_budget)  # fmt: skip
        schedule = settings.schedule(tile=tile, tile_batch=batch)
        check_size(self.net, schedule, height, width)
        return TilePlan(tile, batch), schedule

    def __call__(
        self,
        frame: Tensor | None = None,
        *,
        detail: Tensor | None = None,
        step_map: Tensor | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        callback: ProgressCallback | None = None,
        index: int = 0,
    ) -> DreamFrame:
        """Dream one frame.

        Args:
            frame: ``(1, 3, H, W)`` RGB pixels in 0..255 (uint8 or float, any device;
                :func:`~inceptionism.io.tensors.frame_pixels` reads a file); ``None`` when the
                settings dream from noise.
            detail: ``(1, 3, H, W)`` detail dreamed before (a previous frame's
                :attr:`DreamFrame.detail`, moved or warped) added to the frame before it is
                dreamed (times the mask): the dream goes on from it. The result's ``source``
                and ``detail`` stay relative to the frame itself.
            step_map: ``(1, 1, H, W)`` >= 0, each pixel's step multiplied by it (and by the
                mask): a video dreams harder where nothing could be carried.
            seed: the seed of this frame; default: the settings' seed, else one is drawn.
            generator: a CPU generator to draw from instead of a seed.
            callback: called with a :class:`~inceptionism.engine.progress.Progress` after every
                step; returning ``True`` stops with :class:`~inceptionism.engine.progress.Cancelled`.
            index: the frame index the progress reports.

        Returns:
            The dreamed frame, on the Dreamer's device.
        """
        if generator is None:
            seed = seed if seed is not None else self.settings.seed
            if seed is None:
                seed = secrets.randbelow(2**31)
            OPTIONS["seed"].check("seed", seed)
            generator = torch.Generator().manual_seed(seed)
        else:
            check_generator(generator)
            seed = None
        mode = self.settings.mode
        if mode == "image":
            pixels = self._pixels_of(frame)
        elif frame is not None:
            check_start(self.settings, image=True)
        elif mode == "fourier":
            return self._visualize(generator, seed, callback, index)
        else:
            pixels = self._noise(generator)
        height, width = pixels.shape[-2:]
        plan, schedule = self.plan((width, height))
        mask = self._fitted_mask((width, height))
        start = pixels if detail is None else self._carried(pixels, detail, mask)
        if step_map is not None:
            step_map = _checked_step_map(step_map, pixels).to(self.device, torch.float32)
        dreamed, losses = ascend(
            self.fast,
            start,
            self.objective((width, height)),
            schedule,
            generator=generator,
            precision=self.precision,
            mask=mask,
            step_map=step_map,
            callback=callback,
            frame=index,
        )
        if self.settings.keep_colors:
            dreamed = keep_chroma(dreamed, pixels)
        return DreamFrame(pixels=dreamed, source=pixels, losses=losses, seed=seed, plan=plan)

    @staticmethod
    def _carried(pixels: Tensor, detail: Tensor, mask: Tensor | None) -> Tensor:
        """The frame with a carried detail added (where the mask lets it), as float pixels."""
        if tuple(detail.shape) != tuple(pixels.shape):
            raise InvalidParameterError(
                f"detail must have the frame's shape {tuple(pixels.shape)}, got {tuple(detail.shape)}",
                argument="detail",
            )
        detail = detail.to(pixels.device, torch.float32)
        if mask is not None:
            detail = detail * mask
        return (pixels.float() + detail).clamp_(0, PIXEL_MAX)

    # Setup, done once.

    def _guided(self, guide: Tensor) -> list[Objective]:
        """One guided term per layer: its features matched to the guide's, extracted now."""
        specs = [split_layer_spec(spec) for spec in self.settings.layers]
        names = [name for name, _, _, _ in specs]
        with torch.no_grad(), self.net.tap(names) as extract:
            features = extract(guide.float().to(next(self.net.parameters()).device))
        return [guided(name, features[name][0].flatten(1).to(self.device), weight=w) for name, _, _, w in specs]

    def _measured_bytes_per_pixel(self, objective: Objective) -> float:
        """The memory one step costs per pixel, measured once per network copy, objective and precision."""
        return _MEASURED.get(
            self.fast,
            (str(objective), self.precision),
            lambda: activation_bytes_per_pixel(self.fast, objective, device=self.device, precision=self.precision),
        )

    # Per frame size, made once and kept.

    def _fitted_mask(self, size: tuple[int, int]) -> Tensor | None:
        """The mask as ``(1, 1, H, W)`` in 0..1 at ``size``, feathered inside its white parts."""
        if self._mask is None:
            return None
        return self._masks.get(size, lambda: self._feathered(size))

    def _feathered(self, size: tuple[int, int]) -> Tensor:
        values = self._mask
        width, height = size
        if tuple(values.shape[-2:]) != (height, width):
            logger.info("resized the mask from %dx%d to %dx%d to fit the image", *values.shape[:-3:-1], *size)
            values = resize(values, (height, width))
        # Feather only inwards: black stays exactly black, white edges fade in.
        return torch.minimum(values, gaussian_blur(values, MASK_FEATHER * max(size)))

    # Per frame.

    def _pixels_of(self, frame: Tensor | None) -> Tensor:
        if frame is None:
            raise InvalidParameterError("give a frame to dream: (1, 3, H, W) RGB pixels")
        return self._at_dream_size(_checked_pixels(frame, "frame").to(self.device))

    def _noise(self, generator: torch.Generator) -> Tensor:
        width, height = self.settings.noise
        values = NOISE_GREY + NOISE_SPREAD * torch.rand(1, 3, height, width, generator=generator)
        return self._at_dream_size(values.round_().to(torch.uint8).to(self.device))  # the levels of an 8-bit image

    def _at_dream_size(self, pixels: Tensor) -> Tensor:
        """``pixels`` scaled to the last of the settings' octave sizes, if given (a dream larger than its photo)."""
        sides = self.settings.octave_sizes
        height, width = pixels.shape[-2:]
        if sides is None or max(height, width) == sides[-1]:
            return pixels
        factor = sides[-1] / max(height, width)
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        return resize(pixels.float(), size).clamp_(0, PIXEL_MAX)

    def check(self, size: tuple[int, int] | None = None) -> None:
        """Refuse now, before any step, a frame of ``size`` ``(width, height)`` that could not be dreamed.

        Too small for the network at the smallest octave, over the side limit, too many tiles,
        or Fourier noise over the memory budget. ``None``: the settings' noise size.
        """
        check_frame(self.settings, self.net, size)
        if self.settings.mode == "fourier":
            self._fourier_objective(size or self.settings.noise)

    def _fourier_objective(self, size: tuple[int, int]) -> Objective:
        """The objective for Fourier noise of ``size``, after checking that the memory budget takes it."""
        width, height = size
        objective = self.objective((width, height))
        # Fourier noise is optimised whole (it cannot be tiled): the budget bounds its size.
        needed = (self._measured_bytes_per_pixel(objective) + FOURIER_BYTES_PER_PIXEL) * width * height
        budget = self.memory_budget * 2**20
        if needed > budget:
            raise InvalidParameterError(
                f"Fourier noise of {width}x{height} needs about {needed / 2**20:.0f} MB a step, over the memory "
                f"budget of {self.memory_budget} MB; use smaller noise, param='pixel' (which tiles) "
                "or raise memory_budget",
                argument="noise",
            )
        return objective

    def _visualize(
        self, generator: torch.Generator, seed: int | None, callback: ProgressCallback | None, index: int
    ) -> DreamFrame:
        width, height = self.settings.noise
        objective = self._fourier_objective((width, height))
        image = FourierImage(height, width, generator=generator, decay_power=FOURIER_DECAY).to(self.device)
        with torch.no_grad():
            source = image().round().clamp_(0, 255)
        pixels, losses = visualize(
            self.fast,
            objective,
            image,
            steps=self.settings.steps,
            lr=self.settings.lr,
            generator=generator,
            precision=self.precision,
            callback=callback,
            frame=index,
        )
        return DreamFrame(pixels=pixels, source=source, losses=losses, seed=seed, plan=TilePlan(None))


def _checked_step_map(step_map: Tensor, pixels: Tensor) -> Tensor:
    """``step_map`` if it is ``(1, 1, H, W)`` for these pixels, finite and >= 0; else a one-line error."""
    wanted = (1, 1, *pixels.shape[-2:])
    if tuple(step_map.shape) != wanted:
        raise InvalidParameterError(
            f"step_map must have shape {wanted}, got {tuple(step_map.shape)}", argument="step_map"
        )
    if not bool(torch.isfinite(step_map).all()) or bool((step_map < 0).any()):
        raise InvalidParameterError("step_map must be finite and >= 0 everywhere", argument="step_map")
    return step_map


def _checked_pixels(pixels: Tensor, what: str) -> Tensor:
    """``pixels`` if they are ``(1, 3, H, W)`` within the side limit, else a one-line error naming ``what``."""
    if not isinstance(pixels, Tensor) or pixels.dim() != 4 or pixels.shape[:2] != (1, 3):
        shape = tuple(pixels.shape) if isinstance(pixels, Tensor) else type(pixels).__name__
        raise ImageError(f"a {what} must be a (1, 3, H, W) RGB tensor, got {shape}", argument=what)
    if max(pixels.shape[-2:]) > SIDE_LIMIT:
        raise ImageError(
            f"{what} is {pixels.shape[-1]}x{pixels.shape[-2]} px, over the {SIDE_LIMIT} px limit on a side",
            argument=what,
        )
    return pixels


def _checked_guide(guide: Tensor | None) -> Tensor | None:
    return None if guide is None else _checked_pixels(guide, "guide")


def _checked_mask(mask: Tensor | None) -> Tensor | None:
    """The mask as ``(1, 1, H, W)`` (from ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)``), else a one-line error."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor) or mask.dim() < 2 or mask.numel() != mask.shape[-1] * mask.shape[-2]:
        shape = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
        raise ImageError(f"a mask must be a (1, 1, H, W) tensor in 0..1, got {shape}", argument="mask")
    return mask.reshape(1, 1, *mask.shape[-2:])
