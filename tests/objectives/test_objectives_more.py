"""Fast tier: class logits, class specs, neurons (and how they follow the jitter), guided objectives, channel_each."""

import pytest
import torch

from inceptionism.errors import InceptionismError, InvalidParameterError, UnknownNameError
from inceptionism.objectives import (
    SHIFT,
    as_objective,
    channel_each,
    class_logit,
    guided,
    neuron,
    parse_class_spec,
    parse_layer_spec,
    split_layer_spec,
)

LABELS = ["banana", "Granny Smith", "bandana", "orange"]
LAYER_SPEC_HELP = (
    "use name[:channels][@x,y][=weight][~loss], e.g. fire7, fire7:12, fire7:3,12,40=2, fire7:0-15=0.5, "
    "fire7:strong:8, fire7:12@100,80 or fire7=2~abs-mean"
)


def seeded(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def cells(batch=1, channels=2, height=8, width=8):
    """Activations whose every cell holds a different number: which cell was read is visible."""
    return torch.arange(batch * channels * height * width, dtype=torch.float32).view(batch, channels, height, width)


# class_logit


def test_class_logit_of_flat_scores_is_the_batch_mean():
    scores = seeded(3, 10)
    assert class_logit(4)({"classes": scores}).item() == pytest.approx(scores[:, 4].mean().item())
    assert class_logit(4, weight=-2.0)({"classes": scores}).item() == pytest.approx(-2 * scores[:, 4].mean().item())


def test_class_logit_of_a_spatial_map_averages_positions():
    scores = seeded(2, 10, 3, 5)
    assert class_logit(7)({"classes": scores}).item() == pytest.approx(scores[:, 7].mean().item())
    assert class_logit(7).layers == {"classes"}


def test_class_logit_on_the_tiny_net_is_its_logit(tiny_net):
    pixels = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad(), tiny_net.tap(class_logit(3).layers) as extract:
        value = class_logit(3)(extract(pixels))
    assert value.item() == pytest.approx(tiny_net(pixels)[:, 3].mean().item(), rel=1e-6)


def test_class_logit_description_and_validation(tiny_net):
    assert str(class_logit(954, label="banana", weight=2)) == "class banana=2"
    assert str(class_logit(3)) == "class 3"
    class_logit(9).validate(tiny_net)
    for index in (10, -1):
        with pytest.raises(InvalidParameterError) as info:
            class_logit(index).validate(tiny_net)
        assert str(info.value) == f"class {index} does not exist in tiny: it has classes 0..9"


# parse_class_spec


@pytest.mark.parametrize(
    ("spec", "index", "description"),
    [
        ("banana", 0, "class banana"),
        ("BANANA", 0, "class banana"),
        ("granny smith", 1, "class Granny Smith"),
        (" Granny Smith =2", 1, "class Granny Smith=2"),
        ("3", 3, "class orange"),
        ("1=0.5", 1, "class Granny Smith=0.5"),
        ("bandana=-1", 2, "class bandana=-1"),
    ],
)
def test_class_spec(spec, index, description):
    objective = parse_class_spec(spec, LABELS)
    scores = seeded(2, 4)
    weight = float(spec.rpartition("=")[2]) if "=" in spec else 1.0
    assert str(objective) == description
    assert objective({"classes": scores}).item() == pytest.approx(weight * scores[:, index].mean().item())


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("banan", UnknownNameError,
         "unknown class 'banan'; did you mean banana, bandana? (its classes are banana, Granny Smith, bandana, orange)"),
        ("grany smith=2", UnknownNameError,
         "unknown class 'grany smith'; did you mean Granny Smith? (its classes are banana, Granny Smith, bandana, orange)"),
        ("zzz", UnknownNameError, "unknown class 'zzz' (its classes are banana, Granny Smith, bandana, orange)"),
        ("-1", UnknownNameError, "unknown class '-1' (its classes are banana, Granny Smith, bandana, orange)"),
        ("4", InvalidParameterError, "class 4 does not exist: there are classes 0..3"),
        ("12=2", InvalidParameterError, "class 12 does not exist: there are classes 0..3"),
        ("banana=x", InvalidParameterError, "bad weight in class spec 'banana=x': use NAME[=weight], e.g. banana=2"),
    ],
)  # fmt: skip
def test_bad_class_specs(spec, error, message):
    with pytest.raises(error) as info:
        parse_class_spec(spec, LABELS)
    assert str(info.value) == message


