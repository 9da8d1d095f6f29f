"""The server's settings: bind address, limits, workers and data directory, in one typed object.

Every field is also read from an ``INCEPTIONISM_<NAME>`` environment variable
(``INCEPTIONISM_PORT=8080``, ``INCEPTIONISM_DATA_DIR=~/dreams``); what the command line
gives wins over the environment.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inceptionism.distributed.cluster import ClusterError, parse_cluster
from inceptionism.errors import InvalidParameterError
from inceptionism.web.options import SERVE_OPTIONS, bounds_schema

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def setting(name: str) -> Any:
    """The pydantic field of the server option ``name``: its default, description and bounds (in the schema).

    The bounds are checked by the option itself (:meth:`ServerSettings._within_bounds`), so a
    value out of them is refused with the same message as on the command line.
    """
    option = SERVE_OPTIONS[name]
    return Field(
        option.default, description=f"{option.help} ({option.bounds})", json_schema_extra=bounds_schema(option)
    )


class ServerSettings(BaseSettings):
    """How ``inceptionism serve`` runs.

    >>> ServerSettings(port=8080).url
    'http://127.0.0.1:8080/'
    """

    model_config = SettingsConfigDict(env_prefix="INCEPTIONISM_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback requires the access token.")
    port: int = setting("port")
    data_dir: Path = Field(Path.home() / ".inceptionism" / "studio", description="Where jobs and results are kept.")
    workers: int = setting("workers")
    queue_limit: int = setting("queue_limit")
    token: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        description="Access token: asked on every bind once set (drawn if unset on a public address).",
    )
    max_upload_mb: int = setting("max_upload_mb")
    max_video_upload_mb: int = setting("max_video_upload_mb")
    max_pixels: int = setting("max_pixels")
    max_side: int = setting("max_side")
    max_frames: int = setting("max_frames")
    live_sessions: int = setting("live_sessions")
    preview_interval: float = setting("preview_interval")
    cluster: str | None = Field(
        None, max_length=300, description="Dask cluster to hand jobs to: a scheduler address or local:N."
    )

    @field_validator(*SERVE_OPTIONS)
    @classmethod
    def _within_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        try:
            return SERVE_OPTIONS[info.field_name].check(info.field_name, value)
        except InvalidParameterError as error:
            raise ValueError(str(error)) from None

    @field_validator("cluster")
    @classmethod
    def _cluster_named(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_cluster(value)
            except ClusterError as error:
                raise ValueError(str(error)) from None
        return value

    @property
    def loopback(self) -> bool:
        """Whether the server listens only on this machine."""
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}/"

    @property
    def upload_bytes(self) -> int:
        """Largest image upload in bytes."""
        return self.max_upload_mb * 2**20

    @property
    def video_upload_bytes(self) -> int:
        """Largest video upload in bytes."""
        return self.max_video_upload_mb * 2**20
