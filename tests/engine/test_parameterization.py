"""Fast tier: image parameterisations for dreaming from noise."""

import pytest
import torch

from inceptionism.engine.parameterization import (
    FourierImage,
    PixelImage,
    color_correlation_sqrt,
    decorrelated_to_rgb,
    spectrum_scale,
)
from inceptionism.errors import InvalidParameterError


def seeded(seed):
    return torch.Generator().manual_seed(seed)


def radial_frequency(height, width):
    return (torch.fft.fftfreq(height).view(-1, 1).square() + torch.fft.fftfreq(width).view(1, -1).square()).sqrt()


def high_frequency_share(pixels, cutoff=0.25):
    """Share of the (mean-removed) spectral energy above ``cutoff`` cycles per pixel."""
    power = torch.fft.fft2(pixels - pixels.mean((-2, -1), keepdim=True)).abs().square()
    radius = radial_frequency(*pixels.shape[-2:])
    return float(power[..., radius > cutoff].sum() / power.sum())


def low_to_high_power(pixels):
    """Mean spectral power at 0 < f <= 1/16 over mean power at f > 1/4 (1 for white noise)."""
    power = torch.fft.fft2(pixels - pixels.mean((-2, -1), keepdim=True)).abs().square()
    radius = radial_frequency(*pixels.shape[-2:])
    return float(power[..., (radius > 0) & (radius <= 1 / 16)].mean() / power[..., radius > 1 / 4].mean())


@pytest.mark.parametrize("kind", [FourierImage, PixelImage])
@pytest.mark.parametrize(("height", "width", "batch"), [(64, 64, 1), (33, 47, 2), (1, 1, 1)])
def test_pixels_have_the_asked_shape_and_lie_in_0_255(kind, height, width, batch):
    pixels = kind(height, width, generator=seeded(0), batch=batch)()
    assert pixels.shape == (batch, 3, height, width)
    assert pixels.dtype == torch.float32
    assert pixels.min() >= 0 and pixels.max() <= 255
    # A small initial std keeps the start a near-uniform grey.
    assert (pixels - 127.5).abs().max() < 10


@pytest.mark.parametrize("kind", [FourierImage, PixelImage])
def test_same_seed_same_pixels_other_seed_other_pixels(kind):
    first = kind(40, 56, generator=seeded(3))()
    again = kind(40, 56, generator=seeded(3))()
    other = kind(40, 56, generator=seeded(4))()
    assert torch.equal(first, again)
    assert (first - other).abs().mean() > 0.1


@pytest.mark.parametrize("kind", [FourierImage, PixelImage])
def test_pixels_are_differentiable_in_the_parameters(kind):
    image = kind(24, 30, generator=seeded(0))
    image()[:, 0].sum().backward()
    (parameter,) = image.parameters()
    assert parameter.grad is not None
    assert torch.isfinite(parameter.grad).all()
    assert parameter.grad.abs().sum() > 0


def test_fourier_image_starts_with_far_less_high_frequency_energy_than_noise():
    # Measured for seeds 0..2 at 128x128: share of energy above 1/4 cycle/pixel 0.17-0.19
    # (white noise of the same pixel std: 0.80, a 4.3-4.8x ratio); mean power at f <= 1/16
    # over mean power at f > 1/4: 174-222 (white noise: 0.86-1.13).
    for seed in range(3):
        generator = seeded(seed)
        fourier = FourierImage(128, 128, generator=generator)().detach()
        noise = torch.randn(fourier.shape, generator=generator) * fourier.std() + 127.5
        fourier_share, noise_share = high_frequency_share(fourier), high_frequency_share(noise)
        assert fourier_share < 0.25
        assert noise_share > 0.75
        assert noise_share / fourier_share > 3.5
        assert low_to_high_power(fourier) > 100
        assert 0.5 < low_to_high_power(noise) < 2


def test_decay_power_zero_gives_a_white_spectrum():
    pixels = FourierImage(128, 128, generator=seeded(0), decay_power=0.0)().detach()
    assert 0.75 < high_frequency_share(pixels) < 0.85


def test_pixel_image_starts_as_white_noise():
    pixels = PixelImage(128, 128, generator=seeded(0))().detach()
    assert 0.75 < high_frequency_share(pixels) < 0.85


def test_spectrum_scale_is_one_over_frequency_floored_at_the_image_size():
    scale = spectrum_scale(64, 32)
    assert scale.shape == (64, 17)
    assert scale[0, 0] == 64  # the constant term: 1 / (1 / max(H, W))
    assert scale[0, 16] == pytest.approx(2.0)  # f = 1/2 cycle per pixel
    assert scale[1, 0] == pytest.approx(64.0)  # f = 1/64 is at the floor
    assert spectrum_scale(64, 32, decay_power=2.0)[0, 16] == pytest.approx(4.0)


def test_color_matrix_is_lucids_normalised_by_its_largest_column():
    matrix = color_correlation_sqrt()
    assert matrix.norm(dim=0).max().item() == pytest.approx(1.0)
    # The first decorrelated channel is brightness: it raises R, G and B about equally.
    first = decorrelated_to_rgb(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).flatten()
    assert first.min() > 0.55 and first.max() < 0.59


def test_decorrelate_changes_the_colours_not_the_shape():
    plain = FourierImage(16, 16, generator=seeded(0), decorrelate=False)()
    mixed = FourierImage(16, 16, generator=seeded(0), decorrelate=True)()
    assert plain.shape == mixed.shape
    assert not torch.equal(plain, mixed)


def test_only_the_spectrum_is_saved():
    image = FourierImage(16, 20, generator=seeded(0), batch=2)
    assert list(image.state_dict()) == ["spectrum"]
    assert image.spectrum.shape == (2, 3, 16, 11, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(height=0), "height must be >= 1, got 0"),
        (dict(width=2.5), "width must be an integer, got 2.5"),
        (dict(batch=0), "batch must be >= 1, got 0"),
        (dict(std=0.0), "std must be > 0, got 0.0"),
        (dict(std=float("nan")), "std must be a finite number, got nan"),
        (dict(decay_power=-1.0), "decay_power must be >= 0, got -1.0"),
        (dict(generator=0), "generator must be a torch.Generator, got int; use torch.Generator().manual_seed(seed)"),
    ],
)
def test_fourier_image_rejects_bad_arguments_with_exact_messages(kwargs, message):
    arguments = dict(height=8, width=8, generator=seeded(0)) | kwargs
    height, width = arguments.pop("height"), arguments.pop("width")
    with pytest.raises(InvalidParameterError) as error:
        FourierImage(height, width, **arguments)
    assert str(error.value) == message


def test_pixel_image_rejects_a_negative_std():
    with pytest.raises(InvalidParameterError, match=r"^std must be > 0, got -1$"):
        PixelImage(8, 8, generator=seeded(0), std=-1)
