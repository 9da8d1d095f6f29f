"""Faster layer rewrites compute the same function as the layers they replace."""

import pytest
import torch
from torch import nn

from inceptionism.models.fast import SpaceToDepthConv2d, faster_conv


@pytest.mark.parametrize(("kernel", "padding"), [(7, 3), (5, 2), (3, 0), (3, 1), (4, 1), (7, 0)])
@pytest.mark.parametrize(("height", "width"), [(17, 17), (64, 65), (99, 120), (250, 373)])
def test_space_to_depth_equals_the_strided_convolution(kernel, padding, height, width):
    torch.manual_seed(kernel * 100 + padding)
    conv = nn.Conv2d(3, 16, kernel, stride=2, padding=padding)
    x = torch.randn(2, 3, height, width, requires_grad=True)
    expected = conv(x)
    got = SpaceToDepthConv2d(conv)(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-4)
    output_grad = torch.randn_like(expected)
    (want,) = torch.autograd.grad(expected, x, output_grad)
    (have,) = torch.autograd.grad(got, x, output_grad)
    assert torch.allclose(have, want, atol=1e-4)


def test_only_large_stem_convolutions_are_rewritten():
    stem = nn.Conv2d(3, 64, 7, stride=2, padding=3)
    assert isinstance(faster_conv(stem), SpaceToDepthConv2d)
    for kept in (
        nn.Conv2d(3, 64, 3, stride=2),  # small kernel: the rewrite does not pay
        nn.Conv2d(64, 64, 7, stride=2, padding=3),  # many input channels: the usual kernel is fast
        nn.Conv2d(3, 64, 7, stride=1, padding=3),
        nn.Conv2d(3, 64, 7, stride=2, padding=3, dilation=2),
        nn.ReLU(),
    ):
        assert faster_conv(kept) is kept
