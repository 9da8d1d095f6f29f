"""Networks you trained (``inceptionism train``): one safetensors file, usable wherever a model name is.

The file holds the whole network's state dict (the base network's layers and the new
classifier) as safetensors: tensors only, no pickled code. Its metadata, under the key
``inceptionism`` (JSON), says what they mean: the base model it was fine-tuned from, the
new class names, the module that became the classifier, the preprocessing, and the record
of the training (settings, dataset size and checksum, final metrics).

A model file is a model like any other: ``get_model("birds.pt")``, ``--model birds.pt``.
Its registry entry is the base model's, with the classifier of the new classes and the
file as its weights, checked against the SHA-256 the file had when it was read.

>>> import tempfile, os
>>> from inceptionism.models.registry import get_model_entry
>>> base = get_model_entry("squeezenet1_1").build()
>>> head = replace_head(base, 3)
>>> path = os.path.join(tempfile.mkdtemp(), "three.pt")
>>> save_trained(path, base, {"base": "squeezenet1_1", "classes": ["a", "b", "c"], "head": head})
>>> info = read_info(path)
>>> info["classes"], info["head"]
(['a', 'b', 'c'], 'conv10')
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
from pathlib import Path
from typing import Any

from torch import nn

from inceptionism.errors import InvalidParameterError, WeightsError
from inceptionism.io.files import atomic_writer, file_sha256
from inceptionism.models.network import Preprocessing

FORMAT = 1
"""The version of the file's metadata (a file of a later version is refused)."""
SUFFIXES = (".pt", ".safetensors")
"""What a model file's name ends with, so that ``--model`` tells it from a registered name."""
META_KEY = "inceptionism"
HEADER_LIMIT = 100 * 2**20  # a safetensors header over 100 MB is not one of ours


def models_dir() -> Path:
    """The folder of your trained networks: ``models/`` in the user data directory.

    The user data directory is ``~/.inceptionism`` (``$INCEPTIONISM_HOME`` if set); the studio
    offers the model files in its ``models/``, and ``--model NAME.pt`` finds them there.
    """
    return Path(os.environ.get("INCEPTIONISM_HOME") or Path.home() / ".inceptionism") / "models"


def trained_files() -> list[str]:
    """The names of the trained networks' files in :func:`models_dir`, sorted (other files there are left out)."""
    folder = models_dir()
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if is_model_file(path.name) and _readable(path))


def _readable(path: Path) -> bool:
    try:
        read_info(path)
    except (WeightsError, OSError, ValueError):
        return False
    return True


def model_path(name: str) -> str:
    """Where the model file ``name`` is: as given if it is there, else in :func:`models_dir` for a bare name."""
    if os.path.isfile(name) or os.sep in name or (os.altsep and os.altsep in name):
        return name
    kept = models_dir() / name
    return str(kept) if kept.is_file() else name


def is_model_file(name: str) -> bool:
    """Whether the model name ``name`` names a file of a trained network.

    >>> is_model_file("birds.pt"), is_model_file("models/b.safetensors"), is_model_file("squeezenet1_1")
    (True, True, False)
    """
    return name.lower().endswith(SUFFIXES)


def replace_head(body: nn.Module, classes: int) -> str:
    """Give ``body`` a new classifier of ``classes`` outputs in place of its last one; its module path.

    The classifier is the last ``nn.Linear``, or 1x1 ``nn.Conv2d`` (SqueezeNet's), in the
    module's order: the one whose outputs are the class scores.
    """
    path, old = _last_classifier(body)
    new = copy.deepcopy(old)  # the same kind of layer (a Caffe InnerProduct flattens its input first)
    new.weight = nn.Parameter(old.weight.new_empty((classes, *old.weight.shape[1:])))
    nn.init.normal_(new.weight, std=0.01)  # small scores at first: none dominates before it has learned
    if old.bias is not None:
        new.bias = nn.Parameter(old.bias.new_zeros(classes))
    if isinstance(new, nn.Linear):
        new.out_features = classes
    else:
        new.out_channels = classes
    parent, _, name = path.rpartition(".")
    setattr(body.get_submodule(parent) if parent else body, name, new)
    if getattr(body, "rectified_logits", False):
        # A ReLU after new scores would silence a class whose scores start below 0, and its gradient with it.
        body.rectified_logits = False
    return path


