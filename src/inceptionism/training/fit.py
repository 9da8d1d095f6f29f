"""One training run's epochs: balanced batches drawn by seed, the loss and accuracy of each, and validation.

Only the layers above the frozen one learn: their parameters take gradients and their
modules run in training mode; the frozen part runs in eval mode (its batch norms keep their
statistics) and, taking no gradient, records nothing for the backward pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inceptionism.engine.runtime import autocast
from inceptionism.training.augment import augmented, centred

BatchCallback = Callable[[int, int, int, float, float], bool]
"""``(epoch, batches done, batches in the epoch, running loss, running accuracy)``; true asks to stop."""
EVAL_BATCH = 64


class TrainingStopped(Exception):
    """Asked to stop after a batch: the epoch in progress is dropped, the finished ones are kept."""


@dataclass
class EpochRecord:
    """What one epoch measured.

    Attributes:
        epoch: 1 for the first.
        train_loss: mean cross-entropy of its batches.
        train_accuracy: share of its augmented crops classified right.
        val_loss: on the validation images (``None`` without them).
        val_accuracy: share of them classified right.
        class_accuracy: per class, on its validation images (``None`` where it has none).
        images_per_second: training crops per second (augmentation included).
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    class_accuracy: list[float | None]
    images_per_second: float


@dataclass
class Batches:
    """The images a run learns from and is checked on: uint8 squares, their classes, the two index lists."""

    pixels: Tensor
    labels: Tensor
    train: list[int]
    val: list[int]
    classes: int


class Trainer:
    """The network, the modules that learn, their optimizer, and the crops' size, batch and seed."""

    def __init__(self, net: nn.Module, learning: list[nn.Module], *, size: int, batch: int, lr: float, seed: int,
                 device: torch.device, precision: str) -> None:  # fmt: skip
        self.net, self.learning = net.to(memory_format=torch.channels_last), learning  # 1.5x faster on CPUs
        self.size, self.batch, self.seed = size, batch, seed
        self.device, self.precision = device, precision
        parameters = list({id(p): p for module in learning for p in module.parameters()}.values())  # nested: once
        self.optimizer = torch.optim.Adam(parameters, lr=lr)

    def epoch(self, number: int, data: Batches, on_batch: BatchCallback | None = None) -> EpochRecord:
        """Train one epoch (drawn from the seed and ``number``), then validate."""
        generator = torch.Generator().manual_seed(self.seed * 10_007 + number)
        torch.manual_seed(self.seed * 10_007 + number)  # dropout, where a network has it
        order = _balanced(data, generator)
        self._modes(training=True)
        started, losses, right, seen = time.perf_counter(), 0.0, 0, 0
        chunks = order.split(self.batch)
        for index, chunk in enumerate(chunks):
            loss, hits = self._step(data, chunk, generator)
            losses, right, seen = losses + loss * len(chunk), right + hits, seen + len(chunk)
            if on_batch is not None and on_batch(number, index + 1, len(chunks), losses / seen, right / seen):
                raise TrainingStopped(f"stopped after batch {index + 1} of {len(chunks)} of epoch {number}")
        speed = len(order) / (time.perf_counter() - started)
        val_loss, val_accuracy, per_class = self.evaluate(data)
        return EpochRecord(number, losses / len(order), right / len(order), val_loss, val_accuracy, per_class, speed)

    def _step(self, data: Batches, chunk: Tensor, generator: torch.Generator) -> tuple[float, int]:
        crops = augmented(data.pixels[chunk], self.size, generator).to(self.device, memory_format=torch.channels_last)
        target = data.labels[chunk].to(self.device)
        with autocast(self.device, self.precision):
            logits = self.net(crops)
        loss = F.cross_entropy(logits.float(), target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item(), int((logits.argmax(1) == target).sum())

    @torch.no_grad()
    def evaluate(self, data: Batches) -> tuple[float | None, float | None, list[float | None]]:
        """Loss, accuracy and per-class accuracy on the validation images' central crops."""
        if not data.val:
            return None, None, [None] * data.classes
        self._modes(training=False)
        index = torch.tensor(data.val)
        losses, guesses = 0.0, []
        for chunk in index.split(EVAL_BATCH):
            crops = centred(data.pixels[chunk], self.size).to(self.device, memory_format=torch.channels_last)
            with autocast(self.device, self.precision):
                logits = self.net(crops).float()
            losses += float(F.cross_entropy(logits, data.labels[chunk].to(self.device), reduction="sum"))
            guesses.append(logits.argmax(1).cpu())
        right = torch.cat(guesses) == data.labels[index]
        per_class = [_share(right[data.labels[index] == c]) for c in range(data.classes)]
        return losses / len(index), float(right.float().mean()), per_class

    def _modes(self, *, training: bool) -> None:
        self.net.eval()
        for module in self.learning:
            module.train(training)


def _balanced(data: Batches, generator: torch.Generator) -> Tensor:
    """An epoch's order: as many draws as training images, each class drawn as often as the others."""
    labels = data.labels[data.train]
    counts = torch.bincount(labels, minlength=data.classes).clamp(min=1).float()
    draws = torch.multinomial(1 / counts[labels], len(data.train), replacement=True, generator=generator)
    return torch.tensor(data.train)[draws]


def _share(right: Tensor) -> float | None:
    return float(right.float().mean()) if len(right) else None
