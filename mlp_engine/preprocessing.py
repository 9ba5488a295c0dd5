"""Turn a canvas drawing into an MNIST-style 28x28 digit.

A drawing from the browser is not an MNIST digit: it is large, off-centre, drawn
with any stroke width and encoded as dark-on-transparent, dark-on-white or
light-on-black. ``preprocess_digit`` does what the MNIST authors did to the NIST
scans:

1. ``to_ink``: find the encoding and turn the image into white ink (1.0) on
   black (0.0).
2. Crop to the bounding box of the ink: pixels above ``BBOX_THRESHOLD`` times
   the brightest ink, so that faint anti-aliased fringes and JPEG ringing (up to
   0.15 at quality 75 and 0.3 at quality 50) do not grow the box.
3. ``normalize_stroke``: bring the stroke width into MNIST's range. A drawing's
   width after step 4 depends on the pen and on how large it was drawn (a small
   digit from a broad pen comes out blobby, a large one from a fine pen
   spidery), while MNIST strokes are ``STROKE_RANGE`` (1.7 to 2.4) pixels wide
   at 28x28 in half its digits (``stroke_width`` of the test set: quartiles 1.69
   and 2.38, median 2.0). A wider or narrower drawing is eroded or dilated (grey
   levels, an octagonal pen, at ``_STROKE_SCALE`` times the final resolution)
   to the nearest end of the range; one within it is left as drawn.
4. Scale the crop, keeping its aspect ratio, so its larger side is
   ``DIGIT_BOX`` (20) pixels, with Lanczos anti-aliasing.
5. Paste it into a black ``SIZE`` x ``SIZE`` (28x28) image so that its
   intensity-weighted centre of mass lands on pixel ``(14, 14)`` (row, column).
   The shift is a whole number of pixels, as MNIST's was: over the MNIST test
   set the centre of mass is (13.99, 14.01) with a standard deviation of 0.29 px,
   the spread of a rounding to the nearest pixel. Rounding keeps strokes sharp,
   where a sub-pixel shift would blur them.
6. Divide by the maximum, so the brightest pixel is 1.0 as in 90% of MNIST
   digits (a thin or grey stroke would otherwise come out faint).
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from PIL import Image, UnidentifiedImageError

SIZE = 28
DIGIT_BOX = 20
#: Row and column where the digit's centre of mass is placed.
CENTER = 14.0
#: An image whose brightest ink is at most this is blank.
BLANK_THRESHOLD = 0.05
#: Ink above this fraction of the brightest ink counts for the bounding box.
BBOX_THRESHOLD = 0.25
#: Stroke widths (px at 28x28, as ``stroke_width`` measures them) left as drawn:
#: the interquartile range of the MNIST test digits. Wider or narrower strokes are
#: thinned or thickened to the nearest end.
STROKE_RANGE = (1.7, 2.4)
#: Largest width or height that ``decode_image`` accepts.
MAX_IMAGE_SIDE = 4096
IMAGE_FORMATS = ("PNG", "JPEG")
#: ITU-R 601-2 luma weights, the ones Pillow's ``convert("L")`` uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
#: Pixels per final pixel at which the stroke is measured and changed: a step of
#: dilation or erosion there moves each edge by 1/6 px of the 28x28 digit.
_STROKE_SCALE = 6


class BlankImageError(ValueError):
    """The image has no ink: nothing was drawn."""


def decode_image(data: bytes) -> Image.Image:
    """Decode PNG or JPEG bytes into a loaded Pillow image.

    Parameters
    ----------
    data : bytes
        The encoded file, e.g. the body of an upload.

    Returns
    -------
    PIL.Image.Image
        The decoded image, in whatever mode the file stores (L, RGB, RGBA, P...).

    Raises
    ------
    ValueError
        If ``data`` is not a PNG or JPEG image, is truncated, or is larger than
        ``MAX_IMAGE_SIDE`` pixels on a side.
    """
    if not data:
        raise ValueError("the image is empty: send the bytes of a PNG or JPEG file")
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        _check_dimensions(image.size)  # before decoding any pixel
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise ValueError(f"could not decode the image ({exc}): send a PNG or JPEG file") from exc
    return image


def decode_base64_image(text: str) -> Image.Image:
    """Decode a base64 PNG or JPEG, bare or as a ``data:image/png;base64,...`` URL.

    Parameters
    ----------
    text : str
        What ``canvas.toDataURL()`` returns, or just the base64 part of it.

    Returns
    -------
    PIL.Image.Image
        As ``decode_image``.

    Raises
    ------
    ValueError
        If the text is not base64, the data URL is not base64-encoded, or the
        bytes are not an image ``decode_image`` accepts.
    """
    payload = text.strip()
    if payload.startswith("data:"):
        header, sep, payload = payload.partition(",")
        if not sep or not header.endswith(";base64"):
            raise ValueError(
                "the data URL must be base64-encoded: 'data:image/png;base64,<data>'"
            )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the image is not valid base64 ({exc})") from exc
    return decode_image(data)


def to_ink(image: Image.Image | np.ndarray) -> np.ndarray:
    """White ink on black: 1.0 where the digit is drawn, 0.0 on the background.

    With an alpha channel that is not fully opaque, the image is composited onto
    white when its ink (the alpha-weighted mean grey) is dark, and onto black when
    it is light, so ``ink = alpha * (1 - grey)`` or ``ink = alpha * grey``: black
    strokes on a transparent canvas give exactly their alpha. Without one, the
    median of the border pixels is the background; on a light background
    ``ink = (background - grey) / background``, on a dark one
    ``ink = (grey - background) / (1 - background)``, both clipped to [0, 1].

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        An 8-bit Pillow image, or an array (H, W) grey, (H, W, 2) grey+alpha,
        (H, W, 3) RGB or (H, W, 4) RGBA; uint8 in [0, 255] or float in [0, 1].

    Returns
    -------
    np.ndarray
        (H, W) float32 in [0, 1].
    """
    grey, alpha = _grey_and_alpha(image)
    if grey.size == 0:
        raise BlankImageError("the image is empty: draw a digit first")
    if alpha is not None and alpha.min() < 1.0:
        return _ink_from_alpha(grey, alpha)
    return _ink_from_grey(grey)


def preprocess_digit(
    image: Image.Image | np.ndarray, *, center_of_mass: bool = True, stroke: bool = True
) -> np.ndarray:
    """Crop, scale and centre a drawing the way MNIST digits were made.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        Anything ``to_ink`` accepts, of any size.
    center_of_mass : bool, default True
        Put the centre of mass on (14, 14), as MNIST did. False centres the
        bounding box instead.
    stroke : bool, default True
        Thin or thicken strokes into ``STROKE_RANGE`` (``normalize_stroke``).
        False keeps the drawn width.

    Returns
    -------
    np.ndarray
        (28, 28) float32 in [0, 1], white ink on black, maximum 1.0; the ink's
        bounding box is at most 20 px on its larger side.

    Raises
    ------
    BlankImageError
        If the image has no ink.
    """
    crop = _crop_to_ink(to_ink(image))
    if stroke:
        crop = normalize_stroke(crop)
    digit = _fit_box(crop)  # (h, w), max(h, w) == DIGIT_BOX
    top, left = _placement(digit, center_of_mass)
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return _normalize(out)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: 2 x area / perimeter of the ink above half its maximum.

    A stroke of width w and length L >> w has area wL and perimeter about 2L.
    The perimeter counts the edges between inked and blank pixels (the image's
    border counts as blank).

    Parameters
    ----------
    ink : np.ndarray
        (H, W) float white ink on black, e.g. an MNIST digit divided by 255.

    Returns
    -------
    float
        0.0 for an image with no ink.
    """
    peak = float(ink.max()) if ink.size else 0.0
    if peak <= 0.0:
        return 0.0
    inked = np.pad(ink > 0.5 * peak, 1)  # (H + 2, W + 2)
    perimeter = np.count_nonzero(inked[1:] != inked[:-1]) + np.count_nonzero(inked[:, 1:] != inked[:, :-1])
    return 2.0 * np.count_nonzero(inked) / perimeter


