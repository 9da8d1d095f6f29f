"""``/docs``: the OpenAPI page, served from this machine (Swagger UI from the ``swagger-ui-bundle`` package).

FastAPI's own ``/docs`` loads Swagger UI from a CDN; the studio makes no request that leaves
the machine, so the same page is built over the bundled files instead.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def add_docs(app: FastAPI) -> None:
    """Serve the API's OpenAPI page at ``/docs``."""
    from swagger_ui_bundle import swagger_ui_path  # the [web] extra

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
