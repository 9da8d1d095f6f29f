"""The state of a training run after each finished epoch, so the same command goes on from there.

Kept beside the model as ``.NAME.pt.checkpoint`` (tensors, numbers and text only: read back
with ``weights_only``); it is deleted once the model file is written. A checkpoint made with
other settings or another dataset is not resumed.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import torch

from inceptionism.errors import InvalidParameterError
from inceptionism.io.files import atomic_writer
from inceptionism.training.fit import EpochRecord


def checkpoint_path(output: Path) -> Path:
    """Where the run writing ``output`` keeps its checkpoint."""
    return output.with_name(f".{output.name}.checkpoint")


def save_checkpoint(path: Path, *, key: dict[str, Any], state: dict[str, Any], records: list[EpochRecord]) -> None:
    """Keep the run's ``state`` (network and optimizer) after ``records``' last epoch, atomically."""
    buffer = io.BytesIO()
    torch.save({"key": key, "state": state, "records": [dataclasses.asdict(r) for r in records]}, buffer)
    with atomic_writer(path) as handle:
        handle.write(buffer.getvalue())


def load_checkpoint(path: Path, key: dict[str, Any]) -> tuple[dict[str, Any], list[EpochRecord]] | None:
    """The state and records of the checkpoint at ``path`` if there is one, made with ``key``.

    Raises:
        InvalidParameterError: the checkpoint was made with other settings or another dataset.
    """
    if not path.is_file():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved["key"] != key:
        changed = sorted(name for name in key if saved["key"].get(name) != key[name])
        raise InvalidParameterError(
            f"{path} is a run with another {', '.join(changed)}; give the same settings to resume it, "
            "or --restart to start over",
            argument="restart",
        )
    return saved["state"], [EpochRecord(**record) for record in saved["records"]]
