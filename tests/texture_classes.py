"""A dataset a network can learn in seconds: three classes of textures, for the fast tier of ``inceptionism train``.

Each class is a kind of pattern, ``checks``, ``dots`` or ``stripes``, drawn with a random
period, phase (and angle, for stripes), two random colours and a little noise, on squares of
64 to 96 px. Only the kind of pattern tells the classes apart: colour and scale do not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

KINDS = ("checks", "dots", "stripes")
FAST = {"size": 48, "batch": 16, "val": 0.3, "device": "cpu", "precision": "fp32"}
"""Training settings of the fast tier: small crops on the CPU in fp32 (alike on every run); 30% of each
class (6 of 20) held out, 42 images left: 3 batches an epoch."""


def texture(kind: str, rng: np.random.Generator) -> Image.Image:
    """One image of the pattern ``kind``, its side, period, phase and colours drawn from ``rng``."""
    side = int(rng.integers(64, 97))
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    period = rng.uniform(6, 16)
    phase = rng.uniform(0, period)
    if kind == "stripes":
        angle = rng.uniform(0, np.pi)
        mask = ((x * np.cos(angle) + y * np.sin(angle) + phase) % period) < period / 2
    elif kind == "dots":
        dy, dx = (y + phase) % period - period / 2, (x + phase) % period - period / 2
        mask = dy**2 + dx**2 < (period / 4) ** 2
    else:
        mask = ((x + phase) // (period / 2) + (y + phase) // (period / 2)) % 2 == 0
    ink, paper = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    pixels = np.where(mask[..., None], ink, paper) + rng.normal(0, 8, (side, side, 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def make_texture_classes(root: Path, *, per_class: int = 20, seed: int = 0) -> Path:
    """Write ``root/{checks,dots,stripes}/NN.png``, ``per_class`` of each; return ``root``."""
    rng = np.random.default_rng(seed)
    for kind in KINDS:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            texture(kind, rng).save(root / kind / f"{index:02d}.png")
    return root
