"""The model registry: which networks exist, how to build them and where their weights come from.

Besides the registered names, ``"caffe:PATH/deploy.prototxt"`` names any Caffe network
built from its prototxt (see :mod:`inceptionism.models.caffe`), with its ``.caffemodel``
given as the weights.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

from torch import Tensor, nn

from inceptionism.errors import InvalidParameterError, WeightsError, unknown_name
from inceptionism.io.files import file_sha256
from inceptionism.models import googlenet, squeezenet
from inceptionism.models.cache import shared_network
from inceptionism.models.caffe import bvlc
from inceptionism.models.caffe.builder import CaffeNet, is_caffe_state
from inceptionism.models.caffe.prototxt import parse_prototxt
from inceptionism.models.caffe.wire import CaffeLayer, read_caffemodel
from inceptionism.models.imagenet import imagenet_classes
from inceptionism.models.labels import numbered_labels, read_labels
from inceptionism.models.network import CLASSES, LOGITS, Network, Preprocessing
from inceptionism.models.weights import (
    NDF_SQUEEZENET_SHA256,
    cached_weights_path,
    download_file,
    download_state_dict,
    load_ndf_pickle,
    load_state_dict_file,
    ndf_squeezenet_path,
    unpack_members,
)

CAFFE_PREFIX = "caffe:"
CAFFE_MEAN = (104.0, 117.0, 123.0)
"""The BGR mean of a ``caffe:`` network when none is given: Caffe's ImageNet mean, rounded."""
PROTOTXT_BYTES = 16 * 2**20
StateDict = dict[str, Tensor]
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
        load_weights: returns the default weights (a state dict, or the layers of a
            ``.caffemodel``); its argument asks for a progress bar.
        weights_status: whether the default weights are here: ``"embedded"``, ``"cached"``
            or ``"missing"`` (downloaded on first use).
        labels: the class names, index-aligned with the outputs.
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
    preprocessing: Preprocessing
    min_size: int
    input_size: int
    weights_source: str
    load_weights: Callable[[bool], StateDict | Sequence[CaffeLayer]]
    weights_status: Callable[[], str]
    labels: Callable[[], Sequence[str]] = imagenet_classes
    aliases: Mapping[str, str] = field(default_factory=dict)
    optional_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelWeights:
    """Where a registered model's weights come from and whether they are here.

    Attributes:
        name: registry name.
        source: where the default weights come from.
        status: ``"embedded"`` (inside an installed package), ``"cached"`` (downloaded
            before) or ``"missing"`` (downloaded on first use, or given with ``weights=FILE``).
    """

    name: str
    source: str
    status: str


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(entry: ModelEntry) -> ModelEntry:
    """Add ``entry`` to the registry under ``entry.name`` and return it."""
    if entry.name in _REGISTRY:
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
    return [ModelWeights(e.name, e.weights_source, e.weights_status()) for e in _REGISTRY.values()]


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; unknown names fail with the closest ones suggested."""
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
) -> Network:
    """A network in eval mode with its parameters frozen, yours to change.

    The network is built and its weights read once per process (see
    :mod:`inceptionism.models.cache`); every call returns a copy of it.

    Args:
        name: a name from :func:`list_models`, or ``"caffe:PATH/deploy.prototxt"`` for any
            Caffe network (layer types: see :data:`inceptionism.models.caffe.builder.SUPPORTED`).
        weights: ``"default"`` for the published weights, ``None`` or ``"random"`` for random
            initialisation, or the path of a state dict saved with ``torch.save`` (the
            network's own ``state_dict()`` included) or of a ``.caffemodel``.
        progress: show a download progress bar on stderr if weights must be fetched.
        mean: for a ``caffe:`` network, the BGR mean its pixels in 0..255 are reduced by
            (default :data:`CAFFE_MEAN`).
        labels_file: a file of class names, one per output (see :mod:`inceptionism.models.labels`).

    Returns:
        The network on the CPU.

    >>> net = get_model("squeezenet1_1")
    >>> net.labels[281], net.min_size
    ('tabby', 17)
    """
    return copy.deepcopy(shared_model(name, weights=weights, progress=progress, mean=mean, labels_file=labels_file))


def _file_key(path: str | os.PathLike, argument: str) -> tuple[str, str]:
    text = os.fspath(path)
    if not os.path.isfile(text):
        what = "weights" if argument == "weights" else argument.replace("_", " ")
        raise (WeightsError if argument == "weights" else InvalidParameterError)(
            f"{what} file not found: {text}", argument=argument
        )
    return text, file_sha256(text)


def shared_model(
    name: str,
    *,
    weights: WeightsArg = "default",
    progress: bool = False,
    mean: Sequence[float] | None = None,
    labels_file: str | os.PathLike | None = None,
) -> Network:
    """Like :func:`get_model`, but the process-wide instance itself: to run, never to change."""
    caffe = name.startswith(CAFFE_PREFIX)
    if not caffe:
        entry = get_model_entry(name)
        if mean is not None:
            raise InvalidParameterError(
                f"mean is for caffe:PATH networks; {name} has its own "
                f"({', '.join(f'{m:g}' for m in entry.preprocessing.mean)})",
                argument="mean",
            )
    if weights is None or (isinstance(weights, str) and weights in ("default", "random")):
        weights_key: tuple[str, ...] = (weights or "random",)
    else:
        weights_key = ("file", _file_key(weights, "weights")[1])
    labels_key = _file_key(labels_file, "labels_file") if labels_file is not None else None
    if caffe:
        prototxt = name.removeprefix(CAFFE_PREFIX)
        if not os.path.isfile(prototxt):
            raise InvalidParameterError(
                f"prototxt file not found: {prototxt} (give the model as caffe:PATH/deploy.prototxt)", argument="model"
            )
        bgr = _checked_mean(mean)
        key: tuple[object, ...] = (name, file_sha256(prototxt), weights_key, bgr, labels_key)
        return shared_network(key, lambda: _load_caffe(name, prototxt, weights, bgr, labels_file))
    key = (name, weights_key, labels_key)
    return shared_network(key, lambda: _load(entry, weights, progress, labels_file))


def _checked_mean(mean: Sequence[float] | None) -> tuple[float, float, float]:
    if mean is None:
        return CAFFE_MEAN
    values = tuple(float(m) for m in mean)
    if len(values) != 3:
        raise InvalidParameterError(f"mean must be three numbers B,G,R, got {mean!r}", argument="mean")
    return values  # type: ignore[return-value]


def _with_labels(net: Network, labels: str | os.PathLike | None) -> Network:
    if labels is not None:
        net.labels = read_labels(labels, classes=len(net.labels))
    return net


def _load(entry: ModelEntry, weights: WeightsArg, progress: bool, labels: str | os.PathLike | None) -> Network:
    body = entry.build()
    if weights is None or weights == "random":
        description = "random"
    elif isinstance(weights, str) and weights == "default":
        _load_into(body, entry.load_weights(progress), entry.name, entry.weights_source, entry.optional_keys)
        description = "default"
    else:
        _load_into(body, load_weights_file(weights), entry.name, os.fspath(weights), entry.optional_keys)
        description = os.fspath(weights)
    net = Network(
        body,
        name=entry.name,
        preprocessing=entry.preprocessing,
        layers=entry.layers,
        labels=entry.labels(),
        min_size=entry.min_size,
        input_size=entry.input_size,
        weights=description,
        default_layer=entry.default_layer,
        class_layer=entry.class_layer,
        aliases=entry.aliases,
    )
    return _with_labels(net, labels).eval().requires_grad_(False)


def load_weights_file(path: str | os.PathLike) -> StateDict | list[CaffeLayer]:
    """A weights file's content: the layers of a ``.caffemodel``, else a ``torch.save`` state dict."""
    if Path(path).suffix.lower() == ".caffemodel":
        return read_caffemodel(path)
    return load_state_dict_file(path)


def _load_caffe(
    name: str, prototxt: str, weights: WeightsArg, mean: tuple[float, float, float], labels: str | os.PathLike | None
) -> Network:
    if os.path.getsize(prototxt) > PROTOTXT_BYTES:
        raise InvalidParameterError(
            f"{prototxt} is over {PROTOTXT_BYTES // 2**20} MB; is it a prototxt?", argument="model"
        )
    try:
        text = Path(prototxt).read_text("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterError(f"{prototxt} is not a text prototxt (not UTF-8)", argument="model") from None
    body = CaffeNet(parse_prototxt(text, source=prototxt), source=prototxt)
    if weights is None or weights == "random":
        description = "random"
    elif isinstance(weights, str) and weights == "default":
        raise WeightsError(
            f"{name} has no published weights; pass its .caffemodel with --weights FILE (in Python: weights=FILE), "
            "or random ones with --weights random",
            argument="weights",
        )
    else:
        _load_into(body, load_weights_file(weights), name, os.fspath(weights))
        description = os.fspath(weights)
    spec = body.spec
    fixed = set(spec.fixed_layers)
    if spec.output in fixed:
        fixed |= {LOGITS, CLASSES}
    net = Network(
        body,
        name=name,
        preprocessing=Preprocessing("BGR", 1.0, mean),
        layers=spec.layers,
        labels=numbered_labels(spec.classes),
        min_size=body.min_size(),
        input_size=min(spec.input_shape[1:]),
        weights=description,
        default_layer=body.default_layer(),
        fixed_layers=fixed,
    )
    return _with_labels(net, labels).eval().requires_grad_(False)


def _load_into(
    body: nn.Module,
    state: StateDict | Sequence[CaffeLayer],
    model: str,
    source: str,
    optional: tuple[str, ...] = (),
) -> None:
    """Load ``state`` into ``body``, or say in one line what does not fit.

    A state dict of the whole :class:`Network` (every key prefixed ``body.``) is taken as
    the body's; keys starting with one of ``optional`` may be missing.
    """
    if is_caffe_state(state):
        if not isinstance(body, CaffeNet):
            raise WeightsError(
                f"{source} is a Caffe model file; {model} takes a PyTorch state dict (try bvlc_googlenet "
                "or caffe:PATH/deploy.prototxt)",
                argument="weights",
            )
        state = body.caffe_state_dict(state, source)  # type: ignore[arg-type]
    assert isinstance(state, dict)
    expected = body.state_dict()
    prefix = "body."
    if state and all(key.startswith(prefix) for key in state) and not any(key.startswith(prefix) for key in expected):
        state = {key.removeprefix(prefix): value for key, value in state.items()}
    missing = sorted(set(expected) - set(state))
    allowed = [key for key in missing if optional and key.startswith(optional)]
    missing = [key for key in missing if key not in allowed]
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
    body.load_state_dict(state, strict=not allowed)


@functools.cache
def _squeezenet_state() -> StateDict:
    path = ndf_squeezenet_path()
    return squeezenet.from_ndf(load_ndf_pickle(path, NDF_SQUEEZENET_SHA256))


def _squeezenet_weights(progress: bool) -> StateDict:
    del progress  # embedded: nothing to download
    return _squeezenet_state()


def _squeezenet_status() -> str:
    try:
        ndf_squeezenet_path()
    except WeightsError:
        return "missing"
    return "embedded"


def _googlenet_weights(progress: bool) -> StateDict:
    return download_state_dict(googlenet.WEIGHTS_URL, model="googlenet", progress=progress)


def _cached(url: str, name: str | None = None) -> Callable[[], str]:
    """A status function: ``"cached"`` if the file of ``url`` (or ``name`` beside it) is in the cache."""

    def status() -> str:
        path = cached_weights_path(url)
        if name is not None:
            path = path.parent / path.name.removesuffix(".tar.gz") / name
        return "cached" if path.is_file() else "missing"

    return status


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
        weights_status=_squeezenet_status,
    )
)

