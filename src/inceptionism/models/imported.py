"""Networks from outside the registry: your Python code, a TorchScript or ONNX file, an ``nn.Module``.

A model name says what it is (see :func:`model_kind`): ``PATH.py:FUNCTION`` runs your code
(:mod:`~inceptionism.models.pyfile`), ``NET.onnx`` and TorchScript files (``.ts``, ``.jit``, or
a ``.pt`` that is a TorchScript archive) are converted (:mod:`~inceptionism.models.onnx`). In
Python, an ``nn.Module`` itself is one (:func:`module_name`). Their layers are found by running
them (:mod:`~inceptionism.models.probe`) and named by module path.

What such a file rarely says, how its pixels are prepared, is a :class:`Convention`: the mean,
standard deviation, channel order and value range, and the side it classifies at. Anything
not given comes from the file's own ``inceptionism`` metadata (a JSON object: ``mean``,
``std``, ``channel_order``, ``value_range``, ``input_size``, ``labels``), else from torchvision's
ImageNet convention (RGB in 0..1, mean 0.485,0.456,0.406, std 0.229,0.224,0.225, 224 px).

>>> model_kind("squeezenet1_1"), model_kind("net.onnx"), model_kind("mine.py:build"), model_kind("caffe:d.prototxt")
('registered', 'onnx', 'python', 'caffe')
"""

from __future__ import annotations

import copy
import hashlib
import os
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any

from torch import nn

from inceptionism.errors import InvalidParameterError, WeightsError
from inceptionism.io.files import file_sha256
from inceptionism.models.caffe.model import CAFFE_PREFIX
from inceptionism.models.imagenet import imagenet_classes
from inceptionism.models.labels import read_labels
from inceptionism.models.network import CLASSES, LOGITS, Network, Normalize, Preprocessing
from inceptionism.models.onnx import layer_aliases, onnx_module, torchscript_module
from inceptionism.models.probe import probe
from inceptionism.models.pyfile import is_python_model, python_file, python_module
from inceptionism.models.trained import SUFFIXES, is_safetensors, model_path
from inceptionism.models.weights import load_weights_file

