"""The neuron atlas: tiles, the tile cache, determinism, batches, bad input, the sheet, photo ranking, progress.

The fast tier draws on the tiny random network (32 px tiles, a few steps); the real tier draws
sheets of 16 channels of the embedded SqueezeNet with the default settings and checks that each
tile excites its own channel more than the other tiles of the sheet do.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import DATA, make_tiny_net
from inceptionism import Cancelled
from inceptionism.engine.pixels import resize
from inceptionism.engine.ranking import channel_means
from inceptionism.engine.runtime import resolve_device, resolve_precision
from inceptionism.errors import ImageError, InceptionismError, InvalidParameterError, UnknownNameError
from inceptionism.io.images import load_image, read_metadata, to_tensor
from inceptionism.models import shared_model
from inceptionism.objectives import parse_channels
from inceptionism.render import atlas as atlas_module
from inceptionism.render.atlas import (
    ATLAS_OPTIONS,
    AtlasProgress,
    atlas,
    check_channels,
    plan_atlas,
    rank_channels,
)
from inceptionism.render.sheet import BACKGROUND, GAP
from inceptionism.render.tilecache import TileCache, tile_name

SMALL = {"size": 32, "steps": 4}
"""Tiles of the fast tier: 32 px (the tiny net's smallest), 4 steps."""
PHOTO = DATA / "coffee.jpg"
DEVICE = resolve_device("auto")
RUNS_ON = {"precision": resolve_precision("auto", DEVICE), "device": DEVICE.type}
"""Where and how "auto" runs on this machine (bf16 on a CPU)."""


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(np.int16)


def tile_pixels(result) -> list[np.ndarray]:
    return [pixels(tile.image) for tile in result.tiles]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two pictures are: 1 for the same, about 0 for unrelated noise."""
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.fixture
def draws(monkeypatch) -> list[list[int]]:
    """The batches ``_draw`` is asked to optimise in this test (the module's own ``_draw``, counted)."""
    calls: list[list[int]] = []
    draw = atlas_module._draw

    def counted(fast, net, layer, group, *args, **kwargs):
        calls.append(list(group))
        return draw(fast, net, layer, group, *args, **kwargs)

    monkeypatch.setattr(atlas_module, "_draw", counted)
    return calls


def atlas_folder(cache_home: Path) -> Path:
    return cache_home / "inceptionism" / "atlas"


def cached_tiles(cache_home: Path) -> list[str]:
    """``key/file`` of every tile in the user's atlas cache."""
    folder = atlas_folder(cache_home)
    return sorted(str(path.relative_to(folder)) for path in folder.glob("*/*")) if folder.is_dir() else []


# ---------------------------------------------------------------------------------------------
# What atlas() returns


def test_atlas_draws_one_tile_per_channel_in_the_order_asked(tiny_net, draws):
    result = atlas(tiny_net, "conv2", [5, 1, 9, 1], batch=2, **SMALL)
    assert (result.model, result.layer, result.rendered, result.ranking) == ("tiny", "conv2", 3, None)
    assert [tile.channel for tile in result.tiles] == [5, 1, 9]  # repeats dropped, order kept
    assert draws == [[5, 1], [9]]  # batches of 2
    assert all(tile.image.size == (32, 32) and tile.image.mode == "RGB" for tile in result.tiles)
    assert result.params == {
        "model": "tiny",
        "layer": "conv2",
        "size": 32,
        "steps": 4,
        "lr": 0.05,
        "seed": 0,
        "decay": 1.5,
        **RUNS_ON,
        "channels": [5, 1, 9],
    }


def test_each_tile_records_its_channels_activation_on_the_tile(tiny_net):
    result = atlas(tiny_net, "conv1", None, size=32, steps=8, cache_tiles=False)
    assert [tile.channel for tile in result.tiles] == list(range(8))  # no channels: all of them
    images = torch.cat([to_tensor(tile.image) for tile in result.tiles])
    measured = channel_means(tiny_net, "conv1", images)
    assert measured.shape == (8, 8)
    for item, tile in enumerate(result.tiles):
        assert tile.activation == pytest.approx(float(measured[item, tile.channel]), rel=1e-5, abs=1e-7)
    assert max(tile.activation for tile in result.tiles) > 0.1  # the live channels were excited


def test_tiles_of_the_tiny_net_excite_their_own_channel(tiny_net):
    """Each tile is optimised for its own channel (on this random net 8 of 16; for one objective of all: 1)."""
    result = atlas(tiny_net, "conv2", None, size=32, steps=16, cache_tiles=False)
    images = torch.cat([to_tensor(tile.image) for tile in result.tiles])
    activations = channel_means(tiny_net, "conv2", images)  # (tile, channel)
    own = int((activations.T.argmax(1) == torch.arange(16)).sum())
    assert own >= 5
    diagonal = activations.diagonal()
    assert float(diagonal.mean()) > 1.5 * float(activations.mean())


def test_default_layer_and_channel_text(tiny_net):
    result = atlas(tiny_net, channels="0-1,3", **SMALL)
    assert (result.layer, [tile.channel for tile in result.tiles]) == (tiny_net.default_layer, [0, 1, 3])


def test_channel_activations_are_the_spatial_means_of_the_layer(tiny_net):
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3)) * 255
    means = channel_means(tiny_net, "conv2", images)
    with torch.no_grad(), tiny_net.tap(["conv2"]) as extract:
        expected = extract(images)["conv2"].mean((2, 3))
    assert means.shape == (2, 16)
    assert torch.allclose(means, expected)


