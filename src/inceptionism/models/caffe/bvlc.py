"""The GoogLeNet of Caffe's model zoo (``bvlc_googlenet``), the network of the 2015 DeepDream.

This is not torchvision's GoogLeNet: it has LRN after pool1 and conv2 (size 5, alpha 1e-4,
beta 0.75), true 5x5 branches, biases and no batch norm, max-pools that round up, a 3x3
fourth pool, and takes BGR pixels in 0..255 minus a mean. The MIT Places GoogLeNets share
it, with 205 or 365 outputs.

The layers are those of Caffe's ``deploy.prototxt`` with their Caffe names, written here as
data, so no prototxt is needed. One change: the last pooling averages the whole map
(``global_pooling``) where the prototxt averages a 7x7 window; at the 224 px the network
was trained at they are the same, and the head then classifies any size.

The module registers the three: ``bvlc_googlenet`` (ImageNet), ``googlenet_places205`` and
``googlenet_places365``, each with the weights it was published with.
"""

from __future__ import annotations

import functools

from inceptionism.models.caffe.builder import CaffeNet
from inceptionism.models.caffe.prototxt import Message
from inceptionism.models.labels import numbered_labels, read_labels
from inceptionism.models.network import LOGITS, Preprocessing
from inceptionism.models.registry import ModelEntry, register_model
from inceptionism.models.weights import PublishedArchive, PublishedFile, Weights

INPUT_SIZE = 224
# (block, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection)
INCEPTIONS = (
    ("inception_3a", 64, 96, 128, 16, 32, 32),
    ("inception_3b", 128, 128, 192, 32, 96, 64),
    ("inception_4a", 192, 96, 208, 16, 48, 64),
    ("inception_4b", 160, 112, 224, 24, 64, 64),
    ("inception_4c", 128, 128, 256, 24, 64, 64),
    ("inception_4d", 112, 144, 288, 32, 64, 64),
    ("inception_4e", 256, 160, 320, 32, 128, 128),
    ("inception_5a", 256, 160, 320, 32, 128, 128),
    ("inception_5b", 384, 192, 384, 48, 128, 128),
)
POOL_AFTER = {"inception_3b": "pool3/3x3_s2", "inception_4e": "pool4/3x3_s2"}
ALIASES = {
    "conv1": "conv1/7x7_s2",
    "conv2": "conv2/3x3",
    "norm1": "pool1/norm1",
    "norm2": "conv2/norm2",
    **{block.replace("_", ""): f"{block}/output" for block, *_ in INCEPTIONS},
}
"""Simpler names of layers: ``inception4c`` for ``inception_4c/output``, as for torchvision's GoogLeNet."""
DEFAULT_LAYER = "inception_4c/output"


def _layer(name: str, kind: str, bottom: str | list[str], top: str, **params: Message) -> Message:
    bottoms = bottom if isinstance(bottom, list) else [bottom]
    return {"name": [name], "type": [kind], "bottom": bottoms, "top": [top], **{k: [v] for k, v in params.items()}}


def _conv(name: str, bottom: str, outputs: int, kernel: int, *, stride: int = 1, pad: int = 0) -> list[Message]:
    """A convolution and its in-place ReLU (named as in the prototxt: ``conv1/relu_7x7``)."""
    block, _, part = name.rpartition("/")
    conv = {"num_output": [outputs], "kernel_size": [kernel], "stride": [stride], "pad": [pad]}
    return [
        _layer(name, "Convolution", bottom, name, convolution_param=conv),
        _layer(f"{block}/relu_{part}", "ReLU", name, name),
    ]


def _pool(name: str, bottom: str, method: str, kernel: int, stride: int, pad: int = 0) -> Message:
    return _layer(
        name,
        "Pooling",
        bottom,
        name,
        pooling_param={"pool": [method], "kernel_size": [kernel], "stride": [stride], "pad": [pad]},
    )


def _lrn(name: str, bottom: str) -> Message:
    return _layer(name, "LRN", bottom, name, lrn_param={"local_size": [5], "alpha": [1e-4], "beta": [0.75]})


def _inception(block: str, bottom: str, ch1: int, ch3r: int, ch3: int, ch5r: int, ch5: int, proj: int) -> list[Message]:
    return [
        *_conv(f"{block}/1x1", bottom, ch1, 1),
        *_conv(f"{block}/3x3_reduce", bottom, ch3r, 1),
        *_conv(f"{block}/3x3", f"{block}/3x3_reduce", ch3, 3, pad=1),
        *_conv(f"{block}/5x5_reduce", bottom, ch5r, 1),
        *_conv(f"{block}/5x5", f"{block}/5x5_reduce", ch5, 5, pad=2),
        _pool(f"{block}/pool", bottom, "MAX", 3, 1, 1),
        *_conv(f"{block}/pool_proj", f"{block}/pool", proj, 1),
        _layer(
            f"{block}/output",
            "Concat",
            [f"{block}/1x1", f"{block}/3x3", f"{block}/5x5", f"{block}/pool_proj"],
            f"{block}/output",
        ),
    ]


