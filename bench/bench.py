"""Speed of the dream engine against a plain fp32 eager loop, measured in one process.

Run:  .venv/bin/python bench/bench.py            (about 3 minutes on 2 CPU cores)

For each network it dreams a 1024x683 photo with the classic schedule (4 octaves x1.4,
10 steps of 1.5, jitter 32) through the public API, alternating with a plain reference
implementation of the same algorithm on the same image, schedule and weights: fp32,
NCHW tensors, batch norms unfolded, ``torch.roll`` and fresh tensors every step, no autocast.
Both stop the forward pass at the dreamed layer. One warm-up run of each comes first.

Printed per network: seconds (median), FLOPs counted by torch's flop counter over one whole
dream, achieved GFLOP/s, the fraction of this machine's matmul peak (measured here, in the
precision the engine used), the peak memory the dream added, and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

import inceptionism
from inceptionism.engine import Schedule, resize
from inceptionism.images import to_tensor
from inceptionism.models import get_model
from inceptionism.runtime import resolve_device, resolve_precision

PHOTO = Path(__file__).resolve().parent.parent / "tests" / "data" / "coffee.jpg"
CLASSIC = Schedule(octaves=4, octave_scale=1.4, steps=10, step_size=1.5, jitter=32)
CASES = [("squeezenet1_1", "fire7", "default"), ("googlenet", "inception4c", None)]


def plain_dream(net, pixels: torch.Tensor, layer: str, schedule: Schedule, seed: int) -> torch.Tensor:
    """The reference: the same algorithm written the plain way, in fp32 eager mode."""
    generator = torch.Generator().manual_seed(seed)
    sizes = schedule.octave_sizes(*pixels.shape[-2:])
    detail = torch.zeros(1, 3, *sizes[0])
    with net.tap([layer]) as extract:
        for size in sizes:
            base = resize(pixels, size)
            image = (base + resize(detail, size)).clamp(0, 255)
            for _ in range(schedule.steps):
                dy, dx = torch.randint(-schedule.jitter, schedule.jitter + 1, (2,), generator=generator).tolist()
                shifted = image.roll((dy, dx), dims=(2, 3)).requires_grad_(True)
                loss = extract(shifted)[layer].square().mean()
                loss.backward()
                gradient = shifted.grad.roll((-dy, -dx), dims=(2, 3))
                image = (image + schedule.step_size * gradient / (gradient.abs().mean() + 1e-8)).clamp(0, 255)
            detail = image - base
    return image


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of an n x n matrix product in ``dtype`` on the CPU."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


class PeakMemory:
    """Highest resident set size seen while the block runs, sampled every 2 ms (Linux)."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.peak = self.start = self._rss()
        self._stop = threading.Event()

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def added_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each implementation")
    parser.add_argument("--size", default="1024x683", help="WIDTHxHEIGHT of the photo")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))

    photo = Image.open(PHOTO).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    pixels = to_tensor(photo)
    precision = resolve_precision("auto", resolve_device("cpu"))
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, engine precision {precision}")
    print(f"matmul peak: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s")
    print(f"photo {width}x{height}, schedule {CLASSIC.as_dict()}\n")

    header = f"{'model':<14} {'layer':<12} {'seconds':>8} {'GFLOP':>7} {'GFLOP/s':>8} {'of peak':>8} "
    header += f"{'peak MB':>8} {'plain s':>8} {'speed-up':>9}"
    print(header)
    for model, layer, weights in CASES:
        net = get_model(model, weights=weights)

        def ours(net=net, layer=layer):
            inceptionism.dream(
                photo, model=net, layers=[layer], seed=0, max_size=None, precision="auto", device="cpu",
                **CLASSIC.as_dict(),
            )

        def plain(net=net, layer=layer):
            plain_dream(net, pixels, layer, CLASSIC, seed=0)

        with FlopCounterMode(display=False) as counter:
            plain()
        flops = counter.get_total_flops()
        ours(), plain()  # warm-up
        ours_times, plain_times = [], []
        memory = None
        for _ in range(args.repeats):
            plain_times.append(timed(plain))
            with PeakMemory() as sampled:
                ours_times.append(timed(ours))
            memory = sampled if memory is None or sampled.peak > memory.peak else memory
        seconds, plain_seconds = statistics.median(ours_times), statistics.median(plain_times)
        rate = flops / seconds / 1e9
        print(
            f"{model:<14} {layer:<12} {seconds:8.2f} {flops / 1e9:7.0f} {rate:8.1f} "
            f"{rate / peaks[precision]:8.0%} {memory.added_mb:8.0f} {plain_seconds:8.2f} "
            f"{plain_seconds / seconds:8.2f}x"
        )


if __name__ == "__main__":
    main()
