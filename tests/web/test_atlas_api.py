"""``/api/atlas`` in process (TestClient, workers started) with the tiny random network.

An atlas of drawn tiles answers 200 with their URLs; one with tiles missing answers 202 and a
job (kind ``atlas``) draws them. The single worker is kept busy by a long dream while a test
needs the atlas job to stay queued, so "asking again gives the same job" never races the worker.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from polling import wait_for
from torch import nn

from conftest import make_tiny_net
from inceptionism.io.images import read_metadata
from inceptionism.models import Network, Preprocessing
from inceptionism.render.atlas import plan_atlas, rank_channels
from inceptionism.web.catalog import ModelCatalog

DATA = Path(__file__).resolve().parents[1] / "data"
PHOTO = DATA / "coffee.jpg"
SMALL = {"size": 32, "steps": 4}
LONG = {"noise": "32x32", "octaves": 1, "steps": 4096, "seed": 0}
"""Tens of seconds of dreaming: started only to keep the worker busy, then cancelled."""


class WideBody(nn.Module):
    """One layer of 600 channels: more than a web request may ask for."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 600, 1), nn.ReLU())
        self.fc = nn.Linear(600, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv1(x).mean((2, 3)))


@pytest.fixture(scope="module")
def tiny_catalog() -> ModelCatalog:
    """The tiny network (the default) and a wide one (only ever refused: never drawn)."""
    tiny = make_tiny_net()
    torch.manual_seed(0)
    wide = Network(
        WideBody(),
        name="wide",
        preprocessing=Preprocessing("RGB", 1 / 255, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
        layers=("conv1",),
        labels=[f"class{i}" for i in range(10)],
        min_size=8,
        input_size=32,
        weights="random",
    ).eval()
    return ModelCatalog({"tiny": lambda: tiny, "wide": lambda: wide})


def get_atlas(client: TestClient, **query):
    """GET /api/atlas: a look at what is drawn."""
    return client.get("/api/atlas", params={**SMALL, **query})


def draw_atlas(client: TestClient, **body):
    """POST /api/atlas: draw what is missing."""
    return client.post("/api/atlas", json={**SMALL, **body})


def keep_the_worker_busy(client: TestClient) -> str:
    """A long dream, once the single worker runs it; its id."""
    response = client.post("/api/jobs", data={"kind": "dream", "params": json.dumps(LONG)})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    wait_for(client, job_id, states=("running",))
    return job_id


def drawn_atlas(client: TestClient, **query) -> dict:
    """The atlas once its job has drawn it (200)."""
    response = draw_atlas(client, **query)
    if response.status_code == 202:
        job = wait_for(client, response.json()["job"])
        assert job["state"] == "done", job
        response = get_atlas(client, **query)
    assert response.status_code == 200, response.text
    return response.json()


def tile_url(layer: str, channel: int, size: int = 32, steps: int = 4, model: str = "tiny") -> str:
    return f"/api/atlas/tile?model={model}&layer={layer}&channel={channel}&size={size}&steps={steps}"


# ---------------------------------------------------------------------------------------------
# Drawing an atlas


def test_missing_tiles_are_drawn_by_one_job_then_served(client, tiny_catalog):
    busy = keep_the_worker_busy(client)
    response = draw_atlas(client, layer="conv1", channels="0-3")
    assert response.status_code == 202, response.text
    asked = response.json()
    job_id = asked["job"]
    assert asked == {
        "model": "tiny",
        "layer": "conv1",
        "state": "queued",
        "job": job_id,
        "tiles": [{"channel": c, "url": None, "activation": None} for c in range(4)],
    }
    again = draw_atlas(client, layer="conv1", channels="0-3")
    assert (again.status_code, again.json()["job"]) == (202, job_id)  # the same job, not a second one
    assert draw_atlas(client, layer="conv1", channels="0,1,2,3").json()["job"] == job_id
    looked = get_atlas(client, layer="conv1", channels="0-3")
    assert (looked.status_code, looked.json()["state"], looked.json()["job"]) == (200, "queued", job_id)

    assert client.post(f"/api/jobs/{busy}/cancel").status_code == 202
    job = wait_for(client, job_id)
    assert (job["state"], job["kind"], job["error"]) == ("done", "atlas", None)
    assert (job["frames_done"], job["frames_total"], job["progress"]) == (4, 4, 1.0)
    assert job["params"] == {"model": "tiny", "layer": "conv1", "channels": [0, 1, 2, 3], "size": 32, "steps": 4}

    done = get_atlas(client, layer="conv1", channels="0-3")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["job"], body["model"], body["layer"]) == ("done", None, "tiny", "conv1")
    store = plan_atlas(tiny_catalog.network("tiny"), "conv1", "0-3", **SMALL).store
    assert [tile["channel"] for tile in body["tiles"]] == [0, 1, 2, 3]
    for tile in body["tiles"]:
        assert tile["url"] == tile_url("conv1", tile["channel"])
        assert tile["activation"] == read_metadata(store.path(tile["channel"]))["activation"]
        served = client.get(tile["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
        assert served.content == store.path(tile["channel"]).read_bytes()
        assert Image.open(io.BytesIO(served.content)).size == (32, 32)


def test_the_atlas_job_is_in_the_gallery_and_its_result_is_the_sheet(client):
    response = draw_atlas(client, layer="conv2", channels="0-3")
    assert response.status_code == 202
    job = wait_for(client, response.json()["job"])
    listed = {item["id"]: item for item in client.get("/api/jobs").json()["jobs"]}
    assert listed[job["id"]]["kind"] == "atlas" and listed[job["id"]]["state"] == "done"
    assert (job["result"], job["media_type"]) == (f"/api/jobs/{job['id']}/result", "image/png")
    result = client.get(job["result"])
    assert result.status_code == 200
    assert result.headers["content-type"] == "image/png"
    sheet = Image.open(io.BytesIO(result.content))
    assert sheet.format == "PNG" and sheet.width == 2 * 36 + 4  # 2x2 tiles of 32 px
    assert (sheet.height - 4) % 2 == 0 and 36 < (sheet.height - 4) // 2 <= 64  # each row with its labels
    metadata = json.loads(sheet.info["inceptionism"])
    assert {key: metadata[key] for key in ("model", "layer", "channels", "size", "steps")} == {
        "model": "tiny",
        "layer": "conv2",
        "channels": [0, 1, 2, 3],
        "size": 32,
        "steps": 4,
    }


def test_an_atlas_sharing_tiles_shows_those_at_once(client):
    drawn_atlas(client, layer="conv1", channels="0-3")
    response = draw_atlas(client, layer="conv1", channels="2-5")
    assert response.status_code == 202
    tiles = {tile["channel"]: tile for tile in response.json()["tiles"]}
    assert [c for c, tile in tiles.items() if tile["url"] is not None] == [2, 3]
    assert tiles[2]["url"] == tile_url("conv1", 2) and tiles[2]["activation"] is not None
    job = wait_for(client, response.json()["job"])
    assert job["params"]["channels"] == [2, 3, 4, 5] and job["frames_total"] == 4
    assert get_atlas(client, layer="conv1", channels="2-5").status_code == 200


def test_other_settings_are_other_tiles(client):
    drawn_atlas(client, layer="conv1", channels="0-1")
    for changed in ({"size": 40}, {"steps": 5}):
        response = draw_atlas(client, layer="conv1", channels="0-1", **changed)
        assert response.status_code == 202, changed
        assert all(tile["url"] is None for tile in response.json()["tiles"])
        wait_for(client, response.json()["job"])
    assert client.get(tile_url("conv1", 0, size=40)).status_code == 200
    assert client.get(tile_url("conv1", 0, steps=5)).status_code == 200


def test_no_channels_is_every_channel(client):
    body = drawn_atlas(client, layer="conv1")
    assert [tile["channel"] for tile in body["tiles"]] == list(range(8))


def test_a_look_starts_nothing(client):
    looked = get_atlas(client, layer="conv1", channels="0-1")
    assert looked.status_code == 200, looked.text
    assert looked.json()["job"] is None and looked.json()["state"] == "incomplete"  # nothing draws them
    assert all(tile["url"] is None for tile in looked.json()["tiles"])
    assert client.get("/api/jobs").json()["jobs"] == []  # and no job was started

    busy = keep_the_worker_busy(client)
    job_id = draw_atlas(client, layer="conv1", channels="0-1").json()["job"]
    following = get_atlas(client, layer="conv1", channels="0-1")
    assert (following.status_code, following.json()["job"], following.json()["state"]) == (200, job_id, "queued")
    client.post(f"/api/jobs/{busy}/cancel")
    wait_for(client, job_id)
    done = get_atlas(client, layer="conv1", channels="0-1")
    assert (done.status_code, done.json()["state"]) == (200, "done")
    assert all(tile["url"] is not None for tile in done.json()["tiles"])


def test_a_tile_not_drawn_yet_is_404(client):
    response = client.get(tile_url("conv1", 7))
    assert response.status_code == 404
    assert response.json()["detail"] == "the tile of conv1:7 is not drawn yet (POST /api/atlas draws it)"
    assert client.get("/api/jobs").json()["jobs"] == []  # asking for a tile draws nothing


# ---------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"layer": "conv9"},
            "unknown layer 'conv9' in tiny; did you mean conv1, conv2, conv3? "
            "(list them with: inceptionism layers --model tiny)",
        ),
        ({"layer": "conv1", "channels": "99"}, "channel 99 does not exist in conv1 of tiny: it has channels 0..7"),
        ({"layer": "conv1", "channels": "0-99"}, "channel 8 does not exist in conv1 of tiny: it has channels 0..7"),
        ({"layer": "conv1", "channels": "x"}, "channels must be numbers and ranges like 0-63 or 3,12,40, got 'x'"),
        ({"layer": "conv1", "channels": "5-2"}, "channel range 5-2 runs backwards"),
        ({"layer": "conv1", "size": 31}, "size must be >= 32, got 31"),
        ({"layer": "conv1", "size": 513}, "size must be in 32..512, got 513"),
        ({"layer": "conv1", "steps": 0}, "steps must be >= 1, got 0"),
        ({"layer": "conv1", "steps": 4097}, "steps must be in 1..4096, got 4097"),
        (
            {"layer": "conv1", "size": "big"},
            "size: Input should be a valid integer, unable to parse string as an integer, got 'big'",
        ),
        ({}, "layer: Field required"),
        ({"layer": "conv1", "channels": "0-599", "model": "wide"}, "at most 512 channels a request, got 600"),
        ({"layer": "conv1", "model": "wide"}, "at most 512 channels a request, got 600"),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else "",
)
def test_bad_atlas_requests_are_422_with_the_engines_message(client, query, message):
    looked = client.get("/api/atlas", params={**SMALL, **query} if query else {})
    drawn = client.post("/api/atlas", json={**SMALL, **query} if query else {})
    for response in (looked, drawn):
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == message
    assert client.get("/api/jobs").json()["jobs"] == []


