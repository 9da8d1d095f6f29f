"""What the network sees in an image: top-k ImageNet labels with probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image
from torch import Tensor, nn

from inceptionism.engine.options import Option
from inceptionism.io.images import ImageInput, load_image, to_tensor
from inceptionism.models.imported import Convention
from inceptionism.models.network import LOGITS, Network
from inceptionism.models.registry import network_of

CLASSIFY_OPTIONS: dict[str, Option] = {
    "top": Option("top", 5, "How many labels to print.", minimum=1, maximum=1000, kind=int, flags=("--top", "-k")),
}
"""The options of :func:`classify`."""


@dataclass(frozen=True)
class Prediction:
    """One label and its softmax probability.

    Attributes:
        index: class index.
        label: class name.
        probability: softmax probability in 0..1.
    """

    index: int
    label: str
    probability: float


def class_probabilities(image: ImageInput, net: Network) -> Tensor:
    """Softmax probability of every class, ``(classes,)``, for ``image`` scaled to the network's training size.

    The short side is scaled to the input size; a network whose head has a fixed size
    (see :attr:`~inceptionism.models.Network.fixed_layers`) sees the centre square of it.

    >>> from inceptionism.io.images import sample_path
    >>> from inceptionism.models import shared_model
    >>> round(float(class_probabilities(sample_path(), shared_model("squeezenet1_1")).sum()), 4)
    1.0
    """
    picture = load_image(image).image
    ratio = net.input_size / min(picture.size)
    size = (max(net.min_size, round(picture.width * ratio)), max(net.min_size, round(picture.height * ratio)))
    picture = picture.resize(size, Image.Resampling.BICUBIC)
    if LOGITS in net.fixed_layers:
        left, top = (picture.width - net.input_size) // 2, (picture.height - net.input_size) // 2
        picture = picture.crop((left, top, left + net.input_size, top + net.input_size))
    device = next(net.parameters()).device
    with torch.no_grad():
        return net(to_tensor(picture).to(device)).float().softmax(1)[0].cpu()


def classify(
    image: ImageInput,
    *,
    model: str | nn.Module = "squeezenet1_1",
    weights: str | None = "default",
    top: int = 5,
    mean: Sequence[float] | None = None,
    labels_file: str | None = None,
    convention: Convention | None = None,
) -> list[Prediction]:
    """The ``top`` most likely classes of ``image``, best first.

    The whole image is scaled so its short side matches the network's training size (and
    centre-cropped to a square for a network whose head has a fixed size). ``model`` is a name,
    a file or a module, as :func:`~inceptionism.dream` takes it; ``mean``, ``labels_file`` and
    ``convention`` (how a network from outside takes its pixels, and its size) are passed to
    :func:`~inceptionism.models.get_model`.

    >>> from inceptionism.io.images import sample_path
    >>> classify(sample_path(), top=1)[0].label  # Chelsea the cat
    'Egyptian cat'
    """
    CLASSIFY_OPTIONS["top"].check("top", top)
    net = network_of(model, weights=weights, mean=mean, labels_file=labels_file, convention=convention)
    probabilities = class_probabilities(image, net)
    values, indices = probabilities.topk(min(top, probabilities.numel()))
    return [
        Prediction(int(i), net.labels[int(i)], float(v)) for v, i in zip(values.tolist(), indices.tolist(), strict=True)
    ]
