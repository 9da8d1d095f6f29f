"""Dream a film: every frame dreamed, the dream carried along the optical flow, the sound kept.

Before a frame is dreamed, what was dreamed on the previous frame (the dream minus its input)
is moved along the optical flow between the two input frames and added, times ``blend``,
where the flow is trusted: the dream sticks to moving things instead of flickering. Frames
are decoded and encoded as a stream, kept in a work directory as they are finished (a
killed render resumes), and the output, with the input's timestamps and sound, is written
when all are done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from inceptionism._version import __version__
from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.options import Option, float_between, optional
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.settings import DreamSettings, check_names
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import check_writable, file_sha256
from inceptionism.io.images import ImageInput
from inceptionism.io.video import VideoInfo, check_range, frames, probe, write_video
from inceptionism.models.network import Network
from inceptionism.render.flow import FlowWarp, warp
from inceptionism.render.frames import FrameCallback, FrameDone, report_frame
from inceptionism.render.framestore import FrameStore, resumed_seed, work_dir_for
from inceptionism.render.still import compose_settings

VIDEO_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("blend", 0.5, "How much of the previous frame's dream is carried along the flow (0..0.95).",
               float_between(0.0, 0.95), kind=float),
        Option("start", 0.0, "Dream from this time, in seconds.", float_between(0.0, 1e6), kind=float),
        Option("end", None, "Dream up to this time, in seconds (default: the end).",
               optional(float_between(0.0, 1e6)),
               shown_default="the end", kind=float),
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
    callback: FrameCallback | None = None,
    progress: ProgressCallback | None = None,
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
        blend: how much of the previous frame's dream is carried (0..0.95).
        start: dream from this time (seconds); the output is that part, with its sound.
        end: dream up to this time (seconds).
        work_dir: where finished frames are kept (default: ``OUT.frames`` beside the output).
        restart: discard frames of an earlier render in ``work_dir`` instead of resuming.
        keep_frames: keep ``work_dir`` after success.
        callback: called after every frame with a :class:`~inceptionism.render.frames.FrameDone`;
            ``True`` stops after it.
        progress: called after every step of every frame.
        **options: dream options (``octaves``, ``steps``, ``layers``, ``seed``...).
    """
    check_names(options, "video()")
    chosen = {"blend": blend, "start": start, "end": end}
    values = {name: VIDEO_OPTIONS[name].check(name, chosen[name] if chosen[name] is not None else option.default)
              for name, option in VIDEO_OPTIONS.items()}  # fmt: skip
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
        raise InvalidParameterError("a video dreams its own frames; noise does not apply", argument="noise")
    directory = work_dir_for(output, work_dir)
    if settings.seed is None:  # a resumed render goes on with the seed it drew; a fresh one draws one
        settings = settings.replace(seed=resumed_seed(directory, restart))
    dreamer = Dreamer(settings, model=net, guide=guide, mask=mask)
    # A frame that starts from the dream carried onto it needs less new dream, or the dream
    # grows frame after frame. Measured on a 36-frame pan (240x144, 2 octaves of 5 steps, blend
    # 0.5), fire7's gain over the input against frames dreamed alone: +56% with the step scaled
    # by (1 - blend), +2% with (1 - blend)^2 (blend 0.7: -15%; blend 0.3 with 10 steps: +23%).
    carried = Dreamer(
        settings.replace(step_size=settings.step_size * (1 - values["blend"]) ** 2),
        model=dreamer.net,
        guide=guide,
        mask=mask,
    )
    dream = settings.replace(layers=dreamer.layer_specs, classes=dreamer.class_specs).to_dict()
    params = {
        "version": __version__,
        "input": f"{source.name} sha256:{file_sha256(source)[:16]}",
        "dream": dream,
        "video": {"flow": flow, **values},
    }
    store = FrameStore(directory, params, restart=restart)
    timestamps, first_time = _render(store, (dreamer, carried), source, info, values, flow, callback, progress)
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


def _render(
    store: FrameStore,
    dreamers: tuple[Dreamer, Dreamer],
    source: Path,
    info: VideoInfo,
    values: dict[str, Any],
    flow: bool,
    callback: FrameCallback | None,
    progress: ProgressCallback | None,
) -> tuple[list[int], float]:
    """Dream every frame not yet in ``store``; the pts of every frame and the time of the first."""
    done = store.done()
    warper = FlowWarp() if flow else None
    timestamps: list[int] = []
    first_time = 0.0
    previous_detail: np.ndarray | None = None
    expected = info.frames
    for index, decoded in enumerate(frames(source, start=values["start"], end=values["end"])):
        if index == 0:
            first_time = decoded.time  # where the sound is cut
        timestamps.append(decoded.pts)
        picture = _scaled(decoded.pixels, dreamers[0].settings.max_size)
        moved = warper.step(picture) if warper is not None else None
        if index < done:
            dreamed = np.asarray(store.load(index))
        else:
            detail = None
            if moved is not None and previous_detail is not None:
                detail = values["blend"] * warp(previous_detail, *moved)
            frame = dreamers[detail is not None](
                _tensor(picture),
                detail=None if detail is None else _tensor(detail),
                callback=progress,
                index=index,
            )
            dreamed = frame.pixels[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
            store.save(index, Image.fromarray(dreamed))
        if warper is not None:
            previous_detail = dreamed.astype(np.float32) - picture.astype(np.float32)
        report_frame(callback, FrameDone(index, max(expected, index + 1), resumed=index < done), last=False)
    if len(timestamps) < 2:
        raise ImageError(f"{source} has {len(timestamps)} frame(s) in the part asked for; a video needs at least 2")
    return timestamps, first_time


def _scaled(pixels: np.ndarray, max_size: int | None) -> np.ndarray:
    height, width = pixels.shape[:2]
    if max_size is None or max(height, width) <= max_size:
        return pixels
    ratio = max_size / max(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


def _tensor(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(values)).permute(2, 0, 1).unsqueeze(0)
