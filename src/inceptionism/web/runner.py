"""Run one job through the Python API, reporting progress and previews and stopping when asked.

A dream job calls :func:`~inceptionism.dream`, a zoom :func:`~inceptionism.zoom`, a video
:func:`~inceptionism.video`, an atlas :func:`~inceptionism.atlas`, with the job's parameters
as keywords. With a cluster, a dream is one task on a worker (its progress and previews come
back through Dask's event log), a video's segments and an atlas's batches of channels are
tasks there, and a zoom, sequential by nature, runs here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from inceptionism.classify import classify
from inceptionism.distributed.remote import run_watched
from inceptionism.engine.progress import Progress
from inceptionism.io.images import save_image
from inceptionism.models.network import Network
from inceptionism.render.atlas import AtlasProgress, atlas
from inceptionism.render.batch import dream_item
from inceptionism.render.frames import FrameDone
from inceptionism.render.still import compose_settings, dream
from inceptionism.render.video import video
from inceptionism.render.videoplan import VIDEO_OPTIONS
from inceptionism.render.zoom import ZOOM_OPTIONS, zoom
from inceptionism.web.board import JobBoard, RunningJob
from inceptionism.web.kinds import JobKind
from inceptionism.web.store import Job

TOP_LABELS = 5
MEDIA_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".gif": "image/gif", ".webp": "image/webp"}


@dataclass
class Outcome:
    """What a finished job leaves: file names in its folder, and what the network saw."""

    result: str
    media_type: str
    chart: str | None = None
    labels: dict[str, Any] | None = None


class JobRun:
    """One run of ``job`` in ``folder``: progress goes to ``live``, ``stop()`` returning true stops it.

    Args:
        job: the stored job.
        folder: its folder (uploads in, result out; a zoom or video keeps its frames there to resume).
        net: the network its ``model`` names.
        board: where live progress and previews go.
        live: this job's live state.
        stop: asked after every step; true cancels the job (the engine raises ``Cancelled``).
        cluster: a ``dask.distributed.Client`` to run the job's tasks on, or ``None`` (here).
        threads: torch threads of each task on the cluster (``None``: the workers' own).
    """

    def __init__(
        self,
        job: Job,
        folder: Path,
        net: Network,
        board: JobBoard,
        live: RunningJob,
        stop: Callable[[], bool],
        cluster: Any = None,
        threads: int | None = None,
    ) -> None:
        self.job, self.folder, self.net, self.board, self.live, self.stop = job, folder, net, board, live, stop
        self.cluster, self.threads = cluster, threads

    def __call__(self) -> Outcome:
        """Dream the job; its outcome."""
        kinds: dict[JobKind, Callable[[], Outcome]] = {
            "dream": self._dream, "zoom": self._zoom, "video": self._video, "atlas": self._atlas
        }  # fmt: skip
        return kinds[self.job.kind]()

    def _file(self, role: str) -> Path | None:
        name = self.job.files.get(role)
        return None if name is None else self.folder / name

    def _options(self, own: tuple[str, ...] = ()) -> dict[str, Any]:
        """The dream options of the job (``model`` is given as the network), and any of ``own``."""
        return {key: value for key, value in self.job.params.items() if key != "model" and (key not in own)}

    def _step(self, progress: Progress) -> bool:
        """After every step: progress within the current frame, a preview now and then, stop if asked."""
        live = self.live
        within = progress.done / max(progress.total, 1)
        live.progress = min(1.0, (live.frames_done + within) / max(live.frames_total, 1))
        self.board.offer_preview(live, progress.pixels)
        return self.stop()

    def _frame(self, done: FrameDone) -> bool:
        live = self.live
        live.frames_total = max(done.frames, 1)
        live.frames_done += 1  # counted: a video's segments finish in any order
        live.progress = min(1.0, live.frames_done / live.frames_total)
        return self.stop()

    def _labels(self, image: Image.Image | Path) -> list[dict[str, Any]]:
        return [
            {"label": p.label, "probability": round(p.probability, 4)}
            for p in classify(image, model=self.net, top=TOP_LABELS)
        ]

    def _dream(self) -> Outcome:
        if self.cluster is not None:
            return self._dream_on_cluster()
        options = self._options()
        result = dream(
            self._file("image"),
            model=self.net,
            guide=self._file("guide"),
            mask=self._file("mask"),
            callback=self._step,
            **options,
        )
        self.live.frames_done, self.live.progress = 1, 1.0
        save_image(result.image, self.folder / "result.png", metadata=self._recorded(result.params))
        labels = {"before": self._labels(result.source.image), "after": self._labels(result.image)}
        return Outcome("result.png", MEDIA_TYPES[".png"], labels=labels)

    def _recorded(self, params: dict[str, Any]) -> dict[str, Any]:
        """A dream's parameters with the names the files had when they were uploaded."""
        return {**params, **{"input" if role == "image" else role: name for role, name in self.job.names.items()}}

    def _dream_on_cluster(self) -> Outcome:
        """The dream as one task on a worker; its reports become this job's progress and previews."""
        settings, _ = compose_settings(None, self.net, self._options())
        files = {
            role: (path.read_bytes() if (path := self._file(role)) else None) for role in ("image", "guide", "mask")
        }
        names = (self.job.names.get("guide"), self.job.names.get("mask"))
        arguments = (settings, files["image"], self.job.names.get("image"), files["guide"], files["mask"], names)
        encoded, params = run_watched(self.cluster, dream_item, arguments, topic=f"inceptionism-job-{self.job.id}",
                                      threads=self.threads, on_report=self._reported, stop=self.stop)  # fmt: skip
        self.live.frames_done, self.live.progress = 1, 1.0
        image = Image.open(io.BytesIO(encoded))
        save_image(image, self.folder / "result.png", metadata=self._recorded(params))
        before = self._labels(self._file("image")) if self._file("image") else None
        return Outcome("result.png", MEDIA_TYPES[".png"], labels={"before": before, "after": self._labels(image)})

    def _reported(self, report: dict[str, Any]) -> None:
        """A report of the task on the worker: progress, and a preview now and then."""
        self.live.progress = min(1.0, report["done"] / max(report["total"], 1))
        if report.get("preview"):
            self.board.show_preview(self.live, report["preview"])

    def _zoom(self) -> Outcome:
        params = self.job.params
        output = self.folder / f"result.{params.get('format', 'mp4')}"
        options = self._options(("format",))
        labels = options.pop("labels", True)
        motion = {name: options.pop(name) for name in list(options) if name in ZOOM_OPTIONS}
        self.live.frames_total = motion.get("frames", ZOOM_OPTIONS["frames"].default)
        result = zoom(
            self._file("image"),
            output,
            model=self.net,
            guide=self._file("guide"),
            mask=self._file("mask"),
            labels=labels,
            callback=self._frame,
            progress=self._step,
            **motion,
            **options,
        )
        chart = result.labels[1].name if result.labels else None
        seen = None
        if result.labels:
            before = self._labels(self._file("image")) if self._file("image") else None
            seen = {"before": before, "after": _last_frame_labels(result.labels[0])}
        return Outcome(output.name, MEDIA_TYPES[output.suffix], chart=chart, labels=seen)

    def _video(self) -> Outcome:
        options = self._options()
        flow = options.pop("flow", True)
        own = {name: options.pop(name) for name in list(options) if name in VIDEO_OPTIONS}
        output = self.folder / "result.mp4"
        video(
            self._file("image"),
            output,
            model=self.net,
            guide=self._file("guide"),
            mask=self._file("mask"),
            flow=flow,
            cluster=self.cluster,
            threads=self.threads,
            callback=self._frame,
            progress=self._step,
            **own,
            **options,
        )
        return Outcome(output.name, MEDIA_TYPES[".mp4"])

    def _atlas(self) -> Outcome:
        params = dict(self.job.params)
        del params["model"]
        result = atlas(self.net, params.pop("layer"), params.pop("channels"), progress=self._atlas_step,
                       cluster=self.cluster, threads=self.threads, **params)  # fmt: skip
        self.live.frames_done, self.live.progress = len(result.tiles), 1.0
        save_image(result.sheet(), self.folder / "result.png", metadata=result.params)
        return Outcome("result.png", MEDIA_TYPES[".png"])

    def _atlas_step(self, report: AtlasProgress) -> bool:
        live = self.live
        live.frames_done, live.frames_total = report.done, report.total
        live.progress = min(1.0, (report.done + report.step / report.steps) / max(report.total, 1))
        return self.stop()


def _last_frame_labels(path: Path) -> list[dict[str, Any]]:
    """The top labels of the last frame in a zoom's labels CSV."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    last = rows[-1]["frame"]
    return [
        {"label": row["label"], "probability": round(float(row["probability"]), 4)}
        for row in rows
        if row["frame"] == last
    ][:TOP_LABELS]
