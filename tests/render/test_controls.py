"""Real tier: every control steers the embedded SqueezeNet's dream, measured."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from inceptionism import classify, dream
from inceptionism.io.images import load_image, read_metadata, to_tensor

pytestmark = pytest.mark.real


def features(net, image, layer="fire7"):
    with torch.no_grad(), net.tap([layer]) as extract:
        return extract(to_tensor(image))[layer][0].float()


@pytest.fixture(scope="module")
def photo(sample):
    return load_image(sample).image


@pytest.fixture(scope="module")
def plain(squeezenet, sample):
    """The unsteered classic dream, to compare the controls against."""
    return dream(sample, model=squeezenet, seed=0).image


def test_class_dream_turns_the_cat_into_a_banana(squeezenet, sample):
    result = dream(sample, model=squeezenet, classes=["Banana"], seed=0)
    top = classify(result.image, model=squeezenet, top=1)[0]
    assert (top.label, top.probability > 0.9) == ("banana", True)
    assert result.params["classes"] == ["banana"]
    assert result.params["layers"] == []


def test_chosen_channel_grows_far_more_than_the_median_channel(squeezenet, sample, photo):
    result = dream(sample, model=squeezenet, layers=["fire7:12"], seed=0)
    before = features(squeezenet, photo).square().mean((1, 2)).clamp_min(1e-6)
    growth = features(squeezenet, result.image).square().mean((1, 2)) / before
    assert growth[12] > 10 * growth.median(), (growth[12].item(), growth.median().item())


def test_one_neuron_switches_on_where_asked(squeezenet, sample, photo):
    x, y = 232, 158
    result = dream(sample, model=squeezenet, layers=[f"fire7:12@{x},{y}"], seed=0)
    before, after = features(squeezenet, photo)[12], features(squeezenet, result.image)[12]
    height, width = after.shape
    row, col = int((y + 0.5) / 300 * height), int((x + 0.5) / 451 * width)
    assert before[row, col] == 0
    neighbourhood = after[row - 1 : row + 2, col - 1 : col + 2]
    assert neighbourhood.max() > 100
    assert neighbourhood.max() > 5 * after.mean()
    assert result.params["layers"] == [f"fire7:12@{x},{y}"]


def test_guide_moves_features_toward_the_guide(squeezenet, sample, coffee, photo, plain):
    guide = F.normalize(features(squeezenet, load_image(coffee, max_size=512).image).flatten(1), dim=0)

    def likeness(image):  # mean over positions of the best cosine match among the guide's features
        own = F.normalize(features(squeezenet, image).flatten(1), dim=0)
        return (own.T @ guide).max(1).values.mean().item()

    guided = dream(sample, model=squeezenet, layers=["fire7"], guide=coffee, seed=0)
    assert likeness(guided.image) > likeness(photo) + 0.03
    assert likeness(guided.image) > likeness(plain) + 0.05
    assert guided.params["guide"] == "coffee.jpg"


def test_mask_keeps_black_pixels(squeezenet, sample, photo, tmp_path):
    width, height = photo.size
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rectangle([width // 2, 0, width, height], fill=255)
    mask.save(tmp_path / "mask.png")
    result = np.asarray(dream(sample, model=squeezenet, mask=tmp_path / "mask.png", seed=0).image).astype(int)
    original = np.asarray(photo).astype(int)
    assert np.abs(result[:, : width // 2] - original[:, : width // 2]).max() <= 2
    assert np.abs(result[:, width // 2 + 20 :] - original[:, width // 2 + 20 :]).mean() > 5


def test_mask_of_another_size_is_resized_with_a_notice(squeezenet, sample, tmp_path, caplog):
    Image.new("L", (90, 60), 255).save(tmp_path / "small.png")
    with caplog.at_level("INFO", logger="inceptionism"):
        result = dream(sample, model=squeezenet, mask=tmp_path / "small.png", octaves=1, steps=1, seed=0)
    assert "resized the mask from 90x60 to 451x300 to fit the image" in caplog.messages
    assert result.params["mask"] == "small.png"


def test_keep_colors_keeps_chroma(squeezenet, sample, photo, plain):
    kept = np.asarray(dream(sample, model=squeezenet, keep_colors=True, seed=0).image.convert("YCbCr")).astype(int)
    original = np.asarray(photo.convert("YCbCr")).astype(int)
    unkept = np.asarray(plain.convert("YCbCr")).astype(int)
    assert np.abs(kept[..., 1:] - original[..., 1:]).mean() <= 3
    assert np.abs(unkept[..., 1:] - original[..., 1:]).mean() > 4
    assert np.abs(kept[..., 0] - original[..., 0]).mean() > 5  # the dream is still there, in luminance


def high_frequency_share(result, photo):
    change = to_tensor(result) - to_tensor(photo)
    laplacian = 4 * change[..., 1:-1, 1:-1] - change[..., :-2, 1:-1] - change[..., 2:, 1:-1]
    laplacian = laplacian - change[..., 1:-1, :-2] - change[..., 1:-1, 2:]
    return (laplacian.abs().mean() / change.abs().mean()).item()


def total_variation(image):
    x = to_tensor(image)
    return ((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()).item()


def test_smoothing_and_laplacian_normalisation_make_broader_strokes(squeezenet, sample, photo, plain):
    sharp = high_frequency_share(plain, photo)
    for options in ({"smooth": 1.0}, {"lap_levels": 4}):
        result = dream(sample, model=squeezenet, seed=0, **options)
        assert high_frequency_share(result.image, photo) < 0.5 * sharp, options


def test_total_variation_weight_flattens(squeezenet, sample, plain):
    flat = dream(sample, model=squeezenet, tv=0.5, seed=0)
    assert total_variation(flat.image) < 0.7 * total_variation(plain)
    assert flat.params["tv"] == 0.5


def test_tiles_dream_as_well_and_keep_the_size(squeezenet, sample, photo):
    result = dream(sample, model=squeezenet, tile=128, seed=0)
    assert result.image.size == photo.size
    assert result.params["tile"] == 128
    gain = features(squeezenet, result.image).square().mean() / features(squeezenet, photo).square().mean()
    assert gain > 15


def test_tile_smaller_than_the_network_is_refused(squeezenet, sample):
    with pytest.raises(
        ValueError, match=r"^tile must be at least 17 px for squeezenet1_1 \(its smallest input\), got 8$"
    ):
        dream(sample, model=squeezenet, tile=8)


PEAK = """
import re, sys
from inceptionism.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="inceptionism")
except SystemExit as exit:
    code = exit.code
