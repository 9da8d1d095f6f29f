"""``inceptionism train``, and the model file it writes in every command that takes ``--model``.

The network is trained once for the module (two epochs of 48 px crops on
``tests/texture_classes.py``, seconds); the commands then run with tiny settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from conftest import make_clip
from inceptionism.cli import cli
from inceptionism.io.images import read_metadata
from inceptionism.render.sheet import contact_sheet
from texture_classes import FAST, KINDS, make_texture_classes

TRAIN = [*(part for name, value in FAST.items() for part in (f"--{name}", str(value))), "--seed", "0"]
"""The library tests' settings (``FAST``) as flags."""
SMALL = ["--max-size", "64", "--octaves", "1", "--steps", "2", "--seed", "1", "-q"]
"""A 64 px dream of one octave, two steps: a fraction of a second."""


def run(*args, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pixels_of(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def textures(tmp_path_factory) -> Path:
    return make_texture_classes(tmp_path_factory.mktemp("textures"))


@pytest.fixture(scope="module")
def trained(textures, tmp_path_factory):
    """``inceptionism train`` for two epochs: its result and the model file."""
    model = tmp_path_factory.mktemp("model") / "mine.pt"
    return run("train", textures, "-o", model, "--epochs", "2", *TRAIN), model


@pytest.fixture
def model(trained) -> Path:
    result, path = trained
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def photo(textures) -> Path:
    return textures / "dots" / "00.png"


@pytest.fixture
def home(model, tmp_path) -> Path:
    """A user data directory whose models folder holds a copy of the model as ``mine.pt``."""
    (tmp_path / "home" / "models").mkdir(parents=True)
    shutil.copy(model, tmp_path / "home" / "models" / "mine.pt")
    return tmp_path / "home"


def test_train_prints_a_line_per_epoch_and_writes_the_model(trained):
    result, model = trained
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line[: line.index(":")] for line in lines[:2]] == ["epoch 1", "epoch 2"]
    for line in lines[:2]:
        assert re.fullmatch(
            r"epoch \d: train loss \d+\.\d{3}, accuracy \d+\.\d%; validation loss \d+\.\d{3}, accuracy \d+\.\d% "
            r"\(checks \d+\.\d%, dots \d+\.\d%, stripes \d+\.\d%\); \d+ images/s",
            line,
        ), line
    metrics, chart = model.with_name("mine.metrics.csv"), model.with_name("mine.metrics.png")
    assert re.fullmatch(
        rf"wrote {re.escape(str(model))} \(3 classes; validation accuracy \d+\.\d%\), "
        rf"{re.escape(str(metrics))} and {re.escape(str(chart))}",
        lines[2],
    ), lines[2]
    assert len(lines) == 3
    assert "reading images: 100%" in result.stderr and "epoch 2: 100%" in result.stderr  # the bars
    assert sorted(path.name for path in model.parent.iterdir()) == ["mine.metrics.csv", "mine.metrics.png", "mine.pt"]


def test_train_quiet_prints_the_epoch_lines_only(textures, tmp_path):
    result = run("train", textures, "-o", tmp_path / "quiet.pt", "--epochs", "1", "-q", *TRAIN)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("epoch 1: train loss ") and result.stderr == ""


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("mine.pt", "dataset {dataset} has one class (dots): a classifier needs at least 2 class folders"),
        ("mine.pth", "the model file must end in .pt or .safetensors, got mine.pth; e.g. -o birds.pt"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, output, message):
    dataset = make_texture_classes(tmp_path / "one", per_class=5)
    for kind in ("checks", "stripes"):
        shutil.rmtree(dataset / kind)
    result = run("train", dataset, "-o", tmp_path / output, *TRAIN)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message.format(dataset=dataset)}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["one"]


