"""A network ready to dream with: preprocessing, named layer taps and labels in one module."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from inceptionism.errors import InvalidParameterError, unknown_name
from inceptionism.models.fast import RedirectedReLU, SpaceToDepthConv2d, faster_conv, faster_pool

INPUT = "input"
"""Pseudo-layer: the pixels given to the network, ``(B, 3, H, W)`` RGB in 0..255."""
LOGITS = "logits"
"""Pseudo-layer: the network's output, the class scores ``(B, classes)``."""
CLASSES = "classes"
"""Pseudo-layer: the class scores before any ReLU, the network's ``class_layer``."""
PSEUDO_LAYERS = (INPUT, LOGITS, CLASSES)


@dataclass(frozen=True)
class Preprocessing:
    """How RGB pixels in 0..255 become this network's input.

    The transform is ``(pixels[order] * scale - mean) / std``; ``mean`` and ``std`` are given
    in the network's channel order and value range.

    Attributes:
        channel_order: ``"RGB"`` or ``"BGR"``.
        scale: multiplies pixels first: ``1.0`` keeps 0..255, ``1/255`` gives 0..1.
        mean: per-channel mean subtracted after scaling.
        std: per-channel divisor applied last.
    """

    channel_order: str
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)


class Normalize(nn.Module):
    """Turn ``(B, 3, H, W)`` RGB pixels in 0..255 into the network's input convention."""

    def __init__(self, preprocessing: Preprocessing) -> None:
        super().__init__()
        if preprocessing.channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order must be RGB or BGR, got {preprocessing.channel_order!r}")
        self.flip = preprocessing.channel_order == "BGR"
        shape = (1, 3, 1, 1)
        std = torch.tensor(preprocessing.std).view(shape)
        # (x * scale - mean) / std == x * (scale / std) - mean / std: one fused multiply-add.
        self.register_buffer("gain", preprocessing.scale / std, persistent=False)
        self.register_buffer("offset", torch.tensor(preprocessing.mean).view(shape) / std, persistent=False)

    def forward(self, pixels: Tensor) -> Tensor:
        """Map ``(B, 3, H, W)`` RGB 0..255 to the network's input."""
        if self.flip:
            pixels = pixels.flip(1)
        return torch.addcmul(-self.offset, pixels, self.gain)


class _StopForward(Exception):
    """Raised by a tap once every requested layer is captured: the rest of the net is skipped."""


