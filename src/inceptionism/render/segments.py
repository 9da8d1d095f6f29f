"""A video cut into segments that are dreamed apart: in this process one after another, or in parallel on a cluster.

Each segment has its own optical-flow chain. So that the seam does not show, a segment
starts ``overlap`` frames early, and over those frames the output fades from the end of the
segment before to the start of this one. (Only dreaming them and throwing them away is not
enough: the carried dream keeps a memory of many frames, and measured on a 72-frame pan with
SqueezeNet the flicker across a seam stayed 1.66x that inside a segment with 16 frames
thrown away; faded over 8 it is 0.94x, and 3.9x cut without an overlap.) Where the cuts fall depends only on the frame
rate and the settings, so a segmented render gives the same frames wherever its segments run.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from inceptionism.distributed.worker import prepared_dreamer
from inceptionism.engine.progress import ProgressCallback
from inceptionism.engine.settings import DreamSettings
from inceptionism.errors import InvalidParameterError
from inceptionism.io.files import atomic_writer
from inceptionism.models.network import Network
from inceptionism.render.flowchain import FlowChain, carried_settings
from inceptionism.render.framestore import FrameStore

PNG_LEVEL = 1  # frames travel as PNG: lossless, and level 1 encodes several times faster than the default
SEGMENT_FRAMES_LIMIT = 1800
"""Frames of one segment (30 s at 60 fps): they travel to a worker and back as PNG in one task."""
SEGMENT_BYTES_LIMIT = 512 * 2**20
"""Bytes of one segment's frames as PNG (about 170 frames at 1080p): what one task may carry."""


