"""Networks to dream with: the registry, weights and preprocessing that travel with them.

>>> from inceptionism.models import get_model, list_models
>>> "squeezenet1_1" in list_models()
True

Each model module registers its networks when imported here, as torchvision's do:
:mod:`~inceptionism.models.squeezenet`, :mod:`~inceptionism.models.googlenet` and
:mod:`~inceptionism.models.caffe.bvlc`, in the order :func:`list_models` gives them. A model
can be registered at run time too (:func:`register_model`, with a :class:`WeightsFile`).

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
from inceptionism.models.weights import Weights, WeightsFile

# isort: off
# The model modules, imported for their registrations in the order list_models() gives them.
from inceptionism.models import squeezenet  # noqa: F401
from inceptionism.models import googlenet  # noqa: F401
from inceptionism.models.caffe import bvlc  # noqa: F401
# isort: on

__all__ = [
    "CLASSES",
    "INPUT",
    "LOGITS",
    "PSEUDO_LAYERS",
    "ModelEntry",
    "ModelWeights",
    "Network",
    "Preprocessing",
    "Weights",
    "WeightsFile",
    "get_model",
    "get_model_entry",
    "imagenet_classes",
    "imagenet_wnids",
    "list_models",
    "register_model",
    "shared_model",
]
