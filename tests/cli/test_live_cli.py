"""``inceptionism live``: a window where there is a display and OpenCV has windows; one line where there is not.

This machine has neither a camera nor a display (and OpenCV is the headless build), so the
window is tested for its refusals and the loop itself with a video file played as the
camera, written with ``--record`` (the panned coffee photo of the test data, 12 frames).
"""

import av
import pytest
from click.testing import CliRunner

from conftest import make_clip
from inceptionism.cli import cli

TINY = ["--layer", "conv2", "--octaves", "1", "--steps", "1", "--max-size", "64", "--seed", "1"]


@pytest.fixture(autouse=True)
def tiny_live(monkeypatch, tiny_net):
    """``live`` dreams with the tiny network, whatever the settings name."""
    monkeypatch.setattr("inceptionism.cli.live.settings_network", lambda settings, progress: tiny_net)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_camera_file_is_dreamed_into_the_recording_frame_for_frame(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", count=12)
    output = tmp_path / "dream.mp4"
    result = run("live", "--camera", clip, "--no-window", "--record", output, "--frames", 9, *TINY)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dreamed 9 frames in ") and result.stdout.endswith(f", wrote {output}\n")
    with av.open(str(output)) as video:
        pictures = [frame.to_ndarray(format="rgb24") for frame in video.decode(video=0)]
    assert len(pictures) == 9 and pictures[0].shape == (42, 64, 3)  # 96x64 scaled to --max-size 64, even sides
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mp4", "dream.mp4"]  # nothing half-written


def test_without_a_display_it_says_so_in_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = run("live", *TINY)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: no display to show the window on (DISPLAY is not set); use --record FILE.mp4 --no-window, or the "
        "studio's Live panel (inceptionism serve)\n"
    )


def test_with_headless_opencv_it_says_which_opencv_to_install(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    result = run("live", *TINY)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: this OpenCV has no windows (opencv-python-headless): pip install opencv-python, or use --record "
        "FILE.mp4 --no-window, or the studio's Live panel (inceptionism serve)\n"
    )


def test_a_camera_that_cannot_be_opened_is_named(tmp_path):
    result = run("live", "--camera", 7, "--no-window", "--record", tmp_path / "dream.mp4", *TINY)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: cannot open camera 7: no camera there, it is in use, or access is refused (give another --camera "
        "INDEX, or a video file)\n"
    )
    result = run("live", "--camera", tmp_path / "none.mp4", "--no-window", "--record", tmp_path / "dream.mp4", *TINY)
    assert result.stderr.startswith(f"Error: cannot open {tmp_path / 'none.mp4'}: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--record", "dream.gif"], "Error: --record writes an MP4: give a .mp4 path, got dream.gif\n"),
        (["--octave-sizes", "64,128"], "No such option '--octave-sizes'"),
        (["--frames", "0"], "frames must be >= 1, got 0 (--frames)"),
    ],
)
def test_what_live_cannot_do_is_refused_before_any_camera_is_opened(args, message):
    result = run("live", "--camera", 7, *args, *TINY)
    assert result.exit_code == 2
    assert message in result.stderr and "camera" not in result.stderr.replace("--camera", "")


def test_a_recording_never_replaces_the_video_played_as_the_camera(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", count=4)
    before = clip.read_bytes()
    result = run("live", "--camera", clip, "--no-window", "--record", clip, *TINY)
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {clip}: it is the camera file; give another output (--record)\n"
    assert clip.read_bytes() == before


def test_a_recording_that_cannot_be_written_or_nothing_to_show_is_refused_at_once(tmp_path):
    result = run("live", "--camera", 7, "--no-window", "--record", tmp_path / "none" / "dream.mp4", *TINY)
    assert (
        result.stderr
        == f"Error: cannot write {tmp_path / 'none' / 'dream.mp4'}: directory {tmp_path / 'none'} does not exist\n"
    )
    result = run("live", "--camera", 7, "--no-window", *TINY)
    assert result.stderr == "Error: --no-window shows nothing: give --record FILE.mp4 too\n"
