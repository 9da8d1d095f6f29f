"""The dataset of ``inceptionism train``: a folder with one sub-folder of images per class.

The layout is torchvision's ``ImageFolder``: ``root/cats/1.jpg``, ``root/dogs/holiday/2.png``.
Scanning reads every image once, in threads (Pillow and hashlib release the GIL), to prove it
decodes, to hash its bytes (exact duplicates, the dataset's checksum) and to hash its look
(near duplicates: a re-encoded or resized copy). Duplicates matter to training: an image that is
both trained on and validated on makes the validation score a lie, so :func:`split_dataset` keeps
each group of duplicates on one side.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from inceptionism.errors import InvalidParameterError

logger = logging.getLogger(__name__)

# What a photo folder holds; HEIC and AVIF are listed so that a file Pillow cannot read here is
# reported as skipped instead of vanishing silently.
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff", ".webp"}
    | {".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".j2k", ".avif", ".heic", ".heif"}
)
# A file without an extension is looked at; only formats with a strong magic number are tried,
# as Pillow's looser plugins (TGA) would take arbitrary bytes for an image.
SNIFFED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
NEAR_DISTANCE = 4  # of 64 perceptual-hash bits: a resized, re-encoded or brightened copy differs by 0..2
MAX_VAL = 0.9
REPORT_NAMES = 5
_DRAFT_SIDE = 64  # JPEGs decode at 1/2..1/8 scale down to this: all a 9x8 hash needs, and fast
_PAIRS_PER_CHUNK = 1 << 21  # hash comparisons held in memory at once (16 MiB of uint64)


@dataclass(frozen=True)
class Dataset:
    """The images of a dataset folder, checked and hashed.

    Attributes:
        root: the dataset folder.
        classes: its class sub-folder names, sorted; an item's label indexes this.
        items: readable images as ``(path, class index)``, sorted by class then relative path.
        skipped: unreadable or damaged image files as ``(path, short reason)``.
        duplicates: ``(first seen, its duplicate, Hamming distance of their perceptual hashes)``,
            one per item that repeats an earlier one (0: same look; same bytes too when exact).
        ignored: files that are not images: other extensions, hidden files, files at the root.
        checksum: sha256 hex of every item's class, relative path and file sha256: names the data.
        groups: per item, the id of its group of duplicates (a lone image has a group of its own).
        digests: per item, the sha256 hex of its file.
    """

    root: Path
    classes: tuple[str, ...]
    items: tuple[tuple[Path, int], ...]
    skipped: tuple[tuple[Path, str], ...]
    duplicates: tuple[tuple[Path, Path, int], ...]
    ignored: int
    checksum: str
    groups: tuple[int, ...]
    digests: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        found = Counter(label for _, label in self.items)
        return {name: found[index] for index, name in enumerate(self.classes)}

    def report(self) -> list[str]:
        """Lines telling what the scan left out or found twice; none when there is nothing to say."""
        lines = []
        if self.skipped:
            names = [self._name(path) for path, _ in self.skipped]
            lines.append(f"skipped {_count(len(names), 'unreadable image')}: {_listed(names)}")
        if self.duplicates:
            digest_of = {path: digest for (path, _), digest in zip(self.items, self.digests, strict=True)}
            exact = [digest_of[first] == digest_of[second] for first, second, _ in self.duplicates]
            pairs = [
                f"{self._name(first)} {'=' if same else '~'} {self._name(second)}"
                for (first, second, _), same in zip(self.duplicates, exact, strict=True)
            ]
            lines.append(f"found {sum(exact)} exact and {len(exact) - sum(exact)} near duplicates: {_listed(pairs)}")
        return lines

    def _name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


class _Probe(NamedTuple):
    """What reading one file found: its sha256 and perceptual hash, or why it is unreadable."""

    digest: str = ""
    look: int = 0
    reason: str = ""


def scan_dataset(root: str | os.PathLike, *, min_per_class: int = 5) -> Dataset:
    """Read the dataset folder ``root``: its classes, readable images, unreadable files and duplicates.

    Args:
        root: a folder with one sub-folder of images per class; nested folders count for their
            class; hidden files and folders (``.DS_Store``, ``.git``) and files at the root are ignored.
        min_per_class: the fewest readable images a class may have.

    Returns:
        The dataset, its report ready in :meth:`Dataset.report`.

    Raises:
        InvalidParameterError: ``root`` is not a folder, holds no images in class folders, has a
            single class, or a class has fewer than ``min_per_class`` images.

    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for index, name in enumerate(["cat", "dog"]):
    ...     (root / name).mkdir()
    ...     Image.effect_mandelbrot((64, 48), (-2 + index, -1, 1, 1), 50).save(root / name / "1.png")
    >>> scan_dataset(root, min_per_class=1).counts()
    {'cat': 1, 'dog': 1}
    """
    if isinstance(min_per_class, bool) or not isinstance(min_per_class, int) or min_per_class < 1:
        raise InvalidParameterError(
            f"min_per_class must be a positive integer, got {min_per_class!r}", argument="min_per_class"
        )
    root = Path(root)
    if not root.is_dir():
        raise InvalidParameterError(
            f"dataset {root} is not a folder: give a folder with one sub-folder of images per class",
            argument="dataset",
        )
    classes, candidates, ignored = _walk(root)
    probes = _probe_all([path for path, _ in candidates])
    readable = [(found, probe) for found, probe in zip(candidates, probes, strict=True) if not probe.reason]
    skipped = tuple((path, probe.reason) for (path, _), probe in zip(candidates, probes, strict=True) if probe.reason)
    items = tuple(found for found, _ in readable)
    _check_classes(root, classes, items, min_per_class)
    digests = tuple(probe.digest for _, probe in readable)
    pairs, groups = _duplicates(digests, np.array([probe.look for _, probe in readable], dtype=np.uint64))
    logger.info("scanned %s: %d images, %d skipped, %d duplicates", root, len(items), len(skipped), len(pairs))
    return Dataset(
        root=root,
        classes=classes,
        items=items,
        skipped=skipped,
        duplicates=tuple((items[first][0], items[second][0], distance) for first, second, distance in pairs),
        ignored=ignored,
        checksum=_checksum(root, classes, items, digests),
        groups=groups,
        digests=digests,
    )


def _walk(root: Path) -> tuple[tuple[str, ...], list[tuple[Path, int]], int]:
    """Class names, candidate images as ``(path, class index)`` sorted, and the count of ignored files."""
    with os.scandir(root) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    classes = tuple(entry.name for entry in entries if entry.is_dir() and not entry.name.startswith("."))
    ignored = sum(1 for entry in entries if not entry.is_dir())
    candidates = []
    for label, name in enumerate(classes):
        found, ignored_here = _class_files(root / name)
        ignored += ignored_here
        candidates += [(path, label) for path in found]
    return classes, candidates, ignored


def _class_files(folder: Path) -> tuple[list[Path], int]:
    """The candidate images under ``folder``, sorted by relative path, and the count of other files."""
    found, ignored = [], 0
    for top, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]  # os.walk descends what is left
        for name in files:
            path = Path(top, name)
            if not name.startswith(".") and _is_candidate(path):
                found.append(path)
            else:
                ignored += 1
    return sorted(found, key=lambda path: path.relative_to(folder).as_posix()), ignored


def _is_candidate(path: Path) -> bool:
    """Whether ``path`` should be an image: by its extension, or for a file without one, by its content."""
    if path.suffix:
        return path.suffix.lower() in IMAGE_EXTENSIONS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path, formats=SNIFFED_FORMATS):
                return True
    except Image.DecompressionBombError:
        return True  # an image all the same: the scan skips it and says why
    except (OSError, SyntaxError, ValueError):
        return False


def _probe_all(paths: Sequence[Path]) -> list[_Probe]:
    """:func:`_probe` over ``paths`` in threads, in order."""
    with warnings.catch_warnings():
        # Pillow warns on odd metadata and on big images; a real bomb still raises and is skipped.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", module=r"PIL\.")
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            return list(pool.map(_probe, paths))


def _probe(path: Path) -> _Probe:
    """Read ``path``: its sha256, and its perceptual hash if it fully decodes, else why not."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return _Probe(reason=f"cannot read ({error.strerror or error})")
    if not data:
        return _Probe(reason="empty file")
    try:
        look = _perceptual_hash(data)
    except Image.DecompressionBombError:
        return _Probe(reason="too many pixels (possible decompression bomb)")
    except Image.UnidentifiedImageError:
        return _Probe(reason="not an image Pillow can read")
    except (OSError, SyntaxError, ValueError, EOFError):
        return _Probe(reason="damaged or truncated")
    return _Probe(digest=hashlib.sha256(data).hexdigest(), look=look)


