"""The images given to `stdp-mnist predict`: MNIST-like preprocessing of hand-made digit
images, and one-line errors for files that are not usable images. (Classification by
a run: integration/test_predict_command.py and end_to_end/test_predict_real_digits.py.)"""

import struct
import zlib

import numpy as np
import pytest
from helpers.images import draw_one, draw_zero, save_image
from PIL import Image

from stdp_mnist.predict import ImageError, load_digit, preprocess


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[0:28, 0:28]
    mass = digit.astype(np.float64).sum()
    return (yy * digit).sum() / mass, (xx * digit).sum() / mass


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# --- preprocessing --------------------------------------------------------------------


@pytest.mark.parametrize("draw", [draw_one, draw_zero], ids=["one", "zero"])
def test_hand_drawn_digit_becomes_mnist_like(tmp_path, draw):
    digit = load_digit(save_image(tmp_path / "d.png", draw()))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() == 255  # white ink ...
    assert (
        digit[:3].max() == 0
        and digit[-3:].max() == 0
        and digit[:, :3].max() == 0
        and digit[:, -3:].max() == 0
    )
    assert max(ink_box(digit)) == 20  # ... scaled to fit 20 x 20, on black
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75  # centred by centre of mass


def test_one_keeps_its_aspect_and_zero_its_hole(tmp_path):
    one = load_digit(save_image(tmp_path / "one.png", draw_one()))
    height, width = ink_box(one)
    assert height == 20 and width <= 6
    zero = load_digit(save_image(tmp_path / "zero.png", draw_zero()))
    assert zero[14, 14] == 0 and zero[14].max() > 200  # dark hole inside a bright ring


def test_light_and_dark_backgrounds_agree():
    for image in (draw_one(), draw_zero()):
        np.testing.assert_array_equal(preprocess(image), preprocess(255 - image))


def test_any_size_and_position():
    reference = preprocess(draw_zero(100))
    big = np.full((1200, 1600), 255, np.uint8)
    big[50 : 50 + 900, 1000 : 1000 + 540] = np.asarray(Image.fromarray(draw_zero(100)).resize((540, 900)))
    digit = preprocess(big)  # a tall zero in a corner of a large photo
    assert digit.shape == (28, 28) and max(ink_box(digit)) == 20
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75
    small = preprocess(draw_one(12))  # smaller than MNIST: scaled up
    assert small.shape == (28, 28) and max(ink_box(small)) == 20
    assert np.abs(preprocess(draw_zero(300)).astype(int) - reference).mean() < 10


def test_grey_paper_and_colour_and_transparency(tmp_path):
    reference = load_digit(save_image(tmp_path / "plain.png", draw_one()))
    grey_paper = np.where(draw_one() == 0, 40, 200).astype(np.uint8)  # dark grey ink on grey paper
    np.testing.assert_array_equal(preprocess(grey_paper), reference)
    rgb = np.stack([draw_one()] * 3, axis=-1)
    rgb[..., 2] = np.maximum(rgb[..., 2], 60)  # blue ink
    assert np.abs(load_digit(save_image(tmp_path / "rgb.png", rgb)).astype(int) - reference).max() <= 3
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[..., 3] = 255 - draw_one()  # black ink, transparent background
    np.testing.assert_array_equal(load_digit(save_image(tmp_path / "alpha.png", rgba)), reference)
    rgba[..., :3] = 255  # a light (white) digit on a transparent background
    np.testing.assert_array_equal(load_digit(save_image(tmp_path / "light-alpha.png", rgba)), reference)
    jpeg = load_digit(save_image(tmp_path / "one.jpg", draw_one(), quality=85))
    assert jpeg.shape == (28, 28) and np.abs(jpeg.astype(int) - reference).mean() < 8


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels (enough for a size check)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "case, needle",
    [
        ("text", "not an image"),
        ("empty", "empty"),
        ("missing", "no such file"),
        ("directory", "directory"),
        ("huge", "too large"),
        ("truncated", "cannot read"),
        ("blank", "no digit"),
    ],
)
def test_unusable_files_are_one_line_errors(tmp_path, case, needle):
    path = tmp_path / f"{case}.png"
    if case == "text":
        path.write_text("this is not an image\n")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "directory":
        path.mkdir()
    elif case == "huge":
        path.write_bytes(_png_header_only(10_000, 6_000))
    elif case == "truncated":
        full = save_image(
            tmp_path / "full.png", np.random.default_rng(0).integers(0, 256, (200, 200)).astype(np.uint8)
        )
        path.write_bytes(full.read_bytes()[:300])
    elif case == "blank":
        save_image(path, np.full((50, 50), 255, np.uint8))
    with pytest.raises(ImageError) as info:
        load_digit(path)
    message = str(info.value)
    assert needle in message and str(path) in message and "\n" not in message