# ---------------------------------------------------------------------------------------------
# The tile cache


def test_a_second_sheet_of_the_same_channels_draws_nothing(tiny_net, draws, own_cache_dir):
    first = atlas(tiny_net, "conv1", "0-3", **SMALL)
    assert (first.rendered, draws) == (4, [[0, 1, 2, 3]])
    keys = {name.split("/")[0] for name in cached_tiles(own_cache_dir)}
    assert len(keys) == 1
    (key,) = keys
    assert cached_tiles(own_cache_dir) == [f"{key}/conv1_c{c}.png" for c in range(4)]

    draws.clear()
    again = atlas(tiny_net, "conv1", "0-3", **SMALL)
    assert (again.rendered, draws) == (0, [])
    assert [tile.channel for tile in again.tiles] == [0, 1, 2, 3]
    for before, after in zip(first.tiles, again.tiles, strict=True):
        assert np.array_equal(pixels(before.image), pixels(after.image))
        assert after.activation == before.activation


def test_the_cache_holds_each_tile_with_its_activation(tiny_net, own_cache_dir):
    result = atlas(tiny_net, "conv1", [2, 6], **SMALL)
    folder = atlas_folder(own_cache_dir)
    (key_folder,) = folder.iterdir()
    assert sorted(p.name for p in key_folder.iterdir()) == ["conv1_c2.png", "conv1_c6.png"]
    for tile in result.tiles:
        path = key_folder / f"conv1_c{tile.channel}.png"
        assert read_metadata(path) == {"layer": "conv1", "channel": tile.channel, "activation": tile.activation}
        assert np.array_equal(pixels(load_image(path).image), pixels(tile.image))
    plan = plan_atlas(tiny_net, "conv1", [2, 6, 7], **SMALL)
    assert plan.store.folder == key_folder
    assert plan.cached() == {tile.channel: tile.activation for tile in result.tiles}


def test_a_sheet_sharing_channels_draws_only_the_new_ones(tiny_net, draws):
    first = atlas(tiny_net, "conv2", "0-3", **SMALL)
    draws.clear()
    second = atlas(tiny_net, "conv2", "2-5", **SMALL)
    assert (second.rendered, draws) == (2, [[4, 5]])
    assert [tile.channel for tile in second.tiles] == [2, 3, 4, 5]
    for shared in (0, 1):
        assert np.array_equal(pixels(second.tiles[shared].image), pixels(first.tiles[shared + 2].image))


def test_without_the_cache_every_tile_is_drawn_and_none_kept(tiny_net, draws, own_cache_dir):
    atlas(tiny_net, "conv1", "0-3", **SMALL)
    draws.clear()
    result = atlas(tiny_net, "conv1", "0-3", cache_tiles=False, **SMALL)
    assert (result.rendered, draws) == (4, [[0, 1, 2, 3]])
    fresh = atlas(tiny_net, "conv1", "4-5", cache_tiles=False, **SMALL)
    assert fresh.rendered == 2
    assert not any(name.endswith(("_c4.png", "_c5.png")) for name in cached_tiles(own_cache_dir))


