"""Caffe models without Caffe: the wire reader, the prototxt reader, the builder and the registered GoogLeNets."""

import dataclasses
import hashlib
import io
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from caffe_files import net_file
from click.testing import CliRunner
from PIL import Image

from inceptionism import dream
from inceptionism.cli import cli
from inceptionism.errors import InvalidParameterError, WeightsError
from inceptionism.models import get_model, get_model_entry, registry
from inceptionism.models.caffe import bvlc
from inceptionism.models.caffe.builder import CaffeNet
from inceptionism.models.caffe.prototxt import parse_prototxt
from inceptionism.models.caffe.wire import read_caffemodel
from inceptionism.objectives.specs import split_layer_spec


def caffe_layers(model: str, seed: int, *, extra: bool = True) -> list[tuple[str, str, list[np.ndarray]]]:
    """Random blobs for every parameter layer of a registered Caffe GoogLeNet, plus an aux layer it lacks."""
    body = get_model(model, weights=None).body
    expected = body.state_dict()
    rng = np.random.default_rng(seed)
    layers = []
    for name, params in body.spec.params.items():
        keys = [key for key, _ in params if key in expected]
        kind = params[0][1]
        layers.append((name, kind, [rng.standard_normal(tuple(expected[k].shape)).astype(np.float32) for k in keys]))
    if extra:  # the training net's auxiliary head: in the file, not in the network
        layers.insert(40, ("loss1/conv", "Convolution", [rng.standard_normal((128, 512, 1, 1)).astype(np.float32)]))
    return layers


@pytest.mark.parametrize("v1", [False, True], ids=["layer-field-100", "v1-layers-field-2"])
def test_a_synthetic_caffemodel_arrives_unchanged_in_bvlc_googlenet(tmp_path, v1):
    layers = caffe_layers("bvlc_googlenet", 1)
    path = tmp_path / "bvlc_googlenet.caffemodel"
    path.write_bytes(net_file(layers, v1=v1).data)
    net = get_model("bvlc_googlenet", weights=path)
    assert net.weights == str(path)
    state = net.body.state_dict()
    checked = 0
    for name, _, blobs in layers:
        if name == "loss1/conv":
            continue
        for (key, _), array in zip(net.body.spec.params[name], blobs, strict=False):
            assert np.array_equal(state[key].numpy(), array), key
            checked += 1
    assert checked == len(state) == 57 * 2 + 2  # 57 convolutions and the classifier, each weight and bias
    assert state["inception_4c/5x5.layer.weight"].shape == (64, 24, 5, 5)  # a true 5x5


def test_the_reader_gives_both_layouts_the_same_arrays_without_copying(tmp_path):
    layers = [("conv", "Convolution", [np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2), np.ones(2, np.float32)])]
    for v1 in (False, True):
        path = tmp_path / f"{v1}.caffemodel"
        path.write_bytes(net_file(layers, v1=v1).data)
        (read,) = read_caffemodel(path)
        assert (read.name, read.type) == ("conv", "Convolution")
        assert read.blobs[0].shape == (2, 3, 2, 2)
        assert read.blobs[1].shape == ((1, 1, 1, 2) if v1 else (2,))
        assert np.array_equal(read.blobs[0], layers[0][2][0])
        assert read.blobs[0].base is not None and read.blobs[0].flags.writeable  # a view of the file's buffer


def test_a_truncated_caffemodel_names_the_layer_it_breaks_off_in(tmp_path):
    written = net_file(caffe_layers("bvlc_googlenet", 2, extra=False), v1=False)
    start, end = written.spans["inception_4c/3x3"]
    cut = start + (end - start) // 2
    path = tmp_path / "cut.caffemodel"
    path.write_bytes(written.data[:cut])
    expected = (
        f"{path} is truncated or corrupt in layer 'inception_4c/3x3': a field ends at byte {end} of {cut}; "
        "download the file again"
    )
    with pytest.raises(WeightsError) as info:
        get_model("bvlc_googlenet", weights=path)
    assert str(info.value) == expected
    result = CliRunner().invoke(cli, ["classify", str(path), "--model", "bvlc_googlenet", "--weights", str(path)])
    assert (result.exit_code, result.stderr) == (2, f"Error: {expected} (--weights)\n")


