"""Files fetched from the web into the ``torch.hub`` cache: checked, never left half-written, unpacked safely.

>>> cached_weights_path("https://example.org/models/net-1234abcd.pth").name
'net-1234abcd.pth'
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.error
import urllib.parse
from pathlib import Path

import torch

from inceptionism.errors import WeightsError


def cached_weights_path(url: str) -> Path:
    """Where ``torch.hub`` keeps the file of ``url`` (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urllib.parse.urlparse(url).path).name


def download_hub_file(url: str, *, model: str, sha256_prefix: str | None, progress: bool) -> Path:
    """The file of ``url`` in the ``torch.hub`` cache, downloaded on first use.

    The download is checked against ``sha256_prefix`` (torchvision publishes it in the file
    name: ``name-<sha256 prefix>.pth``) and lands in the cache only if it matches.

    Raises:
        WeightsError: with one line saying how to proceed when the download is impossible.
    """
    path = cached_weights_path(url)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, str(path), sha256_prefix, progress=progress)
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            reason = getattr(error, "reason", None) or error
            raise WeightsError(
                f"cannot download the {model} weights from {url} ({reason}); "
                f"download that file elsewhere and pass its path as the weights, "
                f"or use the embedded model squeezenet1_1",
                argument="weights",
            ) from None
    return path


def sha1_of_file(path: Path) -> str:
    """Hex SHA-1 of a file's content (the checksum Caffe's model zoo publishes)."""
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, *, model: str, how: str, sha1: str | None, progress: bool) -> Path:
    """The file of ``url`` in the ``torch.hub`` cache, downloaded on first use.

    Args:
        url: where the file is published.
        model: the registry name, for messages.
        how: what to do with the file once downloaded by hand, for the offline message
            (e.g. ``"download bvlc_googlenet.caffemodel from there"``).
        sha1: its published SHA-1; a download that does not match is deleted and refused.
            ``None`` where none is published (the file is then taken as it comes).
        progress: show a progress bar on stderr.

    Raises:
        WeightsError: one line saying where to get the file and to pass it as the weights.
    """
    path = cached_weights_path(url)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        torch.hub.download_url_to_file(url, str(partial), None, progress=progress)
    except (urllib.error.URLError, OSError, RuntimeError) as error:
        partial.unlink(missing_ok=True)
        reason = getattr(error, "reason", None) or error
        raise WeightsError(
            f"cannot download the {model} weights from {url} ({reason}); {how} and pass it with --weights FILE "
            "(in Python: weights=FILE)",
            argument="weights",
        ) from None
    if sha1 is not None and (digest := sha1_of_file(partial)) != sha1:
        partial.unlink()
        raise WeightsError(
            f"the {model} weights downloaded from {url} have SHA-1 {digest}, expected {sha1}; try again later, "
            "or download the file yourself and pass it with --weights FILE",
            argument="weights",
        )
    partial.replace(path)
    return path


def unpack_members(archive: Path, names: tuple[str, ...], into: Path) -> dict[str, Path]:
    """Copy the members of a ``.tar.gz`` whose file names are in ``names`` into ``into``.

    Members are written under their file name only (never a path from the archive), so an
    archive cannot write outside ``into``.

    Returns:
        Each name found and where it now is.
    """
    into.mkdir(parents=True, exist_ok=True)
    found = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = Path(member.name).name
                if member.isfile() and name in names:
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    target = into / name
                    with source, target.with_name(name + ".partial").open("wb") as out:
                        shutil.copyfileobj(source, out)
                    target.with_name(name + ".partial").replace(target)
                    found[name] = target
    except (tarfile.TarError, OSError, EOFError) as error:
        raise WeightsError(f"cannot unpack {archive}: {error}; delete it and try again", argument="weights") from None
    return found
