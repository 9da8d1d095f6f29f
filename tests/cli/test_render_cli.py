"""``inceptionism zoom`` and ``video`` on the embedded SqueezeNet: output, labels, Ctrl-C and resume, bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import make_clip
from inceptionism.cli import cli

pytestmark = pytest.mark.real

SMALL = ["--max-size", "128", "--octaves", "1", "--steps", "2", "--frame-steps", "2", "--seed", "4"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def pixels_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_zoom_writes_the_video_and_its_labels(tmp_path):
    out = tmp_path / "zoom.mp4"
    result = run("zoom", "-o", out, "--frames", "4", "-q", *SMALL)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote {out} (4 frames, seed 4)",
        f"wrote {out}.labels.csv",
        f"wrote {out}.labels.png",
    ]
    assert len(decoded(out)) == 4
    info = run("info", "--json", out)
    assert json.loads(info.stdout)["zoom"]["frames"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoom.mp4", "zoom.mp4.labels.csv", "zoom.mp4.labels.png"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zoom", "0"], "Error: zoom must be > 0.0, got 0.0 (--zoom)"),
        (["--frames", "0"], "Error: frames must be >= 1, got 0 (--frames)"),
        (["--fps", "-1"], "Error: fps must be > 0.0, got -1.0 (--fps)"),
        (["-o", "zoom.avi"], "Error: cannot write zoom.avi: unknown animation extension '.avi'"),
    ],
)
def test_bad_zoom_input_is_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run("zoom", *args, *SMALL)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def interrupt_and_resume(tmp_path: Path, arguments: list[str], frames: int) -> None:
    """Run the command twice: once whole, once stopped by Ctrl-C after its first frame and run again.

    The stopped run must exit 130 with how to resume, leave no output, keep its frames, and then
    finish with the same dreamed frames as the whole run. The signal is sent once the first frame
    is in the work directory, and ``arguments`` leave the render many frames of work after it,
    so that the signal lands while the render runs.
    """

    def command_for(path):
        return [sys.executable, "-m", "inceptionism", *arguments, "-o", str(path), "--keep-frames"]

    whole, out = tmp_path / "whole.mp4", tmp_path / "out.mp4"
    assert subprocess.run(command_for(whole), timeout=600).returncode == 0
    command = command_for(out)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    work = tmp_path / "out.mp4.frames"
    wait_for_first_frame(process, work)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error: stopped after frame ") and "run the same again to resume from there" in last
    assert not out.exists() and 1 <= len(list(work.glob("0*.png"))) < frames
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert len(decoded(out)) == frames
    kept = sorted((tmp_path / "whole.mp4.frames").glob("0*.png"))
    assert len(kept) == frames
    assert all(np.array_equal(pixels_of(path), pixels_of(work / path.name)) for path in kept)
    # The same dreamed frames; x264's macroblock-tree rate control may encode them differently
    # from one run to the next (see io/video.py and the README), so the decoded frames are compared.
    shown = [np.abs(a.astype(int) - b).mean() for a, b in zip(decoded(whole), decoded(out), strict=True)]
    assert max(shown) < 1.0, max(shown)


def wait_for_first_frame(process: subprocess.Popen, work: Path) -> None:
    """Return once the render's first finished frame is in ``work`` (renamed there whole); fail if it ended first."""
    first = work / "000000.png"
    deadline = time.monotonic() + 300  # only against a hung render
    while not first.exists():
        if process.poll() is not None:
            raise AssertionError(f"the render ended (exit {process.returncode}) before its first frame was seen")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the render wrote no frame in 300 s")
        time.sleep(0.01)


def test_ctrl_c_stops_after_the_frame_and_the_same_command_resumes(tmp_path):
    # the first frame of 2 steps, the 23 after it of 12 (the later --frame-steps wins): seconds left after the signal
    arguments = ["zoom", "--frames", "24", "--no-labels", *SMALL, "--frame-steps", "12"]
    interrupt_and_resume(tmp_path, arguments, 24)


def test_video_command_dreams_a_clip_and_info_reads_it(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", count=6)
    out = tmp_path / "dream.mp4"
    result = run("video", clip, "-o", out, "--octaves", "1", "--steps", "2", "--seed", "2", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out} (6 frames, seed 2)\n"
    assert len(decoded(out)) == 6
    assert json.loads(run("info", "--json", out).stdout)["video"]["blend"] == 0.9
    bad = run("video", clip, "-o", tmp_path / "x.mp4", "--blend", "2")
    assert (bad.exit_code, bad.stderr) == (2, "Error: blend must be non-negative and <= 1.0, got 2.0 (--blend)\n")


def test_ctrl_c_stops_a_video_after_the_frame_and_it_resumes(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", count=40, size=(192, 128))
    # 39 frames after the first, of 8 steps: seconds of work left when the signal is sent
    interrupt_and_resume(tmp_path, ["video", str(clip), "--octaves", "1", "--steps", "8", "--seed", "2"], 40)
