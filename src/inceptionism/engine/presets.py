"""Named settings: values for some options, applied by :meth:`~inceptionism.engine.settings.DreamSettings.create`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """A named set of options.

    Attributes:
        name: what ``--preset`` takes.
        description: one line for ``inceptionism presets``.
        options: option values, named like :func:`inceptionism.dream`'s arguments.
    """

    name: str
    description: str
    options: dict[str, Any] = field(default_factory=dict)


PRESETS = {
    preset.name: preset
    for preset in (
        Preset("classic", "Google's 2015 DeepDream: 4 octaves x1.4, 10 steps of 1.5, jitter 32"),
        Preset(
            "subtle",
            "a light touch: 3 octaves, 6 steps of 1.0, smoothed gradient",
            {"octaves": 3, "steps": 6, "step_size": 1.0, "smooth": 0.5},
        ),
        Preset(
            "deep",
            "strong and large: 6 octaves, 20 steps of 2.0, Laplacian-normalised gradient",
            {"octaves": 6, "steps": 20, "step_size": 2.0, "lap_levels": 4},
        ),
        Preset(
            "fractal-noise",
            "no photo: 512x512 pixel noise dreamed over 8 octaves x1.5 into self-similar patterns",
            {
                "noise": (512, 512),
                "param": "pixel",
                "octaves": 8,
                "octave_scale": 1.5,
                "steps": 12,
                "step_size": 2.0,
                "lap_levels": 4,
            },
        ),
    )
}
