"""Manual octave sizes (and dreaming larger than the photo), random scale and rotation for photos, snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import inceptionism
from conftest import DATA
from inceptionism.cli import cli
from inceptionism.engine.schedule import Schedule
from inceptionism.errors import InvalidParameterError
from inceptionism.io.images import read_metadata

PHOTO = DATA / "coffee.jpg"  # 600x400, scikit-image's coffee (tests/data/SOURCES.md)


def test_octave_sizes_set_each_octave_and_the_last_is_the_dreams_size(tiny_net):
    assert Schedule(octave_sizes=(100, 300, 600)).octave_shapes(400, 600) == [(67, 100), (200, 300), (400, 600)]
    seen = []
    result = inceptionism.dream(PHOTO, model=tiny_net, octave_sizes=(150, 900), steps=2, seed=0,
                                callback=lambda p: seen.append(tuple(p.pixels.shape[-2:])))  # fmt: skip
    assert result.image.size == (900, 600)  # larger than the 600x400 photo
    assert sorted(set(seen)) == [(100, 150), (600, 900)]
    assert result.params["octave_sizes"] == [150, 900] and result.params["octaves"] == 2


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("300,200", "octave_sizes must be 1..16 rising long sides in 8..8192 px like 256,512,1024, got '300,200'"),
        ("4,100", "octave_sizes must be 1..16 rising long sides in 8..8192 px like 256,512,1024, got '4,100'"),
    ],
)
def test_octave_sizes_are_checked(sizes, message):
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.DreamSettings(octave_sizes=sizes)
    assert str(info.value) == message


def test_octave_sizes_are_for_still_dreams(tiny_net, tmp_path):
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.zoom(PHOTO, tmp_path / "z.mp4", model=tiny_net, octave_sizes=(100, 200), frames=2)
    assert str(info.value).startswith("octave_sizes is for still dreams (dream, batch); a zoom")


def test_random_scale_and_rotation_change_a_photos_dream(tiny_net):
    options = {"octaves": 1, "steps": 4, "max_size": 96, "seed": 0}
    plain = inceptionism.dream(PHOTO, model=tiny_net, **options)
    again = inceptionism.dream(PHOTO, model=tiny_net, **options)
    moved = inceptionism.dream(PHOTO, model=tiny_net, random_scale=0.2, random_rotate=15, **options)
    moved_again = inceptionism.dream(PHOTO, model=tiny_net, random_scale=0.2, random_rotate=15, **options)
    pixels = [np.asarray(result.image, dtype=np.int16) for result in (plain, again, moved, moved_again)]
    assert np.array_equal(pixels[0], pixels[1]) and np.array_equal(pixels[2], pixels[3])  # seeded
    assert np.abs(pixels[0] - pixels[2]).mean() > 1.0
    assert moved.losses[-1] > moved.losses[0]
    with pytest.raises(InvalidParameterError) as info:
        inceptionism.dream(PHOTO, model=tiny_net, layers=["conv2:1@10,10"], random_rotate=5, **options)
    assert str(info.value) == ("the neuron 'conv2:1@10,10' has a place in the image; random_scale and "
                               "random_rotate would move it: use jitter only")  # fmt: skip


def test_snapshots_are_written_every_n_steps_and_octave(tmp_path):
    out = tmp_path / "s.png"
    ran = CliRunner().invoke(cli, ["dream", str(PHOTO), "-o", str(out), "--octaves", "2", "--steps", "6",
                                   "--max-size", "96", "--save-every", "4", "--save-octaves", "-q"])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["s.png", "s_octave1.png", "s_octave2.png", "s_step0004.png", "s_step0008.png", "s_step0012.png"]
    assert "wrote 5 intermediate images" in ran.output
    from PIL import Image

    assert Image.open(tmp_path / "s_octave1.png").size == (69, 46)  # the first octave's own size
    assert read_metadata(out)["layers"] == ["fire7"]


def test_a_snapshot_never_replaces_an_input(tmp_path):
    photo = tmp_path / "p_step0002.png"
    photo.write_bytes(PHOTO.read_bytes())
    ran = CliRunner().invoke(cli, ["dream", str(PHOTO), "-o", str(tmp_path / "p.png"), "--octaves", "1", "--steps",
                                   "2", "--guide", str(photo), "--save-every", "2", "-q"])  # fmt: skip
    assert ran.exit_code == 2
    assert photo.read_bytes() == PHOTO.read_bytes()
