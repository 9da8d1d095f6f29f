"""Uploaded images: the pixel cap counts the bytes a file decodes to, and memory comes back after.

A 16-bit RGBA PNG of 39.6 MP passes a 40 MP pixel cap yet decodes to 317 MB, the memory of
106 MP of 8-bit RGB: it is refused from its header. The real-tier probe runs the studio as a
process of its own and reads its resident memory (VmRSS) before and after eight such uploads
and eight photos just under the cap that are accepted and dreamed.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
from PIL import Image
from polling import wait_for
from server_process import start_server

import inceptionism.web.uploads as uploads_module
import inceptionism.web.workers as workers_module
from inceptionism.web.memory import IMAGE_BLOCK
from inceptionism.web.uploads import UploadRefused, keep_image

FAST = {"octaves": 1, "steps": 2, "max_size": 64, "seed": 3}
STUDIO_CAP = 40_000_000
"""The studio's default pixel cap (``max_pixels``), which the probe's server keeps."""
ISSUE_SIZE = (8000, 4950)
"""39.6 MP: under the default cap in pixels, 317 MB decoded as 16-bit RGBA."""
SERVE_ALLOCATOR = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432"
"""What ``inceptionism serve`` sets with ``keep_freed_memory()`` (1 GB of freed heap kept, blocks up to 32 MB from it)."""


def png16(width: int, height: int, channels: int = 4) -> bytes:
    """A 16-bit PNG (grey, grey+alpha, RGB or RGBA), mostly flat so that it compresses about 700 times.

    Written by hand: Pillow writes a 16-bit PNG only in greyscale.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    flat = np.empty((width, channels), ">u2")
    flat[:] = (30000, 40000, 50000, 40000)[:channels]
    striped = flat.copy()
    striped[::7] = (65535, 0, 0, 65535)[:channels]
    rows = {False: b"\0" + flat.tobytes(), True: b"\0" + striped.tobytes()}  # each row: filter type 0, samples
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(rows[y % 1024 < 4]) for y in range(height)) + packer.flush()
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def submit(client, image: tuple[str, bytes], params: dict | None = None):
    data = {"kind": "dream", "params": json.dumps(params or FAST)}
    return client.post("/api/jobs", data=data, files={"image": (*image, "image/png")})


def job_folders(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (data_dir / "jobs").iterdir())


@pytest.fixture(scope="module")
def issue_png() -> bytes:
    """The 39.6 MP 16-bit RGBA PNG of the issue (470 KB)."""
    return png16(*ISSUE_SIZE)


# ---------------------------------------------------------------------------------------------
# The cap in bytes


def test_the_issues_16_bit_rgba_png_is_refused_from_its_header_naming_both_sizes(tmp_path, issue_png):
    with pytest.raises(UploadRefused) as refused:
        keep_image(io.BytesIO(issue_png), tmp_path, "image", limit=64 << 20, max_pixels=STUDIO_CAP)

    assert refused.value.status == 413
    assert refused.value.detail == (
        "the uploaded image decodes to 317 MB (39.6 MP of 16-bit RGBA); this studio takes at most 120 MB "
        "(40 MP of 8-bit RGB): save it as 8-bit or scale it down"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "image", "detail"),
    [
        (
            "rgba16.png", png16(990, 1000),
            "the uploaded image decodes to 7.92 MB (0.99 MP of 16-bit RGBA); this studio takes at most 3 MB "
            "(1 MP of 8-bit RGB): save it as 8-bit or scale it down",
        ),
        (
            "rgb16.png", png16(1000, 600, channels=3),
            "the uploaded image decodes to 3.6 MB (0.6 MP of 16-bit RGB); this studio takes at most 3 MB "
            "(1 MP of 8-bit RGB): save it as 8-bit or scale it down",
        ),
        (
            "rgba8.png", encoded(Image.new("RGBA", (900, 900), (90, 140, 200, 128))),
            "the uploaded image decodes to 3.24 MB (0.81 MP of 8-bit RGBA); this studio takes at most 3 MB "
            "(1 MP of 8-bit RGB): save it as 8-bit RGB or scale it down",
        ),
    ],
    ids=["16-bit RGBA", "16-bit RGB", "8-bit RGBA"],
)  # fmt: skip
def test_an_upload_that_decodes_to_more_than_the_caps_rgb_bytes_is_413(client, data_dir, name, image, detail):
    response = submit(client, (name, image))

    assert (response.status_code, response.json()["detail"]) == (413, detail)
    assert job_folders(data_dir) == []


def test_an_8_bit_rgb_image_of_the_whole_cap_is_kept_and_dreamed(client):
    response = submit(client, ("full.png", encoded(Image.new("RGB", (1000, 1000), (90, 140, 200)))))

    assert response.status_code == 202, response.text
    assert wait_for(client, response.json()["id"])["state"] == "done"


def test_a_16_bit_grey_png_whose_decoded_bytes_fit_is_kept_and_dreams_as_rgb(client):
    grey = np.tile(np.linspace(0, 65535, 1000).astype(np.uint16), (1000, 1))  # 2 MB decoded, under 3 MB
    response = submit(client, ("grey16.png", encoded(Image.fromarray(grey))))

    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"])
    assert job["state"] == "done", job
    result = Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/result").content))
    assert (result.mode, result.size) == ("RGB", (64, 64))


