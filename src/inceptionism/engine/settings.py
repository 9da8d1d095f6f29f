"""Dream settings as data: typed, validated once when made, and round-tripped through plain dicts.

What is asked (octaves, steps, a tile size if given) lives here; how it runs on a machine
(device, precision, the tile plan the memory budget leads to) is decided by the
:class:`~inceptionism.engine.dreamer.Dreamer` and recorded beside it. Settings are frozen,
picklable and JSON-safe through :meth:`DreamSettings.to_dict`, so they travel to files, over
HTTP and to other processes unchanged.

>>> settings = DreamSettings.create("deep", steps=5)
>>> settings.octaves, settings.steps, settings.lap_levels
(6, 5, 4)
>>> DreamSettings.from_dict(settings.to_dict()) == settings
True
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inceptionism.engine.options import FOURIER_STEPS, OCTAVE_STEPS, OPTIONS, SIDE_LIMIT
from inceptionism.engine.presets import PRESETS
from inceptionism.engine.schedule import Schedule
from inceptionism.errors import InvalidParameterError, closest

NOISE_HAS_NO_IMAGE = "mask and keep_colors work on an input image; noise has none"
IMAGE_OR_NOISE = "give an input image or noise, not both"
RECORD_ONLY = ("version", "input", "size", "guide", "mask", "objective", "model_sha256", "run")
"""Keys a dream records beside its settings: information about the run, not options."""


def _default(name: str) -> Any:
    return OPTIONS[name].default


@dataclass(frozen=True)
class DreamSettings:
    """Every option of a dream (see :data:`~inceptionism.engine.options.OPTIONS` for bounds and help).

    Made with keywords (``DreamSettings(octaves=5)``), from a preset
    (:meth:`create`) or from recorded parameters (:meth:`from_dict`); every value is
    checked when the object is made and stored in one form (lists become tuples, a noise
    size ``"64x48"`` becomes ``(64, 48)``). ``steps`` left at ``None`` becomes 10 per octave,
    or 256 in total for Fourier noise; ``param`` left at ``None`` becomes ``"fourier"`` for
    noise.

    Raises:
        InvalidParameterError: for the first bad value, naming it and the allowed range.
        UnknownNameError: for an unknown preset.
    """

    preset: str | None = _default("preset")
    model: str = _default("model")
    weights: str = _default("weights")
    mean: tuple[float, float, float] | None = _default("mean")
    std: tuple[float, float, float] | None = _default("std")
    channel_order: str | None = _default("channel_order")
    value_range: str | None = _default("value_range")
    input_size: int | None = _default("input_size")
    labels_file: str | None = _default("labels_file")
    layers: tuple[str, ...] = _default("layers")
    classes: tuple[str, ...] = _default("classes")
    loss: str = _default("loss")
    noise: tuple[int, int] | None = _default("noise")
    param: str | None = _default("param")
    octaves: int = _default("octaves")
    octave_scale: float = _default("octave_scale")
    octave_sizes: tuple[int, ...] | None = _default("octave_sizes")
    steps: int | None = _default("steps")
    step_size: float = _default("step_size")
    jitter: int = _default("jitter")
    random_scale: float = _default("random_scale")
    random_rotate: float = _default("random_rotate")
    lap_levels: int = _default("lap_levels")
    smooth: float = _default("smooth")
    tv: float = _default("tv")
    keep_colors: bool = _default("keep_colors")
    tile: int | None = _default("tile")
    memory_budget: int | None = _default("memory_budget")
    lr: float = _default("lr")
    seed: int | None = _default("seed")
    max_size: int | None = _default("max_size")
    device: str = _default("device")
    precision: str = _default("precision")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, OPTIONS[field.name].check(field.name, getattr(self, field.name)))
        if self.noise is None:
            if self.param is not None:
                raise InvalidParameterError(
                    "param chooses how noise is optimised; it needs noise, e.g. noise='512x512'", argument="param"
                )
        else:
            if self.keep_colors:
                raise InvalidParameterError(NOISE_HAS_NO_IMAGE, argument="keep_colors")
            limit = self.max_size or SIDE_LIMIT
            if max(self.noise) > limit:
                raise InvalidParameterError(
                    f"noise size {self.noise[0]}x{self.noise[1]} is larger than max_size {limit}; "
                    f"give sides up to {limit} or raise max_size (at most {SIDE_LIMIT})",
                    argument="noise",
                )
            if self.param is None:
                object.__setattr__(self, "param", "fourier")
        if self.octave_sizes is not None:
            if self.mode == "fourier":
                raise InvalidParameterError("octave_sizes is for dreams in octaves; Fourier noise has none "
                                            "(give param='pixel')", argument="octave_sizes")  # fmt: skip
            object.__setattr__(self, "octaves", len(self.octave_sizes))
        if self.steps is None:
            object.__setattr__(self, "steps", FOURIER_STEPS if self.mode == "fourier" else OCTAVE_STEPS)

    @classmethod
    def create(cls, preset: str | None = None, **options: Any) -> DreamSettings:
        """The defaults, overridden by ``preset``'s options, overridden by the ``options`` given.

        ``None`` means "not given", except for the options where it is a value of its own
        (``max_size=None``: no scaling; ``weights=None``: random).

        >>> DreamSettings.create("deep", steps=5, octaves=None).octaves
        6
        """
        return cls(**_composed({}, preset, options, "DreamSettings.create()"))

    def updated(self, preset: str | None = None, **options: Any) -> DreamSettings:
        """These settings, overridden by ``preset``'s options, overridden by the ``options`` given.

        ``None`` means "not given", as in :meth:`create`.

        >>> DreamSettings(octaves=2).updated("subtle", steps=None).steps
        6
        """
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return type(self)(**_composed(values, preset, options, "DreamSettings.updated()"))

    def replace(self, **changes: Any) -> DreamSettings:
        """A copy with ``changes`` (``None`` included), checked like a new object.

        >>> DreamSettings().replace(octaves=2).octaves
        2
        """
        check_names(changes, "DreamSettings.replace()")
        return dataclasses.replace(self, **changes)

    @property
    def mode(self) -> str:
        """``"image"`` (dream a photo), ``"pixel"`` (noise, with octaves) or ``"fourier"`` (noise, Adam)."""
        return "image" if self.noise is None else str(self.param)

    def schedule(self, *, tile: int | None = None, tile_batch: int = 1) -> Schedule:
        """The engine's schedule for these settings, run with the tile plan ``tile`` x ``tile_batch``."""
        return Schedule(
            octaves=self.octaves,
            octave_scale=self.octave_scale,
            octave_sizes=self.octave_sizes,
            steps=self.steps,
            step_size=self.step_size,
            jitter=self.jitter,
            random_scale=self.random_scale,
            random_rotate=self.random_rotate,
            lap_levels=self.lap_levels,
            smooth=self.smooth,
            tv=self.tv,
            keep_colors=self.keep_colors,
            tile=tile,
            tile_batch=tile_batch,
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-safe data: what a dream records in its image.

        Options left at a default of ``None`` are left out; :meth:`from_dict` rebuilds the
        same settings from the result.

        >>> DreamSettings(noise=(64, 48)).to_dict()["noise"]
        '64x48'
        """
        data: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and OPTIONS[field.name].default is None:
                continue
            if field.name == "noise":
                value = f"{value[0]}x{value[1]}"
            data[field.name] = list(value) if isinstance(value, tuple) else value
        return data

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DreamSettings:
        """Rebuild settings from :meth:`to_dict`'s output or from a dream's recorded parameters.

        The keys a dream records as information (its version, input name, size, the
        device it ran on) are ignored; any other unknown key is refused.

        Raises:
            InvalidParameterError: an unknown key, a bad value, or parameters of a dream
                whose objective was a Python object (it cannot be rebuilt from text).
        """
        if not isinstance(data, Mapping):
            raise InvalidParameterError(f"settings must be a mapping of option names to values, got {data!r}")
        if data.get("objective") is not None:
            raise InvalidParameterError(
                f"these parameters come from a dream with a Python objective ({data['objective']}), "
                "which cannot be rebuilt from text; pass the objective again"
            )
        options = {key: value for key, value in data.items() if key not in RECORD_ONLY}
        check_names(options, "the settings")
        return cls(**options)


def _composed(values: dict[str, Any], preset: str | None, options: Mapping[str, Any], where: str) -> dict[str, Any]:
    check_names(options, where)
    values = dict(values)
    if preset is not None:
        OPTIONS["preset"].check("preset", preset)
        values.update(PRESETS[preset].options, preset=preset)
    values.update({key: value for key, value in options.items() if value is not None or OPTIONS[key].none_is_a_value})
    return values


def check_start(settings: DreamSettings, *, image: bool, mask: bool = False, only: str | None = None) -> None:
    """Refuse a dream that cannot start: an input image and noise, a mask on noise, noise where only input goes.

    One check and one message each, for every render, the command line and the studio.

    Args:
        settings: the dream's settings (with ``noise``, it starts from noise).
        image: whether an input image is given.
        mask: whether a mask is given.
        only: for a render that dreams its input only, what it dreams (``"a batch dreams
            photos"``): noise is refused.

    >>> check_start(DreamSettings(noise=(64, 64)), image=True)
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: give an input image or noise, not both
    """
    if settings.noise is None:
        return
    if only is not None:
        preset = PRESETS.get(settings.preset) if settings.preset else None
        if preset is not None and "noise" in preset.options:
            raise InvalidParameterError(
                f"{only}; preset {settings.preset} starts from noise; give another preset", argument="preset"
            )
        raise InvalidParameterError(f"{only}; noise does not apply", argument="noise")
    if image:
        raise InvalidParameterError(IMAGE_OR_NOISE, argument="noise")
    if mask:
        raise InvalidParameterError(NOISE_HAS_NO_IMAGE, argument="mask")


def check_still(settings: DreamSettings, what: str) -> None:
    """Refuse the options only a still dream takes in a zoom or a video (``what``)."""
    if settings.octave_sizes is not None:
        raise InvalidParameterError(
            f"octave_sizes is for still dreams (dream, batch); a {what} scales its frames with octaves and "
            "octave_scale",
            argument="octave_sizes",
        )


def check_names(options: Mapping[str, Any], where: str) -> None:
    """Refuse a key that is no option, suggesting the closest (catches misspelt options).

    >>> check_names({"octave": 3}, "dream()")
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: dream() got an unknown option 'octave'; did you mean 'octaves'?
    """
    for name in options:
        if name in RECORD_ONLY:
            raise InvalidParameterError(
                f"{where} got {name!r}, which a dream records as information, not an option; to dream with "
                "recorded parameters, pass settings=DreamSettings.from_dict(params)"
            )
        if name not in OPTIONS:
            close = closest(str(name), list(OPTIONS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(f"{where} got an unknown option {name!r}{hint}")