def normalize_stroke(crop: np.ndarray) -> np.ndarray:
    """Thin or thicken a cropped digit so its strokes, once it is scaled to
    ``DIGIT_BOX``, are within ``STROKE_RANGE``.

    The crop is scaled to ``_STROKE_SCALE * DIGIT_BOX`` px, its width measured
    with ``stroke_width`` and, if outside the range, changed by grey-level
    erosion or dilation: each step moves every edge out or in by one pixel, so
    ``round((target - width) * _STROKE_SCALE / 2)`` steps reach the nearest end
    of the range. A crop already in range is returned unchanged, and so is one
    that erosion would wipe out.

    Parameters
    ----------
    crop : np.ndarray
        (h, w) float32 ink in [0, 1], cropped to its bounding box.

    Returns
    -------
    np.ndarray
        (h', w') float32 ink in [0, 1], cropped to its bounding box.
    """
    work = _fit_box(crop, _STROKE_SCALE * DIGIT_BOX)  # (h, w), max(h, w) == 120
    width = stroke_width(work) / _STROKE_SCALE  # in pixels of the 28x28 digit
    target = min(max(width, STROKE_RANGE[0]), STROKE_RANGE[1])
    steps = round((target - width) * _STROKE_SCALE / 2)
    if steps == 0:
        return crop
    changed = _morph(work, abs(steps), np.maximum if steps > 0 else np.minimum)
    if float(changed.max()) <= max(BBOX_THRESHOLD * float(work.max()), BLANK_THRESHOLD):
        return crop  # eroded away
    return _crop_to_ink(changed)


