"""Waiting for a job of a test client's studio to reach a state."""

from __future__ import annotations

import time

FINISHED = ("done", "failed", "cancelled")


def wait_for(client, job_id: str, states=FINISHED, timeout: float = 30.0) -> dict:
    """Poll GET /api/jobs/{id} until its state is one of ``states``; the job."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if job["state"] in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is still {job['state']} after {timeout} s, not {states}: {job}")
        time.sleep(0.02)