def test_a_unicode_digit_is_an_unknown_class_not_a_crash():
    with pytest.raises(InceptionismError):
        parse_class_spec("²", LABELS)


# neuron


def test_neuron_reads_the_cell_under_the_position():
    # A 32x32 input over an 8x8 map: pixel (x=10, y=5) is in cell row 5 // 4 = 1, col 10 // 4 = 2.
    features = {"a": cells(), "input": torch.zeros(1, 3, 32, 32)}
    value = neuron("a", 1, at=(10.5 / 32, 5.5 / 32))(features)
    assert value.item() == features["a"][0, 1, 1, 2].item() == 64 + 8 + 2


def test_neuron_follows_the_shift_to_where_the_content_moved():
    # Rolled by (dy, dx) = (3, -12), pixel (x=10, y=5) moved to (x=30, y=8): cell row 2, col 7.
    features = {"a": cells(), "input": torch.zeros(1, 3, 32, 32), SHIFT: torch.tensor([3, -12])}
    value = neuron("a", 1, at=(10.5 / 32, 5.5 / 32))(features)
    assert value.item() == features["a"][0, 1, 2, 7].item()
    features[SHIFT] = torch.tensor([-40, 64])  # whole turns wrap: (-8, 0) -> pixel (10, 29) -> cell (7, 2)
    assert neuron("a", 1, at=(10.5 / 32, 5.5 / 32))(features).item() == features["a"][0, 1, 7, 2].item()


def test_neuron_reads_the_same_unit_of_the_tiny_net_through_a_roll(tiny_net):
    # A roll by a multiple of conv3's stride (4) away from the borders leaves the unit's input unchanged.
    pixels = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(0)) * 255
    objective = neuron("conv3", 8, at=(20.5 / 48, 14.5 / 32))
    with torch.no_grad(), tiny_net.tap(objective.layers) as extract:
        still = objective(extract(pixels))
        rolled = objective({**extract(pixels.roll((4, 8), dims=(2, 3))), SHIFT: torch.tensor([4, 8])})
        unfollowed = objective(extract(pixels.roll((4, 8), dims=(2, 3))))
        assert still.item() == extract(pixels)["conv3"][0, 8, 3, 5].item()
    # Measured: 0.1451 unrolled and followed through the roll, 0.0153 at the cell the content left.
    assert still.item() > 0.1
    assert rolled.item() == pytest.approx(still.item(), rel=1e-5)
    assert unfollowed.item() < 0.2 * still.item()


def test_neuron_weight_description_layers_and_batch_mean():
    features = {"a": cells(batch=3), "input": torch.zeros(3, 3, 8, 8)}
    objective = neuron("a", 0, at=(0.0, 0.0), weight=0.5)
    assert objective(features).item() == 0.5 * (0 + 128 + 256) / 3
    assert str(objective) == "a:0@0,0=0.5"
    assert str(neuron("a", 0, at=(0.25, 0.5), label="3,4")) == "a:0@3,4"
    assert objective.layers == {"a", "input"}


@pytest.mark.parametrize("at", [(1.5, 0.5), (0.5, -0.1), (-0.01, 2.0)])
def test_neuron_position_must_be_inside(at):
    with pytest.raises(InvalidParameterError) as info:
        neuron("a", 0, at=at)
    assert str(info.value) == f"neuron position must be inside the image, got fractions {at}"


def test_neuron_at_the_far_edge_reads_the_last_cell():
    features = {"a": cells(), "input": torch.zeros(1, 3, 32, 32)}
    assert neuron("a", 1, at=(1.0, 1.0))(features).item() == features["a"][0, 1, 7, 7].item()


def test_neuron_channel_is_validated(tiny_net):
    with pytest.raises(InvalidParameterError) as info:
        neuron("conv2", 16).validate(tiny_net)
    assert str(info.value) == "channel 16 does not exist in conv2 of tiny: it has channels 0..15"
    neuron("conv2", 15).validate(tiny_net)


