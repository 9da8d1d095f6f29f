"""One list of job kinds, and one typed request per kind: what is stored meets the schema the API shows."""

from __future__ import annotations

import pytest
from test_api import NOISE, accepted, wait_for

from inceptionism.errors import InvalidParameterError
from inceptionism.web.kinds import JOB_KINDS, JOB_PARAMS, typed
from inceptionism.web.store import JobStore


def test_the_kinds_the_api_shows_are_the_one_list(client):
    document = client.app.openapi()
    schemas = document["components"]["schemas"]
    assert JOB_KINDS == ("dream", "zoom", "video", "atlas", "live")  # live: kept by a live session, never queued
    assert schemas["JobOut"]["properties"]["kind"]["enum"] == list(JOB_KINDS)
    assert schemas["OptionOut"]["properties"]["group"]["enum"] == list(JOB_KINDS)
    form = document["paths"]["/api/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    submitted = schemas[form["$ref"].rsplit("/", 1)[1]]["properties"]["kind"]
    assert submitted["enum"] == ["dream", "zoom", "video"]  # an atlas is drawn by POST /api/atlas
    assert set(JOB_PARAMS) == set(JOB_KINDS)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("dream", {"steps": "many"}, "steps: Input should be a valid integer, unable to parse string as an integer"),
        ("dream", {"frames": 3}, "frames: Extra inputs are not permitted"),
        ("zoom", {"format": "avi"}, "format: Input should be 'mp4', 'gif' or 'webp'"),
        ("atlas", {"model": "tiny", "layer": "conv1", "channels": [], "size": 32, "steps": 4},
         "channels: List should have at least 1 item after validation, not 0"),
        ("still", {}, "params: Input tag 'still' found using 'kind' does not match any of the expected tags: "
         "'dream', 'zoom', 'video', 'atlas', 'live'"),
    ],
)  # fmt: skip
def test_a_request_that_is_not_of_its_kind_is_refused_in_one_line(kind, params, message):
    with pytest.raises(InvalidParameterError) as refused:
        typed(kind, params)
    assert str(refused.value) == message


def test_every_stored_job_is_a_typed_request_of_its_kind(client, data_dir):
    ids = [accepted(client, NOISE), accepted(client, {**NOISE, "frames": 2, "zoom": 1.05}, kind="zoom")]
    drawn = client.post("/api/atlas", json={"layer": "conv1", "channels": "0-1", "size": 32, "steps": 2})
    ids.append(drawn.json()["job"])
    for job_id in ids:
        assert wait_for(client, job_id)["state"] == "done"
    stored = [JobStore(data_dir).get(job_id) for job_id in ids]
    assert [job.kind for job in stored] == ["dream", "zoom", "atlas"]
    for job in stored:
        assert typed(job.kind, job.params).params.model == "tiny"