def test_a_blob_of_the_wrong_shape_names_the_layer_and_both_shapes(tmp_path):
    layers = caffe_layers("bvlc_googlenet", 3, extra=False)
    index = next(i for i, (name, *_) in enumerate(layers) if name == "inception_4c/5x5")
    layers[index][2][0] = np.zeros((64, 24, 3, 3), np.float32)  # torchvision's 3x3 where Caffe has 5x5
    path = tmp_path / "wrong.caffemodel"
    path.write_bytes(net_file(layers, v1=False).data)
    with pytest.raises(WeightsError) as info:
        get_model("bvlc_googlenet", weights=path)
    assert str(info.value) == (
        f"{path}: layer 'inception_4c/5x5' has a blob of shape (64, 24, 3, 3), the network expects (64, 24, 5, 5)"
    )
    del layers[-1]  # loss3/classifier
    path.write_bytes(net_file(layers, v1=True).data)
    with pytest.raises(WeightsError, match=r": layer 'inception_4c/5x5' has a blob of shape \(64, 24, 3, 3\)"):
        get_model("bvlc_googlenet", weights=path)
    layers[index][2][0] = np.zeros((64, 24, 5, 5), np.float32)
    path.write_bytes(net_file(layers, v1=True).data)
    with pytest.raises(WeightsError) as info:
        get_model("bvlc_googlenet", weights=path)
    assert str(info.value) == f"{path} has no layer 'loss3/classifier', which the network needs"


def test_a_caffemodel_for_a_torch_network_is_refused(tmp_path):
    path = tmp_path / "x.caffemodel"
    path.write_bytes(net_file([("conv1", "Convolution", [np.zeros(1, np.float32)])], v1=False).data)
    with pytest.raises(WeightsError) as info:
        get_model("googlenet", weights=path)
    assert str(info.value) == (
        f"{path} is a Caffe model file; googlenet takes a PyTorch state dict (try bvlc_googlenet or "
        "caffe:PATH/deploy.prototxt)"
    )


def test_bvlc_googlenet_downloads_checks_caches_and_uses_its_caffemodel(tmp_path, monkeypatch):
    source = tmp_path / "published.caffemodel"
    layers = caffe_layers("bvlc_googlenet", 4)
    source.write_bytes(net_file(layers, v1=True).data)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    entry = get_model_entry("bvlc_googlenet")
    weights = dataclasses.replace(entry.weights, checksum=f"sha1:{hashlib.sha1(source.read_bytes()).hexdigest()}")
    monkeypatch.setitem(registry._REGISTRY, "bvlc_googlenet", dataclasses.replace(entry, weights=weights))
    fetched = []

    def download(url, destination, *args, **kwargs):
        fetched.append(url)
        Path(destination).write_bytes(source.read_bytes())

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    net = get_model("bvlc_googlenet")
    assert fetched == [bvlc.BVLC_URL]
    assert (tmp_path / "torch" / "hub" / "checkpoints" / "bvlc_googlenet.caffemodel").is_file()
    assert np.array_equal(net.body.get_submodule("loss3/classifier.layer").bias.numpy(), layers[-1][2][1])
    assert net.weights == "default" and net.labels[281] == "tabby"
    assert (net.preprocessing.channel_order, net.preprocessing.mean) == ("BGR", (104.0, 116.0, 122.0))


def test_places205_comes_from_its_archive_with_its_category_names(tmp_path, monkeypatch):
    archive = tmp_path / "googlenet_places205.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (
            (
                f"googlenet_places205/{bvlc.PLACES205_CAFFEMODEL}",
                net_file(caffe_layers("googlenet_places205", 5), v1=True).data,
            ),
            (
                "googlenet_places205/categoryIndex_places205.csv",
                "".join(f"/a/place{i} {i}\n" for i in range(205)).encode(),
            ),
            ("googlenet_places205/deploy_places205.protxt", b"name: 'x'"),
            ("../escape.caffemodel", b"outside"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(
        torch.hub, "download_url_to_file", lambda url, dst, *a, **k: Path(dst).write_bytes(archive.read_bytes())
    )
    net = get_model("googlenet_places205")
    assert net.labels[:2] == ("place0", "place1") and len(net.labels) == 205
    cached = tmp_path / "torch" / "hub" / "checkpoints"
    assert sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*") if p.is_file()) == [
        "googlenet_places205/categoryIndex_places205.csv",
        f"googlenet_places205/{bvlc.PLACES205_CAFFEMODEL}",
    ]
    assert not (tmp_path / "torch" / "hub" / "escape.caffemodel").exists()