class Network(nn.Module):
    """A classifier wrapped for dreaming: takes RGB pixels in 0..255 and exposes named layers.

    Args:
        body: the torch module; its submodules named in ``layers`` are the taps.
        name: registry name, e.g. ``"squeezenet1_1"``.
        preprocessing: how pixels become the body's input.
        layers: tap-able layer names in forward order (submodule paths of ``body``);
            the pseudo-layers ``"input"``, ``"logits"`` and ``"classes"`` are added.
        labels: class names, index-aligned with the logits.
        min_size: smallest height and width in pixels the whole body accepts.
        input_size: side length the network was trained at (used to classify).
        weights: which weights are loaded: ``"default"``, ``"random"`` or a file path.
        default_layer: the layer dreamed when none is chosen (default: the last of ``layers``).
        class_layer: the layer whose channels are the class scores before any ReLU, spatial
            ``(B, classes, h, w)`` or flat ``(B, classes)`` (default: ``"logits"``).
        aliases: simpler names of layers, e.g. ``{"inception4c": "inception_4c/output"}``;
            they are accepted wherever a layer name is.
        fixed_layers: the layers (pseudo-layers included) that exist only for inputs of
            ``input_size`` (those after a head of fixed size); the others take any size
            from ``min_size`` up.
        repeated_layers: the layers called more than once in a forward pass (a shared ReLU):
            they are tapped at their last call.

    >>> from inceptionism.models import get_model
    >>> net = get_model("squeezenet1_1", weights=None)
    >>> with net.tap(["fire7"]) as extract:
    ...     features = extract(torch.rand(1, 3, 96, 96) * 255)
    >>> features["fire7"].shape
    torch.Size([1, 384, 5, 5])
    """

    def __init__(
        self,
        body: nn.Module,
        *,
        name: str,
        preprocessing: Preprocessing,
        layers: Sequence[str],
        labels: Sequence[str],
        min_size: int,
        input_size: int,
        weights: str,
        default_layer: str | None = None,
        class_layer: str = LOGITS,
        aliases: Mapping[str, str] | None = None,
        fixed_layers: Collection[str] = (),
        repeated_layers: Collection[str] = (),
    ) -> None:
        super().__init__()
        self.body = body
        self.normalize = Normalize(preprocessing)
        self.name = name
        self.preprocessing = preprocessing
        self.layers = (INPUT, *layers, LOGITS, CLASSES)
        self.labels = tuple(labels)
        self.min_size = min_size
        self.input_size = input_size
        self.weights = weights
        self.aliases = dict(aliases or {})
        self.default_layer = default_layer or layers[-1]
        self.class_layer = class_layer
        self.fixed_layers = frozenset(fixed_layers)
        self.repeated_layers = frozenset(repeated_layers)
        self.pre_relu_layers: set[str] = set()  # layers whose ReLU an inference copy moved (see prepared)
        for layer in (*layers, *self.aliases.values(), self.default_layer, class_layer):
            if layer != LOGITS:
                body.get_submodule(self.aliases.get(layer, layer))  # a typo in a model definition fails here

    def forward(self, pixels: Tensor) -> Tensor:
        """Class scores ``(B, classes)`` for RGB pixels ``(B, 3, H, W)`` in 0..255."""
        return self.body(self.normalize(pixels))

    def prepared(
        self, device: torch.device, *, redirect_relu: bool = False, dtype: torch.dtype | None = None
    ) -> Network:
        """A copy made for fast inference on ``device``; this network is left unchanged.

        Batch norms are folded into their convolutions (any submodule with a
        ``fold_batch_norm`` method); the preprocessing is folded into the first convolution
        (the body's ``stem``, see :meth:`_fold_normalize`); a ReLU that feeds a max-pool
        moves after it (the body's ``relu_after_pool``: max commutes with ReLU, so the result
        is the same and ReLU touches a quarter of the values); stem convolutions are
        rewritten and max-pools compute their gradient on two threads (see
        :mod:`inceptionism.models.fast`); parameters are frozen and
        channels-last. With ``redirect_relu``, ``nn.ReLU`` modules become
        :class:`RedirectedReLU`. With ``dtype`` (the autocast dtype the copy will run under),
        parameters are stored in it, so autocast need not cast every weight at every step.

        Tapping the copy gives the same activations as tapping this network.
        """
        copy = deepcopy(self)
        for module in copy.modules():
            if hasattr(module, "fold_batch_norm"):
                module.fold_batch_norm()
        if not redirect_relu:  # a redirected ReLU must stay where the unit it redirects is
            copy._rectify_after_pooling()
        for module in list(copy.modules()):
            for name, child in module.named_children():
                faster = (
                    RedirectedReLU() if redirect_relu and type(child) is nn.ReLU else faster_pool(faster_conv(child))
                )
                if faster is not child:
                    setattr(module, name, faster)
        copy._fold_normalize()
        copy.eval().requires_grad_(False)
        copy.to(device=device, memory_format=torch.channels_last)
        if dtype is not None:
            for parameter in copy.parameters():
                parameter.data = parameter.data.to(dtype)
        return copy

    def _rectify_after_pooling(self) -> None:
        """Move each ReLU that feeds a max-pool after the pool (for :meth:`prepared`)."""
        for pool, sources, *blocks in getattr(self.body, "relu_after_pool", ()):
            # Blocks named beside the sources (a concatenation of them) give pre-activations too.
            self.pre_relu_layers |= set(*blocks)
            for source in sources:
                self.body.get_submodule(source).relu = nn.Identity()
                # The source and the blocks it ends (a branch, an inception block) now give
                # pre-activations: their taps rectify what they capture.
                parts = source.split(".")
                self.pre_relu_layers |= {".".join(parts[:end]) for end in range(1, len(parts) + 1)}
            parent, _, name = pool.rpartition(".")
            owner = self.body.get_submodule(parent)
            setattr(owner, name, nn.Sequential(getattr(owner, name), nn.ReLU()))

    def _fold_normalize(self) -> None:
        """Fold the preprocessing into the body's first convolution (for :meth:`prepared`).

        Exact for an unpadded convolution, and for a padded one rewritten as
        :class:`SpaceToDepthConv2d`, whose border is then filled with the pixel values that
        normalise to 0. Other stems keep the separate preprocessing.
        """
        stem = self.body.get_submodule(getattr(self.body, "stem", ""))
        normalize = self.normalize
        unpadded = type(stem) is nn.Conv2d and not any(stem.padding)
        if not isinstance(normalize, Normalize) or not (unpadded or isinstance(stem, SpaceToDepthConv2d)):
            return
        weight = stem.weight.detach()
        # A space-to-depth kernel has 4 channels (a 2x2 block) per input channel.
        group = weight.shape[1] // 3
        gain, offset = (t.flatten().repeat_interleave(group)[:, None, None] for t in (normalize.gain, normalize.offset))
        # conv(x * gain - offset) == conv'(x) with the gain in the kernel and the offset in the bias.
        bias = -(weight * offset).sum((1, 2, 3))
        if stem.bias is not None:
            bias += stem.bias.detach()
        weight = weight * gain
        if normalize.flip:  # the kernel reads RGB pixels now
            weight = weight.unflatten(1, (3, group)).flip(1).flatten(1, 2)
        stem.weight = nn.Parameter(weight, requires_grad=False)
        stem.bias = nn.Parameter(bias, requires_grad=False)
        if isinstance(stem, SpaceToDepthConv2d):
            fill = (normalize.offset / normalize.gain).view(-1)
            stem.fill = fill.flip(0) if normalize.flip else fill
        self.normalize = nn.Identity()

    def check_layers(self, names: Collection[str]) -> None:
        """Raise :class:`~inceptionism.errors.UnknownNameError` for a name that is not a layer."""
        for name in names:
            if name not in self.layers and name not in self.aliases:
                raise unknown_name(
                    "layer", name, self.layers, f"inceptionism layers --model {self.name}", where=self.name
                )

    @contextmanager
    def tap(self, layers: Collection[str]) -> Iterator[Callable[[Tensor], dict[str, Tensor]]]:
        """Capture the outputs of ``layers``; the forward stops once all are captured.

        Hooks live only inside the ``with`` block, so the network is left as it was. A tap
        sees only the forward passes of the thread that calls its function: threads may
        dream with the same network at once, each through a tap of its own.

        Args:
            layers: layer names (see :attr:`layers`).

        Yields:
            A function mapping pixels ``(B, 3, H, W)`` to ``{layer: activation (B, C, h, w)}``
            (``"logits"`` maps to ``(B, classes)``, ``"input"`` to the pixels themselves).
        """
        wanted = list(dict.fromkeys(layers))
        self.check_layers(wanted)
        # What each name reads: "classes" and the aliases name other layers, "input" needs no forward pass.
        source = {name: self.aliases.get(name, name) for name in wanted}
        source = {name: self.class_layer if layer == CLASSES else layer for name, layer in source.items()}
        fixed = sorted({self.aliases.get(name, name) for name in wanted} & self.fixed_layers)
        hooked = {source[name] for name in wanted} - {INPUT, LOGITS}
        need_forward = bool(hooked) or LOGITS in source.values()
        # A layer called again later in the pass is read at its last call: the pass runs to the end.
        need_full_forward = LOGITS in source.values() or bool(hooked & self.repeated_layers)
        captured: dict[str, Tensor] = {}
        caller = {"thread": threading.get_ident()}

        def capture(name: str, _module: nn.Module, _inputs: object, output: Tensor) -> None:
            if threading.get_ident() != caller["thread"]:
                return  # another thread's forward pass through the same network
            captured[name] = output.relu() if name in self.pre_relu_layers else output
            if not need_full_forward and len(captured) == len(hooked):
                raise _StopForward

        handles = [
            self.body.get_submodule(name).register_forward_hook(functools.partial(capture, name)) for name in hooked
        ]

        def extract(pixels: Tensor) -> dict[str, Tensor]:
            captured.clear()
            caller["thread"] = threading.get_ident()
            if need_forward and (logits := self._forward_to_taps(pixels, fixed)) is not None:
                captured[LOGITS] = logits
            captured[INPUT] = pixels
            return {name: captured[source[name]] for name in wanted}

        try:
            yield extract
        finally:
            for handle in handles:
                handle.remove()

    def _forward_to_taps(self, pixels: Tensor, fixed: Sequence[str]) -> Tensor | None:
        """The logits, or ``None`` where the taps stopped the forward pass once they had all they need.

        A failure in a layer of ``fixed`` size (a head that takes only the input size) says so in one line.
        """
        try:
            return self(pixels)
        except _StopForward:
            return None
        except RuntimeError:
            if not fixed:
                raise
            raise self._fixed_size_error(fixed[0], pixels) from None

    def _fixed_size_error(self, layer: str, pixels: Tensor) -> InvalidParameterError:
        height, width = pixels.shape[-2:]
        return InvalidParameterError(
            f"layer {layer} of {self.name} takes only inputs of about {self.input_size}x{self.input_size} px "
            f"(its head has a fixed size), got {width}x{height}; dream on a layer before it "
            f"(inceptionism layers --model {self.name} marks them)",
            argument="layers",
        )

    @functools.cached_property
    def layer_channels(self) -> Mapping[str, int]:
        """Channel count of every layer, from a forward pass at the minimum size.

        The layers after a head of fixed size are measured at the input size. An alias
        looks up the layer it names; iterating gives each layer once.
        """
        param = next(self.parameters())
        # An inference copy may hold bf16 or fp16 weights; autocast runs it as it runs when dreaming.
        dtype = param.dtype if param.dtype in (torch.bfloat16, torch.float16) else None
        channels: dict[str, int] = {}
        free = [name for name in self.layers if name not in self.fixed_layers]
        for names, side in ((free, self.min_size), (sorted(self.fixed_layers), self.input_size)):
            if not names:
                continue
            probe = torch.zeros(1, 3, side, side, device=param.device)
            with (
                torch.no_grad(),
                self.tap(names) as extract,
                torch.autocast(param.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None),
            ):
                features = extract(probe)
            channels.update({name: int(value.shape[1]) for name, value in features.items()})
        return _Channels(self.aliases, {name: channels[name] for name in self.layers})


class _Channels(dict):
    """Channel counts by layer, in forward order; an alias finds the layer it names."""

    def __init__(self, aliases: Mapping[str, str], *args: object) -> None:
        super().__init__(*args)
        self.aliases = aliases

    def __missing__(self, key: str) -> int:
        if key in self.aliases:
            return self[self.aliases[key]]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or key in self.aliases
