"""``train()``: it learns, writes the model, its metrics and chart, resumes where it stopped, refuses bad input.

The embedded SqueezeNet 1.1 learns three classes of textures (``tests/texture_classes.py``)
from 48 px crops on the CPU, in fp32 so that a run is repeated exactly.
"""

from __future__ import annotations

import csv
import math
import shutil

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from inceptionism.errors import InvalidParameterError, OutputError, UnknownNameError
from inceptionism.models import get_model
from inceptionism.models.trained import read_info
from inceptionism.training.checkpoint import checkpoint_path
from inceptionism.training.fit import EpochRecord, TrainingStopped
from inceptionism.training.record import COLUMNS
from inceptionism.training.train import Hooks, train
from texture_classes import FAST, KINDS, make_texture_classes

CHANCE = 1 / len(KINDS)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_texture_classes(tmp_path_factory.mktemp("textures"))


class Heard:
    """Every call of each hook of a run."""

    def __init__(self) -> None:
        self.notice, self.read, self.batch, self.epoch = [], [], [], []

    def hooks(self) -> Hooks:
        return Hooks(notice=self.notice.append, read=self.on_read, batch=self.on_batch, epoch=self.on_epoch)

    def on_read(self, done: int, total: int) -> None:
        self.read.append((done, total))

    def on_batch(self, epoch: int, done: int, total: int, loss: float, accuracy: float) -> bool:
        self.batch.append((epoch, done, total))
        return False

    def on_epoch(self, record: EpochRecord, classes: tuple[str, ...]) -> None:
        self.epoch.append((record, classes))


@pytest.fixture(scope="module")
def learned(dataset, tmp_path_factory):
    """Six epochs at lr 3e-4 (at the default 1e-3 some seeds kill the new classifier: see the last test), seed 0."""
    heard = Heard()
    out = tmp_path_factory.mktemp("learned") / "textures.pt"
    return train(dataset, out, epochs=6, lr=3e-4, seed=0, hooks=heard.hooks(), **FAST), heard


def stop_at(epoch: int, batch: int):
    """A batch hook that asks to stop after batch ``batch`` of epoch ``epoch``."""

    def stop(number: int, done: int, total: int, loss: float, accuracy: float) -> bool:
        return (number, done) == (epoch, batch)

    return stop


def test_the_loss_falls_and_validation_beats_chance(learned):
    records = learned[0].records
    # Measured (seed 0, 18 validation images): the loss falls 1.44 -> 0.42 (3.5x), validation 78%;
    # with lr 1e-6 (nothing learned) it moves by 13% at most and validation stays at 33% or below.
    assert [record.epoch for record in records] == [1, 2, 3, 4, 5, 6]
    assert records[-1].train_loss < records[0].train_loss / 1.5, [r.train_loss for r in records]
    assert records[-1].val_accuracy >= CHANCE + 0.2, [r.val_accuracy for r in records]
    assert len(records[-1].class_accuracy) == len(KINDS)


def test_hooks_hear_every_image_batch_and_epoch(learned):
    result, heard = learned
    assert heard.notice == []  # nothing skipped, no duplicates
    assert heard.read == [(count, 60) for count in range(1, 61)]
    assert heard.batch == [(epoch, done, 3) for epoch in range(1, 7) for done in (1, 2, 3)]  # 42 images, 16 a batch
    assert heard.epoch == [(record, KINDS) for record in result.records]


