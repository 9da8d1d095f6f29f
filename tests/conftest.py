"""Shared fixtures: a tiny seeded network for the fast tier, photos for the real tier."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from inceptionism.io.images import sample_path
from inceptionism.models import Network, Preprocessing, get_model

DATA = Path(__file__).parent / "data"


class TinyBody(nn.Module):
    """Three small convolutions and a classifier: enough structure to dream on."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.conv3 = nn.Sequential(nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU())
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3(self.conv2(self.conv1(x)))
        return self.fc(x.mean((2, 3)))


def make_tiny_net(seed: int = 0) -> Network:
    torch.manual_seed(seed)
    net = Network(
        TinyBody(),
        name="tiny",
        preprocessing=Preprocessing("RGB", 1 / 255, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
        layers=("conv1", "conv2", "conv3"),
        labels=[f"class{i}" for i in range(10)],
        min_size=8,
        input_size=32,
        weights="random",
    )
    return net.eval().requires_grad_(False)


@pytest.fixture(autouse=True)
def own_cache_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets a cache directory of its own (the atlas's tiles never reach the user's cache)."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture
def tiny_net() -> Network:
    return make_tiny_net()


@pytest.fixture
def noise_image():
    """A seeded 48x64 RGB noise photo-substitute as a uint8 array."""
    generator = torch.Generator().manual_seed(1)
    return (torch.rand(48, 64, 3, generator=generator) * 255).to(torch.uint8).numpy()


@pytest.fixture(scope="session")
def squeezenet() -> Network:
    return get_model("squeezenet1_1")


@pytest.fixture(scope="session")
def sample() -> Path:
    return sample_path()


@pytest.fixture(scope="session")
def coffee() -> Path:
    return DATA / "coffee.jpg"


def make_clip(path, count=24, size=(96, 64), *, tone=True, times=None, rotation=0):
    """The coffee photo panned 2 px a frame at 24 fps, with a 440 Hz tone; ``times`` (ms) for variable rate."""
    width, height = size
    photo = np.asarray(Image.open(DATA / "coffee.jpg").convert("RGB").resize((width + 2 * count, height + 8)))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        if times is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        audio = container.add_stream("aac", rate=44100) if tone else None
        if audio is not None:
            audio.layout = "mono"
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(photo[4 : 4 + height, 2 * index : 2 * index + width])
            )
            if times is not None:
                frame.pts, frame.time_base = times[index], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if audio is not None:
            samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(44100 * count // 24) / 44100)).astype(np.float32)
            for start in range(0, len(samples), 1024):
                chunk = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format="fltp", layout="mono")
                chunk.sample_rate = 44100
                container.mux(audio.encode(chunk))
            container.mux(audio.encode())
    return path


@pytest.fixture(scope="session")
def dask_client():
    """A client of a LocalCluster of two worker processes, one thread each, shared by the cluster tests."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, silence_logs=logging.CRITICAL, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def cluster_client(dask_client):
    """The shared cluster's client, with both workers up (a test before may have killed one)."""
    dask_client.wait_for_workers(2, timeout=60)
    return dask_client
