"""The studio's HTTP API, in process (TestClient, workers started): every endpoint and every refusal.

Jobs dream with the tiny random network on 32x32 noise or a 64x48 photo, one octave, a few
steps, so each takes a fraction of a second. A "long" job (4096 steps) is only ever started to
be cancelled, or to keep the single worker busy while others wait in the queue.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import sqlite3
import struct
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from polling import wait_for

import inceptionism.web.board as board_module
from inceptionism.engine.settings import NOISE_HAS_NO_IMAGE
from inceptionism.io.images import read_metadata
from inceptionism.models import imagenet_classes
from inceptionism.web.security import COOKIE
from inceptionism.web.store import JobStore

DATA = Path(__file__).resolve().parents[1] / "data"
FAST = {"octaves": 1, "steps": 2}
NOISE = {"noise": "32x32", **FAST}
LONG = {"noise": "32x32", "octaves": 1, "steps": 4096, "seed": 0}
"""Tens of seconds of work: started only to be cancelled or to keep the worker busy."""
TIMED = {"noise": "128x96", "octaves": 1, "steps": 60, "device": "cpu"}
"""Half a second or so of steps (on the CPU whatever the machine has), for the live progress to be seen."""
TOKEN = "t" * 20
BASE_URL = "http://127.0.0.1:8000"


# ---------------------------------------------------------------------------------------------
# Helpers


def submit(client: TestClient, params: dict | str | None = None, *, kind: str | None = "dream", **files):
    """POST /api/jobs: ``params`` (a dict as JSON, a str as is), ``files`` as role=(name, bytes, type); kind None: none."""
    data = {"params": params if isinstance(params, str) else json.dumps(params or {})}
    if kind is not None:
        data["kind"] = kind
    return client.post("/api/jobs", data=data, files=files or None)


def accepted(client: TestClient, params: dict, *, kind: str | None = "dream", **files) -> str:
    """Submit a job that must be accepted; its id."""
    response = submit(client, params, kind=kind, **files)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def start_long_job(client: TestClient) -> str:
    """A long job, once the worker runs it."""
    job_id = accepted(client, LONG)
    wait_for(client, job_id, states=("running",))
    return job_id


def dream_done(client: TestClient, params: dict | None = None) -> dict:
    """A finished small dream from noise."""
    job = wait_for(client, accepted(client, params or NOISE))
    assert job["state"] == "done", job
    return job


def png(size=(64, 48), seed: int = 1, mode: str = "RGB") -> bytes:
    """A seeded noise picture as PNG bytes."""
    channels = {"RGB": (3,), "L": ()}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], *channels), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def plain_png(size, color=(90, 140, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and header for a 1-bit ``width`` x ``height`` picture (no pixel data)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def pixels_of(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(np.int16)


def read_events(client: TestClient, job_id: str, timeout: float = 30.0) -> list[tuple[str, dict]]:
    """The whole SSE stream of a job as (event, data) pairs, once the server ends it (within ``timeout``)."""
    deadline = time.monotonic() + timeout
    events: list[tuple[str, dict]] = []
    fields: dict[str, list[str]] = {}

    def end_of_event() -> None:
        if "data" in fields:
            events.append((fields.get("event", ["message"])[0], json.loads("\n".join(fields["data"]))))
        fields.clear()

    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if time.monotonic() > deadline:  # checked at least at every keep-alive ping
                raise AssertionError(f"the stream of job {job_id} did not end in {timeout} s: {[e for e, _ in events]}")
            if not line:
                end_of_event()
            elif not line.startswith(":"):  # a comment: the keep-alive ping
                name, _, value = line.partition(":")
                fields.setdefault(name, []).append(value.removeprefix(" "))
    end_of_event()
    return events


def job_folders(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (data_dir / "jobs").iterdir())


# ---------------------------------------------------------------------------------------------
# Dreams


def test_dream_from_noise_is_queued_run_and_kept_with_its_parameters(client, tmp_path):
    response = submit(client, {**NOISE, "layers": ["conv2"]})
    assert response.status_code == 202
    created = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", created["id"])
    assert created == {"id": created["id"], "state": "queued", "url": f"/api/jobs/{created['id']}"}

    job = wait_for(client, created["id"])
    base = f"/api/jobs/{created['id']}"
    assert (job["state"], job["kind"], job["progress"], job["error"]) == ("done", "dream", 1.0, None)
    assert (job["frames_done"], job["frames_total"]) == (1, 1)
    seed = job["params"]["seed"]
    assert isinstance(seed, int) and seed >= 0
    assert job["params"] == {**NOISE, "layers": ["conv2"], "model": "tiny", "seed": seed, "max_size": 512}
    assert (job["result"], job["media_type"], job["chart"], job["input"]) == (f"{base}/result", "image/png", None, None)
    assert job["created"] <= job["started"] <= job["finished"]
    assert [len(job["labels"]["before"]), len(job["labels"]["after"])] == [5, 5]
    for seen in job["labels"]["before"] + job["labels"]["after"]:
        assert re.fullmatch(r"class\d", seen["label"]) and 0 <= seen["probability"] <= 1

    result = client.get(job["result"])
    assert result.status_code == 200
    assert result.headers["content-type"] == "image/png"
    assert result.headers["content-disposition"] == f'attachment; filename="dream-{created["id"][:8]}.png"'
    path = tmp_path / "downloaded.png"
    path.write_bytes(result.content)
    assert Image.open(path).size == (32, 32)
    metadata = read_metadata(path)
    assert metadata is not None
    assert (metadata["seed"], metadata["octaves"], metadata["steps"], metadata["noise"]) == (seed, 1, 2, "32x32")
    assert metadata["layers"] == ["conv2"]


def test_the_same_parameters_and_seed_dream_the_same_pixels(client):
    first, second, other = (dream_done(client, {**NOISE, "seed": seed}) for seed in (7, 7, 8))
    assert first["id"] != second["id"]
    pixels = [pixels_of(client.get(job["result"]).content) for job in (first, second, other)]
    assert np.array_equal(pixels[0], pixels[1])
    assert not np.array_equal(pixels[0], pixels[2])


def test_a_dream_of_an_upload_with_a_guide_and_a_mask(client, data_dir):
    photo, guide = png(seed=1), png(seed=2)
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (0, 0, 32, 48))  # the left half dreams, the right half stays
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    params = {"octaves": 1, "steps": 4, "step_size": 8.0, "layers": ["conv2"], "seed": 3}
    job_id = accepted(
        client,
        params,
        image=("../../photo.png", photo, "image/png"),  # an upload's own name never names a file
        guide=("guide.png", guide, "image/png"),
        mask=("mask.png", buffer.getvalue(), "image/png"),
    )
    job = wait_for(client, job_id)
    assert job["state"] == "done", job
    assert job["input"] == f"/api/jobs/{job_id}/input"
    assert [len(job["labels"]["before"]), len(job["labels"]["after"])] == [5, 5]
    assert job_folders(data_dir) == [job_id]
    assert sorted(p.name for p in (data_dir / "jobs" / job_id).iterdir()) == [
        "guide.png", "image.png", "mask.png", "result.png"
    ]  # fmt: skip
    assert not list(data_dir.parent.rglob("photo.png"))  # not even beside the data directory

    given = client.get(job["input"])
    assert (given.status_code, given.headers["content-type"], given.content) == (200, "image/png", photo)

    result = client.get(job["result"]).content
    path = data_dir.parent / "downloaded.png"
    path.write_bytes(result)
    metadata = read_metadata(path)  # the uploads' own names are recorded, their last part only
    assert (metadata["input"], metadata["guide"], metadata["mask"]) == ("photo.png", "guide.png", "mask.png")
    assert (metadata["seed"], metadata["size"]) == (3, [64, 48])

    before, after = pixels_of(photo), pixels_of(result)
    assert after.shape == before.shape == (48, 64, 3)
    change = np.abs(after - before)
    assert change[:, :28].mean() > 10 * max(change[:, 36:].mean(), 0.1)  # only the white half dreamed


def test_a_job_that_fails_when_it_runs_is_failed_with_its_error(client, data_dir):
    # Everything a request can get wrong is refused at submission; what is left to fail at run time
    # is the server's own side: here the photo of a queued job vanishes from the data directory.
    long_id = start_long_job(client)
    job_id = accepted(client, FAST, image=("photo.png", png(), "image/png"))
    (data_dir / "jobs" / job_id / "image.png").unlink()
    assert client.post(f"/api/jobs/{long_id}/cancel").status_code == 202

    job = wait_for(client, job_id)
    assert job["state"] == "failed"
    assert job["error"].startswith("input not found: "), job["error"]
    assert (job["result"], job["media_type"], job["labels"], job["progress"]) == (None, None, None, 0.0)
    assert job["finished"] is not None
    result = client.get(f"/api/jobs/{job_id}/result")
    assert result.status_code == 404
    assert result.json()["detail"] == f"job {job_id} has no result yet: it is failed"
    given = client.get(f"/api/jobs/{job_id}/input")
    assert given.status_code == 404
    assert given.json()["detail"] == f"the file of job {job_id} is gone from the data directory"
    assert read_events(client, job_id)[-1] == ("done", job)


# ---------------------------------------------------------------------------------------------
# Zooms and videos


def test_a_zoom_of_a_photo_as_a_gif_with_its_labels_chart(client):
    params = {**FAST, "frames": 3, "frame_steps": 2, "format": "gif", "labels": True}
    photo = png()
    job_id = accepted(client, params, kind="zoom", image=("photo.png", photo, "image/png"))
    job = wait_for(client, job_id)
    assert (job["state"], job["kind"], job["frames_done"], job["frames_total"]) == ("done", "zoom", 3, 3)
    assert (job["media_type"], job["chart"]) == ("image/gif", f"/api/jobs/{job_id}/chart")
    assert job["params"]["format"] == "gif"
    assert [len(job["labels"]["before"]), len(job["labels"]["after"])] == [5, 5]
    assert client.get(job["input"]).content == photo

    result = client.get(job["result"])
    assert result.headers["content-type"] == "image/gif"
    assert result.headers["content-disposition"] == f'attachment; filename="zoom-{job_id[:8]}.gif"'
    animation = Image.open(io.BytesIO(result.content))
    assert (animation.format, animation.n_frames, animation.size) == ("GIF", 3, (64, 48))

    chart = client.get(job["chart"])
    assert (chart.status_code, chart.headers["content-type"]) == (200, "image/png")
    assert Image.open(io.BytesIO(chart.content)).format == "PNG"


def test_a_zoom_as_webp_without_labels_has_no_chart(client):
    params = {**NOISE, "frames": 3, "frame_steps": 2, "format": "webp", "labels": False}
    job = wait_for(client, accepted(client, params, kind="zoom"))
    assert (job["state"], job["media_type"], job["chart"], job["labels"]) == ("done", "image/webp", None, None)
    assert (job["frames_done"], job["frames_total"], job["input"]) == (3, 3, None)
    result = client.get(job["result"])
    assert result.headers["content-type"] == "image/webp"
    animation = Image.open(io.BytesIO(result.content))
    assert (animation.format, animation.n_frames) == ("WEBP", 3)
    chart = client.get(f"/api/jobs/{job['id']}/chart")
    assert chart.status_code == 404
    assert "has no label chart" in chart.json()["detail"]


def test_a_video_is_dreamed_frame_by_frame_and_keeps_its_sound(client, clip, tmp_path):
    job_id = accepted(client, {**FAST, "seed": 1}, kind="video", image=("clip.mp4", clip.read_bytes(), "video/mp4"))
    job = wait_for(client, job_id)
    assert (job["state"], job["kind"], job["frames_done"], job["frames_total"]) == ("done", "video", 6, 6)
    assert (job["media_type"], job["input"], job["chart"]) == ("video/mp4", None, None)
    given = client.get(f"/api/jobs/{job_id}/input")  # a video is no image to show
    assert given.status_code == 404
    assert given.json()["detail"] == f"job {job_id} was given no image"

    result = client.get(job["result"])
    assert result.headers["content-type"] == "video/mp4"
    assert result.headers["content-disposition"] == f'attachment; filename="video-{job_id[:8]}.mp4"'
    path = tmp_path / "dreamed.mp4"
    path.write_bytes(result.content)
    with av.open(str(path)) as container:
        assert len(container.streams.audio) == 1
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 6
    assert frames[0].shape == (64, 96, 3)


# ---------------------------------------------------------------------------------------------
# Live progress


def test_the_event_stream_shows_progress_previews_and_the_finished_job(client):
    job_id = accepted(client, {**TIMED, "seed": 2})
    events = read_events(client, job_id)
    names = [name for name, _ in events]
    assert set(names) <= {"progress", "preview", "done"}
    assert names[-1] == "done" and names.count("done") == 1
    assert events[-1][1] == client.get(f"/api/jobs/{job_id}").json()
    assert events[-1][1]["state"] == "done"

    progress = [data for name, data in events if name == "progress"]
    assert len(progress) >= 3
    assert all(set(data) == {"state", "progress", "frames_done", "frames_total"} for data in progress)
    values = [data["progress"] for data in progress]
    assert values == sorted(values) and len(set(values)) >= 3
    assert progress[-1] == {"state": "done", "progress": 1.0, "frames_done": 1, "frames_total": 1}
    assert any(data["state"] == "running" and 0 < data["progress"] < 1 for data in progress)

    previews = [data["image"] for name, data in events if name == "preview"]
    assert previews
    for url in previews:
        assert url.startswith("data:image/jpeg;base64,")
        picture = Image.open(io.BytesIO(base64.b64decode(url.removeprefix("data:image/jpeg;base64,"), validate=True)))
        assert (picture.format, picture.size) == ("JPEG", (128, 96))

    # A finished job's stream says so at once and ends.
    assert read_events(client, job_id) == [("progress", progress[-1]), ("done", events[-1][1])]


def test_previews_are_throttled_to_the_preview_interval(make_client, monkeypatch):
    interval, tick = 0.25, 0.125  # the studio's clock, faked: it moves on a tick at each look (exact in binary)
    clock = itertools.count()
    monkeypatch.setattr(board_module, "time", SimpleNamespace(monotonic=lambda: 1024.0 + tick * next(clock)))
    client = make_client(preview_interval=interval)
    board = client.app.state.studio.board
    offers: list[int] = []  # the preview's version after each offer
    offer = board.offer_preview

    def counted(live, pixels):
        offer(live, pixels)
        offers.append(live.preview_version)

    monkeypatch.setattr(board, "offer_preview", counted)
    steps = 60
    job_id = accepted(client, {**TIMED, "steps": steps, "seed": 2})
    previews = sum(name == "preview" for name, _ in read_events(client, job_id))
    assert wait_for(client, job_id)["state"] == "done"
    assert len(offers) == steps  # one offer a step...
    made = [index for index, (before, after) in enumerate(itertools.pairwise([0, *offers])) if after != before]
    assert made == list(range(0, steps, 2))  # ...but a preview only once the interval has passed: every second one
    assert 1 <= previews <= len(made)


# ---------------------------------------------------------------------------------------------
# Cancelling and deleting


def test_cancelling_a_queued_job_and_a_running_one(client, data_dir):
    long_id = start_long_job(client)
    waiting_id = accepted(client, NOISE)
    assert client.get(f"/api/jobs/{waiting_id}").json()["state"] == "queued"
    early = client.get(f"/api/jobs/{waiting_id}/result")
    assert early.status_code == 404
    assert early.json()["detail"] == f"job {waiting_id} has no result yet: it is queued"

    refused = client.delete(f"/api/jobs/{waiting_id}")  # delete is not cancel: a queued job stays
    assert (refused.status_code, refused.json()["detail"]) == (
        409,
        f"job {waiting_id} is queued: cancel it first (POST /api/jobs/{waiting_id}/cancel), then delete it",
    )
    response = client.post(f"/api/jobs/{waiting_id}/cancel")
    assert response.status_code == 202
    assert (response.json()["state"], response.json()["error"]) == ("cancelled", "cancelled before it started")
    assert client.get(f"/api/jobs/{waiting_id}").json()["state"] == "cancelled"

    assert client.delete(f"/api/jobs/{long_id}").status_code == 409  # running: not deleted either
    response = client.post(f"/api/jobs/{long_id}/cancel")
    assert response.status_code == 202
    assert response.json()["id"] == long_id and response.json()["state"] in ("running", "cancelled")
    job = wait_for(client, long_id, timeout=60)
    assert job["state"] == "cancelled" and job["progress"] < 1 and job["result"] is None
    assert re.fullmatch(r"cancelled at step \d+ of 4096", job["error"]), job["error"]

    assert dream_done(client)["state"] == "done"  # the worker goes on with the next job

    assert client.delete(f"/api/jobs/{waiting_id}").status_code == 204  # cancelled is finished: deleted now
    assert waiting_id not in job_folders(data_dir)


def test_a_cancel_after_the_end_leaves_the_result(client, data_dir):
    job = dream_done(client)
    response = client.post(f"/api/jobs/{job['id']}/cancel")
    assert (response.status_code, response.json()["detail"]) == (
        409,
        f"job {job['id']} has already ended (done): there is nothing to cancel",
    )
    kept = client.get(f"/api/jobs/{job['id']}").json()
    assert (kept["state"], kept["result"]) == ("done", job["result"])
    assert client.get(job["result"]).status_code == 200
    assert (data_dir / "jobs" / job["id"] / "result.png").is_file()
    assert client.post(f"/api/jobs/{'0' * 32}/cancel").status_code == 404


def test_deleting_a_finished_job_removes_it_and_its_files(client, data_dir):
    job = dream_done(client)
    folder = data_dir / "jobs" / job["id"]
    assert (folder / "result.png").is_file()

    response = client.delete(f"/api/jobs/{job['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert not folder.exists()
    gone = client.get(f"/api/jobs/{job['id']}")
    assert gone.status_code == 404
    assert gone.json()["detail"] == (
        f"no job '{job['id']}': it never existed or was deleted (list them: GET /api/jobs)"
    )
    assert client.get(job["result"]).status_code == 404
    assert client.get("/api/jobs").json()["total"] == 0
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 404


def test_unknown_jobs_are_404_everywhere(client):
    unknown = "0123456789abcdef" * 2
    for path in ("", "/events", "/result", "/input", "/chart"):
        response = client.get(f"/api/jobs/{unknown}{path}")
        assert response.status_code == 404, path
        assert response.json()["detail"].startswith(f"no job '{unknown}': it never existed or was deleted")
    assert client.delete(f"/api/jobs/{unknown}").status_code == 404
    assert client.get("/api/jobs/not-an-id").status_code == 404
    assert client.delete("/api/jobs/not-an-id").status_code == 404

    job = dream_done(client)  # a known job without an input or a chart
    assert client.get(f"/api/jobs/{job['id']}/input").json()["detail"] == f"job {job['id']} was given no image"
    chart = client.get(f"/api/jobs/{job['id']}/chart")
    assert chart.status_code == 404
    assert chart.json()["detail"].startswith(f"job {job['id']} has no label chart")


# ---------------------------------------------------------------------------------------------
# The gallery


def test_the_gallery_pages_jobs_newest_first(client):
    ids = [accepted(client, {**NOISE, "seed": seed}) for seed in range(3)]
    jobs = [wait_for(client, job_id) for job_id in ids]

    first = client.get("/api/jobs", params={"per_page": 2}).json()
    assert [job["id"] for job in first["jobs"]] == ids[:0:-1]
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 3)
    assert first["jobs"][0] == jobs[2]
    second = client.get("/api/jobs", params={"page": 2, "per_page": 2}).json()
    assert ([job["id"] for job in second["jobs"]], second["page"], second["total"]) == ([ids[0]], 2, 3)
    assert client.get("/api/jobs", params={"page": 3, "per_page": 2}).json()["jobs"] == []
    whole = client.get("/api/jobs").json()
    assert ([job["id"] for job in whole["jobs"]], whole["page"], whole["per_page"]) == (ids[::-1], 1, 20)

    for query in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "x"}):
        response = client.get("/api/jobs", params=query)
        assert response.status_code == 422, query
        assert response.json()["detail"].startswith(f"{next(iter(query))}: "), response.json()
    assert client.get("/api/jobs", params={"per_page": 100}).status_code == 200


# ---------------------------------------------------------------------------------------------
# Refusals of a submission


# fmt: off
REFUSALS = {
    # name: (kind, params, files(clip_of) -> dict, status, the detail or its distinguishing part)
    "image over the upload limit": (
        "dream", {}, lambda t: {"image": ("big.png", b"\0" * (3 << 19), "image/png")}, 413,
        "the uploaded image is larger than this studio's limit of 1 MB",
    ),
    "guide over the upload limit": (
        "dream", NOISE, lambda t: {"guide": ("big.png", b"\0" * (3 << 19), "image/png")}, 413,
        "the uploaded guide is larger than this studio's limit of 1 MB",
    ),
    "video over the video upload limit": (
        "video", {}, lambda t: {"image": ("big.mp4", b"\0" * (5 << 19), "video/mp4")}, 413,
        "the uploaded video is larger than this studio's limit of 2 MB",
    ),
    "too many pixels": (
        "dream", {}, lambda t: {"image": ("huge.png", plain_png((1200, 1000)), "image/png")}, 413,
        "the uploaded image is 1200x1000 px",
    ),
    "not an image": (
        "dream", {}, lambda t: {"image": ("notes.png", b"hello, not a picture", "image/png")}, 415,
        "the uploaded image is not an image Pillow can read (PNG, JPEG, WebP...)",
    ),
    "an empty file": (
        "dream", {}, lambda t: {"image": ("empty.png", b"", "image/png")}, 415, "the uploaded image is an empty file"
    ),
    "a mask that is no image": (
        "dream", {}, lambda t: {"image": ("a.png", png(), "image/png"), "mask": ("m.png", b"text", "image/png")}, 415,
        "the uploaded mask is not an image Pillow can read",
    ),
    "a video given to a dream": (
        "dream", {}, lambda t: {"image": ("clip.mp4", t(6), "video/mp4")}, 415,
        "the uploaded image is not an image Pillow can read",
    ),
    "a guide too small for the network": (
        "dream", NOISE, lambda t: {"guide": ("g.png", plain_png((4, 4)), "image/png")}, 422,
        "guide image is 4x4 px, too small for tiny",
    ),
    "an image too small for the network": (
        "dream", FAST, lambda t: {"image": ("a.png", plain_png((2, 2)), "image/png")}, 422,
        "image is 2x2 px, too small for tiny: it needs at least 8x8 px",
    ),
    "noise too small for the network": (
        "dream", {**FAST, "noise": "4x4"}, lambda t: {}, 422, "noise is 4x4 px, too small for tiny: it needs at least 8x8 px"
    ),
    "more octaves than the image has room for": (
        "dream", {"octaves": 3, "octave_scale": 2, "steps": 2}, lambda t: {"image": ("a.png", png((20, 20)), "image/png")},
        422, "the smallest octave of this 20x20 image is 5x5 px, under the 8 px tiny needs; use octaves <= 2",
    ),
    "a video job with a text file": (
        "video", {}, lambda t: {"image": ("clip.mp4", b"just some text", "video/mp4")}, 415,
        "the uploaded video is not a video FFmpeg can read",
    ),
    "a video job without a file": (
        "video", FAST, lambda t: {}, 422, "a video job needs the video as the file field 'image'"
    ),
    "a video with more frames than max_frames": (
        "video", FAST, lambda t: {"image": ("long.mp4", t(10), "video/mp4")}, 413,
        "the video has 10 frames; this studio takes at most 8",
    ),
    "a video from noise": (
        "video", NOISE, lambda t: {"image": ("clip.mp4", t(6), "video/mp4")}, 422,
        "a video dreams its own frames; noise does not apply",
    ),
    "a video start beyond its end": (
        "video", {"start": 5}, lambda t: {"image": ("clip.mp4", t(6), "video/mp4")}, 422,
        "start 5 s is beyond the end of the video",
    ),
    "params that are not JSON": (
        "dream", "{octaves: 2", lambda t: {}, 422,
        "params is not valid JSON: Expecting property name enclosed in double quotes at character 1",
    ),
    "params nested 5000 deep": (
        "dream", "[" * 5000 + "]" * 5000, lambda t: {}, 422,
        "params is nested deeper than 4 levels; send an object of the Python API's keyword names",
    ),
    "params nested 5 deep": (
        "dream", {**NOISE, "layers": [[[["conv1"]]]]}, lambda t: {}, 422,
        "params is nested deeper than 4 levels; send an object of the Python API's keyword names",
    ),
    "params over 64 KB": (
        "dream", {**NOISE, "layers": ["conv1"] * 9000}, lambda t: {}, 422,
        "params: String should have at most 65536 characters",
    ),
    "params that are not an object": (
        "dream", "[1, 2]", lambda t: {}, 422, "params must be a JSON object of dream() keyword names, got list"
    ),
    "an unknown parameter": (
        "dream", {**NOISE, "octavs": 2}, lambda t: {}, 422,
        "unknown parameter 'octavs'; did you mean octaves, octave_scale, octave_sizes? (list them with: GET /api/options)",
    ),
    "a zoom's parameter in a dream": ("dream", {**NOISE, "frames": 3}, lambda t: {}, 422, "unknown parameter 'frames'"),
    "an unknown layer": (
        "dream", {**NOISE, "layers": ["conv9"]}, lambda t: {}, 422,
        "unknown layer 'conv9' in tiny; did you mean conv1, conv2, conv3? (list them with: inceptionism layers",
    ),
    "an unknown class of the network": (
        "dream", {**NOISE, "classes": ["clas3"]}, lambda t: {}, 422, "unknown class 'clas3'; did you mean class3"
    ),
    "an ImageNet class the network lacks": (
        "dream", {**NOISE, "classes": ["banana"]}, lambda t: {}, 422, "unknown class 'banana'"
    ),
    "an unknown model": (
        "dream", {**NOISE, "model": "nope"}, lambda t: {}, 422, "unknown model 'nope' (list them with: GET /api/models)"
    ),
    "your own code as the model": (
        "dream", {**NOISE, "model": "/tmp/mine.py:build"}, lambda t: {}, 422,
        "unknown model '/tmp/mine.py:build' (list them with: GET /api/models)",
    ),
    "an ONNX file as the model": (
        "dream", {**NOISE, "model": "net.onnx"}, lambda t: {}, 422, "unknown model 'net.onnx'",
    ),
    "a network's preprocessing": (
        "dream", {**NOISE, "std": "1,1,1"}, lambda t: {}, 422,
        "std is not taken by the studio (its networks have their own)",
    ),
    "octaves out of bounds": ("dream", {**NOISE, "octaves": 1000}, lambda t: {}, 422, "octaves must be in 1..16, got 1000"),
    "weights from a server path": (
        "dream", {**NOISE, "weights": "/etc/passwd"}, lambda t: {}, 422,
        "weights must be 'default' or 'random' in the studio, got '/etc/passwd'",
    ),
    "max_size over max_side": (
        "dream", {**NOISE, "max_size": 1024}, lambda t: {}, 422, "max_size 1024 is over this studio's limit of 512 px"
    ),
    "noise over max_side": (
        "dream", {**FAST, "noise": "600x32"}, lambda t: {}, 422, "noise 600x32 is over this studio's limit of 512 px a side"
    ),
    "noise and an image": (
        "dream", NOISE, lambda t: {"image": ("a.png", png(), "image/png")}, 422, "give an input image or noise, not both"
    ),
    "neither noise nor an image": (
        "dream", FAST, lambda t: {}, 422,
        "send an image (file field 'image') or start from noise (params: \"noise\": \"WxH\")",
    ),
    "a mask on noise": ("dream", NOISE, lambda t: {"mask": ("m.png", png(mode="L"), "image/png")}, 422, NOISE_HAS_NO_IMAGE),
    "zoom frames over max_frames": (
        "zoom", {**NOISE, "frames": 9}, lambda t: {}, 422, "frames 9 is over this studio's limit of 8"
    ),
    "a zoom format the studio does not write": (
        "zoom", {**NOISE, "frames": 3, "format": "avi"}, lambda t: {}, 422, "format must be mp4, gif or webp, got 'avi'"
    ),
    "zoom labels that are not a flag": (
        "zoom", {**NOISE, "frames": 3, "labels": "yes"}, lambda t: {}, 422, "labels must be true or false, got 'yes'"
    ),
    "an unknown kind": ("still", NOISE, lambda t: {}, 422, "kind: Input should be 'dream', 'zoom' or 'video', got 'still'"),
    "an empty kind": ("", NOISE, lambda t: {}, 422, "kind: Field required"),
    "no kind": (None, NOISE, lambda t: {}, 422, "kind: Field required"),
    "an atlas as a job": ("atlas", NOISE, lambda t: {}, 422, "kind: Input should be 'dream', 'zoom' or 'video'"),
}
# fmt: on


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_a_refused_submission_says_why_and_leaves_nothing(client, data_dir, clip_of, case):
    kind, params, files, status, detail = REFUSALS[case]
    response = submit(client, params, kind=kind, **files(clip_of))
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert job_folders(data_dir) == []
    assert client.get("/api/jobs").json()["total"] == 0


def test_a_body_declared_over_the_cap_is_refused_before_it_is_read(client, data_dir):
    body = b"-" * (7 << 19)  # 3.5 MiB: over the 2 MB video limit plus 1 MiB for the form
    response = client.post("/api/jobs", content=body, headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413
    assert response.json()["detail"] == "request is larger than this studio's limit of 3 MB"
    assert job_folders(data_dir) == []


def test_a_chunked_body_over_the_cap_is_refused_with_413(client, data_dir):
    def chunks():
        for _ in range(4):
            yield b"-" * (1 << 20)  # no Content-Length: the cap can only be found while reading

    response = client.post("/api/jobs", content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"})
    assert "content-length" not in response.request.headers
    assert job_folders(data_dir) == []
    assert (response.status_code, response.json()["detail"]) == (
        413, "request is larger than this studio's limit of 3 MB"
    )  # fmt: skip


def test_a_picture_of_too_many_pixels_for_pillow_is_413_too(client, data_dir):
    response = submit(client, {}, image=("vast.png", png_header_only(20000, 20000), "image/png"))
    assert job_folders(data_dir) == []
    assert response.status_code == 413, response.json()
    assert (
        response.json()["detail"]
        == "the uploaded image has too many pixels; this studio takes at most 1 MP: scale it down"
    )


def test_the_too_many_pixels_detail_tells_the_size_from_the_limit(client):
    detail = submit(client, {}, image=("huge.png", plain_png((1200, 1000)), "image/png")).json()["detail"]
    sizes = re.findall(r"([\d.]+) MP", detail)
    assert len(sizes) == 2 and sizes[0] != sizes[1], detail


def test_a_damaged_upload_is_refused_without_naming_the_servers_files(client, data_dir):
    whole = (DATA / "coffee.jpg").read_bytes()
    response = submit(client, FAST, image=("cut.jpg", whole[: len(whole) // 2], "image/jpeg"))
    assert response.status_code in (415, 422), response.text
    assert job_folders(data_dir) == []
    detail = response.json()["detail"]
    assert str(data_dir) not in detail and "/jobs/" not in detail, detail
    assert "the uploaded image" in detail


def test_a_full_queue_is_429_with_retry_after(make_client, data_dir):
    client = make_client(queue_limit=2)
    long_id = start_long_job(client)
    waiting = [accepted(client, NOISE) for _ in range(2)]

    response = submit(client, NOISE)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "10"
    assert response.json()["detail"] == "the queue is full; try again in a little while"
    assert job_folders(data_dir) == sorted([long_id, *waiting])
    assert client.get("/api/jobs").json()["total"] == 3

    assert client.post(f"/api/jobs/{waiting[0]}/cancel").status_code == 202  # room again
    assert submit(client, NOISE).status_code == 202
    assert client.post(f"/api/jobs/{long_id}/cancel").status_code == 202


# ---------------------------------------------------------------------------------------------
# The catalog


def test_the_models_and_their_layers(client):
    assert [(m["name"], m["description"], m["default_layer"]) for m in client.get("/api/models").json()] == [
        ("tiny", "tiny", "conv3")
    ]
    layers = client.get("/api/models/tiny/layers")
    assert layers.status_code == 200
    assert layers.json() == [
        {"name": "conv1", "channels": 8}, {"name": "conv2", "channels": 16}, {"name": "conv3", "channels": 16}
    ]  # fmt: skip
    unknown = client.get("/api/models/nope/layers")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "unknown model 'nope' (list them with: GET /api/models)"


def test_a_models_layer_count_is_the_number_of_layers_listed(client):
    listed = client.get("/api/models/tiny/layers").json()
    assert client.get("/api/models").json()[0]["layers"] == len(listed) == 3


def test_the_classes_are_imagenets_searched_by_name(client):
    names = imagenet_classes()
    dogs = client.get("/api/classes", params={"q": "DOG", "limit": 1000}).json()
    assert dogs == [{"index": i, "label": label} for i, label in enumerate(names) if "dog" in label.lower()]
    assert len(dogs) > 5
    assert len(client.get("/api/classes", params={"q": "dog", "limit": 3}).json()) == 3
    assert {"index": 207, "label": "golden retriever"} in client.get("/api/classes", params={"q": "retriever"}).json()
    assert client.get("/api/classes", params={"q": "class3"}).json() == []  # not the tiny network's labels
    assert len(client.get("/api/classes").json()) == 50
    assert client.get("/api/classes", params={"limit": 0}).status_code == 422
    assert client.get("/api/classes", params={"q": "x" * 101}).status_code == 422


def test_the_presets_and_the_options(client):
    presets = {preset["name"]: preset for preset in client.get("/api/presets").json()}
    assert "classic" in presets
    assert all(preset["description"] and isinstance(preset["options"], dict) for preset in presets.values())
    options = {option["name"]: option for option in client.get("/api/options").json()}
    assert options["octaves"]["default"] == 4
    assert {"layers", "classes", "noise", "seed", "steps", "step_size", "jitter"} <= set(options)
    assert all(option["help"] for option in options.values())


def test_the_api_documents_itself(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/events", "/api/models"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/jobs"])


# ---------------------------------------------------------------------------------------------
# Who may talk to the studio


def test_on_loopback_the_host_header_must_name_this_machine(client, data_dir):
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        assert client.get("/api/models", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example"):
        response = client.get("/api/models", headers={"host": host})
        assert response.status_code == 400, host
        assert response.json()["detail"] == (
            f"Host header {host!r} is not this machine; open the studio at http://127.0.0.1"
        )
    rebound = client.post(
        "/api/jobs", data={"kind": "dream", "params": json.dumps(NOISE)}, headers={"host": "evil.example"}
    )
    assert rebound.status_code == 400
    assert job_folders(data_dir) == []


def test_on_loopback_another_sites_page_cannot_submit_jobs(client, data_dir):
    response = client.post(
        "/api/jobs",
        data={"kind": "dream", "params": json.dumps(NOISE)},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    assert response.status_code in (400, 403), response.text
    assert job_folders(data_dir) == []


def test_the_studios_own_page_may_submit_jobs_on_loopback(client):
    same_site = {"origin": BASE_URL, "sec-fetch-site": "same-origin"}
    assert (
        client.post("/api/jobs", data={"kind": "dream", "params": json.dumps(NOISE)}, headers=same_site).status_code
        == 202
    )


def test_elsewhere_the_token_is_needed_once_then_kept_in_a_cookie(make_client):
    client = make_client(host="0.0.0.0", token=TOKEN)
    refused = "this studio needs its access token: open the URL it printed at start (/?token=...)"
    for path in ("/api/models", "/", "/api/jobs"):
        response = client.get(path)
        assert (response.status_code, response.json()["detail"]) == (401, refused), path
    assert client.get("/", params={"token": "t" * 19 + "x"}).status_code == 401
    assert client.get("/api/models", headers={"authorization": "Bearer wrong-token-wrong"}).status_code == 401
    client.cookies.set(COOKIE, "wrong-token-wrong")
    assert client.get("/api/models").status_code == 401
    client.cookies.clear()

    assert client.get("/api/models", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert not client.cookies

    opened = client.get("/", params={"token": TOKEN, "job": "abc"}, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/?job=abc"  # the token leaves the address bar
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/")  # the cookie alone now
    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert client.get("/api/models").status_code == 200
    assert submit(client, NOISE).status_code == 202


def test_a_token_set_is_asked_on_loopback_too(make_client):
    client = make_client(token=TOKEN)  # host 127.0.0.1
    refused = client.get("/api/models")
    assert (refused.status_code, refused.json()["detail"]) == (
        401,
        "this studio needs its access token: open the URL it printed at start (/?token=...)",
    )
    assert submit(client, NOISE).status_code == 401
    assert client.get("/api/models", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert (
        client.get("/api/models", headers={"host": "evil.example", "authorization": f"Bearer {TOKEN}"}).status_code
        == 400
    )
    assert make_client().get("/api/models").status_code == 200  # none set on loopback: none asked


# ---------------------------------------------------------------------------------------------
# Restarts


def test_a_restarted_studio_keeps_its_gallery_and_finishes_what_was_running(make_app, data_dir):
    with TestClient(make_app(), base_url=BASE_URL) as client:
        kept = [dream_done(client, {**NOISE, "seed": seed}) for seed in (1, 2)]
        results = [client.get(job["result"]).content for job in kept]
        interrupted = accepted(client, {"noise": "32x32", "octaves": 1, "steps": 150, "seed": 3})
        wait_for(client, interrupted, states=("running",))
    store = JobStore(data_dir)  # the studio stopped after the step it was dreaming: "running" in the store
    assert store.get(interrupted).state == "running"
    store.close()

    with TestClient(make_app(), base_url=BASE_URL) as client:
        job = wait_for(client, interrupted)
        assert (job["state"], job["frames_done"]) == ("done", 1)
        gallery = client.get("/api/jobs").json()
        assert [job["id"] for job in gallery["jobs"]] == [interrupted, kept[1]["id"], kept[0]["id"]]
        assert gallery["jobs"][1:] == kept[::-1]
        assert [client.get(job["result"]).content for job in kept] == results


def test_the_same_app_started_again_dreams_again(make_app):
    app = make_app()
    with TestClient(app, base_url=BASE_URL) as client:
        dream_done(client)
    with TestClient(app, base_url=BASE_URL) as client:
        job_id = accepted(client, NOISE)
        assert wait_for(client, job_id, timeout=2)["state"] == "done"


FIRST_SCHEMA = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, files TEXT NOT NULL,
    created TEXT NOT NULL, started TEXT, finished TEXT, error TEXT,
    frames_done INTEGER NOT NULL DEFAULT 0, frames_total INTEGER NOT NULL DEFAULT 0,
    result TEXT, media_type TEXT, chart TEXT, labels TEXT
);
CREATE INDEX jobs_created ON jobs (created);
"""
"""The jobs table as the studio's first release (commit 7ddf2f6) made it: no ``names`` column."""


def test_a_data_directory_of_the_first_release_still_takes_jobs(make_app, data_dir):
    (data_dir / "jobs").mkdir(parents=True)
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        db.executescript(FIRST_SCHEMA)
    db.close()
    with TestClient(make_app(), base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = submit(client, NOISE)
        assert response.status_code == 202, response.text
        assert wait_for(client, response.json()["id"])["state"] == "done"
