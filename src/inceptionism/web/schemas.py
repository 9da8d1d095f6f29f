"""What the API answers: response schemas, apart from how jobs are stored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from inceptionism.engine.options import Option
from inceptionism.web.board import RunningJob
from inceptionism.web.kinds import JobKind
from inceptionism.web.store import Job

State = Literal["queued", "running", "done", "failed", "cancelled"]


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
    kind: JobKind
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
    def of(cls, job: Job, live: RunningJob | None = None) -> JobOut:
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
    state: Literal["done", "queued", "running", "incomplete"] = Field(
        description="incomplete: tiles are missing and no job draws them (POST /api/atlas draws them)"
    )
    job: str | None = Field(description="the job drawing the missing tiles (follow /api/jobs/{job}/events)")
    tiles: list[AtlasTileOut]


class ChannelRank(BaseModel):
    """A channel and its mean activation on a photo."""

    channel: int
    activation: float


class OptionOut(BaseModel):
    """An option with its default, help line and bounds: what the studio's inputs are made from."""

    name: str
    group: JobKind = Field(description="the render that takes it")
    default: Any
    shown_default: str = Field(description="the default as people read it (10, or a rule: '10 (Fourier noise: 256)')")
    help: str
    minimum: int | float | None = Field(description="the least value (of each number, for DX,DY or WxH)")
    maximum: int | float | None = Field(description="the largest value")
    open_below: bool = Field(description="whether the minimum itself is refused (the value must be above it)")
    bounds: str = Field(description="the bounds as --help shows them, e.g. 0..1024 px")
    choices: list[str] | None = None
    unit: str | None = Field(description="what the number counts: px, MB, s...")
    step: float | None = Field(description="how far an input moves in one step (null: any number)")
    typical: list[float] | None = Field(description="the range a slider spans, within the bounds")

    @classmethod
    def of(cls, option: Option, group: str) -> OptionOut:
        """The API view of ``option``, an option of ``group``."""
        step = option.increment if option.increment is not None else 1 if option.kind is int else None
        return cls(
            name=option.name,
            group=group,  # type: ignore[arg-type]
            default=_plain(option.default),
            shown_default=option.default_text,
            help=option.help,
            minimum=option.minimum,
            maximum=option.maximum,
            open_below=option.open_below,
            bounds=option.bounds,
            choices=list(option.choices) or None,
            unit=option.unit or None,
            step=step,
            typical=None if option.typical is None else list(option.typical),
        )


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class ErrorOut(BaseModel):
    """Every refusal's body: one line that names the problem and, where there is one, the fix."""

    detail: str
