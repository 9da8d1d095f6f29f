"""The options of ``inceptionism train``, declared once (the CLI flags, the checks and ``--help`` derive from them)."""

from __future__ import annotations

from inceptionism.engine.options import SEED_LIMIT, Option

TRAIN_OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("freeze_to", None, "Layer up to which the network stays as it is (default: per model, fire5 for "
               "SqueezeNet; 'none' trains every layer).", metavar="LAYER", shown_default="per model"),
        Option("epochs", 5, "Passes over the training images.", minimum=1, maximum=1000, kind=int),
        Option("batch", 32, "Images per optimisation step.", minimum=1, maximum=1024, kind=int),
        Option("lr", 3e-4, "Learning rate (Adam).", minimum=0.0, maximum=1.0, open_below=True, kind=float),
        Option("size", 224, "Side of the training crops.", minimum=32, maximum=1024, unit="px", kind=int),
        Option("val", 0.2, "Share of each class held out for validation (drawn by seed, per class).", minimum=0.0,
               maximum=0.9, kind=float),
        Option("seed", 0, "Seed of the split, the sampling, the augmentation and the new classifier.", minimum=0,
               maximum=SEED_LIMIT, kind=int),
    )
}  # fmt: skip
"""What a training run takes besides the dataset, the output and the base model."""

FREEZE_DEFAULTS = {
    "squeezenet1_1": "fire5",
    "googlenet": "inception4a",
    "bvlc_googlenet": "inception_4a/output",
    "googlenet_places205": "inception_4a/output",
    "googlenet_places365": "inception_4a/output",
}
"""The layer each model is frozen up to by default: the strokes and textures below it are kept, the
parts and objects above it learn the new classes (and show them when dreamed)."""
