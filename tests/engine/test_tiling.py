"""Fast tier: wrap-around windows, tile planning, the activation estimate and the tiled ascent."""

import pytest
import torch

from inceptionism.engine import Schedule, ascend, check_size
from inceptionism.engine.memory import BACKWARD_OVERHEAD, DEFAULT_TILE, activation_bytes_per_pixel, plan_tiles
from inceptionism.engine.windows import copy_window, paste_window, roll_into
from inceptionism.errors import InvalidParameterError
from inceptionism.objectives import as_objective

CPU = torch.device("cpu")
FULL_H, FULL_W = 11, 17

# (top, left, height, width): inside, wrapping one or both edges, more than half the image,
# the whole image, negative offsets and offsets beyond the size.
WINDOWS = [
    (0, 0, 4, 5),
    (3, 6, 5, 7),
    (8, 14, 5, 6),
    (9, 2, 4, 3),
    (1, 13, 3, 9),
    (2, 3, 10, 16),
    (6, 9, 11, 17),
    (0, 0, 11, 17),
    (-3, -5, 6, 8),
    (-12, -20, 7, 9),
    (15, 40, 8, 12),
    (11, 17, 2, 2),
    (-1, -1, 11, 17),
]


def reference_window(source, top, left, height, width):
    rows = (top + torch.arange(height)) % source.shape[-2]
    cols = (left + torch.arange(width)) % source.shape[-1]
    return source[..., rows[:, None], cols[None, :]]


def numbered(*shape):
    return torch.arange(torch.Size(shape).numel(), dtype=torch.float32).view(shape)


def mean_square(net, pixels, name):
    with torch.no_grad(), net.tap([name]) as extract:
        return extract(pixels)[name].square().mean().item()


def noise_pixels(height=48, width=64, seed=1):
    return torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(seed)) * 255


# copy_window, paste_window, roll_into


@pytest.mark.parametrize(("top", "left", "height", "width"), WINDOWS)
def test_copy_window_matches_fancy_indexing(top, left, height, width):
    source = numbered(2, 3, FULL_H, FULL_W)
    target = torch.full((2, 3, height, width), -1.0).contiguous(memory_format=torch.channels_last)
    copy_window(source, target, top, left)
    assert torch.equal(target, reference_window(source, top, left, height, width))


@pytest.mark.parametrize(("top", "left", "height", "width"), WINDOWS)
def test_paste_window_matches_fancy_indexing(top, left, height, width):
    window = numbered(1, 3, height, width) + 1000
    target = numbered(1, 3, FULL_H, FULL_W)
    expected = target.clone()
    rows = (top + torch.arange(height)) % FULL_H
    cols = (left + torch.arange(width)) % FULL_W
    expected[..., rows[:, None], cols[None, :]] = window
    paste_window(window, target, top, left)
    assert torch.equal(target, expected)


@pytest.mark.parametrize(("top", "left", "height", "width"), WINDOWS)
def test_paste_undoes_copy(top, left, height, width):
    source = numbered(1, 3, FULL_H, FULL_W)
    window = torch.empty(1, 3, height, width)
    copy_window(source, window, top, left)
    target = torch.zeros_like(source)
    paste_window(window, target, top, left)
    covered = torch.zeros(FULL_H, FULL_W, dtype=torch.bool)
    covered[((top + torch.arange(height)) % FULL_H)[:, None], ((left + torch.arange(width)) % FULL_W)[None, :]] = True
    assert torch.equal(target[..., covered], source[..., covered])
    assert not target[..., ~covered].any()


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (6, 9), (-6, -9), (11, 17), (-23, 35), (5, -16)])
def test_roll_into_matches_torch_roll_on_odd_sizes(dy, dx):
    source = numbered(1, 3, FULL_H, FULL_W)
    target = torch.empty_like(source)
    roll_into(source, target, dy, dx)
    assert torch.equal(target, source.roll((dy, dx), dims=(2, 3)))


# plan_tiles


