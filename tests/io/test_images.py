"""Image input and output: every input kind made RGB, exact error text, atomic writes with metadata."""

from __future__ import annotations

import errno
import io
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from inceptionism.errors import ImageError, InvalidParameterError, OutputError
from inceptionism.io.files import atomic_writer, check_writable, unused_path
from inceptionism.io.images import load_image, output_format, read_metadata, save_image, to_image, to_tensor

ORIENTATION = 0x0112
IMAGE_DESCRIPTION = 0x010E
RED, GREEN, BLUE, GREY = (255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128)
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
FLOAT_RANGE_MESSAGE = "a float image array must hold finite values in 0..1"
EXTENSIONS = ".png, .jpg, .jpeg, .webp"


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern for this whole message and nothing else."""
    return f"^{re.escape(message)}$"


def starting(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern for a message that begins with ``message``."""
    return f"^{re.escape(message)}"


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(int)


def noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def row(*values) -> np.ndarray:
    """A one-row image array from a list of pixel values."""
    return np.array([values])


def write(path: Path, image: Image.Image, **options) -> Path:
    image.save(path, **options)
    return path


def scratch_files(directory: Path) -> list[str]:
    return sorted(name.name for name in directory.iterdir() if name.name.endswith(".tmp"))


# --- load_image: EXIF orientation -------------------------------------------------------------


def oriented_photo() -> Image.Image:
    """A 40x20 grey image, red 8x8 block at the top left and blue 8x8 block at the bottom right."""
    image = Image.new("RGB", (40, 20), GREY)
    image.paste(RED, (0, 0, 8, 8))
    image.paste(BLUE, (32, 12, 40, 20))
    return image


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png"])
@pytest.mark.parametrize("as_pil", [False, True], ids=["path", "pil"])
def test_exif_orientation_6_rotates_90_degrees_clockwise(tmp_path, name, as_pil):
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    path = write(tmp_path / name, oriented_photo(), exif=exif.tobytes(), quality=95)
    assert Image.open(path).getexif()[ORIENTATION] == 6

    loaded = load_image(Image.open(path) if as_pil else path)

    assert loaded.image.mode == "RGB"
    assert loaded.image.size == (20, 40)
    assert loaded.original_size == (20, 40)
    assert not loaded.scaled
    array = pixels(loaded.image)
    # Turning clockwise takes stored (x, y) to (19 - y, x): the red corner goes top right, blue bottom left.
    np.testing.assert_allclose(array[3, 16], RED, atol=12)
    np.testing.assert_allclose(array[36, 3], BLUE, atol=12)
    np.testing.assert_allclose(array[3, 3], GREY, atol=12)
    np.testing.assert_allclose(array[36, 16], GREY, atol=12)


def test_exif_orientation_1_leaves_the_image_as_stored(tmp_path):
    exif = Image.Exif()
    exif[ORIENTATION] = 1
    path = write(tmp_path / "photo.png", oriented_photo(), exif=exif.tobytes())

    assert np.array_equal(pixels(load_image(path).image), pixels(oriented_photo()))


# --- load_image: modes --------------------------------------------------------------------------


def palette_image(transparent_index: int | None = None) -> Image.Image:
    image = Image.new("P", (3, 1))
    image.putpalette([*RED, *GREEN, *BLUE])
    image.putdata([0, 1, 2])
    if transparent_index is not None:
        image.info["transparency"] = transparent_index
    return image


