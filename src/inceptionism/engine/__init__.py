"""The dream engine: settings, the prepared Dreamer, the ascent loop and its parts.

``options`` declares every option once; ``settings`` holds them as data; ``dreamer``
prepares a network and settings once and dreams frame after frame; ``ascent`` is the
octave loop, with ``schedule``, ``tiles``, ``memory`` (the tile plan), ``filters`` (gradient
filters) and ``progress``; ``visualize`` dreams from noise through a ``parameterization``
and ``transforms``; ``runtime`` chooses the device and precision.
"""

from inceptionism.engine.ascent import ascend
from inceptionism.engine.dreamer import Dreamer, DreamFrame, TilePlan
from inceptionism.engine.options import OPTIONS, Option
from inceptionism.engine.pixels import PIXEL_MAX, resize
from inceptionism.engine.presets import PRESETS, Preset
from inceptionism.engine.progress import Cancelled, Progress, ProgressCallback
from inceptionism.engine.schedule import Schedule, check_size, check_tile
from inceptionism.engine.settings import DreamSettings
from inceptionism.engine.windows import roll_into

__all__ = [
    "OPTIONS",
    "PIXEL_MAX",
    "PRESETS",
    "Cancelled",
    "DreamFrame",
    "DreamSettings",
    "Dreamer",
    "Option",
    "Preset",
    "Progress",
    "ProgressCallback",
    "Schedule",
    "TilePlan",
    "ascend",
    "check_size",
    "check_tile",
    "resize",
    "roll_into",
]