# split_layer_spec and parse_layer_spec with @x,y


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("fire7", ("fire7", None, None, 1.0)),
        ("fire7=0.5", ("fire7", None, None, 0.5)),
        ("fire7:12", ("fire7", [12], None, 1.0)),
        ("fire7:3,12,40=2", ("fire7", [3, 12, 40], None, 2.0)),
        ("fire7:0-2=0.5", ("fire7", [0, 1, 2], None, 0.5)),
        ("fire7:12@100,80", ("fire7", [12], (100, 80), 1.0)),
        ("fire7:12@100,80=2", ("fire7", [12], (100, 80), 2.0)),
        (" fire7 : 1 @ 3 , 4 = -2 ", ("fire7", [1], (3, 4), -2.0)),
        ("inception4c.branch2:5@0,0", ("inception4c.branch2", [5], (0, 0), 1.0)),
        ("fire7:1@-1,5", ("fire7", [1], (-1, 5), 1.0)),  # parse_layer_spec refuses it with the image size
    ],
)
def test_split_layer_spec(spec, parts):
    assert split_layer_spec(spec) == parts


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fire7:1@1", "bad position in layer spec 'fire7:1@1': " + LAYER_SPEC_HELP),
        ("fire7:1@a,b", "bad position in layer spec 'fire7:1@a,b': " + LAYER_SPEC_HELP),
        ("fire7:1@1,2,3", "bad position in layer spec 'fire7:1@1,2,3': " + LAYER_SPEC_HELP),
        ("fire7:1@1.5,2", "bad position in layer spec 'fire7:1@1.5,2': " + LAYER_SPEC_HELP),
        (
            "fire7:@1,2",
            "bad channels in layer spec 'fire7:@1,2': channels must be numbers and ranges like 0-63 or 3,12,40, got ''",
        ),
        ("fire7@3,4", "a neuron needs exactly one channel, e.g. fire7:12@100,80; got 'fire7@3,4'"),
        ("fire7:1,2@3,4", "a neuron needs exactly one channel, e.g. fire7:12@100,80; got 'fire7:1,2@3,4'"),
        ("fire7:1-2@3,4=2", "a neuron needs exactly one channel, e.g. fire7:12@100,80; got 'fire7:1-2@3,4=2'"),
        ("@3,4", "bad layer spec '@3,4': " + LAYER_SPEC_HELP),
    ],
)
def test_bad_neuron_specs(spec, message):
    for parse in (split_layer_spec, parse_layer_spec):
        with pytest.raises(InvalidParameterError) as info:
            parse(spec)
        assert str(info.value) == message


def test_parse_layer_spec_places_a_neuron_at_a_pixel():
    objective = parse_layer_spec("a:1@10,5=2", image_size=(32, 32))
    features = {"a": cells(), "input": torch.zeros(1, 3, 32, 32)}
    assert str(objective) == "a:1@10,5=2"
    assert objective.layers == {"a", "input"}
    assert objective(features).item() == 2 * features["a"][0, 1, 1, 2].item()
    # The last pixel of a 64x48 image is the last cell of an 8x8 map.
    corner = parse_layer_spec("a:0@63,47", image_size=(64, 48))
    assert corner({"a": cells(), "input": torch.zeros(1, 3, 48, 64)}).item() == 63
    assert str(as_objective(["a:0@63,47", "a"], image_size=(64, 48))) == "a:0@63,47 + a"


def test_parse_layer_spec_neuron_needs_the_image_size():
    with pytest.raises(InvalidParameterError) as info:
        parse_layer_spec("conv2:3@5,6")
    assert str(info.value) == "the neuron 'conv2:3@5,6' needs the image size to place @5,6"


@pytest.mark.parametrize("at", ["64,10", "10,48", "-1,0", "0,-1", "100,100"])
def test_parse_layer_spec_neuron_outside_the_image(at):
    with pytest.raises(InvalidParameterError) as info:
        parse_layer_spec(f"conv2:3@{at}", image_size=(64, 48))
    assert str(info.value) == f"neuron position @{at} is outside the 64x48 image; use 0..63,0..47"


# guided