with open("/proc/self/status") as status:  # this process's own peak (ru_maxrss would include the parent's)
    print(code, int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read())[1]) // 1024)
"""


def test_8k_image_dreams_at_full_size_under_2_5_gb_with_a_512_mb_budget(tmp_path, coffee):
    big, out = tmp_path / "8k.jpg", tmp_path / "8k-dream.png"
    Image.open(coffee).resize((7680, 4320), Image.Resampling.BICUBIC).save(big, quality=90)
    args = ["dream", str(big), "--tile", "512", "--max-size", "8000", "-o", str(out), "--octaves", "2", "--steps", "1"]
    args += ["--memory-budget", "512"]  # by default half the machine's memory: the tiles are batched up to it
    run = subprocess.run([sys.executable, "-c", PEAK, *args, "--seed", "0"], capture_output=True, text=True, check=True)
    code, peak_mb = map(int, run.stdout.strip().splitlines()[-1].split())
    assert code in (0, None), run.stderr
    assert re.match(r"wrote .*8k-dream.png \(7680x4320, squeezenet1_1 fire7, seed 0\)", run.stdout)
    assert Image.open(out).size == (7680, 4320)
    assert peak_mb < 2500, f"peak memory {peak_mb} MB"


def test_noise_256_banana_is_seen_as_banana(tmp_path):
    from click.testing import CliRunner

    from inceptionism.cli import cli

    out = tmp_path / "banana.png"
    result = CliRunner().invoke(
        cli, ["dream", "--noise", "256x256", "--class", "banana", "-o", str(out), "--seed", "0"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2].startswith("after:  banana ")
    params = read_metadata(out)
    assert (params["noise"], params["param"], params["steps"], params["classes"]) == (
        "256x256",
        "fourier",
        256,
        ["banana"],
    )
