"""The job queue and the worker threads that dream its jobs, one at a time each.

The queue is bounded: a submission beyond ``queue_limit`` waiting jobs is refused (the
route answers 429). A job's state moves queued -> running -> done | failed | cancelled
in the store; a server stopped mid-job leaves it running there, and the next start puts
it back in the queue (a zoom or video goes on from its finished frames).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from inceptionism.engine.progress import Cancelled
from inceptionism.engine.runtime import give_back_freed_memory
from inceptionism.errors import InceptionismError
from inceptionism.render.zoom import ZOOM_OPTIONS
from inceptionism.web.board import JobBoard
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.runner import JobRun
from inceptionism.web.store import Job, JobStore, now

logger = logging.getLogger(__name__)


def _frames_of(job: Job) -> int:
    """How many frames (tiles, for an atlas) a job makes, as far as is known before it runs."""
    if job.kind == "atlas":
        return len(job.params["channels"])
    if job.kind == "zoom":
        return int(job.params.get("frames", ZOOM_OPTIONS["frames"].default))
    return 1


class QueueFull(Exception):
    """The queue holds as many jobs as it may."""


class NoWorker(Exception):
    """Every worker is busy: a live session cannot take one."""


class WorkerPool:
    """``count`` threads dreaming the queued jobs of ``store`` in order.

    Args:
        store: where jobs are kept.
        catalog: the networks jobs name.
        board: where running jobs report progress.
        count: worker threads (jobs run at once; on a cluster, jobs handed to it at once).
        limit: most jobs waiting.

    With :attr:`cluster` set to a ``dask.distributed.Client``, the jobs' work runs there
    (see :class:`~inceptionism.web.runner.JobRun`).
    """

    def __init__(self, store: JobStore, catalog: ModelCatalog, board: JobBoard, *, count: int, limit: int) -> None:
        self.store, self.catalog, self.board = store, catalog, board
        self.count, self.limit = count, limit
        self.cluster: Any = None  # a dask.distributed.Client while the studio runs on a cluster
        self.cluster_threads: int | None = None  # torch threads of each task there
        self._pending: deque[str] = deque()
        self._cancelled: set[str] = set()
        self._running: set[str] = set()
        self._lent = 0  # workers taken by live sessions
        self._ready = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Queue again what a stopped server left, and start the workers."""
        with self._ready:
            self._stopping = False
            self._pending.clear()
            self._pending.extend(job.id for job in self.store.requeue_interrupted())
        self._threads = []
        for index in range(self.count):
            thread = threading.Thread(target=self._work, name=f"inceptionism-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current step; jobs running now stay queued in the store for the next start."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def waiting(self) -> int:
        """Jobs in the queue, not yet running."""
        return len(self._pending)

    def submit(self, job_id: str) -> None:
        """Queue a stored job.

        Raises:
            QueueFull: ``limit`` jobs are waiting already.
        """
        with self._ready:
            if len(self._pending) >= self.limit:
                raise QueueFull
            self._pending.append(job_id)
            self._ready.notify()

    def check_room(self) -> None:
        """Raise :class:`QueueFull` now if a submission would be refused (before its upload is kept)."""
        if len(self._pending) >= self.limit:
            raise QueueFull

    def cancel(self, job_id: str) -> None:
        """Cancel a queued job now, or a running one after its current step."""
        with self._ready:
            if job_id in self._pending:
                self._pending.remove(job_id)
                self.store.update(job_id, state="cancelled", finished=now(), error="cancelled before it started")
                return
            if job_id in self._running:
                self._cancelled.add(job_id)

    def lend(self) -> None:
        """Take a worker for a live session: no job starts on it until :meth:`take_back`.

        Raises:
            NoWorker: every worker is dreaming a job or lent (the message names the jobs).
        """
        with self._ready:
            if len(self._running) + self._lent < self.count:
                self._lent += 1
                return
            running = ", ".join(sorted(job_id[:8] for job_id in self._running))
            busy = f"dreaming job {running}" if running else "in live sessions"
            raise NoWorker(f"the studio's {self.count} worker{'s' if self.count > 1 else ''} "
                           f"{'are' if self.count > 1 else 'is'} {busy}; wait for it or cancel it, "
                           "or serve with more --workers")  # fmt: skip

    def take_back(self) -> None:
        """Give the worker of a live session back to the jobs."""
        with self._ready:
            self._lent -= 1
            self._ready.notify_all()

    def _next(self) -> str | None:
        with self._ready:
            while (not self._pending or len(self._running) + self._lent >= self.count) and not self._stopping:
                self._ready.wait()
            if self._stopping:
                return None
            job_id = self._pending.popleft()
            self._running.add(job_id)
            return job_id

    def _work(self) -> None:
        while (job_id := self._next()) is not None:
            try:
                self._run(job_id)
            finally:
                with self._ready:
                    self._running.discard(job_id)
                    self._cancelled.discard(job_id)
                self.board.end(job_id)
                give_back_freed_memory()  # what the job decoded and dreamed with, freed by now

    def _run(self, job_id: str) -> None:
        job = self.store.get(job_id)
        if job is None or job.state != "queued":
            return
        self.store.update(job_id, state="running", started=now())
        live = self.board.start(job_id, frames_total=_frames_of(job))

        def stop() -> bool:
            return self._stopping or job_id in self._cancelled

        try:
            net = self.catalog.network(job.params["model"])
            outcome = JobRun(
                job, self.store.folder(job_id), net, self.board, live, stop, self.cluster, self.cluster_threads
            )()
        except Cancelled as error:
            if self._stopping and job_id not in self._cancelled:
                return  # left running in the store: the next start queues it again
            self.store.update(job_id, state="cancelled", finished=now(), error=str(error),
                              frames_done=live.frames_done, frames_total=live.frames_total)  # fmt: skip
        except InceptionismError as error:
            self.store.update(job_id, state="failed", finished=now(), error=str(error))
        except Exception as error:  # a bug: the job fails, the server stays up
            if self._stopping and job_id not in self._cancelled:
                return  # the server stops (its cluster closing under the job): queued again at the next start
            logger.exception("job %s failed", job_id)
            self.store.update(job_id, state="failed", finished=now(), error=f"internal error: {error}")
        else:
            self.store.update(
                job_id,
                state="done",
                finished=now(),
                frames_done=live.frames_done,
                frames_total=live.frames_total,
                result=outcome.result,
                media_type=outcome.media_type,
                chart=outcome.chart,
                labels=outcome.labels,
            )
