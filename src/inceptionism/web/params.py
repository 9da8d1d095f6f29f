"""What a job asks for: its parameters checked, bounded and completed before it is queued.

A job's ``params`` use the Python API's keyword names (:func:`inceptionism.dream`,
:func:`~inceptionism.zoom`, :func:`~inceptionism.video`). Everything is checked when the
job is submitted, so that a queued job fails only for reasons no check could foresee; the
seed is drawn then too, so a job re-run after a restart dreams the same pixels.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, get_args

from fastapi import Form

from inceptionism.engine.inputs import check_inputs
from inceptionism.engine.options import CONVENTION_OPTIONS, OPTIONS, Option, parse_weights, weights_file
from inceptionism.engine.settings import DreamSettings, check_start
from inceptionism.errors import InvalidParameterError, unknown_name
from inceptionism.io.images import image_size
from inceptionism.io.tensors import GUIDE_MAX_SIZE
from inceptionism.models.network import Network
from inceptionism.render.live import LIVE_OPTIONS, check_live
from inceptionism.render.videoplan import VIDEO_OPTIONS
from inceptionism.render.zoom import ZOOM_OPTIONS, ZoomSettings
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.config import ServerSettings
from inceptionism.web.kinds import JOB_OPTIONS, JOB_PARAMS, ZOOM_FORMATS, UploadKind, typed

PARAMS_BYTES = 64 * 1024  # a job's parameters fit in far less
PARAMS_DEPTH = 4  # an object of lists (layers, noise...): nothing a job takes is nested deeper
PARAMS_FORM = Form(
    max_length=PARAMS_BYTES,
    description="JSON object of the Python API's keyword names (the schema of each kind: DreamParams, ZoomParams, "
    f"VideoParams), nested at most {PARAMS_DEPTH} deep",
    json_schema_extra={
        "contentMediaType": "application/json",
        "contentSchema": {"anyOf": [JOB_PARAMS[kind].model_json_schema() for kind in get_args(UploadKind)]},
    },
)
"""The ``params`` field of a job's submission: a JSON string, documented by :data:`JOB_PARAMS`."""
DRAWN_SEEDS = 2**53  # seeds the studio draws stay exact as JavaScript numbers


def parse_params(text: str) -> Any:
    """The JSON of a submission's ``params``, at most :data:`PARAMS_DEPTH` deep.

    Raises:
        InvalidParameterError: not JSON, or nested deeper.
    """
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidParameterError(
            f"params is not valid JSON: {error.msg} at character {error.pos}", argument="params"
        ) from None
    except RecursionError:  # nested thousands deep: the parser gave up before any check could
        raise _too_deep() from None
    if _depth(parsed) > PARAMS_DEPTH:
        raise _too_deep()
    return parsed


def _too_deep() -> InvalidParameterError:
    return InvalidParameterError(
        f"params is nested deeper than {PARAMS_DEPTH} levels; send an object of the Python API's keyword names",
        argument="params",
    )


def _depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (0 for a number or a text), without recursion.

    >>> _depth({"layers": ["conv1"]}), _depth(3), _depth([[[]]])
    (2, 0, 3)
    """
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        level.extend((child, depth + 1) for child in children)
    return deepest


def prepare(
    kind: str, params: Any, *, uploads: dict[str, Path], catalog: ModelCatalog, settings: ServerSettings
) -> dict[str, Any]:
    """The parameters of a new job, checked and completed (the model named, the seed drawn).

    Args:
        kind: ``dream``, ``zoom`` or ``video``.
        params: the request's parameters (a JSON object).
        uploads: the files sent with it, by role (``image``, ``guide``, ``mask``), already
            checked to be images (or, for a video job, the video).
        catalog: the networks offered.
        settings: the server's limits.

    Raises:
        InceptionismError: a parameter, layer or class that is unknown or out of bounds, or an
            image or noise size the network cannot dream.
    """
    if kind not in get_args(UploadKind):
        raise InvalidParameterError(f"unknown job kind {kind!r}; use dream, zoom or video", argument="kind")
    params = _named(kind, params, catalog)
    _check_bounds(params, settings)
    dreamed = dream_settings(params)
    _check_inputs(kind, dreamed, set(uploads))
    _check_dream(kind, dreamed, uploads, catalog.network(dreamed.model))
    if kind == "zoom":
        _check_zoom(params, settings)
    if kind == "video":
        _check_own(params, VIDEO_OPTIONS)
        _check_flag(params, "flow")
    typed(kind, params)  # what is stored meets the kind's schema, as the OpenAPI document shows it
    return params


def prepare_live(params: Any, *, catalog: ModelCatalog, settings: ServerSettings) -> dict[str, Any]:
    """The settings of a live session, checked and completed as a job's are (the model named, the seed drawn).

    Raises:
        InceptionismError: a parameter, layer or class that is unknown or out of bounds, or an
            option live does not take (noise, octave sizes).
    """
    params = _named("live", params, catalog)
    _check_bounds(params, settings)
    dreamed = check_live(dream_settings(params))
    check_inputs(dreamed, catalog.network(dreamed.model))
    _check_own(params, LIVE_OPTIONS)
    typed("live", params)
    return params


def dream_settings(params: dict[str, Any]) -> DreamSettings:
    """The dream settings of a job's ``params`` (its own options, a video's blend say, left out)."""
    return DreamSettings.create(**{name: value for name, value in params.items() if name in OPTIONS})


def _check_own(params: dict[str, Any], options: dict[str, Option]) -> None:
    """Check, in ``params``, the options of a render's own table (``VIDEO_OPTIONS``, ``LIVE_OPTIONS``)."""
    for name, option in options.items():
        if name in params:
            params[name] = option.check(name, params[name])