register_model(
    ModelEntry(
        name="googlenet",
        description="GoogLeNet / Inception v1 as torchvision has it (batch norms, 3x3 for 5x5); "
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
        weights_status=_cached(googlenet.WEIGHTS_URL),
        optional_keys=("aux1.", "aux2."),  # torchvision drops its auxiliary heads when it loads its weights
    )
)


def _caffe_googlenet(
    name: str, description: str, classes: int, mean: tuple[float, float, float], source: str, **entry: object
) -> ModelEntry:
    return ModelEntry(
        name=name,
        description=description,
        build=functools.partial(CaffeNet, bvlc.googlenet_prototxt(classes), source=name),
        layers=bvlc.LAYERS,
        default_layer=bvlc.DEFAULT_LAYER,
        class_layer=LOGITS,
        preprocessing=Preprocessing("BGR", 1.0, mean),
        min_size=bvlc.MIN_SIZE,
        input_size=bvlc.INPUT_SIZE,
        weights_source=source,
        aliases=bvlc.ALIASES,
        **entry,  # type: ignore[arg-type]
    )


def _bvlc_weights(progress: bool) -> list[CaffeLayer]:
    how = f"download {Path(bvlc.BVLC_URL).name} from there"
    return read_caffemodel(
        download_file(bvlc.BVLC_URL, model="bvlc_googlenet", how=how, sha1=bvlc.BVLC_SHA1, progress=progress)
    )


