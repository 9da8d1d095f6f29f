"""How fast ``inceptionism train`` learns on this machine: images per second, frozen low and frozen high.

Run:  .venv/bin/python bench/bench_train.py          (a few minutes on two cores)

It trains 2 epochs on 3 classes x 100 images at 224 px (generated textures: the speed of a
step does not depend on what the images show) and prints, per setting, the training images
per second of the second epoch (the first warms the allocator up), with the machine's CPU
capability. Settings: SqueezeNet 1.1 frozen to fire5 and to fire7, GoogLeNet (random
weights: its published ones are downloaded, and this machine has no network) frozen to
inception4a.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inceptionism.training.train import train

SETTINGS = (
    ("squeezenet1_1", "default", "fire5"),
    ("squeezenet1_1", "default", "fire7"),
    ("googlenet", "random", "inception4a"),
)
CLASSES, PER_CLASS, SIZE, EPOCHS = 3, 100, 224, 2


def make_dataset(root: Path) -> Path:
    """Three classes of 100 textures (stripes, dots, checks) of 300x260 px."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:260, 0:300]
    for kind in ("stripes", "dots", "checks")[:CLASSES]:
        (root / kind).mkdir(parents=True)
        for index in range(PER_CLASS):
            f, phase = rng.uniform(0.05, 0.3), rng.uniform(0, 6)
            wave = {"stripes": np.sin(x * f + phase), "dots": np.sin(x * f + phase) * np.sin(y * f),
                    "checks": np.sign(np.sin(x * f + phase) * np.sin(y * f + phase))}[kind]  # fmt: skip
            colour = rng.uniform(60, 200, 3)
            pixels = colour + 50 * wave[..., None] + rng.normal(0, 10, (260, 300, 3))
            Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(root / kind / f"{index}.jpg", quality=90)
    return root


def main() -> None:
    print(f"cpu capability: {torch.backends.cpu.get_cpu_capability()}, threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as folder:
        dataset = make_dataset(Path(folder) / "data")
        for model, weights, frozen in SETTINGS:
            result = train(dataset, Path(folder) / f"{model}-{frozen}.pt", model=model, weights=weights,
                           freeze_to=frozen, epochs=EPOCHS, size=SIZE, val=0.2, seed=0)  # fmt: skip
            speed = result.records[-1].images_per_second
            print(f"{model:<14} frozen to {frozen:<12} {speed:6.1f} images/s  (epoch 2 of 2, {SIZE} px, batch 32)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