def _last_classifier(body: nn.Module) -> tuple[str, nn.Linear | nn.Conv2d]:
    found = [(name, module) for name, module in body.named_modules() if _classifies(module)]
    if not found:
        raise InvalidParameterError("the network has no linear or 1x1 convolution classifier to replace")
    return found[-1]  # type: ignore[return-value]


def _classifies(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or (isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1))


def save_trained(path: str | os.PathLike, body: nn.Module, info: dict[str, Any]) -> None:
    """Write ``body``'s state dict and ``info`` (JSON) to the safetensors file ``path``, atomically."""
    from safetensors.torch import save

    state = {name: tensor.detach().contiguous().cpu() for name, tensor in body.state_dict().items()}
    meta = {META_KEY: json.dumps({"format": FORMAT, **info}, sort_keys=True)}
    with atomic_writer(path) as handle:
        handle.write(save(state, metadata=meta))


def read_info(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of the model file ``path``.

    Raises:
        WeightsError: not there, not a safetensors file, or not one written by ``inceptionism train``.
    """
    header = _header(Path(path))
    text = header.get("__metadata__", {}).get(META_KEY)
    if text is None:
        raise WeightsError(f"{path} is a safetensors file but not a trained network (it has no '{META_KEY}' metadata)")
    info = json.loads(text)
    if info.get("format", 0) > FORMAT:
        raise WeightsError(f"{path} was written by a newer inceptionism (format {info['format']}); upgrade to read it")
    return info


def _header(path: Path) -> dict[str, Any]:
    if not path.is_file():
        where = "" if path.parent != Path() else f" (nor in {models_dir()})"
        raise WeightsError(f"model file not found: {path}{where}", argument="model")
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        raw = handle.read(size) if 2 <= size <= HEADER_LIMIT else b""
    try:
        header = json.loads(raw)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise WeightsError(f"{path} is not a trained network (not safetensors); make one with: inceptionism train")
    return header


def is_safetensors(path: str | os.PathLike) -> bool:
    """Whether the file at ``path`` starts as a safetensors file does (a header length, then JSON)."""
    with open(path, "rb") as handle:
        start = handle.read(9)
    return len(start) == 9 and 2 <= int.from_bytes(start[:8], "little") <= HEADER_LIMIT and start[8:9] == b"{"


def trained_entry(path: str | os.PathLike) -> Any:
    """The registry entry of the model file ``path`` (the base model's, with the new classifier and the file)."""
    given = os.fspath(path)
    text = model_path(given)
    return _entry(text, file_sha256(text) if os.path.isfile(text) else "", given)


@functools.lru_cache(maxsize=32)
def _entry(path: str, sha256: str, name: str) -> Any:
    """The entry of the file ``path``, named ``name`` as it was given (a bare name of the models folder stays bare)."""
    from inceptionism.models.registry import get_model_entry  # the registry takes model files through here
    from inceptionism.models.weights import WeightsFile

    info = read_info(path)
    base = get_model_entry(info["base"])
    classes = list(info["classes"])
    preprocessing = Preprocessing(**info["preprocessing"]) if "preprocessing" in info else base.weights.preprocessing
    weights = WeightsFile.of(path, preprocessing=preprocessing, labels=classes, meta=info)
    build = functools.partial(_built, base.build, info["head"], len(classes))
    return dataclasses.replace(base, name=name, description=f"{info['base']} fine-tuned on {len(classes)} classes",
                               build=build, weights=weights, optional_keys=())  # fmt: skip


def _built(build: Any, head: str, classes: int) -> nn.Module:
    body = build()
    if replace_head(body, classes) != head:
        raise WeightsError(f"the file's classifier is {head}, but the base network's last classifier is another")
    return body
