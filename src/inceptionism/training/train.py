"""``train()``: fine-tune a network on a folder of your photos; the result is a model file every command takes.

The base network keeps its layers up to ``freeze_to``; the layers above it and a new
classifier, one output per class folder, learn the new classes. After every epoch the run
is checkpointed, so the same call goes on from the last finished epoch after an
interruption and ends where an uninterrupted run would.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inceptionism.engine.runtime import resolve_device, resolve_precision
from inceptionism.errors import InvalidParameterError, OutputError, unknown_name
from inceptionism.io.files import check_writable
from inceptionism.models.network import Network
from inceptionism.models.registry import get_model
from inceptionism.models.trained import SUFFIXES, replace_head, save_trained
from inceptionism.render.show import media_html
from inceptionism.training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from inceptionism.training.dataset import Dataset, scan_dataset, split_dataset
from inceptionism.training.fit import BatchCallback, Batches, EpochRecord, Trainer
from inceptionism.training.options import FREEZE_DEFAULTS, TRAIN_OPTIONS
from inceptionism.training.pixels import decode_all, kept_side
from inceptionism.training.record import metrics_paths, write_chart, write_metrics


@dataclass
class TrainResult:
    """A finished training run.

    Attributes:
        path: the model file.
        records: every epoch's figures, the first first.
        classes: the class names, index-aligned with the new outputs.
        metrics: the CSV of the figures.
        chart: their chart (PNG).
        resumed: epochs that were already done when this call started (from the checkpoint).
    """

    path: Path
    records: list[EpochRecord]
    classes: tuple[str, ...]
    metrics: Path
    chart: Path
    resumed: int = 0

    def _repr_html_(self) -> str:
        """The run's chart and its last figures, for Jupyter."""
        last = self.records[-1]
        accuracy = "-" if last.val_accuracy is None else f"{last.val_accuracy:.1%}"
        caption = (f"{self.path.name} · {len(self.classes)} classes: {', '.join(self.classes)} · {last.epoch} epochs"
                   f" · validation accuracy {accuracy}")  # fmt: skip
        return media_html(self.chart, {}, caption=caption)


@dataclass
class Hooks:
    """What a caller hears of a run (each optional).

    Attributes:
        notice: a line to show (images skipped, duplicates found).
        read: ``(images read, images)`` while the images are decoded.
        batch: after each batch (see :data:`~inceptionism.training.fit.BatchCallback`); true stops.
        epoch: ``(record, class names)`` after each epoch.
    """

    notice: Callable[[str], None] | None = None
    read: Callable[[int, int], None] | None = None
    batch: BatchCallback | None = None
    epoch: Callable[[EpochRecord, tuple[str, ...]], None] | None = None


def train(
    dataset: str | os.PathLike,
    output: str | os.PathLike,
    *,
    model: str = "squeezenet1_1",
    weights: str = "default",
    device: str = "auto",
    precision: str = "auto",
    restart: bool = False,
    hooks: Hooks | None = None,
    **options: Any,
) -> TrainResult:
    """Fine-tune ``model`` on the class folders of ``dataset``; write the model file ``output``.

    Args:
        dataset: a folder with one sub-folder of images per class.
        output: the model file to write (``.pt`` or ``.safetensors``); beside it go
            ``NAME.metrics.csv``, ``NAME.metrics.png`` and, while the run lasts, its checkpoint.
        model: the registered network to start from (its weights must be here).
        weights: ``"default"`` (the published ones) or ``"random"``.
        device: ``auto``, ``cpu``, ``cuda``...
        precision: ``auto`` (bf16 where the CPU has it), ``fp32``, ``bf16``, ``fp16`` (CUDA).
        restart: start over even if a checkpoint of another run is there.
        hooks: callbacks for progress (see :class:`Hooks`).
        **options: :data:`~inceptionism.training.options.TRAIN_OPTIONS` (``epochs``, ``batch``,
            ``lr``, ``size``, ``val``, ``seed``, ``freeze_to``).

    Raises:
        InceptionismError: a bad option, dataset, model or output, in one line.
    """
    hooks = hooks or Hooks()
    values = _checked(options)
    output = _checked_output(Path(output), Path(dataset))
    net = get_model(model, weights=weights)
    frozen = _freeze_layer(net, model, values["freeze_to"])
    data, found = _read(Path(dataset), values, hooks)
    run_device = resolve_device(device)
    run_precision = resolve_precision(precision, run_device)
    torch.manual_seed(values["seed"])  # the new classifier's first weights
    head = replace_head(net.body, len(found.classes))
    trainer = Trainer(net.to(run_device), _learning(net, frozen, head), size=values["size"], batch=values["batch"],
                      lr=values["lr"], seed=values["seed"], device=run_device, precision=run_precision)  # fmt: skip
    key = {"model": model, "weights": weights, "dataset": found.checksum, "freeze_to": frozen or "none",
           **{name: values[name] for name in TRAIN_OPTIONS if name not in ("epochs", "freeze_to")}}  # fmt: skip
    records = _resumed(trainer, checkpoint_path(output), key, restart, values["epochs"])
    resumed = len(records)
    for number in range(resumed + 1, values["epochs"] + 1):
        records.append(trainer.epoch(number, data, hooks.batch))
        _keep(trainer, output, key, records, found)
        if hooks.epoch is not None:
            hooks.epoch(records[-1], found.classes)
    info = _info(model, net, head, frozen, found, data, values, records, run_precision)
    save_trained(output, net.body, info)
    checkpoint_path(output).unlink(missing_ok=True)
    csv_path, chart = metrics_paths(output)
    return TrainResult(output, records, found.classes, csv_path, chart, resumed)


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    for name in options:
        if name not in TRAIN_OPTIONS:
            raise unknown_name("option", name, TRAIN_OPTIONS, "inceptionism train --help", argument=name)
    values = {name: options.get(name, option.default) for name, option in TRAIN_OPTIONS.items()}
    return {name: value if value is None else TRAIN_OPTIONS[name].check(name, value) for name, value in values.items()}


