"""Dream a still image: the Python API behind ``inceptionism dream``.

A thin user of the engine: settings, a :class:`~inceptionism.engine.dreamer.Dreamer`, one
frame, and the result as a PIL image with every parameter recorded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from torch import nn

from inceptionism._version import __version__
from inceptionism.engine.dreamer import Dreamer, DreamFrame
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.ranking import has_ranked, ranked_layers
from inceptionism.engine.settings import DreamSettings, check_names, check_start
from inceptionism.io.files import InputFiles
from inceptionism.io.images import ImageInput, LoadedImage, sample_path, to_image
from inceptionism.io.tensors import frame_pixels, guide_pixels, mask_values
from inceptionism.models.imported import model_checksum, model_file, module_name
from inceptionism.models.network import Network
from inceptionism.models.registry import CAFFE_PREFIX
from inceptionism.objectives import Objective, total
from inceptionism.render.show import image_html, png_bytes


@dataclass
class DreamResult:
    """What :func:`dream` returns.

    Attributes:
        image: the dreamed RGB image.
        params: every parameter used (JSON-safe): the settings' :meth:`~DreamSettings.to_dict`,
            the seed drawn if none was given, and what the run recorded beside them
            (``version``, ``input``, ``size``, ``guide``, ``mask``, and ``run``: the device,
            precision and tile plan it ran with).
        losses: objective value at every step, in order.
        source: the input as it was dreamed (after conversion and scaling), or the starting noise.
        settings: the settings dreamed with, the seed filled in: ``dream(image, settings=...)``
            dreams the same again.
    """

    image: Image.Image
    params: dict[str, Any]
    losses: list[float] = field(repr=False)
    source: LoadedImage = field(repr=False)
    settings: DreamSettings = field(repr=False)

    def _repr_png_(self) -> bytes:
        """The image, for Jupyter."""
        return png_bytes(self.image)

    def _repr_html_(self) -> str:
        """The image and its key settings, for Jupyter."""
        return image_html(self.image, self.params)


def dream(
    image: ImageInput | None = None,
    *,
    settings: DreamSettings | None = None,
    model: str | nn.Module | None = None,
    layers: Sequence[str | Objective] | str | Objective | None = None,
    guide: ImageInput | None = None,
    mask: ImageInput | None = None,
    callback: ProgressCallback | None = None,
    **options: Any,
) -> DreamResult:
    """DeepDream ``image``: make the chosen layers or classes fire harder by changing its pixels.

    Every option of :class:`~inceptionism.engine.settings.DreamSettings` is a keyword here
    (``preset``, ``octaves``, ``steps``, ``classes``, ``noise``, ``seed``...; ``inceptionism
    dream --help`` lists them with their defaults and bounds). Options left out or ``None``
    take the preset's value, else the default. To dream again with a result's parameters:
    ``dream(image, settings=DreamSettings.from_dict(result.params))``.

    Args:
        image: a path, PIL image or array; ``None`` dreams the bundled sample photo (or
            noise, when the settings say so).
        settings: settings to start from; ``options`` given override them.
        model: a registry name (see :func:`~inceptionism.models.list_models`), a file of a network
            (trained ``NAME.pt``, TorchScript, ``NET.onnx``), ``PATH.py:FUNCTION``, or a module itself:
            a :class:`~inceptionism.models.Network` or any ``nn.Module`` taking ``(B, 3, H, W)``
            images, its layers named by module path (``features.7``).
        layers: layer specs like ``"fire7:3,12=2"`` or ``"fire7:12@100,80"`` (a neuron at a
            pixel), or objectives; summed. Without layers or classes: the model's default layer.
        guide: make the chosen layers look like this image's features instead of stronger.
        mask: white dreams, black stays, grey in between (any image, resized to fit).
        callback: called with a :class:`~inceptionism.engine.progress.Progress` after every
            step; returning ``True`` stops the dream with
            :class:`~inceptionism.engine.progress.Cancelled`.
        **options: any other setting; an unknown name is refused with a suggestion.

    Returns:
        The image, the parameters used and the objective per step.

    >>> result = dream(octaves=2, steps=2, seed=1, max_size=160)
    >>> result.image.size, result.params["layers"], result.params["seed"]
    ((160, 106), ['fire7'], 1)
    """
    check_names(options, "dream()")
    specs, objects = split_layers(layers)
    settings, net = compose_settings(settings, model, {**options, "layers": specs or None})
    objective = total(objects) if objects else None
    dreamer = Dreamer(
        settings,
        model=net,
        objective=objective,
        guide=guide_pixels(guide),
        mask=mask_values(mask, max_size=settings.max_size),
    )
    return dream_with(dreamer, image, callback=callback, guide=guide, mask=mask, objective=objective)


def dream_with(
    dreamer: Dreamer,
    image: ImageInput | None = None,
    *,
    callback: ProgressCallback | None = None,
    guide: ImageInput | None = None,
    mask: ImageInput | None = None,
    objective: Objective | None = None,
) -> DreamResult:
    """Dream ``image`` with a prepared ``dreamer``: :func:`dream` after its settings are composed.

    Args:
        dreamer: the Dreamer, made with ``guide``, ``mask`` and ``objective`` if any.
        image: the input (``None``: the sample photo, or noise when the settings say so).
        callback: called after every step.
        guide: the guide the Dreamer was made with, or its file name: recorded.
        mask: likewise.
        objective: the objective object the Dreamer was made with, if any: recorded.
    """
    settings = dreamer.settings
    check_start(settings, image=image is not None)
    if settings.mode == "image":
        pixels, source = frame_pixels(sample_path() if image is None else image, max_size=settings.max_size)
        dreamer = dreamer.ranked_on(pixels)  # fire7:strong:8 picks its channels on this photo
        settings = dreamer.settings
        frame = dreamer(pixels, callback=callback)
    else:
        frame = dreamer(callback=callback)
        source = LoadedImage(image=to_image(frame.source), name=None, original_size=settings.noise)
    used = settings.replace(seed=frame.seed)
    result = to_image(frame.pixels)
    return DreamResult(
        image=result,
        params=_record(used, frame, source, dreamer, guide=guide, mask=mask, objective=objective),
        losses=frame.losses,
        source=source,
        settings=used,
    )


def compose_settings(
    settings: DreamSettings | None, model: str | nn.Module | None, options: dict[str, Any]
) -> tuple[DreamSettings, Network | None]:
    """``settings`` (or the defaults) with ``options`` over them, and the network if ``model`` is one.

    A network given as the model names itself and its weights in the settings.
    """
    net = model if isinstance(model, Network) else None
    if isinstance(model, nn.Module) and net is None:
        model = module_name(model)  # your own module: a name for it in this process
    given = {**options, "model": model}
    if net is not None:
        given.update(model=net.name, weights=net.weights)
    return (DreamSettings.create(**given) if settings is None else settings.updated(**given)), net


def ranked_settings(settings: DreamSettings, net: Network, image: ImageInput | None) -> DreamSettings:
    """``settings`` whose ``strong:N`` / ``weak:N`` layer specs name the channels they pick on ``image``.

    The image is scaled as it is dreamed; a zoom ranks on its input, a video on its first frame,
    once, before any frame is dreamed.
    """
    if image is None or not has_ranked(settings.layers):  # noise: nothing to rank on (and refused later)
        return settings
    pixels, _ = frame_pixels(image, max_size=settings.max_size)
    return settings.replace(layers=ranked_layers(settings.layers, net, pixels))


def input_files(settings: DreamSettings, named: InputFiles) -> dict[str, object]:
    """``named`` and the files the network of ``settings`` is read from: what no output may replace.

    Args:
        settings: the render's settings (their model, weights and labels file).
        named: the render's own inputs by what they are (``{"input video": path, "guide": None}``).

    >>> input_files(DreamSettings.create(weights="net.pt"), {"input image": "photo.jpg"})
    {'input image': 'photo.jpg', 'weights file': 'net.pt'}
    """
    return {**named, **network_files(settings.model, settings.weights, settings.labels_file)}


def network_files(model: str, weights: str | None, labels_file: str | None = None) -> dict[str, object]:
    """The files a network is read from, by what they are: a weights file, a labels file, a Caffe prototxt.

    >>> network_files("caffe:deploy.prototxt", "net.caffemodel")
    {'weights file': 'net.caffemodel', 'Caffe network file': 'deploy.prototxt'}
    """
    files: dict[str, object] = {}
    if weights not in (None, "default", "random"):
        files["weights file"] = weights
    if labels_file is not None:
        files["labels file"] = labels_file
    if model.startswith(CAFFE_PREFIX):
        files["Caffe network file"] = model.removeprefix(CAFFE_PREFIX)
    if (path := model_file(model)) is not None:
        files["model file"] = path
    return files


def split_layers(
    layers: Sequence[str | Objective] | str | Objective | None,
) -> tuple[list[str], list[Objective]]:
    """Layer specs (settings, recorded) apart from objective objects (Python only)."""
    items = [layers] if isinstance(layers, (str, Objective)) else list(layers or [])
    return [i for i in items if not isinstance(i, Objective)], [i for i in items if isinstance(i, Objective)]


def _record(
    settings: DreamSettings,
    frame: DreamFrame,
    source: LoadedImage,
    dreamer: Dreamer,
    *,
    guide: ImageInput | None,
    mask: ImageInput | None,
    objective: Objective | None,
) -> dict[str, Any]:
    """The settings, and what the run records beside them (information, not options)."""
    height, width = frame.pixels.shape[-2:]
    extra = {
        "version": __version__,
        "input": os.path.basename(source.name) if source.name and settings.noise is None else None,
        "size": [width, height],
        "guide": name_of(guide),
        "mask": name_of(mask),
        "objective": None if objective is None else str(objective),
        "model_sha256": model_checksum(settings.model),
        "run": {
            "device": dreamer.device.type,
            "precision": dreamer.precision,
            "tile": frame.plan.tile,
            "tile_batch": frame.plan.batch,
        },
    }
    return {**settings.to_dict(), **{key: value for key, value in extra.items() if value is not None}}


def name_of(value: ImageInput | None) -> str | None:
    """How a guide or mask is recorded: its file name, ``(in memory)`` for an image object, or ``None``."""
    if value is None:
        return None
    return os.path.basename(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else "(in memory)"
