"""Finished atlas tiles kept on disk, so a sheet drawn again (or one sharing channels) reuses them.

Tiles live in the user's cache directory (``platformdirs``: ``$XDG_CACHE_HOME/inceptionism``
on Linux) under ``atlas/<key>/``, where the key digests everything a tile depends on: the
network and a checksum of its weights, the layer, and the settings it was drawn with. Each
tile is ``<layer>_c<index>.png`` with its final activation in the PNG's metadata; written
atomically, so a killed run leaves only whole tiles.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import weakref
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from inceptionism.errors import ImageError
from inceptionism.io.images import read_metadata, save_image
from inceptionism.models.imported import IMPORTED, model_kind
from inceptionism.models.network import Network


def cache_root() -> Path:
    """Where the atlas keeps its tiles: ``<user cache dir>/inceptionism/atlas``."""
    import platformdirs

    return platformdirs.user_cache_path("inceptionism") / "atlas"


_DIGESTS: weakref.WeakKeyDictionary[Network, str] = weakref.WeakKeyDictionary()


def weights_digest(net: Network) -> str:
    """A checksum of the network's weights (16 hex digits): another set of weights, another cache.

    Computed once per network object (the studio asks for it on every tile request).
    """
    if net not in _DIGESTS:
        _DIGESTS[net] = _digest(net)
    return _DIGESTS[net]


def _digest(net: Network) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def tile_name(layer: str, channel: int) -> str:
    """``fire7_c12.png``; characters a file name cannot hold become ``_``.

    >>> tile_name("inception4c/branch1", 3)
    'inception4c_branch1_c3.png'
    """
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', layer)}_c{channel}.png"


class TileCache:
    """The tiles of one network, layer and settings.

    Args:
        net: the network.
        layer: the layer the tiles show.
        settings: everything else a tile depends on (JSON-safe).
        root: the cache folder (default :func:`cache_root`).
    """

    def __init__(self, net: Network, layer: str, settings: dict[str, Any], *, root: Path | None = None) -> None:
        described = {"model": net.name, "weights": weights_digest(net), "layer": layer, **settings}
        if model_kind(net.name) in IMPORTED:  # the file does not fix how its pixels are prepared: you do
            described["preprocessing"] = dataclasses.asdict(net.preprocessing)
        key = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]
        self.folder = (root or cache_root()) / key
        self.layer = layer

    def path(self, channel: int) -> Path:
        """Where the tile of ``channel`` is kept."""
        return self.folder / tile_name(self.layer, channel)

    def get(self, channel: int) -> tuple[Image.Image, float] | None:
        """The kept tile of ``channel`` and its activation, or ``None``."""
        path = self.path(channel)
        if not path.is_file():
            return None
        try:
            metadata = read_metadata(path) or {}
            if "activation" not in metadata:
                return None
            with Image.open(path) as image:
                return image.convert("RGB"), float(metadata["activation"])
        except (ImageError, OSError, ValueError):  # a damaged tile is drawn again
            return None

    def put(self, channel: int, image: Image.Image, activation: float) -> None:
        """Keep the tile of ``channel``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        save_image(image, self.path(channel), metadata={"layer": self.layer, "channel": channel,
                                                        "activation": activation})  # fmt: skip
