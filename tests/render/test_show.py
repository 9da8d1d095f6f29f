"""Results shown in Jupyter: the image or the animation embedded, with the settings that made it."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

import inceptionism
from conftest import make_clip
from inceptionism.render import show
from inceptionism.render.atlas import AtlasResult, AtlasTile
from inceptionism.render.video import VideoResult
from inceptionism.render.zoom import ZoomResult
from inceptionism.training.fit import EpochRecord
from inceptionism.training.train import TrainResult


def embedded(html: str, media: str) -> bytes:
    """The bytes of the one data URL of type ``media`` in ``html``."""
    (data,) = re.findall(rf'src="data:{re.escape(media)};base64,([^"]+)"', html)
    return base64.b64decode(data)


def test_a_dream_shows_its_image_and_its_settings(tiny_net, noise_image):
    result = inceptionism.dream(noise_image, model=tiny_net, layers=["conv2"], octaves=1, steps=2, seed=3)
    shown = np.asarray(Image.open(io.BytesIO(result._repr_png_())))
    assert np.array_equal(shown, np.asarray(result.image))
    page = result._repr_html_()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(embedded(page, "image/png")))), np.asarray(result.image))
    caption = re.search(r"<figcaption[^>]*>(.*)</figcaption>", page)[1]
    assert (
        caption == "model tiny · layers conv2 · loss mean-square · octaves 1 · octave_scale 1.4 · steps 2 · "
        "step_size 1.5 · jitter 32 · seed 3 · size 64 48"
    )


def test_a_zoom_and_a_video_play_embedded(tmp_path):
    clip = make_clip(tmp_path / "zoom.mp4", count=4)
    for result in (ZoomResult(clip, {"model": "tiny", "seed": 1}, frames=4), VideoResult(clip, {"seed": 2}, 4)):
        page = result._repr_html_()
        assert embedded(page, "video/mp4") == clip.read_bytes()
        assert "<video" in page and " loop " in page
        assert f"seed {result.params['seed']} · frames 4" in page


def test_an_animation_over_the_limit_is_named_not_embedded(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "long.mp4", count=4)
    monkeypatch.setattr(show, "EMBED_LIMIT", clip.stat().st_size - 1)
    page = ZoomResult(clip, {"seed": 1}, frames=4)._repr_html_()
    assert "base64" not in page and f"<code>{clip}</code>" in page


def test_an_atlas_shows_its_contact_sheet():
    tiles = [AtlasTile(channel, Image.new("RGB", (32, 32), (channel * 40, 90, 200)), 1.0) for channel in range(3)]
    result = AtlasResult("tiny", "conv1", tiles, {}, rendered=3)
    shown = Image.open(io.BytesIO(result._repr_png_()))
    assert shown.size == result.sheet().size
    assert np.array_equal(np.asarray(shown), np.asarray(result.sheet()))


def test_a_training_run_shows_its_chart_and_last_figures(tmp_path):
    chart = tmp_path / "mine.metrics.png"
    Image.new("RGB", (90, 36), (255, 255, 255)).save(chart)
    record = EpochRecord(3, 0.1, 0.95, 0.2, 0.875, [1.0, 0.75], 60.0)
    result = TrainResult(Path("mine.pt"), [record], ("cats", "dogs"), tmp_path / "mine.metrics.csv", chart)
    page = result._repr_html_()
    assert embedded(page, "image/png") == chart.read_bytes()
    assert "mine.pt · 2 classes: cats, dogs · 3 epochs · validation accuracy 87.5%" in page
