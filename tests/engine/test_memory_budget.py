"""The memory budget: as asked, else half the device's memory; tiles only where an untiled step would not fit it."""

import pytest
import torch

from inceptionism.engine import Dreamer, DreamSettings, runtime
from inceptionism.engine.runtime import memory_budget

GB = 2**30
CPU = torch.device("cpu")


@pytest.mark.parametrize(
    ("free", "asked", "budget"),
    [(8 * GB, None, 4096), (8 * GB, 300, 300), (None, None, 512), (100 * 2**20, None, 256), (64 * GB, None, 16384)],
)
def test_the_budget_is_as_asked_else_half_the_memory(monkeypatch, free, asked, budget):
    monkeypatch.setattr(runtime, "device_memory", lambda device: free)
    assert memory_budget(asked, CPU, maximum=16384) == budget


def test_the_memory_of_this_machine_is_read_and_the_same_every_time():
    memory = runtime.device_memory(CPU)
    assert memory is not None and 2**28 < memory < 2**50
    assert memory_budget(None, CPU, maximum=16384) == memory_budget(None, CPU, maximum=16384)


@pytest.mark.parametrize("model", ["googlenet", "bvlc_googlenet"])
def test_fp32_googlenet_dreams_large_photos_untiled_with_8_gb(monkeypatch, model):
    monkeypatch.setattr(runtime, "device_memory", lambda device: 8 * GB)
    settings = DreamSettings(model=model, weights="random", precision="fp32", device="cpu")
    dreamer = Dreamer(settings)
    assert dreamer.memory_budget == 4096
    assert [dreamer.plan(size)[0].tile for size in ((1024, 683), (1536, 1024))] == [None, None]
    asked = Dreamer(settings.replace(memory_budget=512))
    assert asked.plan((1536, 1024))[0].tile == 512  # the old default budget tiles it
