"""Fast tier: settings as data: one declaration per option, validated once, round-tripped exactly."""

import dataclasses
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import inceptionism
from inceptionism.cli import cli
from inceptionism.engine import OPTIONS, DreamSettings, Schedule
from inceptionism.engine.settings import RECORD_ONLY
from inceptionism.errors import InvalidParameterError, UnknownNameError
from inceptionism.io.images import read_metadata, save_image

README = Path(__file__).resolve().parents[2] / "README.md"

# Between them, every option away from its default: a photo dream and a noise dream.
PHOTO = DreamSettings(
    preset="deep", model="tiny", weights="random", mean=(100, 110.5, 120), labels_file="labels.txt",
    std=(1, 2, 3), channel_order="BGR", value_range="0-255", input_size=227, random_scale=0.1, random_rotate=5,
    layers=("conv2:1,3=2", "conv3"), classes=("class3=2",), loss="abs-mean",
    octaves=2, octave_scale=1.5, steps=3, step_size=4.0, jitter=5, lap_levels=2, smooth=0.5, tv=0.1,
    keep_colors=True, tile=24, memory_budget=64, lr=0.1, seed=7, max_size=None, device="cpu", precision="fp32",
)  # fmt: skip
NOISE = DreamSettings(
    noise=(48, 40), param="pixel", octave_sizes=(24, 48), steps=2, seed=3, max_size=64, weights="model.pth"
)


def test_every_option_is_off_its_default_in_one_of_the_two():
    for field in dataclasses.fields(DreamSettings):
        default = OPTIONS[field.name].default
        assert getattr(PHOTO, field.name) != default or getattr(NOISE, field.name) != default, field.name


def test_settings_fields_are_the_options_in_order():
    assert [field.name for field in dataclasses.fields(DreamSettings)] == list(OPTIONS)
    assert DreamSettings().steps == 10 and DreamSettings(noise=(64, 64)).steps == 256
    assert DreamSettings(noise="64x48").param == "fourier" and DreamSettings().param is None


@pytest.mark.parametrize("settings", [PHOTO, NOISE, DreamSettings()], ids=["photo", "noise", "defaults"])
def test_round_trip_through_dict_json_pickle_and_image_metadata(tmp_path, settings):
    assert DreamSettings.from_dict(settings.to_dict()) == settings
    assert DreamSettings.from_dict(json.loads(settings.to_json())) == settings
    assert pickle.loads(pickle.dumps(settings)) == settings
    for suffix in (".png", ".jpg", ".webp"):
        path = tmp_path / f"out{suffix}"
        save_image(Image.new("RGB", (8, 8)), path, metadata={**settings.to_dict(), "version": "0", "size": [8, 8]})
        assert DreamSettings.from_dict(read_metadata(path)) == settings


def test_to_dict_is_plain_json_data():
    data = PHOTO.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["layers"] == ["conv2:1,3=2", "conv3"] and data["max_size"] is None
    assert NOISE.to_dict()["noise"] == "48x40"
    assert "noise" not in PHOTO.to_dict() and "tile" not in DreamSettings().to_dict()


def test_values_are_stored_in_one_form():
    assert DreamSettings(layers="fire7", classes=[954, "banana"]) == DreamSettings(
        layers=("fire7",), classes=("954", "banana")
    )
    assert DreamSettings(noise=[64, 48]).noise == (64, 48)
    assert DreamSettings(weights=None).weights == "random"
    assert DreamSettings(octave_scale=2).octave_scale == 2.0


def test_a_dreams_parameters_rebuild_its_settings_and_pixels(tiny_net, noise_image):
    result = inceptionism.dream(noise_image, model=tiny_net, layers=["conv2"], octaves=2, steps=2, max_size=None)
    rebuilt = DreamSettings.from_dict(result.params)
    assert rebuilt == result.settings
    assert rebuilt.seed == result.params["seed"]
    assert set(result.params) - set(OPTIONS) <= set(RECORD_ONLY)
    again = inceptionism.dream(noise_image, model=tiny_net, settings=rebuilt)
    assert np.array_equal(np.asarray(again.image), np.asarray(result.image))
    assert again.params == result.params


def test_recorded_run_is_information_not_an_option(tiny_net, noise_image):
    params = inceptionism.dream(noise_image, model=tiny_net, octaves=1, steps=1, precision="fp32").params
    assert params["run"] == {"device": "cpu", "precision": "fp32", "tile": None, "tile_batch": 1}
    assert params["version"] == inceptionism.__version__ and params["size"] == [64, 48]
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.dream(noise_image, **params)
    assert str(info.value) == (
        "dream() got 'version', which a dream records as information, not an option; "
        "to dream with recorded parameters, pass settings=DreamSettings.from_dict(params)"
    )


