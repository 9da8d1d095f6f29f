"""Batches: every photo with every combination of the sweep, seeds per photo, the index, the sheet, resuming."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from conftest import DATA
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.images import read_metadata
from inceptionism.render.batch import batch
from inceptionism.render.frames import RenderStopped

FAST = {"octaves": 1, "steps": 2, "step_size": 8.0, "jitter": 2, "precision": "fp32", "max_size": 48}


@pytest.fixture
def photos(tmp_path, sample):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [folder / "cat.jpg", folder / "coffee.jpg", folder / "sub.jpg"]
    paths[0].write_bytes(sample.read_bytes())
    paths[1].write_bytes((DATA / "coffee.jpg").read_bytes())
    (folder / "other").mkdir()
    paths[2] = folder / "other" / "cat.jpg"  # the same stem as the first
    paths[2].write_bytes(sample.read_bytes())
    return paths


def test_every_photo_with_every_combination_and_an_index(tmp_path, photos, tiny_net):
    out = tmp_path / "out"
    result = batch(photos, out, model=tiny_net, sweep=["layer=conv1,conv3", "octaves=1,2"], seed=40,
                   sheet=tmp_path / "sheet.png", **{k: v for k, v in FAST.items() if k != "octaves"})  # fmt: skip
    assert (result.dreamed, result.reused, result.seed) == (12, 0, 40)
    names = [item.output.name for item in result.items]
    assert names[:4] == [
        "cat-layer=conv1-octaves=1.png",
        "cat-layer=conv1-octaves=2.png",
        "cat-layer=conv3-octaves=1.png",
        "cat-layer=conv3-octaves=2.png",
    ]
    assert names[4].startswith("coffee-") and names[8] == "cat-2-layer=conv1-octaves=1.png"
    index = json.loads((out / "index.json").read_text())
    assert index["seed"] == 40 and index["sweep"] == ["layer", "octaves"]
    rows = index["items"]
    assert [row["seed"] for row in rows] == [40] * 4 + [41] * 4 + [42] * 4  # per photo, never by completion
    assert (
        rows[2]["layer"] == "conv3" and rows[2]["params"]["layers"] == ["conv3"] and rows[2]["params"]["octaves"] == 1
    )
    with (out / "index.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["file", "input", "seed", "layer", "octaves"]
    assert table[5] == {"file": names[5], "input": "coffee.jpg", "seed": "41", "layer": "conv1", "octaves": "2"}
    recorded = read_metadata(out / names[5])
    assert (recorded["seed"], recorded["layers"], recorded["octaves"], recorded["input"]) == (
        41,
        ["conv1"],
        2,
        "coffee.jpg",
    )
    sheet = Image.open(tmp_path / "sheet.png")
    assert sheet.width > 4 * 256 and sheet.height > 3 * 256 and sheet.width < 5 * 256 and sheet.height < 4 * 300


def test_the_same_items_give_the_same_pixels_and_a_rerun_keeps_them(tmp_path, photos, tiny_net):
    first = batch(photos[:2], tmp_path / "a", model=tiny_net, seed=5, **FAST)
    again = batch(photos[:2], tmp_path / "b", model=tiny_net, seed=5, **FAST)
    for one, other in zip(first.items, again.items, strict=True):
        assert np.array_equal(np.asarray(Image.open(one.output)), np.asarray(Image.open(other.output)))
    assert [item.output.name for item in first.items] == ["cat-dream.png", "coffee-dream.png"]
    kept = first.items[0].output.stat().st_mtime_ns
    rerun = batch(photos[:2], tmp_path / "a", model=tiny_net, **FAST)  # no seed: the index's
    assert (rerun.dreamed, rerun.reused, rerun.seed) == (0, 2, 5)
    assert first.items[0].output.stat().st_mtime_ns == kept
    first.items[1].output.unlink()
    assert batch(photos[:2], tmp_path / "a", model=tiny_net, seed=5, **FAST).dreamed == 1
    assert batch(photos[:2], tmp_path / "a", model=tiny_net, seed=5, restart=True, **FAST).dreamed == 2


def test_other_settings_dream_again(tmp_path, photos, tiny_net):
    batch(photos[:1], tmp_path / "a", model=tiny_net, seed=5, **FAST)
    assert batch(photos[:1], tmp_path / "a", model=tiny_net, seed=5, **{**FAST, "steps": 3}).dreamed == 1


def test_a_stopped_batch_keeps_what_it_finished(tmp_path, photos, tiny_net):
    seen = []
    with pytest.raises(RenderStopped, match=r"^stopped after dream 1 of 3; run the same again to resume from there$"):
        batch(photos, tmp_path / "a", model=tiny_net, callback=lambda done: seen.append(done) or True, **FAST)
    assert len(seen) == 1 and len(list((tmp_path / "a").glob("*.png"))) == 1
    result = batch(photos, tmp_path / "a", model=tiny_net, **FAST)  # no seed given: the one drawn is kept
    assert (result.dreamed, result.reused) == (2, 1)
    assert json.loads((tmp_path / "a" / "index.json").read_text())["seed"] == result.seed


def test_names_that_would_collide_get_numbers(tmp_path, sample, tiny_net):
    folder = tmp_path / "in"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    paths = [folder / "a" / "x.png", folder / "b" / "x.png", folder / "x-2.png", folder / "my photo.png",
             folder / "my_photo.png", folder / "MY_PHOTO.png"]  # fmt: skip
    for path in paths:
        Image.open(sample).save(path)
    result = batch(paths, tmp_path / "out", model=tiny_net, seed=1, **FAST)
    assert [item.output.name for item in result.items] == [
        "x-dream.png",
        "x-2-dream.png",
        "x-2-2-dream.png",
        "my_photo-dream.png",
        "my_photo-2-dream.png",
        "MY_PHOTO-3-dream.png",
    ]
    assert len(list((tmp_path / "out").glob("*.png"))) == 6


def test_another_guide_or_mask_dreams_again(tmp_path, photos, tiny_net, sample):
    batch(photos[:1], tmp_path / "a", model=tiny_net, seed=5, layers=["conv2"], **FAST)
    again = batch(photos[:1], tmp_path / "a", model=tiny_net, seed=5, layers=["conv2"], mask=sample, **FAST)
    assert again.dreamed == 1
    assert batch(photos[:1], tmp_path / "a", model=tiny_net, seed=5, layers=["conv2"], mask=sample, **FAST).dreamed == 0


def test_the_sheet_is_checked_before_anything_is_dreamed(tmp_path, photos, tiny_net):
    with pytest.raises(OutputError, match=r"unknown image extension '\.txt'"):
        batch(photos, tmp_path / "a", model=tiny_net, sheet=tmp_path / "sheet.txt", **FAST)
    assert not (tmp_path / "a").exists()


def test_a_bad_photo_fails_with_its_own_line(tmp_path, photos, tiny_net):
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    with pytest.raises(ImageError) as caught:
        batch([photos[0], broken], tmp_path / "a", model=tiny_net, seed=5, **FAST)
    assert str(caught.value) == "broken.jpg is not an image Pillow can read"
    with pytest.raises(ImageError, match=r"^input not found: .*missing.jpg$"):
        batch([photos[0], tmp_path / "missing.jpg"], tmp_path / "b", model=tiny_net, **FAST)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sweep": ["octaves=0"]}, InvalidParameterError, "sweep octaves: octaves must be >= 1, got 0"),
        ({"noise": "32x32"}, InvalidParameterError, "a batch dreams photos; noise does not apply"),
    ],
)
def test_bad_options_fail_before_anything_is_dreamed(tmp_path, photos, tiny_net, kwargs, error, message):
    with pytest.raises(error) as caught:
        batch(photos, tmp_path / "a", model=tiny_net, **{**FAST, **kwargs})
    assert str(caught.value) == message
    assert not (tmp_path / "a").exists()


def test_no_photos_and_a_file_for_the_folder_are_refused(tmp_path, photos, tiny_net):
    with pytest.raises(InvalidParameterError, match=r"^give at least one photo to dream$"):
        batch([], tmp_path / "a", model=tiny_net)
    (tmp_path / "file").write_text("x")
    with pytest.raises(Exception, match="it is a file"):
        batch(photos, tmp_path / "file", model=tiny_net)


def test_threads_are_bounded_in_every_render_that_takes_them(tmp_path, tiny_net, coffee):
    from conftest import make_clip
    from inceptionism.render.atlas import atlas
    from inceptionism.render.video import video

    clip = make_clip(tmp_path / "clip.mp4", count=4, tone=False)
    renders = {
        "batch": lambda: batch([coffee], tmp_path / "out", model=tiny_net, threads=0, steps=1),
        "video": lambda: video(clip, tmp_path / "v.mp4", model=tiny_net, threads=0, steps=1),
        "atlas": lambda: atlas(tiny_net, "conv2", [0], threads=0, steps=1, size=32, cache_tiles=False),
    }
    for name, render in renders.items():
        with pytest.raises(InvalidParameterError) as caught:
            render()
        assert str(caught.value) == "threads must be >= 1, got 0", name
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mp4"]
