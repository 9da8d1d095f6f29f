"""``/api/atlas``: the neuron atlas of a layer, its tiles, and the channels a photo excites most."""

from __future__ import annotations

import shutil
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from inceptionism.errors import InceptionismError
from inceptionism.render.atlas import ATLAS_OPTIONS, AtlasPlan, plan_atlas, rank_channels
from inceptionism.web.deps import StudioDep
from inceptionism.web.errors import answers, queue_full, refusal
from inceptionism.web.kinds import typed
from inceptionism.web.options import bounds_schema
from inceptionism.web.schemas import AtlasOut, AtlasTileOut, ChannelRank
from inceptionism.web.store import Job
from inceptionism.web.studio import Studio
from inceptionism.web.uploads import UploadRefused, keep_image
from inceptionism.web.workers import QueueFull

router = APIRouter(prefix="/api/atlas", tags=["atlas"])
WEB_CHANNELS = 512  # channels one request may ask for
RETRY_AFTER = 10


def _query(name: str) -> Any:
    """The query parameter of the atlas option ``name``: its bounds in the schema, checked by the option."""
    option = ATLAS_OPTIONS[name]
    return Query(description=f"{option.help} ({option.bounds})", json_schema_extra=bounds_schema(option))


Size = Annotated[int, _query("size")]
Steps = Annotated[int, _query("steps")]


def _plan(studio: Studio, model: str | None, layer: str, channels: str | None, size: int, steps: int) -> AtlasPlan:
    try:
        net = studio.catalog.network(model or studio.catalog.default)
        plan = plan_atlas(net, layer, channels, size=size, steps=steps)
    except InceptionismError as error:
        raise refusal(error) from None
    if len(plan.channels) > WEB_CHANNELS:
        raise HTTPException(422, f"at most {WEB_CHANNELS} channels a request, got {len(plan.channels)}")
    return plan


def _tile_url(model: str, plan: AtlasPlan, channel: int) -> str:
    query = {"model": model, "layer": plan.layer, "channel": channel, "size": plan.values["size"],
             "steps": plan.values["steps"]}  # fmt: skip
    return f"/api/atlas/tile?{urlencode(query)}"


class AtlasAsk(BaseModel):
    """The atlas to draw: a layer's channels (all by default), tiles of ``size`` px after ``steps`` steps."""

    model_config = ConfigDict(extra="forbid")

    layer: str = Field(max_length=200, description="the layer (names may hold a '/')")
    model: str | None = Field(None, max_length=100, description="the network (default: the studio's first)")
    channels: str | None = Field(None, max_length=2000, description="e.g. 0-63 or 3,12,40 (default: all)")
    size: int = Field(ATLAS_OPTIONS["size"].default, json_schema_extra=bounds_schema(ATLAS_OPTIONS["size"]),
                      description=ATLAS_OPTIONS["size"].help)  # fmt: skip
    steps: int = Field(ATLAS_OPTIONS["steps"].default, json_schema_extra=bounds_schema(ATLAS_OPTIONS["steps"]),
                       description=ATLAS_OPTIONS["steps"].help)  # fmt: skip


def _shown(model: str, plan: AtlasPlan, state: str, job: str | None) -> AtlasOut:
    cached = plan.cached()
    tiles = [AtlasTileOut(channel=c, url=_tile_url(model, plan, c) if c in cached else None, activation=cached.get(c))
             for c in plan.channels]  # fmt: skip
    return AtlasOut(model=model, layer=plan.layer, state=state, job=job, tiles=tiles)  # type: ignore[arg-type]


@router.get("", response_model=AtlasOut, responses=answers(422, 503))
def get_atlas(
    studio: StudioDep,
    layer: Annotated[str, Query(max_length=200, description="the layer (names may hold a '/')")],
    model: Annotated[str | None, Query(max_length=100)] = None,
    channels: Annotated[str | None, Query(max_length=2000, description="e.g. 0-63 or 3,12,40 (default: all)")] = None,
    size: Size = ATLAS_OPTIONS["size"].default,
    steps: Steps = ATLAS_OPTIONS["steps"].default,
) -> AtlasOut:
    """What is drawn of an atlas; a look only, it starts nothing.

    ``done``; ``queued`` or ``running`` with the job drawing the missing tiles; or
    ``incomplete`` when some are missing and no job draws them (``POST /api/atlas`` draws them).
    """
    model = model or studio.catalog.default
    plan = _plan(studio, model, layer, channels, size, steps)
    if len(plan.cached()) == len(plan.channels):
        return _shown(model, plan, "done", None)
    running = _running_job(studio, _job_params(model, plan))
    if running is None:
        return _shown(model, plan, "incomplete", None)
    return _shown(model, plan, running.state, running.id)


