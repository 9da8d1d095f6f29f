"""Dream many photos with the same options, or each photo with a grid of settings (a sweep).

Every item (one photo with one combination of the sweep) is a task that carries its
settings, seed included, and the photo's bytes: it runs the same in this process or on any
worker of a cluster (:mod:`inceptionism.distributed`), and gives the same pixels with the same
torch thread count. The seed of an item is the batch's seed plus the photo's position, so
every combination of one photo starts from the same jitter (a fair comparison) and the seed
never depends on which task finished first. Outputs are written atomically as they come
back; a later run with the same settings keeps the finished ones. At the end an index
(``index.json`` and ``index.csv``) says which file used which parameters, and a contact
sheet can show the grid, a photo per row.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from torch import nn

from inceptionism._version import __version__
from inceptionism.distributed import CLUSTER_OPTIONS, ClusterArg, Executor, InProcess, open_executor
from inceptionism.distributed.remote import TaskReporter
from inceptionism.distributed.worker import prepared_dreamer
from inceptionism.engine.options import SEED_LIMIT, seed_plus
from inceptionism.engine.settings import DreamSettings, check_names, check_start
from inceptionism.errors import ImageError, InceptionismError, InvalidParameterError, OutputError
from inceptionism.io.files import InputFiles, atomic_writer, check_not_input, check_writable
from inceptionism.io.images import (
    ImageInput,
    decode_image,
    encode_image,
    image_bytes,
    output_format,
    preview_jpeg,
    read_metadata,
    save_image,
)
from inceptionism.models.network import Network
from inceptionism.render.frames import FrameCallback, FrameDone, report_frame
from inceptionism.render.sheet import contact_sheet
from inceptionism.render.still import compose_settings, dream_with, input_files, name_of
from inceptionism.render.sweep import combinations, label, parse_sweep, shown_values

PHOTOS_LIMIT = 10_000
ITEMS_LIMIT = 10_000
PHOTO_BYTES_LIMIT = 256 * 2**20
SHEET_TILE = 256
SHEET_LIMIT = 1024  # tiles of a contact sheet: 1024 x 256^2 px is 200 MB in memory
INDEX_JSON, INDEX_CSV = "index.json", "index.csv"
BATCH_OPTIONS = CLUSTER_OPTIONS
"""Where a batch's dreams run: the render farm's options."""
SweepArg = dict[str, Sequence[Any]] | Sequence[str] | None
"""``{"layers": ["fire3", "fire5"]}``, ``["layer=fire3,fire5"]`` (the command line's form) or ``None``."""


@dataclass(frozen=True)
class BatchItem:
    """One dream of a batch: a photo with one combination of the sweep.

    Attributes:
        photo: the input file.
        row: the photo's position among the inputs.
        values: the swept options of this combination (empty without a sweep).
        settings: the item's settings, its seed included.
        output: the file it is written to.
    """

    photo: Path
    row: int
    values: dict[str, Any]
    settings: DreamSettings
    output: Path


@dataclass
class BatchResult:
    """What :func:`batch` returns.

    Attributes:
        items: every item, in the order of the inputs and the grid.
        index: the JSON index written.
        sheet: the contact sheet written, if one was asked for.
        dreamed: items dreamed in this call.
        reused: items found finished from an earlier run.
        seed: the batch's seed (item seeds are this plus the photo's position).
    """

    items: list[BatchItem] = field(repr=False)
    index: Path
    sheet: Path | None
    dreamed: int
    reused: int
    seed: int


def batch(
    inputs: Sequence[str | Path],
    output_dir: str | Path,
    *,
    settings: DreamSettings | None = None,
    model: str | nn.Module | None = None,
    sweep: SweepArg = None,
    guide: ImageInput | None = None,
    mask: ImageInput | None = None,
    sheet: str | Path | None = None,
    cluster: ClusterArg = None,
    threads: int | None = None,
    restart: bool = False,
    callback: FrameCallback | None = None,
    reads: InputFiles | None = None,
    **options: Any,
) -> BatchResult:
    """Dream every photo of ``inputs`` into ``output_dir``, once per combination of ``sweep``.

    Args:
        inputs: photo files.
        output_dir: where the dreams, ``index.json`` and ``index.csv`` go (made if missing).
        settings: dream settings to start from; ``options`` override them.
        model: a registry name or a network (on a cluster, the workers load it by its name and weights).
        sweep: options to vary, e.g. ``{"layers": ["fire3", "fire5"], "octaves": [3, 4]}``.
        guide: dream toward this image's features (a file).
        mask: white dreams, black stays (a file).
        sheet: also write a contact sheet here (a photo per row, a combination per column).
        cluster: ``None`` (here), ``"local:N"``, a scheduler address or a Dask ``Client``.
        threads: torch threads per dream (see :func:`~inceptionism.distributed.open_executor`).
        restart: dream every item again instead of keeping finished ones.
        callback: called after every item with a :class:`~inceptionism.render.frames.FrameDone`;
            ``True`` stops the batch (run it again to go on).
        reads: other files the caller read, by what they are (``{"--from image": path}``): no
            output may replace one, as none may replace a photo, ``guide``, ``mask`` or a weights file.
        **options: dream options (``octaves``, ``steps``, ``layers``, ``seed``...).

    >>> import tempfile
    >>> from inceptionism.io.images import sample_path
    >>> out = tempfile.mkdtemp()
    >>> result = batch([sample_path()], out, sweep=["octaves=1,2"], steps=1, max_size=64, seed=3)
    >>> [item.output.name for item in result.items], result.dreamed
    (['sample-octaves=1.png', 'sample-octaves=2.png'], 2)
    """
    check_names(options, "batch()")
    base, net = compose_settings(settings, model, options)
    check_start(base, image=True, only="a batch dreams photos")
    grid = _grid(sweep)
    directory = Path(output_dir)
    read = input_files(base, {"input image": list(inputs), "guide": guide, "mask": mask, **(reads or {})})
    check_not_input(directory, read)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"cannot write the batch to {directory}: it is a file", argument="output")
    seed = base.seed if base.seed is not None else _resumed_seed(directory, restart)
    items = plan_batch(inputs, directory, settings=base.replace(seed=seed), grid=grid)
    sheet_path = None if sheet is None else _checked_sheet(Path(sheet), len(items))
    for written in (*(item.output for item in items), directory / INDEX_JSON, directory / INDEX_CSV, sheet_path):
        if written is not None:
            check_not_input(written, read)
    names = (name_of(guide), name_of(mask))
    finished = set() if restart else {index for index, item in enumerate(items) if _is_finished(item, names)}
    todo = [index for index in range(len(items)) if index not in finished]
    params: dict[int, dict[str, Any]] = {}
    report = _Reports(callback, len(items))
    with open_executor(cluster, threads=threads) as executor:
        _make_dir(directory)  # once the cluster is there: nothing is made for a render that cannot run
        _write_index(directory, items, grid, seed, params)  # the seed is kept before anything is dreamed
        for _ in finished:
            report(resumed=True)
        for index, recorded in _dreamed(executor, items, todo, (guide, mask), names, net):
            params[index] = recorded
            report(resumed=False)
    index = _write_index(directory, items, grid, seed, params)
    written = _write_sheet(sheet_path, items, grid) if sheet_path is not None else None
    return BatchResult(items, index, written, dreamed=len(todo), reused=len(finished), seed=seed)


