"""Faster layer rewrites compute the same function as the layers they replace."""

import pytest
import torch
from torch import nn

from inceptionism.models import Network, Preprocessing
from inceptionism.models.fast import SpaceToDepthConv2d, ThreadedMaxPool2d, faster_conv, faster_pool
from inceptionism.models.network import Normalize


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


def test_only_stem_convolutions_are_rewritten():
    for stem in (nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.Conv2d(3, 64, 3, stride=2)):
        assert isinstance(faster_conv(stem), SpaceToDepthConv2d)
    for kept in (
        nn.Conv2d(3, 64, 1, stride=2),  # a 1x1 kernel has no taps to fold
        nn.Conv2d(64, 64, 7, stride=2, padding=3),  # many input channels: the usual kernel is fast
        nn.Conv2d(3, 64, 7, stride=1, padding=3),
        nn.Conv2d(3, 64, 7, stride=2, padding=3, dilation=2),
        nn.ReLU(),
    ):
        assert faster_conv(kept) is kept


class StemBody(nn.Module):
    """A stride-2 stem and one more layer, with the stem named for the preprocessing fold."""

    stem = "conv1"

    def __init__(self, kernel: int, padding: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel, stride=stride, padding=padding)
        self.conv2 = nn.Conv2d(8, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(torch.relu(self.conv1(x))).mean((2, 3))


def stem_net(kernel: int, padding: int, order: str, stride: int = 2) -> Network:
    torch.manual_seed(kernel + len(order))
    preprocessing = Preprocessing(order, 1 / 255, (0.4, 0.5, 0.6), (0.2, 0.25, 0.3))
    net = Network(
        StemBody(kernel, padding, stride),
        name="stem",
        preprocessing=preprocessing,
        layers=("conv1", "conv2"),
        labels=["a", "b", "c", "d"],
        min_size=11,
        input_size=32,
        weights="random",
    )
    return net.double().eval().requires_grad_(False)


@pytest.mark.parametrize("order", ["RGB", "BGR"])
@pytest.mark.parametrize(("kernel", "padding", "stride"), [(7, 3, 2), (3, 0, 2), (5, 2, 2), (3, 0, 1)])
@pytest.mark.parametrize(("height", "width"), [(17, 17), (40, 53), (61, 38)])
def test_preprocessing_folded_into_the_stem_computes_the_same(order, kernel, padding, stride, height, width):
    net = stem_net(kernel, padding, order, stride)
    fast = net.prepared(torch.device("cpu"))
    assert isinstance(fast.normalize, nn.Identity)
    if padding:  # the border is filled with the pixel values that normalise to 0
        fill = torch.tensor([0.4, 0.5, 0.6], dtype=torch.float64) * 255
        assert torch.allclose(fast.body.conv1.fill, fill.flip(0) if order == "BGR" else fill)
    pixels = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 255
    slow_pixels, fast_pixels = pixels.clone().requires_grad_(True), pixels.clone().requires_grad_(True)
    with net.tap(["conv1"]) as slow, fast.tap(["conv1"]) as quick:
        expected, got = slow(slow_pixels)["conv1"], quick(fast_pixels)["conv1"]
    assert torch.allclose(got, expected, atol=1e-9 * expected.abs().max().item())
    output_grad = torch.randn_like(expected)
    (want,) = torch.autograd.grad(expected, slow_pixels, output_grad)
    (have,) = torch.autograd.grad(got, fast_pixels, output_grad)
    assert torch.allclose(have, want, atol=1e-9 * want.abs().max().item())


def test_a_padded_stem_that_is_not_rewritten_keeps_the_preprocessing():
    fast = stem_net(3, 1, "BGR", stride=1).prepared(torch.device("cpu"))  # stride 1: no space-to-depth, no fill
    assert isinstance(fast.normalize, Normalize)
    assert type(fast.body.conv1) is nn.Conv2d


def test_space_to_depth_under_bf16_autocast_gives_channels_last_bf16_blocks():
    torch.manual_seed(3)
    conv = nn.Conv2d(3, 16, 7, stride=2, padding=3).requires_grad_(False)
    x = (torch.rand(1, 3, 45, 62) * 255).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = SpaceToDepthConv2d(conv)(x)
    assert got.dtype == torch.bfloat16
    expected = conv(x)
    assert (got.float() - expected).abs().max() < 0.02 * expected.abs().max()
    (gradient,) = torch.autograd.grad(got.float().sum(), x)
    assert gradient.dtype == torch.float32 and gradient.shape == x.shape


POOLS = [  # kernel, stride, padding, ceil_mode: GoogLeNet's, SqueezeNet's and a few others
    (3, 2, 0, True),
    (3, 1, 1, True),
    (2, 2, 0, True),
    (3, 2, 1, False),
    (5, 3, 2, True),
    (2, 1, 1, False),  # one more output row than input rows
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil"), POOLS)
@pytest.mark.parametrize(("height", "width"), [(40, 40), (85, 128), (67, 33)])
def test_threaded_max_pool_gives_the_same_values_and_gradient(kernel, stride, padding, ceil, height, width):
    generator = torch.Generator().manual_seed(height * width + kernel)
    pixels = torch.randn(1, 6, height, width, generator=generator, dtype=torch.float64)
    pixels = pixels.contiguous(memory_format=torch.channels_last)
    plain = nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil)
    threaded = faster_pool(plain)
    assert isinstance(threaded, ThreadedMaxPool2d)
    slow, fast = pixels.clone().requires_grad_(True), pixels.clone().requires_grad_(True)
    expected, got = plain(slow), threaded(fast)
    assert got.grad_fn.name() == "_SplitMaxPool2dBackward"
    assert torch.equal(got, expected)
    output_grad = torch.randn(expected.shape, generator=generator, dtype=torch.float64)
    (want,) = torch.autograd.grad(expected, slow, output_grad)
    (have,) = torch.autograd.grad(got, fast, output_grad)
    assert have.is_contiguous(memory_format=torch.channels_last)
    # The same sums, added in another order where a window of each half chose the same pixel.
    assert torch.allclose(have, want, rtol=0, atol=1e-12)
    assert (have != 0).sum() == (want != 0).sum()


def test_threaded_max_pool_in_bf16_rounds_no_worse_than_pytorch():
    generator = torch.Generator().manual_seed(2)
    # Values on a coarse grid: many ties, which must go to the same pixel as PyTorch's.
    pixels = (torch.randn(1, 64, 85, 128, generator=generator) * 4).round().to(torch.bfloat16)
    pixels = pixels.contiguous(memory_format=torch.channels_last)
    output_grad = torch.randn(1, 64, 85, 128, generator=generator).to(torch.bfloat16)
    grads = []
    for pool, dtype in (
        (nn.MaxPool2d(3, 1, 1, ceil_mode=True), torch.float64),  # exact
        (nn.MaxPool2d(3, 1, 1, ceil_mode=True), torch.bfloat16),
        (ThreadedMaxPool2d(3, 1, 1, ceil_mode=True), torch.bfloat16),
    ):
        x = pixels.to(dtype).requires_grad_(True)
        (grad,) = torch.autograd.grad(pool(x), x, output_grad.to(dtype))
        grads.append(grad.double())
    exact, pytorch, threaded = grads
    assert torch.equal(threaded != 0, pytorch != 0)  # the same pixels chosen
    # Sums of up to 9 values, rounded to bf16 in another order: measured 0.092 off for both.
    assert (threaded - exact).abs().max() <= 1.5 * (pytorch - exact).abs().max() <= 0.15


def test_threaded_max_pool_falls_back_where_it_cannot_split():
    pool = ThreadedMaxPool2d(3, 2, ceil_mode=True)
    image = torch.randn(1, 4, 40, 40).contiguous(memory_format=torch.channels_last)
    for x, grad_enabled in (
        (image.contiguous().requires_grad_(True), True),  # NCHW
        (torch.cat([image, image]).requires_grad_(True), True),  # a batch: PyTorch already splits it
        (image.clone().requires_grad_(True), False),  # no gradient wanted
    ):
        with torch.set_grad_enabled(grad_enabled):
            out = pool(x)
        assert out.grad_fn is None or out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
        assert torch.equal(out, nn.MaxPool2d(3, 2, ceil_mode=True)(x))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert pool(image.clone().requires_grad_(True)).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    finally:
        torch.set_num_threads(threads)