def naive_resize(image: Image.Image | np.ndarray) -> np.ndarray:
    """Baseline: squash the whole canvas to 28x28, with no crop or centring.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        Anything ``to_ink`` accepts.

    Returns
    -------
    np.ndarray
        (28, 28) float32 in [0, 1], white ink on black, maximum 1.0.

    Raises
    ------
    BlankImageError
        If the image has no ink.
    """
    ink = to_ink(image)
    _check_not_blank(ink)
    return _normalize(_resize(ink, (SIZE, SIZE)))


def _check_dimensions(size: tuple[int, int]) -> None:
    width, height = size
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise ValueError(
            f"the image is {width}x{height} pixels: send one at most "
            f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}"
        )


def _grey_and_alpha(image: Image.Image | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Split into grey (H, W) float32 and alpha (H, W) float32 or None, in [0, 1]."""
    if isinstance(image, Image.Image):
        return _pil_grey_and_alpha(image)
    return _array_grey_and_alpha(np.asarray(image))


def _pil_grey_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    if image.mode.startswith("I") or image.mode == "F":
        raise ValueError(f"image mode {image.mode!r} is not supported: send an 8-bit PNG or JPEG")
    if image.has_transparency_data:
        la = np.asarray(image.convert("RGBA").convert("LA"), dtype=np.float32) / 255.0  # (H, W, 2)
        return la[..., 0], la[..., 1]
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0, None


def _array_grey_and_alpha(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 2, 3, 4))):
        raise ValueError(
            f"image array has shape {array.shape}: use (H, W), (H, W, 2), (H, W, 3) or (H, W, 4)"
        )
    pixels = _array_to_unit(array)
    if pixels.ndim == 2:
        return pixels, None
    channels = pixels.shape[2]
    grey = pixels[..., 0] if channels <= 2 else pixels[..., :3] @ _LUMA  # (H, W)
    alpha = pixels[..., -1] if channels in (2, 4) else None
    return grey, alpha


def _array_to_unit(array: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] or float [0, 1] -> float32 [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"image array has dtype {array.dtype}: use uint8 or float in [0, 1]")
    if not np.all((array >= 0.0) & (array <= 1.0)):  # NaN fails both comparisons
        raise ValueError("float image arrays must lie in [0, 1] with no NaN: divide uint8 pixels by 255")
    return array.astype(np.float32, copy=False)


def _ink_from_alpha(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite onto the background that contrasts with the ink's colour."""
    coverage = float(alpha.sum())
    ink_grey = float((grey * alpha).sum()) / coverage if coverage > 0 else 0.0
    contrast = 1.0 - grey if ink_grey < 0.5 else grey
    return alpha * contrast


def _ink_from_grey(grey: np.ndarray) -> np.ndarray:
    """Measure each pixel's distance from the border's median grey."""
    border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])
    background = float(np.median(border))
    if background >= 0.5:
        ink = (background - grey) / background
    else:
        ink = (grey - background) / (1.0 - background)
    return np.clip(ink, 0.0, 1.0)


