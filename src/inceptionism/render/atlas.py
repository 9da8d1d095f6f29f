"""The neuron atlas: for every channel of a layer, the image that excites it most.

Each tile starts from Fourier noise (decorrelated colour) and is optimised with
transformation robustness to maximise one channel's mean activation. Channels are drawn as
a batch, one image per channel, so a sheet of 64 is a few forward passes per step, not 64
runs; a tile depends only on its channel and the settings (its own starting noise, the
transforms drawn from the seed), so it is the same in any batch and is kept in the tile
cache for the next sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from inceptionism.distributed import CLUSTER_OPTIONS, ClusterArg, open_executor
from inceptionism.engine.dreamer import FOURIER_DECAY
from inceptionism.engine.options import SEED_LIMIT, Option, seed_plus
from inceptionism.engine.parameterization import FourierImage
from inceptionism.engine.progress import Cancelled, Progress
from inceptionism.engine.ranking import channel_means, rank
from inceptionism.engine.runtime import autocast_dtype, resolve_device, resolve_precision, torch_threads
from inceptionism.engine.visualize import visualize
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.io.files import check_not_input
from inceptionism.io.images import (
    ImageInput,
    decode_image,
    encode_image,
    load_image,
    save_image,
    to_image,
    to_tensor,
)
from inceptionism.models import cache, shared_model
from inceptionism.models.imported import Convention, network_convention
from inceptionism.models.network import CLASSES, LOGITS, Network
from inceptionism.models.registry import network_of
from inceptionism.objectives import channel_each, parse_channels
from inceptionism.render.sheet import contact_sheet
from inceptionism.render.show import png_bytes
from inceptionism.render.still import network_files
from inceptionism.render.tilecache import TileCache, tile_name

# Measured on squeezenet1_1, 16 channels of 128 px tiles: with 128 steps 15 of fire5's and 16 of
# fire7's channels respond more to their own tile than to any other of the sheet (11 s a sheet).
STEPS = 128
ATLAS_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("size", 128, "Side of each tile.", minimum=32, maximum=512, unit="px", kind=int),
        Option("steps", STEPS, "Optimisation steps per tile.", minimum=1, maximum=4096, kind=int),
        Option("batch", 8, "Channels optimised together in one batch.", minimum=1, maximum=64, kind=int),
        Option("lr", 0.05, "Learning rate of the Fourier coefficients.", minimum=0.0, maximum=10.0, open_below=True,
               kind=float),
        Option("seed", 0, "Seed of the starting noise and the transforms.", minimum=0, maximum=SEED_LIMIT, kind=int),
        Option("top", 16, "With a photo: how many of its strongest channels to draw.", minimum=1, maximum=1024,
               kind=int),
    )
}  # fmt: skip
"""The atlas's options."""
CHANNELS_LIMIT = 4096
TILE_SEEDS = 1_000_003  # a prime: channel c of seed s starts from the noise of seed s * TILE_SEEDS + c


@dataclass(frozen=True)
class AtlasProgress:
    """Reported after every step: ``done`` of ``total`` channels finished, ``step`` of ``steps`` in the batch."""

    done: int
    total: int
    step: int
    steps: int

    @property
    def fraction(self) -> float:
        """0..1 over the whole atlas."""
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


AtlasCallback = Callable[[AtlasProgress], "bool | None"]
"""Called after every step; returning ``True`` stops the atlas (``Cancelled``); finished tiles stay cached."""


@dataclass(frozen=True)
class AtlasTile:
    """One channel's image and the channel's mean activation on it."""

    channel: int
    image: Image.Image = field(repr=False)
    activation: float


