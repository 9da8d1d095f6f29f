"""Transformation robustness: every transform, its randomness and its argument checks."""

import pytest
import torch

from inceptionism.engine.transforms import (
    STANDARD_TRANSFORMS,
    compose,
    jitter,
    pad,
    random_rotate,
    random_scale,
    standard_transforms,
)
from inceptionism.errors import InvalidParameterError


def seeded(seed):
    return torch.Generator().manual_seed(seed)


def ramp(height=20, width=28, batch=1):
    """Pixels whose every value differs, so crops and rotations can be traced."""
    return torch.arange(batch * 3 * height * width, dtype=torch.float32).view(batch, 3, height, width) % 256


def test_pad_grows_each_side_with_the_mode_asked():
    pixels = ramp()
    reflected = pad(3)(pixels, seeded(0))
    grey = pad(3, mode="constant", value=127.5)(pixels, seeded(0))
    assert reflected.shape == grey.shape == (1, 3, 26, 34)
    assert torch.equal(reflected[..., 3:-3, 3:-3], pixels)
    assert torch.equal(reflected[..., 2, 3:-3], pixels[..., 1, :])
    assert (grey[..., :3, :] == 127.5).all()


def test_jitter_crops_at_an_offset_drawn_from_the_generator():
    pixels = ramp()
    offsets = set()
    for seed in range(30):
        cropped = jitter(4)(pixels, seeded(seed))
        assert cropped.shape == (1, 3, 16, 24)
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if torch.equal(cropped, pixels[..., dy : dy + 16, dx : dx + 24])
        ]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert torch.equal(jitter(4)(pixels, seeded(7)), jitter(4)(pixels, seeded(7)))
    assert len(offsets) > 10  # of the 25 possible


def test_random_scale_draws_its_factor_from_the_list():
    sizes = {tuple(random_scale([0.5, 1.0, 1.5])(ramp(20, 28), seeded(seed)).shape[-2:]) for seed in range(30)}
    assert sizes == {(10, 14), (20, 28), (30, 42)}


def test_rotating_a_square_by_90_degrees_is_rot90():
    pixels = ramp(15, 15)
    rotated = random_rotate([90])(pixels, seeded(0))
    assert torch.allclose(rotated, torch.rot90(pixels, 1, dims=(-2, -1)), atol=1e-3)


def test_rotation_is_rigid_in_pixels_for_non_square_images():
    # A point 4 px right of the centre of a 17x33 image lands 4 px above it after +90°,
    # not 4 * 33/17 px: the aspect ratio is accounted for.
    pixels = torch.zeros(1, 3, 17, 33)
    pixels[..., 8, 20] = 1.0
    rotated = random_rotate([90], fill="zeros")(pixels, seeded(0))
    assert rotated.shape == pixels.shape
    assert rotated[0, 0, 4, 16].item() == pytest.approx(1.0, abs=1e-4)
    assert rotated[0, 0].sum().item() == pytest.approx(1.0, abs=1e-4)


def test_standard_transforms_are_lucids_and_grow_the_image_by_about_20_px():
    names = [type(t).__name__ for t in STANDARD_TRANSFORMS.transforms]
    assert names == ["Pad", "Jitter", "RandomScale", "RandomRotate", "Jitter"]
    assert standard_transforms() == STANDARD_TRANSFORMS
    scales = STANDARD_TRANSFORMS.transforms[2].scales
    assert scales[0] == pytest.approx(0.9) and scales[-1] == pytest.approx(1.1) and len(scales) == 11
    for seed in range(20):
        height, width = STANDARD_TRANSFORMS(torch.zeros(2, 3, 64, 80), seeded(seed)).shape[-2:]
        # (64 + 24 - 8) * 0.9..1.1 - 4 and (80 + 24 - 8) * 0.9..1.1 - 4
        assert 68 <= height <= 84 and 82 <= width <= 102


def test_transforms_are_differentiable_and_deterministic_per_seed():
    pixels = ramp(40, 48, batch=2).requires_grad_(True)
    out = STANDARD_TRANSFORMS(pixels, seeded(5))
    out.square().mean().backward()
    assert pixels.grad is not None and pixels.grad.abs().sum() > 0
    assert torch.equal(out, STANDARD_TRANSFORMS(pixels, seeded(5)))
    assert not torch.equal(STANDARD_TRANSFORMS(pixels, seeded(5)), STANDARD_TRANSFORMS(pixels, seeded(6)))


def test_compose_of_nothing_is_the_identity():
    pixels = ramp()
    assert compose()(pixels, seeded(0)) is pixels


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: pad(-1), "width must be non-negative, got -1"),
        (lambda: pad(2, mode="wrap"), "mode must be one of constant, reflect, replicate, circular, got 'wrap'"),
        (lambda: pad(2, mode="constant", value=300), "value must be in 0..255, got 300"),
        (lambda: jitter(1.5), "distance must be an integer, got 1.5"),
        (lambda: random_scale([]), "scales must be a non-empty list of numbers, got []"),
        (lambda: random_scale([1.0, 0.0]), "scales must all be > 0, got 0.0"),
        (lambda: random_rotate(10), "degrees must be a non-empty list of numbers, got 10"),
        (lambda: random_rotate([5, "x"]), "degrees must contain only finite numbers, got 'x' in [5, 'x']"),
        (lambda: random_rotate([5], fill="black"), "fill must be one of zeros, border, reflection, got 'black'"),
        (lambda: compose(pad(1), 3), "transform 1 must be callable as transform(pixels, generator), got 3"),
        (
            lambda: jitter(8)(torch.zeros(1, 3, 8, 30), seeded(0)),
            "jitter by 8 px needs an image larger than 8 px, got 30x8",
        ),
    ],
)
def test_transforms_reject_bad_arguments_with_exact_messages(make, message):
    with pytest.raises(InvalidParameterError) as error:
        make()
    assert str(error.value) == message