def _places205_files(progress: bool) -> dict[str, Path]:
    archive_url = bvlc.PLACES205_URL
    into = cached_weights_path(archive_url).parent / "googlenet_places205"
    names = (bvlc.PLACES205_CAFFEMODEL, bvlc.PLACES205_LABELS)
    if all((into / name).is_file() for name in names):
        return {name: into / name for name in names}
    how = f"download {Path(archive_url).name} from there, unpack it"
    archive = download_file(archive_url, model="googlenet_places205", how=how, sha1=None, progress=progress)
    found = unpack_members(archive, names, into)
    if bvlc.PLACES205_CAFFEMODEL not in found:
        raise WeightsError(
            f"{archive} holds no {bvlc.PLACES205_CAFFEMODEL}; delete it and try again, or pass the "
            ".caffemodel with --weights FILE",
            argument="weights",
        )
    archive.unlink()  # what is needed is unpacked
    return found


def _places205_weights(progress: bool) -> list[CaffeLayer]:
    return read_caffemodel(_places205_files(progress)[bvlc.PLACES205_CAFFEMODEL])


def _places205_labels() -> tuple[str, ...]:
    """The category names of the model's archive once it is unpacked, else ``class N``."""
    path = cached_weights_path(bvlc.PLACES205_URL).parent / "googlenet_places205" / bvlc.PLACES205_LABELS
    return read_labels(path, classes=205) if path.is_file() else numbered_labels(205)


