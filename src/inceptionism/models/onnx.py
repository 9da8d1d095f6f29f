"""ONNX and TorchScript files as PyTorch modules whose layers can be tapped.

An ONNX file is converted with `onnx2torch <https://github.com/ENOT-AutoDL/onnx2torch>`_ into a
``torch.fx.GraphModule`` with one submodule per ONNX node, named after it (``fire2/Concat``):
forward hooks see each of them. A TorchScript module cannot be hooked (its compiled code
calls its submodules directly), so it is exported to ONNX in memory first (PyTorch's
TorchScript exporter) and converted the same way.

Nodes exported from PyTorch carry their module's path (``/features/features.7/Relu``); each
path becomes a layer name too (``features.7``, ``layer3.1``), tapping the last node of that
module: the names a PyTorch user knows.

onnx2torch imports torchvision for two detection operators (NonMaxSuppression and RoiAlign);
where torchvision is not installed (it has no build beside the CPU torch this project pins), a
stand-in that refuses them with one line takes its place, and every other operator converts.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import types
import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from inceptionism.errors import InvalidParameterError, WeightsError

OPSET = 17
"""The ONNX opset a TorchScript module is exported at (onnx2torch converts up to it)."""
META_KEY = "inceptionism"
"""The metadata key (ONNX ``metadata_props``, TorchScript extra file ``inceptionism.json``) a file's own
preprocessing, input size and class names are read from: a JSON object."""
EXTRA_FILE = "inceptionism.json"
EXPORT_SIZE = 224  # the side a TorchScript module is exported at when nothing says its own
NEEDS = "pip install onnx && pip install --no-deps onnx2torch"


def onnx_module(path: str) -> tuple[nn.Module, dict[str, str], dict[str, Any]]:
    """The ONNX file ``path`` as a module, its layer aliases (module paths) and what its metadata says."""
    onnx = _onnx()
    try:
        model = onnx.load(path)
    except Exception as error:
        raise WeightsError(f"{path} is not an ONNX file ({type(error).__name__}: {error})", argument="model") from None
    said = _said(path, {prop.key: prop.value for prop in model.metadata_props}.get(META_KEY))
    return _converted(model, path), _aliases(model), said


def torchscript_module(path: str, size: int | None) -> tuple[nn.Module, dict[str, str], dict[str, Any]]:
    """The TorchScript file ``path`` as a module (through ONNX, exported at ``size``), its aliases and metadata."""
    extra = {EXTRA_FILE: ""}
    try:
        script = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    except Exception as error:
        raise WeightsError(
            f"{path} is not a TorchScript file ({str(error).splitlines()[0]})", argument="model"
        ) from None
    said = _said(path, extra[EXTRA_FILE] or None)
    side = size or said.get("input_size") or EXPORT_SIZE
    buffer = io.BytesIO()
    onnx = _onnx()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter for TorchScript is PyTorch's legacy one, and says so
            torch.onnx.export(
                script.eval(), (torch.zeros(1, 3, side, side),), buffer, dynamo=False, opset_version=OPSET,
                input_names=["pixels"], dynamic_axes={"pixels": {0: "batch", 2: "height", 3: "width"}},
            )  # fmt: skip
    except Exception as error:
        raise InvalidParameterError(
            f"{path} could not be read layer by layer (its export to ONNX failed: {str(error).splitlines()[0]})",
            argument="model",
        ) from None
    model = onnx.load_from_string(buffer.getvalue())
    return _converted(model, path), _aliases(model), said


def _said(path: str, text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        said = json.loads(text)
    except ValueError:
        said = None
    if not isinstance(said, dict):
        raise WeightsError(f"{path}: its '{META_KEY}' metadata is not a JSON object", argument="model")
    return said


def _onnx() -> Any:
    """The onnx package, once onnx2torch is known to be importable."""
    if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnx2torch") is None:
        raise InvalidParameterError(f"ONNX and TorchScript networks need onnx and onnx2torch: {NEEDS}",
                                    argument="model")  # fmt: skip
    import onnx

    return onnx


def _converted(model: Any, path: str) -> nn.Module:
    _torchvision_stand_in()
    from onnx2torch import convert

    try:
        return convert(model).eval()
    except NotImplementedError as error:
        raise InvalidParameterError(
            f"{path} uses an operator onnx2torch cannot convert ({error}); export it at opset {OPSET} or lower, "
            "or give the network as PATH.py:FUNCTION",
            argument="model",
        ) from None


def _torchvision_stand_in() -> None:
    """Let onnx2torch import where torchvision is missing: its two detection operators then refuse to run."""
    if "torchvision" in sys.modules or importlib.util.find_spec("torchvision") is not None:
        return

    def missing(*_args: object, **_kwargs: object) -> None:
        raise InvalidParameterError("this network uses a detection operator (NonMaxSuppression or RoiAlign) "
                                    "that needs torchvision; install it beside torch")  # fmt: skip

    stand_in, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
    ops.nms = ops.roi_align = ops.box_convert = missing  # type: ignore[attr-defined]
    stand_in.ops = ops  # type: ignore[attr-defined]
    sys.modules["torchvision"], sys.modules["torchvision.ops"] = stand_in, ops


def _aliases(model: Any) -> dict[str, str]:
    """Module paths (``features.7``) to the converted module of the last ONNX node inside each."""
    from onnx2torch.onnx_graph import OnnxGraph

    aliases: dict[str, str] = {}
    for converted, node in zip(OnnxGraph(model.graph).nodes, model.graph.node, strict=True):
        for path in module_paths(node.name):
            aliases[path] = converted  # later nodes win: a module is tapped at its last node
    return {path: layer for path, layer in aliases.items() if "/" not in path}


def module_paths(node_name: str) -> list[str]:
    """The module paths an ONNX node exported from PyTorch lies in, outermost first.

    PyTorch names a node by its scopes and operator, each scope either the module's whole
    path or only its last part.

    >>> module_paths("/features/features.7/Relu"), module_paths("/layer3/layer3.1/relu/Relu")
    (['features', 'features.7'], ['layer3', 'layer3.1', 'layer3.1.relu'])
    >>> module_paths("/fire2/squeeze1x1/conv/Conv"), module_paths("conv1/7x7_s2")
    (['fire2', 'fire2.squeeze1x1', 'fire2.squeeze1x1.conv'], [])
    """
    if not node_name.startswith("/"):
        return []
    paths: list[str] = []
    for part in node_name.strip("/").split("/")[:-1]:
        whole = bool(paths) and part.startswith(paths[-1] + ".")
        paths.append(part if whole or not paths else f"{paths[-1]}.{part}")
    return paths


def layer_aliases(aliases: Mapping[str, str], layers: set[str]) -> dict[str, str]:
    """The aliases whose layer a probe found (a module of constants only is no layer)."""
    return {path: layer for path, layer in aliases.items() if layer in layers}
