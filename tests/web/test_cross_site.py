"""Every route of the studio, sent by a page of another site: changes are refused, reads change nothing.

A page elsewhere can make the user's browser send any GET (an ``<img src=...>``) and a form
POST without asking; the studio must come out of such a visit exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.routing import APIRoute
from test_api import NOISE, dream_done, png

CROSS_SITE = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
FILLED = {"job_id": None, "name": "tiny"}  # the job's id is filled in by the test
QUERY = {"layer": "conv1", "channel": "0", "channels": "0-3", "size": "32", "steps": "4"}
FORM = {"kind": "dream", "params": json.dumps(NOISE), "layer": "conv1"}
ATLAS = {"layer": "conv1", "channels": "0-3", "size": 32, "steps": 4}


def snapshot(client, data_dir: Path, cache_dir: Path) -> tuple:
    """What a request could change: the jobs (their states), the files of the data directory and the cache."""
    jobs = [(job["id"], job["state"]) for job in client.get("/api/jobs", params={"per_page": 100}).json()["jobs"]]
    files = sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*") if path.is_file())
    cached = sorted(str(path.relative_to(cache_dir)) for path in cache_dir.rglob("*") if path.is_file())
    return jobs, [name for name in files if not name.startswith("jobs.sqlite3")], cached


def routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app answers: those of its OpenAPI document, its page and the documents."""
    documented = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    hidden = {(method, route.path) for route in app.routes if isinstance(route, APIRoute)
              for method in route.methods if method != "HEAD"}  # fmt: skip
    return sorted(documented | hidden | {("GET", "/openapi.json")})


def send(client, method: str, path: str, job_id: str):
    url = path.format(**{**FILLED, "job_id": job_id})
    if method == "GET":
        return client.get(url, params=QUERY, headers=CROSS_SITE)
    if path == "/api/atlas":
        return client.request(method, url, json=ATLAS, headers=CROSS_SITE)
    files = {"image": ("photo.png", png(), "image/png")} if method == "POST" else None
    return client.request(method, url, data=FORM if method == "POST" else None, files=files, headers=CROSS_SITE)


def test_every_route_sent_cross_site_changes_nothing(client, data_dir, own_cache_dir):
    job = dream_done(client)
    before = snapshot(client, data_dir, own_cache_dir)
    sent = routes(client.app)
    assert {("POST", "/api/jobs"), ("POST", "/api/atlas"), ("POST", "/api/jobs/{job_id}/cancel"),
            ("DELETE", "/api/jobs/{job_id}"), ("GET", "/api/atlas"), ("POST", "/api/atlas/ranking")} <= set(sent)  # fmt: skip
    for method, path in sent:
        response = send(client, method, path, job["id"])
        if method != "GET":
            assert response.status_code == 403, (method, path, response.text)
            assert (
                response.json()["detail"] == "a page of another site (https://evil.example) may not change this studio"
            )
        else:
            assert response.status_code in (200, 404, 422), (method, path, response.text)
    assert snapshot(client, data_dir, own_cache_dir) == before
    assert client.get(job["result"]).status_code == 200


def test_a_get_of_the_atlas_draws_nothing(client, data_dir, own_cache_dir):
    for _ in range(17):  # the probe that filled the queue with atlas jobs before
        looked = client.get("/api/atlas", params={"layer": "conv1"}, headers=CROSS_SITE)
        assert (looked.status_code, looked.json()["state"], looked.json()["job"]) == (200, "incomplete", None)
    assert client.get("/api/jobs").json()["total"] == 0
    assert list((data_dir / "jobs").iterdir()) == []
    assert dream_done(client)["state"] == "done"  # the user's own dream is not refused


def test_the_same_requests_from_the_studios_own_page_are_taken(client):
    own = {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-origin"}
    drawn = client.post("/api/atlas", json=ATLAS, headers=own)
    assert drawn.status_code == 202, drawn.text
    submitted = client.post("/api/jobs", data=FORM, headers=own)
    assert submitted.status_code == 202, submitted.text
