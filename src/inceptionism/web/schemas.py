"""What the API answers: response schemas, apart from how jobs are stored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from inceptionism.web.live import LiveJob
from inceptionism.web.store import Job

State = Literal["queued", "running", "done", "failed", "cancelled"]
Kind = Literal["dream", "zoom", "video", "atlas"]


class Label(BaseModel):
    """One label the network sees, with its probability."""

    label: str
    probability: float


class Seen(BaseModel):
    """The top labels before and after dreaming."""

    before: list[Label] | None = None
    after: list[Label] | None = None


class JobCreated(BaseModel):
    """A job accepted into the queue."""

    id: str
    state: State
    url: str


class JobOut(BaseModel):
    """A job as the API shows it."""

    id: str
    kind: Kind
    state: State
    progress: float = Field(ge=0, le=1)
    frames_done: int
    frames_total: int
    params: dict[str, Any]
    error: str | None
    created: str
    started: str | None
    finished: str | None
    result: str | None = Field(description="URL of the result, once done")
    media_type: str | None
    chart: str | None = Field(description="URL of a zoom's label chart (PNG)")
    input: str | None = Field(description="URL of the uploaded image, if any")
    labels: Seen | None

    @classmethod
    def of(cls, job: Job, live: LiveJob | None = None) -> JobOut:
        """The API view of a stored job, with its live progress while it runs."""
        base = f"/api/jobs/{job.id}"
        done = job.state == "done"
        if live is not None and job.state == "running":
            progress, frames_done, frames_total = live.progress, live.frames_done, live.frames_total
        else:
            progress = 1.0 if done else 0.0
            frames_done, frames_total = job.frames_done, job.frames_total
        image_input = "image" in job.files and job.kind != "video"
        return cls(
            id=job.id,
            kind=job.kind,  # type: ignore[arg-type]
            state=job.state,  # type: ignore[arg-type]
            progress=progress,
            frames_done=frames_done,
            frames_total=frames_total,
            params=job.params,
            error=job.error,
            created=job.created,
            started=job.started,
            finished=job.finished,
            result=f"{base}/result" if done and job.result else None,
            media_type=job.media_type if done else None,
            chart=f"{base}/chart" if done and job.chart else None,
            input=f"{base}/input" if image_input else None,
            labels=Seen(**job.labels) if job.labels else None,
        )


class JobPage(BaseModel):
    """One page of the gallery, newest first."""

    jobs: list[JobOut]
    page: int
    per_page: int
    total: int


class ModelOut(BaseModel):
    """A network to dream with."""

    name: str
    description: str
    default_layer: str
    layers: int


class LayerOut(BaseModel):
    """A layer that can be dreamed."""

    name: str
    channels: int


class ClassOut(BaseModel):
    """An ImageNet class."""

    index: int
    label: str


class PresetOut(BaseModel):
    """Named settings."""

    name: str
    description: str
    options: dict[str, Any]


class AtlasTileOut(BaseModel):
    """One channel of an atlas: its tile's URL and activation once drawn."""

    channel: int
    url: str | None
    activation: float | None


class AtlasOut(BaseModel):
    """An atlas: its tiles, and the job drawing the missing ones."""

    model: str
    layer: str
    state: State
    job: str | None = Field(description="the job drawing the missing tiles (follow /api/jobs/{job}/events)")
    tiles: list[AtlasTileOut]


class ChannelRank(BaseModel):
    """A channel and its mean activation on a photo."""

    channel: int
    activation: float


class OptionOut(BaseModel):
    """A dream option, with its default."""

    name: str
    default: Any
    help: str
