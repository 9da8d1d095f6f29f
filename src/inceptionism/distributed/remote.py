"""Progress, previews and stopping for a task that runs on a Dask worker.

The task reports through Dask's event log (a topic per task) and looks, at the same
pace, whether a Dask ``Event`` asks it to stop; the client subscribes to the topic. Both
are throttled, so a task of a thousand steps sends a few reports a second, not a thousand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inceptionism.engine.progress import Progress

Report = dict[str, Any]
REPORT_INTERVAL = 0.25  # seconds between two reports (and two looks at the stop flag)


def stop_name(topic: str) -> str:
    """The name of the Dask ``Event`` that asks the task reporting on ``topic`` to stop."""
    return f"{topic}-stop"


class TaskReporter:
    """The progress callback of a task on a worker: reports on ``topic``, returns ``True`` once asked to stop.

    Args:
        topic: the event-log topic the client listens to.
        preview: makes a preview (bytes) of a step's pixels, or ``None`` for no previews.
        interval: seconds between two reports.
    """

    def __init__(
        self, topic: str, preview: Callable[[Any], bytes] | None = None, interval: float = REPORT_INTERVAL
    ) -> None:
        from distributed import Event, get_worker

        self.topic, self.preview, self.interval = topic, preview, interval
        self._worker = get_worker()
        self._stop = Event(stop_name(topic))
        self._last = 0.0
        self._stopped = False

    def __call__(self, progress: Progress) -> bool:
        """Report ``progress`` (at most every ``interval`` seconds, and the last step); whether to stop."""
        moment = time.monotonic()
        if moment - self._last < self.interval and progress.done < progress.total:
            return self._stopped
        self._last = moment
        report: Report = {"done": progress.done, "total": progress.total}
        if self.preview is not None and progress.pixels is not None:
            report["preview"] = self.preview(progress.pixels)
        self._worker.log_event(self.topic, report)
        self._stopped = self._stopped or self._stop.is_set()
        return self._stopped


class TaskWatch:
    """The client's side: ``on_report`` is called with every report of ``topic``; :meth:`stop` asks the task to stop.

    Use as a context manager: the subscription ends with it.
    """

    def __init__(self, client: Any, topic: str, on_report: Callable[[Report], None]) -> None:
        self.client, self.topic, self.on_report = client, topic, on_report

    def __enter__(self) -> TaskWatch:
        self.client.subscribe_topic(self.topic, self._received)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.unsubscribe_topic(self.topic)

    def _received(self, event: tuple[float, Report]) -> None:
        self.on_report(event[1])

    def stop(self) -> None:
        """Ask the task to stop after its current step."""
        from distributed import Event

        Event(stop_name(self.topic), client=self.client).set()
