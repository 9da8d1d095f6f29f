"""``-o`` never names an input: every command that writes refuses it with one line, exit 2, and the input intact."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import make_clip
from inceptionism.cli import cli
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import OutputError
from inceptionism.io.images import save_image
from inceptionism.render.atlas import AtlasResult, AtlasTile

RANDOM = ["--weights", "random", "--max-size", "64", "--octaves", "1", "--steps", "1", "--seed", "1", "-q"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """``tmp_path`` as the working directory, holding ``photo.png``, ``clip.mp4`` and a dream with parameters."""
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (48, 32), (90, 140, 60)).save("photo.png")
    make_clip(tmp_path / "clip.mp4", count=4, tone=False)
    save_image(Image.new("RGB", (48, 32)), "dreamed.webp", metadata=DreamSettings.create(seed=1).to_dict())
    save_image(Image.new("RGB", (48, 32)), "photo-dream.png", metadata=DreamSettings.create(seed=1).to_dict())
    return tmp_path


def refused(args: list, message: str, kept: list[str]) -> None:
    """The command exits 2 with ``Error: message`` alone, and every file of ``kept`` has the bytes it had."""
    before = {name: Path(name).read_bytes() for name in kept}
    listed = sorted(os.listdir("."))
    result = run(*args)
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n"), result.output
    assert {name: Path(name).read_bytes() for name in kept} == before
    assert sorted(os.listdir(".")) == listed


def test_video_refuses_to_write_over_its_input(folder):
    os.symlink("clip.mp4", "link.mp4")
    os.link("clip.mp4", "hard.mp4")
    kept = ["clip.mp4"]
    refused(["video", "clip.mp4", "-o", "clip.mp4", *RANDOM], "cannot write clip.mp4: it is the input video; "
            "give another output", kept)  # fmt: skip
    refused(["video", "clip.mp4", "-o", "link.mp4", *RANDOM], "cannot write link.mp4: it is the input video "
            "(clip.mp4); give another output", kept)  # fmt: skip
    refused(["video", "link.mp4", "-o", "clip.mp4", *RANDOM], "cannot write clip.mp4: it is the input video "
            "(link.mp4); give another output", kept)  # fmt: skip
    refused(["video", "clip.mp4", "-o", "hard.mp4", *RANDOM], "cannot write hard.mp4: it is the input video "
            "(clip.mp4); give another output", kept)  # fmt: skip


def test_video_refuses_its_guide_mask_and_from_image_as_output(folder):
    os.symlink("photo.png", "guide.mp4")
    os.symlink("dreamed.webp", "from.mp4")
    kept = ["photo.png", "dreamed.webp"]
    refused(["video", "clip.mp4", "-o", "guide.mp4", "--guide", "photo.png", *RANDOM], "cannot write guide.mp4: "
            "it is the guide (photo.png); give another output", kept)  # fmt: skip
    refused(["video", "clip.mp4", "-o", "guide.mp4", "--mask", "guide.mp4", *RANDOM], "cannot write guide.mp4: "
            "it is the mask; give another output", kept)  # fmt: skip
    refused(["video", "clip.mp4", "-o", "from.mp4", "--from", "dreamed.webp", *RANDOM], "cannot write from.mp4: "
            "it is the --from image (dreamed.webp); give another output", kept)  # fmt: skip


def test_video_refuses_a_work_directory_that_holds_its_input(folder):
    refused(["video", "clip.mp4", "-o", "out.mp4", "--work-dir", ".", "--restart", *RANDOM],
            "cannot use . as the work directory: it holds the input video (clip.mp4); give another work directory "
            "(--work-dir)", ["clip.mp4", "photo.png"])  # fmt: skip


def test_zoom_refuses_to_write_over_its_input_or_its_labels_over_it(folder):
    Image.new("RGB", (48, 32), (10, 20, 30)).save("a.gif")
    os.symlink("a.gif", "b.gif")
    Image.new("RGB", (48, 32)).save("z.gif.labels.png")
    kept = ["a.gif", "z.gif.labels.png", "dreamed.webp"]
    refused(["zoom", "a.gif", "-o", "a.gif", *RANDOM], "cannot write a.gif: it is the input image; give another output",
            kept)  # fmt: skip
    refused(["zoom", "a.gif", "-o", "b.gif", *RANDOM], "cannot write b.gif: it is the input image (a.gif); "
            "give another output", kept)  # fmt: skip
    refused(["zoom", "z.gif.labels.png", "-o", "z.gif", *RANDOM], "cannot write z.gif.labels.png: it is the input "
            "image; give another output", kept)  # fmt: skip
    refused(["zoom", "photo.png", "-o", "dreamed.webp", "--from", "dreamed.webp", *RANDOM], "cannot write "
            "dreamed.webp: it is the --from image; give another output", kept)  # fmt: skip
    refused(["zoom", "photo.png", "-o", "b.gif", "--guide", "a.gif", *RANDOM], "cannot write b.gif: it is the guide "
            "(a.gif); give another output", kept)  # fmt: skip


def test_dream_refuses_its_input_guide_mask_from_image_and_weights_file(folder):
    os.symlink("photo.png", "link.png")
    Path("net.pt").write_bytes(b"weights")
    kept = ["photo.png", "photo-dream.png", "net.pt"]
    refused(["dream", "photo.png", "-o", "photo.png", *RANDOM], "cannot write photo.png: it is the input image; "
            "give another output", kept)  # fmt: skip
    refused(["dream", "photo.png", "-o", "link.png", *RANDOM], "cannot write link.png: it is the input image "
            "(photo.png); give another output", kept)  # fmt: skip
    refused(["dream", "-o", "link.png", "--mask", "photo.png", *RANDOM], "cannot write link.png: it is the mask "
            "(photo.png); give another output", kept)  # fmt: skip
    refused(["dream", "photo.png", "-o", "photo-dream.png", "--from", "photo-dream.png", *RANDOM],
            "cannot write photo-dream.png: it is the --from image; give another output", kept)  # fmt: skip
    refused(["dream", "photo.png", "-o", "net.pt", *RANDOM, "--weights", "net.pt"], "cannot write net.pt: it is the "
            "weights file; give another output", kept)  # fmt: skip


def test_batch_refuses_an_output_that_would_replace_an_input(folder):
    os.symlink("photo.png", "sheet.png")
    kept = ["photo.png", "photo-dream.png"]
    refused(["batch", "photo.png", "photo-dream.png", "-o", ".", *RANDOM], f"cannot write {Path('photo-dream.png')}: "
            "it is the input image; give another output", kept)  # fmt: skip
    refused(["batch", "photo.png", "-o", ".", "--from", "photo-dream.png", *RANDOM], "cannot write photo-dream.png: "
            "it is the --from image; give another output", kept)  # fmt: skip
    refused(["batch", "photo.png", "-o", "out", "--sheet", "sheet.png", *RANDOM], "cannot write sheet.png: it is "
            "the input image (photo.png); give another output", kept)  # fmt: skip


def test_atlas_refuses_its_photo_as_output(folder):
    refused(["atlas", "--weights", "random", "--layer", "fire2", "--photo", "photo.png", "-o", "photo.png", "-q"],
            "cannot write photo.png: it is the photo; give another output", ["photo.png"])  # fmt: skip


def test_atlas_tiles_never_replace_the_photo(tmp_path):
    photo = tmp_path / "fire2_c3.png"
    Image.new("RGB", (32, 32)).save(photo)
    result = AtlasResult("net", "fire2", [AtlasTile(3, Image.new("RGB", (32, 32)), 1.0)], {}, 1, reads={"photo": photo})
    with pytest.raises(OutputError, match=rf"^cannot write {photo}: it is the photo; give another output$"):
        result.save_tiles(tmp_path)
    assert Image.open(photo).getpixel((0, 0)) == (0, 0, 0)
