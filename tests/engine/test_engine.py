"""Fast tier: the ascent loop on a tiny seeded network."""

import math
import platform
import subprocess
import sys

import numpy as np
import pytest
import torch

from inceptionism import dream
from inceptionism.engine import Progress, Schedule, ascend, check_size, roll_into
from inceptionism.engine.runtime import resolve_device, resolve_precision
from inceptionism.errors import DeviceError, ImageError, InvalidParameterError
from inceptionism.io.images import to_tensor
from inceptionism.objectives import as_objective


def mean_square(net, image, layer):
    with torch.no_grad(), net.tap([layer]) as extract:
        return extract(to_tensor(image))[layer].square().mean().item()


def tiny_dream(net, image, **options):
    settings = dict(model=net, layers=["conv2"], octaves=2, octave_scale=1.5, steps=8, step_size=8.0, jitter=4, seed=0)
    settings.update(precision="fp32", max_size=None)
    settings.update(options)
    return dream(image, **settings)


def test_objective_rises_several_fold(tiny_net, noise_image):
    result = tiny_dream(tiny_net, noise_image)
    before = mean_square(tiny_net, result.source.image, "conv2")
    after = mean_square(tiny_net, result.image, "conv2")
    assert after > 3 * before
    assert result.losses[-1] > 2 * result.losses[0]


def test_same_seed_same_pixels_other_seed_other_pixels(tiny_net, noise_image):
    first = np.asarray(tiny_dream(tiny_net, noise_image, seed=5).image)
    again = np.asarray(tiny_dream(tiny_net, noise_image, seed=5).image)
    other = np.asarray(tiny_dream(tiny_net, noise_image, seed=6).image)
    assert np.array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 0.5


def test_seed_is_drawn_and_recorded_when_not_given(tiny_net, noise_image):
    result = tiny_dream(tiny_net, noise_image, seed=None)
    again = tiny_dream(tiny_net, noise_image, seed=result.params["seed"])
    assert isinstance(result.params["seed"], int)
    assert np.array_equal(np.asarray(result.image), np.asarray(again.image))


def test_callback_reports_every_step_in_order(tiny_net, noise_image):
    seen: list[Progress] = []
    result = tiny_dream(tiny_net, noise_image, octaves=3, steps=4, callback=seen.append)
    assert [(p.octave, p.step) for p in seen] == [(o, s) for o in (1, 2, 3) for s in (1, 2, 3, 4)]
    assert [p.loss for p in seen] == result.losses
    assert seen[-1].done == seen[-1].total == 12


def test_params_record_everything(tiny_net, noise_image):
    params = tiny_dream(tiny_net, noise_image, layers=["conv2:1,3=2", "conv3"]).params
    assert params["layers"] == ["conv2:1,3=2", "conv3"]
    assert params["size"] == [64, 48]
    assert params["model"] == "tiny"
    assert params["precision"] == "fp32"
    assert {"octaves", "octave_scale", "steps", "step_size", "jitter", "seed", "max_size", "version"} <= set(params)


def test_pixels_stay_in_range_and_input_is_untouched(tiny_net, noise_image):
    pixels = to_tensor(tiny_dream(tiny_net, noise_image).source.image)
    kept = pixels.clone()
    out, _ = ascend(
        tiny_net,
        pixels,
        as_objective("conv3"),
        Schedule(octaves=2, steps=5, step_size=50.0),
        generator=torch.Generator().manual_seed(0),
    )
    assert torch.equal(pixels, kept)
    assert out.min().item() >= 0 and out.max().item() <= 255
    assert out.shape == pixels.shape


def test_dream_default_layer_is_the_networks(tiny_net, noise_image):
    assert tiny_dream(tiny_net, noise_image, layers=None).params["layers"] == ["conv3"]


