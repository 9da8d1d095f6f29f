"""``inceptionism atlas`` on the embedded SqueezeNet (tiny settings): the sheet, the tiles, the cache, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import DATA
from inceptionism.cli import cli
from inceptionism.engine.runtime import resolve_device, resolve_precision
from inceptionism.io.images import read_metadata
from inceptionism.models import shared_model
from inceptionism.render.atlas import rank_channels

pytestmark = pytest.mark.real

LAYER = "fire2.squeeze1x1"
SMALL = ["--layer", LAYER, "--channels", "0-3", "--size", "48", "--steps", "4", "-q"]
"""Four 48 px tiles of 4 steps: a fraction of a second."""
PHOTO = DATA / "coffee.jpg"
DEVICE = resolve_device("auto")
RUNS_ON = {"precision": resolve_precision("auto", DEVICE), "device": DEVICE.type}
"""Where and how "auto" runs on this machine (bf16 on a CPU)."""


def run(*args):
    return CliRunner().invoke(cli, ["atlas", *(str(a) for a in args)])


def pixels_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def cached_tiles(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "inceptionism" / "atlas").glob("*/*"))


def wrote(out: Path, drawn: int, reused: int, count: int = 4) -> str:
    return f"wrote {out} ({count} channels of {LAYER}: {drawn} drawn, {reused} from the cache)"


def test_atlas_writes_the_sheet_with_its_parameters(tmp_path, own_cache_dir):
    out = tmp_path / "sheet.png"
    result = run(*SMALL, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [wrote(out, 4, 0)]
    assert result.stderr == ""
    sheet = Image.open(out)
    assert sheet.width == 2 * (48 + 4) + 4  # 2x2 tiles of 48 px, a label band under each row
    assert (sheet.height - 4) % 2 == 0 and 48 + 4 < (sheet.height - 4) // 2 <= 2 * 48
    assert read_metadata(out) == {
        "model": "squeezenet1_1",
        "layer": LAYER,
        "size": 48,
        "steps": 4,
        "lr": 0.05,
        "seed": 0,
        "decay": 1.5,
        **RUNS_ON,
        "channels": [0, 1, 2, 3],
    }
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sheet.png"]
    assert [path.name for path in cached_tiles(own_cache_dir)] == [f"{LAYER}_c{c}.png" for c in range(4)]


def test_a_second_run_takes_every_tile_from_the_cache(tmp_path):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    assert run(*SMALL, "-o", first).stdout.splitlines() == [wrote(first, 4, 0)]
    result = run(*SMALL, "-o", second)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [wrote(second, 0, 4)]
    assert np.array_equal(pixels_of(first), pixels_of(second))
    shifted = tmp_path / "shifted.png"
    result = run(*SMALL, "--channels", "2-5", "-o", shifted)
    assert result.stdout.splitlines() == [wrote(shifted, 2, 2)]


def test_no_cache_draws_every_tile_again(tmp_path, own_cache_dir):
    out = tmp_path / "sheet.png"
    run(*SMALL, "-o", out)
    result = run(*SMALL, "-o", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [wrote(out, 4, 0)]
    assert run(*SMALL, "--channels", "4", "-o", out, "--no-cache").stdout.splitlines() == [wrote(out, 1, 0, 1)]
    assert f"{LAYER}_c4.png" not in [path.name for path in cached_tiles(own_cache_dir)]


def test_another_seed_is_drawn_again(tmp_path):
    out = tmp_path / "sheet.png"
    run(*SMALL, "-o", out)
    assert run(*SMALL, "-o", out, "--seed", "1").stdout.splitlines() == [wrote(out, 4, 0)]


def test_save_tiles_writes_every_tile_with_its_channel_and_activation(tmp_path):
    out, tiles = tmp_path / "sheet.png", tmp_path / "tiles"
    result = run(*SMALL, "-o", out, "--save-tiles", tiles)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [wrote(out, 4, 0)]
    names = [f"{LAYER}_c{c}.png" for c in range(4)]
    assert sorted(path.name for path in tiles.iterdir()) == names
    sheet = pixels_of(out)
    row = (sheet.shape[0] - 4) // 2  # a tile, its label band and a gap
    for index, name in enumerate(names):
        metadata = read_metadata(tiles / name)
        assert (metadata["channel"], metadata["layer"], metadata["size"]) == (index, LAYER, 48)
        assert isinstance(metadata["activation"], float)
        left, top = 4 + (index % 2) * 52, 4 + (index // 2) * row
        assert np.array_equal(sheet[top : top + 48, left : left + 48], pixels_of(tiles / name))


def test_the_default_output_is_named_after_the_layer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*SMALL)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [wrote(Path(f"{LAYER}-atlas.png"), 4, 0)]
    assert [path.name for path in tmp_path.iterdir()] == [f"{LAYER}-atlas.png"]


def test_a_photo_ranks_the_channels_and_prints_the_ranking(tmp_path):
    out = tmp_path / "seen.png"
    result = run(*SMALL, "--channels", "0-15", "--photo", PHOTO, "--top", "3", "-o", out)
    assert result.exit_code == 0, result.output
    ranking = rank_channels(shared_model("squeezenet1_1"), LAYER, PHOTO, range(16))
    assert result.stdout.splitlines() == [
        wrote(out, 3, 0, 3),
        *(f"{LAYER}:{channel}  {value:.3f}" for channel, value in ranking[:3]),
    ]
    assert read_metadata(out)["channels"] == [channel for channel, _ in ranking[:3]]


BAD_INPUT = [
    (
        ["--channels", "0-999"],
        f"channel 16 does not exist in {LAYER} of squeezenet1_1: it has channels 0..15 (--channels)",
    ),
    (["--channels", "x"], "channels must be numbers and ranges like 0-63 or 3,12,40, got 'x' (--channels)"),
    (["--channels", "3-1"], "channel range 3-1 runs backwards (--channels)"),
    (
        ["--layer", "nope"],
        "unknown layer 'nope' in squeezenet1_1 (list them with: inceptionism layers --model squeezenet1_1)",
    ),
    (
        ["--layer", "fire22"],
        "unknown layer 'fire22' in squeezenet1_1; did you mean fire2, fire3, fire4? "
        "(list them with: inceptionism layers --model squeezenet1_1)",
    ),
    (["--size", "10"], "size must be >= 32, got 10 (--size)"),
    (["--size", "33"], "size 33 is too small for squeezenet1_1: tiles need at least 34 px (--size)"),
    (["--steps", "0"], "steps must be >= 1, got 0 (--steps)"),
    (["--model", "nope"], "unknown model 'nope' (list them with: inceptionism models) (--model)"),
    (["-o", "missing/sheet.png"], "cannot write missing/sheet.png: directory missing does not exist"),
    (
        ["-o", "a-file/sheet.png"],
        "cannot write a-file/sheet.png: a-file is a file, not a directory; give an output in a directory",
    ),
    (
        ["-o", "sheet.gif"],
        "cannot write sheet.gif: unknown image extension '.gif'; use one of .png, .jpg, .jpeg, .webp",
    ),
    (["--photo", "nothere.jpg"], "input not found: nothere.jpg"),
    (["--zzz", "2"], "No such option '--zzz'. (see: inceptionism atlas --help)"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(args) for args, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, own_cache_dir, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_bytes(b"")
    result = run(*SMALL, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert [path.name for path in tmp_path.iterdir()] == ["a-file"]
    assert cached_tiles(own_cache_dir) == []


def test_a_tile_folder_that_cannot_be_made_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_bytes(b"")
    result = run(*SMALL, "-o", "sheet.png", "--save-tiles", "a-file/tiles")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert [path.name for path in tmp_path.iterdir()] == ["a-file"]


@pytest.mark.parametrize(("args", "flag"), [(["--batch", "0"], "--batch"), (["--top", "0"], "--top")])
def test_an_atlas_option_out_of_range_names_its_flag(tmp_path, args, flag):
    result = run(*SMALL, *args, "-o", tmp_path / "sheet.png")
    assert result.exit_code == 2
    assert result.stderr.endswith(f"({flag})\n")


def test_a_bad_channel_is_refused_before_any_bar_or_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("--layer", LAYER, "--channels", "500", "--size", "48", "--save-tiles", "tiles")  # a bar unless -q
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: channel 500 does not exist in fire2.squeeze1x1 of squeezenet1_1: it has channels 0..15 (--channels)\n",
    )
    assert list(tmp_path.iterdir()) == []