def test_places365_without_labels_shows_class_numbers_and_takes_a_labels_file(tmp_path):
    assert get_model("googlenet_places365", weights=None).labels[17] == "class 17"
    labels = tmp_path / "categories_places365.txt"
    labels.write_text("".join(f"/{chr(97 + i % 26)}/scene_{i} {i}\n" for i in range(365)))
    assert get_model("googlenet_places365", weights=None, labels_file=labels).labels[17] == "scene_17"
    labels.write_text("one\ntwo\n")
    with pytest.raises(InvalidParameterError) as info:
        get_model("googlenet_places365", weights=None, labels_file=labels)
    assert str(info.value) == f"labels file {labels} names 2 classes but the network has 365 outputs"


def test_bvlc_googlenet_is_the_caffe_architecture():
    net = get_model("bvlc_googlenet", weights=None)
    body = net.body
    assert sum(p.numel() for p in body.parameters()) == 6_998_552  # bvlc_googlenet's published parameter count
    lrn = body.get_submodule("pool1/norm1.layer")
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 1.0)
    assert all(pool.ceil_mode for pool in body.modules() if isinstance(pool, torch.nn.MaxPool2d))
    assert body.get_submodule("pool4/3x3_s2.layer").kernel_size == (3, 3)  # torchvision's is 2x2
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in body.modules())
    assert net.default_layer == "inception_4c/output" and net.min_size == 31
    with net.tap(["inception4c", "inception_4c/output"]) as extract:
        features = extract(torch.rand(1, 3, 64, 64) * 255)
    assert torch.equal(features["inception4c"], features["inception_4c/output"])  # an alias
    assert list(net.layer_channels)[:4] == ["input", "conv1/7x7_s2", "pool1/3x3_s2", "pool1/norm1"]
    fast = net.prepared(torch.device("cpu"))
    branches = {
        f"{block}/{part}" for block in ("inception_3b", "inception_4e") for part in ("1x1", "3x3", "5x5", "pool_proj")
    }
    # The ReLUs feeding pool1, pool3 and pool4 act after them: the blocks they end give pre-activations.
    assert fast.pre_relu_layers == {"conv1/7x7_s2", "inception_3b/output", "inception_4e/output", *branches}
    assert type(fast.body.get_submodule("conv1/7x7_s2.layer")).__name__ == "SpaceToDepthConv2d"
    assert torch.allclose(fast.body.get_submodule("conv1/7x7_s2.layer").fill, torch.tensor([122.0, 116.0, 104.0]))


def test_layer_names_with_slashes_go_through_specs_and_a_dream():
    assert split_layer_spec("inception_4c/output:3,5=2") == ("inception_4c/output", [3, 5], None, 2.0)
    net = get_model("bvlc_googlenet", weights=None)
    result = dream(
        np.full((48, 56, 3), 120, np.uint8),
        model=net,
        layers=["inception_4c/output:3,5", "conv2/norm2:1@20,20", "inception3a"],
        octaves=2,
        steps=2,
        seed=0,
    )
    assert result.params["layers"] == ["inception_4c/output:3,5", "conv2/norm2:1@20,20", "inception3a"]
    assert result.losses[-1] > result.losses[0]


def test_the_2015_settings_are_the_defaults_for_bvlc_googlenet():
    result = dream(
        np.full((40, 40, 3), 100, np.uint8),
        model=get_model("bvlc_googlenet", weights=None),
        seed=0,
        max_size=40,
        octaves=1,
        steps=1,
    )
    settings = result.settings.replace(octaves=4, steps=10)
    assert (settings.octaves, settings.octave_scale, settings.steps, settings.step_size, settings.jitter) == (
        4,
        1.4,
        10,
        1.5,
        32,
    )
    from inceptionism.engine import DreamSettings

    defaults = DreamSettings(model="bvlc_googlenet")
    assert (defaults.octaves, defaults.octave_scale, defaults.steps, defaults.step_size, defaults.jitter) == (
        4,
        1.4,
        10,
        1.5,
        32,
    )


