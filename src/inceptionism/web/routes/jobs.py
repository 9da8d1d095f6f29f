"""``/api/jobs``: submit, follow, fetch, cancel and delete dreams, zooms and videos."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from inceptionism.errors import InceptionismError
from inceptionism.io.video import check_range, probe
from inceptionism.web.deps import JobDep, StudioDep
from inceptionism.web.errors import answers, queue_full, refusal
from inceptionism.web.kinds import UploadKind
from inceptionism.web.params import PARAMS_FORM, parse_params, prepare
from inceptionism.web.schemas import JobCreated, JobOut, JobPage
from inceptionism.web.store import FINISHED, Job
from inceptionism.web.studio import Studio
from inceptionism.web.uploads import UploadRefused, discard, keep_image, keep_video
from inceptionism.web.workers import QueueFull

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
EVENT_POLL = 0.1  # seconds between two looks at a followed job
RETRY_AFTER = 10


@router.post("", status_code=202, response_model=JobCreated, responses=answers(413, 415, 422, 429, 503))
def create_job(
    studio: StudioDep,
    kind: Annotated[UploadKind, Form(description="dream, zoom or video (an atlas: POST /api/atlas)")],
    params: Annotated[str, PARAMS_FORM] = "{}",
    image: Annotated[UploadFile | None, File(description="the photo, or the video of a video job")] = None,
    guide: Annotated[UploadFile | None, File(description="dream toward this image's features")] = None,
    mask: Annotated[UploadFile | None, File(description="white dreams, black stays")] = None,
) -> JobCreated:
    """Queue a job; 202 with its id."""
    try:
        studio.pool.check_room()
    except QueueFull:
        raise queue_full(RETRY_AFTER) from None
    try:
        asked = parse_params(params)
    except InceptionismError as error:
        raise refusal(error) from None
    job_id, folder = studio.store.new_folder()
    try:
        uploads = {"image": image, "guide": guide, "mask": mask}
        files = _keep_uploads(studio, folder, kind, uploads)
        paths = {role: folder / name for role, name in files.items()}
        prepared = prepare(kind, asked, uploads=paths, catalog=studio.catalog, settings=studio.settings)
        if kind == "video":
            check_range(probe(folder / files["image"]), prepared.get("start", 0.0), prepared.get("end"))
        names = {role: _shown_name(upload.filename) for role, upload in uploads.items() if role in files}
        job = studio.store.add(Job(id=job_id, kind=kind, state="queued", params=prepared, files=files, names=names))
    except UploadRefused as error:
        discard(folder)
        raise HTTPException(error.status, error.detail) from None
    except InceptionismError as error:
        discard(folder)
        raise refusal(error, hide=folder) from None
    try:
        studio.pool.submit(job.id)
    except QueueFull:
        studio.store.delete(job.id)
        raise queue_full(RETRY_AFTER) from None
    return JobCreated(id=job.id, state="queued", url=f"/api/jobs/{job.id}")


def _shown_name(filename: str | None) -> str:
    """The upload's own name, for the record only: its last part, printable, at most 200 characters."""
    name = Path((filename or "upload").replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:200] or "upload"


def _keep_uploads(studio: Studio, folder: Path, kind: str, uploads: dict[str, UploadFile | None]) -> dict[str, str]:
    settings, files = studio.settings, {}
    for role, upload in uploads.items():
        if upload is None:
            continue
        if role == "image" and kind == "video":
            files[role] = keep_video(
                upload.file, folder, limit=settings.video_upload_bytes, max_frames=settings.max_frames
            )
        else:
            files[role] = keep_image(
                upload.file, folder, role, limit=settings.upload_bytes, max_pixels=settings.max_pixels
            )
    return files


