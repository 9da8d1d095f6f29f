"""The library's errors as HTTP refusals: the same one-line message the CLI prints, a precise status."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from inceptionism.errors import InceptionismError, WeightsError
from inceptionism.web.schemas import ErrorOut

MEANINGS = {
    400: "the Host header names another machine (a studio on a loopback address)",
    401: "the access token is missing or wrong (a studio with a token)",
    403: "a change sent by a page of another site",
    404: "nothing by that name: no such job, file, model or tile",
    409: "the job is not in a state that allows this",
    413: "the request, upload or image is larger than this studio takes",
    415: "the upload is not an image (or video) that can be read",
    422: "a parameter that is missing, malformed, unknown or out of bounds",
    429: "the queue is full: try again after Retry-After seconds",
    503: "the network's weights are not on this server",
}
"""What each refusal means, for the OpenAPI document."""


def answers(*statuses: int) -> dict[int | str, dict]:
    """The ``responses`` of a route that may refuse with ``statuses``: each a one-line :class:`ErrorOut`."""
    return {status: {"model": ErrorOut, "description": MEANINGS[status]} for status in statuses}


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
    given = first.get("input")
    shown = f", got {given!r}" if isinstance(given, (str, int, float)) and len(str(given)) <= 40 else ""
    return JSONResponse({"detail": f"{where or 'request'}: {first.get('msg', 'invalid')}{shown}"}, status_code=422)


def method_not_allowed(request: Request, error: Exception) -> JSONResponse:
    """405 whose ``Allow`` lists every method of the path (Starlette's names only the first route's)."""
    path = request.url.path
    paths = request.app.openapi()["paths"].items()
    allowed = sorted(method.upper() for template, item in paths if _matches(template, path) for method in item)
    return JSONResponse(
        {"detail": f"{request.method} is not taken by {path[:200]}; it takes {', '.join(allowed) or 'nothing'}"},
        status_code=405,
        headers={"Allow": ", ".join(allowed)},
    )


def _matches(template: str, path: str) -> bool:
    """Whether ``path`` is one of the OpenAPI path ``template``'s (``/api/jobs/{job_id}``).

    >>> _matches("/api/jobs/{job_id}", "/api/jobs/12ab"), _matches("/api/jobs/{job_id}", "/api/jobs/1/result")
    (True, False)
    """
    parts = re.split(r"(\{[^/}]+\})", template)
    pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.fullmatch(pattern, path) is not None


def queue_full(retry_after: int) -> HTTPException:
    """429 with ``Retry-After``: the queue holds as many jobs as it may."""
    return HTTPException(
        429, "the queue is full; try again in a little while", headers={"Retry-After": str(retry_after)}
    )
