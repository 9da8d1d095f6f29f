"""Fast tier: named presets, their precedence, and every preset dreamed on the tiny network."""

import numpy as np
import pytest

import inceptionism
from inceptionism.engine import OPTIONS, PRESETS, DreamSettings
from inceptionism.errors import UnknownNameError

SCHEDULE = ("octaves", "octave_scale", "step_size", "jitter", "lap_levels", "smooth", "tv", "keep_colors")
DEFAULTS = {**{key: OPTIONS[key].default for key in SCHEDULE}, "steps": 10, "noise": None, "param": None}

# Small enough for the tiny net at every preset's octaves: deep's 6 octaves x1.4 end at 9x12 px.
FAST = {"steps": 1, "seed": 0, "precision": "fp32", "max_size": None, "layers": ["conv2"]}


def run_preset(net, image, name, **options):
    """Dream with ``name``: its own noise (shrunk to 48x48, 2 octaves) if it makes noise, else ``image``."""
    settings = {**FAST, **options}
    if PRESETS[name].options.get("noise") is not None:
        settings = {"noise": (48, 48), "octaves": 2, **settings}
        return inceptionism.dream(preset=name, model=net, **settings)
    return inceptionism.dream(image, preset=name, model=net, **settings)


# presets applied by DreamSettings.create


def fields(settings: DreamSettings) -> dict:
    return {key: getattr(settings, key) for key in DEFAULTS}


def test_create_without_preset_is_the_defaults():
    assert DreamSettings.create() == DreamSettings()
    assert DEFAULTS == {
        "octaves": 4, "octave_scale": 1.4, "steps": 10, "step_size": 1.5, "jitter": 32, "lap_levels": 0,
        "smooth": 0.0, "tv": 0.0, "keep_colors": False, "noise": None, "param": None,
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_overrides_defaults(name):
    options = PRESETS[name].options
    expected = {**DEFAULTS, **options}
    if options.get("noise") is not None:
        expected["noise"] = tuple(options["noise"])
    assert fields(DreamSettings.create(name)) == expected
    assert set(options) <= set(DEFAULTS)  # a preset only sets known options


def test_explicit_overrides_preset_and_none_means_not_given():
    explicit = {"steps": 5, "step_size": None, "lap_levels": 0, "keep_colors": False, "smooth": 0.0, "jitter": None}
    settings = DreamSettings.create("deep", **explicit)
    assert settings.steps == 5  # explicit over deep's 20
    assert settings.step_size == 2.0  # None: deep's value stays
    assert settings.lap_levels == 0  # an explicit 0 is given, not missing: over deep's 4
    assert settings.jitter == 32  # None, and deep does not set it: the default
    assert settings.octaves == 6
    assert settings.keep_colors is False and settings.smooth == 0.0


def test_create_leaves_the_tables_alone():
    deep = dict(PRESETS["deep"].options)
    DreamSettings.create("deep", steps=3, octaves=2)
    assert PRESETS["deep"].options == deep


def test_the_doctest_case():
    assert (DreamSettings.create("deep", steps=5).steps, DreamSettings.create("deep", steps=None).steps) == (5, 20)


def test_preset_names():
    assert list(PRESETS) == ["classic", "subtle", "deep", "fractal-noise"]
    assert all(PRESETS[name].name == name and PRESETS[name].description for name in PRESETS)
    assert PRESETS["classic"].options == {}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("clasic", "unknown preset 'clasic'; did you mean classic? (list them with: inceptionism presets)"),
        ("Deep", "unknown preset 'Deep'; did you mean deep? (list them with: inceptionism presets)"),
        ("fractal", "unknown preset 'fractal'; did you mean fractal-noise? (list them with: inceptionism presets)"),
        ("zzz", "unknown preset 'zzz' (list them with: inceptionism presets)"),
    ],
)
def test_unknown_preset_suggests_the_closest(name, message):
    with pytest.raises(UnknownNameError) as info:
        DreamSettings.create(name)
    assert str(info.value) == message


def test_dream_refuses_an_unknown_preset_before_any_work(tiny_net, noise_image):
    with pytest.raises(UnknownNameError) as info:
        inceptionism.dream(noise_image, preset="subtel", model=tiny_net, **FAST)
    assert str(info.value) == "unknown preset 'subtel'; did you mean subtle? (list them with: inceptionism presets)"


# every preset through dream()


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_dreams_and_records_its_values(tiny_net, noise_image, name):
    result = run_preset(tiny_net, noise_image, name)
    params, options = result.params, PRESETS[name].options
    assert params["preset"] == name
    assert params["steps"] == 1  # explicit wins over the preset
    makes_noise = options.get("noise") is not None
    expected = {**DEFAULTS, **options, "steps": 1, **({"octaves": 2} if makes_noise else {})}
    for key in ("octaves", "octave_scale", "step_size", "jitter", "lap_levels", "smooth", "tv", "keep_colors"):
        assert params[key] == expected[key], key
    if makes_noise:
        assert (params["noise"], params["param"], result.image.size) == ("48x48", options["param"], (48, 48))
        assert "input" not in params
    else:
        assert "noise" not in params and "param" not in params
        assert result.image.size == (64, 48)
    assert len(result.losses) == expected["octaves"]
    # Each preset really dreamed: mean change measured 3.8 (classic), 2.3 (subtle), 9.1 (deep), 3.4 (noise).
    assert np.abs(np.asarray(result.image, int) - np.asarray(result.source.image, int)).mean() > 1.0


def test_explicit_options_win_over_the_preset_in_dream(tiny_net, noise_image):
    result = run_preset(tiny_net, noise_image, "deep", octaves=2, lap_levels=0, step_size=3.0, steps=2)
    params = result.params
    assert (params["octaves"], params["lap_levels"], params["step_size"], params["steps"]) == (2, 0, 3.0, 2)
    assert params["octave_scale"] == 1.4 and params["jitter"] == 32  # not set by deep: defaults
    assert len(result.losses) == 4


def test_preset_and_the_same_options_by_hand_give_the_same_pixels(tiny_net, noise_image):
    by_preset = run_preset(tiny_net, noise_image, "subtle", octaves=2)
    by_hand = inceptionism.dream(noise_image, model=tiny_net, **{**PRESETS["subtle"].options, **FAST, "octaves": 2})
    assert np.array_equal(np.asarray(by_preset.image), np.asarray(by_hand.image))
    assert "preset" not in by_hand.params
    assert {key: value for key, value in by_preset.params.items() if key != "preset"} == by_hand.params


def test_no_preset_is_not_recorded(tiny_net, noise_image):
    params = inceptionism.dream(noise_image, model=tiny_net, octaves=2, **FAST).params
    assert "preset" not in params
    assert (params["steps"], params["step_size"], params["jitter"]) == (1, 1.5, 32)
