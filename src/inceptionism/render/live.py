"""Dream frames as they come (a camera, a page's video), each one going on from the last one's dream.

:func:`live` is a generator: give it frames, get each one back dreamed as soon as it is. The
dream is carried along the optical flow from frame to frame as a video's is
(:class:`~inceptionism.render.flowchain.FlowChain`): the first frame, and the first after a
scene cut or a change of settings, is dreamed alone with the full settings, and its strength
is the one every later frame is held at; every later frame goes on from the carried dream
with a light schedule (:func:`live_carried_settings`). A frame costs a fraction of a dream
and the look stays as strong as the settings make it: the dream deepens on what holds still.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from torch import nn

from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.options import Option
from inceptionism.engine.settings import DreamSettings, check_names, check_start, check_still
from inceptionism.errors import ImageError
from inceptionism.io.images import scaled_size
from inceptionism.models.network import Network
from inceptionism.render.flow import _cv2
from inceptionism.render.flowchain import FlowChain, _tensor, carried_settings
from inceptionism.render.still import compose_settings
from inceptionism.render.videoplan import VIDEO_OPTIONS

LIVE_OPTIONS: dict[str, Option] = {"blend": VIDEO_OPTIONS["blend"]}
"""Live's own options (the dream options apply to every frame): the video's blend."""
LIVE_OCTAVES = 2
LIVE_STEPS = 0.1
LIVE_OCTAVE_SCALE = 2.0
"""A frame going on from the carried dream is dreamed over ``LIVE_OCTAVES`` octaves, the frame
and half its size, with this share of the settings' steps (1 of 10): a camera moves little
between two frames dreamed 10 times a second, so the dream carried covers nearly every pixel
and each frame deepens it a little. Measured at 320x240 with SqueezeNet fire7, one run each:
on ``bikes.mp4`` (every 4th frame) the half-size octave cost 22% less a frame than one 1/1.4
the size (148 against 189 ms), with the same flicker (1.80 against 1.86 levels) and larger
shapes where nothing was carried, while one octave alone held the strength only by scaling up
a finer, noisier dream; on ``bigbuckbunny.mp4``, 1 step a frame at every 2nd frame against 2
steps at every 3rd (the rates the two reach): 63 against 101 ms a frame, flicker 0.84 against
1.25, and 87% of the dream where nothing could be carried (9.21 against 10.55 levels)."""
LIVE_SIZE = 320
"""The long side a camera's frames are dreamed at unless ``max_size`` says otherwise (command line)."""
WHAT = "live dreams the frames it is given"

Frame = np.ndarray
"""A picture: ``(H, W, 3)`` uint8 RGB."""


def live_carried_settings(settings: DreamSettings) -> DreamSettings:
    """The settings of a live frame going on from the carried dream: :data:`LIVE_OCTAVES` octaves, fewer steps.

    >>> carried = live_carried_settings(DreamSettings(octaves=4, steps=10))
    >>> carried.octaves, carried.steps, carried.octave_scale
    (2, 1, 2.0)
    """
    return carried_settings(settings, octaves=LIVE_OCTAVES, share=LIVE_STEPS).replace(octave_scale=LIVE_OCTAVE_SCALE)


def check_live(settings: DreamSettings) -> DreamSettings:
    """``settings`` checked for live (no noise, no manual octave sizes), with a seed drawn if none is given.

    The same seed dreams every frame, so the jitter does not flicker.

    Raises:
        InvalidParameterError: noise or octave_sizes, in one line.
    """
    check_start(settings, image=True, only=WHAT)
    check_still(settings, "live dream")
    return settings if settings.seed is not None else settings.replace(seed=secrets.randbelow(2**31))


