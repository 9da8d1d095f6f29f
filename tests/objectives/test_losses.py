"""The loss modes of a layer term: each raises its own objective, and they dream differently."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import inceptionism
from inceptionism.errors import InvalidParameterError
from inceptionism.objectives import layer
from inceptionism.objectives.losses import LOSS_NAMES, LOSSES
from inceptionism.objectives.specs import parse_layer_spec, spec_loss

# The tiny network's class scores take both signs (its convolutions end in ReLUs), so mean,
# abs-mean and mean-square each pull them differently.
SETTINGS = {"layers": ["logits"], "octaves": 1, "steps": 8, "jitter": 0, "seed": 3}


def objective_of(net, image: Image.Image, loss: str) -> float:
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    term = layer("logits", loss=loss)
    with torch.no_grad(), net.tap(term.layers) as extract:
        return float(term(extract(pixels)))


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_each_loss_changes_the_image_and_raises_its_own_objective(tiny_net, noise_image, loss):
    photo = Image.fromarray(noise_image)
    dreamed = inceptionism.dream(photo, model=tiny_net, loss=loss, **SETTINGS)
    assert dreamed.params["loss"] == loss
    change = np.abs(np.asarray(dreamed.image, dtype=np.float32) - noise_image.astype(np.float32)).mean()
    before, after = objective_of(tiny_net, photo, loss), objective_of(tiny_net, dreamed.image, loss)
    print(f"{loss}: mean |change| {change:.2f} levels, objective {before:.4f} -> {after:.4f}")
    assert change > 1.0
    assert after > before + 0.05 * abs(before)


def test_mean_and_mean_square_dream_differently(tiny_net, noise_image):
    photo = Image.fromarray(noise_image)
    images = {loss: np.asarray(inceptionism.dream(photo, model=tiny_net, loss=loss, **SETTINGS).image, dtype=np.float32)
              for loss in ("mean-square", "mean", "abs-mean")}  # fmt: skip
    assert np.abs(images["mean"] - images["mean-square"]).mean() > 1.0
    assert np.abs(images["abs-mean"] - images["mean"]).mean() > 1.0


def test_a_spec_names_its_own_loss_and_it_wins_over_the_option(tiny_net, noise_image):
    assert spec_loss("conv1:0-3=2~abs-mean") == "abs-mean"
    assert str(parse_layer_spec("conv1:0-3=2~abs-mean", loss="mean")) == "conv1:0,1,2,3=2~abs-mean"
    assert str(parse_layer_spec("conv1", loss="mean")) == "conv1~mean"
    photo = Image.fromarray(noise_image)
    by_spec = inceptionism.dream(photo, model=tiny_net, **{**SETTINGS, "layers": ["logits~mean"]}, loss="l2-norm")
    by_option = inceptionism.dream(photo, model=tiny_net, **SETTINGS, loss="mean")
    assert np.array_equal(np.asarray(by_spec.image), np.asarray(by_option.image))


def test_the_values_of_each_loss():
    x = torch.tensor([[[1.0, -2.0], [2.0, 0.0]]])
    assert {name: round(float(LOSSES[name](x)[0]), 4) for name in LOSS_NAMES} == {
        "mean-square": 2.25,
        "mean": 0.25,
        "abs-mean": 1.25,
        "l2-norm": 3.0,
    }


def test_an_unknown_loss_is_refused_in_one_line():
    with pytest.raises(InvalidParameterError) as refused:
        parse_layer_spec("conv1~square")
    assert str(refused.value) == (
        "unknown loss 'square' in layer spec 'conv1~square'; use mean-square, mean, abs-mean, l2-norm"
    )
    with pytest.raises(InvalidParameterError) as refused:
        inceptionism.DreamSettings(loss="square")
    assert str(refused.value).startswith("loss must be one of")
