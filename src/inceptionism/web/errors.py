"""The library's errors as HTTP refusals: the same one-line message the CLI prints, a precise status."""

from __future__ import annotations

from fastapi import HTTPException

from inceptionism.errors import ImageError, InceptionismError, WeightsError


def refusal(error: InceptionismError) -> HTTPException:
    """415 for an input that is no usable image or video, 503 for weights this server lacks, else 422."""
    if isinstance(error, ImageError):
        status = 415
    elif isinstance(error, WeightsError):
        status = 503
    else:
        status = 422
    return HTTPException(status, str(error))


def queue_full(retry_after: int) -> HTTPException:
    """429 with ``Retry-After``: the queue holds as many jobs as it may."""
    return HTTPException(
        429, "the queue is full; try again in a little while", headers={"Retry-After": str(retry_after)}
    )