def _checked_output(output: Path, dataset: Path) -> Path:
    if not output.name.lower().endswith(SUFFIXES):
        raise OutputError(f"the model file must end in .pt or .safetensors, got {output.name}; e.g. -o birds.pt")
    if dataset.is_dir() and output.resolve().parent.is_relative_to(dataset.resolve()):
        raise OutputError(f"{output} is inside the dataset {dataset}; write the model outside the dataset's folder")
    return check_writable(output)


def _freeze_layer(net: Network, model: str, asked: str | None) -> str | None:
    """The layer frozen up to (``None``: every layer learns), checked against the network's layers."""
    if asked == "none":
        return None
    layer = asked or FREEZE_DEFAULTS.get(model) or _middle(net)
    body_layers = net.layers[1:-2]  # less the input, logits and classes pseudo-layers
    named = net.aliases.get(layer, layer)
    if named not in body_layers:
        raise unknown_name("layer", layer, (*body_layers, *net.aliases), f"inceptionism layers --model {model}",
                           argument="freeze_to")  # fmt: skip
    if named == body_layers[-1]:
        raise InvalidParameterError(
            f"freeze_to {layer} is the last layer: nothing above it could learn; give an earlier one "
            f"(default {FREEZE_DEFAULTS.get(model, _middle(net))})",
            argument="freeze_to",
        )
    return named


def _middle(net: Network) -> str:
    return net.layers[1:-2][len(net.layers[1:-2]) // 2]


def _learning(net: Network, frozen: str | None, head: str) -> list[nn.Module]:
    """The modules that learn: those after ``frozen`` in the network's order, and the new classifier."""
    body_layers = list(net.layers[1:-2])
    after = body_layers if frozen is None else body_layers[body_layers.index(frozen) + 1 :]
    modules = [net.body] if frozen is None else [net.body.get_submodule(name) for name in (*after, head)]
    net.requires_grad_(False)
    for module in modules:
        module.requires_grad_(True)
    return modules


def _read(root: Path, values: dict[str, Any], hooks: Hooks) -> tuple[Batches, Dataset]:
    """The dataset checked and split, its notices told, and its images decoded."""
    found = scan_dataset(root)
    train_index, val_index = split_dataset(found, values["val"], values["seed"])
    validated = {found.items[index][1] for index in val_index}
    unvalidated = [f"class {name!r} has no validation images: its images are near duplicates of one another"
                   for label, name in enumerate(found.classes)
                   if values["val"] > 0 and label not in validated]  # fmt: skip
    for line in (*found.report(), *unvalidated):
        if hooks.notice is not None:
            hooks.notice(line)
    paths = [path for path, _ in found.items]
    read = hooks.read
    done = None if read is None else _counter(lambda count: read(count, len(paths)))
    pixels = decode_all(paths, kept_side(values["size"]), done)
    labels = torch.tensor([label for _, label in found.items])
    return Batches(pixels, labels, train_index, val_index, len(found.classes)), found


def _counter(report: Callable[[int], None]) -> Callable[[], None]:
    """A function that counts its calls and reports the count."""
    count = 0

    def one_more() -> None:
        nonlocal count
        count += 1
        report(count)

    return one_more


def _resumed(trainer: Trainer, path: Path, key: dict[str, Any], restart: bool, epochs: int) -> list[EpochRecord]:
    """The epochs a checkpoint of this run has finished, its state loaded into ``trainer`` (none: a new run)."""
    if restart:
        path.unlink(missing_ok=True)
        return []
    kept = load_checkpoint(path, key)
    if kept is None:
        return []
    state, records = kept
    if len(records) > epochs:
        raise InvalidParameterError(
            f"{path} has {len(records)} finished epochs, more than --epochs {epochs}; give --epochs {len(records)} "
            "or more to finish it, or --restart",
            argument="epochs",
        )
    trainer.net.body.load_state_dict(state["body"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    return records


def _keep(trainer: Trainer, output: Path, key: dict[str, Any], records: list[EpochRecord], found: Dataset) -> None:
    """The checkpoint, the CSV and the chart after an epoch."""
    state = {"body": trainer.net.body.state_dict(), "optimizer": trainer.optimizer.state_dict()}
    save_checkpoint(checkpoint_path(output), key=key, state=state, records=records)
    csv_path, chart = metrics_paths(output)
    write_metrics(csv_path, records, found.classes)
    write_chart(chart, records, f"{output.name}: {len(found.classes)} classes, {len(found.items)} images")


def _info(model: str, net: Network, head: str, frozen: str | None, found: Dataset, data: Batches,
          values: dict[str, Any], records: list[EpochRecord], precision: str) -> dict[str, Any]:  # fmt: skip
    """What the model file says of itself."""
    if not records:
        raise InvalidParameterError("no epoch was trained", argument="epochs")
    return {
        "base": model,
        "base_weights": net.weights,
        "classes": list(found.classes),
        "head": head,
        "freeze_to": frozen or "none",
        "preprocessing": dataclasses.asdict(net.preprocessing),
        "training": {
            **{name: values[name] for name in TRAIN_OPTIONS},
            "freeze_to": frozen or "none",
            "precision": precision,
        },
        "dataset": {
            "path": str(found.root),
            "images": len(found.items),
            "train": len(data.train),
            "val": len(data.val),
            "checksum": found.checksum,
            "counts": found.counts(),
        },
        "metrics": dataclasses.asdict(records[-1]),
    }