def _check_not_blank(ink: np.ndarray) -> None:
    if float(ink.max()) <= BLANK_THRESHOLD:
        raise BlankImageError("the image is blank: draw a digit first")


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """(H, W) -> (h, w): the bounding box of ink above BBOX_THRESHOLD * max."""
    _check_not_blank(ink)
    mask = ink > BBOX_THRESHOLD * float(ink.max())
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_box(crop: np.ndarray, box: int = DIGIT_BOX) -> np.ndarray:
    """(h, w) -> scaled so the larger side is ``box``, aspect ratio kept."""
    height, width = crop.shape
    scale = box / max(height, width)
    shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    return _resize(crop, shape)


def _morph(ink: np.ndarray, steps: int, op) -> np.ndarray:
    """Grey-level dilation (``op=np.maximum``) or erosion (``np.minimum``) by an
    octagon of radius ``steps``: 3x3 squares alternating with 3x3 crosses.

    (H, W) -> (H + 2 * steps, W + 2 * steps): the margin holds what dilation grows.
    """
    out = np.pad(ink, steps)  # (H + 2s, W + 2s)
    for i in range(steps):
        p = np.pad(out, 1)  # (H' + 2, W' + 2), blank around
        if i % 2 == 0:  # square, separably: rows then columns
            rows = op(op(p[:-2], p[1:-1]), p[2:])  # (H', W' + 2)
            out = op(op(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])  # (H', W')
        else:  # cross
            vertical = op(op(p[:-2, 1:-1], p[1:-1, 1:-1]), p[2:, 1:-1])  # (H', W')
            out = op(op(vertical, p[1:-1, :-2]), p[1:-1, 2:])
    return out


def _resize(ink: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Lanczos resize of a float image to ``shape`` (rows, cols), clipped to [0, 1]."""
    image = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))  # mode "F"
    resized = image.resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _placement(digit: np.ndarray, center_of_mass: bool) -> tuple[int, int]:
    """Top-left corner in the SIZE x SIZE frame for the (h, w) digit, inside the frame."""
    height, width = digit.shape
    mass = float(digit.sum())
    if not center_of_mass or mass == 0.0:  # no mass: Lanczos lost a sub-pixel speck
        return (SIZE - height) // 2, (SIZE - width) // 2
    com_row = float(digit.sum(axis=1) @ np.arange(height)) / mass
    com_col = float(digit.sum(axis=0) @ np.arange(width)) / mass
    top = int(np.clip(round(CENTER - com_row), 0, SIZE - height))
    left = int(np.clip(round(CENTER - com_col), 0, SIZE - width))
    return top, left


def _normalize(digit: np.ndarray) -> np.ndarray:
    peak = float(digit.max())
    if peak <= 0.0:
        raise BlankImageError("the image is blank: draw a digit first")
    return digit / peak