def test_bf16_runs_and_still_raises_the_objective(tiny_net, noise_image):
    result = tiny_dream(tiny_net, noise_image, precision="bf16")
    assert result.params["precision"] == "bf16"
    assert mean_square(tiny_net, result.image, "conv2") > 3 * mean_square(tiny_net, result.source.image, "conv2")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"octaves": 0}, "octaves must be >= 1, got 0"),
        ({"octaves": 2.5}, "octaves must be an integer, got 2.5"),
        ({"steps": 0}, "steps must be >= 1, got 0"),
        ({"jitter": -1}, "jitter must be non-negative, got -1"),
        ({"octave_scale": 1.0}, "octave_scale must be > 1.0, got 1.0"),
        ({"octave_scale": 0.8}, "octave_scale must be > 1.0, got 0.8"),
        ({"octave_scale": math.nan}, "octave_scale must be a finite number, got nan"),
        ({"step_size": 0}, "step_size must be > 0, got 0"),
        ({"steps": True}, "steps must be an integer, got True"),
        ({"tile": 0}, "tile must be >= 1, got 0"),
        ({"tile": -16}, "tile must be >= 1, got -16"),
        ({"tile": 16.0}, "tile must be an integer, got 16.0"),
        ({"tile_batch": 0}, "tile_batch must be >= 1, got 0"),
        ({"tile_batch": True}, "tile_batch must be an integer, got True"),
    ],
)
def test_schedule_rejects_bad_values(options, message):
    with pytest.raises(InvalidParameterError) as info:
        Schedule(**options)
    assert str(info.value) == message


def test_octave_sizes_smallest_first():
    assert Schedule(octaves=4, octave_scale=1.4).octave_shapes(300, 451) == [
        (109, 164),
        (153, 230),
        (214, 322),
        (300, 451),
    ]


def test_check_size_messages(tiny_net):
    with pytest.raises(ImageError) as info:
        check_size(tiny_net, Schedule(octaves=1), 6, 40)
    assert str(info.value) == "image is 40x6 px, too small for tiny: it needs at least 8x8 px"
    with pytest.raises(ImageError) as info:
        check_size(tiny_net, Schedule(octaves=4, octave_scale=2.0), 40, 40)
    assert str(info.value) == (
        "with octaves=4 and octave_scale=2 the smallest octave of this 40x40 image is 5x5 px, "
        "under the 8 px tiny needs; use octaves <= 3 or a larger image"
    )
    check_size(tiny_net, Schedule(octaves=3, octave_scale=2.0), 40, 40)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"octave": 3}, "dream() got an unknown option 'octave'; did you mean 'octaves'?"),
        ({"seed": -1}, "seed must be non-negative, got -1"),
        ({"seed": "7"}, "seed must be an integer, got '7'"),
        ({"device": "tpu"}, "device must be one of auto, cpu, cuda, mps, got 'tpu'"),
        ({"precision": "fp8"}, "precision must be one of auto, fp32, bf16, fp16, got 'fp8'"),
    ],
)
def test_dream_rejects_bad_options(tiny_net, noise_image, options, message):
    with pytest.raises(InvalidParameterError) as info:
        tiny_dream(tiny_net, noise_image, **options)
    assert str(info.value) == message


def test_device_and_precision_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"
    with pytest.raises(DeviceError) as info:
        resolve_precision("fp16", torch.device("cpu"))
    assert str(info.value) == "precision 'fp16' is not supported on the CPU; use bf16 or fp32"
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError) as info:
            resolve_device("cuda")
        assert str(info.value) == "device 'cuda' is not available: this torch sees no CUDA GPU; use device 'cpu'"


def test_tap_stops_after_the_deepest_layer_and_removes_its_hooks(tiny_net):
    calls = []
    handle = tiny_net.body.conv3.register_forward_hook(lambda *args: calls.append(1))
    with tiny_net.tap(["conv1", "conv2"]) as extract:
        features = extract(torch.rand(1, 3, 16, 16) * 255)
    handle.remove()
    assert set(features) == {"conv1", "conv2"}
    assert calls == []
    assert all(not module._forward_hooks for module in tiny_net.modules())


