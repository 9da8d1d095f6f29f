"""The OpenAPI document as the studio answers: every refusal a one-line ``{"detail": str}``, every status declared.

FastAPI declares its own validation error (a list of problems) for each route that takes
parameters; the studio answers those with one line (:func:`~inceptionism.web.errors.validation_detail`),
so that schema is replaced by :class:`~inceptionism.web.schemas.ErrorOut`. The routes declare
what they refuse themselves; what the middleware refuses (a foreign ``Host``, a missing token,
another site's change, a body over the limit) is added here, to the routes it guards.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from inceptionism.web.errors import MEANINGS
from inceptionism.web.kinds import LiveParams
from inceptionism.web.security import UNSAFE_METHODS

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def declare_refusals(app: FastAPI, *, loopback: bool, token: bool) -> None:
    """Make ``app``'s OpenAPI document declare the one-line error body and the middleware's refusals."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)  # fmt: skip
            _declare(document, loopback=loopback, token=token)
            _declare_live(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(document: dict[str, Any], *, loopback: bool, token: bool) -> None:
    everywhere = [status for status, wanted in ((400, loopback), (401, token)) if wanted]
    for operations in document["paths"].values():
        for method, operation in operations.items():
            changes = method.upper() in UNSAFE_METHODS
            for status in (*everywhere, *((403, 413) if changes else ())):
                operation["responses"].setdefault(str(status), {"description": MEANINGS[status]})
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
                    response["description"] = MEANINGS.get(int(status), response["description"])
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _declare_live(document: dict[str, Any]) -> None:
    """Name the live WebSocket (OpenAPI has no words for one) and give the schema of its settings, ``LiveParams``."""
    schema = LiveParams.model_json_schema(ref_template="#/components/schemas/{model}")
    document["components"]["schemas"].update(schema.pop("$defs", {}))
    document["components"]["schemas"]["LiveParams"] = schema
    document["info"]["description"] += (
        " Live: a WebSocket at /api/live takes frames and sends them back dreamed; its settings messages carry "
        "LiveParams (the protocol is in the README's Live section)."
    )
