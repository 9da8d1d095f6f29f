"""Every dream option declared once: its default, its bounds as data, its help line.

:class:`~inceptionism.engine.settings.DreamSettings` takes its fields' defaults and checks
from here, and so do the engine's :class:`~inceptionism.engine.schedule.Schedule`, the command
line (one flag per option, its click type and ``--help`` bounds generated), the studio's
``/api/options``, its JSON schema and its inputs, and the README's option table (checked by a
test). The zoom, video, atlas, batch, classify and server options are :class:`Option` tables
too. Every option that costs memory or time has an upper bound, so that no value a user or a
web form passes can exhaust the machine. The one reading of a weights choice and of the seeds
that follow a seed live here as well.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inceptionism.checks import check_choice, check_float, check_int
from inceptionism.engine.pixels import PIXEL_MAX
from inceptionism.engine.presets import PRESETS
from inceptionism.engine.runtime import PRECISIONS, check_device_name
from inceptionism.errors import InvalidParameterError, unknown_name
from inceptionism.objectives.losses import DEFAULT_LOSS, LOSS_NAMES
from inceptionism.objectives.specs import split_class_spec, split_layer_spec

SIDE_LIMIT = 8192
"""Longest side in pixels of any image dreamed (8K); ``max_size`` and noise sizes stay within it."""
SEED_LIMIT = 2**63 - 1
SPEC_LIMIT = 64
"""Layer specs, and class specs, one dream may sum."""
SPEC_LENGTH = 1000
PATH_LENGTH = 4096
"""Longest model name or file path an option takes."""
WEIGHTS_WORDS = ("default", "random")
"""The weights that are no file: the published ones and a random initialisation."""
PARAMS = ("fourier", "pixel")
OCTAVE_LIMIT = 16
CHANNEL_ORDERS = ("RGB", "BGR")
VALUE_RANGES = ("0-1", "0-255")
CONVENTION_OPTIONS = ("mean", "std", "channel_order", "value_range", "input_size")
"""How a network from outside takes its pixels (see :class:`~inceptionism.models.imported.Convention`)."""
FOURIER_STEPS = 256
OCTAVE_STEPS = 10


@dataclass(frozen=True)
class Option:
    """One option, declared once: the CLI flag, the web form, the API schema and the check derive from it.

    Attributes:
        name: the keyword of :func:`inceptionism.dream` (or of the render that takes it) and the
            field of its settings.
        default: its value when not given.
        help: one plain-text line for ``--help``, ``/api/options`` and the web form, without the
            bounds (``--help`` adds them from ``minimum`` and ``maximum``).
        parse: ``(name, value) -> value`` for a text form of its own (a noise size ``"64x48"``
            becomes ``(64, 48)``); raises a one-line error. Without it the check is made from
            ``kind``, the bounds and ``choices``.
        minimum: the least value allowed (of each number, for a pair like ``shift``).
        maximum: the largest value allowed.
        open_below: whether ``minimum`` itself is refused (``octave_scale`` > 1).
        choices: the values allowed, for an option that takes one of a few words.
        unit: what the number counts (``px``, ``MB``, ``s``), shown after the bounds.
        typical: the range a slider spans in the studio, where the bounds are far wider than
            what dreams use (``steps`` 1..4096, most dreams 1..50).
        increment: how far the studio's input moves in one step (default: 1 for an integer,
            any for a float).
        shown_default: how ``--help`` and the README show the default, if not ``str(default)``.
        metavar: what the command line shows for the value.
        flags: the command line's spellings, the main one first (default: from the name).
        kind: the type of the value (``str``, ``int``, ``float``, ``bool``), or of each number of a
            text form of numbers (``int`` for a noise size ``WxH``).
        repeatable: whether the command line takes the flag several times (a list).
        none_is_a_value: whether ``None`` is a value of its own (``max_size=None``: no scaling),
            not "not given".
    """

    name: str
    default: Any
    help: str
    parse: Callable[[str, Any], Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    open_below: bool = False
    choices: tuple[str, ...] = ()
    unit: str = ""
    typical: tuple[float, float] | None = None
    increment: float | None = None
    shown_default: str | None = None
    metavar: str | None = None
    kind: Any = str
    repeatable: bool = False
    none_is_a_value: bool = False
    flags: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """The command-line flag: ``flags[0]`` if given, else ``--octave-scale`` for ``octave_scale``."""
        return self.flags[0] if self.flags else "--" + self.name.replace("_", "-")

    @property
    def default_text(self) -> str:
        """The default as people read it."""
        return self.shown_default if self.shown_default is not None else str(self.default)

    @property
    def numeric(self) -> bool:
        """Whether the value is one number (an ``int`` or a ``float``)."""
        return self.kind in (int, float) and self.parse is None

    @property
    def bounds(self) -> str:
        """The bounds as ``--help`` shows them: ``1..16``, ``> 1 and <= 8``, ``0..1024 px``; empty if none.

        >>> OPTIONS["jitter"].bounds, OPTIONS["octave_scale"].bounds
        ('0..1024 px', '> 1 and <= 8')
        """
        if self.minimum is None or self.maximum is None:
            return ""
        low, high = shown_number(self.minimum), shown_number(self.maximum)
        text = f"> {low} and <= {high}" if self.open_below else f"{low}..{high}"
        return f"{text} {self.unit}".rstrip()

    def check(self, name: str, value: Any) -> Any:
        """``value`` in its stored form, or a one-line ``InvalidParameterError`` naming ``name`` and the bounds.

        >>> OPTIONS["octaves"].check("octaves", 17)
        Traceback (most recent call last):
        ...
        inceptionism.errors.InvalidParameterError: octaves must be in 1..16, got 17
        """
        if self.parse is not None:
            return self.parse(name, value)
        if value is None and (self.default is None or self.none_is_a_value):
            return None
        if self.choices:
            check_choice(name, value, self.choices)
        elif self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidParameterError(f"{name} must be True or False, got {value!r}", argument=name)
        elif self.kind is int:
            check_int(name, value, int(self.minimum), None if self.maximum is None else int(self.maximum))
        elif self.kind is float:
            check_float(name, value, self.minimum, self.maximum, open_below=self.open_below)
            return float(value)
        return value


def shown_number(value: float) -> str:
    """A bound as people read it: ``8.0`` as ``8``, ``1e6`` as ``1000000``, ``0.05`` as ``0.05``.

    >>> shown_number(8.0), shown_number(1e6), shown_number(0.05)
    ('8', '1000000', '0.05')
    """
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """``check``, letting ``None`` through."""

    def optional(name: str, value: Any) -> Any:
        return None if value is None else check(name, value)

    return optional


def _text(limit: int) -> Callable[[str, Any], str]:
    def text(name: str, value: Any) -> str:
        if not isinstance(value, str) or not value or len(value) > limit:
            raise InvalidParameterError(
                f"{name} must be a name of 1..{limit} characters, got {str(value)[:80]!r}", argument=name
            )
        return value

    return text


def _preset(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in PRESETS:
        raise unknown_name("preset", str(value), PRESETS, "inceptionism presets", argument=name)
    return value


def _specs(split: Callable[[str], object], allow_int: bool) -> Callable[[str, Any], tuple[str, ...]]:
    """A spec or a list of specs, each checked by ``split``, as a tuple of strings."""

    def specs(name: str, value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value
        if not isinstance(items, Sequence) or isinstance(items, bytes):
            raise InvalidParameterError(f"{name} must be a list of specs, got {value!r}", argument=name)
        if len(items) > SPEC_LIMIT:
            raise InvalidParameterError(f"{name} takes at most {SPEC_LIMIT} specs, got {len(items)}", argument=name)
        result = []
        for item in items:
            if allow_int and isinstance(item, int) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or len(item) > SPEC_LENGTH:
                raise InvalidParameterError(
                    f"{name} must hold spec strings of at most {SPEC_LENGTH} characters, got {str(item)[:80]!r}",
                    argument=name,
                )
            try:
                split(item)
            except InvalidParameterError as error:
                raise InvalidParameterError(str(error), argument=name) from None
            result.append(item)
        return tuple(result)

    return specs


def parse_octave_sizes(name: str, value: Any) -> tuple[int, ...]:
    """``"256,512,1024"`` (or numbers) as long sides in pixels, rising, each in 8..SIDE_LIMIT, at most 16.

    >>> parse_octave_sizes("octave_sizes", "256, 512,1024")
    (256, 512, 1024)
    """
    parts = value.split(",") if isinstance(value, str) else value
    try:
        sides = tuple(int(str(part).strip()) for part in parts)
    except (TypeError, ValueError):
        sides = ()
    rising = all(a < b for a, b in itertools.pairwise(sides))
    if not 1 <= len(sides) <= OCTAVE_LIMIT or not rising or not all(8 <= side <= SIDE_LIMIT for side in sides):
        raise InvalidParameterError(
            f"{name} must be 1..{OCTAVE_LIMIT} rising long sides in 8..{SIDE_LIMIT} px like 256,512,1024, "
            f"got {str(value)[:80]!r}",
            argument=name,
        )
    return sides


def parse_size(name: str, value: Any) -> tuple[int, int]:
    """``"640x480"`` or ``(640, 480)`` to ``(width, height)``, each side in ``1..SIDE_LIMIT``.

    >>> parse_size("noise", "640x480")
    (640, 480)
    """
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,9})\s*[xX]\s*(\d{1,9})\s*", value)
        if not match:
            raise InvalidParameterError(f"{name} size must be WIDTHxHEIGHT like 512x512, got {value!r}", argument=name)
        value = (int(match[1]), int(match[2]))
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise InvalidParameterError(
            f"{name} size must be two positive integers (width, height), got {value!r}", argument=name
        )
    if max(value) > SIDE_LIMIT:
        raise InvalidParameterError(
            f"{name} size {value[0]}x{value[1]} is too large: each side must be in 1..{SIDE_LIMIT}", argument=name
        )
    return int(value[0]), int(value[1])


def _device(name: str, value: Any) -> str:
    check_device_name(value)
    return value


def parse_weights(name: str, value: Any) -> str:
    """The one spelling of a weights choice: ``default``, ``random`` or a file path, as text.

    ``None`` and ``none`` (the spelling of earlier versions) are ``random``; a path is its text.
    The command line, the settings, the studio and the atlas all read weights through this.

    >>> parse_weights("weights", None), parse_weights("weights", "none"), parse_weights("weights", "net.pt")
    ('random', 'random', 'net.pt')
    """
    if value is None or value == "none":
        return "random"
    if not isinstance(value, str) and isinstance(value, os.PathLike):
        value = os.fspath(value)
    return _text(PATH_LENGTH)(name, value)


def weights_file(weights: str | None) -> str | None:
    """The file ``weights`` names, or ``None`` for the published (``default``) or random weights.

    >>> weights_file("default"), weights_file("random"), weights_file("net.pt")
    (None, None, 'net.pt')
    """
    return None if weights is None or weights in WEIGHTS_WORDS else weights


def seed_plus(seed: int, offset: int) -> int:
    """The seed ``offset`` places after ``seed``, wrapped into ``0..SEED_LIMIT``: frame k of a zoom, row k of a batch.

    Every seed maps to a seed (``SEED_LIMIT`` is one: it wraps to 0 only at the next place).

    >>> seed_plus(7, 2), seed_plus(SEED_LIMIT, 0), seed_plus(SEED_LIMIT, 1)
    (9, 9223372036854775807, 0)
    """
    return (seed + offset) % (SEED_LIMIT + 1)


def _per_channel(example: str, *, positive: bool) -> Callable[[str, Any], tuple[float, float, float]]:
    """A check of three numbers, one per channel in the network's order, each in ``0..PIXEL_MAX``.

    They are given as ``"104,117,123"`` or a sequence; above 0 if ``positive``.
    """
    bounds = f"above 0 and up to {PIXEL_MAX:g}" if positive else f"in 0..{PIXEL_MAX:g}"

    def per_channel(name: str, value: Any) -> tuple[float, float, float]:
        parts = value.split(",") if isinstance(value, str) else value
        try:
            numbers = tuple(float(part) for part in parts)
        except (TypeError, ValueError):
            numbers = ()
        low_ok = (lambda n: n > 0) if positive else (lambda n: n >= 0)
        if len(numbers) != 3 or isinstance(value, bytes) or not all(low_ok(n) and n <= PIXEL_MAX for n in numbers):
            raise InvalidParameterError(
                f"{name} must be three numbers, one per channel in the network's order, {bounds}, like {example}, "
                f"got {str(value)[:80]!r}",
                argument=name,
            )
        return numbers  # type: ignore[return-value]

    return per_channel


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("preset", None, "Named settings (see: inceptionism presets); other options override it.",
               optional(_preset), shown_default="", flags=("--preset", "-p")),
        Option("model", "squeezenet1_1", "Network to use (see: inceptionism models), NAME.pt you trained, a "
               "TorchScript or ONNX file, caffe:PATH/deploy.prototxt, or PATH.py:FUNCTION (runs that file's code).",
               _text(PATH_LENGTH), flags=("--model", "-m")),
        Option("weights", "default", "Published weights, 'random' for random initialisation, or a state dict "
               "or .caffemodel file.", parse_weights, metavar="default|random|FILE", none_is_a_value=True),
        Option("mean", None, "Mean subtracted from the pixels of a caffe:PATH network (B,G,R in 0..255) or of one "
               "from outside (per channel, in its order and value range).", optional(_per_channel("104,117,123",
               positive=False)), minimum=0, maximum=PIXEL_MAX, shown_default="caffe: 104,117,123; outside: "
               "0.485,0.456,0.406", metavar="A,B,C", kind=float),
        Option("std", None, "Divisor of each channel after the mean, for a network from outside.",
               optional(_per_channel("0.229,0.224,0.225", positive=True)), minimum=0, maximum=PIXEL_MAX,
               open_below=True, shown_default="0.229,0.224,0.225", metavar="A,B,C", kind=float),
        Option("channel_order", None, "Channel order a network from outside takes.", choices=CHANNEL_ORDERS,
               shown_default="RGB"),
        Option("value_range", None, "What the pixels of a network from outside span before the mean.",
               choices=VALUE_RANGES, shown_default="0-1"),
        Option("input_size", None, "Side a network from outside classifies at (its layers are probed there).",
               minimum=8, maximum=1024, unit="px", shown_default="224", kind=int),
        Option("labels_file", None, "Class names, one per line ('/a/abbey 0' lines too), for the network's outputs.",
               optional(_text(PATH_LENGTH)), shown_default="the model's", metavar="FILE",
               flags=("--labels-file", "--labels")),
        Option("layers", (), "name[:channels][@x,y][=weight][~loss], repeatable, e.g. fire7:3,12=2, "
               "fire7:12@100,80 (one neuron) or fire5~abs-mean.", _specs(split_layer_spec, False),
               shown_default="model's default", metavar="SPEC", repeatable=True, flags=("--layer", "-l")),
        Option("classes", (), "ImageNet class to dream, by name or index, repeatable, e.g. banana=2 "
               "(see: inceptionism classes).", _specs(split_class_spec, True), shown_default="", metavar="NAME",
               repeatable=True, flags=("--class", "-c")),
        Option("loss", DEFAULT_LOSS, "How a layer's activation is raised: mean-square (DeepDream's), mean, abs-mean "
               "or l2-norm; a layer spec's own ~loss wins.", choices=LOSS_NAMES),
        Option("noise", None, "Start from noise of this size instead of an image (each side up to max-size).",
               optional(parse_size), minimum=1, maximum=SIDE_LIMIT, unit="px", shown_default="", metavar="WxH",
               kind=int),
        Option("param", None, "How noise is optimised: fourier (decorrelated, in Fourier space) or pixel "
               "(plain pixels, with octaves).", choices=PARAMS, shown_default="fourier"),
        Option("octaves", 4, "Number of scales.", minimum=1, maximum=OCTAVE_LIMIT, typical=(1, 8), kind=int),
        Option("octave_scale", 1.4, "Size ratio between scales.", minimum=1.0, maximum=8.0, open_below=True,
               typical=(1.1, 2.0), increment=0.05, kind=float),
        Option("octave_sizes", None, "The long side of each octave, smallest first, in place of octaves and "
               "octave-scale; the last is the dream's size: larger than the photo dreams it larger.",
               optional(parse_octave_sizes), minimum=8, maximum=SIDE_LIMIT, unit="px", shown_default="",
               metavar="A,B,...", kind=int),
        Option("steps", None, "Gradient steps per octave (in total for Fourier noise).", minimum=1, maximum=4096,
               typical=(1, 50), shown_default=f"{OCTAVE_STEPS} (Fourier noise: {FOURIER_STEPS})", kind=int),
        Option("step_size", 1.5, "Step in pixel levels after normalising the gradient.", minimum=0,
               maximum=PIXEL_MAX, open_below=True, typical=(0.1, 4.0), increment=0.1, kind=float),
        Option("jitter", 32, "Largest random shift before each step.", minimum=0, maximum=1024, unit="px",
               typical=(0, 64), kind=int),
        Option("random_scale", 0.0, "Largest random rescaling before each step of a photo's dream, e.g. 0.1 "
               "for 0.9x..1.1x.", minimum=0.0, maximum=0.5, typical=(0.0, 0.2), increment=0.01, shown_default="0 (off)",
               kind=float),
        Option("random_rotate", 0.0, "Largest random rotation before each step of a photo's dream.",
               minimum=0.0, maximum=45.0, unit="degrees", typical=(0.0, 15.0), increment=1.0, shown_default="0 (off)",
               kind=float),
        Option("lap_levels", 0, "Laplacian-pyramid gradient normalisation bands (0: off).", minimum=0, maximum=12,
               shown_default="0 (off)", kind=int),
        Option("smooth", 0.0, "Gaussian smoothing of the gradient, sigma (0: off).", minimum=0, maximum=64.0,
               unit="px", shown_default="0 (off)", kind=float),
        Option("tv", 0.0, "Total-variation weight, relative to the objective (0: off).", minimum=0, maximum=100.0,
               shown_default="0 (off)", kind=float),
        Option("keep_colors", False, "Dream the luminance only; keep the colours.", shown_default="off", kind=bool),
        Option("tile", None, "Gradient in tiles of this side.", minimum=1, maximum=SIDE_LIMIT, unit="px",
               shown_default="when needed", metavar="PX", kind=int),
        Option("memory_budget", None, "Activations one step may use; larger images are tiled.", minimum=1,
               maximum=16384, unit="MB", shown_default="half the memory", metavar="MB", kind=int),
        Option("lr", 0.05, "Learning rate for Fourier noise.", minimum=0, maximum=10.0, open_below=True, kind=float),
        Option("seed", None, "Repeatable result; drawn at random if not given.", minimum=0, maximum=SEED_LIMIT,
               shown_default="random", kind=int),
        Option("max_size", 2048, "Larger inputs are scaled down to this long side.", minimum=1, maximum=SIDE_LIMIT,
               unit="px", kind=int, none_is_a_value=True),
        Option("device", "auto", "auto, cpu, cuda, cuda:N or mps.", _device),
        Option("precision", "auto", "auto (bf16 where the hardware has it), fp32, bf16 or fp16.",
               choices=PRECISIONS),
    )
}  # fmt: skip
"""Every option, in the order the command line and the README show them."""
