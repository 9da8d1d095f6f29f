"""The running studio: settings, job store, queue, live board and networks, made once per app."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from inceptionism.web.board import JobBoard
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.config import ServerSettings
from inceptionism.web.store import JobStore
from inceptionism.web.workers import WorkerPool


@dataclass
class Studio:
    """Everything a request handler needs."""

    settings: ServerSettings
    store: JobStore
    board: JobBoard
    pool: WorkerPool
    catalog: ModelCatalog
    token: str | None

    @classmethod
    def create(cls, settings: ServerSettings, catalog: ModelCatalog | None = None) -> Studio:
        """A studio over ``settings.data_dir`` (workers not started yet)."""
        catalog = catalog or ModelCatalog()
        store = JobStore(settings.data_dir)
        board = JobBoard(settings.preview_interval)
        pool = WorkerPool(store, catalog, board, count=settings.workers, limit=settings.queue_limit)
        # a token set is asked on every bind; a public one needs one, drawn here if none is set
        token = settings.token if settings.loopback else (settings.token or secrets.token_urlsafe(24))
        return cls(settings, store, board, pool, catalog, token)
