"""Browser tier: the atlas panel of the studio page in a real Chromium, on the real app and SqueezeNet 1.1.

Show the atlas of a layer (POST /api/atlas: a job draws its tiles, and they fill in; the page's
GETs only look), press tiles to choose the channels to dream (the layer spec reads
``fire2.squeeze1x1:3,5`` and the dream's params say so), and order the tiles by what the
network sees in a photo. With ``INCEPTIONISM_SCREENSHOTS=1`` a
screenshot of a larger atlas goes to ``docs/images/studio-atlas.png``.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("fastapi", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
pytest.importorskip("uvicorn", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from browser import PHOTO, ROOT, TIMEOUT_MS, get_json, watched_page  # noqa: E402

pytestmark = pytest.mark.browser

LAYER = "fire2.squeeze1x1"  # 16 channels: the smallest layer of squeezenet1_1, quick to draw

TILES_LOADED = """count => {
    const tiles = [...document.querySelectorAll('#atlas .atlas-tile')];
    return tiles.length === count && tiles.every(tile => {
        const img = tile.querySelector('img');
        return img && img.complete && img.naturalWidth > 0 && !tile.classList.contains('pending');
    });
}"""

SEEN_WHILE_DRAWING = """() => {
    // Whether placeholder tiles and the progress bar were ever shown (the job takes a second or two).
    window.seenWhileDrawing = {pending: false, progress: false};
    new MutationObserver(() => {
        const seen = window.seenWhileDrawing;
        seen.pending ||= document.querySelector('#atlas .atlas-tile.pending') !== null;
        seen.progress ||= !document.querySelector('#atlas-progress-row').hidden;
    }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def tile_channels(page) -> list[int]:
    return page.eval_on_selector_all("#atlas .atlas-tile", "tiles => tiles.map(t => Number(t.dataset.channel))")


def pressed_channels(page) -> list[int]:
    return page.eval_on_selector_all(
        '#atlas .atlas-tile[aria-pressed="true"]', "tiles => tiles.map(t => Number(t.dataset.channel))"
    )


def spec_channels(channels: list[int]) -> str:
    """Channels as the page writes them in the layer spec: sorted, runs of three or more as ranges."""
    parts: list[str] = []
    run: list[int] = []
    for channel in [*sorted(set(channels)), None]:
        if run and channel == run[-1] + 1:
            run.append(channel)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) >= 3 else ",".join(map(str, run)))
        run = [] if channel is None else [channel]
    return ",".join(parts)


def show_atlas(page, layer: str, channels: str, size: int, steps: int, count: int) -> None:
    """Choose ``layer``, fill the atlas fields, press Show atlas and wait for ``count`` drawn tiles."""
    page.select_option("#layer", layer)
    page.fill("#atlas-channels", channels)
    page.fill("#atlas-size", str(size))
    page.fill("#atlas-steps", str(steps))
    page.click("#atlas-show")
    page.wait_for_function(TILES_LOADED, arg=count, timeout=TIMEOUT_MS)