def train_process(command: list[str]) -> tuple[list[str], str, int]:
    """Run ``command``; send Ctrl-C once its first epoch line is out. Its epoch lines, stderr and exit code."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("epoch "):
            process.send_signal(signal.SIGINT)
            break
    rest, stderr = process.communicate(timeout=300)
    return lines + rest.splitlines(), stderr, process.returncode


def test_ctrl_c_stops_after_the_batch_and_the_same_command_goes_on(textures, tmp_path):
    # 50 epochs: after the signal, far more work than the batch it waits for
    command = [sys.executable, "-m", "inceptionism", "train", str(textures), "-o", str(tmp_path / "mine.pt"),
               "--epochs", "50", *TRAIN]  # fmt: skip
    lines, stderr, code = train_process(command)
    assert code == 130, stderr
    epochs = [int(line.split(":")[0].removeprefix("epoch ")) for line in lines]
    assert epochs[0] == 1 and epochs == list(range(1, len(epochs) + 1))
    assert re.fullmatch(
        rf"Error: stopped after batch [123] of 3 of epoch {len(epochs) + 1}; the finished epochs are kept: "
        "run the same command to go on",
        stderr.strip().splitlines()[-1],
    ), stderr
    assert not (tmp_path / "mine.pt").exists() and (tmp_path / ".mine.pt.checkpoint").is_file()
    again, stderr, code = train_process(command)
    assert again[0].startswith(f"epoch {len(epochs) + 1}: train loss "), again  # not epoch 1 again
    assert code == 130, stderr


def test_dream_a_class_of_the_model_by_its_name(model, photo, tmp_path):
    out = tmp_path / "dots.png"
    result = run("dream", photo, "-m", model, "--class", "dots", "-o", out, *SMALL)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out} (64x64, {model} class dots, seed 1) in ")
    params = read_metadata(out)
    assert (params["model"], params["classes"], params["model_sha256"]) == (str(model), ["dots"], sha256(model))


def test_dream_from_repeats_the_pixels_and_refuses_a_changed_model_file(model, photo, tmp_path):
    copy = tmp_path / "copy.pt"
    shutil.copy(model, copy)
    first, again = tmp_path / "first.png", tmp_path / "again.png"
    assert run("dream", photo, "-m", copy, "--class", "stripes", "-o", first, *SMALL).exit_code == 0
    result = run("dream", photo, "--from", first, "-o", again, "-q")
    assert result.exit_code == 0, result.output
    assert np.array_equal(pixels_of(again), pixels_of(first))
    before = sha256(copy)
    with safe_open(str(copy), "pt") as handle:
        metadata = handle.metadata()
    state = load_file(copy)
    state["conv10.bias"] = state["conv10.bias"] + 1
    save_file(state, copy, metadata=metadata)
    result = run("dream", photo, "--from", first, "-o", tmp_path / "changed.png", "-q")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {copy} is not the file {first} was dreamed with (SHA-256 {before[:12]}..., "
        f"now {sha256(copy)[:12]}...); give that file with --model\n"
    )
    assert not (tmp_path / "changed.png").exists()


def test_the_output_cannot_be_the_model_file(model, photo):
    before = sha256(model)
    result = run("dream", photo, "-m", model, "-o", model, *SMALL)
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {model}: it is the model file; give another output\n"
    assert sha256(model) == before


def test_zoom_two_frames_with_their_labels(model, photo, tmp_path):
    out = tmp_path / "zoom.gif"
    result = run("zoom", photo, "-m", model, "--frames", "2", "-o", out, *SMALL)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"wrote {out} (2 frames, seed 1)"
    rows = (tmp_path / "zoom.gif.labels.csv").read_text().splitlines()
    assert rows[0] == "frame,rank,label,probability" and len(rows) == 1 + 2 * len(KINDS)


def test_zoom_two_frames(model, photo, tmp_path):
    out = tmp_path / "zoom.gif"
    result = run("zoom", photo, "-m", model, "--frames", "2", "--no-labels", "-o", out, *SMALL)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out} (2 frames, seed 1)\n"
    with Image.open(out) as animation:
        assert (animation.n_frames, animation.size) == (2, (64, 64))


def test_video_of_a_clip(model, tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", count=4)
    out = tmp_path / "dream.mp4"
    result = run("video", clip, "-m", model, "-o", out, "--max-size", "64", "--octaves", "1", "--steps", "1",
                 "--seed", "1", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out} (4 frames, seed 1)\n"
    assert out.stat().st_size > 0


def test_batch_of_two_photos(model, textures, tmp_path):
    out = tmp_path / "dreams"
    photos = [textures / "dots" / "00.png", textures / "checks" / "00.png"]
    result = run("batch", *photos, "-m", model, "-o", out, *SMALL)
    assert result.exit_code == 0, result.output
    index = json.loads((out / "index.json").read_text())
    assert len(index["items"]) == 2
    assert {item["params"]["model"] for item in index["items"]} == {str(model)}
    assert all((out / item["file"]).is_file() for item in index["items"])


def test_atlas_of_the_logits_draws_a_tile_per_class(model, tmp_path):
    out, tiles = tmp_path / "classes.png", tmp_path / "tiles"
    result = run("atlas", "-m", model, "--layer", "logits", "--size", "40", "--steps", "4", "-o", out,
                 "--save-tiles", tiles, "--no-cache", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"wrote {out} (3 channels of logits: 3 drawn, 0 from the cache)"
    names = [f"logits_c{channel}.png" for channel in range(len(KINDS))]
    assert sorted(path.name for path in tiles.iterdir()) == names
    expected = contact_sheet([Image.open(tiles / name) for name in names], list(KINDS))  # labelled by class name
    assert np.array_equal(pixels_of(out), np.asarray(expected))


def test_classify_prints_the_class_names(model, photo):
    result = run("classify", photo, "-m", model)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert sorted(label for _, label in rows) == sorted(KINDS)
    assert sum(float(share.rstrip("%")) for share, _ in rows) == pytest.approx(100, abs=0.05)


def test_classes_lists_the_models_classes_and_a_wrong_one_names_them(model, photo, tmp_path):
    listed = run("classes", "--model", model)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.split() == [word for index, kind in enumerate(sorted(KINDS)) for word in (str(index), kind)]
    wrong = run("dream", photo, "-m", model, "--class", "bus", "-o", tmp_path / "never.png")
    assert wrong.exit_code == 2
    assert wrong.stderr.strip() == f"Error: unknown class 'bus' (its classes are {', '.join(sorted(KINDS))})"


def test_layers_lists_the_new_classifier(model):
    result = run("layers", "-m", model)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"conv10 +3 channels", lines[-3]) and re.fullmatch(r"fire9 +512 channels", lines[-4])


def test_info_prints_the_base_and_the_classes(model):
    result = run("info", model)
    assert result.exit_code == 0, result.output
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert (fields["base"], fields["classes"], fields["head"]) == ("squeezenet1_1", "checks dots stripes", "conv10")
    assert fields["training"].startswith("batch=16 epochs=2 freeze_to=fire5 ")


def test_models_lists_the_models_folder(home):
    result = run("models", env={"INCEPTIONISM_HOME": str(home)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-2:] == [
        "mine.pt  (trained: squeezenet1_1 on 3 classes: checks, dots, stripes)",
        f"    {home / 'models' / 'mine.pt'}",
    ]


def test_models_goes_on_past_a_file_that_is_not_a_network(home):
    torch.save({"w": torch.zeros(2)}, home / "models" / "download.pt")
    result = run("models", env={"INCEPTIONISM_HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert "mine.pt  (trained: squeezenet1_1 on 3 classes: checks, dots, stripes)" in result.stdout.splitlines()


def test_a_bare_name_is_found_in_the_models_folder(home, photo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"INCEPTIONISM_HOME": str(home)}
    result = run("classify", photo, "-m", "mine.pt", env=env)
    assert result.exit_code == 0, result.output
    assert sorted(line.split()[1] for line in result.stdout.splitlines()) == sorted(KINDS)
    result = run("dream", photo, "-m", "mine.pt", "--class", "checks", "-o", "checks.png", *SMALL, env=env)
    assert result.exit_code == 0, result.output
    assert read_metadata(tmp_path / "checks.png")["model"] == "mine.pt"  # as given: --from finds it the same way
    assert os.environ.get("INCEPTIONISM_HOME") != str(home)  # the runner's env is the command's only
