"""The kinds of job and what each one asks for: one typed request per kind, one union of them.

:data:`JobKind` is the one list of kinds (the store, the queue, the runner and the API's
schemas take it from here). Each kind's parameters are a pydantic model made from the
options of its render, with their bounds; :data:`JOB_REQUEST` is their discriminated
union. A job is stored only once its parameters, checked with the options' own messages,
are also a valid :data:`JobRequest`: the schemas the OpenAPI document shows are the ones
every stored job meets.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from inceptionism.engine.options import OPTIONS, Option
from inceptionism.errors import InvalidParameterError
from inceptionism.render.atlas import ATLAS_OPTIONS
from inceptionism.render.live import LIVE_OPTIONS
from inceptionism.render.videoplan import VIDEO_OPTIONS
from inceptionism.render.zoom import ZOOM_OPTIONS

JobKind = Literal["dream", "zoom", "video", "atlas", "live"]
"""What a job makes: a still, a zoom, a dreamed video, the tiles of an atlas, or what a live session kept
(a snapshot or a recording: made by the session, never queued)."""
JOB_KINDS: tuple[str, ...] = get_args(JobKind)
UploadKind = Literal["dream", "zoom", "video"]
"""The kinds ``POST /api/jobs`` takes (an atlas is drawn by ``POST /api/atlas``)."""
ZOOM_FORMATS = ("mp4", "gif", "webp")


def options_model(name: str, options: dict[str, Option], **extra: Any) -> type[BaseModel]:
    """A pydantic model of ``options`` (each optional, with its bounds), and of ``extra`` fields: a JSON schema.

    The bounds are the options' own (``ge``/``gt`` the minimum, ``le`` the maximum); the
    schema documents what the checks of the options enforce.
    """
    fields = {option.name: _option_field(option) for option in options.values()}
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields, **extra)


def _option_field(option: Option) -> tuple[Any, Any]:
    described = f"{option.help} Default: {option.default_text or 'none'}."
    if option.numeric:
        low = "gt" if option.open_below else "ge"
        number = Annotated[option.kind, Field(**{low: option.minimum, "le": option.maximum})]
        return number | None, Field(None, description=described)
    if option.choices:
        return Literal[option.choices] | None, Field(None, description=described)  # type: ignore[valid-type]
    if option.kind is bool:
        return bool | None, Field(None, description=described)
    if option.repeatable:
        return list[str | int] | str | None, Field(None, description=described)
    if option.minimum is not None:  # a text form of numbers (DX,DY or WxH), or the numbers as a list
        each = Annotated[option.kind, Field(ge=option.minimum, le=option.maximum)]
        return str | list[each] | None, Field(None, description=described)  # type: ignore[valid-type]
    return str | None, Field(None, description=described)


DreamParams = options_model("DreamParams", OPTIONS)
ZoomParams = options_model(
    "ZoomParams",
    {**OPTIONS, **ZOOM_OPTIONS},
    format=(Literal[ZOOM_FORMATS] | None, Field(None, description="The animation's format. Default: mp4.")),
    labels=(bool | None, Field(None, description="Chart the labels seen, frame by frame. Default: true.")),
)
VideoParams = options_model(
    "VideoParams",
    {**OPTIONS, **VIDEO_OPTIONS},
    flow=(bool | None, Field(None, description="Carry the dream along the optical flow. Default: true.")),
)


LiveParams = options_model("LiveParams", {**OPTIONS, **LIVE_OPTIONS})


def _atlas_field(name: str) -> Any:
    option = ATLAS_OPTIONS[name]
    return Annotated[int, Field(ge=option.minimum, le=option.maximum, description=option.help)]


class AtlasParams(BaseModel):
    """What an atlas job draws: the channels of a layer, each a tile of ``size`` px after ``steps`` steps."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(max_length=100)
    layer: str = Field(max_length=200)
    channels: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    size: _atlas_field("size")  # type: ignore[valid-type]
    steps: _atlas_field("steps")  # type: ignore[valid-type]


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DreamJob(_Job):
    """A still: one photo (or noise) dreamed."""

    kind: Literal["dream"]
    params: DreamParams  # type: ignore[valid-type]


class ZoomJob(_Job):
    """The infinite zoom: each frame dreamed from the last, zoomed."""

    kind: Literal["zoom"]
    params: ZoomParams  # type: ignore[valid-type]


class VideoJob(_Job):
    """A video dreamed frame by frame."""

    kind: Literal["video"]
    params: VideoParams  # type: ignore[valid-type]


class LiveJob(_Job):
    """A live session's snapshot (a PNG) or recording (an MP4), with the settings it was dreamed with."""

    kind: Literal["live"]
    params: LiveParams  # type: ignore[valid-type]


class AtlasJob(_Job):
    """The tiles of an atlas."""

    kind: Literal["atlas"]
    params: AtlasParams


JOB_PARAMS: dict[str, type[BaseModel]] = {"dream": DreamParams, "zoom": ZoomParams, "video": VideoParams,
                                          "atlas": AtlasParams, "live": LiveParams}  # fmt: skip
"""Each kind's parameters, in the Python API's keyword names."""
JobRequest = Annotated[DreamJob | ZoomJob | VideoJob | AtlasJob | LiveJob, Field(discriminator="kind")]
"""A job as stored: its kind, and the parameters of that kind."""
JOB_REQUEST: TypeAdapter[Any] = TypeAdapter(JobRequest)
JOB_OPTIONS: dict[str, tuple[str, ...]] = {kind: tuple(model.model_fields) for kind, model in JOB_PARAMS.items()}
"""The parameter names each kind of job takes."""


def typed(kind: str, params: dict[str, Any]) -> BaseModel:
    """``params`` of a ``kind`` job as its typed request.

    Raises:
        InvalidParameterError: they do not meet the kind's schema (the first problem, on one line).
    """
    try:
        return JOB_REQUEST.validate_python({"kind": kind, "params": params})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][2:])  # after the kind's tag and "params"
        raise InvalidParameterError(f"{where or 'params'}: {first['msg']}", argument=where or "params") from None
