"""Dreamed video: timing, sound, parts, resume, bad input (tiny network); flicker and drift (SqueezeNet)."""

import av
import numpy as np
import pytest
from PIL import Image

from conftest import make_clip
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.animation import read_video_metadata
from inceptionism.io.video import probe
from inceptionism.render.frames import RenderStopped
from inceptionism.render.video import video

FAST = {"layers": ["conv2"], "octaves": 1, "steps": 2, "step_size": 8.0, "jitter": 2, "precision": "fp32", "seed": 1}


def streams_of(path):
    with av.open(str(path)) as container:
        video_stream = container.streams.video[0]
        pictures = [(frame.time, frame.to_ndarray(format="rgb24")) for frame in container.decode(video_stream)]
        rate = video_stream.average_rate
    with av.open(str(path)) as container:
        sound = sum(frame.samples for frame in container.decode(audio=0)) / 44100 if container.streams.audio else 0.0
    return pictures, rate, sound


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "clip.mp4")


def test_every_frame_is_dreamed_with_its_timing_and_sound(tmp_path, clip, tiny_net):
    out = tmp_path / "dream.mp4"
    result = video(clip, out, model=tiny_net, **FAST)
    pictures, rate, sound = streams_of(out)
    source, source_rate, source_sound = streams_of(clip)
    assert (result.frames, len(pictures), rate) == (24, 24, source_rate)
    assert [time for time, _ in pictures] == pytest.approx([time for time, _ in source], abs=1e-3)
    assert sound == pytest.approx(source_sound, abs=0.03) and sound > 0.9
    assert np.abs(pictures[5][1].astype(int) - source[5][1]).mean() > 3  # dreamed
    assert read_video_metadata(out) == result.params
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "dream.mp4"]


def test_a_part_with_start_and_end(tmp_path, clip, tiny_net):
    out = tmp_path / "part.mp4"
    assert video(clip, out, model=tiny_net, start=0.25, end=0.75, **FAST).frames == 12
    pictures, _, sound = streams_of(out)
    assert len(pictures) == 12 and pictures[0][0] == pytest.approx(0.0, abs=1e-3)
    assert sound == pytest.approx(0.5, abs=0.05)


def test_variable_frame_rate_timestamps_are_kept(tmp_path, tiny_net):
    times = [0, 40, 100, 130, 210, 250, 330, 340, 420, 500]
    clip = make_clip(tmp_path / "vfr.mp4", count=10, tone=False, times=times)
    video(clip, tmp_path / "out.mp4", model=tiny_net, **FAST)
    pictures, _, _ = streams_of(tmp_path / "out.mp4")
    assert [round(time * 1000) for time, _ in pictures] == times


def test_the_rotation_is_kept(tmp_path, tiny_net):
    clip = make_clip(tmp_path / "turned.mp4", count=4, tone=False, rotation=90)
    assert probe(clip).rotation == 90
    video(clip, tmp_path / "out.mp4", model=tiny_net, **FAST)
    with av.open(str(tmp_path / "out.mp4")) as container:
        first = next(container.decode(video=0))
        assert (first.rotation, first.width, first.height) == (90, 96, 64)


def test_a_stopped_video_resumes_with_the_same_pixels(tmp_path, clip, tiny_net):
    whole = tmp_path / "whole.mp4"
    video(clip, whole, model=tiny_net, keep_frames=True, **FAST)
    out = tmp_path / "resumed.mp4"
    dreamed = []

    def stop_at_five(done):
        assert not out.exists()  # the output appears only at the end
        if not done.resumed:
            dreamed.append(done.index)
        return done.index == 4

    with pytest.raises(RenderStopped, match=r"^stopped after frame 5 of 24; run the same again"):
        video(clip, out, model=tiny_net, callback=stop_at_five, **FAST)
    video(clip, out, model=tiny_net, keep_frames=True, callback=lambda done: dreamed.append(done.index), **FAST)
    assert dreamed[:5] == [0, 1, 2, 3, 4] and dreamed[5:10] == [0, 1, 2, 3, 4] and dreamed[-1] == 23
    for index in range(24):
        name = f"{index:06d}.png"
        first = np.asarray(Image.open(tmp_path / "whole.mp4.frames" / name))
        assert np.array_equal(first, np.asarray(Image.open(tmp_path / "resumed.mp4.frames" / name))), index