@pytest.mark.parametrize(
    "changed",
    [{"seed": 1}, {"size": 40}, {"steps": 5}, {"lr": 0.1}],
    ids=["seed", "size", "steps", "lr"],
)
def test_other_settings_are_another_cache(tiny_net, draws, own_cache_dir, changed):
    atlas(tiny_net, "conv1", "0-1", **SMALL)
    draws.clear()
    result = atlas(tiny_net, "conv1", "0-1", **{**SMALL, **changed})
    assert (result.rendered, draws) == (2, [[0, 1]])
    assert len(list(atlas_folder(own_cache_dir).iterdir())) == 2
    assert atlas(tiny_net, "conv1", "0-1", **{**SMALL, **changed}).rendered == 0


def test_other_weights_and_another_layer_are_another_cache(tiny_net, draws, own_cache_dir):
    atlas(tiny_net, "conv2", "0-1", **SMALL)
    other = make_tiny_net(seed=1)
    assert atlas(other, "conv2", "0-1", **SMALL).rendered == 2
    assert atlas(tiny_net, "conv3", "0-1", **SMALL).rendered == 2
    assert len(list(atlas_folder(own_cache_dir).iterdir())) == 3
    assert atlas(make_tiny_net(seed=1), "conv2", "0-1", **SMALL).rendered == 0  # same weights, same cache


def test_the_batch_size_is_not_part_of_the_cache(tiny_net, draws):
    atlas(tiny_net, "conv1", "0-3", batch=4, **SMALL)
    assert atlas(tiny_net, "conv1", "0-3", batch=1, **SMALL).rendered == 0


def test_cache_dir_puts_the_tiles_elsewhere(tiny_net, tmp_path, own_cache_dir):
    result = atlas(tiny_net, "conv1", [3], cache_dir=tmp_path / "tiles", **SMALL)
    assert result.rendered == 1
    assert [p.name for p in (tmp_path / "tiles").glob("*/*")] == ["conv1_c3.png"]
    assert cached_tiles(own_cache_dir) == []
    assert atlas(tiny_net, "conv1", [3], cache_dir=tmp_path / "tiles", **SMALL).rendered == 0


def test_a_cached_file_without_an_activation_is_drawn_again(tiny_net, draws):
    plan = plan_atlas(tiny_net, "conv1", [0], **SMALL)
    plan.store.folder.mkdir(parents=True)
    atlas(tiny_net, "conv1", [1], cache_tiles=False, **SMALL).tiles[0].image.save(plan.store.path(0))  # no metadata
    draws.clear()
    assert atlas(tiny_net, "conv1", [0], **SMALL).rendered == 1
    assert draws == [[0]]
    assert "activation" in read_metadata(plan.store.path(0))


def test_a_damaged_cached_tile_is_drawn_again(tiny_net):
    plan = plan_atlas(tiny_net, "conv1", [0], **SMALL)
    plan.store.folder.mkdir(parents=True)
    plan.store.path(0).write_bytes(b"not a png")
    assert atlas(tiny_net, "conv1", [0], **SMALL).rendered == 1


def test_tile_names():
    assert tile_name("fire7", 12) == "fire7_c12.png"
    assert tile_name("inception4c/branch1", 3) == "inception4c_branch1_c3.png"
    assert tile_name("fire2.squeeze1x1", 0) == "fire2.squeeze1x1_c0.png"


def test_tile_cache_keys_on_everything_a_tile_depends_on(tiny_net, tmp_path):
    settings = {"size": 32, "steps": 4}
    folder = TileCache(tiny_net, "conv1", settings, root=tmp_path).folder
    assert folder.parent == tmp_path
    assert TileCache(tiny_net, "conv1", dict(settings), root=tmp_path).folder == folder
    others = [
        TileCache(tiny_net, "conv2", settings, root=tmp_path),
        TileCache(tiny_net, "conv1", {**settings, "steps": 5}, root=tmp_path),
        TileCache(make_tiny_net(seed=2), "conv1", settings, root=tmp_path),
    ]
    assert len({cache.folder for cache in others} | {folder}) == 4


# ---------------------------------------------------------------------------------------------
# Determinism, and a tile is the same in any batch


