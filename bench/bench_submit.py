"""How long the studio takes to answer a small submission while it checks a large one.

Run:  .venv/bin/python bench/bench_submit.py          (about a minute)

It starts the studio (SqueezeNet) in a process of its own and sends two large submissions:
an 8-megapixel photo with an 8-megapixel mask and one neuron of fire7 in fp32, and the photo
with a 3-megapixel guide (everything a check could read or prepare: the images, an inference
copy, the guide's features); 0.3 s later, while those are being answered, a small one (64x64
noise). Five rounds, a fresh studio each; printed: the median seconds to the small one's
answer, and to the slower large one's.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from web.server_process import start_server

ROUNDS = 5
PHOTO = Path(__file__).resolve().parent.parent / "tests" / "data" / "coffee.jpg"


def encoded(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.open(PHOTO).convert("RGB").resize(size).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def submit(url: str, params: str, files: dict[str, tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    answer = httpx.post(f"{url}/api/jobs", data={"kind": "dream", "params": params}, files=files, timeout=120)
    assert answer.status_code == 202, answer.text
    return time.perf_counter() - started


def one_round(folder: Path) -> tuple[float, float]:
    process, url = start_server(folder, tiny=False, queue_limit=100)
    try:
        large = '{"layers": ["fire7:12@1000,700"], "precision": "fp32", "max_size": 4096, "seed": 1}'
        files = {"image": ("big.jpg", encoded((3456, 2304))), "mask": ("mask.jpg", encoded((3456, 2304)))}
        guided = '{"layers": ["fire5"], "max_size": 4096, "seed": 1}'
        times: dict[str, float] = {}
        large_thread = threading.Thread(target=lambda: times.update(large=submit(url, large, files)))
        guide_thread = threading.Thread(
            target=lambda: times.update(
                guided=submit(url, guided, {"image": files["image"], "guide": ("g.jpg", encoded((2048, 1536)))})
            )
        )
        large_thread.start(), guide_thread.start()
        time.sleep(0.3)  # the large ones are being checked
        times["small"] = submit(url, '{"noise": "64x64", "octaves": 1, "steps": 1, "seed": 2}', {})
        large_thread.join(), guide_thread.join()
        return times["small"], max(times["large"], times["guided"])
    finally:
        process.kill()
        process.wait()


def main() -> None:
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}")
    small, large = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(ROUNDS):
            quick, slow = one_round(Path(scratch) / f"studio{number}")
            small.append(quick), large.append(slow)
    print(
        f"small submission answered in {statistics.median(small):.3f} s (median of {ROUNDS}, from "
        f"{min(small):.3f} to {max(small):.3f}) while the large ones took {statistics.median(large):.3f} s"
    )


if __name__ == "__main__":
    main()