def googlenet_prototxt(classes: int = 1000, *, name: str = "GoogleNet") -> Message:
    """The ``NetParameter`` of Caffe's GoogLeNet with ``classes`` outputs, as parsed prototxt.

    >>> net = googlenet_prototxt(205)
    >>> net["layer"][-2]["inner_product_param"]
    [{'num_output': [205]}]
    """
    layers: list[Message] = [
        {
            "name": ["data"],
            "type": ["Input"],
            "top": ["data"],
            "input_param": [{"shape": [{"dim": [1, 3, INPUT_SIZE, INPUT_SIZE]}]}],
        },
        *_conv("conv1/7x7_s2", "data", 64, 7, stride=2, pad=3),
        _pool("pool1/3x3_s2", "conv1/7x7_s2", "MAX", 3, 2),
        _lrn("pool1/norm1", "pool1/3x3_s2"),
        *_conv("conv2/3x3_reduce", "pool1/norm1", 64, 1),
        *_conv("conv2/3x3", "conv2/3x3_reduce", 192, 3, pad=1),
        _lrn("conv2/norm2", "conv2/3x3"),
        _pool("pool2/3x3_s2", "conv2/norm2", "MAX", 3, 2),
    ]
    bottom = "pool2/3x3_s2"
    for block, *widths in INCEPTIONS:
        layers += _inception(block, bottom, *widths)
        bottom = f"{block}/output"
        if block in POOL_AFTER:
            layers.append(_pool(POOL_AFTER[block], bottom, "MAX", 3, 2))
            bottom = POOL_AFTER[block]
    head = {"pool": ["AVE"], "global_pooling": [True]}
    layers += [
        _layer("pool5/7x7_s1", "Pooling", bottom, "pool5/7x7_s1", pooling_param=head),
        _layer("pool5/drop_7x7_s1", "Dropout", "pool5/7x7_s1", "pool5/7x7_s1", dropout_param={"dropout_ratio": [0.4]}),
        _layer(
            "loss3/classifier",
            "InnerProduct",
            "pool5/7x7_s1",
            "loss3/classifier",
            inner_product_param={"num_output": [classes]},
        ),
        _layer("prob", "Softmax", "loss3/classifier", "prob"),
    ]
    return {"name": [name], "layer": layers}


BVLC_URL = "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel"
BVLC_SHA1 = "405fc5acd08a3bb12de8ee5e23a96bec22f08204"
"""The SHA-1 Caffe's model zoo publishes for ``bvlc_googlenet.caffemodel`` (its ``readme.md``)."""
PLACES205_URL = "http://places.csail.mit.edu/model/googlenet_places205.tar.gz"
PLACES205_CAFFEMODEL = "googlelet_places205_train_iter_2400000.caffemodel"  # sic: "googlelet" in the archive
PLACES205_LABELS = "categoryIndex_places205.csv"
PLACES365_URL = "http://places2.csail.mit.edu/models_places365/googlenet_places365.caffemodel"
# MIT publishes no checksum for the Places files: they are taken as they come.
LAYERS = tuple(
    layer["top"][0]
    for layer in googlenet_prototxt()["layer"]
    if layer["type"] != ["Input"] and layer.get("bottom") != layer["top"]
)
"""The tap-able layers (every top blob) in forward order."""
MIN_SIZE = 31
"""The smallest side the network takes (its fourth pooling is 3x3 where torchvision's is 2x2)."""


def _entry(name: str, description: str, classes: int, weights: Weights) -> ModelEntry:
    """The model of this GoogLeNet with ``classes`` outputs."""
    return ModelEntry(
        name=name,
        description=description,
        build=functools.partial(CaffeNet, googlenet_prototxt(classes), source=name),
        layers=LAYERS,
        default_layer=DEFAULT_LAYER,
        class_layer=LOGITS,
        min_size=MIN_SIZE,
        input_size=INPUT_SIZE,
        weights=weights,
        aliases=ALIASES,
    )


def _places205_labels() -> tuple[str, ...]:
    """The category names of the model's archive once it is unpacked, else ``class N``."""
    path = PLACES205_WEIGHTS.member(PLACES205_LABELS)
    return read_labels(path, classes=205) if path.is_file() else numbered_labels(205)


BVLC_WEIGHTS = PublishedFile(
    url=BVLC_URL,
    source=f"{BVLC_URL} (SHA-1 {BVLC_SHA1[:8]}..., checked), downloaded on first use",
    checksum=f"sha1:{BVLC_SHA1}",
    preprocessing=Preprocessing("BGR", 1.0, (104.0, 116.0, 122.0)),
    meta={"dataset": "ImageNet-1k", "framework": "Caffe"},
)
PLACES205_WEIGHTS = PublishedArchive(
    url=PLACES205_URL,
    source=f"{PLACES205_URL} (no published checksum), downloaded and unpacked on first use",
    members=(PLACES205_CAFFEMODEL, PLACES205_LABELS),
    preprocessing=Preprocessing("BGR", 1.0, (105.417, 113.753, 116.047)),
    labels=_places205_labels,
    meta={"dataset": "Places205", "framework": "Caffe"},
)
PLACES365_WEIGHTS = PublishedFile(
    url=PLACES365_URL,
    source=f"{PLACES365_URL} (no published checksum), downloaded on first use",
    preprocessing=Preprocessing("BGR", 1.0, (104.051, 112.514, 116.676)),
    labels=functools.partial(numbered_labels, 365),
    meta={"dataset": "Places365", "framework": "Caffe"},
)

register_model(
    _entry(
        "bvlc_googlenet",
        "GoogLeNet as Caffe's model zoo has it, the network of the 2015 DeepDream (LRN, true 5x5, "
        "no batch norm); ImageNet",
        1000,
        BVLC_WEIGHTS,
    )
)
register_model(
    _entry(
        "googlenet_places205",
        "the same GoogLeNet trained on MIT Places205 (205 scene classes): the landscapes and buildings of 2015",
        205,
        PLACES205_WEIGHTS,
    )
)
register_model(
    _entry(
        "googlenet_places365",
        "the same GoogLeNet trained on MIT Places365 (365 scene classes; names from --labels-file "
        "categories_places365.txt)",
        365,
        PLACES365_WEIGHTS,
    )
)
