"""Scaling of the render farm: a batch and a segmented video on local:1 against local:2, measured in one run.

Run:  .venv/bin/python bench/bench_cluster.py      (about 3 minutes on 2 CPU cores)

Each cluster is started, warmed up (every worker loads SqueezeNet and prepares its Dreamer
once, as in a long render), then timed:

- batch: 16 photos (the two test photos, 8 copies each under other names) dreamed at 256 px
  with 3 octaves of 10 steps, in items per second;
- video: a 96-frame 192x108 pan cut into 1-second segments (4 of them, 8 frames of overlap),
  2 octaves of 5 steps, in frames per second.

The same batch in this process with one torch thread gives the cost of a dream (its PNG
encoding included, timed apart too); the per-task overhead of the cluster (scheduling,
sending the photo and the PNG back) is what local:1 spends beyond it, as a share of it.
Absolute times vary between machines; compare the ratios, printed from one run.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
from distributed import Client, LocalCluster

from inceptionism.io.images import encode_image, load_image
from inceptionism.render.batch import batch
from inceptionism.render.video import video

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = [ROOT / "tests" / "data" / "coffee.jpg", ROOT / "src" / "inceptionism" / "data" / "sample.jpg"]
BATCH = {"octaves": 3, "steps": 10, "max_size": 256, "seed": 0, "layers": ["fire5"]}
VIDEO = {"octaves": 2, "steps": 5, "seed": 0, "layers": ["fire5"], "segments": 1.0, "overlap": 8}
ITEMS, FRAMES = 16, 96


def photos(folder: Path) -> list[Path]:
    """16 photos: 8 copies of each test photo."""
    paths = []
    for index in range(ITEMS):
        path = folder / f"photo{index:02d}.jpg"
        shutil.copy(PHOTOS[index % 2], path)
        paths.append(path)
    return paths


def timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_clip

    print(f"CPU: {torch.backends.cpu.get_cpu_capability()}, {os.cpu_count()} cores; SqueezeNet 1.1 fire5")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        inputs = photos(folder)
        clip = make_clip(folder / "pan.mp4", count=FRAMES, size=(192, 108), tone=False)
        batch(inputs[:2], folder / "warm", threads=1, **BATCH)
        alone = timed(batch, inputs, folder / "here", threads=1, restart=True, **BATCH) / ITEMS
        pictures = [load_image(path, max_size=256).image for path in inputs]
        encode = timed(lambda: [encode_image(picture) for picture in pictures]) / ITEMS
        rates: dict[int, tuple[float, float]] = {}
        for workers in (1, 2):
            with (
                LocalCluster(n_workers=workers, threads_per_worker=1, silence_logs=logging.CRITICAL) as cluster,
                Client(cluster) as client,
            ):
                batch(inputs[:workers * 2], folder / f"warm{workers}", cluster=client, **BATCH)  # fmt: skip
                video(clip, folder / f"warm{workers}.mp4", cluster=client, end=1.0, **VIDEO)
                batch_seconds = timed(batch, inputs, folder / f"b{workers}", cluster=client, restart=True, **BATCH)
                video_seconds = timed(video, clip, folder / f"v{workers}.mp4", cluster=client, restart=True, **VIDEO)
            rates[workers] = (ITEMS / batch_seconds, FRAMES / video_seconds)
            print(f"local:{workers}  batch {rates[workers][0]:5.2f} dreams/s ({batch_seconds:5.1f} s)   "
                  f"video {rates[workers][1]:5.2f} frames/s ({video_seconds:5.1f} s)")  # fmt: skip
        print(f"local:2 / local:1: batch {rates[2][0] / rates[1][0]:.2f}x, video {rates[2][1] / rates[1][1]:.2f}x")
        overhead = 1 / rates[1][0] - alone
        print(f"a dream here, one thread: {alone:.2f} s (PNG encoding {encode * 1000:.0f} ms, {encode / alone:.1%}); "
              f"on local:1: {1 / rates[1][0]:.2f} s, so scheduling and transfer add {overhead * 1000:+.0f} ms a task "
              f"({overhead / alone:+.1%})")  # fmt: skip


if __name__ == "__main__":
    main()
