"""Animations written at a frame rate: a GIF's delays, in hundredths of a second, keep the rate on average."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from inceptionism.io.animation import frame_durations, write_animation


def frames_of(count):
    """``count`` distinct 16x8 frames (Pillow merges equal neighbours into one)."""
    return [Image.fromarray(np.full((8, 16, 3), 8 * index, np.uint8)) for index in range(count)]


def delays_of(path):
    delays = []
    with Image.open(path) as image:
        for frame in ImageSequence.Iterator(image):
            frame.load()  # WebP states a frame's duration once it is decoded
            delays.append(frame.info["duration"])
    return delays


@pytest.mark.parametrize(("fps", "count"), [(24, 24), (10, 10), (25, 25), (30, 30), (12, 24)])
def test_a_gif_keeps_the_frame_rate_on_average(tmp_path, fps, count):
    out = tmp_path / "zoom.gif"
    assert write_animation(frames_of(count), out, fps=fps) == count
    delays = delays_of(out)
    assert len(delays) == count and all(delay % 10 == 0 for delay in delays)
    assert np.mean(delays) == pytest.approx(1000 / fps, abs=1)
    assert sum(delays) == round(1000 * count / fps, -1)  # never drifts: the last frame ends on time


def test_24_fps_alternates_40_and_50_ms():
    assert frame_durations(24, 24, step=10) == [40, 40, 50, 40, 40, 40] * 4
    assert frame_durations(6, 30, step=10) == [30, 40, 30, 30, 40, 30]
    assert frame_durations(4, 24) == [42, 41, 42, 42]  # WebP counts in milliseconds


def test_a_webp_keeps_the_frame_rate_on_average(tmp_path):
    out = tmp_path / "zoom.webp"
    write_animation(frames_of(24), out, fps=24)
    assert sum(delays_of(out)) == 1000
