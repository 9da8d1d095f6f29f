"""Networks from outside: your Python file (PATH.py:FUNCTION), an nn.Module, TorchScript and ONNX files.

A small VGG-like network (written into each test's folder) stands for a user's own; its
TorchScript and ONNX exports are made here with PyTorch's exporters. The embedded SqueezeNet's
exports are compared on real photos in test_imported_real.py.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

import inceptionism
from inceptionism.cli import cli
from inceptionism.errors import InvalidParameterError, WeightsError
from inceptionism.io.images import read_metadata, save_image
from inceptionism.models import get_model, shared_model
from inceptionism.models.imported import Convention, model_checksum, model_kind, module_name
from inceptionism.models.onnx import EXTRA_FILE, META_KEY

VGG = textwrap.dedent(
    """
    import torch
    from torch import nn


    class SmallVGG(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            )
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Linear(32, 10)

        def forward(self, x):
            return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


    def build():
        torch.manual_seed(0)
        return SmallVGG()


    def not_a_module():
        return 42


    def broken():
        raise ValueError("no weights here")
    """
)
DREAM = {"octaves": 2, "steps": 6, "max_size": 96, "seed": 0, "jitter": 4}


class Shared(nn.Module):
    """A block whose one ReLU runs twice, as in torchvision's ResNet BasicBlock."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv2(self.relu(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


@pytest.fixture
def vgg_file(tmp_path):
    path = tmp_path / "vgg.py"
    path.write_text(VGG)
    return path


@pytest.fixture
def vgg(vgg_file):
    return get_model(f"{vgg_file}:build")


def _gain(net, layer, before, after) -> float:
    """How much the mean square of ``layer`` rose from ``before`` to ``after`` (images, 0..255 arrays)."""
    values = []
    with torch.no_grad(), net.tap([layer]) as extract:
        for image in (before, after):
            pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
            values.append(float(extract(pixels)[layer].square().mean()))
    return values[1] / values[0]


def test_a_python_file_is_a_network_with_layers_by_module_path(vgg):
    assert vgg.layers[:4] == ("input", "features.0", "features.1", "features.2")
    assert vgg.layers[-6:] == ("features.9", "features", "pool", "classifier", "logits", "classes")
    assert vgg.layer_channels["features.6"] == 32
    assert vgg.min_size == 4  # two 2x2 max-pools
    assert vgg.default_layer == "features.7"  # about two thirds up the layers with a spatial map
    assert vgg.input_size == 224 and vgg.preprocessing.mean == (0.485, 0.456, 0.406)


def test_a_python_file_dreams_and_raises_its_tapped_layer(vgg_file, vgg, noise_image):
    name = f"{vgg_file}:build"
    result = inceptionism.dream(noise_image, model=name, layers=["features.6"], **DREAM)
    gain = _gain(vgg, "features.6", result.source.image, result.image)
    assert gain > 1.3, gain  # measured 1.43 (a random network, 12 steps on noise)
    assert result.params["model"] == name
    assert result.params["model_sha256"] == model_checksum(name)
    assert len(result.params["model_sha256"]) == 64


def test_an_nn_module_dreams_in_python(noise_image, vgg):
    module = vgg.body  # any nn.Module: here the same network, unwrapped
    result = inceptionism.dream(noise_image, model=module, layers=["features.6"], **DREAM)
    assert result.params["model"].startswith("module:SmallVGG:")
    assert _gain(vgg, "features.6", result.source.image, result.image) > 1.3
    again = inceptionism.dream(noise_image, model=module, layers=["features.6"], **DREAM)
    assert np.array_equal(np.asarray(again.image), np.asarray(result.image))  # same seed, same pixels


def test_a_changed_module_is_another_name(vgg):
    module = vgg.body
    before = module_name(module)
    with torch.no_grad():
        module.classifier.bias += 1
    assert module_name(module) != before
    assert model_kind(before) == "module"