@router.post("", response_model=AtlasOut, responses={202: {"model": AtlasOut, "description": "a job draws the "
             "missing tiles (follow /api/jobs/{job}/events)"}, **answers(422, 429, 503)})  # fmt: skip
def draw_atlas(studio: StudioDep, response: Response, ask: AtlasAsk) -> AtlasOut:
    """Draw an atlas: 200 when every tile is drawn already; else 202 and the job drawing the missing tiles.

    The job is the one already drawing them, if there is one, or a new one.
    """
    model = ask.model or studio.catalog.default
    plan = _plan(studio, model, ask.layer, ask.channels, ask.size, ask.steps)
    if len(plan.cached()) == len(plan.channels):
        return _shown(model, plan, "done", None)
    job = _drawing_job(studio, model, plan)
    response.status_code = 202
    return _shown(model, plan, job.state, job.id)


def _job_params(model: str, plan: AtlasPlan) -> dict:
    return {"model": model, "layer": plan.layer, "channels": plan.channels, "size": plan.values["size"],
            "steps": plan.values["steps"]}  # fmt: skip


def _running_job(studio: Studio, params: dict) -> Job | None:
    """The queued or running job drawing the atlas of ``params``, if there is one."""
    for job in studio.store.in_state("queued", "running"):
        if job.kind == "atlas" and job.params == params:
            return job
    return None


def _drawing_job(studio: Studio, model: str, plan: AtlasPlan) -> Job:
    """The queued or running job drawing this atlas, or a new one."""
    params = _job_params(model, plan)
    running = _running_job(studio, params)
    if running is not None:
        return running
    try:
        studio.pool.check_room()
    except QueueFull:
        raise queue_full(RETRY_AFTER) from None
    job_id, _ = studio.store.new_folder()
    typed("atlas", params)
    job = studio.store.add(Job(id=job_id, kind="atlas", state="queued", params=params))
    try:
        studio.pool.submit(job.id)
    except QueueFull:
        studio.store.delete(job.id)
        raise queue_full(RETRY_AFTER) from None
    return job


@router.get("/tile", response_class=FileResponse, responses=answers(404, 422, 503))
def get_tile(
    studio: StudioDep,
    layer: Annotated[str, Query(max_length=200)],
    channel: Annotated[int, Query(ge=0)],
    model: Annotated[str | None, Query(max_length=100)] = None,
    size: Size = ATLAS_OPTIONS["size"].default,
    steps: Steps = ATLAS_OPTIONS["steps"].default,
) -> FileResponse:
    """One tile of an atlas (PNG), once drawn."""
    plan = _plan(studio, model, layer, str(channel), size, steps)
    path = plan.store.path(channel)
    if not path.is_file():
        raise HTTPException(404, f"the tile of {plan.layer}:{channel} is not drawn yet (POST /api/atlas draws it)")
    return FileResponse(path, media_type="image/png")


@router.post("/ranking", response_model=list[ChannelRank], responses=answers(413, 415, 422, 503))
def rank(
    studio: StudioDep,
    layer: Annotated[str, Form(max_length=200)],
    image: Annotated[UploadFile, File(description="the photo")],
    model: Annotated[str | None, Form(max_length=100)] = None,
) -> list[ChannelRank]:
    """Every channel of the layer by its mean activation on the photo, strongest first."""
    plan = _plan(studio, model, layer, None, ATLAS_OPTIONS["size"].default, ATLAS_OPTIONS["steps"].default)
    _, folder = studio.store.new_folder()
    try:
        name = keep_image(image.file, folder, "image", limit=studio.settings.upload_bytes,
                          max_pixels=studio.settings.max_pixels)  # fmt: skip
        ranking = rank_channels(plan.net, plan.layer, folder / name, plan.channels)
    except UploadRefused as error:
        raise HTTPException(error.status, error.detail) from None
    except InceptionismError as error:
        raise refusal(error, hide=folder) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [ChannelRank(channel=channel, activation=value) for channel, value in ranking]
