"""Fast tier: the Dreamer prepares once and dreams many frames; the network cache; cancelling."""

import dataclasses

import numpy as np
import pytest
import torch

import inceptionism
from inceptionism.engine import Cancelled, Dreamer, DreamSettings, Schedule, ascend
from inceptionism.engine import dreamer as dreamer_module
from inceptionism.engine.dreamer import SIZES_KEPT
from inceptionism.engine.memory import activation_bytes_per_pixel
from inceptionism.errors import InvalidParameterError
from inceptionism.io.images import to_image, to_tensor
from inceptionism.models import cache, get_model, get_model_entry, registry, shared_model
from inceptionism.objectives import as_objective, layer, neuron

FAST = {"layers": ("conv2",), "octaves": 2, "octave_scale": 1.5, "steps": 3, "step_size": 8.0, "jitter": 4}
FAST.update(precision="fp32", device="cpu", max_size=None)


def frames(count: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(5)
    return [(torch.rand(1, 3, 48, 64, generator=generator) * 255).to(torch.uint8) for _ in range(count)]


def test_one_dreamer_gives_the_pixels_of_separate_dream_calls(tiny_net):
    settings = DreamSettings(**FAST)
    dreamer = Dreamer(settings, model=tiny_net)
    for seed, pixels in enumerate(frames(3)):
        frame = dreamer(pixels, seed=seed)
        alone = inceptionism.dream(to_image(pixels), model=tiny_net, settings=settings, seed=seed)
        assert np.array_equal(np.asarray(to_image(frame.pixels)), np.asarray(alone.image))
        assert frame.seed == seed and frame.losses == alone.losses


def test_frames_stay_on_the_device_and_inputs_are_not_changed(tiny_net):
    dreamer = Dreamer(DreamSettings(**FAST), model=tiny_net)
    pixels = frames(1)[0]
    kept = pixels.clone()
    frame = dreamer(pixels, seed=0)
    assert frame.pixels.device == dreamer.device and frame.pixels.dtype == torch.float32
    assert frame.pixels.shape == (1, 3, 48, 64)
    assert torch.equal(pixels, kept) and torch.equal(frame.source, kept)
    assert torch.allclose(frame.detail, frame.pixels - kept.float())


def test_setup_is_done_once_per_dreamer_and_per_frame_size(tiny_net, monkeypatch):
    measured = []

    def counted(*args, **kwargs):
        measured.append(1)
        return activation_bytes_per_pixel(*args, **kwargs)

    monkeypatch.setattr(dreamer_module, "activation_bytes_per_pixel", counted)
    dreamer = Dreamer(DreamSettings(**FAST), model=tiny_net)
    for pixels in frames(3):
        dreamer(pixels, seed=0)
    dreamer(torch.zeros(1, 3, 40, 40, dtype=torch.uint8), seed=0)
    Dreamer(DreamSettings(**FAST), model=tiny_net)(frames(1)[0], seed=0)
    assert len(measured) == 1  # the memory per pixel: once, whatever the size, and for the next Dreamer
    assert dreamer._plans.keys() == [(64, 48), (40, 40)]  # a tile plan per frame size
    for side in range(41, 41 + SIZES_KEPT):
        dreamer(torch.zeros(1, 3, side, side, dtype=torch.uint8), seed=0)
    assert len(dreamer._plans) == SIZES_KEPT  # only the sizes used last are kept


def test_a_carried_detail_is_where_the_dream_goes_on_from(tiny_net):
    pixels = torch.full((1, 3, 48, 64), 100, dtype=torch.uint8)
    detail = torch.zeros(1, 3, 48, 64)
    detail[..., :24, :] = 40.0
    kept = detail.clone()
    barely = Dreamer(DreamSettings(**{**FAST, "octaves": 1, "steps": 1, "step_size": 0.01}), model=tiny_net)
    frame = barely(pixels, detail=detail, seed=0)
    assert (frame.pixels - (pixels.float() + detail)).abs().max() < 0.5
    assert torch.equal(detail, kept)  # the caller's detail is not changed
    assert (barely(pixels, seed=0).pixels - pixels.float()).abs().max() < 0.5


def test_progress_carries_the_frame_index_and_a_preview(tiny_net):
    seen = []
    dreamer = Dreamer(DreamSettings(**FAST), model=tiny_net)
    dreamer(frames(1)[0], seed=0, index=7, callback=lambda progress: seen.append((progress.frame, progress.snapshot())))
    assert [frame for frame, _ in seen] == [7] * 6
    assert seen[0][1].shape == (1, 3, 32, 43) and seen[-1][1].shape == (1, 3, 48, 64)  # the octave's size
    assert not torch.equal(seen[0][1], seen[1][1][..., :32, :43])  # a copy of that step's image


@pytest.mark.parametrize("noise", [None, (48, 48)])
def test_a_callback_returning_true_stops_within_one_step(tiny_net, noise):
    calls = []

    def stop_at_third(progress):
        calls.append(progress.done)
        return progress.done == 3

    options = {**FAST, "noise": noise, "param": "fourier" if noise else None, "steps": 20 if noise else 3}
    dreamer = Dreamer(DreamSettings(**options), model=tiny_net)
    with pytest.raises(Cancelled) as info:
        dreamer(None if noise else frames(1)[0], seed=0, callback=stop_at_third)
    assert calls == [1, 2, 3]
    assert str(info.value) == f"cancelled at step 3 of {20 if noise else 6}"
    assert dreamer(None if noise else frames(1)[0], seed=0).losses  # the Dreamer still works after


def test_dream_cancelled_writes_nothing(tiny_net, noise_image):
    with pytest.raises(Cancelled):
        inceptionism.dream(noise_image, model=tiny_net, settings=DreamSettings(**FAST), callback=lambda progress: True)


def test_objective_objects_know_they_need_the_whole_image(tiny_net, noise_image):
    unit = neuron("conv2", 3)
    assert unit.needs_whole_image and (layer("conv3") + 2 * unit).needs_whole_image
    assert not (layer("conv3") - layer("conv2")).needs_whole_image
    message = (
        "conv2:3@0.5,0.5 needs the whole image (a neuron at a position): it cannot be tiled; "
        "lower max_size or raise memory_budget"
    )
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.dream(
            noise_image, model=tiny_net, settings=DreamSettings(**{**FAST, "layers": ()}), layers=[unit], tile=16
        )
    assert str(info.value) == message
    pixels = to_tensor(inceptionism.io.images.load_image(noise_image).image)
    with pytest.raises(InvalidParameterError) as info:
        ascend(tiny_net, pixels, unit, Schedule(tile=16, steps=1), generator=torch.Generator())
    assert str(info.value) == message


def test_objectives_are_evaluated_per_batch_item(tiny_net):
    generator = torch.Generator().manual_seed(0)
    batch = torch.rand(3, 3, 32, 32, generator=generator) * 255
    objective = as_objective(["conv2:1,3=2", "conv3"]) + neuron("conv3", 2, at=(0.25, 0.75))
    with tiny_net.tap(objective.layers) as extract:
        values = objective.per_item(extract(batch))
        alone = torch.stack([objective(extract(batch[i : i + 1])) for i in range(3)])
        mean = objective(extract(batch))
    assert values.shape == (3,)
    assert torch.allclose(values, alone, rtol=1e-5)
    assert torch.allclose(mean, values.mean())


def test_the_second_get_model_loads_nothing(monkeypatch):
    entry = get_model_entry("squeezenet1_1")
    builds, loads = [], []

    def build():
        builds.append(1)
        return entry.build()

    load = type(entry.weights).load

    def counted_load(weights, *, model, progress):
        loads.append(1)
        return load(weights, model=model, progress=progress)

    monkeypatch.setattr(type(entry.weights), "load", counted_load)
    monkeypatch.setitem(registry._REGISTRY, "squeezenet1_1", dataclasses.replace(entry, build=build))
    cache.clear()
    first, second = get_model("squeezenet1_1"), get_model("squeezenet1_1")
    assert (len(builds), len(loads)) == (1, 1)
    assert first is not second  # each caller gets a network of its own
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True))
    shared = shared_model("squeezenet1_1")
    assert shared is shared_model("squeezenet1_1") and (len(builds), len(loads)) == (1, 1)
    copies = {id(Dreamer(DreamSettings(precision="fp32", device="cpu")).fast) for _ in range(3)}
    assert len(copies) == 1 and (len(builds), len(loads)) == (1, 1)  # one inference copy, made once
    get_model("squeezenet1_1", weights=None)
    assert (len(builds), len(loads)) == (2, 1)  # other weights: another network
    cache.clear()