def test_the_model_csv_and_chart_are_written_and_the_checkpoint_is_gone(learned):
    result = learned[0]
    folder = result.path.parent
    assert result.classes == KINDS and result.resumed == 0
    assert (result.metrics, result.chart) == (folder / "textures.metrics.csv", folder / "textures.metrics.png")
    assert sorted(path.name for path in folder.iterdir()) == [
        "textures.metrics.csv",
        "textures.metrics.png",
        "textures.pt",
    ]  # no checkpoint left
    assert not checkpoint_path(result.path).exists()
    with result.metrics.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [*COLUMNS, "val_accuracy_checks", "val_accuracy_dots", "val_accuracy_stripes"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5", "6"]
    assert [float(row[1]) for row in rows[1:]] == [round(record.train_loss, 6) for record in result.records]
    with Image.open(result.chart) as chart:
        assert chart.format == "PNG" and chart.width > 400


def test_a_run_stopped_in_epoch_2_resumes_and_ends_as_an_uninterrupted_one(dataset, tmp_path):
    settings = {"epochs": 3, "seed": 3, **FAST}
    whole = train(dataset, tmp_path / "whole.pt", **settings)
    out = tmp_path / "part.pt"
    with pytest.raises(TrainingStopped) as stopped:
        train(dataset, out, hooks=Hooks(batch=stop_at(2, 2)), **settings)
    assert str(stopped.value) == "stopped after batch 2 of 3 of epoch 2"
    assert not out.exists() and checkpoint_path(out).is_file()
    assert len(out.with_name("part.metrics.csv").read_text().splitlines()) == 2  # the header and epoch 1
    with pytest.raises(InvalidParameterError) as other:
        train(dataset, out, **{**settings, "lr": 5e-4})
    assert str(other.value) == (
        f"{checkpoint_path(out)} is a run with another lr; give the same settings to resume it, "
        "or --restart to start over"
    )
    resumed = train(dataset, out, **settings)
    assert resumed.resumed == 1
    assert not checkpoint_path(out).exists()
    assert [r.epoch for r in resumed.records] == [1, 2, 3]
    for ours, theirs in zip(resumed.records, whole.records, strict=True):
        assert ours.train_loss == pytest.approx(theirs.train_loss, abs=1e-5)
    ours, theirs = load_file(out), load_file(whole.path)
    assert ours.keys() == theirs.keys()
    for name, tensor in theirs.items():
        assert torch.allclose(ours[name], tensor, rtol=1e-5, atol=1e-6), name


def test_restart_starts_over_instead_of_resuming(dataset, tmp_path):
    out = tmp_path / "again.pt"
    settings = {"epochs": 2, "seed": 1, **FAST}
    with pytest.raises(TrainingStopped):
        train(dataset, out, hooks=Hooks(batch=stop_at(2, 1)), **settings)
    heard = Heard()
    result = train(dataset, out, restart=True, hooks=heard.hooks(), **settings)
    assert (result.resumed, [record.epoch for record, _ in heard.epoch]) == (0, [1, 2])
    assert not checkpoint_path(out).exists()


def test_without_validation_images_the_figures_are_left_blank_and_notices_are_told(dataset, tmp_path):
    copy = shutil.copytree(dataset, tmp_path / "textures")
    shutil.copy(copy / "dots" / "00.png", copy / "dots" / "again.png")
    heard = Heard()
    result = train(copy, tmp_path / "all.pt", epochs=1, hooks=heard.hooks(), **{**FAST, "val": 0})
    assert heard.notice == ["found 1 exact and 0 near duplicates: dots/00.png = dots/again.png"]
    record = result.records[0]
    assert (record.val_loss, record.val_accuracy, record.class_accuracy) == (None, None, [None, None, None])
    row = result.metrics.read_text().splitlines()[1].split(",")
    assert row[0] == "1" and math.isfinite(float(row[1]))
    assert row[3:5] == ["", ""] and row[6:] == ["", "", ""]
    assert result.chart.is_file()


@pytest.mark.parametrize(
    ("output", "options", "error", "message"),
    [
        ("birds.pth", {}, OutputError, "the model file must end in .pt or .safetensors, got birds.pth; e.g. -o birds.pt"),
        ("{dataset}/dots/birds.pt", {}, OutputError,
         "{dataset}/dots/birds.pt is inside the dataset {dataset}; write the model outside the dataset's folder"),
        ("birds.pt", {"freeze_to": "fire99"}, UnknownNameError,
         "unknown layer 'fire99'; did you mean fire9, fire2, fire3? "
         "(list them with: inceptionism layers --model squeezenet1_1)"),
        ("birds.pt", {"epoch": 3}, UnknownNameError,
         "unknown option 'epoch'; did you mean epochs? (list them with: inceptionism train --help)"),
        ("birds.pt", {"epochs": 0}, InvalidParameterError, "epochs must be >= 1, got 0"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_in_one_line(dataset, tmp_path, output, options, error, message):
    out = tmp_path / "out"
    out.mkdir()
    given = output.format(dataset=dataset) if "{" in output else out / output
    with pytest.raises(error) as refused:
        train(dataset, given, **options, **FAST)
    assert str(refused.value) == message.format(dataset=dataset)
    assert list(out.iterdir()) == []
    assert sorted(path.name for path in (dataset / "dots").iterdir()) == [f"{i:02d}.png" for i in range(20)]


def test_a_dataset_refusal_passes_through(tmp_path):
    root = tmp_path / "one"
    make_texture_classes(root, per_class=5)
    for kind in ("checks", "stripes"):
        for path in (root / kind).iterdir():
            path.unlink()
        (root / kind).rmdir()
    with pytest.raises(InvalidParameterError) as refused:
        train(root, tmp_path / "one.pt", **FAST)
    assert str(refused.value) == f"dataset {root} has one class (dots): a classifier needs at least 2 class folders"
    assert refused.value.argument == "dataset"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["one"]


def test_the_new_classifier_does_not_die_at_the_default_learning_rate(dataset, tmp_path):
    result = train(dataset, tmp_path / "seed2.pt", epochs=6, seed=2, **FAST)
    assert result.records[-1].val_accuracy >= CHANCE + 0.2, [r.val_accuracy for r in result.records]


def test_a_model_file_tells_the_epochs_it_was_trained(dataset, tmp_path):
    out = tmp_path / "short.pt"
    with pytest.raises(TrainingStopped):
        train(dataset, out, epochs=3, seed=0, hooks=Hooks(batch=stop_at(3, 1)), **FAST)
    try:
        result = train(dataset, out, epochs=1, seed=0, **FAST)
    except InvalidParameterError:
        return  # refused: as good as telling it
    assert read_info(result.path)["training"]["epochs"] == len(result.records) == result.records[-1].epoch


@pytest.mark.parametrize("model", ["bvlc_googlenet", "googlenet"])
def test_the_googlenets_train_with_a_classifier_of_their_own_kind(dataset, tmp_path, model):
    # Random weights (the published ones are downloaded, and tests never download): the point is the
    # head, a Caffe InnerProduct (which flattens its input) or a torch Linear, replaced by its own kind.
    result = train(dataset, tmp_path / f"{model}.pt", model=model, weights="random", epochs=1,
                   **{**FAST, "size": 64})  # fmt: skip
    net = get_model(str(result.path))
    head = net.body.get_submodule(read_info(result.path)["head"])
    base = get_model(model, weights="random").body.get_submodule(read_info(result.path)["head"])
    assert type(head) is type(base) and head.weight.shape[0] == len(KINDS)
    with torch.no_grad():
        scores = net(torch.rand(2, 3, 64, 64) * 255)
    assert scores.shape == (2, len(KINDS)) and torch.isfinite(scores).all()