# name, file the image is stored in, the image, the RGB pixels expected
MODE_CASES = [
    ("L", "grey.png", Image.fromarray(row(0, 77, 255).astype(np.uint8), "L"), [BLACK, (77,) * 3, WHITE]),
    ("1", "bilevel.png", Image.fromarray(row(False, True, False)), [BLACK, WHITE, BLACK]),
    (
        "LA",
        "grey-alpha.png",
        Image.fromarray(row((0, 255), (0, 0), (0, 128), (200, 255)).astype(np.uint8), "LA"),
        [BLACK, WHITE, (127,) * 3, (200,) * 3],
    ),
    ("P", "palette.png", palette_image(), [RED, GREEN, BLUE]),
    ("P", "palette-transparent.png", palette_image(transparent_index=1), [RED, WHITE, BLUE]),
    (
        "RGBA",
        "rgba.png",
        Image.fromarray(row((255, 0, 0, 128), (0, 0, 255, 255), (0, 255, 0, 0)).astype(np.uint8), "RGBA"),
        [(255, 127, 127), BLUE, WHITE],
    ),
    (
        "CMYK",
        "cmyk.tif",
        Image.fromarray(row((255, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 0)).astype(np.uint8), "CMYK"),
        [(0, 255, 255), BLACK, WHITE],
    ),
    (
        "I;16",
        "grey16.png",
        Image.fromarray(row(0, 257, 32896, 60000, 65535).astype(np.uint16)),
        [BLACK, (1,) * 3, (128,) * 3, (233,) * 3, WHITE],
    ),
    (
        "I",
        "grey32.tif",
        Image.fromarray(row(0, 32896, 60000, 65535).astype(np.int32)),
        [BLACK, (128,) * 3, (233,) * 3, WHITE],
    ),
    ("F", "float-unit.tif", Image.fromarray(row(0.0, 0.2, 1.0).astype(np.float32)), [BLACK, (51,) * 3, WHITE]),
    ("F", "float-byte.tif", Image.fromarray(row(0.0, 51.0, 255.0).astype(np.float32)), [BLACK, (51,) * 3, WHITE]),
]


@pytest.mark.parametrize(("mode", "name", "image", "expected"), MODE_CASES, ids=[case[1] for case in MODE_CASES])
@pytest.mark.parametrize("as_pil", [False, True], ids=["path", "pil"])
def test_every_mode_comes_out_rgb_with_known_pixels(tmp_path, mode, name, image, expected, as_pil):
    assert image.mode == mode
    path = write(tmp_path / name, image)
    reopened = Image.open(path)
    assert reopened.mode == mode, "the file must hold the mode under test"

    loaded = load_image(reopened if as_pil else path)

    assert loaded.image.mode == "RGB"
    assert loaded.image.size == image.size
    assert pixels(loaded.image).tolist() == [[list(value) for value in expected]]


def test_pil_input_is_copied_not_changed():
    source = Image.fromarray(row((10, 20, 30, 128)).astype(np.uint8), "RGBA")
    before = source.tobytes()

    loaded = load_image(source)

    assert loaded.image is not source
    assert loaded.name is None
    assert source.mode == "RGBA"
    assert source.tobytes() == before


# --- load_image: numpy arrays -------------------------------------------------------------------


def test_uint8_rgb_array_is_taken_exactly():
    array = noise(6, 5)

    loaded = load_image(array)

    assert loaded.name is None
    assert loaded.image.mode == "RGB"
    assert loaded.image.size == (5, 6)
    assert np.array_equal(np.asarray(loaded.image), array)


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 1)])
def test_grey_array_is_repeated_over_three_channels(shape):
    grey = np.arange(12, dtype=np.uint8).reshape(4, 3) * 20

    array = pixels(load_image(grey.reshape(shape)).image)

    assert array.shape == (4, 3, 3)
    for channel in range(3):
        assert np.array_equal(array[:, :, channel], grey)


def test_rgba_array_is_composited_over_white():
    array = row((255, 0, 0, 128), (0, 0, 255, 255), (0, 255, 0, 0)).astype(np.uint8)

    assert pixels(load_image(array).image).tolist() == [[[255, 127, 127], list(BLUE), list(WHITE)]]


def test_uint16_array_is_divided_by_257():
    array = row((0, 257, 65535), (32896, 60000, 1000)).astype(np.uint16)

    # 60000 / 257 = 233.46 (dividing by 256 would give 234); 1000 / 257 = 3.89, rounded to 4
    assert pixels(load_image(array).image).tolist() == [[[0, 1, 255], [128, 233, 4]]]


