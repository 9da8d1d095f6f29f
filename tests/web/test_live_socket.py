"""The live WebSocket, ``/api/live``, driven by a Python client: frames in, dreams out, as the README's protocol says.

The studio dreams with the tiny random network (the fixtures' catalog); the frames are a
seeded noise picture (the real footage is the benchmark's and the page test's).
"""

from __future__ import annotations

import io
import json
import time

import av
import numpy as np
import pytest
from PIL import Image
from polling import wait_for
from starlette.testclient import WebSocketDenialResponse
from test_api import FAST, TOKEN, accepted

from inceptionism.web.livesession import FRAME_BYTES, jpeg

URL = "ws://127.0.0.1:8000/api/live"
QUICK = {"octaves": 1, "steps": 2, "seed": 0}
SLOW = {"octaves": 1, "steps": 4096, "seed": 0, "max_size": 512}
"""Tens of seconds for one frame: a frame that is abandoned, or keeps the session busy."""


def until(condition, timeout: float = 30.0) -> None:
    """Wait until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not so after {timeout} s"
        time.sleep(0.02)


def picture(seed: int = 0, size: tuple[int, int] = (96, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)


def frame_message(frame_id: int, pixels: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return frame_id.to_bytes(4, "big") + buffer.getvalue()


def settings(ws, params: dict) -> dict:
    ws.send_text(json.dumps({"type": "settings", "params": params}))
    return ws.receive_json()


def dreamed(ws) -> tuple[dict, int, np.ndarray]:
    """The next dream: its ``dreamed`` line, the id its binary message carries, its pixels."""
    line = ws.receive_json()
    assert line["type"] == "dreamed", line
    data = ws.receive_bytes()
    return line, int.from_bytes(data[:4], "big"), np.asarray(Image.open(io.BytesIO(data[4:])).convert("RGB"))


def opened(client, **params):
    """A live socket, its ``ready`` line read and ``params`` set (answered)."""
    ws = client.websocket_connect(URL).__enter__()
    ready = ws.receive_json()
    assert ready["type"] == "ready", ready
    if params:
        assert settings(ws, params)["type"] == "settings"
    return ws


def test_frames_in_dreams_out_each_with_the_id_of_its_frame(client):
    with client.websocket_connect(URL) as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["settings"] == 1
        assert ready["params"]["model"] == "tiny" and ready["limits"]["frame_bytes"] == FRAME_BYTES
        assert settings(ws, QUICK) == {"type": "settings", "settings": 2, "params": {**QUICK, "model": "tiny",
                                                                                    "max_size": 512}}  # fmt: skip
        for frame_id in (7, 8, 2**32 - 1):
            ws.send_bytes(frame_message(frame_id, picture()))
            line, answered, pixels = dreamed(ws)
            assert (line["id"], answered, line["settings"]) == (frame_id, frame_id, 2)
            assert pixels.shape == (64, 96, 3) and (line["width"], line["height"]) == (96, 64)
            assert line["strength"] > 1.0  # levels the dream moved the frame by
            assert np.abs(pixels.astype(float) - picture()).mean() > 1.0
        assert line["frames"] == 3 and line["dropped"] == 0


def test_a_settings_change_applies_from_the_next_frame(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, {**QUICK, "steps": 1, "step_size": 0.2})
        ws.send_bytes(frame_message(1, picture()))
        weak, _, _ = dreamed(ws)
        changed = settings(ws, {**QUICK, "steps": 8, "step_size": 3.0, "layers": ["conv3"]})
        assert (changed["settings"], changed["params"]["layers"]) == (3, ["conv3"])
        ws.send_bytes(frame_message(2, picture()))
        strong, _, _ = dreamed(ws)
        assert (weak["settings"], strong["settings"]) == (2, 3)
        assert strong["strength"] > 4 * weak["strength"], (weak["strength"], strong["strength"])


def test_bad_settings_are_refused_in_one_line_and_the_last_good_ones_kept(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, QUICK)
        for params, detail, argument in [
            ({"steps": 0}, "steps must be >= 1, got 0", "steps"),
            ({"noise": "64x64"}, "live dreams the frames it is given; noise does not apply", "noise"),
            ({"frames": 3}, None, "frames"),
            (
                {"layers": ["conv9"]},
                "unknown layer 'conv9' in tiny; did you mean conv1, conv2, conv3? (list them "
                "with: inceptionism layers --model tiny)",
                None,
            ),
            ({"blend": 1.5}, "blend must be non-negative and <= 1.0, got 1.5", "blend"),
        ]:
            answer = settings(ws, params)
            assert answer["type"] == "error" and answer["argument"] == argument, answer
            assert detail is None or answer["detail"] == detail
            assert "\n" not in answer["detail"]
        ws.send_bytes(frame_message(1, picture()))
        assert dreamed(ws)[0]["settings"] == 2


def test_the_newest_frame_is_dreamed_and_older_ones_dropped_never_queued(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, {**QUICK, "steps": 40})  # a dream takes longer than sending all the frames
        for frame_id in range(30):
            ws.send_bytes(frame_message(frame_id, picture(frame_id % 3)))
        answered = []
        while not answered or answered[-1] != 29:
            line, frame_id, _ = dreamed(ws)
            answered.append(frame_id)
        assert answered == sorted(answered) and len(answered) < 10, answered
        assert line["dropped"] == 30 - len(answered)


def test_closing_the_socket_abandons_the_frame_being_dreamed(client):
    door = client.app.state.live_door
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, SLOW)
        ws.send_bytes(frame_message(1, picture(size=(512, 384))))
        (session,) = door.sessions
        until(lambda: session._dreamer is not None)  # dreaming the frame
    until(lambda: door.open == 0)
    assert session.frames == 0 and not session._thread.is_alive()
    accepted(client, {"noise": "32x32", **FAST})  # the worker is the jobs' again


def test_a_second_session_is_refused_while_one_runs(client):
    with client.websocket_connect(URL) as first:
        first.receive_json()
        with client.websocket_connect(URL) as second:
            assert second.receive_json() == {
                "type": "error",
                "detail": "1 live session is running (at most 1); close it first, or serve with "
                "INCEPTIONISM_LIVE_SESSIONS=2",
            }
            assert second.receive()["code"] == 1013
    with client.websocket_connect(URL) as again:  # the first one closed: a new one may start
        assert again.receive_json()["type"] == "ready"


def test_a_live_session_takes_the_worker_and_gives_it_back(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        job = accepted(client, {"noise": "32x32", **FAST})
        time.sleep(0.5)
        assert client.get(f"/api/jobs/{job}").json()["state"] == "queued"
    assert wait_for(client, job)["state"] == "done"


def test_live_is_refused_while_the_only_worker_dreams_a_job(client):
    job = accepted(client, {"noise": "32x32", "octaves": 1, "steps": 4096, "seed": 0})
    wait_for(client, job, states=("running",))
    with client.websocket_connect(URL) as ws:
        refused = ws.receive_json()
        assert refused["type"] == "error"
        assert refused["detail"] == (f"the studio's 1 worker is dreaming job {job[:8]}; wait for it or cancel it, "
                                     "or serve with more --workers")  # fmt: skip
    client.post(f"/api/jobs/{job}/cancel")


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({"origin": "http://evil.example"}, 403, "a page of another site (http://evil.example) may not change this studio"),
        ({"origin": "http://127.0.0.1:9999"}, 403, "a page of another site (http://127.0.0.1:9999) may not change this studio"),
        ({"sec-fetch-site": "cross-site"}, 403, "a page of another site (unknown) may not change this studio"),
    ],
)  # fmt: skip
def test_a_page_of_another_site_cannot_open_a_session(client, headers, status, detail):
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(URL, headers=headers):
        pass
    assert refused.value.status_code == status
    assert json.loads(refused.value.content) == {"detail": detail}


def test_the_studio_s_own_page_may_open_a_session(client):
    with client.websocket_connect(URL, headers={"origin": "http://127.0.0.1:8000"}) as ws:
        assert ws.receive_json()["type"] == "ready"


def test_the_host_and_the_token_are_checked_as_for_every_request(make_client):
    client = make_client(token=TOKEN)
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(URL):
        pass
    assert refused.value.status_code == 401
    with client.websocket_connect(f"{URL}?token={TOKEN}") as ws:
        assert ws.receive_json()["type"] == "ready"
    with client.websocket_connect(URL, headers={"authorization": f"Bearer {TOKEN}"}) as ws:
        assert ws.receive_json()["type"] == "ready"
    plain = make_client()
    with pytest.raises(WebSocketDenialResponse) as refused, plain.websocket_connect("ws://evil.example/api/live"):
        pass
    assert refused.value.status_code == 400


def test_bad_messages_get_one_line_each_and_the_session_goes_on(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, QUICK)
        for message, detail in [
            ("nonsense", "a command is a JSON object: Expecting value at character 0"),
            ('{"type": "dance"}', 'a command is {"type": ...} with type settings, snapshot, record'),
            ('{"type": "record", "on": "yes"}', "record takes \"on\": true or false, got 'yes'"),
            ('{"type": "snapshot"}', "nothing dreamed yet: send a frame first, then take the snapshot"),
        ]:
            ws.send_text(message)
            assert ws.receive_json()["detail"] == detail
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_json()["detail"] == "a frame message is a 4-byte id (big-endian) then an image; got 2 bytes"
        ws.send_bytes((5).to_bytes(4, "big") + b"not an image")
        answer = ws.receive_json()
        assert answer["id"] == 5 and answer["detail"].startswith("the frame is not an image Pillow can read")
        ws.send_bytes(frame_message(6, picture(), "PNG"))
        assert dreamed(ws)[1] == 6


def test_a_snapshot_and_a_recording_are_kept_in_the_gallery_with_their_settings(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        params = settings(ws, {**QUICK, "blend": 0.5})["params"]
        ws.send_bytes(frame_message(1, picture()))
        _, _, shown = dreamed(ws)
        ws.send_text('{"type": "snapshot"}')
        snapshot = ws.receive_json()["job"]
        ws.send_text('{"type": "record", "on": true}')
        assert ws.receive_json() == {"type": "recording", "on": True, "max_frames": 8}
        for frame_id in range(2, 7):
            ws.send_bytes(frame_message(frame_id, picture(frame_id)))
            dreamed(ws)
        ws.send_text('{"type": "record", "on": false}')
        recording = ws.receive_json()["job"]
    assert (snapshot["kind"], snapshot["state"], snapshot["media_type"]) == ("live", "done", "image/png")
    assert snapshot["params"] == params and recording["params"] == params
    kept = np.asarray(Image.open(io.BytesIO(client.get(snapshot["result"]).content)))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(jpeg(kept)))), shown)  # the frame shown was its JPEG
    assert client.get(snapshot["input"]).status_code == 200
    assert (recording["media_type"], recording["frames_done"]) == ("video/mp4", 5)
    with av.open(io.BytesIO(client.get(recording["result"]).content)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 5
    kinds = [(job["kind"], job["media_type"]) for job in client.get("/api/jobs").json()["jobs"]]
    assert kinds == [("live", "video/mp4"), ("live", "image/png")]


def test_a_recording_is_kept_when_it_is_full_or_the_socket_closes(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, QUICK)
        ws.send_text('{"type": "record", "on": true}')
        ws.receive_json()
        for frame_id in range(8):  # the studio's max_frames
            ws.send_bytes(frame_message(frame_id, picture(frame_id)))
            dreamed(ws)
        full = ws.receive_json()
        assert full["type"] == "saved" and full["job"]["frames_done"] == 8
        ws.send_text('{"type": "record", "on": true}')
        ws.receive_json()
        ws.send_bytes(frame_message(9, picture()))
        dreamed(ws)
    until(lambda: len(client.get("/api/jobs").json()["jobs"]) == 2)
    assert client.get("/api/jobs").json()["jobs"][0]["frames_done"] == 1


def test_a_command_nested_too_deep_or_a_frame_of_another_format_is_refused_and_the_session_goes_on(client):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, QUICK)
        ws.send_text("[" * 50_000)
        assert ws.receive_json()["detail"] == "a command is nested too deep; send a JSON object"
        ws.send_bytes(frame_message(3, picture(), "BMP"))
        answer = ws.receive_json()
        assert answer["id"] == 3 and answer["detail"].startswith("the frame is not an image Pillow can read (send JPEG")
        ws.send_bytes(frame_message(4, picture()))
        assert dreamed(ws)[1] == 4


def test_live_turned_off_is_refused_with_a_policy_close(make_client):
    client = make_client(live_sessions=0)
    with client.websocket_connect(URL) as ws:
        assert ws.receive_json() == {
            "type": "error",
            "detail": "live is off in this studio (serve with INCEPTIONISM_LIVE_SESSIONS=1)",
        }
        assert ws.receive()["code"] == 1008


def test_a_failed_command_or_recording_leaves_nothing_behind_and_the_session_goes_on(client, data_dir, monkeypatch):
    jobs = data_dir / "jobs"
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        settings(ws, QUICK)
        ws.send_text('{"type": "record", "on": true}')
        ws.receive_json()
        ws.send_text('{"type": "record", "on": false}')  # no frame reached it
        assert ws.receive_json() == {"type": "recording", "on": False, "frames": 0,
                                     "detail": "no frame was dreamed: nothing kept"}  # fmt: skip
        ws.send_bytes(frame_message(1, picture()))
        dreamed(ws)

        def full_disk(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("inceptionism.web.livekeep.encode_image", full_disk)
        ws.send_text('{"type": "snapshot"}')
        assert ws.receive_json() == {"type": "error", "detail": "internal error: [Errno 28] No space left on device"}
        monkeypatch.setattr("inceptionism.io.recording.Recording.write", full_disk)
        ws.send_text('{"type": "record", "on": true}')
        ws.receive_json()
        ws.send_bytes(frame_message(2, picture()))
        assert dreamed(ws)[1] == 2  # the dream is shown all the same
        assert ws.receive_json() == {"type": "recording", "on": False, "detail": "the recording failed and was "
                                     "not kept: [Errno 28] No space left on device"}  # fmt: skip
        ws.send_bytes(frame_message(3, picture()))
        assert dreamed(ws)[1] == 3
    assert list(jobs.iterdir()) == [] and client.get("/api/jobs").json()["jobs"] == []