MODULE_PREFIX = "module:"
TORCHSCRIPT_SUFFIXES = (".ts", ".jit", ".torchscript")
IMPORTED = ("python", "onnx", "torchscript", "module")
"""The kinds of network that come from outside the registry."""
VALUE_RANGES = {"0-1": 1 / 255, "0-255": 1.0}
"""What a network's input pixels span, and the scale from 0..255 to it."""
IMAGENET = Preprocessing("RGB", 1 / 255, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
"""torchvision's ImageNet convention, taken where neither you nor the file say another."""
INPUT_SIZE = 224
MODULES_KEPT = 16  # nn.Modules given in Python, by fingerprint (the latest are kept)


@dataclass(frozen=True)
class Convention:
    """How pixels become an imported network's input, each part ``None`` where not given.

    Attributes:
        mean: subtracted per channel, in the network's channel order and value range.
        std: divides per channel after.
        channel_order: ``"RGB"`` or ``"BGR"``.
        value_range: ``"0-1"`` or ``"0-255"``: what pixels span before the mean.
        input_size: the side the network classifies at.
    """

    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    channel_order: str | None = None
    value_range: str | None = None
    input_size: int | None = None

    def given(self) -> list[str]:
        """The names of the parts given."""
        return [field.name for field in fields(self) if getattr(self, field.name) is not None]

    def preprocessing(self, said: dict[str, Any]) -> Preprocessing:
        """The preprocessing from these parts, else the file's (``said``), else :data:`IMAGENET`."""
        value_range = self.value_range or said.get("value_range")
        scale = IMAGENET.scale if value_range is None else VALUE_RANGES[value_range]
        order = self.channel_order or said.get("channel_order") or IMAGENET.channel_order
        mean = self.mean or said.get("mean") or IMAGENET.mean
        std = self.std or said.get("std") or IMAGENET.std
        return Preprocessing(str(order), scale, tuple(map(float, mean)), tuple(map(float, std)))  # type: ignore[arg-type]

    def size(self, said: dict[str, Any]) -> int:
        """The input size given, else the file's (``said``), else :data:`INPUT_SIZE`."""
        return int(self.input_size or said.get("input_size") or INPUT_SIZE)


def model_kind(name: str) -> str:
    """What the model name ``name`` names.

    ``"registered"``, ``"caffe"`` (``caffe:PATH``), ``"trained"`` (a safetensors file of
    ``inceptionism train``), ``"torchscript"``, ``"onnx"``, ``"python"`` (``PATH.py:FUNCTION``) or
    ``"module"`` (an ``nn.Module`` given in Python, see :func:`module_name`).
    """
    lower = name.lower()
    if name.startswith(CAFFE_PREFIX):
        return "caffe"
    if name.startswith(MODULE_PREFIX):
        return "module"
    if is_python_model(name):
        return "python"
    if lower.endswith(".onnx"):
        return "onnx"
    if lower.endswith(TORCHSCRIPT_SUFFIXES):
        return "torchscript"
    if lower.endswith(SUFFIXES):
        return "torchscript" if _is_torchscript(model_path(name)) else "trained"
    return "registered"


def _is_torchscript(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip with compiled code), not safetensors."""
    if not os.path.isfile(path) or is_safetensors(path) or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(entry.endswith("constants.pkl") or "/code/" in entry for entry in archive.namelist())


def model_file(name: str) -> str | None:
    """The file the network ``name`` is read from, ``None`` for a registered name, a Caffe network or a module.

    That is a trained, TorchScript or ONNX file, or the code of ``PATH.py:FUNCTION``.
    """
    kind = model_kind(name)
    if kind == "python":
        return python_file(name)
    if kind in ("onnx", "torchscript", "trained"):
        return model_path(name)  # as it is read: a bare name may be in the models folder
    return None


def model_checksum(model: object) -> str | None:
    """The SHA-256 recorded with a dream: of the network's file, or a module's parameters; ``None`` otherwise."""
    if not isinstance(model, str):
        return None
    if model_kind(model) == "module":
        return _MODULES[model][1] if model in _MODULES else None
    path = model_file(model)
    return file_sha256(path) if path is not None and os.path.isfile(path) else None


def check_same_model(model: str, recorded: str | None, where: str) -> None:
    """Refuse to repeat a dream of ``where`` with a network other than the one it was dreamed with.

    Raises:
        WeightsError: the file ``model`` names has another SHA-256 than ``recorded``.
    """
    now = model_checksum(model)
    if recorded is not None and now is not None and now != recorded:
        raise WeightsError(
            f"{model} is not the file {where} was dreamed with (SHA-256 {recorded[:12]}..., now {now[:12]}...); "
            "give that file with --model",
            argument="model",
        )


_MODULES: OrderedDict[str, tuple[nn.Module, str]] = OrderedDict()


def module_name(module: nn.Module) -> str:
    """A model name for ``module`` (``module:CLASS:FINGERPRINT``), usable in this process wherever a name is.

    A copy is kept, so the module may go on changing: a changed module is another name.
    """
    digest = hashlib.sha256(type(module).__qualname__.encode())
    for key, tensor in module.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    fingerprint = digest.hexdigest()
    name = f"{MODULE_PREFIX}{type(module).__name__}:{fingerprint[:12]}"
    if name not in _MODULES:
        _MODULES[name] = (copy.deepcopy(module).cpu().eval(), fingerprint)
        while len(_MODULES) > MODULES_KEPT:
            _MODULES.popitem(last=False)
    _MODULES.move_to_end(name)
    return name


def network_convention(net: Network) -> Convention | None:
    """The whole convention of an imported network (to build it again elsewhere, on a worker), else ``None``."""
    if model_kind(net.name) not in IMPORTED:
        return None
    pre = net.preprocessing
    value_range = next(name for name, scale in VALUE_RANGES.items() if abs(scale - pre.scale) < 1e-9)
    return Convention(pre.mean, pre.std, pre.channel_order, value_range, net.input_size)


def imported_body(name: str, input_size: int | None) -> tuple[nn.Module, dict[str, str], dict[str, Any]]:
    """The module ``name`` names (a fresh copy), its layer aliases and what its file says."""
    kind = model_kind(name)
    if kind == "python":
        return python_module(name).eval(), {}, {}
    if kind == "module":
        if name not in _MODULES:
            raise InvalidParameterError(f"{name} is a module given in Python that this process no longer holds; "
                                        "pass the module itself again", argument="model")  # fmt: skip
        return copy.deepcopy(_MODULES[name][0]), {}, {}
    path = model_path(name)
    if not os.path.isfile(path):
        raise WeightsError(f"model file not found: {path}", argument="model")
    return onnx_module(path) if kind == "onnx" else torchscript_module(path, input_size)


def imported_network(
    name: str, *, weights: object = "default", convention: Convention = Convention(), labels_file: str | None = None
) -> Network:
    """The network of the imported model ``name``, its layers probed, ready to dream.

    Args:
        name: see :func:`model_kind` (one of :data:`IMPORTED`).
        weights: ``"default"`` (the file's or the code's own), ``"random"`` (each layer's
            ``reset_parameters``) or a state dict file loaded into the module.
        convention: how its pixels are prepared, where the file does not say.
        labels_file: its class names, one per output (default: ImageNet's for 1000 outputs, else ``class N``).
    """
    body, aliases, said = imported_body(name, convention.input_size)
    chosen = _load(body, weights, name)
    preprocessing = convention.preprocessing(said)
    _check(preprocessing)
    size = convention.size(said)
    normalize = Normalize(preprocessing)
    layout = probe(body, size=size, prepare=lambda grey: normalize(grey * 255), name=name)
    labels = _labels(said, layout.classes, labels_file)
    return Network(
        body, name=name, preprocessing=preprocessing, layers=layout.layers, labels=labels,
        min_size=layout.min_size, input_size=size, weights=chosen, default_layer=layout.default_layer,
        aliases=layer_aliases(aliases, set(layout.layers)), repeated_layers=layout.repeated,
        fixed_layers=layout.fixed | ({LOGITS, CLASSES} if layout.fixed else set()),
    ).eval().requires_grad_(False)  # fmt: skip


def _check(preprocessing: Preprocessing) -> None:
    if preprocessing.channel_order not in ("RGB", "BGR"):
        raise InvalidParameterError(f"channel order must be RGB or BGR, got {preprocessing.channel_order!r}",
                                    argument="channel_order")  # fmt: skip
    if not all(value > 0 for value in preprocessing.std):
        raise InvalidParameterError(f"std must be three numbers above 0, got {preprocessing.std}", argument="std")


def _load(body: nn.Module, weights: object, name: str) -> str:
    """Load ``weights`` into the imported ``body``; what was loaded (as :attr:`Network.weights` says it)."""
    if weights in (None, "random"):
        for module in body.modules():
            if callable(getattr(module, "reset_parameters", None)):
                module.reset_parameters()
        return "random"
    if weights == "default":
        return "default"
    path = os.fspath(weights)  # type: ignore[arg-type]
    state = load_weights_file(path)
    try:
        body.load_state_dict(state)  # type: ignore[arg-type]
    except RuntimeError as error:
        raise WeightsError(f"{path} does not fit {name}: {str(error).splitlines()[0]}", argument="weights") from None
    return path


def _labels(said: dict[str, Any], classes: int, labels_file: str | None) -> tuple[str, ...]:
    if labels_file is not None:
        return read_labels(labels_file, classes=classes)
    if isinstance(said.get("labels"), list) and len(said["labels"]) == classes:
        return tuple(map(str, said["labels"]))
    return imagenet_classes() if classes == len(imagenet_classes()) else tuple(f"class {i}" for i in range(classes))