def test_float_array_in_unit_range_is_scaled_to_255():
    array = row((0.0, 0.5, 1.0), (0.2, 0.1, 0.999))

    # 0.5 * 255 = 127.5 rounds to even, 128
    assert pixels(load_image(array).image).tolist() == [[[0, 128, 255], [51, 26, 255]]]


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan, np.inf])
def test_float_array_out_of_range_or_not_finite_is_refused(bad):
    array = np.full((2, 2, 3), 0.5)
    array[1, 1, 2] = bad

    with pytest.raises(ImageError, match=exactly(FLOAT_RANGE_MESSAGE)):
        load_image(array)


@pytest.mark.parametrize("shape", [(4, 5, 2), (1, 4, 5, 3), (7,), (4, 5, 5)])
def test_array_of_wrong_shape_names_the_shape(shape):
    expected = f"an image array must be (H, W), (H, W, 3) or (H, W, 4), got shape {shape}"

    with pytest.raises(ImageError, match=exactly(expected)):
        load_image(np.zeros(shape, dtype=np.uint8))


def test_array_of_unsupported_dtype_is_refused():
    with pytest.raises(ImageError, match=exactly("unsupported image array dtype bool")):
        load_image(np.zeros((2, 2, 3), dtype=bool))


# --- load_image: max_size -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_size", "expected"),
    [
        ((400, 100), 200, (200, 50)),
        ((100, 400), 200, (50, 200)),
        ((401, 100), 200, (200, 50)),
        ((1000, 3), 10, (10, 1)),
    ],
)
def test_max_size_scales_the_long_side_down(size, max_size, expected):
    loaded = load_image(Image.new("RGB", size, GREY), max_size=max_size)

    assert loaded.image.size == expected
    assert loaded.original_size == size
    assert loaded.scaled
    np.testing.assert_allclose(pixels(loaded.image), 128, atol=1)


@pytest.mark.parametrize(("size", "max_size"), [((100, 50), 200), ((200, 50), 200), ((200, 50), None)])
def test_image_within_max_size_is_returned_unchanged(size, max_size):
    array = noise(size[1], size[0])

    loaded = load_image(array, max_size=max_size)

    assert loaded.image.size == size
    assert loaded.original_size == size
    assert not loaded.scaled
    assert np.array_equal(np.asarray(loaded.image), array)


@pytest.mark.parametrize(("max_size", "shown"), [(0, "0"), (-5, "-5"), (2.5, "2.5"), ("200", "'200'")])
def test_max_size_must_be_a_positive_integer(max_size, shown):
    expected = f"max_size must be a positive integer, got {shown}"

    with pytest.raises(InvalidParameterError, match=exactly(expected)):
        load_image(noise(4, 4), max_size=max_size)


def test_max_size_true_is_refused():
    with pytest.raises(InvalidParameterError, match=exactly("max_size must be a positive integer, got True")):
        load_image(noise(4, 4), max_size=True)


# --- load_image: files and errors ---------------------------------------------------------------


@pytest.mark.parametrize("as_str", [False, True], ids=["Path", "str"])
def test_file_name_is_kept(tmp_path, as_str):
    path = write(tmp_path / "photo.png", Image.fromarray(noise(3, 4)))

    loaded = load_image(str(path) if as_str else path)

    assert loaded.name == str(path)
    assert np.array_equal(np.asarray(loaded.image), noise(3, 4))


def expect_image_error(source, message: str) -> None:
    with pytest.raises(ImageError, match=exactly(message)):
        load_image(source)


def test_missing_file(tmp_path):
    expect_image_error(tmp_path / "absent.png", f"input not found: {tmp_path / 'absent.png'}")


def test_directory(tmp_path):
    expect_image_error(tmp_path, f"input is a directory, not an image: {tmp_path}")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()

    expect_image_error(path, f"input is an empty file: {path}")


def test_text_file_with_an_image_name(tmp_path):
    path = tmp_path / "x.png"
    path.write_text("not a picture\n")

    expect_image_error(path, f"{path} is not an image Pillow can read")


def test_truncated_jpeg(tmp_path):
    whole = io.BytesIO()
    Image.fromarray(noise(256, 256)).save(whole, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])

    with pytest.raises(ImageError, match=starting(f"{path} is damaged or truncated: image file is truncated")):
        load_image(path)


