"""Segments: where the cuts fall, the fades, and a seam that does not flicker more than the frames around it."""

import numpy as np
import pytest
from PIL import Image

from conftest import make_clip
from inceptionism.io.video import frames
from inceptionism.render.flow import FlowWarp, warp
from inceptionism.render.framestore import FrameStore
from inceptionism.render.segments import SeamStore, SegmentPlan, encode_frame
from inceptionism.render.video import video


def test_cuts_follow_the_frame_rate():
    cut = SegmentPlan.of(4.0, 8, 24)
    assert (cut.length, cut.overlap) == (96, 8)
    assert [index for index in range(300) if cut.starts_segment(index)] == [0, 96, 192, 288]
    assert SegmentPlan.of(0, 8, 24).length is None
    assert [round(cut.weight(index), 3) for index in (88, 92, 95)] == [0.111, 0.556, 0.889]


def test_a_segment_too_heavy_for_one_task_is_refused(tmp_path, monkeypatch, tiny_net):
    from inceptionism.errors import InvalidParameterError
    from inceptionism.render import segments

    monkeypatch.setattr(segments, "SEGMENT_BYTES_LIMIT", 50_000)  # a few 96x64 frames
    clip = make_clip(tmp_path / "clip.mp4", count=24, size=(96, 64))
    with pytest.raises(InvalidParameterError) as caught:
        video(clip, tmp_path / "out.mp4", model=tiny_net, segments=1.0, overlap=2, octaves=1, steps=1)
    assert str(caught.value).startswith("a segment of ")
    assert str(caught.value).endswith("MB as PNG, more than the 0 MB one task may carry; "
                                      "give shorter segments (or a smaller max_size)")  # fmt: skip


def solid(value):
    return encode_frame(np.full((4, 6, 3), value, np.uint8))


def test_fades_mix_both_segments_in_any_order_and_survive_a_stop(tmp_path):
    cut = SegmentPlan(length=6, overlap=2)
    store = FrameStore(tmp_path / "work", {"render": 1})
    seams = SeamStore(store, cut)
    later = seams.roles(4, 6, 12, has_next=False)  # the second segment comes back first
    assert [side for _, side in later] == ["b", "b", "", "", "", "", "", ""]
    assert seams.keep(later, [solid(90)] * 8) == [6, 7, 8, 9, 10, 11]
    earlier = seams.roles(0, 0, 6, has_next=True)
    assert [side for _, side in earlier] == ["", "", "", "", "a", "a"]
    assert not seams.finished(earlier) and seams.finished(later)
    # Stopped after the first half of frame 5 is written, before its mix: both halves wait on disk.
    assert seams.keep(earlier[:5], [solid(0)] * 5) == [0, 1, 2, 3, 4]
    with (store.directory / "000005.a.png").open("wb") as handle:
        handle.write(solid(0))
    again = SeamStore(store, cut)  # the next run mixes what waits
    assert store.path(5).is_file() and not list(store.directory.glob("*.[ab].png"))
    assert again.finished(earlier)
    mixed = [int(np.asarray(store.load(index))[0, 0, 0]) for index in (4, 5)]
    assert mixed == [30, 60]  # 1/3 then 2/3 of the later segment (90): the fade


def pair_flicker(dreamed, inputs):
    """For each frame after the first: its mean difference from the previous dream moved by the input's flow."""
    warper, values = FlowWarp(), [0.0]
    for index, picture in enumerate(inputs):
        moved = warper.step(picture)
        if moved is not None:
            valid = moved.valid > 0
            values.append(float(np.abs(dreamed[index] - warp(dreamed[index - 1], moved))[valid].mean()))
    return values


@pytest.mark.real
def test_the_flicker_across_a_seam_is_at_most_1_5x_that_inside_a_segment(tmp_path):
    clip = make_clip(tmp_path / "pan.mp4", count=72, size=(192, 112), tone=False)
    inputs = [frame.pixels for frame in frames(clip)]
    options = {"octaves": 2, "steps": 5, "seed": 0, "segments": 1.0, "threads": 2}
    ratios = {}
    for overlap in (8, 0):
        out = video(clip, tmp_path / f"o{overlap}.mp4", overlap=overlap, keep_frames=True, **options)
        folder = out.output.with_name(f"{out.output.name}.frames")
        dreamed = [np.asarray(Image.open(folder / f"{i:06d}.png")).astype(np.float32) for i in range(72)]
        flicker = pair_flicker(dreamed, inputs)
        seams = [i for i in range(1, 72) if any(b - overlap <= i <= b for b in (24, 48))]
        inside = [i for i in range(1, 72) if i not in seams]
        ratios[overlap] = np.mean([flicker[i] for i in seams]) / np.mean([flicker[i] for i in inside])
        if overlap:
            worst = max(flicker[i] for i in seams) / np.mean([flicker[i] for i in inside])
    # Measured: 0.94 (the worst pair of a fade 1.09) with an overlap of 8; 3.9 cut without one.
    print(
        f"seam flicker / inside: {ratios[8]:.2f} (worst pair {worst:.2f}) faded over 8 frames, {ratios[0]:.2f} without"
    )
    assert ratios[8] <= 1.5 and worst <= 1.5
    assert ratios[0] > 2  # the measure sees a seam that is not faded