PROTOTXT = """
name: "small"  # a comment
input: "data"
input_dim: 1 input_dim: 3 input_dim: 12 input_dim: 12
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 stride: 1 bias_term: false } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { use_global_stats: true eps: 1e-3 } }
layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "ave" type: "Pooling" bottom: "conv" top: "ave" pooling_param { pool: AVE kernel_size: 2 stride: 2 pad: 1 } }
layer { name: "norm" type: "LRN" bottom: "pool" top: "norm" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 2 } }
layer { name: "sum" type: "Eltwise" bottom: "norm" bottom: "pool" top: "sum" eltwise_param { coeff: 2 coeff: -1 } }
layer { name: "cat" type: "Concat" bottom: "sum" bottom: "pool" top: "cat" }
layer { name: "flat" type: "Flatten" bottom: "cat" top: "flat" }
layer { name: "fc" type: "InnerProduct" bottom: "flat" top: "fc" inner_product_param { num_output: 3 } }
layer { name: "drop" type: "Dropout" bottom: "fc" top: "fc" dropout_param { dropout_ratio: 0.5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""


def _caffe_pool(x: np.ndarray, kernel: int, stride: int, pad: int, average: bool) -> np.ndarray:
    """Caffe's pooling_layer.cpp arithmetic, in NumPy: ceil rounding, the last window starting inside."""
    channels, height, width = x.shape
    side = lambda n: -(-(n + 2 * pad - kernel) // stride) + 1  # noqa: E731
    out_h, out_w = side(height), side(width)
    if pad and (out_h - 1) * stride >= height + pad:
        out_h -= 1
    if pad and (out_w - 1) * stride >= width + pad:
        out_w -= 1
    out = np.zeros((channels, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride - pad, j * stride - pad
            bottom, right = min(top + kernel, height + pad), min(left + kernel, width + pad)
            size = (bottom - top) * (right - left)
            window = x[:, max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
            out[:, i, j] = window.sum((1, 2)) / size if average else window.max((1, 2))
    return out


def test_a_prototxt_net_computes_what_caffe_computes():
    net = CaffeNet(parse_prototxt(PROTOTXT, source="small.prototxt"), source="small.prototxt").eval()
    net.requires_grad_(False)
    assert net.spec.layers == ["conv", "pool", "ave", "norm", "sum", "cat", "flat", "fc", "prob"]
    assert net.spec.fixed_layers == {"fc", "prob"} and net.spec.output == "fc"
    rng = np.random.default_rng(0)
    for value in net.state_dict().values():
        value.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(value.shape)).astype(np.float32)))
    conv = net.get_submodule("conv")
    conv.bn.scale_factor.fill_(4.0)  # Caffe's third BatchNorm blob divides the stored mean and variance
    x = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
    with torch.no_grad():
        values = {}
        hooks = [
            net.get_submodule(n).register_forward_hook(lambda m, i, o, n=n: values.__setitem__(n, o))
            for n in net.spec.layers
        ]
        logits = net(torch.from_numpy(x))
        for hook in hooks:
            hook.remove()
    weight = conv.layer.weight.numpy().astype(np.float64)
    y = F.conv2d(torch.from_numpy(x).double(), torch.from_numpy(weight), padding=1).numpy()[0]
    mean, variance = conv.bn.mean.numpy() / 4, conv.bn.variance.numpy() / 4
    y = (y - mean[:, None, None]) / np.sqrt(variance[:, None, None] + 1e-3)
    y = np.maximum(y * conv.scale.weight.numpy()[:, None, None] + conv.scale.bias.numpy()[:, None, None], 0)
    pool = _caffe_pool(y, 3, 2, 0, False)
    assert pool.shape == (4, 6, 6)  # ceil((12 - 3) / 2) + 1: floor rounding would give 5
    np.testing.assert_allclose(values["pool"][0].numpy(), pool, rtol=1e-5, atol=1e-5)
    ave = _caffe_pool(y, 2, 2, 1, True)
    assert ave.shape == (4, 7, 7)
    np.testing.assert_allclose(values["ave"][0].numpy(), ave, rtol=1e-5, atol=1e-5)
    squares = np.pad(pool**2, ((1, 1), (0, 0), (0, 0)))
    norm = pool / (2 + 0.5 / 3 * (squares[:-2] + squares[1:-1] + squares[2:])) ** 0.75
    np.testing.assert_allclose(values["norm"][0].numpy(), norm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values["sum"][0].numpy(), 2 * norm - pool, rtol=1e-5, atol=1e-5)
    flat = np.concatenate([2 * norm - pool, pool]).reshape(-1)
    fc = net.get_submodule("fc.layer")
    expected = fc.weight.numpy().astype(np.float64) @ flat + fc.bias.numpy()
    np.testing.assert_allclose(logits[0].numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(values["prob"][0].numpy(), np.exp(expected) / np.exp(expected).sum(), atol=1e-6)


def test_the_inference_copy_of_a_prototxt_net_folds_batch_norm_and_scale(tmp_path):
    prototxt = tmp_path / "small.prototxt"
    prototxt.write_text(PROTOTXT)
    net = get_model(f"caffe:{prototxt}", weights=None)
    torch.manual_seed(0)
    for module in net.modules():
        for buffer in module.buffers(recurse=False):
            buffer.uniform_(0.5, 2.0)
    net.double()
    fast = net.prepared(torch.device("cpu"))
    assert type(fast.body.get_submodule("conv").bn).__name__ == "Identity"
    pixels = torch.rand(1, 3, 12, 12, dtype=torch.float64) * 255
    for layer in net.layers:
        with net.tap([layer]) as slow, fast.tap([layer]) as quick:
            expected, got = slow(pixels)[layer], quick(pixels)[layer]
        assert torch.allclose(got, expected, rtol=1e-9, atol=1e-9 * expected.abs().max().item()), layer
    assert fast.pre_relu_layers == set()  # conv feeds two poolings: its ReLU stays where it is


def test_a_net_with_a_fixed_head_says_which_layers_need_its_size(tmp_path):
    prototxt = tmp_path / "small.prototxt"
    prototxt.write_text(PROTOTXT)
    model = f"caffe:{prototxt}"
    net = get_model(model, weights=None)
    assert net.fixed_layers == {"fc", "prob", "logits", "classes"}
    assert (net.min_size, net.input_size, net.labels) == (2, 12, ("class 0", "class 1", "class 2"))
    with net.tap(["cat"]) as extract:
        assert extract(torch.zeros(1, 3, 40, 30))["cat"].shape == (1, 8, 20, 15)  # any size before the head
    with pytest.raises(InvalidParameterError) as info, net.tap(["prob"]) as extract:
        extract(torch.zeros(1, 3, 40, 30))
    assert str(info.value) == (
        f"layer prob of {model} takes only inputs of about 12x12 px (its head has a fixed size), got 30x40; "
        f"dream on a layer before it (inceptionism layers --model {model} marks them)"
    )
    listed = CliRunner().invoke(cli, ["layers", "--model", model]).stdout.splitlines()
    assert [" ".join(line.split()) for line in listed[-4:]] == [
        f"{name} 3 channels (needs 12x12 input)" for name in ("fc", "prob", "logits", "classes")
    ]
    assert " ".join(listed[1].split()) == "conv 4 channels"


V1_PROTOTXT = """
name: 'old'
input: 'data'
input_shape { dim: [1, 3, 8, 8] }
layers { name: 'conv' type: CONVOLUTION bottom: 'data' top: 'conv' convolution_param { num_output: 2 kernel_size: 3 } }
layers { name: 'relu' type: RELU bottom: 'conv' top: 'conv' }
layers { name: 'pool' type: POOLING bottom: 'conv' top: 'pool' pooling_param < pool: AVE global_pooling: true > }
layers { name: 'fc' type: INNER_PRODUCT bottom: 'pool' top: 'fc' inner_product_param { num_output: 5 } }
layers { name: 'loss' type: SOFTMAX_LOSS bottom: 'fc' top: 'loss' include { phase: TRAIN } }
"""


def test_a_v1_prototxt_with_a_global_head_takes_any_size(tmp_path):
    prototxt = tmp_path / "old.prototxt"
    prototxt.write_text(V1_PROTOTXT)
    net = get_model(f"caffe:{prototxt}", weights=None)
    assert net.layers == ("input", "conv", "pool", "fc", "logits", "classes")
    assert net.fixed_layers == set() and net.min_size == 3
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 50, 20)).shape == (1, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: 'data' input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n"
            "layer { name: 'up' type: 'Deconvolution' bottom: 'data' top: 'up' }",
            "p.prototxt: layer 'up' has type 'Deconvolution', which inceptionism cannot build; it builds "
            "Convolution, Pooling, LRN, ReLU, Concat, InnerProduct, Dropout, Softmax, BatchNorm, Scale, Eltwise, Flatten",
        ),
        ("name: 'x'\nlayer {\n  name 'conv' }", "p.prototxt:3: expected ':' or '{' after name"),
        ("layer { name: 'a'", "p.prototxt:1: expected '}', got the end of the file"),
        (
            "input: 'data' input_dim: 1 input_dim: 1 input_dim: 8 input_dim: 8",
            "p.prototxt: input 'data' has shape (1, 1, 8, 8); inceptionism needs (N, 3, H, W), a colour image",
        ),
        (
            "input: 'data' input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n"
            "layer { name: 'c' type: 'Convolution' bottom: 'nothing' top: 'c' }",
            "p.prototxt: layer 'c' reads blob 'nothing', which no earlier layer makes",
        ),
    ],
)
def test_prototxt_errors_are_one_line(tmp_path, text, message):
    with pytest.raises(InvalidParameterError) as info:
        CaffeNet(parse_prototxt(text, source="p.prototxt"), source="p.prototxt")
    assert str(info.value) == message


