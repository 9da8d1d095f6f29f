"""``inceptionism video`` on the tiny network: a file cut short, its help, an output under a file; ``info DIR``."""

import json

import av
import pytest
from click.testing import CliRunner

from conftest import make_clip
from footage import footage
from inceptionism.cli import cli
from inceptionism.render.zoom import zoom

TINY = ["--layer", "conv2", "--octaves", "1", "--steps", "1", "--max-size", "64", "--seed", "1"]


@pytest.fixture(autouse=True)
def tiny_video(monkeypatch, tiny_net):
    """``video`` dreams with the tiny network, whatever the settings name."""
    monkeypatch.setattr("inceptionism.cli.video.settings_network", lambda settings, progress: tiny_net)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def cut_short(folder, share):
    """``bikes.mp4`` (250 frames) with its index at the front, as a streamed file has it, cut to ``share`` of its bytes."""
    whole, cut = folder / "whole.mp4", folder / "bikes.mp4"
    with av.open(str(footage("bikes"))) as source, av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = whole.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    cut.write_bytes(data[: int(len(data) * share)])
    whole.unlink()
    return cut


def test_a_file_cut_short_is_dreamed_as_far_as_it_goes_with_a_notice(tmp_path):
    clip, out = cut_short(tmp_path, 0.5), tmp_path / "dream.mp4"
    result = run("video", clip, "-o", out, "--start", "4", *TINY)  # frames 100 to 113: the last 14 it holds
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out} (14 frames, seed 1)\n"
    assert result.stderr == f"notice: {clip} ended early: 114 of 250 frames could be read\n"
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 14


def test_a_file_cut_before_its_first_frame_is_one_line(tmp_path):
    clip, out = cut_short(tmp_path, 0.02), tmp_path / "dream.mp4"
    result = run("video", clip, "-o", out, *TINY)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {clip} ended early: none of its 250 frames could be read; the file is incomplete, copy it again\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bikes.mp4"]


def test_the_help_lists_only_what_video_takes():
    result = run("video", "--help")
    assert result.exit_code == 0
    flags = {word.rstrip(",") for line in result.stdout.splitlines() for word in line.split() if word[:2] == "--"}
    assert not flags & {"--noise", "--param", "--lr"}
    assert {"--layer", "--octaves", "--blend", "--flow", "--from", "--guide"} <= flags
    refused = run("video", "clip.mp4", "--noise", "64x64")
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: No such option '--noise'. (Did you mean one of: '--loss', '--seed', '--tile'?) (see: inceptionism video --help)\n",
    )


def test_an_output_under_a_file_names_the_file(tmp_path):
    clip = cut_short(tmp_path, 1.0)
    result = run("video", clip, "-o", clip / "o.mp4", *TINY)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot write {clip}/o.mp4: {clip} is a file, not a directory; give an output in a directory\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bikes.mp4"]


def test_info_reads_a_directory_of_frames(tmp_path, tiny_net, coffee):
    clip, out = make_clip(tmp_path / "clip.mp4", count=6, tone=False), tmp_path / "dream.mp4"
    assert run("video", clip, "-o", out, "--keep-frames", "-q", *TINY).exit_code == 0
    frames = tmp_path / "dream.mp4.frames"
    result = run("info", frames)
    assert result.exit_code == 0, result.output
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines())
    stored = json.loads((frames / "params.json").read_text())
    assert list(rows) == [*stored, "frames"] and rows["frames"] == "6"
    assert rows["input"].startswith("clip.mp4 sha256:") and "flow=True" in rows["video"]
    assert json.loads(run("info", "--json", frames).stdout) == {**stored, "frames": 6}
    zoomed = tmp_path / "zoom-frames"  # a zoom's PNG frames: params.json beside them too
    zoom(coffee, zoomed, model=tiny_net, frames=3, labels=False, layers="conv2", octaves=1, max_size=64, seed=1)
    assert run("info", zoomed).stdout.splitlines()[-1] == "frames   3"


def test_info_on_a_directory_without_parameters(tmp_path):
    result = run("info", tmp_path)
    assert result.exit_code == 1
    assert (
        result.stderr == f"Error: {tmp_path} holds no inceptionism parameters (only files written by inceptionism do)\n"
    )
