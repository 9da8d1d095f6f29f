"""Dream a film: every frame dreamed, the dream carried along the optical flow, the sound kept.

Each frame goes on from the previous frame's dream moved along the optical flow, and is
held at the strength of a frame dreamed alone (:mod:`~inceptionism.render.flowchain`): the
dream sticks to moving things instead of flickering, and starts afresh at a scene cut. Frames
are decoded and encoded as a stream, kept in a work directory as they are finished (a
killed render resumes), and the output, with the input's timestamps and sound, is written
when all are done.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inceptionism._version import __version__
from inceptionism.distributed import ClusterArg, Executor, InProcess, open_executor
from inceptionism.distributed.worker import torch_threads
from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.options import Option, float_between, int_between, optional
from inceptionism.engine.presets import PRESETS
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.settings import DreamSettings, check_names
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import InputFiles, check_not_input, check_not_inside, check_writable, file_sha256
from inceptionism.io.images import ImageInput, image_bytes
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
        Option("blend", 0.9, "How much of the previous frame's dream is carried along the flow (0..1); "
               "the rest is dreamed anew in each frame: lower is livelier and flickers more.",
               float_between(0.0, 1.0), kind=float),
        Option("start", 0.0, "Dream from this time, in seconds.", float_between(0.0, 1e6), kind=float),
        Option("end", None, "Dream up to this time, in seconds (default: the end).",
               optional(float_between(0.0, 1e6)),
               shown_default="the end", kind=float),
        Option("segments", None, "Cut the clip into segments of this many seconds (up to 60), each with its own "
               "flow chain, dreamed in parallel on a cluster; 0: one chain.", optional(float_between(0.0, 60.0)),
               shown_default=f"0, or {DEFAULT_SEGMENT:g} on a cluster", metavar="SECONDS", kind=float),
        Option("overlap", 8, "Frames each segment starts early; the output fades into it over them, so the "
               "seam does not show (0..120).", int_between(0, 120), metavar="FRAMES", kind=int),
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
    chosen = {"blend": blend, "start": start, "end": end, "segments": segments, "overlap": overlap}
    values = {name: option.check(name, chosen[name] if chosen[name] is not None else option.default)
              for name, option in VIDEO_OPTIONS.items() if name != "segments"}  # fmt: skip
    values["segments"] = VIDEO_OPTIONS["segments"].check("segments", segments)
    source, output = Path(source), Path(output)
    if output.suffix.lower() != ".mp4":
        raise OutputError(f"cannot write {output}: a dreamed video is written as .mp4", argument="output")
    info = probe(source)
    check_range(info, values["start"], values["end"])
    if info.frames < 2:
        raise ImageError(f"{source} has {info.frames} frame{'s' * (info.frames != 1)}; a video needs at least 2")
    check_writable(output)
    settings, net = compose_settings(settings, model, options)
    if settings.noise is not None:
        raise _noise_refused(settings)
    directory = work_dir_for(output, work_dir)
    inputs = input_files(settings, {"input video": source, "guide": guide, "mask": mask, **(reads or {})})
    check_not_input(output, inputs)
    check_not_inside(directory, inputs)
    if values["segments"] is None:  # a resume keeps the cuts of the render it goes on with
        resumed = _resumed_cut(directory, restart)
        values["segments"] = resumed[0] if resumed else DEFAULT_SEGMENT if cluster is not None else 0.0
        if resumed and overlap is None:
            values["overlap"] = resumed[1]
    if cluster is not None and values["segments"] == 0:
        raise InvalidParameterError("on a cluster a video is cut into segments; give segments above 0 seconds",
                                    argument="segments")  # fmt: skip
    if settings.seed is None:  # a resumed render goes on with the seed it drew; a fresh one draws one
        settings = settings.replace(seed=resumed_seed(directory, restart))
    dreamer = Dreamer(settings, model=net, guide=guide, mask=mask)
    dream = settings.replace(layers=dreamer.layer_specs, classes=dreamer.class_specs).to_dict()
    shown = {"flow": flow, **{key: values[key] for key in ("blend", "start", "end")}}
    if values["segments"]:  # recorded only when cut: a render in one chain resumes as before
        shown.update(segments=values["segments"], overlap=values["overlap"])
    params = {
        "version": __version__,
        "input": f"{source.name} sha256:{file_sha256(source)[:16]}",
        "dream": dream,
        "video": shown,
    }
    cut = SegmentPlan.of(values["segments"], values["overlap"], info.fps)
    cut.check(info.fps)
    store = FrameStore(directory, params, restart=restart)
    clip = _Clip(source, info, values, settings.max_size)
    if cut.length is None:
        carried = Dreamer(carried_settings(settings), model=dreamer.net, guide=guide, mask=mask)
        chain = FlowChain((dreamer, carried), blend=values["blend"], flow=flow)
        with torch_threads(threads):
            timestamps, first_time = _render(store, chain, clip, callback, progress)
    else:
        guide_data, mask_data = (None if value is None else image_bytes(value) for value in (guide, mask))
        task = SegmentTask(settings, values["blend"], flow, guide_data, mask_data, 0, ())
        with open_executor(cluster, threads=threads) as executor:
            timestamps, first_time = _render_segments(store, cut, clip, task, executor, net, callback, progress)
    written = write_video(
        output,
        ((np.asarray(store.load(index)), pts) for index, pts in enumerate(timestamps)),
        source=source,
        info=info,
        start=first_time,
        end=values["end"],
        metadata=params,
    )
    if not keep_frames:
        store.remove()
    return VideoResult(output=output, params=params, frames=written)


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


def _render_segments(
    store: FrameStore,
    cut: SegmentPlan,
    clip: _Clip,
    task: SegmentTask,
    executor: Executor,
    model: Network | None,
    callback: FrameCallback | None,
    progress: ProgressCallback | None,
) -> tuple[list[int], float]:
    """Dream the segments not yet kept in ``store`` on ``executor``; every frame's pts and the first one's time."""
    timestamps: list[int] = []
    times: list[float] = []
    seams = SeamStore(store, cut)
    local = isinstance(executor, InProcess)  # here, the network object and the step callback are given
    roles_of: dict[int, list[tuple[int, str]]] = {}

    reported: set[int] = set()

    def report(index: int, resumed: bool) -> None:  # each frame once, when it is final
        if index not in reported and store.path(index).is_file():
            reported.add(index)
            report_frame(callback, FrameDone(index, max(clip.frames, index + 1), resumed=resumed), last=False)

    def tasks() -> Iterator[tuple[Any, ...]]:
        recent: deque[bytes] = deque(maxlen=cut.overlap or 1)
        lead: list[bytes] = []
        current: list[bytes] = []
        start = size = 0
        for index, picture in enumerate(clip.pictures(timestamps, times)):
            if cut.starts_segment(index) and index > 0:
                yield from segment(start, lead, current, has_next=True)
                lead, current, start = (list(recent) if cut.overlap else []), [], index
                size = sum(map(len, lead))
            encoded = encode_frame(picture)
            current.append(encoded)
            recent.append(encoded)
            size += len(encoded)
            check_payload(len(current) + len(lead), size)  # a task, and what this process holds of it
        yield from segment(start, lead, current, has_next=False)

    def segment(start: int, lead: list[bytes], current: list[bytes], *, has_next: bool) -> Iterator[tuple[Any, ...]]:
        first = start - len(lead)
        roles = seams.roles(first, start, start + len(current), has_next)
        if seams.finished(roles):
            for index, _ in roles[len(lead) :]:
                report(index, resumed=True)
            return
        roles_of[first] = roles
        one = dataclasses.replace(task, first=first, pictures=(*lead, *current))
        yield (one, model, progress) if local else (one,)

    for _, (first, dreamed) in executor.run(dream_segment, tasks()):
        for index in seams.keep(roles_of.pop(first), dreamed):
            report(index, resumed=False)
    return clip.checked(timestamps, times)


def _scaled(pixels: np.ndarray, max_size: int | None) -> np.ndarray:
    height, width = pixels.shape[:2]
    if max_size is None or max(height, width) <= max_size:
        return pixels
    ratio = max_size / max(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))