def test_prototxt_text_format():
    parsed = parse_prototxt(
        'a: 1 b: -2.5e-1 c: "x\\"y" "z" d: true e: MAX f { g: [1, 2, 3] } f < g: 4 >; h: 0.5f # end'
    )
    assert parsed == {
        "a": [1],
        "b": [-0.25],
        "c": ['x"yz'],
        "d": [True],
        "e": ["MAX"],
        "f": [{"g": [1, 2, 3]}, {"g": [4]}],
        "h": [0.5],
    }


def test_a_caffe_model_needs_its_weights_given(tmp_path):
    prototxt = tmp_path / "small.prototxt"
    prototxt.write_text(PROTOTXT)
    model = f"caffe:{prototxt}"
    with pytest.raises(WeightsError) as info:
        get_model(model)
    assert str(info.value) == (
        f"{model} has no published weights; pass its .caffemodel with --weights FILE (in Python: weights=FILE), "
        "or random ones with --weights random"
    )
    with pytest.raises(InvalidParameterError) as info:
        get_model(f"caffe:{tmp_path / 'none.prototxt'}")
    assert str(info.value) == (
        f"prototxt file not found: {tmp_path / 'none.prototxt'} (give the model as caffe:PATH/deploy.prototxt)"
    )
    with pytest.raises(InvalidParameterError) as info:
        get_model("bvlc_googlenet", weights=None, mean=(1, 2, 3))
    assert str(info.value) == (
        "mean is for networks from outside (PATH.py:FUNCTION, TorchScript, ONNX) and caffe:PATH; "
        "bvlc_googlenet has its own (mean 104, 116, 122, BGR)"
    )


