"""The model registry: which networks exist, and the networks themselves.

Each model module registers its own networks when it is imported (``squeezenet``,
``googlenet``, ``caffe.bvlc``), with the weights they are published with (see
:mod:`inceptionism.models.weights`). A model can also be registered at run time, from a file
of weights for instance::

    register_model(dataclasses.replace(get_model_entry("googlenet"), name="mine",
                   weights=WeightsFile.of("mine.pth", preprocessing=...)))

Besides the registered names, ``"caffe:PATH/deploy.prototxt"`` names any Caffe network
built from its prototxt (see :mod:`inceptionism.models.caffe.model`), with its ``.caffemodel``
given as the weights.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from torch import nn

from inceptionism.errors import InvalidParameterError, WeightsError, unknown_name
from inceptionism.io.files import file_sha256
from inceptionism.models.cache import shared_network
from inceptionism.models.caffe.model import (
    CAFFE_MEAN,
    CAFFE_PREFIX,
    PROTOTXT_BYTES,
    caffe_network,
    checked_mean,
    prototxt_path,
)
from inceptionism.models.imported import (
    IMPORTED,
    Convention,
    imported_network,
    model_checksum,
    model_kind,
    module_name,
)
from inceptionism.models.labels import read_labels
from inceptionism.models.network import Network, Preprocessing
from inceptionism.models.trained import trained_entry
from inceptionism.models.weights import StateDict, Weights, WeightsArg, load_chosen, load_weights_file

__all__ = [
    "CAFFE_MEAN",
    "CAFFE_PREFIX",
    "PROTOTXT_BYTES",
    "ModelEntry",
    "ModelWeights",
    "StateDict",
    "WeightsArg",
    "get_model",
    "get_model_entry",
    "list_models",
    "load_weights_file",
    "network_of",
    "register_model",
    "shared_model",
]


@dataclass(frozen=True, eq=False)
class ModelEntry:
    """Everything the registry knows about one network.

    Entries compare by identity: a model registered again is another model, whose network is
    built anew.

    Attributes:
        name: registry name.
        description: one line for ``inceptionism models``.
        build: makes the randomly initialised torch module.
        layers: tap-able layer names in forward order.
        default_layer: the layer dreamed when none is given.
        class_layer: the layer holding class scores before any ReLU (see :class:`Network`).
        min_size: smallest height and width the whole network accepts.
        input_size: side length it was trained at.
        weights: its default weights, with their preprocessing and class names (a random
            network takes the same preprocessing and names).
        aliases: simpler names of layers (see :class:`Network`).
        optional_keys: prefixes of state-dict keys a weights file may lack (parts never
            run when dreaming, such as auxiliary classifiers); they keep their initial values.
    """

    name: str
    description: str
    build: Callable[[], nn.Module]
    layers: tuple[str, ...]
    default_layer: str
    class_layer: str
    min_size: int
    input_size: int
    weights: Weights
    aliases: Mapping[str, str] = field(default_factory=dict)
    optional_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelWeights:
    """Where a registered model's weights come from and whether they are here.

    Attributes:
        name: registry name.
        source: where the default weights come from.
        status: ``"embedded"`` (inside an installed package), ``"cached"`` (downloaded
            before), ``"file"`` (a file of yours, for a model registered from it) or
            ``"missing"`` (downloaded on first use, or given with ``weights=FILE``).
    """

    name: str
    source: str
    status: str


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(entry: ModelEntry, *, replace: bool = False) -> ModelEntry:
    """Add ``entry`` to the registry under ``entry.name`` and return it.

    Args:
        entry: the model.
        replace: take the place of a model of the same name (a file registered again);
            otherwise a name can be registered once.
    """
    if entry.name.startswith(CAFFE_PREFIX):
        raise ValueError(f"model names starting {CAFFE_PREFIX!r} name prototxt files; {entry.name!r} cannot be one")
    if entry.name in _REGISTRY and not replace:
        raise ValueError(f"model {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


@overload
def list_models(*, weights: Literal[False] = False) -> list[str]: ...
@overload
def list_models(*, weights: Literal[True]) -> list[ModelWeights]: ...
def list_models(*, weights: bool = False) -> list[str] | list[ModelWeights]:
    """Names of the registered networks, the embedded default first.

    Any Caffe network is usable besides them as ``"caffe:PATH/deploy.prototxt"``.

    Args:
        weights: give, for each model, where its weights come from and whether they are here.

    >>> list_models()
    ['squeezenet1_1', 'googlenet', 'bvlc_googlenet', 'googlenet_places205', 'googlenet_places365']
    >>> list_models(weights=True)[0].status
    'embedded'
    """
    if not weights:
        return list(_REGISTRY)
    return [ModelWeights(e.name, e.weights.source, e.weights.status()) for e in _REGISTRY.values()]


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``, or of the trained network's file it names.

    Unknown names fail with the closest ones suggested.
    """
    kind = model_kind(name)
    if kind == "trained":
        return trained_entry(name)
    if kind != "registered":
        raise InvalidParameterError(f"{name} is not a registered network (it has no registry entry)", argument="model")
    try:
        return _REGISTRY[name]
    except KeyError:
        raise unknown_name("model", name, _REGISTRY, "inceptionism models", argument="model") from None