def _places365_weights(progress: bool) -> list[CaffeLayer]:
    how = f"download {Path(bvlc.PLACES365_URL).name} from there"
    return read_caffemodel(
        download_file(bvlc.PLACES365_URL, model="googlenet_places365", how=how, sha1=None, progress=progress)
    )


register_model(
    _caffe_googlenet(
        "bvlc_googlenet",
        "GoogLeNet as Caffe's model zoo has it, the network of the 2015 DeepDream (LRN, true 5x5, "
        "no batch norm); ImageNet",
        1000,
        (104.0, 116.0, 122.0),
        f"{bvlc.BVLC_URL} (SHA-1 {bvlc.BVLC_SHA1[:8]}..., checked), downloaded on first use",
        load_weights=_bvlc_weights,
        weights_status=_cached(bvlc.BVLC_URL),
    )
)

register_model(
    _caffe_googlenet(
        "googlenet_places205",
        "the same GoogLeNet trained on MIT Places205 (205 scene classes): the landscapes and buildings of 2015",
        205,
        (105.417, 113.753, 116.047),
        f"{bvlc.PLACES205_URL} (no published checksum), downloaded and unpacked on first use",
        load_weights=_places205_weights,
        weights_status=_cached(bvlc.PLACES205_URL, bvlc.PLACES205_CAFFEMODEL),
        labels=_places205_labels,
    )
)

register_model(
    _caffe_googlenet(
        "googlenet_places365",
        "the same GoogLeNet trained on MIT Places365 (365 scene classes; names from --labels-file "
        "categories_places365.txt)",
        365,
        (104.051, 112.514, 116.676),
        f"{bvlc.PLACES365_URL} (no published checksum), downloaded on first use",
        load_weights=_places365_weights,
        weights_status=_cached(bvlc.PLACES365_URL),
        labels=functools.partial(numbered_labels, 365),
    )
)
