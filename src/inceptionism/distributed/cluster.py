"""Which cluster a render runs on: ``local:N``, a scheduler's address, or a ``Client`` given."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inceptionism.errors import InceptionismError

LOCAL_WORKERS_LIMIT = 64
CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before giving up
WORKER_PRELOAD = "inceptionism.distributed.worker"  # its dask_setup: workers ignore the terminal's Ctrl-C
_LOCAL = re.compile(r"local:(\d+)")
_ADDRESS = re.compile(r"(?:(tcp|tls|ucx|inproc|ws|wss)://)?[\w.\-\[\]:]+:\d{1,5}")

ClusterArg = Any
"""``None`` (in this process), ``"local:N"``, ``"tcp://host:port"`` or a ``dask.distributed.Client``."""


class ClusterError(InceptionismError):
    """A cluster that cannot be started or reached."""


@dataclass(frozen=True)
class ClusterSpec:
    """A cluster named on the command line or in Python.

    Attributes:
        workers: worker processes to start on this machine (``local:N``), else ``None``.
        address: the scheduler to connect to, else ``None``.
    """

    workers: int | None = None
    address: str | None = None

    @property
    def threads(self) -> int | None:
        """Torch threads per task on a local cluster: this machine's cores shared out, at least one."""
        if self.workers is None:
            return None
        return max(1, (os.cpu_count() or 1) // self.workers)


def parse_cluster(text: str) -> ClusterSpec:
    """``"local:2"`` or ``"tcp://10.0.0.5:8786"`` as a :class:`ClusterSpec`.

    >>> parse_cluster("local:2").workers, parse_cluster("tcp://10.0.0.5:8786").address
    (2, 'tcp://10.0.0.5:8786')
    """
    text = text.strip()
    local = _LOCAL.fullmatch(text)
    if local:
        workers = int(local[1])
        if not 1 <= workers <= LOCAL_WORKERS_LIMIT:
            raise ClusterError(
                f"local:N takes 1 to {LOCAL_WORKERS_LIMIT} worker processes, got {workers}", argument="cluster"
            )
        return ClusterSpec(workers=workers)
    if _ADDRESS.fullmatch(text):
        return ClusterSpec(address=text if "://" in text else f"tcp://{text}")
    raise ClusterError(
        f"cluster must be local:N or a scheduler address like tcp://10.0.0.5:8786, got {text!r}", argument="cluster"
    )


@contextlib.contextmanager
def connect(spec: ClusterSpec) -> Iterator[Any]:
    """A ``dask.distributed.Client`` of ``spec``: a new ``LocalCluster`` (stopped on exit) or the scheduler's.

    Raises:
        ClusterError: Dask is missing, or the scheduler cannot be reached within
            :data:`CONNECT_TIMEOUT` seconds.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(
            "running on a cluster needs Dask's distributed scheduler; run: pip install 'inceptionism[cluster]'",
            argument="cluster",
        ) from None
    if spec.workers is not None:
        with warnings.catch_warnings():  # "port 8787 is in use": it takes another, and the notice names it
            warnings.simplefilter("ignore", UserWarning)
            local = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                                 silence_logs=logging.CRITICAL, preload=[WORKER_PRELOAD])  # fmt: skip
        with local, Client(local) as client:
            yield client
        return
    try:
        client = Client(spec.address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClusterError(
            f"cannot reach the Dask scheduler at {spec.address} ({reason}); start one with `dask scheduler` "
            "and workers with `dask worker ADDRESS`, or use local:N",
            argument="cluster",
        ) from None
    with client:
        yield client
