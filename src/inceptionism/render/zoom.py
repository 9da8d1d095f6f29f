"""The infinite zoom: dream a frame, move it a little, dream it again, frame after frame.

Every frame after the first starts from a dreamed image, so the network's bias feeds on
itself: what it faintly saw becomes certain. Frames are kept in a work directory as they are
finished (a killed render resumes), the output is written when all are done, and the labels
the network sees in every frame go beside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from torch import nn

from inceptionism._version import __version__
from inceptionism.checks import check_float
from inceptionism.engine.dreamer import Dreamer, settings_network
from inceptionism.engine.options import OPTIONS, Option, seed_plus
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.settings import DreamSettings, check_names, check_still
from inceptionism.errors import InvalidParameterError
from inceptionism.io.animation import check_animation_output, write_animation
from inceptionism.io.files import InputFiles, check_not_input, check_not_inside, file_sha256
from inceptionism.io.images import ImageInput, load_image, sample_path, to_image, to_tensor
from inceptionism.io.tensors import frame_pixels, guide_pixels, mask_values
from inceptionism.objectives import Objective
from inceptionism.render.frames import FrameCallback, FrameDone, report_frame
from inceptionism.render.framestore import FrameStore, resumed_seed, work_dir_for
from inceptionism.render.labels import LabelTrack, label_paths
from inceptionism.render.motion import move
from inceptionism.render.show import media_html
from inceptionism.render.still import compose_settings, input_files, ranked_settings, split_layers

# Every frame after the first starts from a dreamed frame: it needs a lighter schedule. Measured on
# the sample photo (451x300, SqueezeNet fire7, zoom 1.05, 48 frames): 5 steps over 1 octave is the
# lightest that keeps every frame's fire7 gain over the photo at least the first frame's (min 42.6
# against 41.3, 0.23 s a frame); 4 steps dipped to 34.9 and 3 faded to 20.7, while 10 steps over 2
# octaves grew to 165 in 12 frames (a dream that saturates) at three times the cost.
FRAME_STEPS, FRAME_OCTAVES = 5, 1


SHIFT_LIMIT = 512.0
"""Largest shift in pixels, in x or y, from one frame to the next."""


def _shift(name: str, value: Any) -> tuple[float, float]:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*", value)
        if not match:
            raise InvalidParameterError(f"{name} must be DX,DY in pixels like 2,-1.5, got {value!r}", argument=name)
        value = (float(match[1]), float(match[2]))
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InvalidParameterError(f"{name} must be two numbers (dx, dy) in pixels, got {value!r}", argument=name)
    for part in value:
        check_float(name, part, -SHIFT_LIMIT, SHIFT_LIMIT)
    return float(value[0]), float(value[1])


ZOOM_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("frames", 48, "Frames to render.", minimum=1, maximum=10000, kind=int),
        Option("zoom", 1.05, "Scale about the centre from one frame to the next (1: none).", minimum=0.0,
               maximum=2.0, open_below=True, increment=0.01, kind=float),
        Option("rotate", 0.0, "Rotation from one frame to the next, anticlockwise.", minimum=-180.0, maximum=180.0,
               unit="degrees", increment=0.1, kind=float),
        Option("shift", (0.0, 0.0), "Shift from one frame to the next, DX,DY (each within the bounds).", _shift,
               minimum=-SHIFT_LIMIT, maximum=SHIFT_LIMIT, unit="px", shown_default="0,0", metavar="DX,DY",
               kind=float),
        Option("frame_steps", FRAME_STEPS, "Gradient steps per octave for every frame after the first.", minimum=1,
               maximum=OPTIONS["steps"].maximum, kind=int),
        Option("frame_octaves", FRAME_OCTAVES, "Octaves for every frame after the first.", minimum=1,
               maximum=OPTIONS["octaves"].maximum, kind=int),
        Option("fps", 24.0, "Frames per second of the output.", minimum=0.0, maximum=120.0, open_below=True,
               kind=float),
    )
}  # fmt: skip
"""The zoom's own options; the dream options apply to every frame as well."""


