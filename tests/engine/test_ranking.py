"""Channels ranked on the photo: fire7:strong:8 and fire7:weak:8 in a layer spec."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import inceptionism
from conftest import DATA
from inceptionism.cli import cli
from inceptionism.engine.ranking import ranked_layers
from inceptionism.errors import InvalidParameterError
from inceptionism.io.images import load_image, to_tensor
from inceptionism.render.atlas import rank_channels

PHOTO = DATA / "coffee.jpg"  # scikit-image's coffee (tests/data/SOURCES.md)
SMALL = {"octaves": 1, "steps": 2, "max_size": 96, "seed": 0}


def test_strong_and_weak_pick_the_ends_of_the_ranking(tiny_net):
    ranking = [channel for channel, _ in rank_channels(tiny_net, "conv2", PHOTO, range(16))]
    pixels = to_tensor(load_image(PHOTO).image)
    strong, weak = ranked_layers(["conv2:strong:4=2~mean", "conv3:weak:3"], tiny_net, pixels)
    assert strong == f"conv2:{','.join(map(str, ranking[:4]))}=2~mean"
    weakest = [c for c, _ in rank_channels(tiny_net, "conv3", PHOTO, range(16))][::-1][:3]
    assert weak == f"conv3:{','.join(map(str, weakest))}"


def test_a_dream_records_the_channels_it_ranked(tiny_net):
    result = inceptionism.dream(PHOTO, model=tiny_net, layers=["conv2:strong:4"], **SMALL)
    source = to_tensor(result.source.image)
    assert result.params["layers"] == list(ranked_layers(["conv2:strong:4"], tiny_net, source))
    again = inceptionism.dream(PHOTO, model=tiny_net, settings=result.settings)
    assert again.params["layers"] == result.params["layers"]


def test_ranked_channels_are_checked_before_dreaming(tiny_net):
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.dream(PHOTO, model=tiny_net, layers=["conv2:strong:17"], **SMALL)
    assert str(info.value) == "'conv2:strong:17' asks for 17 channels but conv2 of tiny has 16"
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.dream(model=tiny_net, noise="48x48", layers=["conv2:weak:2"], **SMALL)
    assert str(info.value) == "strong:N and weak:N rank channels on the input photo; noise has none"
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.dream(PHOTO, model=tiny_net, layers=["conv2:strong:0"], **SMALL)
    assert str(info.value) == "bad channels in layer spec 'conv2:strong:0': strong:N takes N in 1..65536, got 0"


@pytest.mark.real
def test_strong_8_picks_what_the_atlas_ranks_first(tmp_path, squeezenet):
    """The dream's fire5:strong:8 and atlas --photo --top 8 pick the same channels, in the same order."""
    out = tmp_path / "dream.png"
    runner = CliRunner()
    ran = runner.invoke(cli, ["dream", str(PHOTO), "--layer", "fire5:strong:8", "--octaves", "1", "--steps", "1",
                              "-o", str(out), "-q"])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    sheet = tmp_path / "atlas.png"
    listed = runner.invoke(cli, ["atlas", "--layer", "fire5", "--photo", str(PHOTO), "--top", "8", "--size", "48",
                                 "--steps", "2", "-o", str(sheet), "-q"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    atlas_channels = [line.split()[0].split(":")[1] for line in listed.output.splitlines()[1:9]]
    recorded = inceptionism.io.images.read_metadata(out)["layers"]
    assert recorded == [f"fire5:{','.join(atlas_channels)}"]