def test_an_unknown_model_is_422(client):
    response = get_atlas(client, layer="conv1", model="nope")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("unknown model 'nope'")


def test_512_channels_are_allowed(client):
    response = draw_atlas(client, layer="conv1", channels="0-511", model="wide")
    assert response.status_code == 202, response.text
    assert len(response.json()["tiles"]) == 512
    assert client.post(f"/api/jobs/{response.json()['job']}/cancel").status_code in (202, 409)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"layer": "conv9", "channel": 0}, 422, "unknown layer 'conv9' in tiny; did you mean conv1, conv2, conv3? "),
        ({"layer": "conv1", "channel": 99}, 422, "channel 99 does not exist in conv1 of tiny: it has channels 0..7"),
        ({"layer": "conv1", "channel": -1}, 422, "channel: Input should be greater than or equal to 0"),
        ({"layer": "conv1", "channel": 0, "size": 31}, 422, "size must be >= 32, got 31"),
    ],
    ids=["layer", "channel", "negative", "size"],
)
def test_bad_tile_requests(client, query, status, message):
    response = client.get("/api/atlas/tile", params={**SMALL, **query})
    assert response.status_code == status
    assert response.json()["detail"].startswith(message)


# ---------------------------------------------------------------------------------------------
# Ranking by a photo


