"""Who may talk to the studio.

On a loopback address (the default) only this machine can connect, and the ``Host`` header
must name this machine too, so a web page elsewhere cannot reach the studio through DNS
rebinding. On any other address every request needs the access token: given once in the
URL (``/?token=...``, as Jupyter does), then kept in a cookie. A token that is set
(``INCEPTIONISM_TOKEN``) is asked on a loopback address too.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.requests import HTTPConnection

from inceptionism.web.config import LOOPBACK_NAMES

COOKIE = "inceptionism_token"


UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def protect(app: FastAPI, *, loopback: bool, token: str | None) -> None:
    """Add the origin check, the Host check (loopback) and the token check (any token, and every other address)."""
    if not loopback and token is None:
        raise ValueError("a studio on a public address needs a token")
    app.middleware("http")(OriginCheck())
    if token is not None:
        app.middleware("http")(TokenCheck(token))
    if loopback:
        app.middleware("http")(HostCheck())


class OriginCheck:
    """Middleware answering 403 to a change (POST, DELETE...) sent by a page of another site.

    A browser sends a cross-site form post without asking first; its ``Origin`` (or
    ``Sec-Fetch-Site``) header says where it came from, and only the studio's own page may
    submit or delete jobs. Clients that are not browsers (curl, scripts) send neither header.
    """

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Let the request through unless it is a change coming from another site."""
        if request.method in UNSAFE_METHODS and (refused := cross_site(request)) is not None:
            return refused
        return await call_next(request)


def cross_site(connection: HTTPConnection) -> JSONResponse | None:
    """A 403 if ``connection`` comes from a page of another site (``Origin``, ``Sec-Fetch-Site``), else ``None``."""
    origin = connection.headers.get("origin")
    site = connection.headers.get("sec-fetch-site")
    scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
    own = f"{scheme}://{connection.headers.get('host', '')}"
    if (origin is not None and origin != own) or site == "cross-site":
        return JSONResponse(
            {"detail": f"a page of another site ({(origin or 'unknown')[:100]}) may not change this studio"},
            status_code=403,
        )
    return None


class HostCheck:
    """Middleware answering 400 to a request whose ``Host`` header names another machine."""

    allowed = (*LOOPBACK_NAMES, "[::1]")

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Let the request through if its ``Host`` is this machine."""
        refused = foreign_host(request)
        return refused if refused is not None else await call_next(request)


def foreign_host(connection: HTTPConnection) -> JSONResponse | None:
    """A 400 if the ``Host`` header of ``connection`` names another machine, else ``None``."""
    host = connection.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name in HostCheck.allowed:
        return None
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

    def carried(self, connection: HTTPConnection) -> bool:
        """Whether ``connection`` carries the token (query, cookie or bearer header)."""
        header = connection.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        return any(self._matches(given) for given in (connection.query_params.get("token"),
                                                     connection.cookies.get(COOKIE), bearer))  # fmt: skip

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
        return await call_next(request) if self.carried(request) else no_token()


def no_token() -> JSONResponse:
    """The 401 of a request without the studio's token."""
    return JSONResponse(
        {"detail": "this studio needs its access token: open the URL it printed at start (/?token=...)"},
        status_code=401,
    )


def socket_refusal(connection: HTTPConnection, *, loopback: bool, token: str | None) -> JSONResponse | None:
    """What the middleware would answer a WebSocket handshake (they see HTTP only): ``None`` lets it through.

    A browser lets any page open a WebSocket to any address, so its ``Origin`` is checked
    whatever the method; then the token and the ``Host``, as for every request.
    """
    if (refused := cross_site(connection)) is not None:
        return refused
    if token is not None and not TokenCheck(token).carried(connection):
        return no_token()
    return foreign_host(connection) if loopback else None