def test_a_layer_called_twice_is_tapped_at_its_last_call():
    torch.manual_seed(0)
    module = Shared().eval()
    net = shared_model(module_name(module))
    assert "relu" in net.repeated_layers
    pixels = torch.rand(1, 3, 16, 16) * 255
    with torch.no_grad(), net.tap(["relu"]) as extract:
        tapped = extract(pixels)["relu"]
        x = net.normalize(pixels)
        last = module.relu(module.conv2(module.relu(module.conv1(x))))
    assert torch.equal(tapped, last)


def test_the_convention_is_given_or_the_files(vgg_file):
    net = shared_model(
        f"{vgg_file}:build",
        convention=Convention(
            mean=(104, 117, 123), std=(1, 1, 1), channel_order="BGR", value_range="0-255", input_size=64
        ),
    )
    assert net.preprocessing.channel_order == "BGR" and net.preprocessing.scale == 1.0
    assert net.preprocessing.mean == (104.0, 117.0, 123.0) and net.input_size == 64


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("missing", "{path} has no function missing"),
        ("not_a_module", "not_a_module() in {path} returned a int, not a torch nn.Module"),
        ("broken", "broken() in {path} failed: ValueError: no weights here"),
    ],
)
def test_a_python_file_that_gives_no_network_says_why(vgg_file, function, message):
    with pytest.raises(InvalidParameterError) as info:
        get_model(f"{vgg_file}:{function}")
    assert str(info.value) == message.format(path=vgg_file)


