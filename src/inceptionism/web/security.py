"""Who may talk to the studio.

On a loopback address (the default) only this machine can connect, and the ``Host`` header
must name this machine too, so a web page elsewhere cannot reach the studio through DNS
rebinding. On any other address every request needs the access token: given once in the
URL (``/?token=...``, as Jupyter does), then kept in a cookie.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from inceptionism.web.config import LOOPBACK_NAMES

COOKIE = "inceptionism_token"


def protect(app: FastAPI, *, loopback: bool, token: str | None) -> None:
    """Add the Host check (loopback) or the token check (any other address) to ``app``."""
    if loopback:
        app.middleware("http")(HostCheck())
        return
    if token is None:
        raise ValueError("a studio on a public address needs a token")
    app.middleware("http")(TokenCheck(token))


class HostCheck:
    """Middleware answering 400 to a request whose ``Host`` header names another machine."""

    allowed = (*LOOPBACK_NAMES, "[::1]")

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Let the request through if its ``Host`` is this machine."""
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name in self.allowed:
            return await call_next(request)
        return JSONResponse(
            {"detail": f"Host header {host[:100]!r} is not this machine; open the studio at http://127.0.0.1"},
            status_code=400,
        )


class TokenCheck:
    """Middleware answering 401 unless the request carries ``token`` (query, cookie or bearer header)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Let the request through if it has the token; on a page URL with ``?token=``, keep it in a cookie."""
        if self._matches(request.query_params.get("token")):
            if request.method == "GET" and not request.url.path.startswith("/api/"):
                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response: Response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
            else:
                response = await call_next(request)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        if self._matches(request.cookies.get(COOKIE)) or self._matches(bearer):
            return await call_next(request)
        return JSONResponse(
            {"detail": "this studio needs its access token: open the URL it printed at start (/?token=...)"},
            status_code=401,
        )
