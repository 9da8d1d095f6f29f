"""Helpers of the cluster tests."""

import os


def worker_pids(client) -> list[int]:
    """The process id of every worker."""
    return sorted(client.run(os.getpid).values())