def _named(kind: str, params: Any, catalog: ModelCatalog) -> dict[str, Any]:
    """``params`` of a ``kind`` job, if an object of its names: without nulls, the model named, the seed drawn."""
    if not isinstance(params, dict):
        raise InvalidParameterError(
            f"params must be a JSON object of {kind}() keyword names, got {type(params).__name__}", argument="params"
        )
    for name in params:
        if name not in JOB_OPTIONS[kind]:
            raise unknown_name("parameter", str(name), JOB_OPTIONS[kind], "GET /api/options", argument=str(name))
    params = {name: value for name, value in params.items() if value is not None}
    params.setdefault("model", catalog.default)
    params.setdefault("seed", secrets.randbelow(DRAWN_SEEDS))
    return params


def _check_dream(kind: str, settings: DreamSettings, uploads: dict[str, Path], net: Network) -> None:
    """Names, channels, classes, tile, guide and sizes, as the job will meet them, from the files' headers.

    Nothing is prepared (no inference copy, no features), so a submission is answered at once.
    Only the memory of Fourier noise is left to the job: it is measured on the inference copy,
    when the job starts (it fails then, with the same one line).
    """
    guide, image = uploads.get("guide"), uploads.get("image")
    check_inputs(
        settings,
        net,
        guide=None if guide is None else image_size(guide, max_size=GUIDE_MAX_SIZE),
        mask="mask" in uploads,
        size=None if kind == "video" or image is None else image_size(image, max_size=settings.max_size),
    )


def _check_bounds(params: dict[str, Any], settings: ServerSettings) -> None:
    if "weights" in params and weights_file(parse_weights("weights", params["weights"])) is not None:
        # a path would let a request read any file of the server
        raise InvalidParameterError(
            f"weights must be 'default' or 'random' in the studio, got {params['weights']!r}", argument="weights"
        )
    for name in (*CONVENTION_OPTIONS, "labels_file"):  # for networks from files on the server: not in the studio
        if params.get(name) is not None:
            raise InvalidParameterError(
                f"{name} is not taken by the studio (its networks have their own)", argument=name
            )
    limit = settings.max_side
    size = OPTIONS["max_size"].check("max_size", params.setdefault("max_size", min(OPTIONS["max_size"].default, limit)))
    if size is not None and size > limit:  # within the option's bounds, over this studio's
        raise InvalidParameterError(f"max_size {size} is over this studio's limit of {limit} px", argument="max_size")
    noise = params.get("noise")
    if noise is not None:
        width, height = OPTIONS["noise"].check("noise", noise)
        if max(width, height) > limit:
            raise InvalidParameterError(
                f"noise {width}x{height} is over this studio's limit of {limit} px a side", argument="noise"
            )


def _check_inputs(kind: str, settings: DreamSettings, uploads: set[str]) -> None:
    if kind == "video":
        if "image" not in uploads:
            raise InvalidParameterError("a video job needs the video as the file field 'image'", argument="image")
        check_start(settings, image=True, only="a video dreams its own frames")
        return
    check_start(settings, image="image" in uploads, mask="mask" in uploads)
    if settings.noise is None and "image" not in uploads:
        raise InvalidParameterError(
            'send an image (file field \'image\') or start from noise (params: "noise": "WxH")', argument="image"
        )


def _check_zoom(params: dict[str, Any], settings: ServerSettings) -> None:
    motion = {name: params[name] for name in ZOOM_OPTIONS if name in params}
    ZoomSettings(**motion)
    frames = motion.get("frames", ZOOM_OPTIONS["frames"].default)
    if frames > settings.max_frames:
        raise InvalidParameterError(
            f"frames {frames} is over this studio's limit of {settings.max_frames}", argument="frames"
        )
    fmt = params.setdefault("format", "mp4")
    if fmt not in ZOOM_FORMATS:
        raise InvalidParameterError(f"format must be mp4, gif or webp, got {fmt!r}", argument="format")
    _check_flag(params, "labels")


def _check_flag(params: dict[str, Any], name: str) -> None:
    if name in params and not isinstance(params[name], bool):
        raise InvalidParameterError(f"{name} must be true or false, got {params[name]!r}", argument=name)
