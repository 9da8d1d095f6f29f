"""Real tier: the embedded SqueezeNet 1.1 on real photos."""

import numpy as np
import pytest
import torch

from inceptionism import classify, dream
from inceptionism.io.images import load_image, to_tensor

pytestmark = pytest.mark.real

CLASSIC = dict(layers=["fire7"], octaves=4, octave_scale=1.4, steps=10, step_size=1.5, jitter=32)
CATS = {"Egyptian cat", "tabby", "tiger cat"}


def fire7_mean_square(net, image):
    with torch.no_grad(), net.tap(["fire7"]) as extract:
        return extract(to_tensor(image))["fire7"].square().mean().item()


@pytest.mark.parametrize("photo", ["sample", "coffee"])
def test_classic_settings_raise_fire7_fifteen_fold(squeezenet, photo, request):
    path = request.getfixturevalue(photo)
    result = dream(path, model=squeezenet, seed=0, **CLASSIC)
    gain = fire7_mean_square(squeezenet, result.image) / fire7_mean_square(squeezenet, load_image(path).image)
    assert gain >= 15, f"fire7 mean squared activation rose only {gain:.1f}x"


def test_same_seed_gives_identical_pixels(squeezenet, sample):
    first = dream(sample, model=squeezenet, seed=11, max_size=200, **CLASSIC)
    second = dream(sample, model=squeezenet, seed=11, max_size=200, **CLASSIC)
    assert np.array_equal(np.asarray(first.image), np.asarray(second.image))


def test_default_precision_is_as_strong_as_fp32(squeezenet, sample):
    before = fire7_mean_square(squeezenet, load_image(sample).image)
    gains = {}
    for precision in ("auto", "fp32"):
        result = dream(sample, model=squeezenet, seed=2, precision=precision, **CLASSIC)
        gains[precision] = fire7_mean_square(squeezenet, result.image) / before
    assert gains["auto"] >= 0.8 * gains["fp32"], gains


def test_sample_photo_is_a_cat(squeezenet, sample):
    top = classify(sample, model=squeezenet, top=3)
    assert top[0].label in CATS
    assert sum(p.probability for p in top if p.label in CATS) > 0.9
    assert [p.probability for p in top] == sorted((p.probability for p in top), reverse=True)


def test_coffee_photo_is_espresso(squeezenet, coffee):
    top = classify(coffee, model=squeezenet, top=1)[0]
    assert top.label == "espresso"
    assert top.probability > 0.9


def test_dreaming_moves_what_the_network_sees(squeezenet, sample):
    before = classify(sample, model=squeezenet, top=1000)
    result = dream(sample, model=squeezenet, seed=0, **CLASSIC)
    after = {p.label: p.probability for p in classify(result.image, model=squeezenet, top=1000)}
    cat_before = sum(p.probability for p in before if p.label in CATS)
    cat_after = sum(after[label] for label in CATS)
    assert cat_before > 0.9
    assert cat_after < 0.5 * cat_before
