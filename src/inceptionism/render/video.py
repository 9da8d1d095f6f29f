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
from torch import Tensor

from inceptionism._version import __version__
from inceptionism.distributed import ClusterArg, Executor, InProcess, open_executor
from inceptionism.engine.dreamer import Dreamer, settings_network
from inceptionism.engine.inputs import check_inputs
from inceptionism.engine.options import Option
from inceptionism.engine.presets import PRESETS
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.runtime import torch_threads
from inceptionism.engine.settings import DreamSettings, check_names
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import InputFiles, check_not_input, check_not_inside, check_writable, file_sha256
from inceptionism.io.images import ImageInput, image_bytes, scaled_size
from inceptionism.io.tensors import guide_pixels, mask_values
from inceptionism.io.video import VideoInfo, check_range, frames, probe, write_video
from inceptionism.models.network import Network
from inceptionism.render.flowchain import FlowChain, carried_settings
from inceptionism.render.frames import FrameCallback, FrameDone, report_frame
from inceptionism.render.framestore import FrameStore, resumed_seed, stored_params, work_dir_for
from inceptionism.render.segments import (
    SeamStore,
    SegmentPlan,
    SegmentTask,
    check_payload,
    dream_segment,
    encode_frame,
)
from inceptionism.render.still import compose_settings, input_files

DEFAULT_SEGMENT = 4.0  # seconds a segment lasts on a cluster when none is given
VIDEO_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("blend", 0.9, "How much of the previous frame's dream is carried along the flow; "
               "the rest is dreamed anew in each frame: lower is livelier and flickers more.",
               minimum=0.0, maximum=1.0, increment=0.05, kind=float),
        Option("start", 0.0, "Dream from this time.", minimum=0.0, maximum=1e6, unit="s", increment=0.1,
               kind=float),
        Option("end", None, "Dream up to this time (default: the end).", minimum=0.0, maximum=1e6, unit="s",
               increment=0.1, shown_default="the end", kind=float),
        Option("segments", None, "Cut the clip into segments of this many seconds, each with its own "
               "flow chain, dreamed in parallel on a cluster; 0: one chain.", minimum=0.0, maximum=60.0, unit="s",
               shown_default=f"0, or {DEFAULT_SEGMENT:g} on a cluster", metavar="SECONDS", kind=float),
        Option("overlap", 8, "Frames each segment starts early; the output fades into it over them, so the "
               "seam does not show.", minimum=0, maximum=120, unit="frames", metavar="FRAMES", kind=int),
    )
}  # fmt: skip
"""The video's own options; the dream options apply to every frame."""


@dataclass
class VideoResult:
    """What :func:`video` returns: where the output went, the parameters used, how many frames."""

    output: Path
    params: dict[str, Any]
    frames: int


