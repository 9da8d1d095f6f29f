"""The library's errors as HTTP refusals: the same one-line message the CLI prints, a precise status."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from inceptionism.errors import InceptionismError, WeightsError


def refusal(error: InceptionismError, *, hide: Path | None = None) -> HTTPException:
    """503 for weights this server lacks; else 422 (a parameter, name or size the job cannot have).

    ``hide``: a folder of the server whose path must not reach the client (an upload's).
    """
    detail = str(error)
    if hide is not None:
        for role in ("image", "guide", "mask"):
            detail = re.sub(rf"{re.escape(str(hide))}/{role}\.\w+", f"the uploaded {role}", detail)
        detail = detail.replace(str(hide), "the upload")
    return HTTPException(503 if isinstance(error, WeightsError) else 422, detail)


def validation_detail(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (a query or form field of the wrong type) as one line naming the field."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path"))
    return JSONResponse({"detail": f"{where or 'request'}: {first.get('msg', 'invalid')}"}, status_code=422)


def queue_full(retry_after: int) -> HTTPException:
    """429 with ``Retry-After``: the queue holds as many jobs as it may."""
    return HTTPException(
        429, "the queue is full; try again in a little while", headers={"Retry-After": str(retry_after)}
    )
