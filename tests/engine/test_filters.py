"""Fast tier: the gradient filters (blur, Laplacian normalisation, luminance, total variation)."""

import math

import pytest
import torch

from inceptionism.engine.filters import (
    LUMA,
    gaussian_blur,
    laplacian_normalize,
    luminance_only,
    mean_abs,
    total_variation_gradient,
)


def seeded(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def rms(x):
    return x.square().mean().sqrt().item()


def ycbcr_chroma(image):
    """JPEG (full-range BT.601) Cb and Cr of ``(B, 3, H, W)`` RGB."""
    r, g, b = image.double().unbind(1)
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    return cb, cr


# gaussian_blur


@pytest.mark.parametrize("sigma", [0.5, 1.5, 4.0])
def test_blur_keeps_a_constant_image(sigma):
    image = torch.full((1, 3, 24, 32), 37.5)
    assert torch.allclose(gaussian_blur(image, sigma), image, rtol=0, atol=1e-4)


@pytest.mark.parametrize("sigma", [0, 0.0, -1.0])
def test_blur_with_sigma_zero_or_less_returns_the_input_itself(sigma):
    image = seeded(1, 3, 8, 8)
    assert gaussian_blur(image, sigma) is image


@pytest.mark.parametrize("sigma", [1.0, 1.5, 2.0, 3.0])
def test_blur_of_a_point_keeps_its_sum_and_has_the_gaussian_std(sigma):
    image = torch.zeros(1, 3, 41, 41)
    image[..., 20, 20] = 1.0
    blurred = gaussian_blur(image, sigma)[0, 0]
    rows, cols = torch.meshgrid(torch.arange(41.0) - 20, torch.arange(41.0) - 20, indexing="ij")
    total = blurred.sum()
    std_y = ((rows.square() * blurred).sum() / total).sqrt().item()
    std_x = ((cols.square() * blurred).sum() / total).sqrt().item()
    assert total.item() == pytest.approx(1.0, abs=1e-5)
    # Measured: 0.998, 1.498, 1.988, 2.975 (the 3-sigma truncation trims the tails slightly).
    assert std_y == pytest.approx(sigma, rel=0.1)
    assert std_x == pytest.approx(sigma, rel=0.1)
    assert blurred.argmax().item() == 20 * 41 + 20
    assert torch.equal(blurred, blurred.T)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_blur_removes_high_frequencies(sigma):
    # White noise keeps 1 / (2 sqrt(pi) sigma) of its RMS under a 2-D Gaussian of std sigma
    # (0.282 at sigma 1, 0.141 at 2); measured 0.287 and 0.149, the borders reflecting.
    noise = seeded(1, 3, 64, 64)
    kept = rms(gaussian_blur(noise, sigma)) / rms(noise)
    assert kept == pytest.approx(1 / (2 * math.sqrt(math.pi) * sigma), rel=0.1)
    # The highest frequency (a checkerboard at the Nyquist rate) all but vanishes: 2e-4 of it stays.
    index = torch.arange(64)
    checker = ((index[:, None] + index[None, :]) % 2 * 2 - 1).float().expand(1, 3, 64, 64)
    assert rms(gaussian_blur(checker, sigma)) < 1e-3


@pytest.mark.parametrize(("height", "width", "sigma"), [(4, 40, 3.0), (3, 3, 2.0), (1, 16, 1.0)])
def test_blur_keeps_a_constant_image_smaller_than_the_kernel(height, width, sigma):
    image = torch.ones(1, 3, height, width)
    assert torch.allclose(gaussian_blur(image, sigma), image, atol=1e-5)


# laplacian_normalize


@pytest.mark.parametrize(("shape", "levels"), [((1, 3, 64, 64), 4), ((2, 3, 37, 23), 4), ((1, 3, 3, 5), 6)])
def test_laplacian_keeps_the_shape(shape, levels):
    assert laplacian_normalize(seeded(*shape), levels).shape == shape


def test_laplacian_balances_a_strong_ramp_against_weak_noise():
    ramp = 10 * torch.linspace(-1, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    gradient = ramp + 0.1 * seeded(1, 3, 64, 64)

    def low_over_high(x):
        # Bands split by a sigma-3 blur, measured away from the borders (where a ramp reflects).
        low = gaussian_blur(x, 3.0)
        inner = (..., slice(12, -12), slice(12, -12))
        return rms(low[inner]) / rms((x - low)[inner])

    # Measured: 37.1 before, 0.84 after 4 levels.
    assert low_over_high(gradient) > 30
    assert 0.5 < low_over_high(laplacian_normalize(gradient, 4)) < 2


@pytest.mark.parametrize("levels", [0, 1])
def test_laplacian_with_one_level_divides_by_the_rms(levels):
    gradient = 3 * seeded(1, 3, 16, 20)
    expected = gradient / gradient.square().mean().sqrt()
    assert torch.allclose(laplacian_normalize(gradient, levels), expected, rtol=1e-6, atol=0)
    assert rms(laplacian_normalize(gradient, levels)) == pytest.approx(1.0, rel=1e-6)


# luminance_only


def test_luminance_only_sets_every_channel_to_the_luma():
    gradient = seeded(2, 3, 5, 7)
    luma = LUMA[0] * gradient[:, 0] + LUMA[1] * gradient[:, 1] + LUMA[2] * gradient[:, 2]
    result = luminance_only(gradient)
    assert LUMA == (0.299, 0.587, 0.114)
    assert result.shape == gradient.shape
    for channel in range(3):
        assert torch.allclose(result[:, channel], luma, rtol=0, atol=1e-6)
    assert torch.equal(result[:, 0], result[:, 1]) and torch.equal(result[:, 1], result[:, 2])


def test_luminance_step_keeps_the_chroma():
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2)) * 255
    stepped = image + 20 * luminance_only(seeded(1, 3, 16, 16))
    (cb_before, cr_before), (cb_after, cr_after) = ycbcr_chroma(image), ycbcr_chroma(stepped)
    assert (stepped - image).abs().max() > 20  # the step is not small, yet the colours stay
    assert (cb_after - cb_before).abs().max().item() < 1e-4
    assert (cr_after - cr_before).abs().max().item() < 1e-4