def test_ranking_sorts_every_channel_by_its_activation_on_the_photo(client, tiny_catalog, data_dir):
    response = client.post(
        "/api/atlas/ranking",
        data={"layer": "conv2"},
        files={"image": ("coffee.jpg", PHOTO.read_bytes(), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    ranking = response.json()
    expected = rank_channels(tiny_catalog.network("tiny"), "conv2", PHOTO, range(16))
    assert [item["channel"] for item in ranking] == [channel for channel, _ in expected]
    assert [item["activation"] for item in ranking] == pytest.approx([value for _, value in expected])
    assert sorted(item["channel"] for item in ranking) == list(range(16))
    assert list((data_dir / "jobs").iterdir()) == []  # the upload is not kept


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        (
            ("notes.png", b"hello, not a picture", "image/png"),
            415,
            "the uploaded image is not an image Pillow can read (PNG, JPEG, WebP...), or it is damaged",
        ),
        (("empty.png", b"", "image/png"), 415, "the uploaded image is an empty file"),
    ],
    ids=["text", "empty"],
)
def test_ranking_refuses_what_is_not_a_photo(client, data_dir, upload, status, message):
    response = client.post("/api/atlas/ranking", data={"layer": "conv2"}, files={"image": upload})
    assert response.status_code == status, response.text
    assert response.json()["detail"] == message
    assert list((data_dir / "jobs").iterdir()) == []


def test_ranking_refuses_a_photo_too_small_and_a_bad_layer(client):
    buffer = io.BytesIO()
    Image.new("RGB", (6, 20), (90, 140, 200)).save(buffer, format="PNG")
    small = client.post(
        "/api/atlas/ranking", data={"layer": "conv2"}, files={"image": ("small.png", buffer.getvalue(), "image/png")}
    )
    assert (small.status_code, small.json()["detail"]) == (422, "the photo is 6x20 px, too small for tiny")
    unknown = client.post(
        "/api/atlas/ranking", data={"layer": "conv9"}, files={"image": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("unknown layer 'conv9' in tiny")
