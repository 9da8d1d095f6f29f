"""Fuzzing the settings: any value of any option is either refused with the package's own one-line error, or dreams.

Hypothesis draws whole keyword sets for :class:`DreamSettings`, mixing cheap valid values with extreme
and malformed ones (huge or non-finite numbers, bools and strings where numbers go, wrong types, odd
specs and sizes). Settings that are made are dreamed once on the tiny network. Only an
:class:`InceptionismError` may escape; a dream that runs must give finite pixels in 0..255 of the
right size, and no example may make the process allocate gigabytes.
"""

from __future__ import annotations

import contextlib
import functools
import math
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import make_tiny_net
from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import ImageError, InceptionismError, InvalidParameterError
from inceptionism.models import Network

NAN, INF = float("nan"), float("inf")
TINIEST = 5e-324  # the smallest positive float
FRAME_SIZE = (32, 40)  # (H, W) of the frame dreamed when the settings have no noise
MEMORY_CEILING = 3 * 2**30  # bytes of resident memory no example may reach
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")

# Values that are wrong for (almost) every option: None is left out, it is a value for some.
WRONG_TYPES = ["abc", "", [], [1], {}, {"a": 1}, b"1", (1, 2)]
EXTREME_INTS = [-1, -5, 0, 10**9, 2**70, -(2**70), 10**400, True, False, 1.5, NAN, INF, -INF, 1e300, "3", None]
EXTREME_FLOATS = [
    *(NAN, INF, -INF, 1e300, -1e300, -0.0, 0.0, TINIEST, 1e-300, 1e9, -1.0),
    *(10**9, 2**70, -(2**70), 10**400, -1, 0, True, False, "1.5", "nan", None),
]


def _pick(values: list) -> st.SearchStrategy:
    return st.sampled_from(values)


def _ints(low: int, high: int, *extra: object) -> st.SearchStrategy:
    return st.one_of(st.integers(low, high), _pick([low, high, *extra]))


def _floats(low: float, high: float, *extra: object) -> st.SearchStrategy:
    return st.one_of(st.floats(low, high, allow_nan=False), _pick([low, high, *extra]))


def _noise_sizes(low: int, high: int) -> st.SearchStrategy:
    side = st.integers(low, high)
    return st.one_of(
        st.tuples(side, side),
        st.builds(lambda w, h: [w, h], side, side),
        st.builds("{}x{}".format, side, side),
        st.builds(" {} X {} ".format, side, side),
    )


LAYERS_VALID = ["conv1", "conv2", "conv3", "conv2:1,3=2", "conv3:0-15", "conv2:1@5,5", "conv1=0.5", " conv2 "]
LAYERS_EXTREME = [
    *("conv2=nan", "conv2=inf", "conv2=-inf", "conv2=1e309", "conv2=1e308", "conv2=-1", "conv2=0", "conv2=abc"),
    *("conv3:0-100000000", "conv3:0-65535", "conv3:0-65536", "conv2:16", "conv2:-1", "conv2:3-1", "conv2:"),
    *("conv2:a", "conv2:99999999999999999999", "conv2:1@5", "conv2:1,2@5,5", "conv2@5,5", "conv2:1@-1,0"),
    *("conv2:1@1000000000,0", "conv2:1@39,31", "conv9", "fc", "CONV2", "cönv2", "conv2\n", "", " ", ":::"),
    *("=", "@", "x" * 1001, "conv2" + "," * 999),
]
CLASSES_VALID = ["class3", "class3=2", "7", "Class0", "class9=-1", "class1=0.5"]
CLASSES_EXTREME = [
    *("999", "10", "-1", "class3=nan", "class3=inf", "class3=1e308", "class3=0", "", "=", "class3=", "=2"),
    *("١", "99999999999999999999", "banana", "class 3", "x" * 1001),
    *(7, -1, 10**30, 10**400, True, 3.5, None),
]