def test_atlas_tiles_choose_the_channels_and_rank_by_the_photo(chromium, studio_url, tmp_path):
    expect = sync_api.expect
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page, problems = watched_page(context)

    asked: list[tuple[str, str, str | None]] = []  # the page's requests of /api/atlas: method, URL, body

    def note(request) -> None:
        if urlsplit(request.url).path == "/api/atlas":
            asked.append((request.method, request.url, request.post_data))

    page.on("request", note)
    page.goto(f"{studio_url}/")
    expect(page.locator("#status")).to_contain_text("Ready", timeout=TIMEOUT_MS)
    page.select_option("#model", "squeezenet1_1")
    expect(page.locator(f"#layer option[value='{LAYER}']")).to_have_count(1)
    expect(page.locator("#atlas-channels")).to_have_value("0-15")
    expect(page.locator("#atlas-size")).to_have_value("64")
    expect(page.locator("#atlas-steps")).to_have_value("48")
    expect(page.locator("#atlas-rank")).to_be_disabled()  # no photo yet

    # The atlas: placeholders first (nothing is cached), a job draws them, the tiles fill in.
    page.select_option("#layer", LAYER)
    page.fill("#atlas-channels", "0-7")
    page.fill("#atlas-size", "48")
    page.fill("#atlas-steps", "8")
    page.evaluate(SEEN_WHILE_DRAWING)
    page.click("#atlas-show")
    expect(page.locator("#atlas .atlas-tile")).to_have_count(8)
    page.wait_for_function(TILES_LOADED, arg=8, timeout=TIMEOUT_MS)
    seen = page.evaluate("window.seenWhileDrawing")
    assert seen == {"pending": True, "progress": True}, seen
    expect(page.locator("#atlas-progress-row")).to_be_hidden()
    expect(page.locator("#atlas-status")).to_contain_text(f"8 tiles of {LAYER}")
    assert tile_channels(page) == list(range(8))
    tile = page.locator('#atlas .atlas-tile[data-channel="3"]')
    expect(tile).to_have_attribute("aria-label", f"{LAYER} channel 3")
    expect(tile.locator("img")).to_have_attribute("alt", f"{LAYER} channel 3")
    natural = page.eval_on_selector('#atlas .atlas-tile[data-channel="3"] img', "img => img.naturalWidth")
    assert natural == 48
    query = f"model=squeezenet1_1&layer={LAYER}&channels=0-7&size=48&steps=8"
    answer = get_json(f"{studio_url}/api/atlas?{query}")
    assert answer["state"] == "done" and all(t["url"] for t in answer["tiles"]), answer
    atlas_jobs = [job for job in get_json(f"{studio_url}/api/jobs")["jobs"] if job["kind"] == "atlas"]
    assert len(atlas_jobs) == 1 and atlas_jobs[0]["state"] == "done", atlas_jobs
    # Show atlas draws with one POST of the fields; the page's GETs (the tiles so far) only look.
    posts = [json.loads(body) for method, _, body in asked if method == "POST"]
    assert posts == [{"layer": LAYER, "model": "squeezenet1_1", "channels": "0-7", "size": 48, "steps": 8}], asked
    looks = [parse_qs(urlsplit(url).query) for method, url, _ in asked if method == "GET"]
    assert looks and all(set(look) == {"model", "layer", "channels", "size", "steps"} for look in looks), looks

    # Press tiles 3 and 5 (a click, then the keyboard): the channels field and the spec follow.
    page.click('#atlas .atlas-tile[data-channel="3"]')
    five = page.locator('#atlas .atlas-tile[data-channel="5"]')
    five.focus()
    page.keyboard.press("Enter")
    expect(five).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(five).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#channels")).to_have_value("3")
    five.click()
    expect(page.locator("#channels")).to_have_value("3,5")
    expect(page.locator("#layer-spec")).to_have_text(f"{LAYER}:3,5")
    assert pressed_channels(page) == [3, 5]
    # Typing in the channels field presses the tiles too.
    page.fill("#channels", "2-4")
    assert pressed_channels(page) == [2, 3, 4]
    page.fill("#channels", "3,5")
    assert pressed_channels(page) == [3, 5]

    # The photo: "What it sees in your photo" orders the tiles by the server's ranking.
    page.set_input_files("#file", str(PHOTO))
    expect(page.locator("#file-name")).to_contain_text("coffee.jpg")
    expect(page.locator("#atlas-rank")).to_be_enabled()
    page.click("#atlas-rank")
    expect(page.locator("#atlas-status")).to_contain_text("Strongest in your photo")
    ranking = context.request.post(
        f"{studio_url}/api/atlas/ranking",
        multipart={
            "layer": LAYER,
            "model": "squeezenet1_1",
            "image": {"name": PHOTO.name, "mimeType": "image/jpeg", "buffer": PHOTO.read_bytes()},
        },
    )
    assert ranking.ok, ranking.text()
    ranked = [item["channel"] for item in ranking.json() if item["channel"] < 8]
    assert sorted(ranked) == list(range(8))
    assert tile_channels(page) == ranked
    activations = page.eval_on_selector_all(
        "#atlas .atlas-tile .tile-activation", "spans => spans.map(s => s.textContent)"
    )
    assert all(text.startswith("activation in your photo") and text[-1].isdigit() for text in activations), activations
    assert sorted(pressed_channels(page)) == [3, 5]  # the order changed, the choice did not
    expect(page.locator("#layer-spec")).to_have_text(f"{LAYER}:3,5")

    # Dream with those channels: the job's params name them.
    page.fill("#octaves", "1")
    page.fill("#steps", "2")
    page.fill("#max-size", "96")
    expect(page.locator("#octaves-value")).to_have_text("1")
    known = [job["id"] for job in get_json(f"{studio_url}/api/jobs")["jobs"]]
    page.click("#dream")
    page.wait_for_function(
        """known => [...document.querySelectorAll('#gallery .job[data-state="done"]')]
                .some(item => !known.includes(item.dataset.id)
                              && item.querySelector('.job-media img')
                              && item.querySelector('.job-media img').complete
                              && item.querySelector('.job-media img').naturalWidth > 0)""",
        arg=known,
        timeout=TIMEOUT_MS,
    )
    expect(page.locator("#status")).to_contain_text("Done")
    newest = get_json(f"{studio_url}/api/jobs")["jobs"][0]
    assert newest["id"] not in known and newest["kind"] == "dream" and newest["state"] == "done", newest
    assert newest["params"]["layers"] == [f"{LAYER}:3,5"], newest["params"]
    assert newest["params"]["octaves"] == 1 and newest["params"]["steps"] == 2

    # "Use these settings" on the atlas job in the gallery fills the atlas fields and shows it again.
    page.fill("#atlas-channels", "0-3")
    page.fill("#atlas-size", "64")
    atlas_item = page.locator(f'#gallery .job[data-id="{atlas_jobs[0]["id"]}"]')
    expect(atlas_item.locator(".job-title")).to_contain_text(f"atlas {atlas_jobs[0]['id'][:8]} · {LAYER}:0-7")
    atlas_item.locator(".use").click()
    expect(page.locator("#atlas-channels")).to_have_value("0-7")
    expect(page.locator("#atlas-size")).to_have_value("48")
    expect(page.locator("#atlas-steps")).to_have_value("8")
    expect(page.locator("#atlas-status")).to_contain_text("(drawn before)")
    page.wait_for_function(TILES_LOADED, arg=8, timeout=TIMEOUT_MS)
    assert tile_channels(page) == list(range(8))
    assert sorted(pressed_channels(page)) == [3, 5]
    expect(page.locator("#kind")).to_have_value("dream")

    # A phone: the panel fits, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#atlas").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    box = page.locator('#atlas .atlas-tile[data-channel="3"]').bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.set_viewport_size({"width": 1280, "height": 800})

    if os.environ.get("INCEPTIONISM_SCREENSHOTS") == "1":
        # A larger atlas for the docs: fire5's first 16 channels, ranked for the photo, three chosen.
        page.fill("#channels", "")
        show_atlas(page, "fire5", "0-15", 64, 48, 16)
        page.click("#atlas-rank")
        expect(page.locator("#atlas-status")).to_contain_text("Strongest in your photo")
        top = tile_channels(page)[:3]
        for channel in top:
            page.click(f'#atlas .atlas-tile[data-channel="{channel}"]')
        expect(page.locator("#layer-spec")).to_have_text(f"fire5:{spec_channels(top)}")
        folder = ROOT / "docs" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1240})
        page.evaluate("document.querySelector('.objective').scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -12)")
        page.mouse.move(0, 0)
        page.screenshot(path=str(folder / "studio-atlas.png"))

    context.close()
    assert not problems, problems
