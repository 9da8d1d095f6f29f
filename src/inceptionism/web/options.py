"""The studio server's settings as options, and the JSON schema of an option's bounds.

:class:`~inceptionism.web.config.ServerSettings` takes its numeric fields' defaults, bounds and
descriptions from here, and ``inceptionism serve`` its ``--port`` and ``--workers``. This
module needs none of the ``[web]`` extra, so the command line can read it without FastAPI.
"""

from __future__ import annotations

from typing import Any

from inceptionism.engine.options import SIDE_LIMIT, Option

SERVE_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("port", 8000, "Port to listen on.", minimum=1, maximum=65535, kind=int),
        Option("workers", 1, "Jobs dreamed at the same time (on a cluster, its worker count within the bounds).",
               minimum=1, maximum=16, kind=int),
        Option("queue_limit", 16, "Jobs waiting at most; more are refused with 429.", minimum=1, maximum=1000,
               kind=int),
        Option("max_upload_mb", 64, "Largest image upload.", minimum=1, maximum=4096, unit="MB", kind=int),
        Option("max_video_upload_mb", 512, "Largest video upload.", minimum=1, maximum=65536, unit="MB", kind=int),
        Option("max_pixels", 40_000_000, "Largest image, in pixels.", minimum=64 * 64, maximum=400_000_000,
               kind=int),
        Option("max_side", 4096, "Longest side a job may dream at (max_size, noise).", minimum=64,
               maximum=SIDE_LIMIT, unit="px", kind=int),
        Option("max_frames", 2000, "Most frames of a zoom or a video.", minimum=2, maximum=100_000, kind=int),
        Option("live_sessions", 1, "Live camera sessions at the same time, each taking a worker; 0: none.",
               minimum=0, maximum=16, kind=int),
        Option("preview_interval", 0.25, "Time between two live previews.", minimum=0.05, maximum=10.0, unit="s",
               kind=float),
    )
}  # fmt: skip
"""The server's numeric settings, in the order ``ServerSettings`` holds them."""


def bounds_schema(option: Option) -> dict[str, Any]:
    """The JSON schema keywords of ``option``'s bounds, for a field the option itself checks.

    >>> bounds_schema(SERVE_OPTIONS["port"])
    {'minimum': 1, 'maximum': 65535}
    """
    low = "exclusiveMinimum" if option.open_below else "minimum"
    return {low: option.minimum, "maximum": option.maximum}
