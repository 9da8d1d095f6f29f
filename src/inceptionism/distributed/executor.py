"""Running a render's tasks: in this process, or on a Dask cluster, results handed back as they finish.

Both executors take a module-level task function and an iterable of argument tuples, and
yield ``(index, result)`` pairs. :class:`InProcess` runs them one after the other here;
:class:`DaskExecutor` keeps twice as many tasks submitted as there are workers (so none idles,
and a long render is never all in memory at once), yields them in the order they finish, and on the
first failure cancels the rest and raises that task's own error: the engine's one-line
message, not a remote traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from inceptionism.distributed.cluster import ClusterArg, ClusterError, connect, parse_cluster
from inceptionism.distributed.worker import run_task
from inceptionism.engine.options import Option
from inceptionism.engine.runtime import torch_threads

logger = logging.getLogger(__name__)
TaskFunction = Callable[..., Any]
LARGE_TASK = "256MB"
"""A task this large is expected (a segment's frames as PNG): Dask warns from 10 MB by default."""


CLUSTER_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("cluster", None, "Run on a Dask cluster: a scheduler's address (tcp://10.0.0.5:8786) or local:N, "
               "N worker processes on this machine.", shown_default="in this process", metavar="ADDRESS|local:N"),
        Option("threads", None, "torch threads per dream (the pixels depend on it).", minimum=1, maximum=1024,
               shown_default="all cores here; this machine's cores divided by N on local:N; the workers' own on a "
               "scheduler", kind=int),
    )
}  # fmt: skip
"""Where a render's tasks run (a batch's dreams, a video's segments, an atlas's tiles): the render farm's options."""


class Executor(Protocol):
    """What renders run their tasks on."""

    dashboard: str | None
    threads: int | None

    @property
    def workers(self) -> int:
        """How many tasks can run at once."""
        ...

    def run(self, function: TaskFunction, tasks: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """``(index, function(*tasks[index]))`` for every task, in the order they finish."""
        ...


class InProcess:
    """Tasks run one after the other in this process (what a render without a cluster does).

    Args:
        threads: torch threads while a task runs (``None``: as they are).
    """

    dashboard = None

    @property
    def workers(self) -> int:
        """One task at a time."""
        return 1

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def run(self, function: TaskFunction, tasks: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Each task in order, here."""
        for index, arguments in enumerate(tasks):
            with torch_threads(self.threads):
                result = function(*arguments)
            yield index, result


class DaskExecutor:
    """Tasks run on the workers of a ``dask.distributed.Client``.

    Args:
        client: the connected client.
        threads: torch threads each task uses on its worker (``None``: the worker's own setting).
    """

    def __init__(self, client: Any, threads: int | None = None) -> None:
        self.client = client
        self.threads = threads
        self.dashboard = getattr(client, "dashboard_link", None)

    @property
    def workers(self) -> int:
        """Workers connected now (a cluster that is scaling up gains them during a render)."""
        return max(1, len(self.client.nthreads()))

    def run(self, function: TaskFunction, tasks: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Tasks submitted as workers can take them (one waiting for each), yielded as they finish."""
        import dask
        from distributed import as_completed

        pending = iter(enumerate(tasks))
        index_of: dict[Any, int] = {}
        finished = as_completed()

        def submit_more() -> None:
            room = 2 * self.workers
            while len(index_of) < room:
                item = next(pending, None)
                if item is None:
                    return
                index, arguments = item
                with dask.config.set({"distributed.admin.large-graph-warning-threshold": LARGE_TASK}):
                    future = self.client.submit(run_task, function, self.threads, *arguments, pure=False, retries=0)
                index_of[future] = index
                finished.add(future)

        try:
            submit_more()
            for future in finished:
                result = _result(future)
                index = index_of.pop(future)
                submit_more()
                yield index, result
        finally:
            for future in list(index_of):
                future.cancel()


def _result(future: Any) -> Any:
    """The task's result; a lost worker or cluster becomes one line, a task's own error stays itself."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    try:
        return future.result()
    except KilledWorker as error:
        raise ClusterError(
            f"the workers running a task died too many times ({error}); see the workers' logs; "
            "the finished work is kept: run the same again to resume"
        ) from None
    except (FutureCancelledError, OSError, TimeoutError) as error:  # the scheduler went away (CommClosedError...)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClusterError(
            f"lost the cluster during the render ({reason}); the finished work is kept: run the same again to resume"
        ) from None


@contextlib.contextmanager
def open_executor(cluster: ClusterArg = None, *, threads: int | None = None) -> Iterator[Executor]:
    """An executor for ``cluster``: this process, a new ``LocalCluster``, or a scheduler.

    Args:
        cluster: ``None`` (this process), ``"local:N"`` (N worker processes on this machine,
            one task at a time each, stopped on exit), a scheduler address
            (``"tcp://10.0.0.5:8786"``), or a connected ``dask.distributed.Client`` (left open).
        threads: torch threads per task (``None``: in this process as they are; on
            ``local:N`` this machine's cores divided by N; on a scheduler the workers' own).

    Raises:
        ClusterError: a bad address, a scheduler that cannot be reached within
            :data:`~inceptionism.distributed.cluster.CONNECT_TIMEOUT` seconds, or Dask missing.
    """
    threads = CLUSTER_OPTIONS["threads"].check("threads", threads)
    if cluster is None:
        yield InProcess(threads)
        return
    if not isinstance(cluster, str):
        yield DaskExecutor(cluster, threads)
        return
    spec = parse_cluster(cluster)
    with connect(spec) as client:
        executor = DaskExecutor(client, threads if threads is not None else spec.threads)
        logger.info("running on %d Dask workers; dashboard: %s", executor.workers, executor.dashboard)
        yield executor
