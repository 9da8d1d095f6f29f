"""The studio handing its jobs to a Dask cluster: dreams with live progress and previews, cancelling, videos."""

import io
import json
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from conftest import make_clip
from inceptionism.io.images import read_metadata
from inceptionism.web.app import create_app
from inceptionism.web.config import ServerSettings

pytestmark = pytest.mark.cluster
PHOTO = {"octaves": 2, "steps": 40, "max_size": 160, "seed": 4, "layers": ["fire3"], "precision": "fp32"}


@pytest.fixture
def studio(tmp_path, cluster_client):
    settings = ServerSettings(data_dir=tmp_path / "studio", host="127.0.0.1", token=None, workers=2,
                              preview_interval=0.05)  # fmt: skip
    app = create_app(settings, cluster=cluster_client)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client, app


def submit(client, params, kind="dream", **files):
    response = client.post("/api/jobs", data={"params": json.dumps(params), "kind": kind}, files=files or None)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def poll(client, job_id, until, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if until(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id}: {job}")


def test_a_dream_runs_on_a_worker_with_progress_and_previews(studio, sample, cluster_client):
    client, app = studio
    from distributed import get_task_stream

    with get_task_stream(client=cluster_client) as stream:
        job_id = submit(client, PHOTO, image=("cat.jpg", sample.read_bytes(), "image/jpeg"))
        running = poll(client, job_id, lambda job: job["state"] == "running" and 0 < job["progress"] < 1)
        live = app.state.studio.board.get(job_id)
        seen = poll(client, job_id, lambda job: job["state"] != "running" or (live and live.preview_version > 0))
        done = poll(client, job_id, lambda job: job["state"] in ("done", "failed", "cancelled"))
    assert done["state"] == "done", done
    assert 0 < running["progress"] < 1 and seen is not None and live.preview_version > 0
    assert any(task["key"].startswith("run_task") for task in stream.data)  # dreamed on a worker
    image = Image.open(io.BytesIO(client.get(f"/api/jobs/{job_id}/result").content))
    assert image.size == (160, 106)
    params = read_metadata(app.state.studio.store.folder(job_id) / "result.png")
    assert (params["seed"], params["layers"], params["input"]) == (4, ["fire3"], "cat.jpg")
    assert done["labels"]["after"] and done["labels"]["before"]


def test_a_dream_on_a_worker_is_cancelled_within_a_step(studio, sample):
    client, _ = studio
    job_id = submit(client, {**PHOTO, "steps": 4000}, image=("cat.jpg", sample.read_bytes(), "image/jpeg"))
    poll(client, job_id, lambda job: job["state"] == "running" and job["progress"] > 0)
    asked = time.monotonic()
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    job = poll(client, job_id, lambda job: job["state"] != "running", timeout=30)
    assert job["state"] == "cancelled" and time.monotonic() - asked < 10, job


def test_a_video_job_is_cut_into_segments_on_the_cluster(studio, tmp_path):
    client, _ = studio
    clip = make_clip(tmp_path / "clip.mp4", count=12)
    params = {"octaves": 1, "steps": 2, "seed": 1, "layers": ["fire3"], "segments": 0.25, "overlap": 2}
    job_id = submit(client, params, kind="video", image=("clip.mp4", clip.read_bytes(), "video/mp4"))
    job = poll(client, job_id, lambda job: job["state"] in ("done", "failed", "cancelled"))
    assert job["state"] == "done" and job["frames_done"] == 12, job
