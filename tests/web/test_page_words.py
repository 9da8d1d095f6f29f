"""Browser tier: the studio page speaks to people, in a real Chromium on the real app and SqueezeNet 1.1.

It asks for a photo before sending anything, shows each slider's value and default in plain
words, keeps numbers on one line, sets checkboxes beside their labels on a phone, shows a
zoom's label chart large enough to read (and larger on a click), lets a deletion be undone
(nothing is deleted by one click), and cancels the job it follows.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("fastapi", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
pytest.importorskip("uvicorn", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from browser import PHOTO, TIMEOUT_MS, finished_job, get_json, open_studio  # noqa: E402

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TINY = {"model": "squeezenet1_1", "layers": ["fire3"], "octaves": 1, "steps": 1, "max_size": 96}
"""A dream that takes well under a second."""

LINES = """element => {
    // How many lines the element takes: an inline one counts its line boxes, a block one its height.
    const style = getComputedStyle(element);
    if (style.display === 'inline') {
        return new Set([...element.getClientRects()].map(rect => Math.round(rect.top))).size;
    }
    return Math.round(element.getBoundingClientRect().height / parseFloat(style.lineHeight));
}"""

BOX_AND_LABEL = """id => {
    // The checkbox's box, and the box of the first line of its label's text.
    const box = document.getElementById(id).getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(document.querySelector(`label[for="${id}"]`));
    const text = range.getClientRects()[0];
    const edges = rect => ({left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom});
    return {box: edges(box), text: edges(text)};
}"""

IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0"


def js_number(value: float) -> str:
    """A number as JavaScript's String() writes it."""
    return str(int(value)) if float(value).is_integer() else str(value)


def test_a_dream_without_a_photo_asks_for_one_before_sending_anything(chromium, studio_url):
    expect = sync_api.expect
    page, problems = open_studio(chromium.new_context(viewport=LAPTOP), studio_url)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    page.click("#dream")
    expect(page.locator("#status")).to_have_text("Choose a photo, or tick Start from noise.")
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#file")).to_be_focused()
    assert posts == []

    # Noise is a start of its own: the dream goes.
    page.check("#noise")
    page.fill("#noise-size", "48x48")
    page.fill("#steps", "2")
    page.click("#dream")
    expect(page.locator("#status")).to_contain_text("Done", timeout=TIMEOUT_MS)
    assert posts == [f"{studio_url}/api/jobs"]
    assert not problems, problems


def test_each_slider_shows_its_value_and_its_default_in_plain_words(chromium, studio_url):
    expect = sync_api.expect
    page, problems = open_studio(chromium.new_context(viewport=PHONE), studio_url)
    options = {option["name"]: option for option in get_json(f"{studio_url}/api/options") if option["group"] == "dream"}
    rows = page.eval_on_selector_all(
        ".slider",
        """rows => rows.map(row => ({name: row.dataset.option, text: row.innerText,
            value: row.querySelector('output').textContent, shown: row.querySelector('.default').textContent}))""",
    )
    assert [row["name"] for row in rows] == [name for name, option in options.items() if option["typical"]]
    for row in rows:
        option = options[row["name"]]
        default = "auto" if option["default"] is None else js_number(option["default"])
        if option.get("shown_default") is None:
            assert row["shown"] == f"(default {default})", row
            assert row["value"] == default, row
        assert "preset" not in row["text"] and "/" not in row["text"], row

    # A moved slider shows its value beside the default; its reset button brings the default back.
    octaves = page.locator('.slider[data-option="octaves"]')
    page.fill("#octaves", "2")
    expect(octaves.locator("output")).to_have_text("2")
    expect(octaves.locator(".default")).to_have_text("(default 4)")
    octaves.locator(".reset").click()
    expect(octaves.locator("output")).to_have_text("4")
    # A slider never moved follows the preset; the default it names stays the library's.
    page.select_option("#preset", "subtle")
    expect(octaves.locator("output")).to_have_text("3")
    expect(octaves.locator(".default")).to_have_text("(default 4)")
    assert not problems, problems


def test_checkboxes_sit_beside_their_labels_on_a_phone(chromium, studio_url):
    page, problems = open_studio(chromium.new_context(viewport=PHONE), studio_url)
    shown_in = {"dream": ["noise", "keep-colors", "brush"], "zoom": ["zoom-labels"], "video": ["flow"]}
    for kind, ids in shown_in.items():
        page.select_option("#kind", kind)
        for checkbox in ids:
            where = page.evaluate(BOX_AND_LABEL, checkbox)
            box, text = where["box"], where["text"]
            assert text["top"] < box["bottom"] and box["top"] < text["bottom"], (checkbox, where)  # one row
            assert 0 <= text["left"] - box["right"] <= 16, (checkbox, where)  # the label just right of the box
    assert not problems, problems


