"""Dream a film: every frame dreamed, the dream carried along the optical flow, the sound kept.

Each frame goes on from the previous frame's dream moved along the optical flow, and is
held at the strength of a frame dreamed alone (:mod:`~inceptionism.render.flowchain`): the
dream sticks to moving things instead of flickering, and starts afresh at a scene cut. Frames
are decoded and encoded as a stream, kept in a work directory as they are finished (a
killed render resumes), and the output, with the input's timestamps and sound, is written
when all are done.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from torch import nn

from inceptionism.distributed import ClusterArg, Executor, InProcess, open_executor
from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.settings import DreamSettings, check_names
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.io.files import InputFiles
from inceptionism.io.images import ImageInput, scaled_size
from inceptionism.io.video import VideoInfo, frames, write_video
from inceptionism.models.network import Network
from inceptionism.render.flowchain import FlowChain, carried_settings
from inceptionism.render.frames import FrameCallback, FrameDone, report_frame
from inceptionism.render.framestore import FrameStore
from inceptionism.render.segments import (
    SeamStore,
    SegmentTask,
    check_payload,
    dream_segment,
    encode_frame,
)
from inceptionism.render.show import media_html
from inceptionism.render.still import compose_settings
from inceptionism.render.videoplan import ONE_CHAIN_ON_A_CLUSTER, VideoPlan, plan_video


@dataclass
class VideoResult:
    """What :func:`video` returns: where the output went, the parameters used, how many frames."""

    output: Path
    params: dict[str, Any]
    frames: int

    def _repr_html_(self) -> str:
        """The dreamed video, playing, and its key settings, for Jupyter."""
        return media_html(self.output, {**self.params, "frames": self.frames})


def video(
    source: str | Path,
    output: str | Path,
    *,
    settings: DreamSettings | None = None,
    model: str | nn.Module | None = None,
    guide: ImageInput | None = None,
    mask: ImageInput | None = None,
    flow: bool = True,
    blend: float | None = None,
    start: float | None = None,
    end: float | None = None,
    work_dir: str | Path | None = None,
    restart: bool = False,
    keep_frames: bool = False,
    segments: float | None = None,
    overlap: int | None = None,
    cluster: ClusterArg = None,
    threads: int | None = None,
    callback: FrameCallback | None = None,
    progress: ProgressCallback | None = None,
    reads: InputFiles | None = None,
    **options: Any,
) -> VideoResult:
    """Dream every frame of the video ``source`` into the MP4 ``output``, with its sound.

    Args:
        source: the video (any FFmpeg reads).
        output: an ``.mp4`` path.
        settings: dream settings to start from; dream ``options`` override them. Every
            frame is dreamed with them and the same seed (the same jitter on every frame).
        model: a registry name or a network.
        guide: dream toward this image's features.
        mask: white dreams, black stays.
        flow: carry the dream along the optical flow (``False``: each frame dreamed alone).
        blend: how much of the previous frame's dream is carried (0..1; the rest is dreamed anew).
        start: dream from this time (seconds); the output is that part, with its sound.
        end: dream up to this time (seconds).
        work_dir: where finished frames are kept (default: ``OUT.frames`` beside the output).
        restart: discard frames of an earlier render in ``work_dir`` instead of resuming.
        keep_frames: keep ``work_dir`` after success.
        segments: cut the clip into segments of this many seconds, each with its own flow
            chain (``0``: one chain; default 0, or 4 on a cluster, or what the render being
            resumed used). The cuts are part of the render: the same segments give the same
            frames in this process and on any cluster.
        overlap: frames each segment starts early; the output fades from the segment before
            into it over them (0..120).
        cluster: ``None`` (here), ``"local:N"``, a scheduler address or a Dask ``Client``:
            the segments are dreamed in parallel there.
        threads: torch threads per frame (see :func:`~inceptionism.distributed.open_executor`).
        callback: called after every frame with a :class:`~inceptionism.render.frames.FrameDone`;
            ``True`` stops after it.
        progress: called after every step of every frame (in this process; on a cluster,
            a stop asked by ``callback`` waits for the segments running there).
        reads: other files the caller read, by what they are (``{"--from image": path}``): no
            output may replace one, as none may replace ``source``, ``guide``, ``mask`` or a weights file.
        **options: dream options (``octaves``, ``steps``, ``layers``, ``seed``...).
    """
    check_names(options, "video()")
    composed, net = compose_settings(settings, model, options)
    asked = {"blend": blend, "start": start, "end": end, "segments": segments, "overlap": overlap}
    plan = plan_video(
        source, output, composed, net=net, guide=guide, mask=mask, flow=flow, asked=asked,
        work_dir=work_dir, restart=restart, cluster=cluster is not None, reads=reads,
    )  # fmt: skip
    with open_executor(cluster, threads=threads) as executor:
        return render_video(
            plan, executor, net=net, restart=restart, keep_frames=keep_frames, callback=callback, progress=progress
        )


def render_video(
    plan: VideoPlan,
    executor: Executor,
    *,
    net: Network | None = None,
    restart: bool = False,
    keep_frames: bool = False,
    callback: FrameCallback | None = None,
    progress: ProgressCallback | None = None,
) -> VideoResult:
    """Dream the frames of ``plan`` not yet kept on ``executor``, then write the video.

    A render in one chain is one task, the whole clip, run by this process's executor
    (:class:`~inceptionism.distributed.InProcess`: on a cluster a video is cut into segments);
    a segmented one sends a task per segment.

    ``net``: the network object to use in this process (tasks sent to workers name it in the settings).
    """
    if plan.cut.length is None and not isinstance(executor, InProcess):
        raise InvalidParameterError(ONE_CHAIN_ON_A_CLUSTER, argument="segments")
    store = FrameStore(plan.directory, plan.params, restart=restart)
    clip = _Clip(plan.source, plan.info, plan.values, plan.settings.max_size)
    if plan.cut.length is None:  # one segment, the whole clip, streamed: a task of this process's executor
        ((_, (timestamps, first_time)),) = executor.run(_render, [(store, plan, net, clip, callback, progress)])
    else:
        feed = _SegmentFeed(store, plan, clip, callback)
        timestamps, first_time = feed.run(executor, net, progress)
    written = write_video(
        plan.output,
        ((np.asarray(store.load(index)), pts) for index, pts in enumerate(timestamps)),
        source=plan.source,
        info=plan.info,
        start=first_time,
        end=plan.values["end"],
        metadata=plan.params,
    )
    if not keep_frames:
        store.remove()
    return VideoResult(output=plan.output, params=plan.params, frames=written)


def _chain(plan: VideoPlan, net: Network | None) -> FlowChain:
    """The flow chain of a render in one chain, in this process."""
    alone = Dreamer(plan.settings, model=net, guide=plan.guide, mask=plan.mask)
    carried = Dreamer(carried_settings(plan.settings), model=alone.net, guide=plan.guide, mask=plan.mask)
    return FlowChain((alone, carried), blend=plan.values["blend"], flow=plan.flow)


@dataclass(frozen=True)
class _Clip:
    """The part of the video dreamed, and the size its frames are dreamed at."""

    source: Path
    info: VideoInfo
    values: dict[str, Any]
    max_size: int | None

    @property
    def frames(self) -> int:
        """Frames in the part dreamed (those timed in ``[start, end)``), estimated from the frame rate."""
        whole, fps = self.info.frames, float(self.info.fps)
        end = self.values["end"]
        last = whole if end is None else min(whole, math.ceil(end * fps - 1e-6))
        return max(1, last - min(whole, math.ceil(self.values["start"] * fps - 1e-6)))

    def pictures(self, timestamps: list[int], times: list[float]) -> Iterator[np.ndarray]:
        """Every input frame, scaled; its pts and time appended to ``timestamps`` and ``times``."""
        for decoded in frames(self.source, start=self.values["start"], end=self.values["end"]):
            timestamps.append(decoded.pts)
            times.append(decoded.time)
            yield _scaled(decoded.pixels, self.max_size)

    def checked(self, timestamps: list[int], times: list[float]) -> tuple[list[int], float]:
        """The timestamps and the time of the first frame (where the sound is cut), once all are decoded."""
        if len(timestamps) < 2:
            raise ImageError(
                f"{self.source} has {len(timestamps)} frame(s) in the part asked for; a video needs at least 2"
            )
        return timestamps, times[0]


def _render(
    store: FrameStore,
    plan: VideoPlan,
    net: Network | None,
    clip: _Clip,
    callback: FrameCallback | None,
    progress: ProgressCallback | None,
) -> tuple[list[int], float]:
    """Dream every frame not yet in ``store`` in one chain, in this process; every frame's pts and the first one's time.

    The frames are decoded, dreamed and kept one at a time (a chain's task never travels: it
    holds the store and the callbacks).
    """
    chain = _chain(plan, net)
    done = store.done()
    timestamps: list[int] = []
    times: list[float] = []
    for index, picture in enumerate(clip.pictures(timestamps, times)):
        if index < done:
            chain.follow(picture, np.asarray(store.load(index)))
        else:
            store.save(index, Image.fromarray(chain(picture, index=index, progress=progress)))
        report_frame(callback, FrameDone(index, max(clip.frames, index + 1), resumed=index < done), last=False)
    return clip.checked(timestamps, times)


class _SegmentFeed:
    """The segments of a render sent to an executor as the clip is decoded, and kept as they come back.

    Each frame is reported once, when it is final (a fade's frame when both its halves are in).
    """

    def __init__(self, store: FrameStore, plan: VideoPlan, clip: _Clip, callback: FrameCallback | None) -> None:
        self.store, self.plan, self.clip, self.callback = store, plan, clip, callback
        self.seams = SeamStore(store, plan.cut)
        self.timestamps: list[int] = []
        self.times: list[float] = []
        self.roles_of: dict[int, list[tuple[int, str]]] = {}
        self.reported: set[int] = set()

    def run(
        self, executor: Executor, net: Network | None, progress: ProgressCallback | None
    ) -> tuple[list[int], float]:
        """Dream the segments not yet kept; every frame's pts and the time of the first."""
        local = isinstance(executor, InProcess)  # here, the network object and the step callback are given
        extra = (net, progress) if local else ()
        for _, (first, dreamed) in executor.run(dream_segment, ((task, *extra) for task in self._tasks())):
            for index in self.seams.keep(self.roles_of.pop(first), dreamed):
                self._report(index, resumed=False)
        return self.clip.checked(self.timestamps, self.times)

    def _tasks(self) -> Iterator[SegmentTask]:
        """A task per segment not yet kept, its frames (and the overlap before them) as PNG."""
        cut = self.plan.cut
        recent: deque[bytes] = deque(maxlen=cut.overlap or 1)
        lead: list[bytes] = []
        current: list[bytes] = []
        start = size = 0
        for index, picture in enumerate(self.clip.pictures(self.timestamps, self.times)):
            if cut.starts_segment(index) and index > 0:
                yield from self._segment(start, lead, current, has_next=True)
                lead, current, start = (list(recent) if cut.overlap else []), [], index
                size = sum(map(len, lead))
            encoded = encode_frame(picture)
            current.append(encoded)
            recent.append(encoded)
            size += len(encoded)
            check_payload(len(current) + len(lead), size)  # a task, and what this process holds of it
        yield from self._segment(start, lead, current, has_next=False)

    def _segment(self, start: int, lead: list[bytes], current: list[bytes], *, has_next: bool) -> Iterator[SegmentTask]:
        first = start - len(lead)
        roles = self.seams.roles(first, start, start + len(current), has_next)
        if self.seams.finished(roles):
            for index, _ in roles[len(lead) :]:
                self._report(index, resumed=True)
            return
        self.roles_of[first] = roles
        plan = self.plan
        guide, mask = plan.images
        yield SegmentTask(plan.settings, plan.values["blend"], plan.flow, guide, mask, first, (*lead, *current))

    def _report(self, index: int, *, resumed: bool) -> None:
        if index not in self.reported and self.store.path(index).is_file():
            self.reported.add(index)
            done = FrameDone(index, max(self.clip.frames, index + 1), resumed=resumed)
            report_frame(self.callback, done, last=False)


def _scaled(pixels: np.ndarray, max_size: int | None) -> np.ndarray:
    height, width = pixels.shape[:2]
    size = scaled_size((width, height), max_size)
    if size == (width, height):
        return pixels
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))
