"""``inceptionism live``: dream a camera (or a video played as one) in a window, as it comes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from inceptionism.cli.app import cli, fail, show_notices
from inceptionism.cli.dream import dream_settings
from inceptionism.cli.options import dreaming_options, option_flags
from inceptionism.engine.dreamer import settings_network
from inceptionism.engine.options import Option
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import InvalidParameterError
from inceptionism.io.files import check_not_input, check_writable
from inceptionism.io.recording import Recording
from inceptionism.render.live import LIVE_OPTIONS, LIVE_SIZE, check_live, live
from inceptionism.render.still import input_files

NOT_FOR_LIVE = ("--noise", "--param", "--lr", "--octave-sizes")
"""Dream options live does not take: its frames are the start, never noise."""
FRAMES = Option("frames", None, "Stop after this many frames.", minimum=1, maximum=1_000_000, kind=int,
                metavar="N", shown_default="at q or Esc, or when the source ends")  # fmt: skip
WINDOW = "inceptionism live (q or Esc: quit)"


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        fail("live needs OpenCV: pip install 'inceptionism[video]'")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # its warnings, said again in one line
    return cv2


@cli.command("live")
@click.option("--camera", default="0", show_default=True, metavar="INDEX|FILE",
              help="The camera's index (0: the first), or a video file or stream URL played as a camera.")  # fmt: skip
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), help="Also write the dream to this .mp4.")
@click.option("--no-window", is_flag=True, help="Show nothing (with --record: dream into the file only).")
@option_flags({"frames": FRAMES, **LIVE_OPTIONS})
@dreaming_options(without=(*NOT_FOR_LIVE, "--guide", "--mask"))
@click.option("--quiet", "-q", is_flag=True, help="No notices or closing line.")
def live_command(
    camera: str,
    record: Path | None,
    no_window: bool,
    frames: int | None,
    blend: float | None,
    from_image: Path | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Dream a camera in a window, frame after frame, the dream carried from each frame to the next.

    Each frame goes on from the last one's dream moved along the optical flow, so the dream
    holds on things and deepens; the first frame is dreamed with the full settings and sets
    the strength every later one keeps. Frames are scaled to --max-size (here 320 unless
    given). It needs OpenCV with windows (opencv-python; the headless build has none) and a
    camera; the studio's Live panel (inceptionism serve) needs neither here.

    \b
    Examples:
        inceptionism live
        inceptionism live --camera 1 --layer fire5 --steps 6
        inceptionism live --camera clip.mp4 --record dream.mp4 --no-window --frames 100
    """
    show_notices(quiet)
    if options.get("max_size") is None:
        options["max_size"] = LIVE_SIZE
    settings = check_live(dream_settings(from_image, options, guide=None, mask=None))  # before any camera or window
    _check_record(record, camera, settings, no_window=no_window, from_image=from_image)
    if not no_window:
        _open_window()
    source = _open_camera(camera)
    net = settings_network(settings, progress=not quiet)
    dreamed = live(_frames(source, frames), settings, model=net, blend=blend)
    count, seconds = _loop(dreamed, record, window=not no_window)
    if count == 0:
        fail(f"no frame came from {'camera ' + camera if camera.isdigit() else camera}: nothing was dreamed")
    if not quiet:
        rate = count / seconds if seconds > 0 else 0.0
        shown = f", wrote {record}" if record is not None and count else ""
        click.echo(f"dreamed {count} frames in {seconds:.1f} s ({rate:.1f} frames/s){shown}")


def _check_record(
    record: Path | None, camera: str, settings: DreamSettings, *, no_window: bool, from_image: Path | None
) -> None:
    """Refuse a recording that is no MP4, cannot be written or would replace an input; and nothing to show at all."""
    if record is None:
        if no_window:
            raise InvalidParameterError("--no-window shows nothing: give --record FILE.mp4 too", argument="record")
        return
    if record.suffix.lower() != ".mp4":
        raise InvalidParameterError(f"--record writes an MP4: give a .mp4 path, got {record.name}", argument="record")
    played = {} if camera.isdigit() or "://" in camera else {"camera file": camera}
    check_not_input(record, input_files(settings, {**played, "--from image": from_image}), argument="record")
    check_writable(record)


def _open_window() -> None:
    """Open the window, or fail saying why it cannot be (no display, or OpenCV without windows)."""
    cv2 = _cv2()
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        fail("no display to show the window on (DISPLAY is not set); use --record FILE.mp4 --no-window, "
             "or the studio's Live panel (inceptionism serve)")  # fmt: skip
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
    except cv2.error:
        fail("this OpenCV has no windows (opencv-python-headless): pip install opencv-python, or use "
             "--record FILE.mp4 --no-window, or the studio's Live panel (inceptionism serve)")  # fmt: skip


def _open_camera(camera: str) -> Any:
    """The OpenCV capture of ``camera`` (an index, or a file or URL), or fail saying why not."""
    cv2 = _cv2()
    source = cv2.VideoCapture(int(camera) if camera.isdigit() else camera)
    if not source.isOpened():
        where = f"camera {camera}" if camera.isdigit() else camera
        fail(f"cannot open {where}: no camera there, it is in use, or access is refused "
             "(give another --camera INDEX, or a video file)")  # fmt: skip
    return source


def _frames(source: Any, limit: int | None) -> Iterator[np.ndarray]:
    """RGB frames of the capture ``source``, at most ``limit``, until it ends."""
    cv2, count = _cv2(), 0
    try:
        while limit is None or count < limit:
            ok, frame = source.read()
            if not ok:
                return
            count += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        source.release()


def _loop(dreamed: Iterator[np.ndarray], record: Path | None, *, window: bool) -> tuple[int, float]:
    """Show the ``dreamed`` frames as they come (and record them) until q, Esc or Ctrl-C; how many, in how long."""
    cv2 = _cv2()
    recording = Recording(record, comment="inceptionism live") if record is not None else None
    started, count = time.monotonic(), 0
    try:
        for frame in dreamed:
            count += 1
            if recording is not None:
                recording.write(frame, time.monotonic())
            if window and not _shown(cv2, frame):
                break
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the session as q does: what was dreamed is kept
    finally:
        if recording is not None:
            recording.finish()
        if window:
            cv2.destroyAllWindows()
    return count, time.monotonic() - started


def _shown(cv2: Any, frame: np.ndarray) -> bool:
    """Show ``frame`` in the window; ``False`` once q or Esc is pressed or the window is closed."""
    cv2.imshow(WINDOW, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    key = cv2.waitKey(1) & 0xFF
    return key not in (ord("q"), 27) and cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) >= 1
