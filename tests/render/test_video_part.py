"""A part of a video (--start, --end): what its frame reports count."""

import pytest

from conftest import make_clip
from inceptionism.render.frames import RenderStopped
from inceptionism.render.video import video

FAST = {"layers": ["conv2"], "octaves": 1, "steps": 1, "jitter": 2, "precision": "fp32", "seed": 1, "max_size": 32}


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "clip.mp4", count=48, size=(48, 32), tone=False)  # 2 s at 24 fps


@pytest.mark.parametrize(("start", "end", "count"), [(0.5, 1.0, 12), (1.5, None, 12), (0.0, 0.25, 6), (0.0, None, 48)])
def test_frame_reports_count_the_frames_of_the_part(tmp_path, clip, tiny_net, start, end, count):
    reported = []
    result = video(clip, tmp_path / "part.mp4", model=tiny_net, start=start, end=end, callback=reported.append, **FAST)
    assert result.frames == count
    assert [(done.index, done.frames) for done in reported] == [(index, count) for index in range(count)]


def test_a_stopped_part_says_how_many_frames_the_part_has(tmp_path, clip, tiny_net):
    with pytest.raises(RenderStopped, match=r"^stopped after frame 7 of 12; run the same again to resume from there$"):
        video(clip, tmp_path / "part.mp4", model=tiny_net, start=0.5, end=1.0,
              callback=lambda done: done.index == 6, **FAST)  # fmt: skip


def test_a_part_cut_into_segments_counts_the_frames_of_the_part(tmp_path, clip, tiny_net):
    reported = []
    video(clip, tmp_path / "part.mp4", model=tiny_net, start=0.5, end=1.0, segments=0.25, overlap=2,
          callback=reported.append, **FAST)  # fmt: skip
    assert sorted(done.index for done in reported) == list(range(12))
    assert {done.frames for done in reported} == {12}