@pytest.mark.parametrize(
    ("height", "width", "options", "expected"),
    [
        # The doctest cases: too large for the budget, and small enough for the whole image.
        (4000, 6000, {"budget": 2**30, "tile": None, "min_size": 17}, (512, 4)),
        (400, 600, {"budget": 2**30, "tile": None, "min_size": 17}, (None, 1)),
        # Exactly at the budget still fits whole.
        (512, 512, {"budget": 1000 * 512 * 512, "tile": None, "min_size": 17}, (None, 1)),
        # A tile given explicitly is used even when the whole image fits; it gets a batch from the budget
        # (64 MiB // 16.4 MB per 128 px tile = 4) ...
        (400, 600, {"budget": 2**26, "tile": 128, "min_size": 17}, (128, 4)),
        # ... capped by the number of tiles (4 x 5 = 20).
        (400, 600, {"budget": 2**30, "tile": 128, "min_size": 17}, (128, 20)),
        # A tile larger than the image is one tile: the batch is 1.
        (400, 600, {"budget": 2**30, "tile": 1024, "min_size": 17}, (1024, 1)),
        # Halved from 512 while one tile exceeds 1 MiB at 1000 B/px: 512, 256, 128, 64, 32.
        (4000, 6000, {"budget": 2**20, "tile": None, "min_size": 17}, (32, 1)),
    ],
)
def test_plan_tiles(height, width, options, expected):
    assert plan_tiles(1000.0, height, width, **options) == expected


@pytest.mark.parametrize(("min_size", "expected"), [(8, 8), (15, 16), (16, 16), (17, 32), (100, 128), (512, 512)])
def test_plan_tiles_never_halves_below_the_minimum(min_size, expected):
    # 10 MB per pixel: no tile fits a 1 MiB budget, so the halving runs down to the minimum.
    tile, batch = plan_tiles(1e7, 4000, 6000, budget=2**20, tile=None, min_size=min_size)
    assert (tile, batch) == (expected, 1)
    assert tile >= min_size
    assert DEFAULT_TILE == 512


# activation_bytes_per_pixel


@pytest.mark.parametrize(
    ("layer", "saved_fp32", "saved_bf16"),
    [
        # Bytes per input pixel saved for backward:
        # fp32 conv3: input 3ch x 4 B + conv1 8ch x 4 + conv2 16ch x 4 / 4 + conv3 16ch x 4 / 16 = 64.
        # bf16 conv3: the same at 2 B (6 + 16 + 8 + 2) = 32; the objective keeps no float32 copy.
        ("conv3", 64, 32),
        # conv1 alone: fp32 12 + 32 = 44; bf16 6 + 16 = 22.
        ("conv1", 44, 22),
    ],
)
def test_activation_bytes_per_pixel(tiny_net, layer, saved_fp32, saved_bf16):
    objective = as_objective(layer)
    fp32 = activation_bytes_per_pixel(tiny_net, objective, device=CPU, precision="fp32")
    bf16 = activation_bytes_per_pixel(tiny_net, objective, device=CPU, precision="bf16")
    assert BACKWARD_OVERHEAD == 1.3
    assert fp32 == pytest.approx(BACKWARD_OVERHEAD * saved_fp32, rel=1e-6)
    assert bf16 == pytest.approx(BACKWARD_OVERHEAD * saved_bf16, rel=1e-6)
    assert fp32 > 0 and bf16 > 0


def test_activation_bytes_per_pixel_of_the_prepared_net_is_the_same(tiny_net):
    objective = as_objective("conv3")
    prepared = tiny_net.prepared(CPU)
    assert activation_bytes_per_pixel(prepared, objective, device=CPU, precision="fp32") == pytest.approx(1.3 * 64)


# the tiled ascent


def test_one_whole_image_tile_is_the_untiled_step_on_the_rolled_image(tiny_net):
    """With tile >= the image, each step rolls it by the grid offset: nothing else differs.

    The tiled path draws the offset ``top`` in 0..H-1, then ``left`` in 0..W-1, and reads the
    window at ``(top, left)``: the image rolled by ``(-top, -left)``. An untiled step without
    jitter on that rolled image, rolled back, must give the same pixels and the same loss.
    """
    objective, pixels = as_objective("conv2"), noise_pixels()
    height, width = pixels.shape[-2:]
    tiled_generator, offsets = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    tiled = expected = pixels
    for _ in range(3):
        tiled, tiled_losses = ascend(
            tiny_net, tiled, objective, Schedule(octaves=1, steps=1, step_size=8.0, tile=64, tile_batch=2),
            generator=tiled_generator,
        )  # fmt: skip
        top = int(torch.randint(0, height, (1,), generator=offsets))
        left = int(torch.randint(0, width, (1,), generator=offsets))
        rolled, losses = ascend(
            tiny_net, expected.roll((-top, -left), dims=(2, 3)), objective,
            Schedule(octaves=1, steps=1, step_size=8.0, jitter=0), generator=torch.Generator().manual_seed(0),
        )  # fmt: skip
        expected = rolled.roll((top, left), dims=(2, 3))
        assert tiled_losses == pytest.approx(losses, rel=1e-6)
    assert torch.allclose(tiled, expected, rtol=0, atol=1e-3)
    assert (tiled - pixels).abs().mean() > 5  # three steps of 8 levels really moved the pixels


