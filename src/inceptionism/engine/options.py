"""Every dream option declared once: its default, its bounds, its help line.

:class:`~inceptionism.engine.settings.DreamSettings` takes its fields' defaults and checks
from here, and so do the engine's :class:`~inceptionism.engine.schedule.Schedule`, the command
line (one flag per option, generated) and the README's option table (checked by a test).
Every option that costs memory or time has an upper bound, so that no value a user or a web
form passes can exhaust the machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inceptionism.checks import check_choice, check_float, check_int
from inceptionism.engine.presets import PRESETS
from inceptionism.engine.runtime import PRECISIONS, check_device_name
from inceptionism.errors import InvalidParameterError, unknown_name
from inceptionism.objectives.specs import split_class_spec, split_layer_spec

SIDE_LIMIT = 8192
"""Longest side in pixels of any image dreamed (8K); ``max_size`` and noise sizes stay within it."""
SEED_LIMIT = 2**63 - 1
SPEC_LIMIT = 64
"""Layer specs, and class specs, one dream may sum."""
SPEC_LENGTH = 1000
PARAMS = ("fourier", "pixel")
FOURIER_STEPS = 256
OCTAVE_STEPS = 10


@dataclass(frozen=True)
class Option:
    """One dream option.

    Attributes:
        name: the keyword of :func:`inceptionism.dream` and the field of the settings.
        default: its value when not given.
        help: one plain-text line for ``--help`` and the web form.
        check: ``(name, value) -> value``; raises a one-line error for a bad value and returns
            a good one in its stored form (a noise size ``"64x48"`` becomes ``(64, 48)``).
        shown_default: how ``--help`` and the README show the default, if not ``str(default)``.
        metavar: what the command line shows for the value.
        flags: the command line's spellings, the main one first (default: from the name).
        kind: the command line's type for the value (``str``, ``int``, ``float``, ``bool``,
            or a tuple of choices).
        repeatable: whether the command line takes the flag several times (a list).
        none_is_a_value: whether ``None`` is a value of its own (``max_size=None``: no scaling),
            not "not given".
    """

    name: str
    default: Any
    help: str
    check: Callable[[str, Any], Any]
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


def optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """``check``, letting ``None`` through."""

    def optional(name: str, value: Any) -> Any:
        return None if value is None else check(name, value)

    return optional


def int_between(minimum: int, maximum: int) -> Callable[[str, Any], int]:
    """A check for an int in ``minimum..maximum``."""

    def integer(name: str, value: Any) -> int:
        check_int(name, value, minimum, maximum)
        return value

    return integer


def float_between(minimum: float, maximum: float, *, open_below: bool = False) -> Callable[[str, Any], float]:
    """A check for a finite number in ``minimum..maximum`` (``> minimum`` if ``open_below``), stored as a float."""

    def number(name: str, value: Any) -> float:
        check_float(name, value, minimum, maximum, open_below=open_below)
        return float(value)

    return number


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def choice(name: str, value: Any) -> str:
        check_choice(name, value, choices)
        return value

    return choice


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}", argument=name)
    return value


def _seed(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_LIMIT:
        raise InvalidParameterError(f"{name} must be an integer in 0..{SEED_LIMIT}, got {value!r}", argument=name)
    return value


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


def _weights(name: str, value: Any) -> str:
    if value is None:
        return "random"
    if not isinstance(value, str):
        value = str(value)  # a path
    return _text(4096)(name, value)


def _mean(name: str, value: Any) -> tuple[float, float, float]:
    """``"104,117,123"`` or three numbers as a tuple of floats, each in 0..255."""
    parts = value.split(",") if isinstance(value, str) else value
    try:
        numbers = tuple(float(part) for part in parts)
    except (TypeError, ValueError):
        numbers = ()
    if len(numbers) != 3 or isinstance(value, bytes) or not all(0 <= n <= 255 for n in numbers):
        raise InvalidParameterError(
            f"{name} must be three numbers B,G,R in 0..255 like 104,117,123, got {str(value)[:80]!r}", argument=name
        )
    return numbers  # type: ignore[return-value]


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("preset", None, "Named settings (see: inceptionism presets); other options override it.",
               optional(_preset), shown_default="", flags=("--preset", "-p")),
        Option("model", "squeezenet1_1", "Network to use (see: inceptionism models), or caffe:PATH/deploy.prototxt.",
               _text(4096),
               flags=("--model", "-m")),
        Option("weights", "default", "Published weights, 'random' for random initialisation, or a state dict "
               "or .caffemodel file.", _weights, metavar="default|random|FILE", none_is_a_value=True),
        Option("mean", None, "BGR mean (0..255) a caffe:PATH network's pixels are reduced by.", optional(_mean),
               shown_default="104,117,123", metavar="B,G,R"),
        Option("labels_file", None, "Class names, one per line ('/a/abbey 0' lines too), for the network's outputs.",
               optional(_text(4096)), shown_default="the model's", metavar="FILE",
               flags=("--labels-file", "--labels")),
        Option("layers", (), "name[:channels][@x,y][=weight], repeatable, e.g. fire7:3,12=2 or fire7:12@100,80 "
               "(one neuron).", _specs(split_layer_spec, False), shown_default="model's default", metavar="SPEC",
               repeatable=True, flags=("--layer", "-l")),
        Option("classes", (), "ImageNet class to dream, by name or index, repeatable, e.g. banana=2 "
               "(see: inceptionism classes).", _specs(split_class_spec, True), shown_default="", metavar="NAME",
               repeatable=True, flags=("--class", "-c")),
        Option("noise", None, f"Start from noise of this size instead of an image (sides up to max-size, "
               f"at most {SIDE_LIMIT}).", optional(parse_size), shown_default="", metavar="WxH"),
        Option("param", None, "How noise is optimised: fourier (decorrelated, in Fourier space) or pixel "
               "(plain pixels, with octaves).", optional(_choice(PARAMS)), shown_default="fourier", kind=PARAMS),
        Option("octaves", 4, "Number of scales (1..16).", int_between(1, 16), kind=int),
        Option("octave_scale", 1.4, "Size ratio between scales (> 1, up to 8).",
               float_between(1.0, 8.0, open_below=True), kind=float),
        Option("steps", None, "Gradient steps per octave, 1..4096 (in total for Fourier noise).",
               optional(int_between(1, 4096)), shown_default=f"{OCTAVE_STEPS} (Fourier noise: {FOURIER_STEPS})",
               kind=int),
        Option("step_size", 1.5, "Step in pixel levels (0..255) after normalising the gradient.",
               float_between(0, 255.0, open_below=True), kind=float),
        Option("jitter", 32, "Largest random shift in pixels before each step (0..1024).", int_between(0, 1024),
               kind=int),
        Option("lap_levels", 0, "Laplacian-pyramid gradient normalisation bands (0..12; 0: off).",
               int_between(0, 12), shown_default="0 (off)", kind=int),
        Option("smooth", 0.0, "Gaussian smoothing of the gradient, sigma in px (0..64; 0: off).",
               float_between(0, 64.0), shown_default="0 (off)", kind=float),
        Option("tv", 0.0, "Total-variation weight, relative to the objective (0..100; 0: off).",
               float_between(0, 100.0), shown_default="0 (off)", kind=float),
        Option("keep_colors", False, "Dream the luminance only; keep the colours.", _flag, shown_default="off",
               kind=bool),
        Option("tile", None, f"Gradient in tiles of this many px (up to {SIDE_LIMIT}).",
               optional(int_between(1, SIDE_LIMIT)), shown_default="when needed", metavar="PX", kind=int),
        Option("memory_budget", 512, "Megabytes of activations one step may use (1..16384); larger images are tiled.",
               int_between(1, 16384), metavar="MB", kind=int),
        Option("lr", 0.05, "Learning rate for Fourier noise (up to 10).", float_between(0, 10.0, open_below=True),
               kind=float),
        Option("seed", None, "Repeatable result; drawn at random if not given.", optional(_seed),
               shown_default="random", kind=int),
        Option("max_size", 2048, f"Larger inputs are scaled down to this long side (1..{SIDE_LIMIT}).",
               optional(int_between(1, SIDE_LIMIT)), kind=int, none_is_a_value=True),
        Option("device", "auto", "auto, cpu, cuda, cuda:N or mps.", _device),
        Option("precision", "auto", "auto (bf16 where the hardware has it), fp32, bf16 or fp16.",
               _choice(PRECISIONS), kind=PRECISIONS),
    )
}  # fmt: skip
"""Every option, in the order the command line and the README show them."""
