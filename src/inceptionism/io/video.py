"""Reading and writing video as a stream of frames (PyAV, FFmpeg), with the sound carried through.

Frames are decoded and encoded one at a time, so memory does not grow with the length of a
video. A written video keeps the input's timestamps (variable frame rate too), its frame
rate and rotation, and every audio stream: copied as it is where MP4 takes the codec,
re-encoded to AAC otherwise.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import temporary_name

logger = logging.getLogger(__name__)

COPIED_AUDIO = ("aac", "mp3", "ac3", "eac3", "alac", "opus", "flac")
"""Audio codecs an MP4 holds as they are; others are re-encoded to AAC."""

X264_OPTIONS = {"crf": "18", "preset": "medium", "threads": "1"}
"""H.264 at near-transparent quality, on one thread: x264's frame threads gave a different
file for the same frames when the machine was busy (one run in six); one thread costs little
beside the dreaming. Even so, x264's macroblock-tree rate control ("mbtree") does not give
the same stream for the same frames every time: encoded after other FFmpeg work in the same
process (decoding a clip), 24 frames gave 5 to 7 different streams in 8 encodes, and 1 with
``no-mbtree``. It stays on: without it the same ``crf`` made files 47% larger (a 640x360
pan). So the dreamed frames of a resumed or distributed render are identical, and its MP4 may
differ by the encoder's choices (measured: under 1.1 levels on average)."""


