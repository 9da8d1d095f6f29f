"""The model registry: which networks exist, how to build them and where their weights come from."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from inceptionism.errors import WeightsError, unknown_name
from inceptionism.io.files import file_sha256
from inceptionism.models import googlenet, squeezenet
from inceptionism.models.cache import shared_network
from inceptionism.models.imagenet import imagenet_classes
from inceptionism.models.network import Network, Preprocessing
from inceptionism.models.weights import (
    NDF_SQUEEZENET_SHA256,
    download_state_dict,
    load_ndf_pickle,
    load_state_dict_file,
    ndf_squeezenet_path,
)

WeightsArg = str | os.PathLike | None
"""``"default"`` for the published weights, ``None`` for random initialisation, or a file path."""


@dataclass(frozen=True)
class ModelEntry:
    """Everything the registry knows about one network.

    Attributes:
        name: registry name.
        description: one line for ``inceptionism models``.
        build: makes the randomly initialised torch module.
        layers: tap-able layer names in forward order.
        default_layer: the layer dreamed when none is given.
        class_layer: the layer holding class scores before any ReLU (see :class:`Network`).
        preprocessing: how RGB 0..255 pixels become its input.
        min_size: smallest height and width the whole network accepts.
        input_size: side length it was trained at.
        weights_source: where the default weights come from, for people.
        load_weights: returns the default state dict; its argument asks for a progress bar.
    """

    name: str
    description: str
    build: Callable[[], nn.Module]
    layers: tuple[str, ...]
    default_layer: str
    class_layer: str
    preprocessing: Preprocessing
    min_size: int
    input_size: int
    weights_source: str
    load_weights: Callable[[bool], dict[str, Tensor]]


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(entry: ModelEntry) -> ModelEntry:
    """Add ``entry`` to the registry under ``entry.name`` and return it."""
    if entry.name in _REGISTRY:
        raise ValueError(f"model {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def list_models() -> list[str]:
    """Names of the registered networks, the embedded default first.

    >>> list_models()
    ['squeezenet1_1', 'googlenet']
    """
    return list(_REGISTRY)


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; unknown names fail with the closest ones suggested."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise unknown_name("model", name, _REGISTRY, "inceptionism models", argument="model") from None


def get_model(name: str, *, weights: WeightsArg = "default", progress: bool = False) -> Network:
    """A registered network in eval mode with its parameters frozen, yours to change.

    The network is built and its weights read once per process (see
    :mod:`inceptionism.models.cache`); every call returns a copy of it.

    Args:
        name: a name from :func:`list_models`.
        weights: ``"default"`` for the published ImageNet weights, ``None`` or ``"random"``
            for random initialisation, or the path of a state dict saved with ``torch.save``.
        progress: show a download progress bar on stderr if weights must be fetched.

    Returns:
        The network on the CPU.

    >>> net = get_model("squeezenet1_1")
    >>> net.labels[281], net.min_size
    ('tabby', 17)
    """
    return copy.deepcopy(shared_model(name, weights=weights, progress=progress))


def shared_model(name: str, *, weights: WeightsArg = "default", progress: bool = False) -> Network:
    """Like :func:`get_model`, but the process-wide instance itself: to run, never to change."""
    entry = get_model_entry(name)
    if weights is None or (isinstance(weights, str) and weights in ("default", "random")):
        key: tuple[str, ...] = (name, weights or "random")
    else:
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise WeightsError(f"weights file not found: {path}", argument="weights")
        key = (name, "file", file_sha256(path))
    return shared_network(key, lambda: _load(entry, weights, progress))


def _load(entry: ModelEntry, weights: WeightsArg, progress: bool) -> Network:
    body = entry.build()
    if weights is None or weights == "random":
        description = "random"
    elif isinstance(weights, str) and weights == "default":
        _load_into(body, entry.load_weights(progress), entry.name, entry.weights_source)
        description = "default"
    else:
        _load_into(body, load_state_dict_file(weights), entry.name, os.fspath(weights))
        description = os.fspath(weights)
    net = Network(
        body,
        name=entry.name,
        preprocessing=entry.preprocessing,
        layers=entry.layers,
        labels=imagenet_classes(),
        min_size=entry.min_size,
        input_size=entry.input_size,
        weights=description,
        default_layer=entry.default_layer,
        class_layer=entry.class_layer,
    )
    return net.eval().requires_grad_(False)


def _load_into(body: nn.Module, state: dict[str, Tensor], model: str, source: str) -> None:
    expected = body.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        detail = []
        if missing:
            detail.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
        if unexpected:
            detail.append(f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})")
        raise WeightsError(f"{source} does not fit {model}: {'; '.join(detail)} parameter names", argument="weights")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise WeightsError(
                f"{source} does not fit {model}: {key} has shape {tuple(value.shape)}, "
                f"expected {tuple(expected[key].shape)}",
                argument="weights",
            )
    body.load_state_dict(state)


@functools.cache
def _squeezenet_state() -> dict[str, Tensor]:
    path = ndf_squeezenet_path()
    return squeezenet.from_ndf(load_ndf_pickle(path, NDF_SQUEEZENET_SHA256))


def _squeezenet_weights(progress: bool) -> dict[str, Tensor]:
    del progress  # embedded: nothing to download
    return _squeezenet_state()


def _googlenet_weights(progress: bool) -> dict[str, Tensor]:
    return download_state_dict(googlenet.WEIGHTS_URL, model="googlenet", progress=progress)


register_model(
    ModelEntry(
        name="squeezenet1_1",
        description="SqueezeNet 1.1, Caffe ImageNet weights embedded (ndf 0.1.4); small and fast",
        build=squeezenet.SqueezeNet11,
        layers=squeezenet.LAYERS,
        default_layer="fire7",
        class_layer="conv10",  # its spatial class map; the logits are its ReLU'd mean
        preprocessing=Preprocessing("BGR", 1.0, (104.006, 116.669, 122.679)),
        min_size=17,
        input_size=227,
        weights_source="embedded: ndf 0.1.4 squeezenet_weights.pkl (sha256 f286bbf4...)",
        load_weights=_squeezenet_weights,
    )
)

register_model(
    ModelEntry(
        name="googlenet",
        description="GoogLeNet / Inception v1, the network of the original DeepDream; "
        "torchvision ImageNet weights, downloaded on first use",
        build=googlenet.GoogLeNet,
        layers=googlenet.LAYERS,
        default_layer="inception4c",
        class_layer="logits",
        preprocessing=Preprocessing("RGB", 1 / 255, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        min_size=15,
        input_size=224,
        weights_source=googlenet.WEIGHTS_URL,
        load_weights=_googlenet_weights,
    )
)
