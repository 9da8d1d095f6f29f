"""The infinite zoom: outputs, moving content, labels, resume and bad input (fast tier on the tiny network)."""

import csv
import itertools
import json

import av
import numpy as np
import pytest
import torch
from PIL import Image

from inceptionism.classify import class_probabilities
from inceptionism.engine import DreamSettings
from inceptionism.errors import InvalidParameterError, OutputError
from inceptionism.io.animation import read_video_metadata
from inceptionism.io.images import read_metadata
from inceptionism.render.frames import RenderStopped
from inceptionism.render.motion import move
from inceptionism.render.zoom import zoom

FAST = {"layers": ["conv2"], "octaves": 2, "octave_scale": 1.5, "steps": 2, "step_size": 8.0, "jitter": 4}
FAST.update(precision="fp32", device="cpu", max_size=None, seed=3, frame_steps=2)


def photo(tmp_path):
    generator = torch.Generator().manual_seed(2)
    pixels = (torch.rand(48, 64, 3, generator=generator) * 255).to(torch.uint8).numpy()
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    return path


def frames_of(directory):
    return [np.asarray(Image.open(directory / f"{i:06d}.png")) for i in range(len(list(directory.glob("0*.png"))))]


def test_move_is_smooth_and_keeps_the_size():
    frame = torch.arange(48 * 64, dtype=torch.float32).view(1, 1, 48, 64)
    assert torch.equal(move(frame), frame)
    half = move(frame, shift=(0.5, 0.0))[0, 0, 10, 10:20]  # half a pixel: between the neighbours
    assert torch.allclose(half, frame[0, 0, 10, 10:20] - 0.5)
    assert move(frame, zoom=1.05, rotate=3.0).shape == frame.shape


def test_zoom_to_png_frames_moves_and_records_everything(tmp_path, tiny_net):
    out = tmp_path / "frames"
    result = zoom(photo(tmp_path), out, model=tiny_net, frames=4, **FAST)
    frames = frames_of(out)
    assert (result.frames, len(frames), frames[0].shape) == (4, 4, (48, 64, 3))
    for before, after in itertools.pairwise(frames):
        assert np.abs(before.astype(int) - after).mean() > 2  # the content moves and dreams on
    params = json.loads((out / "params.json").read_text())
    assert params == result.params
    assert params["zoom"]["frames"] == 4 and params["dream"]["seed"] == 3 and params["dream"]["steps"] == 2
    assert DreamSettings.from_dict(params["dream"]).layers == ("conv2",)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "frames",
        "frames.labels.csv",
        "frames.labels.png",
        "photo.png",
    ]


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".webp"])
def test_zoom_animations_have_every_frame(tmp_path, tiny_net, suffix):
    out = tmp_path / f"zoom{suffix}"
    result = zoom(photo(tmp_path), out, model=tiny_net, frames=5, fps=12, labels=False, **FAST)
    assert result.frames == 5
    if suffix == ".mp4":
        with av.open(str(out)) as container:
            stream = container.streams.video[0]
            decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
            assert (stream.average_rate, stream.width, stream.height) == (12, 64, 48)
        assert read_video_metadata(out) == result.params
    else:
        with Image.open(out) as animation:
            assert animation.n_frames == 5
            decoded = []
            for index in range(5):
                animation.seek(index)
                decoded.append(np.asarray(animation.convert("RGB")))
        assert read_metadata(out) == result.params
    assert len(decoded) == 5
    assert np.abs(decoded[0].astype(int) - decoded[-1]).mean() > 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", f"zoom{suffix}"]


def test_odd_sizes_are_cropped_to_even_for_h264(tmp_path, tiny_net):
    path = tmp_path / "odd.png"
    Image.new("RGB", (49, 37), (90, 140, 200)).save(path)
    zoom(path, tmp_path / "odd.mp4", model=tiny_net, frames=2, labels=False, **{**FAST, "octaves": 1})
    with av.open(str(tmp_path / "odd.mp4")) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (48, 36)