def test_the_same_seed_draws_the_same_tiles(tiny_net):
    first = atlas(tiny_net, "conv2", "0-3", cache_tiles=False, seed=3, **SMALL)
    second = atlas(tiny_net, "conv2", "0-3", cache_tiles=False, seed=3, **SMALL)
    other = atlas(tiny_net, "conv2", "0-3", cache_tiles=False, seed=4, **SMALL)
    for a, b, c in zip(tile_pixels(first), tile_pixels(second), tile_pixels(other), strict=True):
        assert np.array_equal(a, b)
        assert correlation(a, c) < 0.5  # another starting noise
    assert [t.activation for t in first.tiles] == [t.activation for t in second.tiles]


def test_tiles_of_different_channels_differ(tiny_net):
    result = atlas(tiny_net, "conv1", "0-3", cache_tiles=False, size=32, steps=1)
    images = tile_pixels(result)
    for i in range(4):
        for j in range(i + 1, 4):
            assert correlation(images[i], images[j]) < 0.5


def test_a_batched_tile_is_as_strong_as_the_tile_drawn_alone(tiny_net):
    settings = {"size": 32, "steps": 16, "cache_tiles": False}
    batched = atlas(tiny_net, "conv1", [0, 1, 2, 3], batch=4, **settings)
    alone = atlas(tiny_net, "conv1", [2], **settings)
    together, by_itself = batched.tiles[2], alone.tiles[0]
    assert together.channel == by_itself.channel == 2
    assert by_itself.activation > 0.1
    assert together.activation == pytest.approx(by_itself.activation, rel=0.2)
    # the same picture, up to the batch's rounding (another seed's tile: a correlation near 0)
    assert correlation(pixels(together.image), pixels(by_itself.image)) > 0.95


def test_one_batch_or_one_channel_at_a_time_gives_the_same_tiles(tiny_net):
    settings = {"size": 32, "steps": 16, "cache_tiles": False}
    together = atlas(tiny_net, "conv1", "0-7", batch=8, **settings)
    apart = atlas(tiny_net, "conv1", "0-7", batch=1, **settings)
    for a, b in zip(together.tiles, apart.tiles, strict=True):
        assert a.activation == pytest.approx(b.activation, rel=0.2, abs=0.01), a.channel
        assert correlation(pixels(a.image), pixels(b.image)) > 0.95, a.channel


# ---------------------------------------------------------------------------------------------
# Bad input: one-line messages, nothing drawn


