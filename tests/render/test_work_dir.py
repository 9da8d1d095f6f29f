"""The work directory of a video or a zoom: made with the first frame, so a failed run never blocks the next."""

import os

import pytest
from PIL import Image

from conftest import make_clip
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.render.video import video
from inceptionism.render.zoom import zoom

FAST = {"layers": ["conv2"], "octaves": 1, "steps": 2, "step_size": 8.0, "jitter": 2, "precision": "fp32", "seed": 1}


def test_a_video_that_fails_before_its_first_frame_leaves_nothing_and_the_corrected_run_goes(tmp_path, tiny_net):
    clip = make_clip(tmp_path / "clip.mp4", count=4, tone=False)
    out = tmp_path / "out.mp4"
    with pytest.raises(ImageError, match=r"^image is 4x3 px, too small for tiny: it needs at least 8x8 px$"):
        video(clip, out, model=tiny_net, max_size=4, **FAST)  # found when the first frame is dreamed
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]
    assert video(clip, out, model=tiny_net, **FAST).frames == 4  # no restart needed
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4", "out.mp4"]


def test_a_zoom_that_fails_before_its_first_frame_leaves_nothing_and_the_corrected_run_goes(tmp_path, tiny_net):
    small = tmp_path / "small.png"
    Image.new("RGB", (6, 4), (200, 90, 40)).save(small)
    out = tmp_path / "z.gif"
    with pytest.raises(ImageError, match=r"^image is 6x4 px, too small for tiny: it needs at least 8x8 px$"):
        zoom(small, out, model=tiny_net, frames=2, labels=False, **FAST)
    assert sorted(os.listdir(tmp_path)) == ["small.png"]
    Image.new("RGB", (48, 32), (200, 90, 40)).save(small)
    assert zoom(small, out, model=tiny_net, frames=2, labels=False, **FAST).frames == 2
    assert sorted(os.listdir(tmp_path)) == ["small.png", "z.gif"]


def test_a_work_directory_that_cannot_be_made_is_refused_before_any_dream(tmp_path, tiny_net):
    clip = make_clip(tmp_path / "clip.mp4", count=4, tone=False)
    work = tmp_path / "missing" / "work"
    dreamed = []
    with pytest.raises(OutputError, match=rf"^cannot create the work directory {work}: No such file or directory$"):
        video(clip, tmp_path / "out.mp4", model=tiny_net, work_dir=work, callback=dreamed.append, **FAST)
    assert dreamed == [] and sorted(os.listdir(tmp_path)) == ["clip.mp4"]


def test_a_work_directory_that_is_a_file_is_refused_with_restart_too(tmp_path, tiny_net):
    clip = make_clip(tmp_path / "clip.mp4", count=4, tone=False)
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(OutputError, match=rf"^cannot use {notes} as a work directory: it is a file$"):
        video(clip, tmp_path / "out.mp4", model=tiny_net, work_dir=notes, restart=True, **FAST)
    assert notes.read_text() == "mine"


def test_restart_never_removes_a_folder_that_is_not_a_work_directory(tmp_path, tiny_net):
    from inceptionism.render.framestore import FrameStore

    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(InvalidParameterError) as caught:
        FrameStore(folder, {"render": 1}, restart=True)
    assert str(caught.value) == (
        f"{folder} is not a work directory of inceptionism (no readable params.json); "
        "remove it or give another work directory"
    )
    assert (folder / "thesis.docx").read_bytes() == b"years of work"
    empty = tmp_path / "empty"
    empty.mkdir()
    FrameStore(empty, {"render": 1}, restart=True)  # an empty folder may be used
