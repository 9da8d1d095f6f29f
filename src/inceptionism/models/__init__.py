"""Networks to dream with: the registry, weights and preprocessing that travel with them.

>>> from inceptionism.models import get_model, list_models
>>> "squeezenet1_1" in list_models()
True

Any Caffe classification network is one too: ``get_model("caffe:deploy.prototxt", weights="net.caffemodel")``
(see :mod:`inceptionism.models.caffe`).
"""

from inceptionism.models.imagenet import imagenet_classes, imagenet_wnids
from inceptionism.models.network import CLASSES, INPUT, LOGITS, PSEUDO_LAYERS, Network, Preprocessing
from inceptionism.models.registry import (
    ModelEntry,
    ModelWeights,
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
    "ModelWeights",
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