# Per option: (valid and cheap to dream, extreme or malformed).
OPTION_VALUES: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]] = {
    "preset": (
        _pick([None, "classic", "subtle", "deep", "fractal-noise"]),
        _pick(["nope", "DEEP", "", 5, *WRONG_TYPES]),
    ),
    "weights": (_pick(["random", "default", None, "weights.pt"]), _pick(["", "x" * 5000, 5, *WRONG_TYPES])),
    "layers": (
        st.one_of(_pick(LAYERS_VALID), st.lists(_pick(LAYERS_VALID), max_size=3)),
        st.one_of(
            _pick(LAYERS_EXTREME),
            st.lists(st.one_of(_pick(LAYERS_VALID), _pick(LAYERS_EXTREME)), min_size=1, max_size=3),
            _pick([None, 5, True, b"conv2", {"conv2": 1}, ["conv2"] * 65, [["conv2"]], [None], [5], NAN]),
        ),
    ),
    "classes": (
        st.one_of(_pick(CLASSES_VALID), st.lists(_pick(CLASSES_VALID), max_size=2)),
        st.one_of(
            _pick(CLASSES_EXTREME),
            st.lists(st.one_of(_pick(CLASSES_VALID), _pick(CLASSES_EXTREME)), min_size=1, max_size=3),
            _pick([b"class3", {"class3": 1}, ["class3"] * 65, [["class3"]], NAN]),
        ),
    ),
    "noise": (
        st.one_of(st.none(), _noise_sizes(8, 48)),
        st.one_of(
            _noise_sizes(0, 7),
            _pick(["1x1", "100000x100000", "0x5", "abc", (48, 48), (10**6, 2), (0, 0), (-1, 5), (8.0, 8), (True, 8)]),
            _pick([(8,), (8, 8, 8), "8x", "x8", "8*8", "8192x8", "8193x8", "1x8192", "9999999999x1", "-8x8", "8x8x8"]),
            _pick([(2**70, 8), (10**400, 8), 48, NAN, *WRONG_TYPES]),
        ),
    ),
    "param": (_pick([None, "pixel", "fourier"]), _pick(["Pixel", "", "lucid", 1, True, *WRONG_TYPES])),
    "octaves": (_ints(1, 2, 3, 16), _pick([17, *EXTREME_INTS, *WRONG_TYPES])),
    "octave_scale": (_floats(1.01, 8.0, math.nextafter(1.0, 2.0), 1.4), _pick([1.0, 0.5, 8.0001, *EXTREME_FLOATS])),
    "steps": (_ints(1, 2, None), _pick([4097, *EXTREME_INTS, *WRONG_TYPES])),
    "step_size": (_floats(1e-3, 255.0, TINIEST), _pick([255.1, *EXTREME_FLOATS, *WRONG_TYPES])),
    "jitter": (_ints(0, 1024), _pick([1025, *EXTREME_INTS, *WRONG_TYPES])),
    "lap_levels": (_ints(0, 12), _pick([13, 10**6, *EXTREME_INTS, *WRONG_TYPES])),
    "smooth": (_floats(0.0, 64.0, -0.0, TINIEST), _pick([64.0001, 1e9, *EXTREME_FLOATS, *WRONG_TYPES])),
    "tv": (_floats(0.0, 100.0, TINIEST), _pick([100.5, 1e9, *EXTREME_FLOATS, *WRONG_TYPES])),
    "keep_colors": (st.booleans(), _pick([1, 0, "yes", "True", None, NAN, *WRONG_TYPES])),
    "tile": (_pick([None, 1, 7, 8, 16, 24, 8192]), st.one_of(st.integers(-5, 10**6), _pick(EXTREME_INTS))),
    "memory_budget": (_ints(1, 16384), st.one_of(st.integers(0, 10**9), _pick(EXTREME_INTS))),
    "lr": (_floats(1e-4, 10.0, TINIEST), _pick([10.5, 1e9, *EXTREME_FLOATS, *WRONG_TYPES])),
    "seed": (_pick([None, 0, 1, 2**63 - 1]), _pick([-1, 2**63, 2**70, 1.0, True, "1", NAN, *WRONG_TYPES])),
    "max_size": (
        st.one_of(_pick([None, 48, 2048, 8192]), st.integers(8, 48), st.integers(1, 7)),
        _pick([0, -1, 8193, 10**9, 2**70, 10**400, *EXTREME_INTS, *WRONG_TYPES]),
    ),
    "device": (
        st.just("cpu"),
        _pick(["auto", "cuda", "cuda:0", "cuda:999", "mps", "tpu", "CPU", "cuda:1000", None, 0]),
    ),
    "precision": (st.just("fp32"), _pick(["auto", "bf16", "fp16", "fp64", "FP32", "", None, 32])),
}
ALWAYS = ("device", "precision")  # their defaults ("auto") are valid too, but costly on some machines


@st.composite
def dream_kwargs(draw: st.DrawFn) -> dict:
    """Keyword arguments for DreamSettings: all valid, one or two extreme, or any mix."""
    names = list(OPTION_VALUES)
    style = draw(_pick(["valid", "one extreme", "mixed"]))
    if style == "valid":
        extreme = set()
    elif style == "one extreme":
        extreme = set(draw(st.lists(_pick(names), min_size=1, max_size=2, unique=True)))
    else:
        extreme = set(draw(st.lists(_pick(names), unique=True)))
    kwargs: dict = {"model": "tiny"}
    for name in names:
        valid, wild = OPTION_VALUES[name]
        if name in extreme:
            kwargs[name] = draw(wild)
        elif name in ALWAYS or draw(st.booleans()):
            kwargs[name] = draw(valid)
    if style == "valid":  # keep the options consistent, so that most of these dream
        if kwargs.get("noise") is None:
            kwargs.pop("param", None)
        else:
            kwargs.pop("keep_colors", None)
            kwargs["param"] = draw(_pick(["pixel", "fourier", None]))
            kwargs["max_size"] = draw(_pick([None, 48, 8192]))
    return kwargs