@dataclass(frozen=True)
class SegmentPlan:
    """Where a video is cut.

    Attributes:
        length: frames kept from each segment (``None``: one segment, the whole clip).
        overlap: frames each segment after the first starts early; over them the output fades
            from the segment before into this one.
    """

    length: int | None
    overlap: int

    @classmethod
    def of(cls, seconds: float, overlap: int, fps: Fraction | float) -> SegmentPlan:
        """Segments of ``seconds`` at ``fps`` (``0``: one segment)."""
        return cls(None if seconds == 0 else max(1, round(seconds * float(fps))), overlap)

    def starts_segment(self, index: int) -> bool:
        """Whether frame ``index`` is the first kept frame of a segment."""
        return index == 0 or (self.length is not None and index % self.length == 0)

    def check(self, fps: Fraction | float) -> None:
        """Refuse a segment of too many frames, and an overlap as long as a segment (two fades would meet).

        Raises:
            InvalidParameterError: naming the segment's length or the overlap.
        """
        if self.length is not None and self.length > SEGMENT_FRAMES_LIMIT:
            raise InvalidParameterError(
                f"a segment of {self.length} frames ({float(fps):g} fps) is too long: at most "
                f"{SEGMENT_FRAMES_LIMIT} frames travel in one task; give shorter segments",
                argument="segments",
            )
        if self.length is not None and self.overlap >= self.length:
            raise InvalidParameterError(
                f"overlap {self.overlap} frames must be shorter than a segment ({self.length} "
                f"frame{'s' * (self.length != 1)} at "
                f"{float(fps):g} fps); give a smaller overlap or longer segments",
                argument="overlap",
            )

    def weight(self, index: int) -> float:
        """How much of the later segment fade frame ``index`` takes: 1/(overlap+1) at the first, rising."""
        assert self.length is not None  # only a segmented render fades
        seam = (index // self.length + 1) * self.length
        return (index - (seam - self.overlap) + 1) / (self.overlap + 1)


@dataclass(frozen=True)
class SegmentTask:
    """One segment, as it travels to a worker.

    Attributes:
        settings: the dream settings of a frame dreamed alone.
        blend: how much of each frame's dream is carried to the next.
        flow: whether the dream is carried along the flow.
        guide: the guide's encoded image, if any.
        mask: the mask's encoded image, if any.
        first: the index of the first frame dreamed (the fade into it included).
        pictures: the input frames as PNG, from ``first`` on.
    """

    settings: DreamSettings
    blend: float
    flow: bool
    guide: bytes | None
    mask: bytes | None
    first: int
    pictures: tuple[bytes, ...]


def check_payload(frames: int, size: int) -> None:
    """Refuse a segment whose ``frames`` weigh ``size`` bytes as PNG, over :data:`SEGMENT_BYTES_LIMIT`.

    Raises:
        InvalidParameterError: naming the segment's size and the fix.
    """
    if size > SEGMENT_BYTES_LIMIT:
        raise InvalidParameterError(
            f"a segment of {frames} frames is {size // 2**20} MB as PNG, more than the "
            f"{SEGMENT_BYTES_LIMIT // 2**20} MB one task may carry; give shorter segments (or a smaller max_size)",
            argument="segments",
        )


def dream_segment(
    task: SegmentTask, model: Network | None = None, progress: ProgressCallback | None = None
) -> tuple[int, list[bytes]]:
    """The task of one segment, run here or on a worker: ``(first, every frame dreamed as PNG)``.

    ``model`` and ``progress`` (called after every step; ``True`` stops): in this process only.
    """
    alone = prepared_dreamer(task.settings, task.guide, task.mask, model=model)
    carried = prepared_dreamer(carried_settings(task.settings), task.guide, task.mask, model=model)
    chain = FlowChain((alone, carried), blend=task.blend, flow=task.flow)
    return task.first, [
        encode_frame(chain(decode_frame(data), index=task.first + position, progress=progress))
        for position, data in enumerate(task.pictures)
    ]


class SeamStore:
    """The frames of a segmented render as its segments come back, in any order.

    A frame inside a segment is final as it comes. A frame of a fade waits, as
    ``NNNNNN.a.png`` (from the segment before) or ``NNNNNN.b.png`` (from the segment after),
    for its other half; with both, it is mixed and kept as the final ``NNNNNN.png``. What
    waits is kept in the work directory too, so a killed render loses no finished segment.

    Args:
        store: the render's frame store.
        cut: where the video is cut.
    """

    def __init__(self, store: FrameStore, cut: SegmentPlan) -> None:
        self.store, self.cut = store, cut
        for earlier in sorted(store.directory.glob("*.a.png")):  # a run stopped between a fade's last write and its mix
            index = int(earlier.name.split(".")[0])
            if self.half(index, "b").is_file() and not store.path(index).is_file():
                self._mix(index)

    def half(self, index: int, side: str) -> Path:
        """Where one half (``"a"`` earlier, ``"b"`` later segment) of fade frame ``index`` waits."""
        return self.store.directory / f"{index:06d}.{side}.png"

    def roles(self, first: int, start: int, end: int, has_next: bool) -> list[tuple[int, str]]:
        """Every frame a segment dreams with what it is: ``""`` final, ``"b"`` fading in, ``"a"`` fading out.

        The segment keeps ``start..end-1`` and dreams from ``first`` (``start`` minus the overlap).
        """
        fade_out = end - self.cut.overlap if has_next else end
        return [(index, "b" if index < start else "a" if index >= fade_out else "") for index in range(first, end)]

    def finished(self, roles: list[tuple[int, str]]) -> bool:
        """Whether every frame of a segment is kept already (final, or its half waiting)."""
        return all(self.store.path(i).is_file() or (side and self.half(i, side).is_file()) for i, side in roles)

    def keep(self, roles: list[tuple[int, str]], frames: list[bytes]) -> list[int]:
        """Keep a segment's dreamed ``frames``; the indices of the frames that became final."""
        final = []
        for (index, side), data in zip(roles, frames, strict=True):
            if self.store.path(index).is_file():
                continue
            if not side:
                self.store.save_encoded(index, data)
                final.append(index)
                continue
            self.store.create()
            with atomic_writer(self.half(index, side)) as handle:
                handle.write(data)
            other = self.half(index, "b" if side == "a" else "a")
            if other.is_file():
                self._mix(index)
                final.append(index)
        return final

    def _mix(self, index: int) -> None:
        earlier = decode_frame(self.half(index, "a").read_bytes()).astype(np.float32)
        later = decode_frame(self.half(index, "b").read_bytes()).astype(np.float32)
        weight = self.cut.weight(index)
        mixed = np.clip(np.round((1 - weight) * earlier + weight * later), 0, 255).astype(np.uint8)
        self.store.save_encoded(index, encode_frame(mixed))
        self.half(index, "a").unlink()
        self.half(index, "b").unlink()


def encode_frame(pixels: np.ndarray) -> bytes:
    """``(H, W, 3)`` uint8 as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()


def decode_frame(data: bytes) -> np.ndarray:
    """PNG bytes from :func:`encode_frame` as ``(H, W, 3)`` uint8."""
    with Image.open(io.BytesIO(data)) as image:
        return np.array(image.convert("RGB"))
