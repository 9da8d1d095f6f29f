"""Browser tier: the studio page in a real Chromium, on the real app and the embedded SqueezeNet 1.1.

Upload a photo, paint a mask, pick a layer and a small schedule, dream, download the result
(its PNG holds the parameters), dream again on that result. With ``INCEPTIONISM_SCREENSHOTS=1``
the screenshots go to ``docs/images/studio-laptop.png`` and ``studio-phone.png``.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
pytest.importorskip("uvicorn", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from browser import PHOTO, ROOT, TIMEOUT_MS, get_json, watched_page  # noqa: E402
from PIL import Image  # noqa: E402

from inceptionism.io.images import read_metadata  # noqa: E402

pytestmark = pytest.mark.browser


def done_job_ids(page) -> list[str]:
    return page.eval_on_selector_all('#gallery .job[data-state="done"]', "items => items.map(i => i.dataset.id)")


def wait_for_new_done_job(page, known: list[str]) -> str:
    """Wait until a finished job not in ``known`` is in the gallery with its result loaded; its id."""
    page.wait_for_function(
        """known => [...document.querySelectorAll('#gallery .job[data-state="done"]')]
                .some(item => !known.includes(item.dataset.id)
                              && item.querySelector('.job-media img')
                              && item.querySelector('.job-media img').complete
                              && item.querySelector('.job-media img').naturalWidth > 0)""",
        arg=known,
        timeout=TIMEOUT_MS,
    )
    (new,) = [job for job in done_job_ids(page) if job not in known]
    return new


def screenshot_dir(tmp_path: Path) -> Path:
    if os.environ.get("INCEPTIONISM_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def test_dream_download_and_dream_again_in_the_page(chromium, studio_url, tmp_path):
    expect = sync_api.expect
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page, problems = watched_page(context)

    page.goto(f"{studio_url}/")
    expect(page.locator("#status")).to_contain_text("Ready", timeout=TIMEOUT_MS)
    expect(page.locator("#layer option[value='fire5']")).to_have_count(1)

    # The photo, a stroke of mask, the model and layer, a small schedule.
    page.set_input_files("#file", str(PHOTO))
    expect(page.locator("#file-name")).to_contain_text("coffee.jpg")
    page.wait_for_function("document.querySelector('#mask').width > 0")
    page.select_option("#model", "squeezenet1_1")
    page.select_option("#layer", "fire5")
    page.fill("#octaves", "1")
    page.fill("#steps", "2")
    page.fill("#max-size", "128")
    expect(page.locator("#octaves-value")).to_have_text("1")
    expect(page.locator("#steps-value")).to_have_text("2")
    page.check("#brush")
    box = page.locator("#mask").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.6, steps=6)
    page.mouse.up()

    # Dream: the progress bar reaches 1 and the result lands in the gallery.
    page.click("#dream")
    first = wait_for_new_done_job(page, [])
    page.wait_for_function("document.querySelector('#progress').value === 1")
    expect(page.locator("#status")).to_contain_text("Done")
    item = page.locator(f'#gallery .job[data-id="{first}"]')
    expect(item.locator(".labels")).to_contain_text("Before")
    job = get_json(f"{studio_url}/api/jobs/{first}")
    assert job["state"] == "done", job
    assert job["params"]["layers"] == ["fire5"] and job["params"]["octaves"] == 1 and job["params"]["steps"] == 2

    # Download: the PNG records the parameters it was dreamed with.
    with page.expect_download() as download_info:
        item.locator(".download").click()
    saved = tmp_path / "download.png"
    download_info.value.save_as(saved)
    metadata = read_metadata(saved)
    assert metadata is not None, "the downloaded PNG holds no parameters"
    assert metadata["model"] == "squeezenet1_1"
    assert metadata["layers"] == ["fire5"]
    assert metadata["octaves"] == 1 and metadata["steps"] == 2 and metadata["max_size"] == 128
    assert metadata["seed"] == job["params"]["seed"]
    assert metadata.get("mask"), "the painted mask was not sent with the job"
    with Image.open(saved) as result:
        result_size = result.size
    assert max(result_size) == 128

    # Dream again on the result: it becomes the photo, and a second job dreams it.
    item.locator(".again").click()
    expect(page.locator("#file-name")).to_contain_text(f"dream-{first[:8]}")
    page.click("#dream")
    second = wait_for_new_done_job(page, [first])
    page.wait_for_function("document.querySelector('#progress').value === 1")
    expect(page.locator("#gallery .job")).to_have_count(2)
    assert page.eval_on_selector_all("#gallery .job", "items => items.map(i => i.dataset.id)") == [second, first]
    with urllib.request.urlopen(f"{studio_url}/api/jobs/{second}/input", timeout=30) as response:
        input_path = tmp_path / "second-input"
        input_path.write_bytes(response.read())
    with Image.open(input_path) as second_input:
        assert second_input.size == result_size, "the second job did not dream the first one's result"

    # Screenshots at a laptop and a phone width.
    folder = screenshot_dir(tmp_path)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(folder / "studio-laptop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    page.screenshot(path=str(folder / "studio-phone.png"))

    context.close()
    assert not problems, problems
