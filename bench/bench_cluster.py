"""Scaling of the render farm: a batch and a segmented video on local:1 against local:2, measured in one run.

Run:  .venv/bin/python bench/bench_cluster.py      (about 4 minutes on 2 CPU cores)

Both clusters are started and warmed up (every worker loads SqueezeNet and prepares its
Dreamer once, as in a long render), then timed in turn, three times (medians printed):

- batch: 16 photos (the two test photos, 8 copies each under other names) dreamed at 256 px
  with 3 octaves of 10 steps, in items per second;
- video: a 96-frame 192x108 pan cut into 1-second segments (4 of them, 8 frames of overlap),
  2 octaves of 5 steps, in frames per second.

Dask's task stream gives the time each task computed (the dream and its PNG encoding, timed
apart too); the per-task overhead of the cluster (scheduling, sending the photo and the PNG
back) is the wall time per dream on local:1 beyond it, as a share of it. The same batch in
this process with one torch thread is printed beside.
Absolute times vary between machines; compare the ratios, printed from one run.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from distributed import Client, LocalCluster, get_task_stream

from inceptionism.engine.runtime import keep_freed_memory
from inceptionism.io.images import encode_image, load_image
from inceptionism.render.batch import batch
from inceptionism.render.video import video

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = [ROOT / "tests" / "data" / "coffee.jpg", ROOT / "src" / "inceptionism" / "data" / "sample.jpg"]
BATCH = {"octaves": 3, "steps": 10, "max_size": 256, "seed": 0, "layers": ["fire5"]}
VIDEO = {"octaves": 2, "steps": 5, "seed": 0, "layers": ["fire5"], "segments": 1.0, "overlap": 8}
ITEMS, FRAMES = 16, 96
REPEATS = 3


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

    keep_freed_memory()  # as the command does (and every worker does)
    print(f"CPU: {torch.backends.cpu.get_cpu_capability()}, {os.cpu_count()} cores; SqueezeNet 1.1 fire5")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        inputs = photos(folder)
        clip = make_clip(folder / "pan.mp4", count=FRAMES, size=(192, 108), tone=False)
        batch(inputs[:2], folder / "warm", threads=1, **BATCH)
        alone = timed(batch, inputs, folder / "here", threads=1, restart=True, **BATCH) / ITEMS
        pictures = [load_image(path, max_size=256).image for path in inputs]
        encode = timed(lambda: [encode_image(picture) for picture in pictures]) / ITEMS
        with (
            LocalCluster(
                n_workers=1, threads_per_worker=1, silence_logs=logging.CRITICAL, dashboard_address=":0"
            ) as one,
            LocalCluster(
                n_workers=2, threads_per_worker=1, silence_logs=logging.CRITICAL, dashboard_address=":0"
            ) as two,
            Client(one) as client_one,
            Client(two) as client_two,
        ):
            clients = {1: client_one, 2: client_two}
            for workers, client in clients.items():  # every worker loads the network and prepares its Dreamer
                batch(inputs[: workers * 2], folder / f"warm{workers}", cluster=client, **BATCH)
                video(clip, folder / f"warm{workers}.mp4", cluster=client, end=1.0, **VIDEO)
            times: dict[tuple[str, int], list[float]] = {}
            computed: list[float] = []
            for _ in range(REPEATS):  # alternated, so that a drift of the machine touches both
                for workers, client in clients.items():
                    with get_task_stream(client=client) as stream:
                        seconds = timed(batch, inputs, folder / f"b{workers}", cluster=client, restart=True, **BATCH)
                    times.setdefault(("batch", workers), []).append(seconds)
                    if workers == 1:
                        computed.append(sum(
                            part["stop"] - part["start"] for task in stream.data for part in task["startstops"]
                            if part["action"] == "compute"
                        ) / ITEMS)  # fmt: skip
                    seconds = timed(video, clip, folder / f"v{workers}.mp4", cluster=client, restart=True, **VIDEO)
                    times.setdefault(("video", workers), []).append(seconds)
        median = {key: statistics.median(values) for key, values in times.items()}
        rates = {workers: (ITEMS / median["batch", workers], FRAMES / median["video", workers]) for workers in (1, 2)}
        for workers in (1, 2):
            print(f"local:{workers}  batch {rates[workers][0]:5.2f} dreams/s ({median['batch', workers]:5.1f} s)   "
                  f"video {rates[workers][1]:5.2f} frames/s ({median['video', workers]:5.1f} s)")  # fmt: skip
        task_seconds = statistics.median(computed)
        print(f"local:2 / local:1: batch {rates[2][0] / rates[1][0]:.2f}x, video {rates[2][1] / rates[1][1]:.2f}x")
        overhead = 1 / rates[1][0] - task_seconds
        print(
            f"a dream here, one thread: {alone:.2f} s; a task on local:1: {task_seconds:.2f} s computing "
            f"(PNG encoding {encode * 1000:.0f} ms of it, {encode / task_seconds:.1%}), {1 / rates[1][0]:.2f} s "
            f"a dream in all: scheduling and transfer {overhead * 1000:+.0f} ms ({overhead / task_seconds:+.1%})"
        )


if __name__ == "__main__":
    main()
