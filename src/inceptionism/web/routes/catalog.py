"""What there is to dream with: ``/api/models``, layers, ``/api/classes``, ``/api/presets``, ``/api/options``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from inceptionism.engine.options import OPTIONS
from inceptionism.engine.presets import PRESETS
from inceptionism.errors import InceptionismError
from inceptionism.models import PSEUDO_LAYERS, imagenet_classes
from inceptionism.render.atlas import ATLAS_OPTIONS
from inceptionism.render.live import LIVE_OPTIONS
from inceptionism.render.videoplan import VIDEO_OPTIONS
from inceptionism.render.zoom import ZOOM_OPTIONS
from inceptionism.web.deps import StudioDep
from inceptionism.web.errors import answers
from inceptionism.web.schemas import ClassOut, LayerOut, ModelOut, OptionOut, PresetOut

router = APIRouter(prefix="/api", tags=["catalog"])


@router.get("/models", response_model=list[ModelOut])
def list_models(studio: StudioDep) -> list[ModelOut]:
    """The networks offered, the default first."""
    shown = []
    for name in studio.catalog.names():
        info = studio.catalog.info(name)
        shown.append(ModelOut(name=name, description=info.description, default_layer=info.default_layer,
                              layers=len(set(info.layer_channels) - set(PSEUDO_LAYERS))))  # fmt: skip
    return shown


@router.get("/models/{name}/layers", response_model=list[LayerOut], responses=answers(404))
def list_layers(studio: StudioDep, name: str) -> list[LayerOut]:
    """The layers of a network that can be dreamed, with their channel counts."""
    try:
        info = studio.catalog.info(name)
    except InceptionismError as error:
        raise HTTPException(404, str(error)) from None
    return [LayerOut(name=layer, channels=count) for layer, count in info.layer_channels.items()
            if layer not in PSEUDO_LAYERS]  # fmt: skip


@router.get("/classes", response_model=list[ClassOut], responses=answers(422))
def list_classes(
    q: Annotated[str, Query(max_length=100, description="part of a class name")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[ClassOut]:
    """The ImageNet classes whose name contains ``q``."""
    found = [ClassOut(index=index, label=label) for index, label in enumerate(imagenet_classes())
             if q.lower() in label.lower()]  # fmt: skip
    return found[:limit]


@router.get("/presets", response_model=list[PresetOut])
def list_presets() -> list[PresetOut]:
    """Named settings a job's ``preset`` takes."""
    return [PresetOut(name=p.name, description=p.description, options=_plain(p.options)) for p in PRESETS.values()]


def _plain(options: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in options.items()}


OPTION_GROUPS = {"dream": OPTIONS, "zoom": ZOOM_OPTIONS, "video": VIDEO_OPTIONS, "atlas": ATLAS_OPTIONS,
                 "live": LIVE_OPTIONS}  # fmt: skip
"""The options the studio offers, by the render that takes them."""


@router.get("/options", response_model=list[OptionOut])
def list_options() -> list[OptionOut]:
    """Every option of a dream, a zoom, a video, an atlas and live, with its default, help line and bounds."""
    return [OptionOut.of(option, group) for group, table in OPTION_GROUPS.items() for option in table.values()]
