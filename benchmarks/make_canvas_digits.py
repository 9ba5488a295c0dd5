"""Make canvas-style drawings from MNIST test digits.

A browser drawing differs from an MNIST digit in size, position, stroke width,
slant and encoding. Each digit here is cropped, upscaled into a solid pen
stroke, rotated by up to 10 degrees, thickened or thinned, scaled to fill
40-80% of the height of a 200-400 px square canvas, placed at a random spot
inside it and rendered as dark-on-transparent RGBA, dark-on-white RGB or
light-on-black L. ``mlp_engine.preprocessing`` should undo all of it.

Run from the repository root::

    .venv/bin/python -m benchmarks.make_canvas_digits --n 1000 --seed 0 --out benchmarks/out/canvas
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mlp_engine.datasets import read_idx

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST_DIR = Path(os.environ.get("MLP_MNIST_DIR", REPO_ROOT.parent / "shared" / "data" / "mnist"))
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "out" / "canvas_digits"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

ENCODINGS = ("dark_on_transparent", "dark_on_white", "light_on_black")
CANVAS_RANGE = (200, 400)  # side in px
HEIGHT_FRACTION_RANGE = (0.4, 0.8)
MAX_ROTATION_DEG = 10.0
#: Change of stroke width, in MNIST pixels (at 28x28): negative thins, positive thickens.
STROKE_DELTA_RANGE = (-0.6, 1.2)
#: Working scale (px per MNIST pixel) for rotating and changing the stroke.
_WORK_SCALE = 10
_PAD = 2  # MNIST pixels of room around the digit for rotation and dilation


def make_canvas_digits(
    images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, n: int
) -> list[tuple[Image.Image, int, dict]]:
    """Draw ``n`` MNIST digits the way a user might on a canvas.

    Parameters
    ----------
    images : np.ndarray
        (N, 28, 28) uint8 MNIST digits, white on black.
    labels : np.ndarray
        (N,) integer labels.
    rng : np.random.Generator
        Source of every random choice; one seed gives the same images.
    n : int
        How many drawings to make. Digits are drawn without replacement when
        ``n <= N``.

    Returns
    -------
    list of (PIL.Image.Image, int, dict)
        The drawing, its label and the transform applied: ``index`` (into
        ``images``), ``encoding``, ``canvas`` (side in px), ``height_fraction``,
        ``top``, ``left``, ``angle`` (degrees), ``stroke_delta`` (MNIST px),
        ``filter_size`` (odd size of the Max/Min filter, 1 for none).
    """
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, 28, 28) uint8, got {images.shape} {images.dtype}")
    if len(labels) != len(images):
        raise ValueError(f"got {len(labels)} labels for {len(images)} images: pass one label per image")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    indices = rng.choice(len(images), size=n, replace=n > len(images))
    return [_make_one(images[i], int(labels[i]), int(i), rng) for i in indices]


def _make_one(
    digit: np.ndarray, label: int, index: int, rng: np.random.Generator
) -> tuple[Image.Image, int, dict]:
    angle = float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    stroke_delta = float(rng.uniform(*STROKE_DELTA_RANGE))
    canvas = int(rng.integers(CANVAS_RANGE[0], CANVAS_RANGE[1] + 1))
    fraction = float(rng.uniform(*HEIGHT_FRACTION_RANGE))
    encoding = ENCODINGS[int(rng.integers(len(ENCODINGS)))]

    pen = _pen_stroke(digit).rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    pen, filter_size = _change_stroke(pen, stroke_delta)
    pen = pen.crop(pen.getbbox())
    pen, fraction = _scale_to_canvas(pen, canvas, fraction)
    top = int(rng.integers(canvas - pen.height + 1))
    left = int(rng.integers(canvas - pen.width + 1))
    ink = Image.new("L", (canvas, canvas), 0)
    ink.paste(pen, (left, top))
    transform = {
        "index": index, "encoding": encoding, "canvas": canvas,
        "height_fraction": fraction, "top": top, "left": left,
        "angle": angle, "stroke_delta": stroke_delta, "filter_size": filter_size,
    }
    return _render(ink, encoding), label, transform


def _pen_stroke(digit: np.ndarray) -> Image.Image:
    """(28, 28) uint8 -> L image at _WORK_SCALE: the digit's box, padded, with solid strokes."""
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = np.pad(crop, _PAD)  # (h + 2*_PAD, w + 2*_PAD)
    big = Image.fromarray(crop).resize(
        (crop.shape[1] * _WORK_SCALE, crop.shape[0] * _WORK_SCALE), Image.Resampling.BICUBIC
    )
    # A pen is solid: grey levels 90-165 ramp to 0-255, keeping a soft anti-aliased edge.
    return big.point(lambda v: min(255, max(0, (v - 90) * 255 // 75)))


def _change_stroke(pen: Image.Image, stroke_delta: float) -> tuple[Image.Image, int]:
    """Dilate (delta > 0) or erode (delta < 0) the white strokes by |delta| MNIST px in width."""
    radius = round(abs(stroke_delta) * _WORK_SCALE / 2)
    if radius == 0:
        return pen, 1
    size = 2 * radius + 1
    rank_filter = ImageFilter.MaxFilter if stroke_delta > 0 else ImageFilter.MinFilter
    return pen.filter(rank_filter(size)), size


def _scale_to_canvas(pen: Image.Image, canvas: int, fraction: float) -> tuple[Image.Image, float]:
    """Resize so the digit is ``fraction`` of the canvas height, or less if it is too wide."""
    scale = min(fraction * canvas / pen.height, 0.95 * canvas / pen.width)
    size = (max(1, round(pen.width * scale)), max(1, round(pen.height * scale)))
    pen = pen.resize(size, Image.Resampling.LANCZOS)
    return pen, pen.height / canvas


def _render(ink: Image.Image, encoding: str) -> Image.Image:
    """White-on-black L ink -> the canvas image in ``encoding``."""
    if encoding == "dark_on_transparent":
        rgba = Image.new("RGBA", ink.size, (0, 0, 0, 0))
        rgba.putalpha(ink)
        return rgba
    if encoding == "dark_on_white":
        return Image.eval(ink, lambda v: 255 - v).convert("RGB")
    return ink


def load_mnist_test(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the MNIST test set: images (10000, 28, 28) uint8 and labels (10000,) uint8."""
    return read_idx(mnist_dir / TEST_IMAGES), read_idx(mnist_dir / TEST_LABELS)


def write_canvas_digits(drawings: list[tuple[Image.Image, int, dict]], out: Path) -> None:
    """Write ``00000.png``... and ``labels.csv`` (file, label and the transform) to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "label", *drawings[0][2]])
        for k, (image, label, transform) in enumerate(drawings):
            name = f"{k:05d}.png"
            image.save(out / name)
            writer.writerow([name, label, *transform.values()])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST_DIR,
                        help="folder with the MNIST IDX .gz files "
                             "(default: $MLP_MNIST_DIR or ../shared/data/mnist from the repository root)")
    parser.add_argument("--n", type=int, default=1000, help="number of drawings (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder for the PNGs and labels.csv")
    args = parser.parse_args(argv)
    images, labels = load_mnist_test(args.mnist_dir)
    drawings = make_canvas_digits(images, labels, np.random.default_rng(args.seed), args.n)
    write_canvas_digits(drawings, args.out)
    print(f"wrote {len(drawings)} drawings and labels.csv to {args.out}")


if __name__ == "__main__":
    main()