@functools.cache
def tiny_net() -> Network:
    with torch.random.fork_rng(devices=[]):  # make_tiny_net seeds the global generator
        return make_tiny_net()


def _check_error(error: InceptionismError) -> None:
    message = str(error)
    assert message.strip(), f"{type(error).__name__} with an empty message"
    assert "\n" not in message, f"{type(error).__name__} message is not one line: {message!r}"


def _reset_peak_memory() -> None:
    """Start VmHWM afresh (Linux >= 4.0) so that each example's own peak is measured."""
    with contextlib.suppress(OSError):
        CLEAR_REFS.write_text("5")


def _peak_memory() -> int | None:
    """The process's peak resident memory in bytes (VmHWM), or None where /proc does not say."""
    try:
        lines = STATUS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kwargs=dream_kwargs())
# Found by this test: an int too large for a float raised OverflowError in every float option.
@example(kwargs={"model": "tiny", "smooth": 10**400})
# Found by this test: a positive smooth below about 2.6e-23 squared to 0 in float32, so the blur kernel
# was exp(-0/0) = nan and the dream's pixels all nan.
@example(kwargs={"model": "tiny", "smooth": 5e-324, "octaves": 1, "steps": 1, "device": "cpu", "precision": "fp32"})
def test_any_settings_are_refused_with_a_one_line_error_or_dream(kwargs):
    _reset_peak_memory()
    try:
        dream_settings = DreamSettings(**kwargs)
    except InceptionismError as error:
        _check_error(error)
        return
    try:
        dreamer = Dreamer(dream_settings, model=tiny_net())
        if dream_settings.noise is None:
            frame = torch.randint(
                0, 256, (1, 3, *FRAME_SIZE), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
            )
            size = FRAME_SIZE
            result = dreamer(frame, seed=0)
        else:
            size = dream_settings.noise[::-1]
            result = dreamer(seed=0)
    except InceptionismError as error:
        _check_error(error)
    else:
        pixels = result.pixels
        assert tuple(pixels.shape) == (1, 3, *size)
        assert pixels.is_floating_point()
        assert torch.isfinite(pixels).all(), "the dream has non-finite pixels"
        assert pixels.min() >= 0 and pixels.max() <= 255
    peak = _peak_memory()
    assert peak is None or peak < MEMORY_CEILING, f"peak resident memory {peak / 2**30:.1f} GiB"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"smooth": 1e9}, "smooth must be non-negative and <= 64.0, got 1000000000.0"),
        ({"noise": "100000x100000"}, "noise size 100000x100000 is too large: each side must be in 1..8192"),
        ({"octave_scale": 1e300}, "octave_scale must be > 1.0 and <= 8.0, got 1e+300"),
        ({"layers": ["fire7=nan"]}, "bad weight in layer spec 'fire7=nan': it must be a finite number, got nan"),
        ({"layers": ["fire7=inf"]}, "bad weight in layer spec 'fire7=inf': it must be a finite number, got inf"),
        ({"lap_levels": 10**6}, "lap_levels must be in 0..12, got 1000000"),
        ({"octaves": 10**9}, "octaves must be in 1..16, got 1000000000"),
        ({"steps": 10**9}, "steps must be in 1..4096, got 1000000000"),
        ({"tile": 10**9}, "tile must be in 1..8192, got 1000000000"),
        ({"memory_budget": 10**9}, "memory_budget must be in 1..16384, got 1000000000"),
        ({"max_size": 10**9}, "max_size must be in 1..8192, got 1000000000"),
        ({"jitter": 10**9}, "jitter must be in 0..1024, got 1000000000"),
        ({"tv": 1e9}, "tv must be non-negative and <= 100.0, got 1000000000.0"),
        ({"lr": 1e9}, "lr must be > 0 and <= 10.0, got 1000000000.0"),
        ({"classes": ["banana=nan"]}, "bad weight in class spec 'banana=nan': it must be a finite number, got nan"),
        (
            {"layers": ["fire7:0-100000000"]},
            "bad channels in layer spec 'fire7:0-100000000': channels must be in 0..65535, at most 65536 of them, "
            "got '0-100000000'",
        ),
    ],
)
def test_extreme_values_are_refused_with_a_one_line_message(options, message):
    with pytest.raises(InvalidParameterError) as caught:
        DreamSettings(**options)
    assert type(caught.value) is InvalidParameterError
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("pixel", "image is 1x1 px, too small for tiny: it needs at least 8x8 px"),
        ("fourier", "noise is 1x1 px, too small for tiny: it needs at least 8x8 px"),
    ],
)
def test_noise_smaller_than_the_network_takes_is_too_small(param, message):
    dream_settings = DreamSettings(noise="1x1", param=param, octaves=1, steps=1, precision="fp32", device="cpu")
    with pytest.raises(ImageError, match="too small") as caught:  # refused when the Dreamer is made
        Dreamer(dream_settings, model=tiny_net())
    assert str(caught.value) == message