# ---------------------------------------------------------------------------------------------
# Memory given back


@pytest.fixture
def pillows_default_blocks():
    """Pillow's default 16 MB blocks of image memory during the test, whatever an earlier upload check set."""
    before = Image.core.get_block_size()
    Image.core.set_block_size(16 << 20)
    yield
    Image.core.set_block_size(before)


@pytest.mark.usefixtures("pillows_default_blocks")
def test_memory_is_given_back_after_the_upload_check_and_after_the_job(client, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(uploads_module, "give_back_freed_memory", lambda: calls.append("upload check"))
    monkeypatch.setattr(workers_module, "give_back_freed_memory", lambda: calls.append("job"))

    response = submit(client, ("photo.png", encoded(Image.new("RGB", (64, 48), (90, 140, 200)))))
    assert response.status_code == 202, response.text
    assert calls == ["upload check"]
    assert wait_for(client, response.json()["id"])["state"] == "done"
    deadline = time.monotonic() + 10
    while calls == ["upload check"] and time.monotonic() < deadline:  # the worker gives back after the job ends
        time.sleep(0.01)

    assert calls == ["upload check", "job"]
    assert Image.core.get_block_size() == IMAGE_BLOCK  # a large image is one block: unmapped once freed


PEAK_PROBE = """
from inceptionism.io.images import load_image
def peak():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]) * 1024
before = peak()
loaded = load_image({path!r}, max_size=128)
print(loaded.image.mode, *loaded.image.size, peak() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory in /proc (Linux)")
def test_a_job_reads_a_large_16_bit_rgba_png_without_full_size_copies_of_it(tmp_path):
    path = tmp_path / "rgba16.png"
    path.write_bytes(png16(4000, 2500))  # 10 MP: 40 MB as Pillow's 8-bit RGBA, 30 MB as 8-bit RGB
    answer = subprocess.run([sys.executable, "-c", PEAK_PROBE.format(path=str(path))], capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr
    mode, width, height, grown = answer.stdout.split()

    assert (mode, int(width), int(height)) == ("RGB", 128, 80)
    assert int(grown) < 120e6, f"reading it took {int(grown) / 1e6:.0f} MB more at the peak"  # 70 MB and a margin


# ---------------------------------------------------------------------------------------------
# The probe: the studio as a process, its resident memory read from /proc


def resident(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of process ``pid``, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: int(line.split()[1]) * 1024 for line in status for key in ("VmRSS", "VmHWM") if line.startswith(key)}


def burst(url: str, image: tuple[str, bytes], count: int = 8) -> list[httpx.Response]:
    """``count`` dreams of ``image`` submitted at once."""
    answers: list[httpx.Response] = []

    def send(seed: int) -> None:
        params = json.dumps({**FAST, "max_size": 128, "seed": seed})
        answers.append(
            httpx.post(f"{url}/api/jobs", data={"kind": "dream", "params": params}, files={"image": image}, timeout=120)
        )

    senders = [threading.Thread(target=send, args=(seed,)) for seed in range(count)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return answers


def ended(url: str, job_id: str, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while (job := httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']} after {timeout} s"
        time.sleep(0.1)
    return job


@pytest.mark.real
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the studio's memory in /proc (Linux)")
@pytest.mark.parametrize("allocator", ["glibc default", "as serve tunes it"])
def test_the_studios_memory_comes_back_after_large_uploads_and_jobs(tmp_path, monkeypatch, issue_png, allocator):
    if allocator == "as serve tunes it":
        monkeypatch.setenv("GLIBC_TUNABLES", SERVE_ALLOCATOR)  # the server process inherits it
    limits = {"host": "127.0.0.1", "token": None, "workers": 1, "queue_limit": 16, "max_upload_mb": 64,
              "max_pixels": STUDIO_CAP, "max_side": 4096}  # fmt: skip
    process, url = start_server(tmp_path / "studio", **limits)
    try:
        warm_up = burst(url, ("small.png", encoded(Image.new("RGB", (64, 48), (90, 140, 200)))), count=1)
        assert ended(url, warm_up[0].json()["id"])["state"] == "done"
        time.sleep(0.5)
        before = resident(process.pid)["VmRSS"]

        answers = burst(url, ("issue.png", issue_png))
        refused = [answer for answer in answers if answer.status_code == 413]
        if refused:
            assert len(refused) == 8 and refused[0].json()["detail"].startswith("the uploaded image decodes to 317 MB")
            photo = encoded(Image.new("RGB", (8000, 4990), (90, 140, 200)))  # 39.9 MP of 8-bit RGB: accepted
            answers = burst(url, ("photo.png", photo))
        assert [answer.status_code for answer in answers] == [202] * 8, [answer.text for answer in answers]
        assert all(ended(url, answer.json()["id"])["state"] == "done" for answer in answers)
        time.sleep(0.5)
        after = resident(process.pid)
        megabytes = {name: round(value / 1e6) for name, value in
                     {"before": before, "peak": after["VmHWM"], "after": after["VmRSS"]}.items()}  # fmt: skip
        print(f"\nstudio RSS ({allocator}, {'16-bit refused' if refused else '16-bit accepted'}): {megabytes} MB")
        assert after["VmRSS"] - before < 300e6, megabytes
    finally:
        process.terminate()
        process.wait(timeout=30)
