"""One live session of the studio: frames from a WebSocket dreamed on a thread of their own, the newest first.

The socket's reader puts each frame it receives in a one-frame slot (:class:`LatestFrame`):
a frame that comes while another waits replaces it, and the one replaced is dropped (and
counted), so nothing queues and the delay stays one dream long. The session's thread dreams
what the slot holds with a :class:`~inceptionism.render.live.LiveDreamer`, the dream carried
from frame to frame, and hands each dreamed frame back (:meth:`LiveSession.post`) with the
id of the frame it answers. Settings are checked on arrival and applied from the next frame.
A snapshot and a recording become finished jobs of the gallery (:mod:`~inceptionism.web.livekeep`).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from inceptionism.engine.progress import Cancelled
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import ImageError, InceptionismError, InvalidParameterError
from inceptionism.render.flowchain import dream_of
from inceptionism.render.live import LiveDreamer
from inceptionism.render.meter import strength
from inceptionism.web.livekeep import Keeper

logger = logging.getLogger(__name__)

FRAME_ID_BYTES = 4
"""A frame message starts with its id: 4 bytes, big-endian, unsigned; an encoded image follows."""
FRAME_BYTES = 4 * 2**20
"""Largest frame message: a 640x480 JPEG is some 50 kB."""
LIVE_MESSAGE = FRAME_BYTES + FRAME_ID_BYTES
"""Largest WebSocket message the server reads (``uvicorn --ws-max-size``): a larger one closes the socket."""
JPEG_QUALITY = 85
FRAME_FORMATS = ("JPEG", "PNG", "WEBP")  # what a frame may be: no other decoder of Pillow's is reached


@dataclass(frozen=True)
class Incoming:
    """A frame as received: its id, its encoded image, when it came (``time.monotonic``)."""

    id: int
    data: bytes
    received: float


def read_frame(message: bytes) -> Incoming:
    """The frame a binary message carries.

    Raises:
        InvalidParameterError: too short or too large.
    """
    if len(message) <= FRAME_ID_BYTES:
        raise InvalidParameterError(
            f"a frame message is a {FRAME_ID_BYTES}-byte id (big-endian) then an image; got {len(message)} bytes",
            argument="frame",
        )
    if len(message) > FRAME_BYTES:
        raise InvalidParameterError(
            f"a frame of {len(message) // 1024} kB is over the {FRAME_BYTES // 2**20} MB limit; send a JPEG",
            argument="frame",
        )
    return Incoming(int.from_bytes(message[:FRAME_ID_BYTES], "big"), message[FRAME_ID_BYTES:], time.monotonic())


def decode_frame(data: bytes, max_pixels: int) -> np.ndarray:
    """An encoded image (JPEG, PNG, WebP) as ``(H, W, 3)`` uint8 RGB.

    Raises:
        ImageError: not an image, or over ``max_pixels``.
    """
    try:
        with Image.open(io.BytesIO(data), formats=FRAME_FORMATS) as image:
            if image.width * image.height > max_pixels:
                raise ImageError(f"a frame of {image.width}x{image.height} is over this studio's {max_pixels} pixels")
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"the frame is not an image Pillow can read (send JPEG, PNG or WebP): {error}") from None


class LatestFrame:
    """The newest frame not dreamed yet: a new one replaces it; iterating waits for one, and ends when closed."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._frame: Incoming | None = None
        self.closed = False
        self.dropped = 0

    def put(self, frame: Incoming) -> None:
        """Keep ``frame`` for the next dream, dropping one still waiting."""
        with self._ready:
            self.dropped += self._frame is not None
            self._frame = frame
            self._ready.notify()

    def close(self) -> None:
        """No more frames: iteration ends (the frame being dreamed is abandoned at its next step)."""
        with self._ready:
            self.closed = True
            self._ready.notify_all()

    def __iter__(self) -> Iterator[Incoming]:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._frame is not None or self.closed)
                if self.closed:
                    return
                frame, self._frame = self._frame, None
            yield frame


@dataclass(frozen=True)
class Choice:
    """Settings asked for, checked: the session's params, their dream settings, the network, the blend."""

    params: dict[str, Any]
    settings: DreamSettings
    net: Any
    blend: float
    version: int


@dataclass(frozen=True)
class Dreamed:
    """The latest frame dreamed: the dream, the frame it was dreamed on, and the settings' params."""

    pixels: np.ndarray
    source: np.ndarray
    params: dict[str, Any]


