"""Checking a dream before anything is prepared: names, channels, classes, tiles, sizes, guide and mask.

:func:`check_inputs` reads only the network's description (its layers, their channels, its
labels, its smallest input): it builds no inference copy, extracts no feature and runs
nothing, so a web server checks a submission at once, in any thread, and a command checks
everything before it draws a progress bar or writes a file. The
:class:`~inceptionism.engine.dreamer.Dreamer` calls it first, so a check that passes here
passes there (diffusers' ``check_inputs`` is the model).

>>> from inceptionism.models import shared_model
>>> check_inputs(DreamSettings(), shared_model("squeezenet1_1"), size=(160, 106)).layers
('fire7',)
"""

from __future__ import annotations

from inceptionism.engine.ranking import check_ranked, has_ranked
from inceptionism.engine.runtime import resolve_device, resolve_precision
from inceptionism.engine.schedule import check_size, check_tile
from inceptionism.engine.settings import NOISE_HAS_NO_IMAGE, DreamSettings
from inceptionism.errors import ImageError, InvalidParameterError
from inceptionism.models.network import Network
from inceptionism.objectives import Objective, layer, parse_class_spec, split_layer_spec
from inceptionism.objectives.specs import parse_layer_spec, ranked_spec


def check_inputs(
    settings: DreamSettings,
    net: Network,
    *,
    objective: Objective | None = None,
    guide: tuple[int, int] | None = None,
    mask: bool = False,
    size: tuple[int, int] | None = None,
) -> DreamSettings:
    """Refuse, in one line, a dream that could not run; return its settings resolved.

    Args:
        settings: what is asked.
        net: the network (only its description is read).
        objective: an objective object dreamed besides the settings' layers and classes.
        guide: the guide's ``(width, height)`` as it will be read, if there is one.
        mask: whether there is a mask.
        size: the ``(width, height)`` of the frame to dream, if known (for noise: the noise's).

    Returns:
        ``settings`` with the layers and classes dreamed: the model's default layer if
        neither layers nor classes nor an objective were given, and each class by its label
        (``"954=2"`` is ``"banana=2"``).

    Raises:
        InceptionismError: a bad name, channel, class, tile, device, guide or size.
    """
    if settings.noise is not None and mask:
        raise InvalidParameterError(NOISE_HAS_NO_IMAGE, argument="mask")
    if settings.noise is not None and has_ranked(settings.layers):
        raise InvalidParameterError("strong:N and weak:N rank channels on the input photo; noise has none",
                                    argument="layers")  # fmt: skip
    if objective is not None and not isinstance(objective, Objective):
        raise InvalidParameterError(f"objective must be an Objective, got {type(objective).__name__}")
    resolve_precision(settings.precision, resolve_device(settings.device))
    layers = settings.layers or (() if settings.classes or objective else (net.default_layer,))
    for spec in layers:
        name, channels, _, _ = split_layer_spec(spec)
        layer(name, channels).validate(net)  # a neuron's place needs the frame; its channel is checked now
        check_ranked(spec, net)
        if split_layer_spec(spec)[2] is not None and (settings.random_scale or settings.random_rotate):
            raise InvalidParameterError(f"the neuron {spec!r} has a place in the image; random_scale and "
                                        "random_rotate would move it: use jitter only", argument="layers")  # fmt: skip
    classes = tuple(_checked_class(spec, net) for spec in settings.classes)
    check_tile(net, settings.tile)
    if guide is not None:
        _check_guide(layers, guide, objective, net)
    if objective is not None:
        objective.validate(net)
    resolved = settings.replace(layers=tuple(layers), classes=classes)
    if size is not None or settings.noise is not None:
        check_frame(resolved, net, size)
    return resolved


def _checked_class(spec: str, net: Network) -> str:
    """The class spec by its label, after checking the class exists in ``net``."""
    term = parse_class_spec(spec, net.labels)
    term.validate(net)
    return str(term).removeprefix("class ")


def _check_guide(layers: tuple[str, ...], guide: tuple[int, int], objective: Objective | None, net: Network) -> None:
    if objective is not None:
        raise InvalidParameterError("a guide works on layer names, not on objectives", argument="guide")
    if not layers:
        raise InvalidParameterError("a guide needs layers to match on (give layers)", argument="guide")
    for spec in layers:
        _, channels, at, _ = split_layer_spec(spec)
        if channels is not None or at is not None or ranked_spec(spec) is not None:
            raise InvalidParameterError(
                f"a guide matches whole layers; drop the channels from {spec!r}", argument="layers"
            )
    if min(guide) < net.min_size:
        raise ImageError(f"guide image is {guide[0]}x{guide[1]} px, too small for {net.name}", argument="guide")


def check_frame(settings: DreamSettings, net: Network, size: tuple[int, int] | None = None) -> None:
    """Refuse a frame of ``size`` ``(width, height)`` (``None``: the settings' noise) that could not be dreamed.

    A neuron placed outside it, too small for the network at the smallest octave, over the
    side limit, or too many tiles;
    noise dreamed in Fourier space only needs the network's smallest input (its memory is
    checked when the Dreamer is prepared: it is measured on the inference copy).
    """
    size = size or settings.noise
    if size is None:
        raise InvalidParameterError("give the size of the frame to check")
    width, height = size
    for spec in settings.layers:  # a neuron's place, now that the frame's size is known
        if split_layer_spec(spec)[2] is not None:
            parse_layer_spec(spec, image_size=size)
    if settings.mode == "fourier":
        if min(width, height) < net.min_size:
            raise ImageError(
                f"noise is {width}x{height} px, too small for {net.name}: "
                f"it needs at least {net.min_size}x{net.min_size} px",
                argument="noise",
            )
        return
    check_size(net, settings.schedule(tile=settings.tile), height, width)
