"""Request dependencies: the studio, and the job a path names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from inceptionism.web.store import Job
from inceptionism.web.studio import Studio


async def get_studio(request: Request) -> Studio:
    """The studio serving this app."""
    return request.app.state.studio


StudioDep = Annotated[Studio, Depends(get_studio)]


async def get_job(job_id: str, studio: StudioDep) -> Job:
    """The job ``job_id`` names, or 404 (on the event loop: a status answer never waits for a thread)."""
    job = studio.store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id[:40]!r}: it never existed or was deleted (list them: GET /api/jobs)")
    return job


JobDep = Annotated[Job, Depends(get_job)]
