"""What a live session keeps: a snapshot or a recording, each a finished gallery job of kind ``live``.

A recording is written as frames are dreamed (:class:`~inceptionism.io.recording.Recording`)
and becomes a job when it stops: asked, full (the studio's ``max_frames``), or with its
session. One that fails, or that no frame reached, leaves nothing behind: not its file, not its
folder. The recording is taken out under a lock before it is finished, so only one caller
ever finishes it.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inceptionism.io.images import encode_image
from inceptionism.io.recording import Recording
from inceptionism.web.store import Job, now

logger = logging.getLogger(__name__)

Taken = tuple[Recording, Job, Path]


class Keeper:
    """Keep a live session's snapshots and recording in the gallery.

    Args:
        save: stores a finished job; returns it as the API shows it.
        folder: gives a fresh job id and its (new, empty) folder.
        max_frames: the most frames a recording keeps.
    """

    def __init__(
        self, save: Callable[[Job], dict[str, Any]], folder: Callable[[], tuple[str, Path]], *, max_frames: int
    ) -> None:
        self.save, self.folder, self.max_frames = save, folder, max_frames
        self._lock = threading.Lock()
        self._recording: Taken | None = None

    @property
    def recording(self) -> bool:
        """Whether a recording is under way."""
        return self._recording is not None

    def snapshot(self, pixels: np.ndarray, source: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
        """Keep the dreamed frame ``pixels`` and the frame it was dreamed on; the ``saved`` message."""
        job_id, folder = self.folder()
        try:
            for name, picture in (("result.png", pixels), ("input.png", source)):
                (folder / name).write_bytes(encode_image(Image.fromarray(picture), "PNG"))
            job = _finished(job_id, params, result="result.png", media_type="image/png", frames=1)
            job.files = {"image": "input.png"}
            return {"type": "saved", "job": self.save(job)}
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def start(self, params: dict[str, Any]) -> dict[str, Any]:
        """Start recording (nothing changes if one is under way); the ``recording`` message."""
        with self._lock:
            if self._recording is None:
                job_id, folder = self.folder()
                try:
                    recording = Recording(folder / "result.mp4", comment="inceptionism live")
                except BaseException:
                    shutil.rmtree(folder, ignore_errors=True)
                    raise
                job = _finished(job_id, params, result="result.mp4", media_type="video/mp4", frames=0)
                self._recording = (recording, job, folder)
        return {"type": "recording", "on": True, "max_frames": self.max_frames}

    def add(self, pixels: np.ndarray, seconds: float) -> dict[str, Any] | None:
        """Record a dreamed frame shown at ``seconds``; the message to send if that ended the recording."""
        with self._lock:
            if self._recording is None:
                return None
            recording = self._recording[0]
            try:
                recording.write(pixels, seconds)
            except Exception as error:
                logger.exception("a live recording failed")
                _abandon(self._take())
                return {"type": "recording", "on": False, "detail": f"the recording failed and was not kept: {error}"}
            taken = self._take() if recording.count >= self.max_frames else None
        return None if taken is None else _kept(taken, self.save)

    def stop(self) -> dict[str, Any]:
        """Stop recording and keep it; the ``saved`` message (``recording`` off if there was none to keep)."""
        with self._lock:
            taken = self._take()
        if taken is None:
            return {"type": "recording", "on": False, "max_frames": self.max_frames}
        return _kept(taken, self.save)

    def _take(self) -> Taken | None:
        taken, self._recording = self._recording, None
        return taken


def _kept(taken: Taken, save: Callable[[Job], dict[str, Any]]) -> dict[str, Any]:
    """Finish a recording taken out: the ``saved`` message, or ``recording`` off when no frame reached it."""
    recording, job, folder = taken
    try:
        kept = recording.finish()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not kept:
        shutil.rmtree(folder, ignore_errors=True)
        return {"type": "recording", "on": False, "frames": 0, "detail": "no frame was dreamed: nothing kept"}
    job.frames_done = job.frames_total = recording.count
    return {"type": "saved", "job": save(job)}


def _abandon(taken: Taken | None) -> None:
    if taken is not None:
        taken[0].abandon()
        shutil.rmtree(taken[2], ignore_errors=True)


def _finished(job_id: str, params: dict[str, Any], *, result: str, media_type: str, frames: int) -> Job:
    moment = now()
    return Job(id=job_id, kind="live", state="done", params=dict(params), created=moment, started=moment,
               finished=moment, result=result, media_type=media_type, frames_done=frames,
               frames_total=frames)  # fmt: skip