def test_offline_messages_do_not_leave_partial_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def cut_off(url, destination, *args, **kwargs):
        Path(destination).write_bytes(b"half")
        raise urllib.error.URLError("connection reset")

    monkeypatch.setattr(torch.hub, "download_url_to_file", cut_off)
    with pytest.raises(WeightsError, match=r"\(connection reset\); download googlenet_places365.caffemodel"):
        get_model("googlenet_places365")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_cli_dreams_and_classifies_with_a_caffe_model_its_mean_and_labels(tmp_path):
    from inceptionism.io.images import read_metadata

    prototxt = tmp_path / "small.prototxt"
    prototxt.write_text(PROTOTXT)
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\nfish\n")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (90, 140, 200)).save(photo)
    model = [
        "--model",
        f"caffe:{prototxt}",
        "--weights",
        "random",
        "--mean",
        "100,110,120",
        "--labels-file",
        str(labels),
    ]
    out = tmp_path / "dream.png"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["dream", str(photo), "-o", str(out), *model, "--layer", "sum:1", "--octaves", "2", "--steps", "2", "-q"]
    )
    assert result.exit_code == 0, result.output
    params = read_metadata(out)
    assert (params["model"], params["mean"], params["labels_file"]) == (
        f"caffe:{prototxt}",
        [100.0, 110.0, 120.0],
        str(labels),
    )
    again = runner.invoke(cli, ["dream", str(photo), "-o", str(tmp_path / "again.png"), "--from", str(out), "-q"])
    assert again.exit_code == 0, again.output
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")), np.asarray(Image.open(out)))
    top = runner.invoke(cli, ["classify", str(photo), *model, "--top", "3"])
    assert top.exit_code == 0, top.output
    assert sorted(line.split()[1] for line in top.stdout.splitlines()) == ["cat", "dog", "fish"]
    wrong = runner.invoke(cli, ["classify", str(photo), *model[:-1], str(photo)])
    assert (wrong.exit_code, wrong.stderr) == (2, f"Error: labels file {photo} is not UTF-8 text (--labels-file)\n")
