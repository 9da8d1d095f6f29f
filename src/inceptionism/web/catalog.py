"""The networks the studio offers: the registry's, or any given (tests give a tiny one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from inceptionism.errors import unknown_name
from inceptionism.models import get_model_entry, list_models, shared_model
from inceptionism.models.network import Network


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
        """The networks offered, the default first."""
        return list(self._given) if self._given is not None else list_models()

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
        if name not in list_models():  # a caffe:PATH model would read files of the server's choosing
            raise unknown_name("model", name, list_models(), "GET /api/models", argument="model")
        return shared_model(name)

    def info(self, name: str) -> ModelInfo:
        """Name, description and layers of ``name`` (for the registry's, without loading weights)."""
        if self._given is not None:
            net = self.network(name)
            return ModelInfo(name, net.name, net.default_layer, net.layer_channels)
        entry = get_model_entry(name)
        shapes = shared_model(name, weights=None)  # shapes only: no weights needed
        return ModelInfo(name, entry.description, entry.default_layer, shapes.layer_channels)
