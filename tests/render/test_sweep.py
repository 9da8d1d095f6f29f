"""The sweep: NAME=VALUES parsed and checked as each option checks them, and the grid of combinations."""

import pytest

from inceptionism.errors import InvalidParameterError, UnknownNameError
from inceptionism.render.sweep import COMBINATIONS_LIMIT, combinations, label, parse_sweep


def test_values_take_the_kind_of_their_option():
    sweep = parse_sweep(["layer=fire3,fire5", "octaves=3,4", "octave-scale=1.3", "keep-colors=on,off", "max_size=none"])
    assert sweep == {
        "layers": [("fire3",), ("fire5",)],
        "octaves": [3, 4],
        "octave_scale": [1.3],
        "keep_colors": [True, False],
        "max_size": [None],
    }


def test_semicolons_keep_the_commas_of_a_layer_spec_and_repeats_add_values():
    assert parse_sweep(["layer=fire7:3,12;fire5", "layer=fire9", "layer=fire5"]) == {
        "layers": [("fire7:3,12",), ("fire5",), ("fire9",)]
    }


def test_the_grid_is_every_combination_the_first_option_slowest():
    grid = combinations(parse_sweep(["layer=fire3,fire5", "octaves=3,4"]))
    assert [label(values) for values in grid] == [
        "layer=fire3 octaves=3",
        "layer=fire3 octaves=4",
        "layer=fire5 octaves=3",
        "layer=fire5 octaves=4",
    ]
    assert combinations({}) == [{}]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["layer"], "a sweep is NAME=VALUE,VALUE..., e.g. layer=fire3,fire5; got 'layer'"),
        (["octaves=three"], "sweep octaves: 'three' is not a whole number"),
        (["octaves=99"], "sweep octaves: octaves must be in 1..16, got 99"),
        (["step-size=big"], "sweep step_size: 'big' is not a number"),
        (["keep-colors=maybe"], "sweep keep_colors: 'maybe' is not on or off"),
        ([f"seed={','.join(map(str, range(65)))}"], "a sweep takes at most 64 values of seed, got 65"),
        (
            ["seed=" + ",".join(map(str, range(40))), "jitter=" + ",".join(map(str, range(40)))],
            f"the sweep makes 1600 combinations; at most {COMBINATIONS_LIMIT}",
        ),
    ],
)
def test_bad_sweeps_are_one_line(texts, message):
    with pytest.raises(InvalidParameterError) as caught:
        parse_sweep(texts)
    assert str(caught.value) == message and caught.value.argument == "sweep"


def test_an_unknown_option_suggests_the_closest():
    with pytest.raises(UnknownNameError) as caught:
        parse_sweep(["octave=3,4"])
    assert str(caught.value) == (
        "unknown option 'octave'; did you mean octaves, octave_scale, octave_sizes? (list them with: inceptionism dream --help)"
    )
