"""Inceptionism: DeepDream as a library, a command line and a local web studio.

>>> import inceptionism
>>> result = inceptionism.dream(layers=["fire7"], octaves=2, steps=2)  # doctest: +SKIP
>>> result.image.save("dream.png")  # doctest: +SKIP
"""

from inceptionism._version import __version__
from inceptionism.classify import Prediction, classify
from inceptionism.engine import Cancelled, Dreamer, DreamFrame, DreamSettings, Progress, Schedule
from inceptionism.engine.parameterization import FourierImage, PixelImage
from inceptionism.engine.visualize import visualize
from inceptionism.errors import InceptionismError
from inceptionism.models import get_model, list_models
from inceptionism.objectives import Objective, as_objective
from inceptionism.render import DreamResult, dream
from inceptionism.render.atlas import AtlasResult, AtlasTile, atlas
from inceptionism.render.bar import ProgressBar
from inceptionism.render.batch import BatchResult, batch
from inceptionism.render.live import LiveDreamer, live
from inceptionism.render.snapshots import Snapshots
from inceptionism.render.video import VideoResult, video
from inceptionism.render.zoom import ZoomResult, ZoomSettings, zoom
from inceptionism.training.train import TrainResult, train

__all__ = [
    "AtlasResult",
    "AtlasTile",
    "BatchResult",
    "Cancelled",
    "DreamFrame",
    "DreamResult",
    "DreamSettings",
    "Dreamer",
    "FourierImage",
    "InceptionismError",
    "LiveDreamer",
    "Objective",
    "PixelImage",
    "Prediction",
    "Progress",
    "ProgressBar",
    "Schedule",
    "Snapshots",
    "TrainResult",
    "VideoResult",
    "ZoomResult",
    "ZoomSettings",
    "__version__",
    "as_objective",
    "atlas",
    "batch",
    "classify",
    "dream",
    "get_model",
    "list_models",
    "live",
    "train",
    "video",
    "visualize",
    "zoom",
]
