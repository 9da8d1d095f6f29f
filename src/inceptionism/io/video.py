"""Reading and writing video as a stream of frames (PyAV, FFmpeg), with the sound carried through.

Frames are decoded and encoded one at a time, so memory does not grow with the length of a
video. A written video keeps the input's timestamps (variable frame rate too), its frame
rate and rotation, and every audio stream: copied as it is where MP4 takes the codec,
re-encoded to AAC otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from inceptionism.errors import ImageError, InvalidParameterError, OutputError

COPIED_AUDIO = ("aac", "mp3", "ac3", "eac3", "alac", "opus", "flac")
"""Audio codecs an MP4 holds as they are; others are re-encoded to AAC."""


def _av():
    import av  # the [video] extra

    return av


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds.

    Attributes:
        width: frame width in pixels (as stored, before rotation).
        height: frame height in pixels.
        fps: average frame rate.
        duration: seconds.
        rotation: degrees the frames are to be rotated for display (from the stream's metadata).
        audio: the codec of each audio stream.
    """

    width: int
    height: int
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
    return container


def probe(path: str | os.PathLike) -> VideoInfo:
    """What the video at ``path`` holds.

    Raises:
        ImageError: not a file FFmpeg reads, or no video stream in it.
    """
    with _open(Path(path)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = float(container.duration / 1_000_000) if container.duration else 0.0
        return VideoInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=Fraction(fps),
            duration=duration,
            rotation=_rotation(stream),
            audio=tuple(audio.codec_context.name for audio in container.streams.audio),
        )


def _rotation(stream: Any) -> int:
    value = stream.metadata.get("rotate")
    if value is not None:
        return int(value) % 360
    for data in getattr(stream, "side_data", {}) or {}:
        if "DISPLAYMATRIX" in str(data).upper():
            return round(float(stream.side_data[data])) % 360
    return 0


def frames(path: str | os.PathLike, *, start: float = 0.0, end: float | None = None) -> Iterator[VideoFrame]:
    """Decode the frames of ``path`` whose time is in ``[start, end)``, one at a time.

    Raises:
        ImageError: the video stream cannot be decoded.
    """
    av = _av()
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                time = float(frame.pts * time_base)
                if time < start - 1e-9:
                    continue
                if end is not None and time >= end - 1e-9:
                    break
                yield VideoFrame(frame.to_ndarray(format="rgb24"), frame.pts, time)
        except av.error.FFmpegError as error:
            raise ImageError(f"cannot decode the video of {path}: {error.strerror or error}") from None


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


class VideoWriter:
    """Write H.264 frames at the input's timestamps into ``path``, then the input's sound.

    Use as a context manager: the file is written under a temporary name and renamed to
    ``path`` only if the block succeeds.
    """

    def __init__(
        self, path: Path, scratch: Path, *, source: Path, info: VideoInfo, start: float, end: float | None, comment: str
    ) -> None:
        self.path, self.scratch, self.source, self.info = path, scratch, source, info
        self.start, self.end = start, end
        self.container = _av().open(str(scratch), "w", format="mp4")
        self.container.metadata["comment"] = comment
        self.stream = None
        self.count = 0

    def write(self, pixels: np.ndarray, pts: int) -> None:
        """Encode one ``(H, W, 3)`` frame at the input timestamp ``pts``."""
        av = _av()
        if self.stream is None:
            with av.open(str(self.source)) as source:
                time_base = source.streams.video[0].time_base
            self.stream = self.container.add_stream("libx264", rate=self.info.fps)
            self.stream.width, self.stream.height = pixels.shape[1] // 2 * 2, pixels.shape[0] // 2 * 2
            self.stream.pix_fmt = "yuv420p"
            self.stream.time_base = time_base
            self.stream.codec_context.time_base = time_base
            self.stream.options = {"crf": "18", "preset": "medium"}
            if self.info.rotation:
                self.stream.metadata["rotate"] = str(self.info.rotation)
            self.first_pts = pts
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(pixels[: self.stream.height, : self.stream.width]), format="rgb24"
        )
        frame.pts = pts - self.first_pts
        frame.time_base = self.stream.time_base
        self.container.mux(self.stream.encode(frame))
        self.count += 1

    def close(self) -> None:
        """Flush the video, copy or re-encode the sound, and finish the file."""
        if self.stream is None:
            raise OutputError(f"cannot write {self.path}: no frames to write")
        self.container.mux(self.stream.encode())
        self._sound()
        self.container.close()

    def _sound(self) -> None:
        av = _av()
        with av.open(str(self.source)) as source:
            for audio in source.streams.audio:
                if audio.codec_context.name in COPIED_AUDIO:
                    self._copy(source, audio)
                else:
                    self._reencode(source, audio)

    def _copy(self, source: Any, audio: Any) -> None:
        out = self.container.add_stream_from_template(audio)
        offset = round(self.start / audio.time_base)
        for packet in source.demux(audio):
            if packet.pts is None or packet.size == 0:
                continue
            time = float(packet.pts * audio.time_base)
            if time < self.start - 1e-9 or (self.end is not None and time >= self.end - 1e-9):
                continue
            packet.pts -= offset
            packet.dts = packet.pts if packet.dts is None else packet.dts - offset
            packet.stream = out
            self.container.mux(packet)

    def _reencode(self, source: Any, audio: Any) -> None:
        av = _av()
        rate = audio.codec_context.sample_rate or 48000
        out = self.container.add_stream("aac", rate=rate)
        resampler = av.AudioResampler(format="fltp", layout=audio.codec_context.layout or "stereo", rate=rate)
        for frame in source.decode(audio):
            if frame.pts is None:
                continue
            time = float(frame.pts * frame.time_base)
            if time < self.start - 1e-9 or (self.end is not None and time >= self.end - 1e-9):
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
    from inceptionism.io.files import temporary_name

    path = Path(path)
    scratch = temporary_name(path)
    writer = VideoWriter(
        path, scratch, source=Path(source), info=info, start=start, end=end, comment=json.dumps(metadata or {})
    )
    try:
        for pixels, pts in pictures:
            writer.write(pixels, pts)
        writer.close()
        os.replace(scratch, path)
    except BaseException:
        writer.container.close() if writer.container else None
        scratch.unlink(missing_ok=True)
        raise
    return writer.count
