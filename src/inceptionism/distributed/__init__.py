"""Spreading a render over many processes or machines with Dask's distributed scheduler.

A render (a batch, a segmented video, an atlas) is cut into tasks that carry their settings
as data; :func:`open_executor` runs them in this process, on a ``LocalCluster`` of worker
processes (``"local:N"``) or on a running Dask scheduler, and hands back the results as they
finish. Each worker process loads a network once and keeps its prepared
:class:`~inceptionism.engine.dreamer.Dreamer` for the next task (:mod:`.worker`).
"""

from inceptionism.distributed.cluster import ClusterArg, ClusterError, parse_cluster
from inceptionism.distributed.executor import CLUSTER_OPTIONS, DaskExecutor, Executor, InProcess, open_executor

__all__ = [
    "CLUSTER_OPTIONS",
    "ClusterArg",
    "ClusterError",
    "DaskExecutor",
    "Executor",
    "InProcess",
    "open_executor",
    "parse_cluster",
]
