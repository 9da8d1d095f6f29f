"""Jobs kept in SQLite in the data directory, their files in a folder per job beside it.

The gallery survives a restart: a job is a row (what was asked, its state, its outcome) and
a folder ``jobs/<id>/`` (the uploads under fixed names, the result). Ids are 128-bit random
hex; an id from a request is checked against that form before it names anything on disk.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inceptionism.web.kinds import JobKind

STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
ID_FORM = re.compile(r"[0-9a-f]{32}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    files TEXT NOT NULL,
    names TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    error TEXT,
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    media_type TEXT,
    chart TEXT,
    labels TEXT
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
"""
ADDED_COLUMNS = {"names": "TEXT NOT NULL DEFAULT '{}'"}
"""Columns added since the first data directories: added to an older database when it is opened."""


def now() -> str:
    """The time as ISO 8601 UTC with microseconds (sorts as it reads)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_id() -> str:
    """An unguessable job id: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def valid_id(text: str) -> bool:
    """Whether ``text`` has the form of a job id (and so may name a folder)."""
    return ID_FORM.fullmatch(text) is not None


@dataclass
class Job:
    """One job as stored.

    Attributes:
        id: 32 hex digits.
        kind: what it makes (:data:`~inceptionism.web.kinds.JobKind`).
        state: one of :data:`STATES`.
        params: what was asked, in the Python API's keyword names (the seed filled in).
        files: upload role (``image``, ``guide``, ``mask``) to its file name in the job's folder.
        names: upload role to the name the file had on the user's machine (recorded, never a path).
        result: the result's file name in the job's folder, once done.
        chart: the zoom's label chart file name, once done.
        labels: what the network saw before and after (``{"before": [...], "after": [...]}``).
    """

    id: str
    kind: JobKind
    state: str
    params: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    created: str = ""
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    frames_done: int = 0
    frames_total: int = 0
    result: str | None = None
    media_type: str | None = None
    chart: str | None = None
    labels: dict[str, Any] | None = None


_JSON_COLUMNS = ("params", "files", "names", "labels")


def _stored(column: str, value: Any) -> Any:
    """``value`` as the column ``column`` keeps it: a JSON column's Python value as JSON text."""
    return json.dumps(value) if column in _JSON_COLUMNS and value is not None else value


def _row_to_job(row: sqlite3.Row) -> Job:
    values = dict(row)
    for name in _JSON_COLUMNS:
        values[name] = None if values[name] is None else json.loads(values[name])
    return Job(**values)


class JobStore:
    """The jobs of one data directory (created if missing).

    Safe to use from the server's threads: every call takes its own short transaction.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).expanduser()
        (self.data_dir / "jobs").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.data_dir / "jobs.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, definition in ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {definition}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def folder(self, job_id: str) -> Path:
        """The folder of job ``job_id`` (which must have the form of an id)."""
        if not valid_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.data_dir / "jobs" / job_id

    def new_folder(self) -> tuple[str, Path]:
        """A fresh id and its (new, empty) folder, for the uploads of a job being made."""
        job_id = new_id()
        folder = self.folder(job_id)
        folder.mkdir()
        return job_id, folder

    def add(self, job: Job) -> Job:
        """Keep ``job`` as it is (queued, or finished already: a live session's snapshot), in one transaction."""
        job.created = job.created or now()
        names = [column.name for column in fields(Job)]  # every column: names from this module, never a request
        values = [_stored(name, getattr(job, name)) for name in names]
        with self._transaction() as db:
            db.execute(f"INSERT INTO jobs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, or ``None`` if there is none with that id."""
        if not valid_id(job_id):
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _row_to_job(row)

    def page(self, page: int, per_page: int) -> tuple[list[Job], int]:
        """Jobs newest first, the ``page``-th (1-based) ``per_page`` of them, and how many there are."""
        with self._lock:
            total = self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            rows = self._db.execute(
                "SELECT * FROM jobs ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                (per_page, (page - 1) * per_page),
            ).fetchall()
        return [_row_to_job(row) for row in rows], total

    def in_state(self, *states: str) -> list[Job]:
        """Jobs in any of ``states``, oldest first."""
        marks = ", ".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY created, rowid", states
            ).fetchall()
        return [_row_to_job(row) for row in rows]

    def update(self, job_id: str, **values: Any) -> None:
        """Set columns of one job (JSON columns take Python values)."""
        values = {name: _stored(name, value) for name, value in values.items()}
        assignments = ", ".join(f"{name} = ?" for name in values)  # names come from this module, never a request
        with self._transaction() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values.values(), job_id))

    def requeue_interrupted(self) -> list[Job]:
        """Put jobs left running by a stopped server back in the queue; the queued jobs, oldest first."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET state = 'queued', started = NULL WHERE state = 'running'")
        return self.in_state("queued")

    def delete(self, job_id: str) -> None:
        """Forget a job and remove its folder."""
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