def test_labels_are_what_classify_gives_for_each_frame(tmp_path, tiny_net):
    out = tmp_path / "frames"
    zoom(photo(tmp_path), out, model=tiny_net, frames=3, keep_frames=True, **FAST)
    with open(tmp_path / "frames.labels.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 5 and rows[0]["rank"] == "1"
    for frame in range(3):
        probabilities = class_probabilities(out / f"{frame:06d}.png", tiny_net)
        values, indices = probabilities.topk(5)
        mine = [row for row in rows if row["frame"] == str(frame)]
        assert [row["label"] for row in mine] == [tiny_net.labels[i] for i in indices.tolist()]
        assert [float(row["probability"]) for row in mine] == pytest.approx(values.tolist(), abs=1e-6)
    chart = Image.open(tmp_path / "frames.labels.png")
    assert chart.size == (600, 480)  # 4 x 3.2 inches at 150 dpi: few labels


def test_a_stopped_zoom_resumes_with_the_same_pixels(tmp_path, tiny_net):
    source = photo(tmp_path)
    whole = tmp_path / "whole"
    zoom(source, whole, model=tiny_net, frames=5, labels=False, **FAST)
    out = tmp_path / "resumed"
    dreamed = []

    def stop_after_two(done):
        if not done.resumed:
            dreamed.append(done.index)
        assert not out.exists()  # the output appears only at the end
        return done.index == 1

    with pytest.raises(RenderStopped) as info:
        zoom(source, out, model=tiny_net, frames=5, labels=False, callback=stop_after_two, **FAST)
    assert str(info.value) == "stopped after frame 2 of 5; run the same again to resume from there"
    work = tmp_path / "resumed.frames"
    assert sorted(p.name for p in work.iterdir()) == ["000000.png", "000001.png", "params.json"]
    zoom(source, out, model=tiny_net, frames=5, labels=False, callback=lambda done: dreamed.append(done.index), **FAST)
    assert dreamed == [0, 1, 0, 1, 2, 3, 4]  # after the stop: frames 0 and 1 found, 2..4 dreamed
    assert all(np.array_equal(a, b) for a, b in zip(frames_of(whole), frames_of(out), strict=True))
    assert not work.exists()  # removed after success


def test_resuming_with_other_parameters_is_refused_unless_restarting(tmp_path, tiny_net):
    source = photo(tmp_path)
    out = tmp_path / "z.gif"
    with pytest.raises(RenderStopped):
        zoom(source, out, model=tiny_net, frames=4, labels=False, callback=lambda done: True, **FAST)
    with pytest.raises(InvalidParameterError) as info:
        zoom(source, out, model=tiny_net, frames=4, labels=False, **{**FAST, "steps": 3})
    assert str(info.value) == (
        f"{tmp_path / 'z.gif.frames'} holds frames of a render with other parameters (dream); "
        "give the same ones to resume, or restart to discard those frames"
    )
    assert zoom(source, out, model=tiny_net, frames=4, labels=False, restart=True, **{**FAST, "steps": 3}).frames == 4


def test_an_unseeded_zoom_resumes_with_the_seed_it_drew(tmp_path, tiny_net):
    source = photo(tmp_path)
    unseeded = {key: value for key, value in FAST.items() if key != "seed"}
    with pytest.raises(RenderStopped):
        zoom(source, tmp_path / "z", model=tiny_net, frames=3, labels=False, callback=lambda done: True, **unseeded)
    seed = json.loads((tmp_path / "z.frames" / "params.json").read_text())["dream"]["seed"]
    assert (
        zoom(source, tmp_path / "z", model=tiny_net, frames=3, labels=False, **unseeded).params["dream"]["seed"] == seed
    )


def test_zoom_from_noise(tmp_path, tiny_net):
    result = zoom(None, tmp_path / "n", model=tiny_net, frames=3, noise="40x32", param="pixel", labels=False, **FAST)
    assert frames_of(tmp_path / "n")[0].shape == (32, 40, 3) and result.params["dream"]["noise"] == "40x32"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"zoom": 0}, InvalidParameterError, "zoom must be > 0.0, got 0"),
        ({"zoom": -1.05}, InvalidParameterError, "zoom must be > 0.0, got -1.05"),
        ({"frames": 0}, InvalidParameterError, "frames must be >= 1, got 0"),
        ({"fps": 0}, InvalidParameterError, "fps must be > 0.0, got 0"),
        ({"shift": "1;2"}, InvalidParameterError, "shift must be DX,DY in pixels like 2,-1.5, got '1;2'"),
        ({"output": "zoom.avi"}, OutputError, "unknown animation extension '.avi'"),
        ({"output": "missing/zoom.mp4"}, OutputError, "does not exist"),
    ],
)
def test_bad_zoom_input_fails_before_any_work(tmp_path, tiny_net, options, error, message):
    source = photo(tmp_path)
    output = tmp_path / options.pop("output", "zoom.mp4")
    with pytest.raises(error) as info:
        zoom(source, output, model=tiny_net, **{**FAST, **options})
    assert message in str(info.value) and "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]
