"""The library's errors as HTTP refusals: the same one-line message the CLI prints, a precise status."""

from __future__ import annotations

from fastapi import HTTPException

from inceptionism.errors import InceptionismError, WeightsError


def refusal(error: InceptionismError) -> HTTPException:
    """503 for weights this server lacks; else 422 (a parameter, name or size the job cannot have)."""
    return HTTPException(503 if isinstance(error, WeightsError) else 422, str(error))


def queue_full(retry_after: int) -> HTTPException:
    """429 with ``Retry-After``: the queue holds as many jobs as it may."""
    return HTTPException(
        429, "the queue is full; try again in a little while", headers={"Retry-After": str(retry_after)}
    )