def get_model(
    name: str,
    *,
    weights: WeightsArg = "default",
    progress: bool = False,
    mean: Sequence[float] | None = None,
    labels_file: str | os.PathLike | None = None,
    convention: Convention | None = None,
) -> Network:
    """A network in eval mode with its parameters frozen, yours to change.

    The network is built and its weights read once per process (see
    :mod:`inceptionism.models.cache`); every call returns a copy of it.

    Args:
        name: a name from :func:`list_models`, ``"caffe:PATH/deploy.prototxt"`` for any
            Caffe network (layer types: see :data:`inceptionism.models.caffe.builder.SUPPORTED`),
            a file of a network you trained, or one from outside: ``PATH.py:FUNCTION``, a
            TorchScript or ONNX file (see :mod:`inceptionism.models.imported`).
        weights: ``"default"`` for the published weights, ``None`` or ``"random"`` for random
            initialisation, or the path of a state dict saved with ``torch.save`` (the
            network's own ``state_dict()`` included) or of a ``.caffemodel``.
        progress: show a download progress bar on stderr if weights must be fetched.
        mean: for a ``caffe:`` network, the BGR mean its pixels in 0..255 are reduced by
            (default :data:`CAFFE_MEAN`).
        labels_file: a file of class names, one per output (see :mod:`inceptionism.models.labels`).
        convention: for a network from outside, how its pixels are prepared and its input
            size, where its file does not say (``mean`` may be given here or above).

    Returns:
        The network on the CPU.

    >>> net = get_model("squeezenet1_1")
    >>> net.labels[281], net.min_size
    ('tabby', 17)
    """
    return copy.deepcopy(
        shared_model(
            name, weights=weights, progress=progress, mean=mean, labels_file=labels_file, convention=convention
        )
    )


def shared_model(
    name: str,
    *,
    weights: WeightsArg = "default",
    progress: bool = False,
    mean: Sequence[float] | None = None,
    labels_file: str | os.PathLike | None = None,
    convention: Convention | None = None,
) -> Network:
    """Like :func:`get_model`, but the process-wide instance itself: to run, never to change."""
    convention = _with_mean(convention or Convention(), mean)
    kind = model_kind(name)
    if weights is None or (isinstance(weights, str) and weights in ("default", "random")):
        weights_key: tuple[str, ...] = (weights or "random",)
    else:
        weights_key = ("file", _file_key(weights, "weights")[1])
    labels_key = _file_key(labels_file, "labels_file") if labels_file is not None else None
    if kind in IMPORTED:
        key: tuple[object, ...] = (name, model_checksum(name), weights_key, convention, labels_key)
        return shared_network(
            key, lambda: imported_network(name, weights=weights, convention=convention, labels_file=labels_file)
        )
    if kind == "caffe":
        _refuse_convention(name, convention, allowed=("mean",))
        prototxt = prototxt_path(name)
        bgr = checked_mean(convention.mean)
        key = (name, file_sha256(prototxt), weights_key, bgr, labels_key)
        return shared_network(key, lambda: _finished(caffe_network(name, prototxt, weights, bgr), labels_file))
    entry = get_model_entry(name)
    _refuse_convention(name, convention, allowed=(), own=entry.weights.preprocessing)
    key = (entry.name, entry.weights.checksum) if kind == "trained" else (entry, weights_key, labels_key)
    return shared_network(key, lambda: _finished(_network(entry, weights, progress), labels_file))


def network_of(model: str | nn.Module, **options: Any) -> Network:
    """``model`` if it is a :class:`Network`, else the shared network it names (``options``: see :func:`shared_model`).

    An ``nn.Module`` of yours is named first (see :func:`~inceptionism.models.imported.module_name`).
    """
    if isinstance(model, Network):
        return model
    return shared_model(module_name(model) if isinstance(model, nn.Module) else model, **options)


def _with_mean(convention: Convention, mean: Sequence[float] | None) -> Convention:
    if mean is None:
        return convention
    return dataclasses.replace(convention, mean=tuple(float(m) for m in mean))


def _refuse_convention(
    name: str, convention: Convention, *, allowed: tuple[str, ...], own: Preprocessing | None = None
) -> None:
    """Refuse preprocessing options a network does not take: registered ones have their own."""
    extra = [part for part in convention.given() if part not in allowed]
    if not extra:
        return
    what = ", ".join(part.replace("_", " ") for part in extra)
    its = "" if own is None else f" (mean {', '.join(f'{m:g}' for m in own.mean)}, {own.channel_order})"
    raise InvalidParameterError(
        f"{what} {'is' if len(extra) == 1 else 'are'} for networks from outside (PATH.py:FUNCTION, TorchScript, "
        f"ONNX){' and caffe:PATH' if extra == ['mean'] else ''}; {name} has its own{its}",
        argument=extra[0],
    )


def _file_key(path: str | os.PathLike, argument: str) -> tuple[str, str]:
    text = os.fspath(path)
    if not os.path.isfile(text):
        what = "weights" if argument == "weights" else argument.replace("_", " ")
        raise (WeightsError if argument == "weights" else InvalidParameterError)(
            f"{what} file not found: {text}", argument=argument
        )
    return text, file_sha256(text)


def _network(entry: ModelEntry, weights: WeightsArg, progress: bool) -> Network:
    """The network of ``entry`` with the weights ``weights`` names."""
    body = entry.build()
    description = load_chosen(
        body, weights, model=entry.name, default=entry.weights, progress=progress, optional=entry.optional_keys
    )
    return Network(
        body,
        name=entry.name,
        preprocessing=entry.weights.preprocessing,
        layers=entry.layers,
        labels=entry.weights.labels(),
        min_size=entry.min_size,
        input_size=entry.input_size,
        weights=description,
        default_layer=entry.default_layer,
        class_layer=entry.class_layer,
        aliases=entry.aliases,
    )


def _finished(net: Network, labels: str | os.PathLike | None) -> Network:
    """``net`` with the class names of the file ``labels`` if one is given, in eval mode and frozen."""
    if labels is not None:
        net.labels = read_labels(labels, classes=len(net.labels))
    return net.eval().requires_grad_(False)
