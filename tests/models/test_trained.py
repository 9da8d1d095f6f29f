"""Model files of trained networks: round trips, metadata, refusals, checksums, the models folder, the studio.

A file is written by ``train()`` (two epochs on ``tests/texture_classes.py``, seconds) or
directly with ``replace_head`` and ``save_trained``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from inceptionism.errors import UnknownNameError, WeightsError
from inceptionism.models import get_model, shared_model
from inceptionism.models.imported import check_same_model, model_checksum
from inceptionism.models.trained import (
    model_path,
    models_dir,
    read_info,
    replace_head,
    save_trained,
    trained_files,
)
from inceptionism.training import scan_dataset, split_dataset
from inceptionism.training.augment import centred
from inceptionism.training.pixels import decode, kept_side
from inceptionism.training.train import train
from inceptionism.web.catalog import ModelCatalog
from texture_classes import FAST, KINDS, make_texture_classes


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two epochs, seed 0: the result of ``train()``."""
    dataset = make_texture_classes(tmp_path_factory.mktemp("textures"))
    return train(dataset, tmp_path_factory.mktemp("model") / "textures.pt", epochs=2, seed=0, **FAST)


@pytest.fixture
def home(trained, tmp_path, monkeypatch):
    """A user data directory holding the trained file as ``models/mine.pt``."""
    monkeypatch.setenv("INCEPTIONISM_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "models").mkdir(parents=True)
    shutil.copy(trained.path, tmp_path / "home" / "models" / "mine.pt")
    return tmp_path / "home"


def altered(path) -> None:
    """Rewrite the model file ``path`` with its classifier's bias raised by 1 (the metadata kept)."""
    with safe_open(str(path), "pt") as handle:
        metadata = handle.metadata()
    state = load_file(path)
    state["conv10.bias"] = state["conv10.bias"] + 1
    save_file(state, path, metadata=metadata)


def test_the_file_gives_the_validation_scores_its_training_measured(trained):
    """The network read back scores the validation images' central crops as the last epoch did."""
    info = read_info(trained.path)
    net = get_model(str(trained.path))
    found = scan_dataset(info["dataset"]["path"])
    _, held_out = split_dataset(found, info["training"]["val"], info["training"]["seed"])
    size = info["training"]["size"]
    pixels = torch.stack([decode(found.items[index][0], kept_side(size)) for index in held_out])
    labels = torch.tensor([found.items[index][1] for index in held_out])
    with torch.no_grad():
        logits = net(centred(pixels, size))
    assert F.cross_entropy(logits, labels).item() == pytest.approx(info["metrics"]["val_loss"], abs=1e-5)
    assert (logits.argmax(1) == labels).float().mean().item() == pytest.approx(info["metrics"]["val_accuracy"])
    assert net.labels == KINDS


def test_replace_head_save_trained_and_get_model_give_the_same_logits(tmp_path):
    net = get_model("squeezenet1_1")
    torch.manual_seed(0)
    head = replace_head(net.body, 4)
    torch.nn.init.normal_(net.body.conv10.weight, std=0.05)  # scores far from 0, unlike the new head's
    torch.nn.init.uniform_(net.body.conv10.bias, 0.5, 1.5)
    classes = ["ash", "beech", "cedar", "elm"]
    info = {"base": "squeezenet1_1", "classes": classes, "head": head,
            "preprocessing": dataclasses.asdict(net.preprocessing)}  # fmt: skip
    save_trained(tmp_path / "trees.safetensors", net.body, info)
    read = get_model(str(tmp_path / "trees.safetensors"))
    pixels = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 255
    with torch.no_grad():
        expected, found = net.eval()(pixels), read(pixels)
    assert head == "conv10" and found.shape == (2, 4)
    assert torch.equal(found, expected)
    assert read.labels == tuple(classes)
    assert read.layer_channels["conv10"] == 4 and read.layer_channels["logits"] == 4
    assert read_info(tmp_path / "trees.safetensors") == json.loads(json.dumps({"format": 1, **info}))


def test_read_info_says_what_the_file_is(trained):
    info = read_info(trained.path)
    assert {key: info[key] for key in ("format", "base", "base_weights", "classes", "head", "freeze_to")} == {
        "format": 1,
        "base": "squeezenet1_1",
        "base_weights": "default",
        "classes": list(KINDS),
        "head": "conv10",
        "freeze_to": "fire5",
    }
    assert info["preprocessing"] == json.loads(json.dumps(dataclasses.asdict(get_model("squeezenet1_1").preprocessing)))
    assert info["training"] == {"freeze_to": "fire5", "epochs": 2, "batch": 16, "lr": 3e-4, "size": 48, "val": 0.3,
                                "seed": 0, "precision": "fp32"}  # fmt: skip
    dataset = scan_dataset(info["dataset"]["path"])
    assert info["dataset"] == {"path": str(dataset.root), "images": 60, "train": 42, "val": 18,
                               "checksum": dataset.checksum, "counts": dict.fromkeys(KINDS, 20)}  # fmt: skip
    assert info["metrics"] == dataclasses.asdict(trained.records[-1])


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("state.pt", lambda path: torch.save({"w": torch.zeros(2)}, path),
         "{path} is not a trained network (not safetensors); make one with: inceptionism train"),
        ("notes.pt", lambda path: path.write_text("not a network"),
         "{path} is not a trained network (not safetensors); make one with: inceptionism train"),
        ("plain.safetensors", lambda path: save_file({"w": torch.zeros(2)}, path),
         "{path} is a safetensors file but not a trained network (it has no 'inceptionism' metadata)"),
        ("later.pt", lambda path: save_file({"w": torch.zeros(2)}, path, metadata={"inceptionism": '{"format": 2}'}),
         "{path} was written by a newer inceptionism (format 2); upgrade to read it"),
        ("missing.pt", lambda path: None, "model file not found: {path}"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_trained_network_is_refused(tmp_path, name, write, message):
    path = tmp_path / name
    write(path)
    for read in (read_info, get_model):
        with pytest.raises(WeightsError) as refused:
            read(str(path))
        assert str(refused.value) == message.format(path=path)


def test_the_checksum_follows_the_file_and_a_changed_file_is_read_anew(trained, tmp_path):
    path = tmp_path / "copy.pt"
    shutil.copy(trained.path, path)
    before = model_checksum(str(path))
    assert before == hashlib.sha256(path.read_bytes()).hexdigest()
    assert model_checksum("squeezenet1_1") is None
    pixels = torch.full((1, 3, 48, 48), 128.0)
    with torch.no_grad():
        first = shared_model(str(path))(pixels)
        altered(path)
        second = shared_model(str(path))(pixels)
    now = model_checksum(str(path))
    assert now != before
    assert not torch.equal(first, second)  # not the network cached for the file as it was
    check_same_model(str(path), now, "dream.png")
    with pytest.raises(WeightsError) as refused:
        check_same_model(str(path), before, "dream.png")
    assert str(refused.value) == (
        f"{path} is not the file dream.png was dreamed with (SHA-256 {before[:12]}..., now {now[:12]}...); "
        "give that file with --model"
    )


def test_the_models_folder_is_in_the_user_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("INCEPTIONISM_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert models_dir() == tmp_path / ".inceptionism" / "models"
    assert trained_files() == []
    monkeypatch.setenv("INCEPTIONISM_HOME", str(tmp_path / "elsewhere"))
    assert models_dir() == tmp_path / "elsewhere" / "models"


def test_a_bare_name_is_found_in_the_models_folder_and_a_file_here_first(home, tmp_path, monkeypatch):
    (home / "models" / "notes.txt").write_text("not a model")
    (home / "models" / "b.safetensors").write_bytes((home / "models" / "mine.pt").read_bytes())
    assert trained_files() == ["b.safetensors", "mine.pt"]
    monkeypatch.chdir(tmp_path)
    assert model_path("mine.pt") == str(home / "models" / "mine.pt")
    assert get_model("mine.pt").labels == KINDS
    assert model_path("other.pt") == "other.pt"  # not there: left for the error to name
    shutil.copy(home / "models" / "mine.pt", tmp_path / "mine.pt")
    assert model_path("mine.pt") == "mine.pt"


def test_the_studio_offers_the_models_folder_by_bare_name(home):
    catalog = ModelCatalog()
    assert catalog.names()[-1] == "mine.pt"
    assert catalog.names()[0] == catalog.default == "squeezenet1_1"
    assert catalog.network("mine.pt").labels == KINDS
    assert catalog.network("mine.pt").name == "mine.pt"  # what a result records: no path of the server
    info = catalog.info("mine.pt")
    assert (info.description, info.default_layer) == ("squeezenet1_1 fine-tuned on 3 classes", "fire7")
    assert info.layer_channels["conv10"] == 3


@pytest.mark.parametrize("name", ["../x.pt", "{home}/x.pt", "{home}/models/mine.pt", "models/mine.pt",
                                  "caffe:{home}/deploy.prototxt"])  # fmt: skip
def test_the_studio_refuses_a_path_or_a_caffe_model(home, name):
    shutil.copy(home / "models" / "mine.pt", home / "x.pt")  # there, but outside the models folder
    (home / "deploy.prototxt").write_text('name: "x"\n')
    given = name.format(home=home)
    catalog = ModelCatalog()
    for ask in (catalog.network, catalog.info):
        with pytest.raises(UnknownNameError) as refused:
            ask(given)
        assert str(refused.value).startswith(f"unknown model {given!r}")
        assert str(refused.value).endswith("(list them with: GET /api/models)")


def test_a_file_of_the_models_folder_that_is_not_a_network_does_not_break_the_list(home):
    torch.save({"w": torch.zeros(2)}, home / "models" / "download.pt")
    catalog = ModelCatalog()
    assert "mine.pt" in catalog.names()
    for name in catalog.names():
        catalog.info(name)
