"""Checking a dream without preparing it: the same refusals as the Dreamer, nothing built."""

import pytest
import torch

from inceptionism.engine import Dreamer, DreamSettings
from inceptionism.engine.inputs import check_inputs
from inceptionism.errors import ImageError, InvalidParameterError, UnknownNameError
from inceptionism.models import cache
from inceptionism.objectives import as_objective


@pytest.fixture
def nothing_prepared(monkeypatch):
    """Building an inference copy or running the network fails the test."""

    def refused(*args, **kwargs):
        raise AssertionError("the check prepared something")

    monkeypatch.setattr(cache, "inference_copy", refused)


def test_the_check_resolves_layers_and_classes_and_builds_nothing(tiny_net, nothing_prepared):
    assert check_inputs(DreamSettings(), tiny_net, size=(64, 48)).layers == ("conv3",)  # the default layer
    resolved = check_inputs(DreamSettings(classes=("3=2",)), tiny_net, guide=None, size=(64, 48))
    assert (resolved.layers, resolved.classes) == ((), ("class3=2",))


@pytest.mark.parametrize(
    ("settings", "extra", "error", "message"),
    [
        ({"layers": ("conv9",)}, {}, UnknownNameError, "unknown layer 'conv9'"),
        ({"layers": ("conv2:99",)}, {}, InvalidParameterError, "channel 99"),
        ({"classes": ("nothing",)}, {}, UnknownNameError, "unknown class 'nothing'"),
        ({"tile": 4}, {}, InvalidParameterError, "tile must be at least 8 px for tiny"),
        ({"layers": ("conv2:1",)}, {"guide": (64, 64)}, InvalidParameterError, "a guide matches whole layers"),
        ({"layers": ("conv2",)}, {"guide": (4, 64)}, ImageError, "guide image is 4x64 px, too small for tiny"),
        ({"classes": ("3",)}, {"guide": (64, 64)}, InvalidParameterError, "a guide needs layers to match on"),
        ({"noise": (32, 32)}, {"mask": True}, InvalidParameterError, "noise"),
        ({"octaves": 8}, {"size": (64, 48)}, ImageError, "the smallest octave of this 64x48 image"),
        ({}, {"size": (4, 48)}, ImageError, "image is 4x48 px, too small for tiny"),
        ({"layers": ("conv2:3@500,500",)}, {"size": (64, 48)}, InvalidParameterError, "neuron position @500,500"),
        ({"noise": (4, 4), "param": "fourier"}, {}, ImageError, "noise is 4x4 px, too small for tiny"),
    ],
)
def test_the_check_refuses_what_the_dreamer_refuses(tiny_net, nothing_prepared, settings, extra, error, message):
    with pytest.raises(error) as caught:
        check_inputs(DreamSettings(**settings), tiny_net, **extra)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_custom_objective_is_checked_and_dreams_no_default_layer(tiny_net, nothing_prepared):
    assert check_inputs(DreamSettings(), tiny_net, objective=as_objective("conv2:3")).layers == ()
    with pytest.raises(InvalidParameterError, match="a guide works on layer names"):
        check_inputs(DreamSettings(), tiny_net, objective=as_objective("conv2"), guide=(64, 64))


def test_the_dreamer_takes_tensors_only(tiny_net):
    with pytest.raises(ImageError) as caught:
        Dreamer(DreamSettings(layers=("conv2",)), model=tiny_net, guide="guide.png")
    assert str(caught.value) == "a guide must be a (1, 3, H, W) RGB tensor, got str"
    dreamer = Dreamer(DreamSettings(layers=("conv2",), octaves=1, steps=1), model=tiny_net)
    with pytest.raises(ImageError) as caught:
        dreamer("photo.jpg", seed=0)
    assert str(caught.value) == "a frame must be a (1, 3, H, W) RGB tensor, got str"
    assert dreamer.settings.layers == ("conv2",)
    assert dreamer(torch.full((1, 3, 32, 32), 100, dtype=torch.uint8), seed=0).pixels.shape == (1, 3, 32, 32)