def test_a_python_file_that_fails_to_run_says_where(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import torch\nraise RuntimeError('bad file')\n")
    with pytest.raises(InvalidParameterError) as info:
        get_model(f"{path}:build")
    assert str(info.value) == f"{path} failed to run: RuntimeError: bad file"
    with pytest.raises(InvalidParameterError) as info:
        get_model(f"{tmp_path / 'none.py'}:build")
    assert str(info.value) == f"model file not found: {tmp_path / 'none.py'}"


def test_a_network_that_does_not_take_the_size_says_to_give_it(tmp_path):
    path = tmp_path / "fixed.py"
    path.write_text("from torch import nn\ndef build():\n    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), "
                    "nn.Linear(4 * 30 * 30, 5))\n")  # fmt: skip
    with pytest.raises(InvalidParameterError) as info:
        get_model(f"{path}:build")
    assert str(info.value).startswith(f"{path}:build does not run on a 3x224x224 image (RuntimeError: ")
    assert str(info.value).endswith("; give the size it takes with --input-size")
    net = get_model(f"{path}:build", convention=Convention(input_size=32))
    assert net.fixed_layers == {"2", "logits", "classes"}  # the flatten takes any size, the linear layer not
    assert net.layers[1:4] == ("0", "1", "2") and net.default_layer == "0"


def test_registered_networks_refuse_a_convention():
    with pytest.raises(InvalidParameterError) as info:
        get_model("squeezenet1_1", weights=None, convention=Convention(std=(1, 1, 1), channel_order="RGB"))
    assert str(info.value) == (
        "std, channel order are for networks from outside (PATH.py:FUNCTION, TorchScript, ONNX); "
        "squeezenet1_1 has its own (mean 104.006, 116.669, 122.679, BGR)"
    )


def _export_onnx(module, path, metadata=None):
    import onnx

    torch.onnx.export(module.eval(), (torch.zeros(1, 3, 64, 64),), str(path), dynamo=False, opset_version=17,
                      input_names=["pixels"], dynamic_axes={"pixels": {0: "b", 2: "h", 3: "w"}})  # fmt: skip
    if metadata is not None:
        model = onnx.load(str(path))
        model.metadata_props.add(key=META_KEY, value=json.dumps(metadata))
        onnx.save(model, str(path))


def test_an_onnx_file_is_tapped_by_module_path(tmp_path, vgg, noise_image):
    path = tmp_path / "vgg.onnx"
    _export_onnx(vgg.body, path, {"labels": [f"thing {i}" for i in range(10)], "input_size": 96})
    net = get_model(str(path))
    assert net.aliases["features.6"] == "features/features/6/Relu"
    assert net.labels[3] == "thing 3" and net.input_size == 96
    pixels = torch.rand(1, 3, 40, 56) * 255
    with torch.no_grad(), net.tap(["features.6", "logits"]) as mine, vgg.tap(["features.6", "logits"]) as theirs:
        got, want = mine(pixels), theirs(pixels)
    for layer in ("features.6", "logits"):
        torch.testing.assert_close(got[layer], want[layer], rtol=1e-5, atol=1e-5)
    result = inceptionism.dream(noise_image, model=str(path), layers=["features.6"], **DREAM)
    assert _gain(vgg, "features.6", result.source.image, result.image) > 1.3


def test_a_torchscript_file_is_tapped_by_module_path(tmp_path, vgg):
    path = tmp_path / "vgg.pt"  # a .pt that is TorchScript, not a trained network's safetensors
    scripted = torch.jit.script(vgg.body)
    torch.jit.save(scripted, str(path), _extra_files={EXTRA_FILE: json.dumps({"mean": [0.5, 0.5, 0.5]})})
    assert model_kind(str(path)) == "torchscript"
    net = get_model(str(path))
    assert net.preprocessing.mean == (0.5, 0.5, 0.5)
    assert {"features", "features.6", "pool", "classifier"} <= set(net.aliases)
    pixels = torch.rand(1, 3, 48, 48) * 255
    reference = get_model(f"{path}", convention=Convention())  # the cached network: same object, same answer
    assert reference is not net
    with torch.no_grad(), net.tap(["features.6"]) as extract:
        got = extract(pixels)["features.6"]
    want = vgg.body.features[:7](net.normalize(pixels))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_a_file_that_is_not_onnx_says_so(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"not a network")
    with pytest.raises(WeightsError) as info:
        get_model(str(path))
    assert str(info.value).startswith(f"{path} is not an ONNX file (")


def test_the_cli_lists_and_dreams_a_python_file(tmp_path, vgg_file):
    runner = CliRunner()
    listed = runner.invoke(cli, ["layers", "--model", f"{vgg_file}:build"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[7].split() == ["features.6", "32", "channels"]
    assert lines[8].split() == ["features.7", "32", "channels", "[default]"]
    assert "--model" in runner.invoke(cli, ["dream", "--help"]).output
    assert "PATH.py:FUNCTION (runs that file's code)" in " ".join(
        runner.invoke(cli, ["dream", "--help"]).output.split()
    )
    out = tmp_path / "d.png"
    ran = runner.invoke(cli, ["dream", "--noise", "64x48", "--param", "pixel", "--model", f"{vgg_file}:build",
                              "--layer", "features.6", "--octaves", "1", "--steps", "2", "-o", str(out), "-q"])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert read_metadata(out)["model"] == f"{vgg_file}:build"


def test_the_cli_repeats_a_dream_only_with_the_same_file(tmp_path, vgg_file, noise_image):
    first = tmp_path / "first.png"
    result = inceptionism.dream(noise_image, model=f"{vgg_file}:build", layers=["features.6"], **DREAM)
    save_image(result.image, first, metadata=result.params)
    vgg_file.write_text(VGG.replace("manual_seed(0)", "manual_seed(1)"))
    ran = CliRunner().invoke(cli, ["dream", "--from", str(first), "-o", str(tmp_path / "again.png"), "-q"])
    assert ran.exit_code != 0
    assert f"{vgg_file}:build is not the file {first} was dreamed with" in ran.output


def test_the_cli_refuses_a_convention_for_a_registered_network():
    ran = CliRunner().invoke(cli, ["classify", "--std", "1,1,1", "tests/data/coffee.jpg"])
    assert ran.exit_code == 2
    assert "std is for networks from outside (PATH.py:FUNCTION, TorchScript, ONNX); squeezenet1_1 has its own" in (
        ran.output
    )