def _perceptual_hash(data: bytes) -> int:
    """The 64-bit difference hash (dHash) of the encoded image ``data``, decoded in full.

    Each bit says whether a cell of a 9x8 greyscale thumbnail is brighter than its right
    neighbour: robust to scaling, re-encoding and mild colour changes.
    """
    with Image.open(io.BytesIO(data)) as image:
        # A JPEG decodes at a fraction of its size, still reading every byte: a truncated file still fails.
        image.draft("L", (_DRAFT_SIDE, _DRAFT_SIDE))
        image.load()
        plain = image.mode in ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV")
        grey = image.convert("L" if plain else "F")  # 16-bit and float images keep their range
    cells = np.asarray(grey.resize((9, 8), Image.Resampling.BOX), dtype=np.float32)
    bits = np.packbits(cells[:, 1:] > cells[:, :-1])
    return int.from_bytes(bits.tobytes(), "big")


def _check_classes(root: Path, classes: tuple[str, ...], items: tuple[tuple[Path, int], ...], least: int) -> None:
    """Refuse a dataset a classifier cannot learn from."""
    if not items:
        raise InvalidParameterError(
            f"dataset {root} holds no images in class folders: put each class's images in a sub-folder "
            f"named after it ({root / 'cats' / '1.jpg'}, {root / 'dogs' / '1.jpg'})",
            argument="dataset",
        )
    if len(classes) == 1:
        raise InvalidParameterError(
            f"dataset {root} has one class ({classes[0]}): a classifier needs at least 2 class folders",
            argument="dataset",
        )
    found = Counter(label for _, label in items)
    short = [(name, found[label]) for label, name in enumerate(classes) if found[label] < least]
    if len(short) == 1:
        name, count = short[0]
        raise InvalidParameterError(
            f"class {name!r} has {_count(count, 'image')}; each class needs at least {least} "
            "(add images or remove the folder)",
            argument="dataset",
        )
    if short:
        named = _listed([f"{name!r} ({count})" for name, count in short])
        raise InvalidParameterError(
            f"classes {named} have too few images; each class needs at least {least} "
            "(add images or remove the folders)",
            argument="dataset",
        )


