"""The dataset folder of ``inceptionism train``: scanning, refusals, duplicates, checksum, split."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.errors import InvalidParameterError
from inceptionism.training import Dataset, scan_dataset, split_dataset
from inceptionism.training.dataset import _duplicates

SIZE = (96, 72)


def photo(seed: int, kind: int) -> Image.Image:
    """A seeded stand-in photo: smooth random colour fields (unlike any other seed's) under a pattern of its kind."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray((rng.random((5, 6, 3)) * 255).astype(np.uint8)).resize(SIZE, Image.Resampling.BICUBIC)
    y, x = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float64)
    angle, frequency = rng.uniform(0, np.pi), rng.uniform(0.2, 0.6)
    if kind == 0:  # stripes
        pattern = np.sin(frequency * (x * np.cos(angle) + y * np.sin(angle)))
    elif kind == 1:  # rings around a random centre
        pattern = np.sin(frequency * np.hypot(x - rng.uniform(0, SIZE[0]), y - rng.uniform(0, SIZE[1])))
    else:  # grain
        pattern = rng.normal(0, 0.7, x.shape)
    pixels = np.asarray(base, dtype=np.float64) + 40 * pattern[..., None]
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def make_dataset(root: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    """``root/<class>/<i>.jpg`` (every third a PNG) for each class and count."""
    for kind, (name, count) in enumerate(sizes.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            suffix = "png" if index % 3 == 2 else "jpg"
            photo(seed * 1000 + kind * 100 + index, kind % 3).save(folder / f"{index}.{suffix}")
    return root


def names(dataset: Dataset, paths) -> list[str]:
    return [path.relative_to(dataset.root).as_posix() for path in paths]


def message(error: pytest.ExceptionInfo) -> str:
    assert error.value.argument in ("dataset", "val", "seed", "min_per_class")
    return str(error.value)


def test_classes_sorted_and_counted_with_nested_folders(tmp_path):
    root = make_dataset(tmp_path, {"dogs": 5, "cats": 6, "birds": 7})
    (root / "cats" / "indoors").mkdir()
    photo(99, 1).save(root / "cats" / "indoors" / "sofa.jpg")
    dataset = scan_dataset(root)
    assert dataset.classes == ("birds", "cats", "dogs")
    assert dataset.counts() == {"birds": 7, "cats": 7, "dogs": 5}
    assert [label for _, label in dataset.items] == [0] * 7 + [1] * 7 + [2] * 5
    assert names(dataset, [path for path, _ in dataset.items])[7:14] == [
        "cats/0.jpg",
        "cats/1.jpg",
        "cats/2.png",
        "cats/3.jpg",
        "cats/4.jpg",
        "cats/5.png",
        "cats/indoors/sofa.jpg",
    ]
    assert (dataset.skipped, dataset.duplicates, dataset.ignored) == ((), (), 0)
    assert dataset.groups == tuple(range(19))  # the generated photos are all unlike each other
    assert dataset.report() == []


def test_other_files_hidden_files_and_root_files_are_ignored(tmp_path):
    root = make_dataset(tmp_path, {"cats": 5, "dogs": 5})
    (root / "cats" / "notes.txt").write_text("my cats")
    (root / "cats" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "dogs" / "README").write_text("no extension, not an image")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    photo(7, 0).save(root / "loose.jpg")  # at the root: in no class
    (root / ".thumbnails").mkdir()  # a hidden folder is no class, and nothing in it counts
    photo(8, 0).save(root / ".thumbnails" / "0.jpg")
    (root / "cats" / "._0.jpg").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X")  # macOS metadata beside a photo
    (root / "dogs" / ".cache").mkdir()
    photo(9, 0).save(root / "dogs" / ".cache" / "0.jpg")
    photo(10, 1).save(root / "dogs" / "IMG_0001", format="JPEG")  # no extension: an image by its content
    dataset = scan_dataset(root)
    assert dataset.classes == ("cats", "dogs")
    assert dataset.counts() == {"cats": 5, "dogs": 6}
    assert dataset.ignored == 6
    assert dataset.report() == []


def truncated(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_unreadable_images_are_skipped_and_reported(tmp_path):
    root = make_dataset(tmp_path, {"cats": 7, "dogs": 6})
    photo(50, 0).resize((640, 480)).save(root / "cats" / "cut.jpg", quality=95)
    truncated(root / "cats" / "cut.jpg", 0.9)  # a big JPEG, decoded at a fraction of its size: still caught
    photo(51, 1).save(root / "cats" / "cut_progressive.jpg", progressive=True)
    truncated(root / "cats" / "cut_progressive.jpg", 0.6)
    photo(52, 0).save(root / "dogs" / "cut.png")
    truncated(root / "dogs" / "cut.png", 0.8)
    (root / "dogs" / "notes.jpg").write_text("a text file with an image's name")
    (root / "dogs" / "empty.png").write_bytes(b"")
    dataset = scan_dataset(root)
    assert dataset.counts() == {"cats": 7, "dogs": 6}
    assert dict(
        zip(names(dataset, [path for path, _ in dataset.skipped]), [r for _, r in dataset.skipped], strict=True)
    ) == {
        "cats/cut.jpg": "damaged or truncated",
        "cats/cut_progressive.jpg": "damaged or truncated",
        "dogs/cut.png": "damaged or truncated",
        "dogs/empty.png": "empty file",
        "dogs/notes.jpg": "not an image Pillow can read",
    }
    assert dataset.report() == [
        "skipped 5 unreadable images: cats/cut.jpg, cats/cut_progressive.jpg, dogs/cut.png, dogs/empty.png, dogs/notes.jpg"
    ]
    (root / "dogs" / "notes2.jpg").write_text("another")
    assert scan_dataset(root).report() == [
        "skipped 6 unreadable images: cats/cut.jpg, cats/cut_progressive.jpg, dogs/cut.png, dogs/empty.png, dogs/notes.jpg and 1 more"
    ]


def test_decompression_bomb_is_skipped(tmp_path, monkeypatch):
    root = make_dataset(tmp_path, {"cats": 5, "dogs": 5})
    photo(60, 0).resize((400, 300)).save(root / "cats" / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # Pillow refuses over twice this: 400x300 but not 96x72
    dataset = scan_dataset(root)
    assert [(path.name, reason) for path, reason in dataset.skipped] == [
        ("huge.png", "too many pixels (possible decompression bomb)")
    ]
    assert dataset.report() == ["skipped 1 unreadable image: cats/huge.png"]


def test_exact_and_near_duplicates_are_found_and_grouped(tmp_path):
    root = make_dataset(tmp_path, {"cats": 6, "dogs": 5})
    shutil.copy(root / "cats" / "1.jpg", root / "cats" / "copy.jpg")
    with Image.open(root / "cats" / "0.jpg") as original:
        original.resize((77, 58), Image.Resampling.LANCZOS).save(root / "cats" / "smaller.jpg", quality=60)
    (root / "dogs" / "sub").mkdir()
    shutil.copy(root / "dogs" / "3.jpg", root / "dogs" / "sub" / "3.jpg")
    dataset = scan_dataset(root)
    found = [(*names(dataset, [first, second]), distance) for first, second, distance in dataset.duplicates]
    assert [(first, second) for first, second, _ in found] == [
        ("cats/1.jpg", "cats/copy.jpg"),
        ("cats/0.jpg", "cats/smaller.jpg"),
        ("dogs/3.jpg", "dogs/sub/3.jpg"),
    ]
    assert (found[0][2], found[2][2]) == (0, 0)
    assert 0 <= found[1][2] <= 4
    assert dataset.report() == [
        "found 2 exact and 1 near duplicates: cats/1.jpg = cats/copy.jpg, cats/0.jpg ~ cats/smaller.jpg, dogs/3.jpg = dogs/sub/3.jpg"
    ]
    group = dict(zip(names(dataset, [path for path, _ in dataset.items]), dataset.groups, strict=True))
    assert group["cats/1.jpg"] == group["cats/copy.jpg"]
    assert group["cats/0.jpg"] == group["cats/smaller.jpg"]
    assert group["dogs/3.jpg"] == group["dogs/sub/3.jpg"]
    assert len(set(dataset.groups)) == len(dataset.groups) - 3


def test_a_duplicate_pairs_with_its_exact_copy_before_an_earlier_look_alike(tmp_path):
    root = make_dataset(tmp_path, {"cats": 5, "dogs": 5})
    with Image.open(root / "cats" / "1.jpg") as original:
        original.save(root / "cats" / "0a.png")  # the same pixels in other bytes: distance 0, not exact
    shutil.copy(root / "cats" / "1.jpg", root / "cats" / "1a.jpg")
    dataset = scan_dataset(root)
    found = [(*names(dataset, [first, second]), distance) for first, second, distance in dataset.duplicates]
    assert found == [("cats/0a.png", "cats/1.jpg", 0), ("cats/1.jpg", "cats/1a.jpg", 0)]
    assert dataset.report() == [
        "found 1 exact and 1 near duplicates: cats/0a.png ~ cats/1.jpg, cats/1.jpg = cats/1a.jpg"
    ]
    assert dataset.groups[:4] == (0, 1, 1, 1)  # cats/0.jpg, then 0a.png, 1.jpg and 1a.jpg together


def test_a_chain_of_near_duplicates_is_one_group():
    # a ~ b and b ~ c (4 bits apart each) but a and c are 8 bits apart: still one group
    looks = np.array([0b0, 0b1111, 0b1111_1111, 0xFFFF << 40], dtype=np.uint64)
    pairs, groups = _duplicates(["a", "b", "c", "d"], looks)
    assert pairs == [(0, 1, 4), (1, 2, 4)]
    assert groups == (0, 0, 0, 1)


def test_refuses_a_path_that_is_not_a_folder(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"")
    for path in (tmp_path / "photo.jpg", tmp_path / "missing"):
        with pytest.raises(InvalidParameterError) as error:
            scan_dataset(path)
        assert (
            message(error) == f"dataset {path} is not a folder: give a folder with one sub-folder of images per class"
        )


@pytest.mark.parametrize("layout", ["empty", "loose images", "empty class folders", "unreadable only"])
def test_refuses_a_folder_without_images_in_class_folders(tmp_path, layout):
    root = tmp_path / "photos"
    root.mkdir()
    if layout == "loose images":
        photo(1, 0).save(root / "1.jpg")
        photo(2, 0).save(root / "2.jpg")
    if layout == "empty class folders":
        (root / "cats").mkdir()
        (root / "dogs").mkdir()
    if layout == "unreadable only":
        (root / "cats").mkdir()
        (root / "cats" / "1.jpg").write_text("not an image")
    with pytest.raises(InvalidParameterError) as error:
        scan_dataset(root)
    assert message(error) == (
        f"dataset {root} holds no images in class folders: put each class's images in a sub-folder named after it "
        f"({root}/cats/1.jpg, {root}/dogs/1.jpg)"
    )


def test_refuses_a_single_class(tmp_path):
    root = make_dataset(tmp_path, {"cats": 6})
    with pytest.raises(InvalidParameterError) as error:
        scan_dataset(root)
    assert message(error) == f"dataset {root} has one class (cats): a classifier needs at least 2 class folders"


def test_refuses_a_class_with_too_few_images(tmp_path):
    root = make_dataset(tmp_path, {"cats": 6, "dogs": 3, "fish": 5})
    (root / "dogs" / "broken.jpg").write_text("unreadable images do not count")
    with pytest.raises(InvalidParameterError) as error:
        scan_dataset(root)
    assert message(error) == "class 'dogs' has 3 images; each class needs at least 5 (add images or remove the folder)"
    with pytest.raises(InvalidParameterError) as error:
        scan_dataset(root, min_per_class=7)
    assert message(error) == (
        "classes 'cats' (6), 'dogs' (3), 'fish' (5) have too few images; each class needs at least 7 "
        "(add images or remove the folders)"
    )
    assert scan_dataset(root, min_per_class=3).counts() == {"cats": 6, "dogs": 3, "fish": 5}
    (root / "birds").mkdir()
    with pytest.raises(InvalidParameterError) as error:
        scan_dataset(root, min_per_class=3)
    assert message(error) == "class 'birds' has 0 images; each class needs at least 3 (add images or remove the folder)"


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_refuses_a_bad_min_per_class(tmp_path, value):
    with pytest.raises(InvalidParameterError) as error:
        scan_dataset(tmp_path, min_per_class=value)
    assert message(error) == f"min_per_class must be a positive integer, got {value!r}"


def test_checksum_is_stable_and_names_the_data(tmp_path):
    root = make_dataset(tmp_path / "a", {"cats": 5, "dogs": 5})
    first = scan_dataset(root).checksum
    assert len(first) == 64 and scan_dataset(root).checksum == first
    assert scan_dataset(shutil.copytree(root, tmp_path / "b")).checksum == first  # the folder's place does not count
    photo(500, 0).save(root / "dogs" / "1.jpg")  # new pixels under an old name
    changed = scan_dataset(root).checksum
    assert changed != first
    (root / "dogs" / "1.jpg").rename(root / "dogs" / "1b.jpg")  # a new name in the same place in the order
    assert scan_dataset(root).checksum not in (first, changed)


@pytest.fixture
def big_dataset(tmp_path) -> Dataset:
    return scan_dataset(make_dataset(tmp_path, {"cats": 20, "dogs": 11, "fish": 6}))


def test_split_is_stratified_and_seeded(big_dataset):
    train, val = split_dataset(big_dataset, 0.2, seed=1)
    assert sorted(train + val) == list(range(37)) and not set(train) & set(val)
    assert train == sorted(train) and val == sorted(val)
    labels = [label for _, label in big_dataset.items]
    assert Counter(labels[i] for i in val) == {0: 4, 1: 2, 2: 1}
    assert split_dataset(big_dataset, 0.2, seed=1) == (train, val)
    assert split_dataset(big_dataset, 0.2, seed=2) != (train, val)
    assert Counter(labels[i] for i in split_dataset(big_dataset, 0.2, seed=2)[1]) == {0: 4, 1: 2, 2: 1}


def test_split_gives_each_class_at_least_one_validation_and_one_training_image(big_dataset):
    labels = [label for _, label in big_dataset.items]
    for val, expected in [(0.01, {0: 1, 1: 1, 2: 1}), (0.9, {0: 18, 1: 10, 2: 5})]:
        assert Counter(labels[i] for i in split_dataset(big_dataset, val, seed=0)[1]) == expected


def test_split_leaves_a_small_class_one_training_image(tmp_path):
    dataset = scan_dataset(make_dataset(tmp_path, {"cats": 6, "dogs": 3}), min_per_class=3)
    labels = [label for _, label in dataset.items]
    train, val = split_dataset(dataset, 0.9, seed=0)  # round(0.9 * 3) = 3 dogs: one is kept to train on
    assert (Counter(labels[i] for i in train), Counter(labels[i] for i in val)) == ({0: 1, 1: 1}, {0: 5, 1: 2})


def test_split_without_validation(big_dataset):
    assert split_dataset(big_dataset, 0, seed=3) == (list(range(37)), [])


@pytest.mark.parametrize("val", [1.5, -0.1, 0.95, float("nan"), "0.2", True])
def test_split_refuses_a_bad_val(big_dataset, val):
    with pytest.raises(InvalidParameterError) as error:
        split_dataset(big_dataset, val, seed=0)
    assert message(error) == f"val must be in 0..0.9, got {val!r}"


def test_split_refuses_a_bad_seed(big_dataset):
    with pytest.raises(InvalidParameterError) as error:
        split_dataset(big_dataset, 0.2, seed="one")
    assert message(error) == "seed must be an integer, got 'one'"


def test_split_keeps_each_group_of_duplicates_on_one_side(tmp_path):
    root = make_dataset(tmp_path, {"cats": 12, "dogs": 12})
    for index in range(0, 12, 2):  # half the cats have a copy, half the dogs a resized one
        shutil.copy(root / "cats" / f"{index}.{'png' if index % 3 == 2 else 'jpg'}", root / "cats" / f"copy{index}.png")
        with Image.open(root / "dogs" / f"{index}.{'png' if index % 3 == 2 else 'jpg'}") as original:
            original.resize((80, 60), Image.Resampling.LANCZOS).save(root / "dogs" / f"small{index}.jpg", quality=70)
    shutil.copy(root / "cats" / "1.jpg", root / "dogs" / "cat_among_dogs.jpg")  # a group across classes
    dataset = scan_dataset(root)
    assert len(dataset.duplicates) == 13
    labels = [label for _, label in dataset.items]
    for seed in range(20):
        train, val = split_dataset(dataset, 0.3, seed=seed)
        assert not {dataset.groups[i] for i in train} & {dataset.groups[i] for i in val}
        counts = Counter(labels[i] for i in val)
        assert 3 <= counts[0] <= 5 and 4 <= counts[1] <= 6  # round(0.3 * 18) = 5, round(0.3 * 19) = 6


def test_split_of_a_class_whose_images_are_all_duplicates_still_validates_on_one_group(tmp_path):
    root = make_dataset(tmp_path, {"cats": 6, "dogs": 2})
    shutil.copy(root / "dogs" / "0.jpg", root / "dogs" / "0b.jpg")
    shutil.copy(root / "dogs" / "1.jpg", root / "dogs" / "1b.jpg")
    dataset = scan_dataset(root, min_per_class=4)
    labels = [label for _, label in dataset.items]
    for seed in range(10):
        train, val = split_dataset(dataset, 0.2, seed=seed)
        assert Counter(labels[i] for i in val) == {0: 1, 1: 2}  # one pair of dogs: 2 of 4, not 1
        assert Counter(labels[i] for i in train) == {0: 5, 1: 2}
