"""The bias chart of a zoom: the input first, distinct colours, the legend beside the data, legible in the studio."""

from types import SimpleNamespace

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from inceptionism.classify import class_probabilities
from inceptionism.render.labels import CHART_DPI, LabelTrack
from inceptionism.render.zoom import zoom

FAST = {"layers": ["conv2"], "octaves": 1, "steps": 2, "step_size": 8.0, "jitter": 4, "precision": "fp32", "seed": 3}
STUDIO_WIDTH = 222  # CSS px the studio's gallery shows a chart at, 1280 px wide (its narrowest column)
LABELS = [f"label {index}" for index in range(40)]


def track_of(count: int, frames: int = 30) -> LabelTrack:
    """A track in which each of ``count`` classes leads somewhere: all of them are charted."""
    track = LabelTrack(SimpleNamespace(labels=LABELS))
    logits = torch.full((frames + 1, len(LABELS)), -9.0)
    logits[:, :count] = 0.0  # the others never reach the top 3
    for point in range(frames + 1):
        logits[point, point * count // (frames + 1)] = 6.0
    track.input, *track.probabilities = list(logits.softmax(1))
    return track


def test_the_chart_starts_from_the_input_before_any_dream(tmp_path, tiny_net, monkeypatch):
    source = tmp_path / "photo.png"
    Image.effect_noise((64, 48), 60).convert("RGB").save(source)
    charted = []
    monkeypatch.setattr(LabelTrack, "write_chart", lambda track, path, *, title: charted.append((track, title)))
    zoom(source, tmp_path / "z.gif", model=tiny_net, frames=3, **FAST)
    ((track, title),) = charted
    points, table = track.series()
    assert points == [0, 1, 2, 3] and table.shape == (4, len(tiny_net.labels))
    assert torch.allclose(table[0], class_probabilities(source, tiny_net))
    assert torch.allclose(table[1], track.probabilities[0])
    assert title == "what tiny sees, dream after dream (z.gif)"


def test_twenty_labels_have_twenty_colours_then_dashes():
    lines = track_of(20).chart(title="t").axes[0].get_lines()
    assert len(lines) == 20 and len({line.get_color() for line in lines}) == 20
    assert {line.get_linestyle() for line in lines} == {"-"}
    more = track_of(23).chart(title="t").axes[0].get_lines()
    assert [line.get_linestyle() for line in more].count("--") == 3
    assert [line.get_color() for line in more[20:]] == [line.get_color() for line in more[:3]]


@pytest.mark.parametrize("count", [3, 20, 23])
def test_the_legend_is_beside_the_axes_and_inside_the_figure(count):
    figure = track_of(count).chart(title="what squeezenet1_1 sees, dream after dream (holiday-zoom.mp4)")
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    axes = figure.axes[0]
    plotted, legend = axes.get_window_extent(renderer), axes.get_legend().get_window_extent(renderer)
    assert legend.x0 > plotted.x1 and not legend.overlaps(plotted)
    assert legend.x1 <= figure.bbox.x1 and legend.y0 >= 0 and legend.y1 <= figure.bbox.y1
    assert len(axes.get_legend().get_texts()) == count


def test_every_text_is_at_least_7_px_where_the_studio_shows_the_chart():
    figure = track_of(20).chart(title="what squeezenet1_1 sees, dream after dream (holiday-zoom.mp4)")
    shown = STUDIO_WIDTH / figure.bbox.width  # the studio scales the PNG to its column
    axes = figure.axes[0]
    texts = [figure._suptitle, axes.xaxis.label, *axes.get_legend().get_texts(), *axes.get_xticklabels()]
    sizes = [text.get_fontsize() * CHART_DPI / 72 * shown for text in texts]
    assert figure.bbox.width == 600 and min(sizes) >= 7.0
