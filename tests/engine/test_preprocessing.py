import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks.make_canvas_digits import make_canvas_digits
from mlp_engine.datasets import read_idx
from mlp_engine.preprocessing import (
    MAX_IMAGE_SIDE,
    STROKE_RANGE,
    BlankImageError,
    _morph,
    decode_base64_image,
    decode_image,
    naive_resize,
    preprocess_digit,
    stroke_width,
    to_ink,
)

CANVAS = 300


def _ink_canvas(points, width=16):
    """(CANVAS, CANVAS) L image, white strokes on black, through ``points``."""
    ink = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(ink).line(points, fill=255, width=width, joint="curve")
    return ink


TWO = [(150, 40), (230, 20), (280, 70), (250, 140), (150, 250), (290, 250)]


def _two_canvas():
    """A large '2'-like stroke, well off-centre (towards the top right)."""
    return _ink_canvas(TWO)


def _encode(ink, encoding):
    if encoding == "dark_on_transparent":
        image = Image.new("RGBA", ink.size, (0, 0, 0, 0))
        image.putalpha(ink)
        return image
    if encoding == "dark_on_white":
        return Image.eval(ink, lambda v: 255 - v).convert("RGB")
    return ink


def _png(image, fmt="PNG", **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def _center_of_mass(digit):
    mass = digit.sum()
    return digit.sum(axis=1) @ np.arange(28) / mass, digit.sum(axis=0) @ np.arange(28) / mass


def _bbox_shape(digit):
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _corr(a, b):
    return np.corrcoef(a.ravel(), b.ravel())[0, 1]


ENCODINGS = ("dark_on_transparent", "dark_on_white", "light_on_black")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_to_ink_gives_white_ink_on_black(encoding):
    ink = _two_canvas()
    got = to_ink(decode_image(_png(_encode(ink, encoding))))
    assert got.shape == (CANVAS, CANVAS) and got.dtype == np.float32
    np.testing.assert_allclose(got, np.asarray(ink) / 255.0, atol=1 / 255)


def test_three_encodings_give_the_same_centred_digit():
    digits = [preprocess_digit(decode_image(_png(_encode(_two_canvas(), e)))) for e in ENCODINGS]
    for digit in digits:
        assert digit.shape == (28, 28) and digit.dtype == np.float32
        assert digit.min() >= 0.0 and digit.max() == pytest.approx(1.0)
        row, col = _center_of_mass(digit)
        assert abs(row - 14) <= 1 and abs(col - 14) <= 1
        assert max(_bbox_shape(digit)) in (19, 20)
    assert np.abs(digits[0] - digits[1]).max() < 1e-2
    assert np.abs(digits[0] - digits[2]).max() < 1e-2


@pytest.mark.parametrize("quality", [50, 75])
def test_jpeg_ringing_does_not_grow_the_bounding_box(quality):
    drawing = _encode(_two_canvas(), "dark_on_white")
    from_png = preprocess_digit(decode_image(_png(drawing)))
    from_jpeg = preprocess_digit(decode_image(_png(drawing, "JPEG", quality=quality)))
    assert _corr(from_png, from_jpeg) > 0.99


def test_grey_pen_on_grey_paper():
    ink = np.asarray(_two_canvas(), dtype=np.float32) / 255.0
    paper = 0.8 - 0.4 * ink  # background 0.8, strokes 0.4: half the contrast of black on white
    np.testing.assert_allclose(to_ink(paper), 0.5 * ink, atol=1e-6)
    assert preprocess_digit(paper).max() == pytest.approx(1.0)


def test_arrays_and_images_give_the_same_digit():
    image = _encode(_two_canvas(), "dark_on_transparent")
    rgba = np.asarray(image)  # (H, W, 4) uint8
    expected = preprocess_digit(image)
    np.testing.assert_allclose(preprocess_digit(rgba), expected, atol=1e-6)
    np.testing.assert_allclose(preprocess_digit(rgba / 255.0), expected, atol=1e-5)


@pytest.mark.parametrize(
    "points, tall",
    [([(100, 30), (100, 270)], True), ([(20, 200), (280, 200)], False)],
    ids=["vertical", "horizontal"],
)
def test_aspect_ratio_is_kept(points, tall):
    digit = preprocess_digit(_ink_canvas(points, width=10))
    long_side, short_side = 20, 3  # a 10x250 bar scales to about 1x20
    height, width = _bbox_shape(digit)
    assert (height, width)[not tall] == long_side
    assert (height, width)[tall] <= short_side


def test_center_of_mass_versus_bounding_box():
    # An 'L': most of its mass is in the long vertical stroke on the left.
    drawing = _ink_canvas([(60, 20), (60, 280), (280, 280)], width=30)
    boxed = preprocess_digit(drawing, center_of_mass=False)
    rows = np.flatnonzero(boxed.any(axis=1))
    cols = np.flatnonzero(boxed.any(axis=0))
    assert abs(rows[0] - (27 - rows[-1])) <= 1 and abs(cols[0] - (27 - cols[-1])) <= 1
    assert _center_of_mass(boxed)[1] < 13  # the box centre is not the mass centre

    centred = preprocess_digit(drawing)
    row, col = _center_of_mass(centred)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_stroke_width_of_a_bar_is_its_width():
    bar = np.zeros((50, 300), dtype=np.float32)
    bar[20:24, 50:250] = 1.0  # 4 x 200: area 800, perimeter 2 * (4 + 200)
    assert stroke_width(bar) == pytest.approx(2 * 800 / 408)
    assert stroke_width(np.zeros((5, 5))) == 0.0


def test_morph_grows_and_shrinks_by_an_octagon():
    dot = np.zeros((1, 1), dtype=np.float32)
    dot[0, 0] = 1.0
    grown = _morph(dot, 2, np.maximum)  # a 3x3 square, then a cross: 5x5 without its corners
    expected = np.ones((5, 5), dtype=np.float32)
    expected[[0, 0, 4, 4], [0, 4, 0, 4]] = 0.0
    np.testing.assert_array_equal(grown, expected)
    block = np.pad(np.ones((9, 9), dtype=np.float32), 3)
    shrunk = _morph(block, 2, np.minimum)
    assert shrunk.shape == (19, 19) and shrunk.sum() == 25  # 9x9 -> 7x7 -> 5x5


def test_stroke_range_is_mnists_interquartile_range(mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")  # all: the first half is neater
    widths = [stroke_width(image / 255.0) for image in images]
    np.testing.assert_allclose(np.percentile(widths, [25, 75]), STROKE_RANGE, atol=0.05)


@pytest.mark.parametrize("pen", [4, 48], ids=["fine pen", "broad pen"])
def test_pen_width_is_brought_into_mnists_range(pen):
    reference = preprocess_digit(_ink_canvas(TWO, width=32))  # in range: drawn as is
    drawing = _ink_canvas(TWO, width=pen)
    as_drawn = preprocess_digit(drawing, stroke=False)
    normalized = preprocess_digit(drawing)
    assert not STROKE_RANGE[0] - 0.5 < stroke_width(as_drawn) < STROKE_RANGE[1] + 0.2
    assert STROKE_RANGE[0] - 0.5 < stroke_width(normalized) < STROKE_RANGE[1] + 0.2  # 1.38 and 2.28
    # fine pen: 0.88 against 0.70 as drawn; broad pen: 0.96 against 0.89
    assert _corr(normalized, reference) > max(0.85, _corr(as_drawn, reference) + 0.05)


def test_stroke_in_range_is_left_as_drawn():
    drawing = _ink_canvas(TWO, width=32)  # 1.86 px at 28x28
    np.testing.assert_array_equal(preprocess_digit(drawing), preprocess_digit(drawing, stroke=False))


@pytest.mark.parametrize(
    "blank",
    [
        Image.new("RGB", (200, 200), "white"),
        Image.new("RGBA", (200, 200), (0, 0, 0, 0)),
        Image.new("L", (200, 200), 0),
        Image.new("L", (200, 200), 128),
        np.zeros((0, 0), dtype=np.uint8),
    ],
    ids=["white", "transparent", "black", "grey", "empty"],
)
def test_blank_image_raises(blank):
    with pytest.raises(BlankImageError, match="draw a digit first"):
        preprocess_digit(blank)
    with pytest.raises(BlankImageError):
        naive_resize(blank)


def test_blank_white_jpeg_raises():
    with pytest.raises(BlankImageError):
        preprocess_digit(decode_image(_png(Image.new("RGB", (280, 280), "white"), "JPEG")))


@pytest.mark.parametrize(
    "data",
    [b"", b"definitely not a PNG", _png(Image.new("L", (50, 50)))[:40], _png(Image.new("L", (8, 8)), "GIF")],
    ids=["empty", "garbage", "truncated", "gif"],
)
def test_undecodable_bytes_raise_value_error(data):
    with pytest.raises(ValueError, match="PNG or JPEG"):
        decode_image(data)


def test_too_large_image_raises_value_error():
    data = _png(Image.new("1", (MAX_IMAGE_SIDE + 1, 1)))
    with pytest.raises(ValueError, match=f"at most {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}"):
        decode_image(data)


@pytest.mark.parametrize(
    "bad",
    [np.full((10, 10), 2.0), np.full((10, 10), np.nan), np.zeros((10, 10), np.int64), np.zeros((4, 4, 5))],
    ids=["float above 1", "nan", "int64", "5 channels"],
)
def test_bad_arrays_raise_value_error(bad):
    with pytest.raises(ValueError, match="uint8|use"):
        to_ink(bad)


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,"])
def test_decode_base64_with_and_without_data_url(prefix):
    drawing = _encode(_two_canvas(), "dark_on_transparent")
    text = prefix + base64.b64encode(_png(drawing)).decode("ascii")
    decoded = decode_base64_image(text)
    assert decoded.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(drawing))


@pytest.mark.parametrize("text", ["not base64 at all!", "data:image/png,rawbytes", "aGVsbG8="])
def test_decode_base64_rejects_bad_input(text):
    with pytest.raises(ValueError):
        decode_base64_image(text)


@pytest.fixture(scope="module")
def mnist_test_digits(mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")[:200]
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")[:200]
    return images, labels


def test_canvas_digits_round_trip_to_mnist(mnist_test_digits):
    images, labels = mnist_test_digits
    drawings = make_canvas_digits(images, labels, np.random.default_rng(0), 60)
    by_method = {"com": [], "box": [], "naive": []}
    for image, label, transform in drawings:
        original = images[transform["index"]] / 255.0
        assert label == labels[transform["index"]]
        by_method["com"].append(_corr(preprocess_digit(image), original))
        by_method["box"].append(_corr(preprocess_digit(image, center_of_mass=False), original))
        by_method["naive"].append(_corr(naive_resize(image), original))
    mean = {name: np.mean(values) for name, values in by_method.items()}
    assert mean["com"] > 0.8
    assert mean["com"] > mean["box"] > mean["naive"]


def test_canvas_digits_follow_their_transform(mnist_test_digits):
    images, labels = mnist_test_digits
    drawings = make_canvas_digits(images, labels, np.random.default_rng(1), 30)
    assert {t["encoding"] for _, _, t in drawings} == set(ENCODINGS)
    for image, _, t in drawings:
        assert image.size == (t["canvas"], t["canvas"]) and 200 <= t["canvas"] <= 400
        assert t["height_fraction"] <= 0.8 and abs(t["angle"]) <= 10
        height = round(t["height_fraction"] * t["canvas"])
        rows = np.flatnonzero(to_ink(image).max(axis=1) > 0.05)
        assert t["top"] <= rows[0] and rows[-1] < t["top"] + height
        assert rows[-1] + 1 - rows[0] >= height - 4


def test_canvas_digits_are_reproducible(mnist_test_digits):
    images, labels = mnist_test_digits
    first, second = (make_canvas_digits(images, labels, np.random.default_rng(7), 5) for _ in range(2))
    for (a, label_a, t_a), (b, label_b, t_b) in zip(first, second):
        assert (label_a, t_a) == (label_b, t_b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
