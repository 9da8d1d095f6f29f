"""Videos cut into segments: the same frames here and on a LocalCluster, resumes across both, a killed worker."""

import os
import signal

import numpy as np
import pytest
from cluster_helpers import worker_pids
from PIL import Image

from conftest import make_clip
from inceptionism.io.video import frames
from inceptionism.render.frames import RenderStopped
from inceptionism.render.video import video

pytestmark = pytest.mark.cluster
OPTIONS = {"layers": ["fire3"], "octaves": 1, "steps": 3, "step_size": 4.0, "jitter": 4, "seed": 3, "precision": "fp32"}
CUT = {"segments": 0.25, "overlap": 2}  # 6 frames a segment at 24 fps: 4 segments of a 24-frame clip


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "clip.mp4", count=24, size=(96, 64))


def kept_frames(output):
    folder = output.with_name(f"{output.name}.frames")
    return [np.asarray(Image.open(folder / f"{index:06d}.png")) for index in range(24)]


def test_the_same_frames_on_the_cluster_as_here(tmp_path, clip, cluster_client):
    here = video(clip, tmp_path / "here.mp4", threads=1, keep_frames=True, **CUT, **OPTIONS)
    there = video(clip, tmp_path / "there.mp4", cluster=cluster_client, threads=1, keep_frames=True, **CUT, **OPTIONS)
    assert here.frames == there.frames == 24 and here.params == there.params
    assert here.params["video"]["segments"] == 0.25 and here.params["video"]["overlap"] == 2
    for index, (one, other) in enumerate(zip(kept_frames(here.output), kept_frames(there.output), strict=True)):
        assert np.array_equal(one, other), f"frame {index}"
    decoded = [[frame.pixels.astype(int) for frame in frames(out)] for out in (here.output, there.output)]
    assert len(decoded[1]) == 24
    # The same dreamed frames; x264's macroblock-tree rate control encodes them differently now and
    # then (see io/video.py): these 96x64 frames of fine detail then differ by 0.3 to 1.1 levels on average.
    shown = [np.abs(a - b).mean() for a, b in zip(*decoded, strict=True)]
    assert np.mean(shown) < 2 and max(shown) < 3, shown
    assert not list((tmp_path / "there.mp4.frames").glob("*.a.png")) and not list(
        (tmp_path / "there.mp4.frames").glob("*.b.png")
    )  # every fade mixed


def test_segments_differ_from_one_chain_only_by_their_seams(tmp_path, clip):
    one = video(clip, tmp_path / "one.mp4", threads=1, keep_frames=True, **OPTIONS)
    cut = video(clip, tmp_path / "cut.mp4", threads=1, keep_frames=True, **CUT, **OPTIONS)
    one_frames, cut_frames = kept_frames(one.output), kept_frames(cut.output)
    assert all(np.array_equal(a, b) for a, b in zip(one_frames[:4], cut_frames[:4], strict=True))  # segment 1
    assert not np.array_equal(one_frames[4], cut_frames[4])  # the fade into segment 2


def test_stopped_on_the_cluster_resumed_here_and_the_other_way(tmp_path, clip, cluster_client):
    reference = kept_frames(video(clip, tmp_path / "ref.mp4", threads=1, keep_frames=True, **CUT, **OPTIONS).output)
    out = tmp_path / "out.mp4"
    with pytest.raises(RenderStopped):
        video(clip, out, cluster=cluster_client, threads=1, callback=lambda done: done.index >= 3, **CUT, **OPTIONS)
    kept = sorted(p.name for p in (tmp_path / "out.mp4.frames").glob("0*.png"))
    assert 4 <= len(kept) < 24 + 4
    resumed = []
    video(clip, out, threads=1, keep_frames=True, callback=lambda done: resumed.append(done.resumed), **OPTIONS)
    assert any(resumed) and not all(resumed)  # segments read back from the cluster's work (segments from its params)
    assert all(np.array_equal(a, b) for a, b in zip(reference, kept_frames(out), strict=True))

    back = tmp_path / "back.mp4"
    with pytest.raises(RenderStopped):
        video(clip, back, threads=1, callback=lambda done: done.index >= 9, **CUT, **OPTIONS)
    video(clip, back, cluster=cluster_client, threads=1, keep_frames=True, **OPTIONS)
    assert all(np.array_equal(a, b) for a, b in zip(reference, kept_frames(back), strict=True))


def test_a_killed_worker_mid_video_gives_the_same_frames(tmp_path, clip, cluster_client):
    reference = kept_frames(video(clip, tmp_path / "ref.mp4", threads=1, keep_frames=True, **CUT, **OPTIONS).output)
    before = worker_pids(cluster_client)
    killed = []

    def kill_one(done):
        if not killed:
            os.kill(before[1], signal.SIGKILL)
            killed.append(done.index)

    out = video(clip, tmp_path / "out.mp4", cluster=cluster_client, threads=1, keep_frames=True, callback=kill_one,
                **CUT, **OPTIONS)  # fmt: skip
    assert killed and out.frames == 24
    assert all(np.array_equal(a, b) for a, b in zip(reference, kept_frames(out.output), strict=True))


def test_a_cluster_needs_segments_and_the_overlap_must_fit(tmp_path, clip, cluster_client):
    from inceptionism.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=r"^on a cluster a video is cut into segments; give segments above"):
        video(clip, tmp_path / "a.mp4", cluster=cluster_client, segments=0, **OPTIONS)
    with pytest.raises(InvalidParameterError) as caught:
        video(clip, tmp_path / "a.mp4", segments=0.25, overlap=6, **OPTIONS)
    assert str(caught.value) == (
        "overlap 6 frames must be shorter than a segment (6 frames at 24 fps); give a smaller overlap or longer segments"
    )
    assert not (tmp_path / "a.mp4.frames").exists()
