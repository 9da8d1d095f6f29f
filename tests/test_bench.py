"""The benchmark's plain references run the same algorithm as the engine (so the speed-up is fair)."""

import sys
from pathlib import Path

import pytest
import torch

from inceptionism.engine import Schedule, ascend
from inceptionism.objectives import as_objective

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench import SETTINGS, plain_dream


@pytest.mark.parametrize("cut", [True, False])
def test_plain_reference_matches_the_engine_in_fp32(tiny_net, noise_image, cut):
    pixels = torch.from_numpy(noise_image).permute(2, 0, 1).unsqueeze(0).float()
    schedule = Schedule(octaves=2, octave_scale=1.5, steps=5, step_size=4.0, jitter=3)
    reference = tiny_net if cut else tiny_net.requires_grad_(True)
    plain = plain_dream(reference, pixels, "conv2", schedule, seed=4, cut=cut)
    tiny_net.requires_grad_(False)
    engine, _ = ascend(
        tiny_net, pixels, as_objective("conv2"), schedule, generator=torch.Generator().manual_seed(4), precision="fp32"
    )
    assert plain.shape == engine.shape
    assert (plain - engine).abs().max().item() < 0.05
    assert (plain - pixels).abs().mean().item() > 5  # both really dreamed


def test_bench_schedule_is_the_classic_one():
    assert SETTINGS == {"octaves": 4, "octave_scale": 1.4, "steps": 10, "step_size": 1.5, "jitter": 32}
