"""What a running job is doing right now: its progress and its latest preview, kept in memory (the job board).

Workers write here after every step; ``GET /api/jobs/{id}`` and the event stream read it.
The database keeps only what must survive a restart.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass

import torch

from inceptionism.io.images import preview_jpeg


@dataclass
class RunningJob:
    """The moving parts of one running job.

    Attributes:
        progress: 0..1 over the whole job.
        frames_done: finished frames (1 for a finished still).
        frames_total: frames in the job (1 for a still).
        preview: the latest preview as a ``data:image/jpeg;base64,...`` URL, if any.
        preview_version: counts previews, so a reader knows when there is a new one.
    """

    progress: float = 0.0
    frames_done: int = 0
    frames_total: int = 1
    preview: str | None = None
    preview_version: int = 0
    last_preview: float = 0.0


class JobBoard:
    """The live state of every running job, by id."""

    def __init__(self, preview_interval: float) -> None:
        self.preview_interval = preview_interval
        self._jobs: dict[str, RunningJob] = {}
        self._lock = threading.Lock()

    def start(self, job_id: str, frames_total: int) -> RunningJob:
        """A fresh live state for a job that starts running."""
        with self._lock:
            live = self._jobs[job_id] = RunningJob(frames_total=frames_total)
        return live

    def get(self, job_id: str) -> RunningJob | None:
        """The live state of a running job, if it is running."""
        return self._jobs.get(job_id)

    def end(self, job_id: str) -> None:
        """Forget a job that stopped running."""
        with self._lock:
            self._jobs.pop(job_id, None)

    def offer_preview(self, live: RunningJob, pixels: torch.Tensor | None) -> None:
        """Make ``pixels`` ``(1, 3, H, W)`` 0..255 the preview, unless the last one is too recent."""
        moment = time.monotonic()
        if pixels is None or moment - live.last_preview < self.preview_interval:
            return
        live.last_preview = moment
        live.preview = jpeg_data_url(pixels)
        live.preview_version += 1

    def show_preview(self, live: RunningJob, jpeg: bytes) -> None:
        """Make the JPEG ``jpeg`` (from :func:`~inceptionism.io.images.preview_jpeg`, made elsewhere) the preview."""
        live.last_preview = time.monotonic()
        live.preview = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        live.preview_version += 1


def jpeg_data_url(pixels: torch.Tensor) -> str:
    """A small JPEG of ``pixels`` ``(1, 3, H, W)`` in 0..255, as a data URL."""
    return "data:image/jpeg;base64," + base64.b64encode(preview_jpeg(pixels)).decode()
