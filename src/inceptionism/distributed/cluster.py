"""Which cluster a render runs on: ``local:N``, a scheduler's address, or a ``Client`` given."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from inceptionism.errors import InceptionismError

LOCAL_WORKERS_LIMIT = 64
CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before giving up
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