def video(
    source: str | Path,
    output: str | Path,
    *,
    settings: DreamSettings | None = None,
    model: str | Network | None = None,
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


@dataclass(frozen=True)
class VideoPlan:
    """A video render, checked and resolved; nothing prepared or written yet.

    Attributes:
        source: the input video.
        output: the MP4 written.
        info: what the input holds.
        settings: the dream settings, resolved (layers, classes, seed).
        guide: the guide as pixels, if any.
        mask: the mask as values in 0..1, if any.
        values: the video's own options (``blend``, ``start``, ``end``, ``segments``, ``overlap``).
        flow: whether the dream is carried along the flow.
        cut: where the clip is cut into segments.
        directory: the work directory.
        params: what the render records (and a resume compares).
        images: the guide's and the mask's encoded images, for tasks sent to workers.
    """

    source: Path
    output: Path
    info: VideoInfo
    settings: DreamSettings
    guide: Tensor | None
    mask: Tensor | None
    values: dict[str, Any]
    flow: bool
    cut: SegmentPlan
    directory: Path
    params: dict[str, Any]
    images: tuple[bytes | None, bytes | None]


def plan_video(
    source: str | Path,
    output: str | Path,
    settings: DreamSettings,
    *,
    net: Network | None,
    guide: ImageInput | None,
    mask: ImageInput | None,
    flow: bool,
    asked: dict[str, Any],
    work_dir: str | Path | None,
    restart: bool,
    cluster: bool,
    reads: InputFiles | None,
) -> VideoPlan:
    """Check everything a video render needs, before anything is prepared or written.

    Raises:
        InceptionismError: a bad option, input, output, work directory, name or size, in one line.
    """
    source, output = Path(source), Path(output)
    info = _checked_input(source, output)
    if settings.noise is not None:
        raise _noise_refused(settings)
    directory = work_dir_for(output, work_dir)
    inputs = input_files(settings, {"input video": source, "guide": guide, "mask": mask, **(reads or {})})
    check_not_input(output, inputs)
    check_not_inside(directory, inputs)
    values = _video_values(asked, directory, restart, cluster)
    check_range(info, values["start"], values["end"])
    cut = SegmentPlan.of(values["segments"], values["overlap"], info.fps)
    cut.check(info.fps)
    if settings.seed is None:  # a resumed render goes on with the seed it drew; a fresh one draws one
        settings = settings.replace(seed=resumed_seed(directory, restart))
    read_guide, read_mask = guide_pixels(guide), mask_values(mask, max_size=settings.max_size)
    guide_size = None if read_guide is None else (read_guide.shape[-1], read_guide.shape[-2])
    resolved = check_inputs(
        settings, net or settings_network(settings), guide=guide_size, mask=read_mask is not None,
        size=scaled_size((info.width, info.height), settings.max_size),
    )  # fmt: skip
    params = _params(source, resolved, flow, values)
    images = _encoded(guide, mask) if cut.length else (None, None)
    return VideoPlan(
        source, output, info, resolved, read_guide, read_mask, values, flow, cut, directory, params, images
    )


def _encoded(guide: ImageInput | None, mask: ImageInput | None) -> tuple[bytes | None, bytes | None]:
    """The guide's and the mask's encoded images, as they travel to a worker."""
    return (None if guide is None else image_bytes(guide)), (None if mask is None else image_bytes(mask))


def _checked_input(source: Path, output: Path) -> VideoInfo:
    """What ``source`` holds (a video of 2 frames or more), once ``output`` is known to be a writable MP4."""
    if output.suffix.lower() != ".mp4":
        raise OutputError(f"cannot write {output}: a dreamed video is written as .mp4", argument="output")
    info = probe(source)
    if info.frames < 2:
        raise ImageError(f"{source} has {info.frames} frame{'s' * (info.frames != 1)}; a video needs at least 2")
    check_writable(output)
    return info


def _video_values(asked: dict[str, Any], directory: Path, restart: bool, cluster: bool) -> dict[str, Any]:
    """The video's options checked, a resumed render's cuts kept, the segments' default chosen."""
    values = {name: option.check(name, asked[name] if asked[name] is not None else option.default)
              for name, option in VIDEO_OPTIONS.items() if name != "segments"}  # fmt: skip
    values["segments"] = VIDEO_OPTIONS["segments"].check("segments", asked["segments"])
    if values["segments"] is None:  # a resume keeps the cuts of the render it goes on with
        resumed = _resumed_cut(directory, restart)
        values["segments"] = resumed[0] if resumed else DEFAULT_SEGMENT if cluster else 0.0
        if resumed and asked["overlap"] is None:
            values["overlap"] = resumed[1]
    if cluster and values["segments"] == 0:
        raise InvalidParameterError("on a cluster a video is cut into segments; give segments above 0 seconds",
                                    argument="segments")  # fmt: skip
    return values


def _params(source: Path, settings: DreamSettings, flow: bool, values: dict[str, Any]) -> dict[str, Any]:
    """What a render is: equal parameters give the same frames (a resume compares them)."""
    shown = {"flow": flow, **{key: values[key] for key in ("blend", "start", "end")}}
    if values["segments"]:  # recorded only when cut: a render in one chain resumes as before
        shown.update(segments=values["segments"], overlap=values["overlap"])
    return {
        "version": __version__,
        "input": f"{source.name} sha256:{file_sha256(source)[:16]}",
        "dream": settings.to_dict(),
        "video": shown,
    }


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
    """Dream the frames of ``plan`` not yet kept (one chain here, or its segments on ``executor``), then write it.

    ``net``: the network object to use in this process (tasks sent to workers name it in the settings).
    """
    store = FrameStore(plan.directory, plan.params, restart=restart)
    clip = _Clip(plan.source, plan.info, plan.values, plan.settings.max_size)
    if plan.cut.length is None:
        with torch_threads(executor.threads):
            timestamps, first_time = _render(store, _chain(plan, net), clip, callback, progress)
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


def _noise_refused(settings: DreamSettings) -> InvalidParameterError:
    """The error for settings that start from noise: from the preset that set it, if one did."""
    preset = settings.preset and PRESETS[settings.preset]
    if preset and "noise" in preset.options:
        return InvalidParameterError(
            f"a video dreams its own frames; preset {settings.preset} starts from noise; give another preset",
            argument="preset",
        )
    return InvalidParameterError("a video dreams its own frames; noise does not apply", argument="noise")


def _resumed_cut(directory: Path, restart: bool) -> tuple[float, int] | None:
    """The segments and overlap of the render whose frames are in ``directory``, if there is one."""
    stored = None if restart else stored_params(directory)
    recorded = stored.get("video", {}) if isinstance(stored, dict) else {}
    if not isinstance(recorded, dict) or "flow" not in recorded:
        return None
    segments, overlap = recorded.get("segments", 0.0), recorded.get("overlap", VIDEO_OPTIONS["overlap"].default)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (segments, overlap)):
        return None
    return float(segments), int(overlap)


def _render(
    store: FrameStore,
    chain: FlowChain,
    clip: _Clip,
    callback: FrameCallback | None,
    progress: ProgressCallback | None,
) -> tuple[list[int], float]:
    """Dream every frame not yet in ``store`` in one chain; the pts of every frame and the time of the first."""
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
        start = 0
        for index, picture in enumerate(self.clip.pictures(self.timestamps, self.times)):
            if cut.starts_segment(index) and index > 0:
                yield from self._segment(start, lead, current, has_next=True)
                lead, current, start = (list(recent) if cut.overlap else []), [], index
            encoded = encode_frame(picture)
            current.append(encoded)
            recent.append(encoded)
            check_payload(len(current) + len(lead), sum(map(len, lead)) + sum(map(len, current)))
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
