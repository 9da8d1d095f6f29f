"""GoogLeNet (Inception v1, Szegedy et al., 2014): the network of the original DeepDream.

Module and parameter names follow torchvision's ``GoogLeNet`` so that its published ImageNet
state dict (``googlenet-1378be20.pth``, auxiliary classifiers included) loads unchanged.
Those weights expect RGB in 0..1 mapped to -1..1, which their preprocessing provides. The
module registers the network as ``googlenet``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from inceptionism.models.network import Preprocessing
from inceptionism.models.registry import ModelEntry, register_model
from inceptionism.models.weights import TorchHubWeights

WEIGHTS_URL = "https://download.pytorch.org/models/googlenet-1378be20.pth"

# (name, in, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool projection)
INCEPTIONS = (
    ("inception3a", 192, 64, 96, 128, 16, 32, 32),
    ("inception3b", 256, 128, 128, 192, 32, 96, 64),
    ("inception4a", 480, 192, 96, 208, 16, 48, 64),
    ("inception4b", 512, 160, 112, 224, 24, 64, 64),
    ("inception4c", 512, 128, 128, 256, 24, 64, 64),
    ("inception4d", 512, 112, 144, 288, 32, 64, 64),
    ("inception4e", 528, 256, 160, 320, 32, 128, 128),
    ("inception5a", 832, 256, 160, 320, 32, 128, 128),
    ("inception5b", 832, 384, 192, 384, 48, 128, 128),
)
BRANCHES = ("branch1", "branch2", "branch3", "branch4")


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU()  # a module, so an inference copy can swap its gradient

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` to ``(B, out, H', W')``."""
        return self.relu(self.bn(self.conv(x)))

    def fold_batch_norm(self) -> None:
        """Merge the (eval-mode) batch norm into the convolution: same outputs, one op less."""
        if isinstance(self.bn, nn.BatchNorm2d):
            self.conv = fuse_conv_bn_eval(self.conv, self.bn)
            self.bn = nn.Identity()


class Inception(nn.Module):
    """Four parallel branches concatenated along channels."""

    def __init__(
        self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int
    ) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        # torchvision's weights were trained with a 3x3 here where the paper has 5x5; keep it.
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` to ``(B, sum of branch widths, H, W)``."""
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: present so published weights load, never run when dreaming."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` to ``(B, classes)``."""
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def _branch_ends(block: str) -> tuple[str, ...]:
    """The layers whose ReLUs make an inception block's output."""
    return tuple(f"{block}.{end}" for end in ("branch1", "branch2.1", "branch3.1", "branch4.1"))


class GoogLeNet(nn.Module):
    """Inception v1 for inference; input normalised to -1..1 RGB for torchvision's weights."""

    stem = "conv1.conv"
    """The first convolution, into which an inference copy can fold the preprocessing."""
    relu_after_pool = (
        ("maxpool1", ("conv1",)),
        ("maxpool2", ("conv3",)),
        ("maxpool3", _branch_ends("inception3b")),
        ("maxpool4", _branch_ends("inception4e")),
    )
    """Each pool and the layers whose ReLU feeds it (see ``Network.prepared``)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name, *widths in INCEPTIONS:
            self.add_module(name, Inception(*widths))
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.aux1 = InceptionAux(512, num_classes)
        self.aux2 = InceptionAux(528, num_classes)
        self.fc = nn.Linear(1024, num_classes)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2, b=2)

    def forward(self, x: Tensor) -> Tensor:
        """Class scores ``(B, classes)`` for a ``(B, 3, H, W)`` batch normalised to -1..1."""
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.inception3b(self.inception3a(x))
        x = self.maxpool3(x)
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            x = self.get_submodule(name)(x)
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        return self.fc(x.mean((2, 3)))


LAYERS = (
    "conv1",
    "conv2",
    "conv3",
    *(f"{block}.{branch}" if branch else block for block, *_ in INCEPTIONS for branch in (*BRANCHES, "")),
)

WEIGHTS = TorchHubWeights(
    url=WEIGHTS_URL,
    source=WEIGHTS_URL,
    checksum="sha256:1378be20",  # the prefix in the file's name
    preprocessing=Preprocessing("RGB", 1 / 255, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    meta={"dataset": "ImageNet-1k"},
)
"""torchvision's ImageNet weights (``GoogLeNet_Weights.IMAGENET1K_V1``)."""

register_model(
    ModelEntry(
        name="googlenet",
        description="GoogLeNet / Inception v1 as torchvision has it (batch norms, 3x3 for 5x5); "
        "torchvision ImageNet weights, downloaded on first use",
        build=GoogLeNet,
        layers=LAYERS,
        default_layer="inception4c",
        class_layer="logits",
        min_size=15,
        input_size=224,
        weights=WEIGHTS,
        optional_keys=("aux1.", "aux2."),  # torchvision drops its auxiliary heads when it loads its weights
    )
)