def test_other_parameters_are_refused_on_resume(tmp_path, clip, tiny_net):
    out = tmp_path / "out.mp4"
    with pytest.raises(RenderStopped):
        video(clip, out, model=tiny_net, callback=lambda done: True, **FAST)
    with pytest.raises(InvalidParameterError, match=r"holds frames of a render with other parameters \(video\)"):
        video(clip, out, model=tiny_net, blend=0.2, **FAST)
    assert video(clip, out, model=tiny_net, blend=0.2, restart=True, **FAST).frames == 24


def test_bad_video_input(tmp_path, clip, tiny_net):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    one = make_clip(tmp_path / "one.mp4", count=1, tone=False)
    broken = make_clip(tmp_path / "broken.mp4", count=8, tone=False)
    data = bytearray(broken.read_bytes())
    where = data.find(b"mdat") + 8  # the coded frames, overwritten with noise: nothing decodes
    data[where : where + 4000] = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    broken.write_bytes(bytes(data))
    unknown = tmp_path / "unknown.avi"  # an MPEG-4 stream whose codec tag no decoder claims
    with av.open(str(unknown), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for index in range(4):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((64, 96, 3), 60 * index, np.uint8))))
        container.mux(stream.encode())
    unknown.write_bytes(unknown.read_bytes().replace(b"FMP4", b"QZQZ"))
    sound_only = tmp_path / "tone.m4a"
    with av.open(str(clip)) as source, av.open(str(sound_only), "w", format="mp4") as target:
        stream = target.add_stream_from_template(source.streams.audio[0])
        for packet in source.demux(source.streams.audio[0]):
            if packet.size:
                packet.stream = stream
                target.mux(packet)
    cases = [
        ((text, "o.mp4"), {}, ImageError, f"{text} is not a video FFmpeg can read"),
        ((sound_only, "o.mp4"), {}, ImageError, f"{sound_only} has no video stream"),
        ((broken, "o.mp4"), {}, ImageError, f"{broken} is not a video FFmpeg can read"),
        ((unknown, "o.mp4"), {}, ImageError, f"cannot decode the video of {unknown}: this FFmpeg has no decoder"),
        ((one, "o.mp4"), {}, ImageError, f"{one} has 1 frame; a video needs at least 2"),
        ((clip, "o.avi"), {}, OutputError, "a dreamed video is written as .mp4"),
        ((clip, "o.mp4"), {"start": 5.0}, InvalidParameterError, "start 5 s is beyond the end of the video (1.0"),
        ((clip, "o.mp4"), {"start": 0.5, "end": 0.2}, InvalidParameterError, "end 0.2 s must be after start 0.5 s"),
        ((clip, "missing/o.mp4"), {}, OutputError, "does not exist"),
        ((tmp_path / "nothing.mp4", "o.mp4"), {}, ImageError, "input not found"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for (source, target), options, error, message in cases:
        with pytest.raises(error) as info:
            video(source, tmp_path / target, model=tiny_net, **{**FAST, **options})
        assert message in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_noise_is_refused_naming_where_it_came_from(tmp_path, clip, tiny_net):
    for options, message in (
        (
            {"preset": "fractal-noise"},
            "a video dreams its own frames; preset fractal-noise starts from noise; give another preset",
        ),
        ({"noise": (64, 64)}, "a video dreams its own frames; noise does not apply"),
    ):
        with pytest.raises(InvalidParameterError) as info:
            video(clip, tmp_path / "o.mp4", model=tiny_net, **{**FAST, **options})
        assert str(info.value) == message