class _Reports:
    """Reports the items as they finish, in any order: each report counts one more."""

    def __init__(self, callback: FrameCallback | None, total: int) -> None:
        self.callback, self.total, self.count = callback, total, 0

    def __call__(self, *, resumed: bool) -> None:
        self.count += 1
        done = FrameDone(self.count - 1, self.total, resumed=resumed)
        report_frame(self.callback, done, last=self.count == self.total, what="dream")


def _dreamed(
    executor: Executor,
    items: list[BatchItem],
    todo: list[int],
    images: tuple[ImageInput | None, ImageInput | None],
    names: tuple[str | None, str | None],
    net: Network | None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Dream the items ``todo`` on ``executor``, each written as it comes back; its index and parameters."""
    guide_data, mask_data = (None if value is None else image_bytes(value) for value in images)
    local = (None, net) if net is not None and isinstance(executor, InProcess) else ()
    tasks = ((items[i].settings, _photo_bytes(items[i].photo), items[i].photo.name, guide_data, mask_data, names,
              *local) for i in todo)  # fmt: skip
    for position, (encoded, recorded) in executor.run(dream_item, tasks):
        item = items[todo[position]]
        with atomic_writer(item.output) as handle:
            handle.write(encoded)
        yield todo[position], recorded


def plan_batch(
    inputs: Sequence[str | Path], output_dir: Path, *, settings: DreamSettings, grid: list[dict[str, Any]]
) -> list[BatchItem]:
    """Every item of the batch, photo by photo, each with the file it goes to.

    Raises:
        InceptionismError: no inputs or too many, a missing input, a combination whose
            settings are not valid together.
    """
    photos = [Path(photo) for photo in inputs]
    if not photos:
        raise InvalidParameterError("give at least one photo to dream", argument="input")
    if len(photos) > PHOTOS_LIMIT or len(photos) * len(grid) > ITEMS_LIMIT:
        raise InvalidParameterError(f"a batch makes at most {ITEMS_LIMIT} dreams, "
                                    f"got {len(photos)} photos x {len(grid)} settings", argument="input")  # fmt: skip
    for photo in photos:
        if not photo.is_file():
            raise ImageError(f"input not found: {photo}", argument="input")
    taken: set[str] = set()
    items = []
    for row, photo in enumerate(photos):
        seed = seed_plus(settings.seed, row)  # type: ignore[arg-type]
        for values in grid:
            try:
                chosen = settings.updated(values.get("preset"), **{k: v for k, v in values.items() if k != "preset"})
            except InceptionismError as error:
                raise InvalidParameterError(f"the sweep's {label(values)}: {error}", argument="sweep") from None
            suffix = "-".join(f"{key}={value}" for key, value in shown_values(values).items()) or "dream"
            output = output_dir / _unique_name(photo.stem, suffix, taken)
            items.append(BatchItem(photo, row, values, chosen.replace(seed=seed), output))
    return items


def _unique_name(stem: str, suffix: str, taken: set[str]) -> str:
    """``STEM-SUFFIX.png`` made safe, with ``-2``, ``-3``... after the stem if that name (in any case) is taken."""
    for number in range(1, ITEMS_LIMIT + 2):
        name = _safe(f"{stem}{'' if number == 1 else f'-{number}'}-{suffix}")[:200] + ".png"
        if name.casefold() not in taken:
            taken.add(name.casefold())
            return name
    raise AssertionError("unreachable: there are fewer items than numbers tried")


def dream_item(
    settings: DreamSettings,
    photo: bytes | None,
    name: str | None,
    guide: bytes | None,
    mask: bytes | None,
    names: tuple[str | None, str | None],
    topic: str | None = None,
    model: Network | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The task of one dream, run here or on a worker: the dream as PNG bytes (parameters inside) and its parameters.

    Args:
        settings: the dream's settings, its seed included.
        photo: the encoded photo (``None``: the settings' noise).
        name: the photo's file name, recorded.
        guide: the guide's encoded image, if any.
        mask: the mask's encoded image, if any.
        names: the guide's and the mask's file names, recorded.
        topic: on a worker, report progress and previews under this name and stop
            when asked (see :mod:`inceptionism.distributed.remote`).
        model: a network to use instead of loading the settings' (in this process only).
    """
    dreamer = prepared_dreamer(settings, guide, mask, model=model)
    callback = None if topic is None else TaskReporter(topic, preview=preview_jpeg)
    image = None if photo is None else decode_image(photo, name or "the photo")
    result = dream_with(dreamer, image, callback=callback, guide=names[0], mask=names[1])
    if name is not None:
        result.params["input"] = name
    return encode_image(result.image, "PNG", metadata=result.params, name=name or "the dream"), result.params


def _grid(sweep: SweepArg) -> list[dict[str, Any]]:
    if sweep is None:
        return [{}]
    if isinstance(sweep, dict):
        texts = [f"{key}={';'.join(map(str, values))}" for key, values in sweep.items()]
        return combinations(parse_sweep(texts))
    if isinstance(sweep, str):
        sweep = [sweep]
    return combinations(parse_sweep(list(sweep)))


def _safe(name: str) -> str:
    """A file name from ``name``: anything but letters, digits, ``.=+-`` becomes ``_``."""
    return re.sub(r"[^\w.=+-]", "_", name)


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot make {directory}: {error.strerror or error}", argument="output") from None


def _resumed_seed(directory: Path, restart: bool) -> int:
    """The seed of the batch indexed in ``directory`` (a rerun goes on with it), else a new one."""
    if not restart:
        try:
            seed = json.loads((directory / INDEX_JSON).read_text()).get("seed")
        except (OSError, ValueError, AttributeError):
            seed = None
        if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= SEED_LIMIT:
            return seed
    return secrets.randbelow(2**31)


def _is_finished(item: BatchItem, names: tuple[str | None, str | None]) -> bool:
    """Whether ``item.output`` holds this item's dream already (its settings, input, guide and mask match)."""
    if not item.output.is_file():
        return False
    try:
        params = read_metadata(item.output)
        if params is None or params.get("input") != item.photo.name:
            return False
        if (params.get("guide"), params.get("mask")) != names:
            return False
        recorded = DreamSettings.from_dict(params)
    except InceptionismError:
        return False
    if not item.settings.layers and not item.settings.classes:
        recorded = recorded.replace(layers=())  # it asked for the model's default layer, recorded by name
    return recorded == item.settings


def _photo_bytes(photo: Path) -> bytes:
    size = photo.stat().st_size
    if size > PHOTO_BYTES_LIMIT:
        raise ImageError(f"{photo} is {size // 2**20} MB; a batch takes photos up to {PHOTO_BYTES_LIMIT // 2**20} MB")
    return photo.read_bytes()


def _write_index(
    directory: Path, items: list[BatchItem], grid: list[dict[str, Any]], seed: int, params: dict[int, dict[str, Any]]
) -> Path:
    swept = list(shown_values(grid[0]))
    rows = []
    for index, item in enumerate(items):
        if index not in params and not item.output.is_file():
            continue  # not dreamed yet
        recorded = params.get(index) or read_metadata(item.output) or {}
        rows.append({
            "file": item.output.name,
            "input": item.photo.name,
            "seed": item.settings.seed,
            **shown_values(item.values),
            "params": recorded,
        })  # fmt: skip
    path = directory / INDEX_JSON
    document = {"version": __version__, "seed": seed, "sweep": swept, "items": rows}
    with atomic_writer(path) as handle:
        handle.write(json.dumps(document, indent=1, sort_keys=True).encode())
    text = io.StringIO()
    columns = ["file", "input", "seed", *swept]
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_writer(directory / INDEX_CSV) as handle:
        handle.write(text.getvalue().encode())
    return path


def _checked_sheet(path: Path, count: int) -> Path:
    """The contact sheet's path, checked before anything is dreamed: a known format, writable, not too many tiles."""
    if count > SHEET_LIMIT:
        raise InvalidParameterError(f"a contact sheet shows at most {SHEET_LIMIT} dreams, the batch makes {count}; "
                                    "leave out --sheet or dream fewer", argument="sheet")  # fmt: skip
    output_format(path)
    return check_writable(path)


def _write_sheet(path: Path, items: list[BatchItem], grid: list[dict[str, Any]]) -> Path:
    tiles, labels = [], []
    for item in items:
        with Image.open(item.output) as image:
            tiles.append(ImageOps.pad(image.convert("RGB"), (SHEET_TILE, SHEET_TILE), color=(18, 18, 22)))
        labels.append(f"{item.photo.stem} {label(item.values)}".strip())
    return save_image(contact_sheet(tiles, labels, columns=len(grid)), path)