@dataclass(frozen=True)
class ZoomSettings:
    """How the zoom moves and how its frames are dreamed (see :data:`ZOOM_OPTIONS`)."""

    frames: int = ZOOM_OPTIONS["frames"].default
    zoom: float = ZOOM_OPTIONS["zoom"].default
    rotate: float = ZOOM_OPTIONS["rotate"].default
    shift: tuple[float, float] = ZOOM_OPTIONS["shift"].default
    frame_steps: int = ZOOM_OPTIONS["frame_steps"].default
    frame_octaves: int = ZOOM_OPTIONS["frame_octaves"].default
    fps: float = ZOOM_OPTIONS["fps"].default

    def __post_init__(self) -> None:
        for option in fields(self):
            value = ZOOM_OPTIONS[option.name].check(option.name, getattr(self, option.name))
            object.__setattr__(self, option.name, value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data."""
        return {option.name: _plain(getattr(self, option.name)) for option in fields(self)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class ZoomResult:
    """What :func:`zoom` returns.

    Attributes:
        output: where the animation went.
        params: every parameter used (also stored in the output), the seed included.
        labels: the labels CSV and chart beside the output, if made.
        frames: how many frames were written.
    """

    output: Path
    params: dict[str, Any]
    labels: Sequence[Path] = field(default_factory=tuple)
    frames: int = 0

    def _repr_html_(self) -> str:
        """The animation, playing, and its key settings, for Jupyter."""
        return media_html(self.output, {**self.params, "frames": self.frames})


def zoom(
    image: ImageInput | None = None,
    output: str | Path = "zoom.mp4",
    *,
    settings: DreamSettings | None = None,
    motion: ZoomSettings | None = None,
    model: str | nn.Module | None = None,
    layers: Sequence[str | Objective] | str | Objective | None = None,
    guide: ImageInput | None = None,
    mask: ImageInput | None = None,
    labels: bool = True,
    work_dir: str | Path | None = None,
    restart: bool = False,
    keep_frames: bool = False,
    callback: FrameCallback | None = None,
    progress: ProgressCallback | None = None,
    reads: InputFiles | None = None,
    **options: Any,
) -> ZoomResult:
    """Render an infinite zoom of ``image`` (a path, image or array; the sample photo if ``None``) to ``output``.

    Frame 0 is ``image`` dreamed with the settings; frame k is frame k-1 moved (``zoom``,
    ``rotate``, ``shift``) and dreamed again with ``frame_steps`` steps over ``frame_octaves``
    octaves and seed ``seed + k``.

    Args:
        image: what to start from; with ``noise`` in the options, ``None``.
        output: ``.mp4``, ``.gif``, ``.webp``, or a name without extension for PNG frames.
        settings: dream settings to start from; dream ``options`` given override them.
        motion: the zoom's own settings; zoom ``options`` given (``frames``, ``zoom``...) override them.
        model: a registry name or a network.
        layers: layer specs or objectives, as for :func:`~inceptionism.render.still.dream`.
        guide: dream toward this image's features.
        mask: white dreams, black stays.
        labels: write ``OUT.labels.csv`` and ``OUT.labels.png``: the network's labels per frame
            (the chart from the input on, before any dream).
        work_dir: where finished frames are kept (default: ``OUT.frames`` beside the output).
        restart: discard frames of an earlier render in ``work_dir`` instead of resuming.
        keep_frames: keep ``work_dir`` after success.
        callback: called after every frame with a :class:`FrameDone`; ``True`` stops after it.
        progress: called after every step of every frame (its ``frame`` is the frame index).
        reads: other files the caller read, by what they are (``{"--from image": path}``): no
            output may replace one, as none may replace ``image``, ``guide``, ``mask`` or a weights file.
        **options: dream options (``octaves``, ``seed``, ``noise``...) and zoom options.

    Returns:
        Where the output went, the parameters and the label files.

    Raises:
        RenderStopped: the callback stopped the zoom (run again to resume).
    """
    zoom_given = {key: options.pop(key) for key in list(options) if key in ZOOM_OPTIONS}
    check_names(options, "zoom()")
    motion = _motion(motion, zoom_given)
    output = Path(output)
    check_animation_output(output)
    specs, objects = split_layers(layers)
    settings, net = compose_settings(settings, model, {**options, "layers": specs or None})
    if objects:
        raise InvalidParameterError(
            "a zoom is resumable, so its objective must be text: give layer specs", argument="layers"
        )
    check_still(settings, "zoom")
    source = sample_path() if image is None and settings.noise is None else image
    directory = work_dir_for(output, work_dir)
    _check_outputs(
        output,
        directory,
        labels,
        input_files(settings, {"input image": source, "guide": guide, "mask": mask, **(reads or {})}),
    )
    if settings.seed is None:  # a resumed render goes on with the seed it drew; a fresh one draws one
        settings = settings.replace(seed=resumed_seed(directory, restart))
    read_guide, read_mask = guide_pixels(guide), mask_values(mask, max_size=settings.max_size)
    settings = ranked_settings(settings, net or settings_network(settings), source)  # fire7:strong:8, on the input
    first = Dreamer(settings, model=net, guide=read_guide, mask=read_mask)
    store = FrameStore(directory, _params(first.settings, motion, source), restart=restart)
    later = Dreamer(
        settings.replace(noise=None, param=None, steps=motion.frame_steps, octaves=motion.frame_octaves),
        model=first.net,
        guide=read_guide,
        mask=read_mask,
    )
    _render(store, first, later, source, motion, settings.seed, callback, progress)
    track = LabelTrack(first.net) if labels else None
    if track is not None and source is not None:  # the chart starts from the input, before any dream
        track.add_input(load_image(source, max_size=settings.max_size).image)
    written = write_animation(_tracked(store, motion.frames, track), output, fps=motion.fps, metadata=store.params)
    label_files = () if track is None else _write_labels(track, output)
    if not keep_frames:
        store.remove()
    return ZoomResult(output=output, params=store.params, labels=label_files, frames=written)


def _check_outputs(output: Path, directory: Path, labels: bool, inputs: InputFiles) -> None:
    """Refuse an output, a labels file or a work directory that is (or holds) one of the ``inputs``."""
    for written in (output, *(label_paths(output) if labels else ())):
        check_not_input(written, inputs)
    check_not_inside(directory, inputs)


def _write_labels(track: LabelTrack, output: Path) -> Sequence[Path]:
    """The labels seen, frame by frame, as ``OUT.labels.csv`` and the chart ``OUT.labels.png``."""
    paths = label_paths(output)
    track.write_csv(paths[0])
    track.write_chart(paths[1], title=f"what {track.net.name} sees, dream after dream ({output.name})")
    return paths


def _motion(motion: ZoomSettings | None, given: dict[str, Any]) -> ZoomSettings:
    values = {} if motion is None else {option.name: getattr(motion, option.name) for option in fields(motion)}
    values.update({key: value for key, value in given.items() if value is not None})
    return ZoomSettings(**values)


def _params(settings: DreamSettings, motion: ZoomSettings, source: ImageInput | None) -> dict[str, Any]:
    """What a render is (``settings`` resolved): equal parameters give the same frames (a resume compares them)."""
    return {"version": __version__, "input": _identity(source), "dream": settings.to_dict(), "zoom": motion.to_dict()}


def _identity(source: ImageInput | None) -> str | None:
    """The input by its content, so that a resume from a changed file is refused."""
    if source is None:
        return None
    if isinstance(source, (str, Path)):
        return f"{Path(source).name} sha256:{file_sha256(source)[:16]}"
    picture = load_image(source).image
    return f"(in memory) {picture.width}x{picture.height} sha256:{hashlib.sha256(picture.tobytes()).hexdigest()[:16]}"


def _render(
    store: FrameStore,
    first: Dreamer,
    later: Dreamer,
    source: ImageInput | None,
    motion: ZoomSettings,
    seed: int,
    callback: FrameCallback | None,
    progress: ProgressCallback | None,
) -> None:
    done = store.done()
    for index in range(min(done, motion.frames)):
        report_frame(callback, FrameDone(index, motion.frames, resumed=True), last=True)
    previous = store.load(done - 1) if 0 < done < motion.frames else None
    for index in range(done, motion.frames):
        frame_seed = seed_plus(seed, index)
        if index == 0:
            start = None if source is None else frame_pixels(source, max_size=first.settings.max_size)[0]
            pixels = first(start, seed=frame_seed, callback=progress).pixels
        else:
            moved = move(
                to_tensor(previous).to(later.device), zoom=motion.zoom, rotate=motion.rotate, shift=motion.shift
            )
            pixels = later(moved, seed=frame_seed, callback=progress, index=index).pixels
        previous = to_image(pixels)  # the next frame starts from the 8-bit frame kept: a resume gives the same
        store.save(index, previous)
        report_frame(callback, FrameDone(index, motion.frames, resumed=False), last=index + 1 == motion.frames)


def _tracked(store: FrameStore, count: int, track: LabelTrack | None):
    for image in store.frames(count):
        if track is not None:
            track.add(image)
        yield image