BAD_INPUT = [
    (
        {"layer": "conv9"},
        UnknownNameError,
        "unknown layer 'conv9' in tiny; did you mean conv1, conv2, conv3? "
        "(list them with: inceptionism layers --model tiny)",
    ),
    (
        {"channels": [99]},
        InvalidParameterError,
        "channel 99 does not exist in conv1 of tiny: it has channels 0..7",
    ),
    (
        {"channels": "0-99"},
        InvalidParameterError,
        "channel 8 does not exist in conv1 of tiny: it has channels 0..7",
    ),
    (
        {"channels": [-1]},
        InvalidParameterError,
        "channel -1 does not exist in conv1 of tiny: it has channels 0..7",
    ),
    (
        {"channels": [True]},
        InvalidParameterError,
        "channel True does not exist in conv1 of tiny: it has channels 0..7",
    ),
    (
        {"channels": "x"},
        InvalidParameterError,
        "channels must be numbers and ranges like 0-63 or 3,12,40, got 'x'",
    ),
    (
        {"channels": "1,,2"},
        InvalidParameterError,
        "channels must be numbers and ranges like 0-63 or 3,12,40, got '1,,2'",
    ),
    ({"channels": "5-2"}, InvalidParameterError, "channel range 5-2 runs backwards"),
    (
        {"channels": "0-99999"},
        InvalidParameterError,
        "channels must be in 0..65535, at most 65536 of them, got '0-99999'",
    ),
    ({"size": 31}, InvalidParameterError, "size must be >= 32, got 31"),
    ({"size": 513}, InvalidParameterError, "size must be in 32..512, got 513"),
    ({"steps": 0}, InvalidParameterError, "steps must be >= 1, got 0"),
    ({"batch": 0}, InvalidParameterError, "batch must be >= 1, got 0"),
    ({"top": 0}, InvalidParameterError, "top must be >= 1, got 0"),
    (
        {"octaves": 2},
        InvalidParameterError,
        "atlas() got an unknown option 'octaves'; it takes size, steps, batch, lr, seed, top",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    BAD_INPUT,
    ids=[",".join(f"{key}={value}" for key, value in case[0].items()) for case in BAD_INPUT],
)
def test_bad_input_is_refused_in_one_line_before_drawing(tiny_net, draws, own_cache_dir, arguments, error, message):
    given = {"layer": "conv1", **SMALL, **arguments}
    with pytest.raises(error) as info:
        plan_atlas(tiny_net, **given)
    assert str(info.value) == message
    with pytest.raises(error) as info:
        atlas(tiny_net, **given)
    assert str(info.value) == message and "\n" not in message
    assert draws == [] and cached_tiles(own_cache_dir) == []


def test_a_size_too_small_for_the_network(draws):
    shapes = shared_model("squeezenet1_1", weights=None)  # its layers and sizes, random weights: no download
    for size in (32, 33):
        with pytest.raises(ImageError) as info:
            atlas(shapes, "fire5", [0], size=size, steps=1)
        assert str(info.value) == f"size {size} is too small for squeezenet1_1: tiles need at least 34 px"
        assert info.value.argument == "size"
    assert draws == []
    assert plan_atlas(shapes, "fire5", [0], size=34, steps=1).values["size"] == 34


def test_errors_name_the_argument(tiny_net):
    for arguments, argument in [({"channels": "x"}, "channels"), ({"channels": [99]}, "channels")]:
        with pytest.raises(InceptionismError) as info:
            plan_atlas(tiny_net, "conv1", **arguments)
        assert info.value.argument == argument


def test_channels_are_read_by_the_one_parser_then_checked_against_the_layer():
    assert check_channels(parse_channels("0-3,12"), 64, "fire5") == [0, 1, 2, 3, 12]
    assert check_channels(parse_channels(" 7 , 2 - 4 ,7"), 64, "fire5") == [7, 2, 3, 4]
    assert check_channels(parse_channels("63"), 64, "fire5") == [63]
    with pytest.raises(InvalidParameterError) as info:
        check_channels(parse_channels("64"), 64, "fire5 of squeezenet1_1")
    assert str(info.value) == "channel 64 does not exist in fire5 of squeezenet1_1: it has channels 0..63"
    with pytest.raises(InvalidParameterError) as info:
        check_channels(parse_channels("0-4096"), 5000, "a wide layer")
    assert str(info.value) == "at most 4096 channels at once, got 4097"


def test_the_options_and_their_defaults():
    assert {name: option.default for name, option in ATLAS_OPTIONS.items()} == {
        "size": 128,
        "steps": 128,
        "batch": 8,
        "lr": 0.05,
        "seed": 0,
        "top": 16,
    }


# ---------------------------------------------------------------------------------------------
# The sheet and the saved tiles


def label_band(sheet, rows: int, side: int) -> int:
    """The height of the label band under each tile of ``sheet`` (``rows`` rows of ``side`` px tiles)."""
    row, rest = divmod(sheet.height - GAP, rows)
    assert rest == 0, f"{sheet.height} px is not {rows} rows of one height"
    return row - side - GAP


def test_the_sheet_is_a_labelled_grid(tiny_net):
    result = atlas(tiny_net, "conv2", "0-4", **SMALL)
    sheet = result.sheet()
    # 5 tiles: 3 columns, 2 rows, each tile with a band for its label under it
    assert sheet.width == 3 * (32 + GAP) + GAP == 112
    band = label_band(sheet, 2, 32)
    assert 8 <= band <= 32
    row = 32 + band + GAP
    assert result.sheet(columns=5).size == (5 * 36 + GAP, row + GAP)
    assert result.sheet(columns=1).size == (36 + GAP, 5 * row + GAP)
    grid = pixels(sheet)
    for index, tile in enumerate(result.tiles):
        left, top = GAP + (index % 3) * 36, GAP + (index // 3) * row
        assert np.array_equal(grid[top : top + 32, left : left + 32], pixels(tile.image))
        under = grid[top + 32 : top + 32 + band, left : left + 32]
        assert (under != BACKGROUND).any(axis=-1).sum() >= 4, f"no label under tile {index}"
        assert (grid[top : top + row - GAP, left - GAP : left] == BACKGROUND).all()  # the gap on its left
    # the sixth cell is empty: background only
    assert (grid[GAP + row : GAP + 2 * row, GAP + 72 :] == BACKGROUND).all()


def test_labels_differ_by_channel(tiny_net):
    result = atlas(tiny_net, "conv2", [1, 7], **SMALL)
    sheet = result.sheet(columns=2)
    band = label_band(sheet, 1, 32)
    grid = pixels(sheet)
    first, second = grid[36 : 36 + band, 4:36], grid[36 : 36 + band, 40:72]
    assert not np.array_equal(first, second)
    assert (first != BACKGROUND).any() and (second != BACKGROUND).any()


def test_a_large_tile_has_its_whole_label(tiny_net):
    result = atlas(tiny_net, "conv2", [1, 11], size=128, steps=1, cache_tiles=False)
    band = label_band(result.sheet(columns=2), 1, 128)
    assert band >= label_band(atlas(tiny_net, "conv2", [1, 11], **SMALL).sheet(columns=2), 1, 32)


def test_save_tiles_writes_every_tile_with_its_metadata(tiny_net, tmp_path):
    result = atlas(tiny_net, "conv1", [0, 5], **SMALL)
    written = result.save_tiles(tmp_path / "deep" / "tiles")
    assert written == [tmp_path / "deep" / "tiles" / "conv1_c0.png", tmp_path / "deep" / "tiles" / "conv1_c5.png"]
    for path, tile in zip(written, result.tiles, strict=True):
        metadata = read_metadata(path)
        assert metadata["channel"] == tile.channel
        assert metadata["activation"] == tile.activation
        assert {key: metadata[key] for key in ("model", "layer", "size", "steps", "seed")} == {
            "model": "tiny",
            "layer": "conv1",
            "size": 32,
            "steps": 4,
            "seed": 0,
        }
        assert np.array_equal(pixels(load_image(path).image), pixels(tile.image))
    json.dumps(result.params)  # the params are JSON, as the sheet's metadata


# ---------------------------------------------------------------------------------------------
# Ranking by a photo


def test_rank_channels_sorts_the_photos_activations(tiny_net):
    ranking = rank_channels(tiny_net, "conv2", PHOTO, range(16))
    pixels = to_tensor(load_image(PHOTO).image)  # 400x600, ranked at 341x512 (RANK_SIDE)
    means = channel_means(tiny_net, "conv2", resize(pixels, (341, 512)))[0]
    expected = sorted(range(16), key=lambda c: -float(means[c]))
    assert [channel for channel, _ in ranking] == expected
    assert [value for _, value in ranking] == pytest.approx([float(means[c]) for c in expected])
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(ranking))
    subset = rank_channels(tiny_net, "conv2", PHOTO, [3, 9, 1])
    assert [c for c, _ in subset] == [c for c in expected if c in (3, 9, 1)]


def test_atlas_of_a_photo_draws_its_strongest_channels_in_order(tiny_net, draws):
    result = atlas(tiny_net, "conv2", photo=PHOTO, top=4, **SMALL)
    ranking = rank_channels(tiny_net, "conv2", PHOTO, range(16))
    assert result.ranking == ranking
    assert [tile.channel for tile in result.tiles] == [c for c, _ in ranking[:4]]
    assert result.rendered == 4 and result.params["channels"] == [c for c, _ in ranking[:4]]
    assert draws == [[c for c, _ in ranking[:4]]]


def test_a_photo_ranks_only_the_channels_asked(tiny_net):
    result = atlas(tiny_net, "conv2", [2, 4, 6], photo=PHOTO, top=2, **SMALL)
    assert sorted(c for c, _ in result.ranking) == [2, 4, 6]
    assert [t.channel for t in result.tiles] == [c for c, _ in result.ranking[:2]]
    everything = atlas(tiny_net, "conv1", photo=PHOTO, **SMALL)  # top 16 of 8 channels: all of them
    assert len(everything.tiles) == 8 == len(everything.ranking)


def test_a_photo_too_small_is_refused(tiny_net, tmp_path, draws):
    Image.new("RGB", (6, 20), (90, 140, 200)).save(tmp_path / "small.png")
    with pytest.raises(ImageError) as info:
        atlas(tiny_net, "conv2", photo=tmp_path / "small.png", **SMALL)
    assert str(info.value) == "the photo is 6x20 px, too small for tiny"
    assert draws == []


# ---------------------------------------------------------------------------------------------
# Progress and cancelling


def test_progress_reports_each_step_of_each_batch(tiny_net):
    reports: list[AtlasProgress] = []
    atlas(tiny_net, "conv1", "0-3", batch=2, size=32, steps=3, progress=reports.append)
    assert [(r.done, r.total, r.step, r.steps) for r in reports] == [
        (0, 4, 1, 3),
        (0, 4, 2, 3),
        (0, 4, 3, 3),
        (2, 4, 1, 3),
        (2, 4, 2, 3),
        (2, 4, 3, 3),
    ]
    assert [r.fraction for r in reports] == [0, 0, 0, 0.5, 0.5, 0.5]
    assert AtlasProgress(4, 4, 3, 3).fraction == 1.0 and AtlasProgress(0, 0, 1, 1).fraction == 1.0
    reports.clear()
    atlas(tiny_net, "conv1", "0-5", batch=2, size=32, steps=3, progress=reports.append)  # 0-3 cached
    assert [(r.done, r.total) for r in reports] == [(4, 6)] * 3


def test_cancelling_stops_and_keeps_the_finished_batches(tiny_net, draws):
    def stop_in_the_second_batch(report: AtlasProgress) -> bool:
        return report.done >= 2

    with pytest.raises(Cancelled):
        atlas(tiny_net, "conv1", "0-5", batch=2, progress=stop_in_the_second_batch, **SMALL)
    assert draws == [[0, 1], [2, 3]]
    assert sorted(plan_atlas(tiny_net, "conv1", "0-5", **SMALL).cached()) == [0, 1]
    draws.clear()
    result = atlas(tiny_net, "conv1", "0-5", batch=2, **SMALL)
    assert (result.rendered, draws) == (4, [[2, 3], [4, 5]])


def test_a_progress_returning_nothing_or_false_goes_on(tiny_net):
    assert atlas(tiny_net, "conv1", [0], progress=lambda report: None, **SMALL).rendered == 1
    assert atlas(tiny_net, "conv1", [1], progress=lambda report: False, **SMALL).rendered == 1


# ---------------------------------------------------------------------------------------------
# Real tier: SqueezeNet sheets with the default settings


@pytest.fixture(scope="module")
def real_sheets(squeezenet):
    """``sheet(layer)``: channels 0-15 of ``layer`` with the defaults, drawn once (kept out of every cache)."""
    drawn = {}

    def sheet(layer):
        if layer not in drawn:
            drawn[layer] = atlas(squeezenet, layer, "0-15", cache_tiles=False)
        return drawn[layer]

    return sheet


@pytest.mark.real
@pytest.mark.parametrize("layer", ["fire5", "fire7"])
def test_real_tiles_excite_their_own_channel_most(squeezenet, real_sheets, layer):
    result = real_sheets(layer)
    assert (result.params["size"], result.params["steps"], len(result.tiles)) == (128, 128, 16)
    images = torch.cat([to_tensor(tile.image) for tile in result.tiles])
    activations = channel_means(squeezenet, layer, images)[:, :16]  # (tile, channel)
    own = int((activations.T.argmax(1) == torch.arange(16)).sum())  # each channel: its strongest tile
    print(f"{layer}: {own} of 16 channels respond most to their own tile")
    assert own >= 14


@pytest.mark.real
def test_real_batched_tiles_as_strong_as_tiles_drawn_one_at_a_time(squeezenet, real_sheets):
    """Channels 0-3 of fire5 drawn in the sheet's batch of 8 and drawn one at a time."""
    batched = real_sheets("fire5").tiles[:4]
    alone = atlas(squeezenet, "fire5", "0-3", batch=1, cache_tiles=False).tiles
    for together, by_itself in zip(batched, alone, strict=True):
        assert together.channel == by_itself.channel
        print(f"fire5:{together.channel} batched {together.activation:.1f} alone {by_itself.activation:.1f}")
        assert together.activation == pytest.approx(by_itself.activation, rel=0.2)