def _duplicates(digests: Sequence[str], looks: np.ndarray) -> tuple[list[tuple[int, int, int]], tuple[int, ...]]:
    """Duplicate pairs ``(first, second, distance)`` as item indices, and each item's group id.

    Each item that repeats earlier ones is paired once: with the first exact copy if there is one,
    else with the closest look (the earliest of equals). Groups join every pair within reach, so a
    chain of near duplicates is one group.
    """
    best: dict[int, tuple[int, int, int]] = {}  # second -> (not exact, distance, first)
    parent = list(range(len(digests)))
    for first, second, distance in _near_pairs(looks):
        _join(parent, first, second)
        key = (0 if digests[first] == digests[second] else 1, distance, first)
        best[second] = min(best.get(second, key), key)
    pairs = [(first, second, distance) for second, (_, distance, first) in sorted(best.items())]
    roots: dict[int, int] = {}
    groups = tuple(roots.setdefault(_root(parent, index), len(roots)) for index in range(len(digests)))
    return pairs, groups


def _near_pairs(looks: np.ndarray) -> list[tuple[int, int, int]]:
    """Every pair ``(i, j, distance)`` with ``i < j`` whose hashes differ in at most NEAR_DISTANCE bits."""
    pairs = []
    step = max(1, _PAIRS_PER_CHUNK // max(1, len(looks)))
    for start in range(0, len(looks), step):
        stop = min(start + step, len(looks))
        distances = _popcount(looks[start:stop, None] ^ looks[None, :stop])
        earlier = np.arange(stop)[None, :] < np.arange(start, stop)[:, None]
        rows, columns = np.nonzero(earlier & (distances <= NEAR_DISTANCE))
        pairs += zip(columns.tolist(), (rows + start).tolist(), distances[rows, columns].tolist(), strict=True)
    pairs.sort()
    return pairs


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 in ``words``."""
    if hasattr(np, "bitwise_count"):  # numpy 2
        return np.bitwise_count(words)
    halves = np.ascontiguousarray(words).view(np.uint16)
    table = np.unpackbits(np.arange(1 << 16, dtype=">u2").view(np.uint8)).reshape(-1, 16).sum(axis=1, dtype=np.uint8)
    return table[halves].reshape(*words.shape, 4).sum(axis=-1, dtype=np.uint8)


def _root(parent: list[int], index: int) -> int:
    while parent[index] != index:
        parent[index] = parent[parent[index]]  # path halving keeps later look-ups short
        index = parent[index]
    return index


def _join(parent: list[int], first: int, second: int) -> None:
    a, b = _root(parent, first), _root(parent, second)
    parent[max(a, b)] = min(a, b)


def _checksum(root: Path, classes: tuple[str, ...], items: tuple[tuple[Path, int], ...], digests: Sequence[str]) -> str:
    """sha256 hex over the items' ``[class, relative path, file sha256]`` in order, as JSON (unambiguous)."""
    rows = [
        [classes[label], path.relative_to(root).as_posix(), digest]
        for (path, label), digest in zip(items, digests, strict=True)
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _listed(names: Sequence[str]) -> str:
    """The first REPORT_NAMES of ``names``, comma-separated, and how many more."""
    shown = ", ".join(names[:REPORT_NAMES])
    return shown if len(names) <= REPORT_NAMES else f"{shown} and {len(names) - REPORT_NAMES} more"


def split_dataset(dataset: Dataset, val: float, seed: int) -> tuple[list[int], list[int]]:
    """Draw a validation set from ``dataset``: ``(train indices, val indices)`` into ``dataset.items``.

    Stratified: each class of ``n`` images gives ``round(val * n)`` of them, at least 1 and at most
    ``n - 1``. A group of duplicates stays on one side, so no image is validated on its own copy;
    a class may then give one or two fewer. The draw depends on ``seed`` alone (``random.Random``),
    alike on every run and machine.

    Args:
        dataset: what :func:`scan_dataset` found.
        val: the share of each class kept for validation, 0..0.9; 0 keeps none.
        seed: seeds the draw.

    Returns:
        Sorted item indices to train on and to validate on.

    Raises:
        InvalidParameterError: ``val`` is outside 0..0.9 or ``seed`` is not an integer.

    >>> dataset = Dataset(Path("d"), ("a", "b"), tuple((Path(f"d/{i}"), i % 2) for i in range(8)),
    ...                   (), (), 0, "", tuple(range(8)), ("",) * 8)
    >>> split_dataset(dataset, 0.25, seed=0)
    ([0, 2, 3, 5, 6, 7], [1, 4])
    """
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 <= val <= MAX_VAL:
        raise InvalidParameterError(f"val must be in 0..{MAX_VAL}, got {val!r}", argument="val")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidParameterError(f"seed must be an integer, got {seed!r}", argument="seed")
    labels = [label for _, label in dataset.items]
    members: dict[int, list[int]] = {}
    for index, group in enumerate(dataset.groups):
        members.setdefault(group, []).append(index)
    order = sorted(members)
    random.Random(seed).shuffle(order)
    sizes = Counter(labels)
    wanted = {label: min(max(round(val * n), 1), n - 1) if val > 0 else 0 for label, n in sizes.items()}
    chosen = _fill([Counter(labels[i] for i in members[group]) for group in order], wanted, sizes)
    held_out = sorted(index for place in chosen for index in members[order[place]])
    kept = set(held_out)
    return [index for index in range(len(labels)) if index not in kept], held_out


def _fill(groups: Sequence[Counter], wanted: dict[int, int], sizes: Counter) -> list[int]:
    """The places in ``groups`` (each a count per class) drawn for validation, in the order given.

    First every group that fits within each class's wanted count; then, for a class still without
    any because its groups are too big, one group that leaves each class an image to train on.
    """
    taken: Counter = Counter()
    chosen = []
    for place, counts in enumerate(groups):
        if all(taken[label] + count <= wanted[label] for label, count in counts.items()):
            chosen.append(place)
            taken.update(counts)
    for place, counts in enumerate(groups):
        starved = any(wanted[label] and not taken[label] for label in counts)
        if starved and all(taken[label] + count < sizes[label] for label, count in counts.items()):
            chosen.append(place)
            taken.update(counts)
    return chosen
