"""Networks to dream with: the registry, weights and preprocessing that travel with them.

>>> from inceptionism.models import get_model, list_models
>>> "squeezenet1_1" in list_models()
True
"""

from inceptionism.models.imagenet import imagenet_classes, imagenet_wnids
from inceptionism.models.network import CLASSES, INPUT, LOGITS, PSEUDO_LAYERS, Network, Preprocessing
from inceptionism.models.registry import (
    ModelEntry,
    get_model,
    get_model_entry,
    list_models,
    register_model,
    shared_model,
)

__all__ = [
    "CLASSES",
    "INPUT",
    "LOGITS",
    "PSEUDO_LAYERS",
    "ModelEntry",
    "Network",
    "Preprocessing",
    "get_model",
    "get_model_entry",
    "imagenet_classes",
    "imagenet_wnids",
    "list_models",
    "register_model",
    "shared_model",
]
