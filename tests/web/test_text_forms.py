"""One parser per text form: channel lists, weight spellings, seeds after a seed, and "an image or noise".

Each form is read by one function, used by the library, the command line, the studio's API
and the atlas: the same input gives the same result, or the same one-line error, everywhere.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from PIL import Image

from inceptionism.cli import cli
from inceptionism.cli.dream import dream_settings
from inceptionism.cli.options import model_options
from inceptionism.engine.options import SEED_LIMIT, parse_weights, seed_plus, weights_file
from inceptionism.engine.settings import IMAGE_OR_NOISE, NOISE_HAS_NO_IMAGE, DreamSettings, check_start
from inceptionism.errors import InvalidParameterError
from inceptionism.objectives import parse_channels, split_layer_spec
from inceptionism.render import zoom as zoom_module
from inceptionism.render.atlas import plan_atlas
from inceptionism.render.batch import batch, plan_batch
from inceptionism.render.still import dream

NOISE = {"noise": "32x32", "octaves": 1, "steps": 1}
BAD_CHANNELS = {
    "5-2": "channel range 5-2 runs backwards",
    "x": "channels must be numbers and ranges like 0-63 or 3,12,40, got 'x'",
    "1,,2": "channels must be numbers and ranges like 0-63 or 3,12,40, got '1,,2'",
    "-3": "channels must be numbers and ranges like 0-63 or 3,12,40, got '-3'",
    "0-99999": "channels must be in 0..65535, at most 65536 of them, got '0-99999'",
}


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 140, 200)).save(out, "PNG")
    return out.getvalue()


def refused(call) -> str:
    with pytest.raises(InvalidParameterError) as info:
        call()
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Channel lists


def test_a_channel_list_is_read_the_same_by_the_spec_the_atlas_and_the_api(client, tiny_net):
    assert parse_channels(" 0-3 , 6") == [0, 1, 2, 3, 6]
    assert split_layer_spec("conv1: 0-3 , 6")[1] == [0, 1, 2, 3, 6]
    assert plan_atlas(tiny_net, "conv1", " 0-3 , 6").channels == [0, 1, 2, 3, 6]
    answer = client.get("/api/atlas", params={"model": "tiny", "layer": "conv1", "channels": " 0-3 , 6"})
    assert [tile["channel"] for tile in answer.json()["tiles"]] == [0, 1, 2, 3, 6]


@pytest.mark.parametrize("text", BAD_CHANNELS)
def test_a_bad_channel_list_gets_the_same_error_everywhere(client, tiny_net, text):
    message = BAD_CHANNELS[text]
    assert refused(lambda: parse_channels(text)) == message
    assert refused(lambda: plan_atlas(tiny_net, "conv1", text)) == message
    answer = client.get("/api/atlas", params={"model": "tiny", "layer": "conv1", "channels": text})
    assert (answer.status_code, answer.json()["detail"]) == (422, message)
    in_a_spec = f"bad channels in layer spec 'conv1:{text}': {message}"
    assert refused(lambda: DreamSettings(layers=[f"conv1:{text}"])) == in_a_spec
    answer = client.post(
        "/api/jobs", data={"kind": "dream", "params": json.dumps({**NOISE, "layers": [f"conv1:{text}"]})}
    )
    assert (answer.status_code, answer.json()["detail"]) == (422, in_a_spec)
    result = CliRunner().invoke(cli, ["dream", "--layer", f"fire7:{text}", "-o", "never.png"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: bad channels in layer spec 'fire7:{text}': {message} (--layer)\n",
    )


@pytest.mark.real  # the command line's atlas loads the embedded SqueezeNet
@pytest.mark.parametrize("text", BAD_CHANNELS)
def test_the_atlas_command_gives_the_same_channel_error(tmp_path, text):
    result = CliRunner().invoke(cli, ["atlas", "--layer", "fire5", "--channels", text, "-o", str(tmp_path / "a.png")])
    assert (result.exit_code, result.stderr) == (2, f"Error: {BAD_CHANNELS[text]} (--channels)\n")


# ---------------------------------------------------------------------------------------------
# Weight spellings


@pytest.mark.parametrize(
    ("given", "read"),
    [(None, "random"), ("none", "random"), ("random", "random"), ("default", "default"), ("net.pt", "net.pt")],
)
def test_a_weights_spelling_is_read_the_same_everywhere(given, read):
    assert parse_weights("weights", given) == read
    assert DreamSettings(weights=given).weights == read
    if given is not None:
        assert dream_settings(None, {"weights": given}, guide=None, mask=None).weights == read

        @click.command()
        @model_options
        def show(model: str, weights: str) -> None:
            click.echo(weights)

        assert CliRunner().invoke(show, ["--weights", given]).output == f"{read}\n"
    assert weights_file(read) == (read if read == "net.pt" else None)
    assert parse_weights("weights", Path("nets/net.pt")) == "nets/net.pt"


def test_the_studio_takes_the_words_and_refuses_a_file(client):
    for given in ("none", "random", "default"):
        assert (
            client.post(
                "/api/jobs", data={"kind": "dream", "params": json.dumps({**NOISE, "weights": given})}
            ).status_code
            == 202
        )
    for given, detail in [
        ("/etc/passwd", "weights must be 'default' or 'random' in the studio, got '/etc/passwd'"),
        ("", "weights must be a name of 1..4096 characters, got ''"),
    ]:
        answer = client.post("/api/jobs", data={"kind": "dream", "params": json.dumps({**NOISE, "weights": given})})
        assert (answer.status_code, answer.json()["detail"]) == (422, detail)
    assert refused(lambda: parse_weights("weights", "")) == "weights must be a name of 1..4096 characters, got ''"


# ---------------------------------------------------------------------------------------------
# Seeds after a seed


def test_the_seed_after_the_last_wraps_to_zero():
    assert [seed_plus(SEED_LIMIT - 1, k) for k in range(3)] == [SEED_LIMIT - 1, SEED_LIMIT, 0]
    assert seed_plus(7, 2) == 9
    for k in range(3):  # every seed it gives is a seed the settings take
        DreamSettings(seed=seed_plus(SEED_LIMIT, k))


def test_a_batch_and_a_zoom_count_seeds_the_same_way(tmp_path, tiny_net, monkeypatch):
    photos = []
    for name in ("a", "b", "c"):
        Image.new("RGB", (40, 32), (30, 60, 90)).save(tmp_path / f"{name}.png")
        photos.append(tmp_path / f"{name}.png")
    items = plan_batch(photos, tmp_path / "out", settings=DreamSettings(seed=SEED_LIMIT), grid=[{}])
    assert [item.settings.seed for item in items] == [SEED_LIMIT, 0, 1]
    counted = []
    monkeypatch.setattr(zoom_module, "seed_plus", lambda seed, k: counted.append(seed_plus(seed, k)) or counted[-1])
    zoom_module.zoom(
        None, tmp_path / "z", model=tiny_net, noise="32x32", param="pixel", octaves=1, steps=1, frames=3,
        seed=SEED_LIMIT, labels=False, device="cpu", precision="fp32",
    )  # fmt: skip
    assert counted == [SEED_LIMIT, 0, 1]


# ---------------------------------------------------------------------------------------------
# An image or noise, not both


def test_one_check_and_one_message_for_an_image_or_noise(tmp_path, tiny_net, client, clip):
    noise = DreamSettings(noise=(32, 32))
    assert refused(lambda: check_start(noise, image=True)) == IMAGE_OR_NOISE == "give an input image or noise, not both"
    assert refused(lambda: check_start(noise, image=False, mask=True)) == NOISE_HAS_NO_IMAGE
    check_start(noise, image=False)
    check_start(DreamSettings(), image=True, mask=True)
    Image.new("RGB", (40, 32)).save(tmp_path / "photo.png")
    assert refused(lambda: dream(tmp_path / "photo.png", model=tiny_net, noise="32x32")) == IMAGE_OR_NOISE
    assert refused(lambda: batch([tmp_path / "photo.png"], tmp_path / "out", model=tiny_net, noise="32x32")) == (
        "a batch dreams photos; noise does not apply"
    )
    image = {"image": ("a.png", png(), "image/png")}
    answer = client.post("/api/jobs", data={"kind": "dream", "params": json.dumps(NOISE)}, files=image)
    assert (answer.status_code, answer.json()["detail"]) == (422, IMAGE_OR_NOISE)
    mask = {"mask": ("m.png", png(), "image/png")}
    answer = client.post("/api/jobs", data={"kind": "dream", "params": json.dumps(NOISE)}, files=mask)
    assert (answer.status_code, answer.json()["detail"]) == (422, NOISE_HAS_NO_IMAGE)
    video = {"image": ("clip.mp4", clip.read_bytes(), "video/mp4")}
    answer = client.post("/api/jobs", data={"kind": "video", "params": json.dumps(NOISE)}, files=video)
    assert (answer.status_code, answer.json()["detail"]) == (422, "a video dreams its own frames; noise does not apply")


def test_a_channel_number_of_any_length_is_read_and_bounded():
    assert refused(lambda: parse_channels("99999999999999999999")) == (
        "channels must be in 0..65535, at most 65536 of them, got '99999999999999999999'"
    )
    assert refused(lambda: parse_channels("٣")) == "channels must be numbers and ranges like 0-63 or 3,12,40, got '٣'"
    assert parse_channels("65535") == [65535]