@dataclass
class AtlasResult:
    """What :func:`atlas` returns.

    Attributes:
        model: the network's name.
        layer: the layer drawn.
        tiles: one per channel, in the order asked (for a photo: strongest first).
        params: the settings, for the record.
        rendered: how many tiles were optimised in this call (the others came from the cache).
        ranking: with a photo, ``(channel, mean activation on the photo)`` for every channel
            considered, strongest first.
        reads: the files the atlas read (the photo, a weights file), by what they are: no tile replaces one.
        labels: for a layer of class scores (``logits``, ``classes``), the class names by channel.
    """

    model: str
    layer: str
    tiles: list[AtlasTile]
    params: dict[str, Any]
    rendered: int
    ranking: list[tuple[int, float]] | None = None
    reads: dict[str, object] = field(default_factory=dict, repr=False)
    labels: tuple[str, ...] = ()

    def sheet(self, columns: int | None = None) -> Image.Image:
        """The tiles as a labelled contact sheet (``layer:channel``, or a class's name, under each)."""
        names = [self.labels[t.channel] if self.labels else f"{self.layer}:{t.channel}" for t in self.tiles]
        return contact_sheet([t.image for t in self.tiles], names, columns=columns)

    def _repr_png_(self) -> bytes:
        """The contact sheet, for Jupyter."""
        return png_bytes(self.sheet())

    def save_tiles(self, directory: str | Path) -> list[Path]:
        """Write every tile as ``directory/{layer}_c{channel}.png`` (the folder is made if missing)."""
        directory = Path(directory)
        for tile in self.tiles:
            check_not_input(directory / tile_name(self.layer, tile.channel), self.reads, argument="save_tiles")
        directory.mkdir(parents=True, exist_ok=True)
        return [
            save_image(
                tile.image,
                directory / tile_name(self.layer, tile.channel),
                metadata={**self.params, "channel": tile.channel, "activation": tile.activation},
            )
            for tile in self.tiles
        ]


def check_channels(channels: Sequence[int], count: int, where: str) -> list[int]:
    """``channels`` without repeats, each checked to be a channel of ``where`` (which has ``count``)."""
    unique = list(dict.fromkeys(channels))
    if not unique:
        raise InvalidParameterError(f"give at least one channel of {where}", argument="channels")
    for channel in unique:
        if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < count:
            raise InvalidParameterError(
                f"channel {channel!r} does not exist in {where}: it has channels 0..{count - 1}", argument="channels"
            )
    if len(unique) > CHANNELS_LIMIT:
        raise InvalidParameterError(
            f"at most {CHANNELS_LIMIT} channels at once, got {len(unique)}", argument="channels"
        )
    return unique


@dataclass(frozen=True)
class AtlasPlan:
    """An atlas checked and ready to draw: what :func:`plan_atlas` returns.

    Attributes:
        net: the network.
        layer: the layer.
        channels: the channels, checked, without repeats.
        values: every option of :data:`ATLAS_OPTIONS`, checked.
        device: where it runs.
        precision: the precision it runs at.
        drawn: what a tile depends on beside the network and layer (the cache's key).
        store: the tile cache for these.
    """

    net: Network
    layer: str
    channels: list[int]
    values: dict[str, Any]
    device: torch.device
    precision: str
    drawn: dict[str, Any]
    store: TileCache

    def cached(self) -> dict[int, float]:
        """The channels whose tiles are in the cache already, with their activations."""
        found = {channel: self.store.get(channel) for channel in self.channels}
        return {channel: tile[1] for channel, tile in found.items() if tile is not None}


def plan_atlas(
    model: str | Network = "squeezenet1_1",
    layer: str | None = None,
    channels: Sequence[int] | str | None = None,
    *,
    device: str = "auto",
    precision: str = "auto",
    cache_dir: str | Path | None = None,
    **options: Any,
) -> AtlasPlan:
    """Check an atlas's arguments (see :func:`atlas`) without drawing anything.

    Raises:
        InceptionismError: an unknown layer or option, a channel out of range, a tile size
            too small for the network.
    """
    for name in options:
        if name not in ATLAS_OPTIONS:
            raise InvalidParameterError(f"atlas() got an unknown option {name!r}; it takes {', '.join(ATLAS_OPTIONS)}")
    values = {name: option.check(name, options.get(name, option.default)) for name, option in ATLAS_OPTIONS.items()}
    net = network_of(model)
    layer = layer or net.default_layer
    net.check_layers([layer])
    count = net.layer_channels[layer]
    where = f"{layer} of {net.name}"
    if channels is None:
        chosen = list(range(min(count, CHANNELS_LIMIT)))
    elif isinstance(channels, str):
        chosen = check_channels(parse_channels(channels), count, where)
    else:
        chosen = check_channels(list(channels), count, where)
    smallest = max(32, 2 * net.min_size)
    if values["size"] < smallest:
        raise ImageError(
            f"size {values['size']} is too small for {net.name}: tiles need at least {smallest} px", argument="size"
        )
    run_device = resolve_device(device)
    run_precision = resolve_precision(precision, run_device)
    drawn = {
        "size": values["size"],
        "steps": values["steps"],
        "lr": values["lr"],
        "seed": values["seed"],
        "decay": FOURIER_DECAY,
        "precision": run_precision,
        "device": run_device.type,
    }
    store = TileCache(net, layer, drawn, root=None if cache_dir is None else Path(cache_dir))
    return AtlasPlan(net, layer, chosen, values, run_device, run_precision, drawn, store)


