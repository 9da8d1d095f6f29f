"""The networks the studio offers: the registry's, or any given (tests give a tiny one)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from inceptionism.errors import unknown_name
from inceptionism.models import get_model_entry, list_models, shared_model
from inceptionism.models.network import Network
from inceptionism.models.trained import is_model_file, models_dir, trained_files


@dataclass(frozen=True)
class ModelInfo:
    """What the page shows of a network."""

    name: str
    description: str
    default_layer: str
    layer_channels: dict[str, int]


class ModelCatalog:
    """Names to networks.

    Args:
        networks: name to a function returning the (shared, never changed) network;
            ``None``: every network of the registry with its published weights.
    """

    def __init__(self, networks: Mapping[str, Callable[[], Network]] | None = None) -> None:
        self._given = dict(networks) if networks is not None else None

    def names(self) -> list[str]:
        """The networks offered, the default first, then the trained ones of the user's models folder."""
        return list(self._given) if self._given is not None else [*list_models(), *trained_files()]

    @property
    def default(self) -> str:
        """The network a job without ``model`` dreams with."""
        return self.names()[0]

    def network(self, name: str) -> Network:
        """The network called ``name``, loaded once per process."""
        if self._given is not None:
            if name not in self._given:
                raise unknown_name("model", name, self._given, "GET /api/models", argument="model")
            return self._given[name]()
        return shared_model(self._offered(name))

    def _offered(self, name: str) -> str:
        """``name`` as the registry is asked for it, if it is offered (the folder's listing read once).

        Only names offered: a ``caffe:PATH`` or a path would read files of the request's choosing.
        """
        offered = self.names()
        if name not in offered:
            raise unknown_name("model", name, offered, "GET /api/models", argument="model")
        return self._located(name)

    @staticmethod
    def _located(name: str) -> str:
        """How the registry is asked for ``name``: a registered name, or a trained network's bare file name.

        A bare name is found in the models folder and recorded as it is, so no path of the server
        reaches a result; the folder's path is given only where a file of that name is in the
        server's own working folder (which a bare name would find first).
        """
        if not is_model_file(name) or not os.path.exists(name):
            return name
        return str(models_dir() / name)

    def info(self, name: str) -> ModelInfo:
        """Name, description and layers of ``name`` (for the registry's, without loading weights)."""
        if self._given is not None:
            net = self.network(name)
            return ModelInfo(name, net.name, net.default_layer, net.layer_channels)
        located = self._offered(name)
        entry = get_model_entry(located)
        shapes = shared_model(located, weights="default" if is_model_file(name) else None)  # registry's: shapes only
        return ModelInfo(name, entry.description, entry.default_layer, shapes.layer_channels)