def test_a_weights_file_is_cached_by_its_content(tmp_path, tiny_net):
    path = tmp_path / "weights.pth"
    torch.save(get_model("squeezenet1_1", weights=None).body.state_dict(), path)
    first = shared_model("squeezenet1_1", weights=path)
    assert shared_model("squeezenet1_1", weights=str(path)) is first
    state = first.body.state_dict()
    state["conv10.weight"] = state["conv10.weight"] + 1
    torch.save(state, path)
    assert shared_model("squeezenet1_1", weights=path) is not first  # changed on disk: loaded again


def test_fourier_noise_is_bounded_by_the_memory_budget(tiny_net):
    dreamer = Dreamer(DreamSettings(noise=(128, 128), memory_budget=1, steps=1, precision="fp32"), model=tiny_net)
    with pytest.raises(InvalidParameterError) as info:
        dreamer(seed=0)
    assert str(info.value).startswith(
        "Fourier noise of 128x128 needs about 6 MB a step, over the memory budget of 1 MB"
    )
    assert info.value.argument == "noise"
    fits = Dreamer(DreamSettings(noise=(128, 128), memory_budget=8, steps=1, precision="fp32"), model=tiny_net)
    assert fits(seed=0).pixels.shape == (1, 3, 128, 128)


def test_check_refuses_before_any_step_what_could_not_be_dreamed(tiny_net):
    from inceptionism.errors import ImageError

    with pytest.raises(ImageError, match=r"^image is 6x40 px, too small for tiny: it needs at least 8x8 px$"):
        Dreamer(DreamSettings(octaves=1), model=tiny_net).check((6, 40))
    with pytest.raises(ImageError, match=r"the smallest octave of this 12x12 image is 6x6 px, under the 8 px"):
        Dreamer(DreamSettings(octaves=3, octave_scale=1.4), model=tiny_net).check((12, 12))
    with pytest.raises(ImageError, match=r"^noise is 6x6 px, too small for tiny"):
        Dreamer(DreamSettings(noise=(6, 6)), model=tiny_net).check()
    with pytest.raises(InvalidParameterError, match=r"over the memory budget of 1 MB"):
        Dreamer(DreamSettings(noise=(1024, 1024), memory_budget=1), model=tiny_net).check()
    Dreamer(DreamSettings(octaves=2), model=tiny_net).check((64, 48))  # fits: no error
    Dreamer(DreamSettings(noise=(32, 32)), model=tiny_net).check()