def atlas(
    model: str | Network = "squeezenet1_1",
    layer: str | None = None,
    channels: Sequence[int] | str | None = None,
    *,
    photo: ImageInput | None = None,
    device: str = "auto",
    precision: str = "auto",
    cache_tiles: bool = True,
    cache_dir: str | Path | None = None,
    progress: AtlasCallback | None = None,
    cluster: ClusterArg = None,
    threads: int | None = None,
    **options: Any,
) -> AtlasResult:
    """Draw the image each channel of ``layer`` likes best.

    Args:
        model: a registry name or a network.
        layer: the layer (default: the network's default layer).
        channels: which channels (``[3, 12]`` or ``"0-63"``; default: all of them).
        photo: rank the channels by their mean activation on this image and draw the
            ``top`` strongest (among ``channels``), strongest first.
        device: ``auto``, ``cpu``, ``cuda``...
        precision: ``auto``, ``fp32``, ``bf16``, ``fp16`` (of the network's forward).
        cache_tiles: reuse and keep tiles in the tile cache (``False``: draw every tile).
        cache_dir: the tile cache's folder (default: the user's cache directory).
        progress: called after every step with an :class:`AtlasProgress` (on a cluster,
            after every batch of channels).
        cluster: ``None`` (here), ``"local:N"``, a scheduler address or a Dask ``Client``:
            each batch of channels is a task there (the network is named by its registry
            name and weights).
        threads: torch threads per batch (see :func:`~inceptionism.distributed.open_executor`).
        **options: ``size``, ``steps``, ``batch``, ``lr``, ``seed``, ``top`` (see :data:`ATLAS_OPTIONS`).

    >>> result = atlas("squeezenet1_1", "fire2.squeeze1x1", [0, 1], size=48, steps=2, cache_tiles=False)
    >>> [tile.channel for tile in result.tiles], result.tiles[0].image.size, result.rendered
    ([0, 1], (48, 48), 2)
    """
    threads = CLUSTER_OPTIONS["threads"].check("threads", threads)
    plan = plan_atlas(model, layer, channels, device=device, precision=precision, cache_dir=cache_dir, **options)
    net, layer, chosen, values, store = plan.net, plan.layer, plan.channels, plan.values, plan.store
    run_precision, drawn = plan.precision, plan.drawn
    ranking = None
    if photo is not None:
        ranking = rank_channels(net, layer, photo, chosen)
        chosen = [channel for channel, _ in ranking[: values["top"]]]
    found = {channel: store.get(channel) for channel in chosen} if cache_tiles else {}
    missing = [channel for channel in chosen if found.get(channel) is None]
    groups = [missing[start : start + values["batch"]] for start in range(0, len(missing), values["batch"])]
    done = len(chosen) - len(missing)
    if cluster is None:
        fast = cache.inference_copy(net, plan.device, dtype=autocast_dtype(run_precision))
        with torch_threads(threads):
            for group in groups:

                def step(reported: Progress, done: int = done) -> bool:
                    return _report(progress, done, len(chosen), reported, values)

                drawn_tiles = _draw(fast, net, layer, group, values, run_precision, step)
                done = _keep(group, drawn_tiles, found, store if cache_tiles else None, done)
    else:
        # The device and precision asked for, resolved on each worker (a CPU client may have GPU workers).
        convention = network_convention(net)
        tasks = ((net.name, net.weights, layer, group, values, precision, device, convention) for group in groups)
        with open_executor(cluster, threads=threads) as executor:
            for position, encoded in executor.run(draw_tiles, tasks):
                drawn_tiles = [
                    (decode_image(data, f"tile {c}"), value)
                    for c, (data, value) in zip(groups[position], encoded, strict=True)
                ]
                done = _keep(groups[position], drawn_tiles, found, store if cache_tiles else None, done)
                finished = AtlasProgress(done, len(chosen), values["steps"], values["steps"])
                if progress is not None and progress(finished) is True:
                    raise Cancelled("the atlas was stopped; the tiles drawn are kept in the cache")
    tiles = [AtlasTile(channel, *found[channel]) for channel in chosen]  # type: ignore[misc]
    params = {"model": net.name, "layer": layer, **drawn, "channels": chosen}
    reads = {"photo": photo, **network_files(net.name, net.weights)}
    return AtlasResult(net.name, layer, tiles, params, rendered=len(missing), ranking=ranking, reads=reads,
                       labels=net.labels if layer in (LOGITS, CLASSES) else ())  # fmt: skip