# total_variation_gradient and mean_abs


def test_total_variation_gradient_matches_autograd():
    image = (seeded(2, 3, 9, 13) * 50).requires_grad_(True)
    total = (image[..., 1:, :] - image[..., :-1, :]).abs().sum() + (image[..., :, 1:] - image[..., :, :-1]).abs().sum()
    (expected,) = torch.autograd.grad(total, image)
    assert torch.equal(total_variation_gradient(image.detach()), expected)


def test_total_variation_gradient_of_a_step_edge():
    image = torch.zeros(1, 1, 2, 4)
    image[..., 2:] = 1.0
    # Lowering the TV means raising the dark side of the edge and lowering the bright side.
    assert total_variation_gradient(image)[0, 0].tolist() == [[0.0, -1.0, 1.0, 0.0]] * 2


def test_mean_abs():
    values = torch.tensor([[-1.0, 2.0], [-3.0, 4.0]])
    assert mean_abs(values).item() == 2.5
    assert mean_abs(values).shape == ()
    noise = seeded(2, 3, 8, 8)
    assert mean_abs(noise).item() == pytest.approx(noise.abs().mean().item(), rel=1e-6)


def test_a_blur_too_sharp_to_change_anything_returns_the_input():
    image = torch.rand(1, 3, 8, 8)
    for sigma in (5e-324, 1e-23, 0.09):  # 2 * sigma**2 underflows to 0 in float32 below about 2.6e-23
        assert gaussian_blur(image, sigma) is image
    assert torch.isfinite(gaussian_blur(image, 0.1)).all()
