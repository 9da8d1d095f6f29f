"""The server's settings: bind address, limits, workers and data directory, in one typed object.

Every field is also read from an ``INCEPTIONISM_<NAME>`` environment variable
(``INCEPTIONISM_PORT=8080``, ``INCEPTIONISM_DATA_DIR=~/dreams``); what the command line
gives wins over the environment.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inceptionism.distributed.cluster import ClusterError, parse_cluster

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class ServerSettings(BaseSettings):
    """How ``inceptionism serve`` runs.

    >>> ServerSettings(port=8080).url
    'http://127.0.0.1:8080/'
    """

    model_config = SettingsConfigDict(env_prefix="INCEPTIONISM_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback requires the access token.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    data_dir: Path = Field(Path.home() / ".inceptionism" / "studio", description="Where jobs and results are kept.")
    workers: int = Field(1, ge=1, le=16, description="Jobs dreamed at the same time.")
    queue_limit: int = Field(16, ge=1, le=1000, description="Jobs waiting at most; more are refused with 429.")
    token: str | None = Field(None, min_length=16, max_length=256, description="Access token (generated if needed).")
    max_upload_mb: int = Field(64, ge=1, le=4096, description="Largest image upload, in megabytes.")
    max_video_upload_mb: int = Field(512, ge=1, le=65536, description="Largest video upload, in megabytes.")
    max_pixels: int = Field(40_000_000, ge=64 * 64, le=400_000_000, description="Largest image, in pixels.")
    max_side: int = Field(4096, ge=64, le=8192, description="Longest side a job may dream at (max_size, noise).")
    max_frames: int = Field(2000, ge=2, le=100_000, description="Most frames of a zoom or a video.")
    preview_interval: float = Field(0.25, ge=0.05, le=10.0, description="Seconds between two live previews.")
    cluster: str | None = Field(
        None, max_length=300, description="Dask cluster to hand jobs to: a scheduler address or local:N."
    )

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
