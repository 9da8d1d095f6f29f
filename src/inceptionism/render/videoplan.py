"""Planning a dreamed film: every option, input, output, name and size checked before anything is made.

:func:`plan_video` reads the video's header and the guide and mask, resolves the settings
(the seed a resumed render drew, the segments it was cut into) and refuses in one line what
could not run; nothing is prepared or written. :func:`~inceptionism.render.video.render_video`
then dreams the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from inceptionism._version import __version__
from inceptionism.engine.dreamer import settings_network
from inceptionism.engine.inputs import check_inputs
from inceptionism.engine.options import Option
from inceptionism.engine.ranking import has_ranked
from inceptionism.engine.settings import DreamSettings, check_start, check_still
from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import InputFiles, check_not_input, check_not_inside, check_writable, file_sha256
from inceptionism.io.images import ImageInput, image_bytes, scaled_size
from inceptionism.io.tensors import guide_pixels, mask_values
from inceptionism.io.video import VideoInfo, check_range, frames, probe
from inceptionism.models.network import Network
from inceptionism.render.framestore import resumed_seed, stored_params, work_dir_for
from inceptionism.render.segments import SegmentPlan
from inceptionism.render.still import input_files, ranked_settings

ONE_CHAIN_ON_A_CLUSTER = "on a cluster a video is cut into segments; give segments above 0 seconds"
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
    check_start(settings, image=True, only="a video dreams its own frames")
    check_still(settings, "video")
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
    if has_ranked(resolved.layers):  # fire7:strong:8 picks its channels on the first frame dreamed
        first = next(frames(source, start=values["start"], end=values["end"]))
        resolved = ranked_settings(resolved, net or settings_network(resolved), first.pixels)
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
        raise InvalidParameterError(ONE_CHAIN_ON_A_CLUSTER, argument="segments")
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