def test_guided_is_the_mean_dot_product_with_the_best_matching_guide_feature():
    x = seeded(2, 4, 3, 5, seed=1)
    guide = seeded(4, 7, seed=2)
    flat = x.flatten(2)  # (B, C, N)
    dots = torch.einsum("bcn,cm->bnm", flat, guide)  # every position against every guide column
    expected = dots.max(-1).values.mean()  # the best match at each position, averaged over positions and batch
    manual = sum(max(float(flat[b, :, n] @ guide[:, m]) for m in range(7)) for b in range(2) for n in range(15)) / (
        2 * 15
    )
    assert guided("a", guide)({"a": x}).item() == pytest.approx(expected.item(), rel=1e-5)
    assert expected.item() == pytest.approx(manual, rel=1e-5)
    assert guided("a", guide, weight=3.0)({"a": x}).item() == pytest.approx(3 * expected.item(), rel=1e-5)


def test_guided_gradient_points_at_the_best_guide_feature():
    x = seeded(1, 4, 2, 3, seed=3).requires_grad_(True)
    guide = seeded(4, 5, seed=4)
    (gradient,) = torch.autograd.grad(guided("a", guide)({"a": x}), x)
    best = torch.einsum("cn,cm->nm", x.detach().flatten(2)[0], guide).argmax(-1)
    assert torch.allclose(gradient.flatten(2)[0], guide[:, best] / 6, atol=1e-6)


def test_guided_description_layers_and_channel_check(tiny_net):
    objective = guided("conv2", seeded(8, 5), weight=2)
    assert str(objective) == "conv2 guided=2"
    assert str(guided("conv2", seeded(16, 5))) == "conv2 guided"
    assert objective.layers == {"conv2"}
    with pytest.raises(InvalidParameterError) as info:
        objective.validate(tiny_net)
    assert str(info.value) == "guide features have 8 channels but conv2 of tiny has 16"
    guided("conv2", seeded(16, 5)).validate(tiny_net)


# channel_each (the atlas: one channel per batch item)


def test_channel_each_gives_item_i_the_mean_of_its_own_channel():
    activation = seeded(3, 4, 5, 6)
    objective = channel_each("a", [2, 0, 2])
    values = objective.per_item({"a": activation})
    assert values.shape == (3,)
    expected = [activation[0, 2].mean(), activation[1, 0].mean(), activation[2, 2].mean()]
    assert values.tolist() == pytest.approx([float(v) for v in expected], rel=1e-6)
    assert objective({"a": activation}).item() == pytest.approx(float(torch.stack(expected).mean()), rel=1e-6)
    assert (str(objective), objective.layers, objective.needs_whole_image) == ("a:2,0,2 (one per image)", {"a"}, False)


def test_channel_each_gradient_reaches_only_each_items_own_channel():
    activation = seeded(2, 3, 2, 2).requires_grad_(True)
    (gradient,) = torch.autograd.grad(channel_each("a", [1, 2])({"a": activation}), activation)
    expected = torch.zeros(2, 3, 2, 2)
    expected[0, 1] = expected[1, 2] = 1 / (2 * 4)  # the batch mean of spatial means
    assert torch.allclose(gradient, expected)


def test_channel_each_on_the_tiny_net_is_each_images_own_channel(tiny_net):
    pixels = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(2)) * 255
    with torch.no_grad(), tiny_net.tap(["conv2"]) as extract:
        features = extract(pixels)
    values = channel_each("conv2", [5, 0, 15]).per_item(features)
    means = features["conv2"].mean((2, 3))
    assert values.tolist() == pytest.approx([float(means[0, 5]), float(means[1, 0]), float(means[2, 15])], rel=1e-6)


def test_channel_each_needs_one_channel_per_item_and_channels_that_exist(tiny_net):
    with pytest.raises(InvalidParameterError) as info:
        channel_each("a", [0, 1])({"a": seeded(3, 2, 2, 2)})
    assert str(info.value) == "channel_each has 2 channels for a batch of 3 images"
    with pytest.raises(InvalidParameterError) as info:
        channel_each("a", [])
    assert str(info.value) == "channel_each needs at least one channel"
    with pytest.raises(InvalidParameterError) as info:
        channel_each("conv1", [3, 8]).validate(tiny_net)
    assert str(info.value) == "channel 8 does not exist in conv1 of tiny: it has channels 0..7"
    with pytest.raises(UnknownNameError):
        channel_each("conv9", [0]).validate(tiny_net)
    channel_each("conv1", [0, 7]).validate(tiny_net)
