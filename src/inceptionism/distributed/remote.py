"""One task on a Dask worker, watched from here: its progress and previews, and stopping it.

The task keeps its latest report in a Dask ``Variable`` (only the latest: a long dream does
not pile up reports on the scheduler) and looks, at the same pace, whether a Dask ``Event``
asks it to stop. :func:`run_watched` submits it, hands each new report to a callback,
sets the event when asked, and removes both when the task ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inceptionism.distributed.worker import run_task
from inceptionism.engine.progress import Progress

Report = dict[str, Any]
REPORT_INTERVAL = 0.25  # seconds between two reports (and two looks at the stop flag)
WATCH_INTERVAL = 0.1  # seconds between two looks at the task from here


def _names(topic: str) -> tuple[str, str]:
    """The Dask ``Variable`` holding the latest report and the ``Event`` asking to stop, for ``topic``."""
    return f"{topic}-report", f"{topic}-stop"


class TaskReporter:
    """The progress callback of a task on a worker: reports for ``topic``, returns ``True`` once asked to stop.

    Args:
        topic: the name :func:`run_watched` gave the task.
        preview: makes a preview (bytes) of a step's pixels, or ``None`` for no previews.
        interval: seconds between two reports.
    """

    def __init__(
        self, topic: str, preview: Callable[[Any], bytes] | None = None, interval: float = REPORT_INTERVAL
    ) -> None:
        from distributed import Event, Variable

        report, stop = _names(topic)
        self.preview, self.interval = preview, interval
        self._report, self._stop = Variable(report), Event(stop)
        self._last = 0.0
        self._stopped = False
        self._count = 0

    def __call__(self, progress: Progress) -> bool:
        """Report ``progress`` (at most every ``interval`` seconds, and the last step); whether to stop."""
        moment = time.monotonic()
        if moment - self._last < self.interval and progress.done < progress.total:
            return self._stopped
        self._last = moment
        self._count += 1
        report: Report = {"count": self._count, "done": progress.done, "total": progress.total}
        if self.preview is not None and progress.pixels is not None:
            report["preview"] = self.preview(progress.pixels)
        self._report.set(report)
        self._stopped = self._stopped or self._stop.is_set()
        return self._stopped


def run_watched(
    client: Any,
    function: Callable[..., Any],
    arguments: tuple[Any, ...],
    *,
    topic: str,
    threads: int | None,
    on_report: Callable[[Report], None],
    stop: Callable[[], bool],
) -> Any:
    """``function(*arguments, topic)`` on a worker; each new report to ``on_report``, ``stop()`` asked meanwhile.

    ``function`` must report through a :class:`TaskReporter` of ``topic``. Returns its result,
    or raises its error (an ``InceptionismError`` stays itself, ``Cancelled`` when stopped).
    """
    from distributed import Event, Variable

    report_name, stop_name = _names(topic)
    variable, event = Variable(report_name, client=client), Event(stop_name, client=client)
    future = client.submit(run_task, function, threads, *arguments, topic, pure=False)
    seen = 0
    try:
        while not future.done():
            if stop():
                event.set()
            try:
                latest = variable.get(timeout=0)
            except TimeoutError:
                latest = None
            if latest and latest["count"] > seen:
                seen = latest["count"]
                on_report(latest)
            time.sleep(WATCH_INTERVAL)
        return future.result()
    finally:
        future.cancel()
        variable.delete()
        event.clear()