def _av():
    import av  # the [video] extra

    return av


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds.

    Attributes:
        width: frame width in pixels (as stored, before rotation).
        height: frame height in pixels.
        frames: frame count, as the container states it (or from the duration).
        fps: average frame rate.
        duration: seconds.
        rotation: degrees the frames are to be rotated for display (from the stream's metadata).
        audio: the codec of each audio stream.
    """

    width: int
    height: int
    frames: int
    fps: Fraction
    duration: float
    rotation: int
    audio: tuple[str, ...]


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: ``pixels`` ``(H, W, 3)`` uint8 RGB, its timestamp ``pts`` and ``time`` in seconds."""

    pixels: np.ndarray
    pts: int
    time: float


def _open(path: Path):
    av = _av()
    if not path.is_file():
        raise ImageError(f"input not found: {path}", argument="input")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise ImageError(f"{path} is not a video FFmpeg can read ({error.strerror or error})") from None
    if not container.streams.video:
        container.close()
        raise ImageError(f"{path} has no video stream")
    if container.streams.video[0].codec_context is None:
        container.close()
        raise ImageError(
            f"cannot decode the video of {path}: this FFmpeg has no decoder for its codec; convert it to H.264 first"
        )
    return container


def probe(path: str | os.PathLike) -> VideoInfo:
    """What the video at ``path`` holds.

    Raises:
        ImageError: not a file FFmpeg reads, no video stream in it, or one no decoder reads.
    """
    with _open(Path(path)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = float(container.duration / 1_000_000) if container.duration else 0.0
        return VideoInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frames=stream.frames or round(duration * fps),
            fps=Fraction(fps),
            duration=duration,
            rotation=_rotation(container, stream),
            audio=tuple(audio.codec_context.name for audio in container.streams.audio),
        )


def _rotation(container: Any, stream: Any) -> int:
    """Degrees the stream's display matrix rotates its frames by (read from the first frame)."""
    for frame in _decoded(container, stream, Path(container.name)):
        return round(frame.rotation or 0) % 360
    return 0


def _decoded(container: Any, stream: Any, path: Path) -> Iterator[Any]:
    """Every frame of ``stream``, decoded; a file cut short is told apart from one that does not decode.

    The demuxer flags a packet that the file ended in the middle of: the decoder's error on it
    is the end of the file, not a fault. Ending before the frames the index lists, or in a
    packet, is a notice (a log record) with the count read, or an error when none could be.

    Raises:
        ImageError: the stream does not decode, or the file ended before its first frame.
    """
    av = _av()
    packets = decoded = 0
    cut = False  # the last packet read was cut short by the end of the file
    for packet in container.demux(stream):
        if packet.size:
            packets, cut = packets + 1, packet.is_corrupt
        try:
            pictures = packet.decode()
        except av.error.FFmpegError as error:
            if not cut:
                raise ImageError(f"cannot decode the video of {path}: {error.strerror or error}") from None
            continue
        for frame in pictures:
            decoded += 1
            yield frame
    if cut or stream.frames > packets:
        _ended_early(path, decoded, stream.frames)


def _ended_early(path: Path, decoded: int, stated: int) -> None:
    """Tell that ``path`` ended after ``decoded`` of its ``stated`` frames (0: the index does not say)."""
    if not decoded:
        raise ImageError(
            f"{path} ended early: none of its {f'{stated} ' if stated else ''}frames could be read; "
            "the file is incomplete, copy it again"
        )
    logger.info("%s ended early: %d%s frames could be read", path, decoded, f" of {stated}" if stated else "")


def frames(path: str | os.PathLike, *, start: float = 0.0, end: float | None = None) -> Iterator[VideoFrame]:
    """Decode the frames of ``path`` whose time is in ``[start, end)``, one at a time.

    A file that ends before the frames its index lists gives those it holds, with a notice
    (a log record) saying how many.

    Raises:
        ImageError: the video stream cannot be decoded, or the file ended before its first frame.
    """
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        for frame in _decoded(container, stream, path):
            if frame.pts is None:
                continue
            time = float(frame.pts * time_base)
            if time < start - 1e-9:
                continue
            if end is not None and time >= end - 1e-9:
                break
            yield VideoFrame(frame.to_ndarray(format="rgb24"), frame.pts, time)


def check_range(info: VideoInfo, start: float, end: float | None) -> None:
    """Refuse a ``start``/``end`` outside the video or in the wrong order."""
    if start < 0:
        raise InvalidParameterError(f"start must be >= 0 seconds, got {start:g}", argument="start")
    if info.duration and start >= info.duration:
        raise InvalidParameterError(
            f"start {start:g} s is beyond the end of the video ({info.duration:.2f} s)", argument="start"
        )
    if end is not None and end <= start:
        raise InvalidParameterError(f"end {end:g} s must be after start {start:g} s", argument="end")


def h264_stream(container: Any, *, rate: Fraction, size: tuple[int, int], rotation: int = 0) -> Any:
    """The H.264 video stream every MP4 of ours is written with: :data:`X264_OPTIONS`, yuv420p.

    yuv420p halves the chroma, so the sides must be even: an odd last row or column is cropped.
    """
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height = size[0] // 2 * 2, size[1] // 2 * 2
    stream.pix_fmt = "yuv420p"
    stream.options = dict(X264_OPTIONS)
    if rotation:
        stream.set_display_rotation(rotation)
    return stream


def rgb_frame(stream: Any, pixels: np.ndarray) -> Any:
    """``(H, W, 3)`` uint8 RGB as a frame for ``stream``, cropped to its (even) size."""
    return _av().VideoFrame.from_ndarray(np.ascontiguousarray(pixels[: stream.height, : stream.width]), format="rgb24")


class VideoWriter:
    """Write H.264 frames at the input's timestamps into ``scratch``, then the input's sound.

    Every stream is added before anything is written (MP4's header comes first): the video
    of ``size`` ``(width, height)``, and one per audio stream of ``source``.
    """

    def __init__(
        self,
        scratch: Path,
        *,
        source: Path,
        info: VideoInfo,
        size: tuple[int, int],
        start: float,
        end: float | None,
        comment: str,
    ) -> None:
        av = _av()
        self.source, self.start, self.end = source, start, end
        self.container = av.open(str(scratch), "w", format="mp4")
        self.container.metadata["comment"] = comment
        with av.open(str(source)) as reader:
            time_base = reader.streams.video[0].time_base
            self.audio = [(audio.index, self._audio_stream(audio)) for audio in reader.streams.audio]
        self.stream = h264_stream(self.container, rate=info.fps, size=size, rotation=info.rotation)
        # Frames are stamped in the input's time base, the encoder's: the stream's changes when the
        # header is written (MP4 doubles one coarser than 1/10000: MKV's 1/1000 becomes 1/16000).
        self.time_base = time_base
        self.stream.time_base = time_base
        self.stream.codec_context.time_base = time_base
        self.first_pts: int | None = None
        self.count = 0

    def _audio_stream(self, audio: Any) -> tuple[Any, bool]:
        """The output stream for an input audio stream, and whether its packets are copied."""
        if audio.codec_context.name in COPIED_AUDIO:
            return self.container.add_stream_from_template(audio), True
        rate = audio.codec_context.sample_rate or 48000
        return self.container.add_stream("aac", rate=rate), False

    def write(self, pixels: np.ndarray, pts: int) -> None:
        """Encode one ``(H, W, 3)`` frame at the input timestamp ``pts``."""
        if self.first_pts is None:
            self.first_pts = pts
        frame = rgb_frame(self.stream, pixels)
        frame.pts = pts - self.first_pts
        frame.time_base = self.time_base
        self.container.mux(self.stream.encode(frame))
        self.count += 1

    def close(self) -> None:
        """Flush the video, copy or re-encode the sound, and finish the file."""
        self.container.mux(self.stream.encode())
        with _av().open(str(self.source)) as reader:
            for index, (out, copied) in self.audio:
                if copied:
                    self._copy(reader, reader.streams[index], out)
                else:
                    self._reencode(reader, reader.streams[index], out)
        self.container.close()

    def _inside(self, time: float) -> bool:
        return time >= self.start - 1e-9 and (self.end is None or time < self.end - 1e-9)

    def _copy(self, reader: Any, audio: Any, out: Any) -> None:
        offset = round(self.start / audio.time_base)
        for packet in reader.demux(audio):
            if packet.pts is None or packet.size == 0 or not self._inside(float(packet.pts * audio.time_base)):
                continue
            packet.pts -= offset
            packet.dts = packet.pts if packet.dts is None else packet.dts - offset
            packet.stream = out
            self.container.mux(packet)

    def _reencode(self, reader: Any, audio: Any, out: Any) -> None:
        av = _av()
        resampler = av.AudioResampler(format="fltp", layout=audio.codec_context.layout or "stereo", rate=out.rate)
        for frame in reader.decode(audio):
            if frame.pts is None or not self._inside(float(frame.pts * frame.time_base)):
                continue
            for resampled in resampler.resample(frame):
                resampled.pts = None
                self.container.mux(out.encode(resampled))
        self.container.mux(out.encode())


def write_video(
    path: str | os.PathLike,
    pictures: Iterator[tuple[np.ndarray, int]],
    *,
    source: str | os.PathLike,
    info: VideoInfo,
    start: float = 0.0,
    end: float | None = None,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Encode ``(pixels, pts)`` pairs into ``path`` with the sound of ``source``; returns the frame count.

    The file appears only when complete.
    """
    path = Path(path)
    first = next(pictures, None)
    if first is None:
        raise OutputError(f"cannot write {path}: no frames to write")
    scratch = temporary_name(path)
    height, width = first[0].shape[:2]
    writer = VideoWriter(
        scratch,
        source=Path(source),
        info=info,
        size=(width, height),
        start=start,
        end=end,
        comment=json.dumps(metadata or {}, sort_keys=True),
    )
    try:
        writer.write(*first)
        for pixels, pts in pictures:
            writer.write(pixels, pts)
        writer.close()
        os.replace(scratch, path)
    except BaseException:
        with contextlib.suppress(Exception):
            writer.container.close()
        scratch.unlink(missing_ok=True)
        raise
    return writer.count