def _keep(
    group: list[int],
    drawn_tiles: list[tuple[Image.Image, float]],
    found: dict[int, Any],
    store: TileCache | None,
    done: int,
) -> int:
    """Put one batch's tiles in ``found`` (and the cache); how many channels are done after it."""
    for channel, tile in zip(group, drawn_tiles, strict=True):
        found[channel] = tile
        if store is not None:
            store.put(channel, *tile)
    return done + len(group)


def draw_tiles(
    model: str,
    weights: str,
    layer: str,
    group: list[int],
    values: dict[str, Any],
    precision: str,
    device: str,
    convention: Convention | None = None,
) -> list[tuple[bytes, float]]:
    """The task of one batch of channels, run on a worker: each tile as PNG bytes with its activation.

    ``device`` and ``precision`` as asked (``auto``...), resolved on the worker; ``convention``:
    how an imported network takes its pixels.
    """
    net = shared_model(model, weights=None if weights == "random" else weights, convention=convention)
    run_device = resolve_device(device)
    run_precision = resolve_precision(precision, run_device)
    fast = cache.inference_copy(net, run_device, dtype=autocast_dtype(run_precision))
    drawn_tiles = _draw(fast, net, layer, group, values, run_precision, lambda _: False)
    return [(encode_image(image, "PNG"), activation) for image, activation in drawn_tiles]


def _report(progress: AtlasCallback | None, done: int, total: int, step: Progress, values: dict[str, Any]) -> bool:
    if progress is None:
        return False
    return progress(AtlasProgress(done, total, step.step, values["steps"])) is True


def _draw(
    fast: Network,
    net: Network,
    layer: str,
    group: list[int],
    values: dict[str, Any],
    precision: str,
    step: Callable[[Progress], bool],
) -> list[tuple[Image.Image, float]]:
    """Optimise one batch: an image per channel of ``group``; each image and its channel's activation."""
    size, seed = values["size"], values["seed"]
    image = FourierImage(
        size, size, generator=torch.Generator().manual_seed(seed), batch=len(group), decay_power=FOURIER_DECAY
    )
    with torch.no_grad():
        for item, channel in enumerate(group):  # each tile's own noise: the same in any batch
            own = torch.Generator().manual_seed(seed_plus(seed * TILE_SEEDS, channel))
            image.spectrum[item] = FourierImage(size, size, generator=own, decay_power=FOURIER_DECAY).spectrum[0]
    image = image.to(next(fast.parameters()).device)
    pixels, _ = visualize(
        fast,
        channel_each(CLASSES if layer == LOGITS else layer, group),  # a class's score before any ReLU: it can rise
        image,
        steps=values["steps"],
        lr=values["lr"],
        generator=torch.Generator().manual_seed(seed),
        precision=precision,
        callback=step,
    )
    pixels = pixels.round().clamp(0, 255)
    activations = channel_means(net, layer, pixels.cpu())
    return [
        (to_image(pixels[item : item + 1]), float(activations[item, channel])) for item, channel in enumerate(group)
    ]


def rank_channels(net: Network, layer: str, photo: ImageInput, channels: Sequence[int]) -> list[tuple[int, float]]:
    """``channels`` by their mean activation on ``photo``, strongest first.

    As a layer spec's ``strong:N`` ranks them (see :func:`~inceptionism.engine.ranking.rank`).
    """
    return rank(net, layer, to_tensor(load_image(photo).image), channels)