def test_tap_logits_runs_the_whole_network(tiny_net):
    pixels = torch.rand(1, 3, 16, 16) * 255
    with tiny_net.tap(["conv1", "logits"]) as extract:
        features = extract(pixels)
    assert torch.equal(features["logits"], tiny_net(pixels))
    assert features["logits"].shape == (1, 10)


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (3, -5), (-7, 2), (40, -90), (16, 0), (0, 24)])
def test_roll_into_matches_torch_roll(dy, dx):
    source = torch.arange(2 * 3 * 16 * 24, dtype=torch.float32).view(2, 3, 16, 24)
    target = torch.empty_like(source).contiguous(memory_format=torch.channels_last)
    roll_into(source, target, dy, dx)
    assert torch.equal(target, source.roll((dy, dx), dims=(2, 3)))


FAULTS_SCRIPT = """
import resource, torch
from inceptionism.engine.runtime import keep_freed_memory

def faults_of_steps():
    def step():  # allocate and free blocks of 3 to 30 MB, like one step's activations
        held = [torch.ones(megabytes * 2**20 // 4) for megabytes in (24, 6, 12, 3, 30, 8)]
        del held
    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

untuned = faults_of_steps()
tuned = keep_freed_memory()
faults_of_steps()
print(untuned, tuned, faults_of_steps(), keep_freed_memory())
"""


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="tunes glibc's allocator")
def test_freed_activations_are_reused_without_page_faults():
    result = subprocess.run([sys.executable, "-c", FAULTS_SCRIPT], capture_output=True, text=True, check=True)
    untuned, tuned, faults, again = result.stdout.split()
    # 249 MB touched in 3 steps is 63,000 pages. glibc's defaults fault in all of them again
    # (63,655 measured) or, depending on the heap's layout at start, about a third (23,272).
    assert int(untuned) > 10_000
    assert tuned == "True" and again == "True"
    assert int(faults) < 1_000


def test_a_step_map_scales_each_pixels_step(tiny_net, noise_image):
    pixels = torch.from_numpy(noise_image).permute(2, 0, 1).unsqueeze(0).float()
    schedule = Schedule(octaves=1, steps=1, step_size=2.0, jitter=0)
    step_map = torch.ones(1, 1, *pixels.shape[-2:])
    step_map[..., :24, :] = 0.0  # the top half stays
    step_map[..., 24:, 32:] = 2.0  # the bottom right quarter steps twice as far

    def moved(weights):
        generator = torch.Generator().manual_seed(0)
        dreamed, _ = ascend(
            tiny_net, pixels, as_objective("conv2"), schedule, generator=generator, precision="fp32", step_map=weights
        )
        return dreamed - pixels

    plain, mapped = moved(None), moved(step_map)
    result = (pixels + mapped)[..., 24:, 32:]
    inside = (result > 0) & (result < 255)  # not clipped
    assert mapped[..., :24, :].abs().max() == 0
    assert torch.allclose(mapped[..., 24:, :32], plain[..., 24:, :32])
    assert torch.allclose(mapped[..., 24:, 32:][inside], 2 * plain[..., 24:, 32:][inside], atol=1e-4)


def test_a_step_map_of_the_wrong_shape_is_refused(tiny_net, noise_image):
    from inceptionism.engine import Dreamer, DreamSettings

    dreamer = Dreamer(DreamSettings(layers=("conv2",), octaves=1, steps=1), model=tiny_net)
    frame = torch.from_numpy(noise_image).permute(2, 0, 1).unsqueeze(0)
    with pytest.raises(InvalidParameterError) as info:
        dreamer(frame, step_map=torch.ones(1, 1, 10, 10), seed=0)
    assert str(info.value) == "step_map must have shape (1, 1, 48, 64), got (1, 1, 10, 10)"
    for bad in (-1.0, float("nan")):
        with pytest.raises(InvalidParameterError) as info:
            dreamer(frame, step_map=torch.full((1, 1, 48, 64), bad), seed=0)
        assert str(info.value) == "step_map must be finite and >= 0 everywhere"