def test_from_dict_refuses_unknown_keys_and_python_objectives():
    with pytest.raises(InvalidParameterError) as info:
        DreamSettings.from_dict({"octave": 3})
    assert str(info.value) == "the settings got an unknown option 'octave'; did you mean 'octaves'?"
    with pytest.raises(InvalidParameterError) as info:
        DreamSettings.from_dict({"objective": "conv2:1@0.5,0.5"})
    assert str(info.value).startswith("these parameters come from a dream with a Python objective (conv2:1@0.5,0.5)")
    with pytest.raises(InvalidParameterError, match=r"^settings must be a mapping"):
        DreamSettings.from_dict(["octaves", 3])


def test_create_and_updated_apply_the_preset_then_the_options():
    assert DreamSettings.create("deep", steps=5) == DreamSettings(
        preset="deep", octaves=6, steps=5, step_size=2.0, lap_levels=4
    )
    assert DreamSettings(octaves=2, seed=4).updated("subtle", steps=None).steps == 6
    assert DreamSettings(octaves=2, seed=4).updated(max_size=None).max_size is None  # None is a value here
    assert DreamSettings(octaves=2).updated(octaves=None).octaves == 2  # ... and "not given" here
    with pytest.raises(UnknownNameError, match=r"^unknown preset 'deeper'; did you mean deep\?"):
        DreamSettings.create("deeper")


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DreamSettings().octaves = 3


def test_the_schedule_shares_the_bounds_and_defaults():
    schedule = DreamSettings().schedule()
    assert schedule == Schedule()
    for name in ("octaves", "octave_scale", "step_size", "jitter", "lap_levels", "smooth", "tv", "keep_colors"):
        assert getattr(schedule, name) == OPTIONS[name].default
    for bad in ({"octaves": 17}, {"octave_scale": 1e300}, {"smooth": 1e9}):
        with pytest.raises(InvalidParameterError) as settings_error:
            DreamSettings(**bad)
        with pytest.raises(InvalidParameterError) as schedule_error:
            Schedule(**bad)
        assert str(settings_error.value) == str(schedule_error.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"param": "pixel"}, "param chooses how noise is optimised; it needs noise, e.g. noise='512x512'"),
        ({"noise": (64, 64), "keep_colors": True}, "mask and keep_colors work on an input image; noise has none"),
        (
            {"noise": "4096x64"},
            "noise size 4096x64 is larger than max_size 2048; give sides up to 2048 or raise max_size (at most 8192)",
        ),
        ({"layers": ["conv2"] * 65}, "layers takes at most 64 specs, got 65"),
        ({"layers": [3]}, "layers must hold spec strings of at most 1000 characters, got '3'"),
        ({"classes": "class3=x"}, "bad weight in class spec 'class3=x': use NAME[=weight], e.g. banana=2"),
        ({"seed": 2**63}, "seed must be in 0..9223372036854775807, got 9223372036854775808"),
        ({"device": "cuda:x"}, "device must be one of auto, cpu, cuda, mps, got 'cuda:x'"),
        ({"model": ""}, "model must be a name of 1..4096 characters, got ''"),
        (
            {"mean": "1,2"},
            "mean must be three numbers, one per channel in the network's order, in 0..255, like 104,117,123, got '1,2'",
        ),
        (
            {"mean": (1, 2, 300)},
            "mean must be three numbers, one per channel in the network's order, in 0..255, like 104,117,123, "
            "got '(1, 2, 300)'",
        ),
        ({"keep_colors": 1}, "keep_colors must be True or False, got 1"),
    ],
)
def test_cross_field_and_type_checks(options, message):
    with pytest.raises(InvalidParameterError) as info:
        DreamSettings(**options)
    assert str(info.value) == message


def test_errors_name_the_argument_and_the_cli_adds_its_flag(tmp_path):
    with pytest.raises(InvalidParameterError) as info:
        DreamSettings(octave_scale=0.7)
    assert info.value.argument == "octave_scale"
    assert "--" not in str(info.value)
    result = CliRunner().invoke(cli, ["dream", "-o", str(tmp_path / "x.png"), "--octave-scale", "0.7"])
    assert result.exit_code == 2
    assert result.stderr == "Error: octave_scale must be > 1.0, got 0.7 (--octave-scale)\n"


def readme_option_defaults() -> dict[str, str]:
    """The README's dream option table: flag -> default cell, backticks dropped."""
    rows = {}
    for line in README.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`-"):
            flag = re.findall(r"--[a-z-]+", cells[0])[0]
            rows[flag] = cells[1].replace("`", "")
    return rows


def test_readme_and_help_show_the_declared_defaults():
    rows = readme_option_defaults()
    help_text = " ".join(CliRunner().invoke(cli, ["dream", "--help"]).output.split())
    for option in OPTIONS.values():
        assert rows[option.flag] == option.default_text, option.name
        shown = [f"default: {option.default_text}" if option.default_text else "", option.bounds]
        if any(shown):
            assert f"[{'; '.join(part for part in shown if part)}]" in help_text, option.name


@pytest.mark.parametrize(
    "command", ["dream", "zoom", "video", "info", "presets", "classes", "models", "layers", "classify"]
)
def test_help_is_plain_text(command):
    output = CliRunner().invoke(cli, [command, "--help"]).output
    assert "``" not in output and ":func:" not in output and ":class:" not in output
    assert "Example" in output