class LiveDreamer:
    """Dream frames one after another; the settings and blend may change between two frames.

    Args:
        settings: the dream settings; frames larger than their ``max_size`` are scaled down.
        net: the network of ``settings.model`` (loaded from the settings if ``None``).
        blend: how much of the previous frame's dream is carried where the flow is valid (0..1).

    Raises:
        InceptionismError: bad settings, in one line, before any frame.
    """

    def __init__(self, settings: DreamSettings, *, net: Network | None = None, blend: float | None = None) -> None:
        self.asked, self.settings, self.net = settings, check_live(settings), net
        self.blend = LIVE_OPTIONS["blend"].check("blend", LIVE_OPTIONS["blend"].default if blend is None else blend)
        self.frames = 0
        self.picture: Frame | None = None  # the last frame given, as it was dreamed (scaled to max_size)
        self._chain: FlowChain | None = None  # made for the next frame

    def update(
        self, settings: DreamSettings | None = None, *, net: Network | None = None, blend: float | None = None
    ) -> None:
        """Dream the next frames with these settings (and ``net``) or this blend; what is not given stays.

        New settings start afresh: the next frame is dreamed alone and its strength held.
        """
        if blend is not None:
            self.blend = LIVE_OPTIONS["blend"].check("blend", blend)
            if self._chain is not None:
                self._chain.blend = self.blend
        if settings is not None and (settings != self.asked or net is not self.net):
            self.asked, self.settings, self.net, self._chain = settings, check_live(settings), net, None

    def __call__(self, picture: Frame, *, stop: Callable[[], bool] | None = None) -> Frame:
        """The next frame ``picture`` dreamed, ``(h, w, 3)`` uint8 (scaled to the settings' max_size).

        ``stop``: asked after every step; ``True`` abandons the frame with
        :class:`~inceptionism.engine.progress.Cancelled`.
        """
        picture = self.picture = fitted(picture, self.settings.max_size)
        if self._chain is None:
            self._chain = self._new_chain(picture)
        try:
            dreamed = self._chain(picture, index=self.frames, progress=None if stop is None else lambda _: stop())
        except BaseException:
            self._chain = None  # its flow moved on to a frame it did not dream: the next one starts afresh
            raise
        self.frames += 1
        return dreamed

    def _new_chain(self, picture: Frame) -> FlowChain:
        alone = Dreamer(self.settings, model=self.net).ranked_on(_tensor(picture))  # strong:N: on this frame
        carried = Dreamer(live_carried_settings(alone.settings), model=alone.net)
        return FlowChain((alone, carried), blend=self.blend, flow=True, steady=True)


def live(
    frames: Iterable[Frame],
    settings: DreamSettings | Callable[[], DreamSettings] | None = None,
    *,
    model: str | nn.Module | None = None,
    blend: float | None = None,
    **options: Any,
) -> Iterator[Frame]:
    """Dream ``frames`` as they come: a generator of the dreamed frames, one for each, in order.

    Args:
        frames: pictures ``(H, W, 3)`` uint8 RGB (a camera's frames, say); the generator
            ends when they do.
        settings: the dream settings, or a function giving them, asked before every frame:
            when they change, the next frame starts afresh with them. Dream ``options``
            (``layers``, ``steps``...) go over them.
        model: a registry name or a network.
        blend: how much of the previous frame's dream is carried (0..1).
        **options: dream options.

    >>> import numpy as np
    >>> still = np.full((96, 128, 3), 128, np.uint8)
    >>> dreamed = list(live([still, still], layers=["fire3"], octaves=1, steps=1))  # doctest: +SKIP
    """
    check_names(options, "live()")
    current = settings if callable(settings) else lambda: settings
    given = current()
    composed, net = compose_settings(given, model, options)
    dreamer = LiveDreamer(composed, net=net, blend=blend)
    for picture in frames:
        if (latest := current()) is not given:
            given = latest
            dreamer.update(compose_settings(latest, model, options)[0], net=net)
        yield dreamer(picture)


def fitted(picture: Frame, max_size: int | None) -> Frame:
    """``picture`` scaled down (area averaging) so that its long side is at most ``max_size``.

    Raises:
        ImageError: it is not ``(H, W, 3)`` uint8.
    """
    if not isinstance(picture, np.ndarray) or picture.dtype != np.uint8 or picture.ndim != 3 or picture.shape[2] != 3:
        shape = getattr(picture, "shape", None)
        raise ImageError(f"a live frame must be an (H, W, 3) uint8 RGB array, got {shape or type(picture).__name__}")
    height, width = picture.shape[:2]
    size = scaled_size((width, height), max_size)
    if size == (width, height):
        return picture
    return _cv2().resize(picture, size, interpolation=_cv2().INTER_AREA)
