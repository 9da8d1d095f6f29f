"""Results that show themselves in Jupyter: the image or the animation, with the settings that made it.

A result's ``_repr_html_`` (and ``_repr_png_`` for an image) is what a notebook cell shows
when the result is its last value. Media are embedded as data URLs up to :data:`EMBED_LIMIT`;
a larger file is shown as its path.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

EMBED_LIMIT = 32 * 2**20
"""The largest file embedded in a notebook (a larger animation is named, not embedded)."""
SHOWN = ("model", "layers", "classes", "loss", "octaves", "octave_scale", "steps", "step_size", "jitter", "seed",
         "frames", "zoom", "blend", "size")  # fmt: skip
"""The settings shown under a result, those that are set."""
MEDIA = {".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif", ".webp": "image/webp", ".png": "image/png"}


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def settings_caption(params: Mapping[str, Any]) -> str:
    """The key settings of ``params`` as one line of HTML-safe text.

    >>> settings_caption({"model": "squeezenet1_1", "layers": ["fire7"], "classes": [], "seed": 3, "tv": 0.0})
    'model squeezenet1_1 · layers fire7 · seed 3'
    """
    shown = []
    for name in SHOWN:
        value = params.get(name)
        if value in (None, [], ()):
            continue
        text = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        shown.append(f"{name} {text}")
    return html.escape(" · ".join(shown))


def image_html(image: Image.Image, params: Mapping[str, Any]) -> str:
    """An ``<img>`` of ``image`` with the key settings of ``params`` under it."""
    data = base64.b64encode(png_bytes(image)).decode()
    return _figure(f'<img src="data:image/png;base64,{data}" style="max-width:100%">', params)


def media_html(path: Path, params: Mapping[str, Any], *, caption: str | None = None) -> str:
    """The animation, video or image at ``path``, embedded (playing in a loop), with a caption under it.

    The caption is ``caption`` if given, else the key settings of ``params``.
    """
    media = MEDIA.get(path.suffix.lower())
    if media is None or not path.is_file() or path.stat().st_size > EMBED_LIMIT:
        return _figure(f"<code>{html.escape(str(path))}</code>", params, caption)
    source = f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode()}"
    if media.startswith("video/"):
        element = f'<video src="{source}" controls loop autoplay muted playsinline style="max-width:100%"></video>'
    else:
        element = f'<img src="{source}" style="max-width:100%">'
    return _figure(element, params, caption)


def _figure(element: str, params: Mapping[str, Any], caption: str | None = None) -> str:
    text = settings_caption(params) if caption is None else html.escape(caption)
    return f'<figure style="margin:0">{element}<figcaption style="font-size:smaller">{text}</figcaption></figure>'
