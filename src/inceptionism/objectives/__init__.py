"""What to maximise: objectives over a dict of layer activations, composable with ``+ - *``.

``base`` holds :class:`Objective`, ``terms`` the layer, neuron, class and guide terms,
``specs`` the text forms (``"fire7:3,12=2"``, ``"banana=2"``).

>>> str(as_objective(["fire7:3,12=2", "fire5"]) + class_logit(954, label="banana"))
'fire7:3,12=2 + fire5 + class banana'
"""

from inceptionism.objectives.base import SHIFT, Features, Objective, mean_square, total
from inceptionism.objectives.specs import (
    CHANNEL_LIMIT,
    as_objective,
    parse_channels,
    parse_class_spec,
    parse_layer_spec,
    split_layer_spec,
)
from inceptionism.objectives.terms import channel_each, class_logit, guided, layer, neuron

__all__ = [
    "CHANNEL_LIMIT",
    "SHIFT",
    "Features",
    "Objective",
    "as_objective",
    "channel_each",
    "class_logit",
    "guided",
    "layer",
    "mean_square",
    "neuron",
    "parse_channels",
    "parse_class_spec",
    "parse_layer_spec",
    "split_layer_spec",
    "total",
]