def test_tile_borders_cost_little_gain_against_one_whole_image_tile(tiny_net):
    """The grid offsets depend only on the seed and the image size, not on the tile size.

    So 16 px tiles and one tile covering the image see the same roll at every step and differ
    only by the tile borders: their gains compare. An untiled run without jitter optimises one
    fixed view and gains most; a full-image random roll per step (what one tile does) costs that.
    """
    objective, pixels = as_objective("conv2"), noise_pixels()
    before = mean_square(tiny_net, pixels, "conv2")

    def gain(**options):
        schedule = Schedule(octaves=1, steps=8, step_size=8.0, **options)
        out, _ = ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(0))
        return mean_square(tiny_net, out, "conv2") / before

    untiled, whole_tile, small_tiles = gain(jitter=0), gain(tile=64), gain(tile=16, tile_batch=4)
    # Measured: 3.96, 2.28 and 2.24.
    assert untiled > 3.5
    assert whole_tile > 2.0
    assert 0.9 < small_tiles / whole_tile <= 1.0
    assert gain(tile=48) == pytest.approx(whole_tile, rel=0.02)  # 48x64 in 48 px tiles: 2 tiles, overlapping


@pytest.mark.parametrize("batch", [2, 3, 4, 6, 12])
def test_tile_batch_does_not_change_the_pixels_when_it_divides_the_tiles(tiny_net, batch):
    # 16 px tiles on 48x64: 3 x 4 = 12 tiles, so these batch sizes give chunks of equal length.
    objective, pixels = as_objective("conv2"), noise_pixels()

    def run(tile_batch):
        schedule = Schedule(octaves=1, steps=4, step_size=8.0, tile=16, tile_batch=tile_batch)
        return ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(0))

    (single, single_losses), (batched, batched_losses) = run(1), run(batch)
    assert torch.allclose(batched, single, rtol=0, atol=5e-3)  # measured at most 4.5e-4 levels
    assert batched_losses == pytest.approx(single_losses, rel=1e-5)  # measured 1.6e-6


@pytest.mark.parametrize("batch", [5, 7])
def test_tile_batch_does_not_change_the_pixels_with_a_short_last_chunk(tiny_net, batch):
    objective, pixels = as_objective("conv2"), noise_pixels()

    def run(tile_batch):
        schedule = Schedule(octaves=1, steps=4, step_size=8.0, tile=16, tile_batch=tile_batch)
        return ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(0))[0]

    assert torch.allclose(run(batch), run(1), rtol=0, atol=1e-2)


def test_small_tiles_still_raise_the_objective(tiny_net):
    objective, pixels = as_objective("conv2"), noise_pixels()
    schedule = Schedule(octaves=1, steps=10, step_size=8.0, tile=16, tile_batch=4)
    out, losses = ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(0))
    gain = mean_square(tiny_net, out, "conv2") / mean_square(tiny_net, pixels, "conv2")
    assert gain > 2.2  # measured 2.58 (untiled with jitter 4: 3.29)
    assert losses[-1] > 2.2 * losses[0]  # measured 2.62
    assert len(losses) == 10


@pytest.mark.parametrize(
    ("height", "width", "tile", "octaves"), [(48, 64, 16, 2), (37, 53, 16, 1), (20, 30, 64, 2), (48, 64, 20, 1)]
)
def test_tiled_output_has_the_input_shape_and_range(tiny_net, height, width, tile, octaves):
    pixels = noise_pixels(height, width)
    schedule = Schedule(octaves=octaves, octave_scale=1.5, steps=2, step_size=50.0, tile=tile, tile_batch=3)
    out, losses = ascend(tiny_net, pixels, as_objective("conv3"), schedule, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 3, height, width)
    assert out.min().item() >= 0 and out.max().item() <= 255
    assert len(losses) == 2 * octaves


def test_tiled_runs_repeat_with_the_same_seed(tiny_net):
    objective, pixels = as_objective("conv2"), noise_pixels()
    schedule = Schedule(octaves=1, steps=3, step_size=8.0, tile=16, tile_batch=4)
    first, _ = ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(7))
    again, _ = ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(7))
    other, _ = ascend(tiny_net, pixels, objective, schedule, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert (first - other).abs().mean() > 0.5


def test_check_size_refuses_a_tile_below_the_network_minimum(tiny_net):
    with pytest.raises(InvalidParameterError) as info:
        check_size(tiny_net, Schedule(octaves=1, tile=4), 48, 64)
    assert str(info.value) == "tile must be at least 8 px for tiny (its smallest input), got 4"
    check_size(tiny_net, Schedule(octaves=1, tile=8), 48, 64)
