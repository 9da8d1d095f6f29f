"""The studio's FastAPI app: the job API, the catalog, the page, and who may use them.

>>> import tempfile
>>> from inceptionism.web.config import ServerSettings
>>> app = create_app(ServerSettings(data_dir=tempfile.mkdtemp()))
>>> sorted(path for path in app.openapi()["paths"] if path.startswith("/api/jobs"))[:3]
['/api/jobs', '/api/jobs/{job_id}', '/api/jobs/{job_id}/cancel']
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from inceptionism._version import __version__
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.config import ServerSettings
from inceptionism.web.docs import add_docs
from inceptionism.web.errors import method_not_allowed, validation_detail
from inceptionism.web.limits import BodyLimit
from inceptionism.web.openapi import declare_refusals
from inceptionism.web.routes import atlas as atlas_routes
from inceptionism.web.routes import catalog as catalog_routes
from inceptionism.web.routes import jobs as job_routes
from inceptionism.web.routes import live as live_routes
from inceptionism.web.security import protect
from inceptionism.web.studio import Studio

STATIC = resources.files("inceptionism.web") / "static"
MULTIPART_SLACK = 2**20  # the form fields and boundaries beside the largest upload


def create_app(
    settings: ServerSettings | None = None,
    *,
    catalog: ModelCatalog | None = None,
    cluster: Any = None,
    cluster_threads: int | None = None,
) -> FastAPI:
    """The studio app for ``settings`` (the defaults and ``INCEPTIONISM_*`` variables if ``None``).

    Its workers start with the app (``uvicorn.run(app)``, or a ``TestClient`` used as a
    context manager) and stop with it. ``cluster``: a connected ``dask.distributed.Client``
    the jobs' work is handed to (``inceptionism serve --cluster`` connects it), each task with
    ``cluster_threads`` torch threads (``None``: the workers' own).
    """
    settings = settings or ServerSettings()
    studio = Studio.create(settings, catalog)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        studio.pool.cluster, studio.pool.cluster_threads = cluster, cluster_threads
        studio.pool.start()
        yield
        studio.pool.stop()

    app = FastAPI(
        title="Inceptionism studio",
        version=__version__,
        description="DeepDream jobs (stills, zooms, videos) on this machine, with every parameter visible.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.studio = studio
    app.state.live_door = live_routes.LiveDoor()
    app.add_exception_handler(RequestValidationError, validation_detail)
    app.add_exception_handler(405, method_not_allowed)
    app.include_router(job_routes.router)
    app.include_router(catalog_routes.router)
    app.include_router(atlas_routes.router)
    app.include_router(live_routes.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    add_docs(app)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    protect(app, loopback=settings.loopback, token=studio.token)
    declare_refusals(app, loopback=settings.loopback, token=studio.token is not None)
    app.add_middleware(BodyLimit, limit=settings.video_upload_bytes + MULTIPART_SLACK)
    return app
