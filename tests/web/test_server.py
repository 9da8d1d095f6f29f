"""The studio as a process of its own: killed mid-job it loses nothing; a burst of jobs never breaks it."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from PIL import Image
from server_process import start_server

DATA = Path(__file__).resolve().parents[1] / "data"


def submit(url: str, kind: str, params: dict, **files) -> httpx.Response:
    return httpx.post(
        f"{url}/api/jobs", data={"kind": kind, "params": json.dumps(params)}, files=files or None, timeout=30
    )


def wait_until(url: str, job_id: str, condition, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()
        if condition(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_jobs_running_or_queued_when_the_server_is_killed_finish_after_restart(tmp_path):
    data = tmp_path / "studio"
    process, url = start_server(data)
    try:
        zoom = {"model": "tiny", "noise": "48x48", "octaves": 1, "steps": 2, "frames": 40, "frame_steps": 40,
                "format": "gif", "labels": False, "seed": 5}  # fmt: skip
        zoom_id = submit(url, "zoom", zoom).json()["id"]
        dream = {"model": "tiny", "noise": "32x32", "octaves": 1, "steps": 2, "seed": 6}
        dream_id = submit(url, "dream", dream).json()["id"]
        wait_until(url, zoom_id, lambda job: job["frames_done"] >= 3)
        process.send_signal(signal.SIGKILL)  # no shutdown at all
        process.wait(timeout=30)
    finally:
        process.kill()
    frames = data / "jobs" / zoom_id / "result.gif.frames"
    kept = sorted(frames.glob("0*.png"))
    assert len(kept) >= 3
    first_written = kept[0].stat().st_mtime_ns

    process, url = start_server(data)
    try:
        states = {job["id"]: job["state"] for job in httpx.get(f"{url}/api/jobs").json()["jobs"]}
        assert states[zoom_id] in ("queued", "running") and states[dream_id] in ("queued", "running", "done")
        done = wait_until(url, zoom_id, lambda job: job["state"] == "done")
        assert done["frames_done"] == 40
        assert (
            wait_until(url, dream_id, lambda job: job["state"] != "queued" and job["state"] != "running")["state"]
            == "done"
        )
        gif = httpx.get(f"{url}/api/jobs/{zoom_id}/result")
        (tmp_path / "zoom.gif").write_bytes(gif.content)
        assert Image.open(tmp_path / "zoom.gif").n_frames == 40
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not frames.exists() or kept[0].stat().st_mtime_ns == first_written  # the finished frames were reused


@pytest.mark.real
def test_a_burst_of_16_while_a_job_runs_is_finished_or_refused_and_the_server_keeps_answering(tmp_path):
    process, url = start_server(tmp_path / "studio", tiny=False, queue_limit=8)
    try:
        heavy = {"noise": "224x224", "octaves": 1, "steps": 400, "layers": ["fire7"], "seed": 1}
        heavy_id = submit(url, "dream", heavy).json()["id"]
        wait_until(url, heavy_id, lambda job: job["state"] == "running" and job["progress"] > 0)
        latencies: list[float] = []
        codes_seen: list[int | str] = []
        stop, ready = threading.Event(), threading.Event()

        def watch() -> None:  # status requests all along the burst; timings are printed, not asserted
            with httpx.Client(timeout=10) as client:
                client.get(f"{url}/api/jobs/{heavy_id}")  # the connection is made outside the measure
                ready.set()
                while not stop.is_set():
                    start = time.perf_counter()
                    try:
                        codes_seen.append(client.get(f"{url}/api/jobs/{heavy_id}").status_code)
                    except httpx.HTTPError as error:
                        codes_seen.append(type(error).__name__)
                    latencies.append(time.perf_counter() - start)
                    time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        ready.wait(10)
        answers: list[httpx.Response] = []
        small = {"noise": "64x64", "octaves": 1, "steps": 2, "layers": ["fire3"]}

        def send(seed: int) -> None:
            photo = (DATA / "coffee.jpg").read_bytes()
            params = {key: value for key, value in small.items() if key != "noise"} | {"seed": seed, "max_size": 64}
            answers.append(submit(url, "dream", params, image=("coffee.jpg", photo)) if seed % 2 else
                           submit(url, "dream", small | {"seed": seed}))  # fmt: skip

        senders = [threading.Thread(target=send, args=(seed,)) for seed in range(16)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        httpx.post(f"{url}/api/jobs/{heavy_id}/cancel")
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [202] * 8 + [429] * 8, codes
        assert all(answer.headers["retry-after"] for answer in answers if answer.status_code == 429)
        accepted = [answer.json()["id"] for answer in answers if answer.status_code == 202]
        for job_id in accepted:
            assert wait_until(url, job_id, lambda job: job["state"] in ("done", "failed"))["state"] == "done"
        stop.set()
        watcher.join()
        assert process.poll() is None
        print(f"{len(latencies)} status requests during the burst, slowest {max(latencies) * 1000:.0f} ms")
        assert codes_seen and set(codes_seen) == {200}  # every one answered (the client gives up after 10 s)
        assert httpx.get(f"{url}/api/jobs/{heavy_id}").json()["state"] == "cancelled"
    finally:
        process.terminate()
        process.wait(timeout=30)
