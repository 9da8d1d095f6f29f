import pytest
import torch

from inceptionism.errors import InvalidParameterError, UnknownNameError
from inceptionism.objectives import as_objective, layer, parse_layer_spec

SPEC_FORM = (
    "use name[:channels][@x,y][=weight][~loss], e.g. fire7, fire7:12, fire7:3,12,40=2, fire7:0-15=0.5, "
    "fire7:strong:8, fire7:12@100,80 or fire7=2~abs-mean"
)
CHANNELS_FORM = "channels must be numbers and ranges like 0-63 or 3,12,40, got "


def features():
    generator = torch.Generator().manual_seed(0)
    return {
        "a": torch.randn(1, 4, 3, 3, generator=generator),
        "b": torch.randn(1, 2, 5, 5, generator=generator),
    }


def test_layer_is_mean_squared_activation():
    f = features()
    assert layer("a")(f).item() == pytest.approx(f["a"].square().mean().item())


def test_channels_restrict_and_weight_scales():
    f = features()
    expected = 2.5 * f["a"][:, [1, 3]].square().mean().item()
    assert layer("a", [1, 3], weight=2.5)(f).item() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("spec", "name", "channels", "weight"),
    [
        ("fire7", "fire7", None, 1.0),
        ("fire7:12", "fire7", [12], 1.0),
        ("fire7:3,12,40=2", "fire7", [3, 12, 40], 2.0),
        ("fire7:0-3", "fire7", [0, 1, 2, 3], 1.0),
        ("fire7:1,4-5=-0.5", "fire7", [1, 4, 5], -0.5),
        (" inception4c.branch2 =0.25", "inception4c.branch2", None, 0.25),
    ],
)
def test_spec_parsing(spec, name, channels, weight):
    objective = parse_layer_spec(spec)
    assert objective.layers == {name}
    expected = layer(name, channels, weight=weight)
    assert str(objective) == str(expected)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fire7:x", "bad channels in layer spec 'fire7:x': " + CHANNELS_FORM + "'x'"),
        ("fire7:5-2", "bad channels in layer spec 'fire7:5-2': channel range 5-2 runs backwards"),
        ("fire7:-3", "bad channels in layer spec 'fire7:-3': " + CHANNELS_FORM + "'-3'"),
        ("fire7=big", "bad weight in layer spec 'fire7=big': " + SPEC_FORM),
        (":3", "bad layer spec ':3': " + SPEC_FORM),
        ("", "bad layer spec '': " + SPEC_FORM),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(InvalidParameterError) as info:
        parse_layer_spec(spec)
    assert str(info.value) == message


def test_composition_adds_scales_and_subtracts():
    f = features()
    a, b = layer("a"), layer("b")
    assert (a + b)(f).item() == pytest.approx(a(f).item() + b(f).item())
    assert (a - 2 * b)(f).item() == pytest.approx(a(f).item() - 2 * b(f).item())
    assert (-a)(f).item() == pytest.approx(-a(f).item())
    assert (a + b).layers == {"a", "b"}


def test_as_objective_sums_a_list():
    f = features()
    total = as_objective(["a:0=2", "b"])
    assert total(f).item() == pytest.approx(2 * f["a"][:, [0]].square().mean().item() + f["b"].square().mean().item())
    assert str(total) == "a:0=2 + b"


def test_empty_list_is_refused():
    with pytest.raises(InvalidParameterError) as info:
        as_objective([])
    assert str(info.value) == "layers is empty; give at least one layer, e.g. fire7"


def test_validate_names_layer_and_channel(tiny_net):
    with pytest.raises(UnknownNameError) as info:
        as_objective("conv4").validate(tiny_net)
    assert str(info.value) == (
        "unknown layer 'conv4' in tiny; did you mean conv1, conv2, conv3? (list them with: inceptionism layers --model tiny)"
    )
    with pytest.raises(InvalidParameterError) as info:
        as_objective("conv2:16").validate(tiny_net)
    assert str(info.value) == "channel 16 does not exist in conv2 of tiny: it has channels 0..15"
    as_objective("conv2:15").validate(tiny_net)