def decompression_bomb(path: Path, width: int, height: int) -> Path:
    """A valid 1x1 PNG whose header claims ``width`` x ``height``, with a correct CRC."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    assert data[12:16] == b"IHDR"
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    path.write_bytes(bytes(data))
    return path


def test_decompression_bomb_is_refused(tmp_path):
    path = decompression_bomb(tmp_path / "bomb.png", 30000, 30000)
    assert path.stat().st_size < 100
    limit = 2 * Image.MAX_IMAGE_PIXELS
    expected = (
        f"{path} is refused as a possible decompression bomb: Image size (900000000 pixels) exceeds limit of "
        f"{limit} pixels, could be decompression bomb DOS attack."
    )

    expect_image_error(path, expected)


@pytest.mark.parametrize(
    ("source", "kind"), [(42, "int"), ([[0, 1]], "list"), (b"photo.png", "bytes"), (None, "NoneType")]
)
def test_unsupported_input_type(source, kind):
    expect_image_error(source, f"cannot use {kind} as an image; give a path, a PIL image or an array")


def grey16_pgm(path: Path, values: list[int]) -> Path:
    """A one-row 16-bit PGM (maxval 65535), which Pillow opens in mode "I"."""
    path.write_bytes(f"P5\n{len(values)} 1\n65535\n".encode() + np.array(values, dtype=">u2").tobytes())
    return path


def test_16_bit_pgm_pixel_does_not_depend_on_its_neighbours(tmp_path):
    dark = grey16_pgm(tmp_path / "dark.pgm", [100, 200])
    bright = grey16_pgm(tmp_path / "bright.pgm", [100, 60000])
    assert Image.open(dark).mode == Image.open(bright).mode == "I"

    assert pixels(load_image(bright).image)[0, :, 0].tolist() == [0, 233]
    assert pixels(load_image(dark).image)[0, :, 0].tolist() == [0, 1]


def test_input_file_is_never_modified(tmp_path):
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    path = write(tmp_path / "photo.jpg", oriented_photo(), exif=exif.tobytes())
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before_bytes, before_mtime = path.read_bytes(), path.stat().st_mtime_ns

    load_image(path, max_size=10)

    assert path.read_bytes() == before_bytes
    assert path.stat().st_mtime_ns == before_mtime == 1_000_000_000_000_000_000
    assert sorted(tmp_path.iterdir()) == [path]


# --- to_tensor / to_image -----------------------------------------------------------------------


def test_to_tensor_layout_and_range():
    array = noise(6, 5)

    tensor = to_tensor(Image.fromarray(array))

    assert tensor.shape == (1, 3, 6, 5)
    assert tensor.dtype == torch.float32
    assert tensor.is_contiguous()
    assert tensor.min().item() == array.min()
    assert tensor.max().item() == array.max()
    assert tensor[0, 2, 4, 1].item() == array[4, 1, 2]


def test_to_tensor_of_grey_image_has_three_equal_channels():
    tensor = to_tensor(Image.fromarray(np.array([[0, 100], [200, 255]], dtype=np.uint8), "L"))

    assert tensor.shape == (1, 3, 2, 2)
    for channel in range(3):
        assert tensor[0, channel].tolist() == [[0.0, 100.0], [200.0, 255.0]]


def test_round_trip_is_exact():
    array = noise(32, 24, seed=3)

    image = to_image(to_tensor(Image.fromarray(array)))

    assert image.mode == "RGB"
    assert np.array_equal(np.asarray(image), array)


def test_to_image_clamps_and_rounds():
    tensor = torch.tensor([-10.0, 300.0, 127.4, 127.6, 0.0, 255.0]).reshape(1, 1, 2, 3).expand(1, 3, 2, 3)

    array = pixels(to_image(tensor))

    assert array[:, :, 0].tolist() == [[0, 255, 127], [128, 0, 255]]
    assert np.array_equal(array[:, :, 0], array[:, :, 2])


def test_to_image_accepts_three_dimensions_and_gradients():
    tensor = torch.rand(1, 3, 4, 5, generator=torch.Generator().manual_seed(0)).mul(255).requires_grad_()

    batched, single = to_image(tensor), to_image(tensor[0])

    assert single.size == (5, 4)
    assert np.array_equal(np.asarray(batched), np.asarray(single))


# --- save_image / read_metadata / output_format -------------------------------------------------

METADATA = {
    "version": "1.2.3",
    "model": "squeezenet1_1",
    "octaves": 4,
    "step": 0.015,
    "layers": ["fire6", "fire7"],
    "seed": None,
    "jitter": True,
    "nested": {"weights": [0.5, 1.5], "name": "caf\u00e9"},
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("out.png", "PNG"), ("out.jpg", "JPEG"), ("out.jpeg", "JPEG"), ("OUT.JPG", "JPEG"), ("out.webp", "WEBP")],
)
def test_save_and_read_back_metadata(tmp_path, name, fmt):
    path = tmp_path / name

    returned = save_image(Image.fromarray(noise(12, 20)), path, metadata=METADATA)

    assert returned == path
    assert read_metadata(path) == METADATA
    with Image.open(path) as saved:
        assert saved.format == fmt
        assert saved.size == (20, 12)
    assert sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(("name", "fmt"), [("a.png", "PNG"), ("a.JPG", "JPEG"), ("a.Jpeg", "JPEG"), ("a.WebP", "WEBP")])
def test_output_format_follows_the_extension_in_any_case(name, fmt):
    assert output_format(name) == fmt


def test_png_is_lossless_and_names_the_software(tmp_path):
    array = noise(9, 7)
    path = save_image(Image.fromarray(array), tmp_path / "out.png", metadata=METADATA)

    with Image.open(path) as saved:
        assert saved.info["Software"] == "inceptionism 1.2.3"
        assert np.array_equal(np.asarray(saved), array)


def test_png_software_without_a_version(tmp_path):
    path = save_image(Image.new("RGB", (2, 2)), tmp_path / "out.png", metadata={"seed": 1})

    with Image.open(path) as saved:
        assert saved.info["Software"] == "inceptionism"
    assert read_metadata(path) == {"seed": 1}


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("out.bmp", "'.bmp'"), ("out", "'(none)'"), ("out.tar.gz", "'.gz'"), ("dir.png/out", "'(none)'")],
)
def test_unknown_extension_is_refused(tmp_path, name, suffix):
    expected = f"cannot write {name}: unknown image extension {suffix}; use one of {EXTENSIONS}"

    with pytest.raises(OutputError, match=exactly(expected)):
        output_format(name)
    with pytest.raises(OutputError, match=starting(f"cannot write {tmp_path / name}: unknown")):
        save_image(Image.new("RGB", (2, 2)), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_missing_directory(tmp_path):
    path = tmp_path / "absent" / "out.png"

    with pytest.raises(OutputError, match=exactly(f"cannot write {path}: No such file or directory")):
        save_image(Image.new("RGB", (2, 2)), path)
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_leaves_old_file_and_no_scratch(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    path.write_bytes(b"earlier result")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OutputError, match=exactly(f"cannot write {path}: No space left on device")):
        save_image(Image.new("RGB", (2, 2)), path, metadata=METADATA)

    assert path.read_bytes() == b"earlier result"
    assert sorted(tmp_path.iterdir()) == [path]


def test_failure_while_encoding_leaves_no_file(tmp_path, monkeypatch):
    def broken_save(self, fp, format=None, **params):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(RuntimeError, match=exactly("encoder crashed")):
        save_image(Image.new("RGB", (2, 2)), tmp_path / "out.png")

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("image", "name"), [(Image.new("RGBA", (2, 2)), "out.jpg"), (Image.new("RGB", (16384, 1)), "out.webp")]
)
def test_image_the_format_cannot_hold_is_an_output_error(tmp_path, image, name):
    with pytest.raises(OutputError, match=starting(f"cannot write {tmp_path / name}: ")):
        save_image(image, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_exception_inside_atomic_writer_removes_the_scratch_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    with pytest.raises(KeyboardInterrupt), atomic_writer(path) as handle:
        handle.write(b"half of the new")
        assert scratch_files(tmp_path) != []
        raise KeyboardInterrupt

    assert path.read_bytes() == b"old"
    assert scratch_files(tmp_path) == []


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield 0o027
    os.umask(previous)


def test_saving_over_a_file_replaces_it_with_usual_permissions(tmp_path, umask_027):
    path = tmp_path / "out.png"
    save_image(Image.fromarray(noise(64, 64)), path, metadata={"seed": 1})
    path.chmod(0o600)
    small = Image.fromarray(noise(8, 8, seed=5))
    reference = save_image(small, tmp_path / "reference.png", metadata={"seed": 2})

    save_image(small, path, metadata={"seed": 2})

    assert path.read_bytes() == reference.read_bytes()
    assert read_metadata(path) == {"seed": 2}
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask_027 == 0o640
    assert scratch_files(tmp_path) == []


def test_read_metadata_without_metadata_is_none(tmp_path):
    png = save_image(Image.new("RGB", (2, 2)), tmp_path / "plain.png")
    jpeg = save_image(Image.new("RGB", (2, 2)), tmp_path / "plain.jpg")
    exif = Image.Exif()
    exif[IMAGE_DESCRIPTION] = "a cat on a sofa"
    described = write(tmp_path / "described.jpg", Image.new("RGB", (2, 2)), exif=exif.tobytes())

    assert read_metadata(png) is None
    assert read_metadata(jpeg) is None
    assert read_metadata(described) is None


def test_read_metadata_errors(tmp_path):
    absent, text, damaged = tmp_path / "absent.png", tmp_path / "notes.png", tmp_path / "damaged.png"
    text.write_text("hello\n")
    info = PngImagePlugin.PngInfo()
    info.add_text("inceptionism", "{not json")
    write(damaged, Image.new("RGB", (2, 2)), pnginfo=info)

    with pytest.raises(ImageError, match=exactly(f"input not found: {absent}")):
        read_metadata(absent)
    with pytest.raises(ImageError, match=exactly(f"{text} is not an image Pillow can read")):
        read_metadata(text)
    with pytest.raises(ImageError, match=exactly(f"input is a directory, not an image: {tmp_path}")):
        read_metadata(tmp_path)
    with pytest.raises(ImageError, match=exactly(f"{damaged} has damaged inceptionism metadata")):
        read_metadata(damaged)


# --- files.py -----------------------------------------------------------------------------------


def test_check_writable_refuses_a_directory(tmp_path):
    expected = f"cannot write {tmp_path}: it is a directory; give a file name"

    with pytest.raises(OutputError, match=exactly(expected)):
        check_writable(tmp_path)


def test_check_writable_refuses_a_missing_directory(tmp_path):
    path = tmp_path / "absent" / "out.png"
    expected = f"cannot write {path}: directory {tmp_path / 'absent'} does not exist"

    with pytest.raises(OutputError, match=exactly(expected)):
        check_writable(path)
    assert list(tmp_path.iterdir()) == []


def test_check_writable_leaves_nothing_behind(tmp_path):
    new, existing = tmp_path / "new.png", tmp_path / "existing.png"
    existing.write_bytes(b"keep me")

    assert check_writable(str(new)) == new
    assert check_writable(existing) == existing

    assert sorted(tmp_path.iterdir()) == [existing]
    assert existing.read_bytes() == b"keep me"


@pytest.mark.parametrize(
    ("name", "second", "third"), [("out.png", "out-2.png", "out-3.png"), ("out", "out-2", "out-3")]
)
def test_unused_path_counts_up_from_2(tmp_path, name, second, third):
    path = tmp_path / name
    assert unused_path(str(path)) == path

    path.touch()
    assert unused_path(path) == tmp_path / second

    (tmp_path / second).touch()
    assert unused_path(path) == tmp_path / third
    assert len(list(tmp_path.iterdir())) == 2