def test_percentages_and_numbers_stay_on_one_line(chromium, studio_url):
    context = chromium.new_context(viewport=LAPTOP)
    job = finished_job(context, studio_url, "dream", TINY)
    page, problems = open_studio(context, studio_url)
    page.set_input_files("#file", str(PHOTO))
    page.fill("#max-size", "96")
    page.fill("#octaves", "1")
    page.fill("#steps", "1")
    page.click("#dream")
    sync_api.expect(page.locator("#status")).to_contain_text("Done", timeout=TIMEOUT_MS)
    probabilities = page.locator(f'#gallery .job[data-id="{job["id"]}"] .labels .probability')
    sync_api.expect(probabilities).to_have_count(10)
    for viewport in (PHONE, LAPTOP):
        page.set_viewport_size(viewport)
        for element in [*probabilities.all(), page.locator("#progress-text")]:
            shown = element.text_content()
            assert shown.endswith("%"), shown
            assert element.evaluate(LINES) == 1, (viewport["width"], shown)
    assert not problems, problems


def test_the_zoom_chart_is_large_enough_to_read_and_opens_enlarged(chromium, studio_url):
    expect = sync_api.expect
    context = chromium.new_context(viewport=LAPTOP)
    params = {"model": "squeezenet1_1", "frames": 2, "frame_steps": 1, "octaves": 1, "steps": 1, "max_size": 96}
    job = finished_job(context, studio_url, "zoom", params)
    assert job["chart"], job
    page, problems = open_studio(context, studio_url)
    item = page.locator(f'#gallery .job[data-id="{job["id"]}"]')
    chart = item.locator("img.chart")
    chart.scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({IMAGE_LOADED})(document.querySelector('#gallery img.chart'))")
    laptop = chart.bounding_box()
    assert laptop["width"] >= 600, laptop

    # A click shows it enlarged; Escape closes it.
    chart.click()
    lightbox = page.locator("#lightbox")
    expect(lightbox).to_be_visible()
    page.wait_for_function(f"() => ({IMAGE_LOADED})(document.querySelector('#lightbox-image'))")
    enlarged = page.locator("#lightbox-image").bounding_box()
    assert enlarged["width"] >= 1.3 * laptop["width"], (enlarged, laptop)
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()

    # A phone: the chart takes the item's whole width.
    page.set_viewport_size(PHONE)
    chart.scroll_into_view_if_needed()
    phone, card = chart.bounding_box(), item.bounding_box()
    assert phone["width"] >= card["width"] - 30, (phone, card)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not problems, problems


def test_one_click_on_delete_deletes_nothing_and_can_be_undone(chromium, studio_url):
    expect = sync_api.expect
    context = chromium.new_context(viewport=LAPTOP)
    job = finished_job(context, studio_url, "dream", TINY)
    page, problems = open_studio(context, studio_url)
    deletes: list[tuple[float, str]] = []
    page.on("request", lambda r: deletes.append((time.monotonic(), r.url)) if r.method == "DELETE" else None)
    item = page.locator(f'#gallery .job[data-id="{job["id"]}"]')
    toast = page.locator("#toasts .toast")

    item.locator(".delete").click()
    expect(item).to_be_hidden()
    expect(toast).to_contain_text("Deleted")
    assert get_json(f"{studio_url}/api/jobs/{job['id']}")["state"] == "done"  # one click alone deletes nothing
    toast.get_by_role("button", name="Undo").click()
    expect(item).to_be_visible()
    expect(toast).to_have_count(0)

    # Deleted again and left alone: the DELETE goes once the undo's time is up, and only then.
    clicked = time.monotonic()
    item.locator(".delete").click()
    with page.expect_request(lambda request: request.method == "DELETE", timeout=15_000):
        pass
    expect(item).to_have_count(0)
    assert [url for _, url in deletes] == [f"{studio_url}/api/jobs/{job['id']}"]
    assert deletes[0][0] - clicked >= 4, deletes
    with pytest.raises(Exception, match="404"):
        get_json(f"{studio_url}/api/jobs/{job['id']}")
    assert not problems, problems


def test_cancel_stops_the_job_the_page_follows(chromium, studio_url):
    expect = sync_api.expect
    page, problems = open_studio(chromium.new_context(viewport=LAPTOP), studio_url)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.set_input_files("#file", str(PHOTO))
    page.fill("#octaves", "8")
    page.fill("#steps", "50")  # minutes of work: it is still running when Cancel is pressed
    page.click("#dream")
    expect(page.locator("#status")).to_have_text("Dreaming…", timeout=TIMEOUT_MS)
    page.click("#cancel")
    expect(page.locator("#status")).to_have_text("Cancelled.", timeout=TIMEOUT_MS)
    (job,) = get_json(f"{studio_url}/api/jobs")["jobs"]
    assert job["state"] == "cancelled", job
    assert posts == [f"{studio_url}/api/jobs", f"{studio_url}/api/jobs/{job['id']}/cancel"]
    expect(page.locator("#dream")).to_be_enabled()
    expect(page.locator(f'#gallery .job[data-id="{job["id"]}"] .badge')).to_have_text("cancelled")
    assert not problems, problems