class LiveSession:
    """Dream the frames one socket sends, on a thread of its own.

    Args:
        post: sends a message to the client (a dict as JSON, bytes as binary), from any thread.
        keeper: keeps the session's snapshots and recording in the gallery.
        max_pixels: the largest frame taken.
    """

    def __init__(self, post: Callable[[dict[str, Any] | bytes], None], keeper: Keeper, *, max_pixels: int) -> None:
        self.post, self.keeper, self.max_pixels = post, keeper, max_pixels
        self.slot = LatestFrame()
        self.frames = 0  # dreamed in this session
        self._choice: Choice | None = None
        self._dreamer: LiveDreamer | None = None
        self._applied = 0  # the version of the settings the dreamer has
        self._latest: Dreamed | None = None
        self._lock = threading.Lock()  # the choice and the latest dream
        self._thread = threading.Thread(target=self._run, name="inceptionism-live", daemon=True)

    def start(self, choice: Choice) -> None:
        """Dream with ``choice`` from the first frame on."""
        self._choice = choice
        self._thread.start()

    def choose(self, choice: Choice) -> None:
        """Dream with ``choice`` from the next frame on."""
        with self._lock:
            self._choice = choice

    def close(self) -> None:
        """Stop dreaming (at the next step of the frame being dreamed), then keep a recording under way."""
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join()  # a step is bounded: the worker is given back only once it is free
        if self.keeper.recording:
            self.keeper.stop()

    def _run(self) -> None:
        for incoming in self.slot:
            try:
                self._dream(incoming)
            except Cancelled:
                return
            except InceptionismError as error:
                self.post({"type": "error", "id": incoming.id, "detail": str(error)})
            except Exception as error:  # a bug: this frame is lost, the session goes on
                logger.exception("live frame %d failed", incoming.id)
                self.post({"type": "error", "id": incoming.id, "detail": f"internal error: {error}"})

    def _dreamer_for(self) -> tuple[LiveDreamer, Choice]:
        with self._lock:
            choice = self._choice
        if self._dreamer is None:
            self._dreamer = LiveDreamer(choice.settings, net=choice.net, blend=choice.blend)
        elif choice.version != self._applied:
            self._dreamer.update(choice.settings, net=choice.net, blend=choice.blend)
        self._applied = choice.version
        return self._dreamer, choice

    def _dream(self, incoming: Incoming) -> None:
        picture = decode_frame(incoming.data, self.max_pixels)
        dreamer, choice = self._dreamer_for()
        started = time.monotonic()
        dreamed = dreamer(picture, stop=lambda: self.slot.closed)
        source = dreamer.picture
        self.frames += 1
        with self._lock:
            self._latest = Dreamed(dreamed, source, choice.params)
        height, width = dreamed.shape[:2]
        self.post({
            "type": "dreamed", "id": incoming.id, "settings": choice.version, "width": width, "height": height,
            "dream_ms": round((time.monotonic() - started) * 1000, 1), "dropped": self.slot.dropped,
            "frames": self.frames, "strength": round(strength(dream_of(dreamed, source)), 2),
        })  # fmt: skip
        self.post(incoming.id.to_bytes(FRAME_ID_BYTES, "big") + jpeg(dreamed))
        ended = self.keeper.add(dreamed, incoming.received)
        if ended is not None:  # full (kept) or failed: a new recording is for the user to start
            self.post(ended)

    def snapshot(self) -> dict[str, Any]:
        """Keep the latest dreamed frame (and the frame it was dreamed on) in the gallery; the ``saved`` message.

        Raises:
            InvalidParameterError: nothing dreamed yet.
        """
        with self._lock:
            latest = self._latest
        if latest is None:
            raise InvalidParameterError("nothing dreamed yet: send a frame first, then take the snapshot")
        return self.keeper.snapshot(latest.pixels, latest.source, latest.params)

    def record(self, on: bool) -> dict[str, Any]:
        """Start recording the dreamed frames (with the settings now in use), or stop and keep the recording."""
        if not on:
            return self.keeper.stop()
        with self._lock:
            params = self._choice.params if self._choice else {}
        return self.keeper.start(params)


def jpeg(pixels: np.ndarray) -> bytes:
    """``(H, W, 3)`` uint8 RGB as a JPEG, as a dreamed frame is sent."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
