"""The carried dream: held at the strength of a frame dreamed alone, afresh after a cut, measured again in a fade."""

import warnings

import numpy as np
import pytest
from PIL import Image

from conftest import DATA, make_clip
from inceptionism.engine import Dreamer, DreamSettings
from inceptionism.io.images import sample_path
from inceptionism.render import flowchain
from inceptionism.render.cuts import CutDetector
from inceptionism.render.flow import FlowWarp
from inceptionism.render.flowchain import FlowChain, carried_settings, held
from inceptionism.render.meter import strength
from inceptionism.render.video import video

SETTINGS = DreamSettings(layers=("conv2",), octaves=2, octave_scale=1.5, steps=5, step_size=4.0, jitter=2, seed=3)


def pan(count, size=(96, 64), *, photo=DATA / "coffee.jpg"):
    """``count`` frames of a photo panned 2 px a frame."""
    width, height = size
    pixels = np.asarray(Image.open(photo).convert("RGB").resize((width + 2 * count, height + 8)))
    return [np.ascontiguousarray(pixels[4 : 4 + height, 2 * i : 2 * i + width]) for i in range(count)]


def chain_of(net, *, blend=0.9, flow=True):
    alone = Dreamer(SETTINGS, model=net)
    return FlowChain((alone, Dreamer(carried_settings(SETTINGS), model=net)), blend=blend, flow=flow)


def dreamed_alone(net, picture):
    frame = Dreamer(SETTINGS, model=net)(flowchain._tensor(picture))
    return flowchain._pixels(frame)


def test_every_frame_is_held_at_the_strength_of_the_first(tiny_net):
    frames = pan(12)
    chain = chain_of(tiny_net)
    strengths = [strength(chain(picture).astype(np.float32) - picture) for picture in frames]
    assert strengths[0] == pytest.approx(chain.target)
    assert all(abs(s / strengths[0] - 1) < 0.02 for s in strengths[1:]), strengths


@pytest.mark.parametrize("blend", [0.0, 0.5, 1.0])
def test_any_blend_keeps_the_strength_the_less_carried_the_more_dreamed_anew(tiny_net, blend):
    chain = chain_of(tiny_net, blend=blend)
    strengths = [strength(chain(picture).astype(np.float32) - picture) for picture in pan(12)]
    assert all(abs(s / strengths[0] - 1) < 0.15 for s in strengths[1:]), strengths  # blend 0 kept 45% before


def test_a_cut_starts_a_fresh_chain_dreamed_alone(tiny_net):
    frames = pan(6) + pan(4, photo=sample_path())  # another shot: the sample photo (a cat)
    chain = chain_of(tiny_net)
    outputs = [chain(picture) for picture in frames]
    assert np.array_equal(outputs[6], dreamed_alone(tiny_net, frames[6]))
    assert not np.array_equal(outputs[5], dreamed_alone(tiny_net, frames[5]))  # inside a shot: carried


def test_a_fade_measures_the_target_again_and_a_resume_does_the_same(tiny_net):
    frames = [(picture * min(1.0, (i + 1) / 8)).astype(np.uint8) for i, picture in enumerate(pan(14))]
    chain, targets = chain_of(tiny_net), []
    outputs = []
    for picture in frames:
        outputs.append(chain(picture))
        targets.append(chain.target)
    measured = [i for i in range(1, len(frames)) if targets[i] != targets[i - 1]]
    assert measured and max(measured) <= 8  # measured again during the fade only
    assert targets[-1] > 1.2 * targets[0]  # a dream of the lit scene is stronger than one out of the dark
    for stop in (measured[-1] + 1, measured[-1] + 3):
        resumed = chain_of(tiny_net)
        for picture, done in zip(frames[:stop], outputs[:stop], strict=True):
            resumed.follow(picture, done)
        assert all(np.array_equal(resumed(p), o) for p, o in zip(frames[stop:], outputs[stop:], strict=True))


def test_without_flow_every_frame_is_dreamed_alone(tiny_net):
    frames = pan(3)
    chain = chain_of(tiny_net, flow=False)
    assert all(np.array_equal(chain(p), dreamed_alone(tiny_net, p)) for p in frames)


def test_held_scales_the_dream_toward_the_target_within_limits():
    picture = np.full((4, 4, 3), 100, np.uint8)
    frame, detail = held(picture, picture + 10, 8.0)
    assert np.all(frame == 108) and np.all(detail == 8)
    frame, _ = held(picture, picture + 10, 100.0)  # at most 1.5x
    assert np.all(frame == 115)
    frame, _ = held(picture, picture + 30, 1.0)  # at least 0.67x
    assert np.all(frame == 120)
    frame, _ = held(picture, picture, 5.0)  # nothing dreamed: nothing to scale
    assert np.all(frame == 100)


def test_a_cut_is_where_the_flow_fails_or_the_histogram_jumps():
    frames = pan(3)
    warper, cuts = FlowWarp(), CutDetector()
    found = [cuts(p, warper.step(p)) for p in frames]
    assert found == [True, False, False]
    other = pan(1, photo=sample_path())[0]
    assert cuts(other, warper.step(other))  # the flow is valid almost nowhere
    dark = (other // 4).astype(np.uint8)  # the same picture, darker: the flow holds, the histogram jumps
    motion = warper.step(dark)
    assert motion.valid_share > 0.25 and cuts(dark, motion)


def test_a_video_raises_no_warning(tmp_path, tiny_net):  # its frames, scaled, are read-only arrays
    clip = make_clip(tmp_path / "clip.mp4", count=4, tone=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        video(clip, tmp_path / "out.mp4", model=tiny_net, layers=["conv2"], octaves=1, steps=1, seed=1, max_size=80)
