"""Dreamed video from every container FFmpeg writes that people film in: frames, timestamps and sound kept.

MKV and WebM store timestamps in milliseconds; the MP4 written raises such a time base (to
1/16000), which once made the encoding fail after about 80 frames. So the clips are 100 frames.
"""

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from conftest import DATA
from inceptionism.io.video import COPIED_AUDIO
from inceptionism.render.video import video

FAST = {"layers": ["conv2"], "octaves": 1, "steps": 1, "step_size": 8.0, "jitter": 2, "precision": "fp32", "seed": 1}
FRAMES = 100
SIZE = (64, 48)
AUDIO_RATES = {"libopus": 48000}  # Opus encodes at 48 kHz only
AUDIO_OPTIONS = {"vorbis": {"strict": "experimental"}}  # FFmpeg's own Vorbis encoder


def container_clip(path, video_codec, audio_codec=None):
    """100 frames of the coffee photo panned 1 px a frame at 24 fps, with a 440 Hz tone in ``audio_codec``."""
    width, height = SIZE
    photo = np.asarray(Image.open(DATA / "coffee.jpg").convert("RGB").resize((width + FRAMES, height)))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(video_codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = None
        if audio_codec is not None:
            rate = AUDIO_RATES.get(audio_codec, 44100)
            sound = container.add_stream(audio_codec, rate=rate, options=AUDIO_OPTIONS.get(audio_codec, {}))
            sound.layout = "stereo"  # the Vorbis encoder takes nothing else
        for index in range(FRAMES):
            pixels = np.ascontiguousarray(photo[:, index : index + width])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
        if sound is not None:
            write_tone(container, sound, seconds=FRAMES / 24)
    return path


def write_tone(container, sound, *, seconds):
    rate = sound.rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(round(rate * seconds)) / rate)).astype(np.float32)
    converter = av.AudioResampler(format=sound.format.name, layout="stereo", rate=rate)
    for start in range(0, len(tone), 960):  # 960 samples: what Opus takes; the others take any
        chunk = av.AudioFrame.from_ndarray(np.repeat(tone[None, start : start + 960], 2, 0), "fltp", "stereo")
        chunk.sample_rate = rate
        for frame in converter.resample(chunk):
            frame.pts, frame.time_base = start, Fraction(1, rate)
            container.mux(sound.encode(frame))
    container.mux(sound.encode())


def times_of(path):
    """The time of every video frame from the first one, in ms."""
    with av.open(str(path)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    return [round((time - times[0]) * 1000) for time in times]


def sound_of(path):
    """The codec and the seconds of the first audio stream, or ``(None, 0.0)``."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None, 0.0
        name = container.streams.audio[0].codec_context.name
        return name, sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0))


CLIPS = [
    ("mp4", "libx264", "aac"),
    ("mp4", "libx264", None),
    ("mov", "libx264", "pcm_s16le"),
    ("mov", "libx264", None),
    ("avi", "mpeg4", "libmp3lame"),
    ("avi", "mpeg4", None),
    ("mkv", "libx264", "flac"),
    ("mkv", "libx264", None),
    ("webm", "libvpx", "vorbis"),
    ("webm", "libvpx-vp9", "libopus"),
    ("webm", "libvpx", None),
]


@pytest.mark.parametrize(("suffix", "video_codec", "audio_codec"), CLIPS)
def test_every_container_keeps_its_frames_timestamps_and_sound(tmp_path, tiny_net, suffix, video_codec, audio_codec):
    clip = container_clip(tmp_path / f"clip.{suffix}", video_codec, audio_codec)
    out = tmp_path / "dream.mp4"
    assert video(clip, out, model=tiny_net, **FAST).frames == FRAMES
    times = times_of(out)
    assert len(times) == FRAMES
    assert times == pytest.approx(times_of(clip), abs=1)
    codec, seconds = sound_of(out)
    source_codec, source_seconds = sound_of(clip)
    if audio_codec is None:
        assert (codec, seconds) == (None, 0.0)
        return
    assert codec == (source_codec if source_codec in COPIED_AUDIO else "aac")
    assert seconds == pytest.approx(source_seconds, abs=0.05) and seconds > 4.1