@router.get("", response_model=JobPage, responses=answers(422))
def list_jobs(
    studio: StudioDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobPage:
    """The gallery: jobs newest first, a page at a time."""
    jobs, total = studio.store.page(page, per_page)
    return JobPage(jobs=[_shown(studio, job) for job in jobs], page=page, per_page=per_page, total=total)


def _shown(studio: Studio, job: Job) -> JobOut:
    return JobOut.of(job, studio.board.get(job.id))


@router.get("/{job_id}", response_model=JobOut, responses=answers(404))
async def get_job(studio: StudioDep, job: JobDep) -> JobOut:
    """A job's state, progress, parameters and outcome."""
    return _shown(studio, job)


@router.get("/{job_id}/events", response_class=EventSourceResponse, responses=answers(404))
async def job_events(studio: StudioDep, job: JobDep) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: ``progress``, ``preview`` (a small JPEG, a few a second) and ``done``."""
    shown_progress, shown_preview = None, 0
    while True:
        current = studio.store.get(job.id)
        if current is None:
            return
        view = _shown(studio, current)
        progress = (view.state, round(view.progress, 3), view.frames_done, view.frames_total)
        if progress != shown_progress:
            shown_progress = progress
            yield ServerSentEvent(
                event="progress",
                data={"state": view.state, "progress": view.progress,
                      "frames_done": view.frames_done, "frames_total": view.frames_total},
            )  # fmt: skip
        live = studio.board.get(job.id)
        if live is not None and live.preview is not None and live.preview_version != shown_preview:
            shown_preview = live.preview_version
            yield ServerSentEvent(event="preview", data={"image": live.preview})
        if current.state in FINISHED:
            yield ServerSentEvent(event="done", data=view.model_dump())
            return
        await asyncio.sleep(EVENT_POLL)


@router.get("/{job_id}/result", response_class=FileResponse, responses=answers(404))
def job_result(studio: StudioDep, job: JobDep) -> FileResponse:
    """The result: the PNG with its parameters inside, or the animation or video."""
    if job.state != "done" or job.result is None:
        raise HTTPException(404, f"job {job.id} has no result yet: it is {job.state}")
    return _file(studio, job, job.result, job.media_type, download=f"{job.kind}-{job.id[:8]}{Path(job.result).suffix}")


@router.get("/{job_id}/input", response_class=FileResponse, responses=answers(404))
def job_input(studio: StudioDep, job: JobDep) -> FileResponse:
    """The image the job was given."""
    if "image" not in job.files or job.kind == "video":
        raise HTTPException(404, f"job {job.id} was given no image")
    return _file(studio, job, job.files["image"], None)


@router.get("/{job_id}/chart", response_class=FileResponse, responses=answers(404))
def job_chart(studio: StudioDep, job: JobDep) -> FileResponse:
    """A zoom's chart of the labels the network saw, frame by frame."""
    if job.state != "done" or job.chart is None:
        raise HTTPException(404, f"job {job.id} has no label chart (only a finished zoom with labels has one)")
    return _file(studio, job, job.chart, "image/png")


def _file(studio: Studio, job: Job, name: str, media_type: str | None, download: str | None = None) -> FileResponse:
    path = studio.store.folder(job.id) / Path(name).name
    if not path.is_file():
        raise HTTPException(404, f"the file of job {job.id} is gone from the data directory")
    return FileResponse(path, media_type=media_type, filename=download)


@router.post("/{job_id}/cancel", status_code=202, response_model=JobOut, responses=answers(404, 409))
def cancel_job(studio: StudioDep, job: JobDep) -> JobOut:
    """Cancel a queued job (202, cancelled now) or a running one (202: it stops after its step); 409 once it ended."""
    if job.state in FINISHED:
        raise HTTPException(409, f"job {job.id} has already ended ({job.state}): there is nothing to cancel")
    studio.pool.cancel(job.id)
    return _shown(studio, studio.store.get(job.id) or job)


@router.delete("/{job_id}", status_code=204, response_class=Response, responses=answers(404, 409))
def delete_job(studio: StudioDep, job: JobDep) -> Response:
    """Delete an ended job with its files (204); 409 while it is queued or running (cancel it first)."""
    if job.state not in FINISHED:
        raise HTTPException(
            409, f"job {job.id} is {job.state}: cancel it first (POST /api/jobs/{job.id}/cancel), then delete it"
        )
    studio.store.delete(job.id)
    return Response(status_code=204)
