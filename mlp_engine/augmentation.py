"""Training-time data augmentation for image datasets: random small rotations and
translations, so the network sees digits a little turned and off-centre.

Every example of a batch gets its own affine transform about the image centre,
sampled with bilinear interpolation (the background value outside the image: 0 for
raw pixels, the standardised value of a blank pixel for standardised ones). The whole batch is
one matrix product for the source coordinates and one gather per bilinear corner;
there is no Python loop over examples.

Conventions (rows grow downwards, columns to the right, as the image is drawn):

* a positive angle turns the picture **counter-clockwise** as displayed, so
  ``angle = 90`` gives exactly ``np.rot90(image)``;
* a shift ``(dx, dy)`` moves the picture ``dx`` pixels right and ``dy`` pixels down;
* the rotation is about the image centre ``((W - 1) / 2, (H - 1) / 2)`` and is
  applied before the shift.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Background border around the padded source, in pixels: room for the bilinear neighbours
#: of a coordinate clamped just outside the image.
_PAD = 2


@lru_cache(maxsize=8)
def _grid(shape: tuple[int, int]) -> np.ndarray:
    """(3, H*W) float32: each output pixel's column and row relative to the centre, and 1."""
    H, W = shape
    rows, cols = np.mgrid[0:H, 0:W].astype(np.float32)  # (H, W) each
    grid = np.stack([cols.ravel() - (W - 1) / 2, rows.ravel() - (H - 1) / 2, np.ones(H * W, np.float32)])
    grid.flags.writeable = False
    return grid  # (3, H*W)


class _Workspace:
    """Buffers reused from batch to batch (one per batch size and image shape)."""

    def __init__(self, n: int, shape: tuple[int, int]):
        H, W = shape
        self.Hp, self.Wp = H + 2 * _PAD, W + 2 * _PAD
        self.padded = np.zeros((n, self.Hp, self.Wp), np.float32)  # borders hold the background
        self.background = 0.0
        self.affine = np.empty((2 * n, 3), np.float32)
        self.coords = np.empty((2 * n, H * W), np.float32)  # x rows, then y rows
        self.floor = np.empty((2 * n, H * W), np.float32)
        self.index = np.empty((n, H * W), np.intp)
        self.tmp = np.empty((n, H * W), np.float32)
        self.top = np.empty((n, H * W), np.float32)
        self.bottom = np.empty((n, H * W), np.float32)
        self.row_offset = (np.arange(n, dtype=np.float32) * (self.Hp * self.Wp))[:, None]  # (n, 1)
        # Coordinates are clamped to [-1, W] x [-1, H]: a pixel further out samples only background.
        self.lo = np.float32(_PAD - 1)
        self.hi = np.repeat(np.array([W + _PAD, H + _PAD], np.float32), n)[:, None]  # (2n, 1)


_workspaces: dict[tuple[int, int, int], _Workspace] = {}


def _workspace(n: int, shape: tuple[int, int]) -> _Workspace:
    key = (n, *shape)
    ws = _workspaces.get(key)
    if ws is None:
        if len(_workspaces) >= 8:
            _workspaces.clear()
        ws = _workspaces[key] = _Workspace(n, shape)
    return ws


def affine_batch(
    X: np.ndarray, shape: tuple[int, int], angles_deg: np.ndarray, shifts: np.ndarray, out: np.ndarray | None = None,
    background: float = 0.0, pixels: np.ndarray | None = None,
) -> np.ndarray:
    """Rotate each image by its angle and shift it by its offset (bilinear, ``background``
    outside).

    Parameters
    ----------
    X : (N, H*W) float32
        Flattened images, row-major.
    shape : (H, W)
    angles_deg : (N,) float
        Counter-clockwise rotation as displayed, in degrees (90 gives ``np.rot90``).
    shifts : (N, 2) float
        ``(dx, dy)`` per image: pixels right and down.
    out : (N, H*W) float32, optional
        Where to write the result; must not be ``X``.
    background : float
        The value of a blank pixel, what moves in from outside the image.
    pixels : (H*W,) int, optional
        The order of the output's columns: column j is image pixel ``pixels[j]`` (row-major
        index), a permutation; by default row-major, as X.

    Returns
    -------
    (N, H*W) float32
        ``out[n]`` at output pixel p is ``X[n]`` sampled at ``R(-angle) (p - c - shift) + c``.
    """
    H, W = shape
    N = X.shape[0]
    if X.ndim != 2 or X.shape[1] != H * W:
        raise ValueError(f"X must be (N, {H * W}) for images of shape {shape}, got {X.shape}")
    if out is None:
        out = np.empty((N, H * W), np.float32)
    elif out is X or np.shares_memory(out, X):
        raise ValueError("out must not overlap X")
    if N == 0:
        return out
    ws = _workspace(N, (H, W))
    theta = np.radians(np.asarray(angles_deg, np.float64))
    c, s = np.cos(theta), np.sin(theta)
    tx, ty = np.asarray(shifts, np.float64).T
    # Source of output pixel (x', y') (centred coordinates), plus centre and pad:
    #   x = c (x' - tx) - s (y' - ty) + cx + PAD,   y = s (x' - tx) + c (y' - ty) + cy + PAD
    cx, cy = (W - 1) / 2 + _PAD, (H - 1) / 2 + _PAD
    A = ws.affine  # (2N, 3): rows for x, then rows for y
    A[:N, 0], A[:N, 1], A[:N, 2] = c, -s, cx - (c * tx - s * ty)
    A[N:, 0], A[N:, 1], A[N:, 2] = s, c, cy - (s * tx + c * ty)
    coords, floor = ws.coords, ws.floor
    grid = _grid((H, W)) if pixels is None else _grid((H, W))[:, pixels]
    np.matmul(A, grid, out=coords)  # (2N, H*W) padded source coordinates
    np.maximum(coords, ws.lo, out=coords)  # half the time of np.clip with array bounds
    np.minimum(coords, ws.hi, out=coords)
    np.floor(coords, out=floor)
    coords -= floor  # (2N, H*W) fractional parts
    fx, fy = coords[:N], coords[N:]
    # Flat index of the top-left neighbour in the padded batch; exact in float32 below 2**24.
    idx_f = ws.tmp
    np.multiply(floor[N:], np.float32(ws.Wp), out=idx_f)
    idx_f += floor[:N]
    idx_f += ws.row_offset
    index = ws.index
    index[...] = idx_f  # (N, H*W) intp
    padded = ws.padded
    if ws.background != background:
        padded.fill(background)
        ws.background = background
    padded[:, _PAD : _PAD + H, _PAD : _PAD + W] = X.reshape(N, H, W)
    src = padded.reshape(-1)  # (N*Hp*Wp,)
    top, bottom, tmp = ws.top, ws.bottom, ws.tmp
    # top = v00 + fx (v01 - v00); bottom = v10 + fx (v11 - v10); out = top + fy (bottom - top).
    # Every index is in range (coordinates are clamped); mode="wrap" is the fastest take that
    # writes straight into out (mode="raise" buffers it).
    np.take(src, index, out=top, mode="wrap")
    index += 1
    np.take(src, index, out=tmp, mode="wrap")
    tmp -= top
    tmp *= fx
    top += tmp
    index += ws.Wp - 1
    np.take(src, index, out=bottom, mode="wrap")
    index += 1
    np.take(src, index, out=tmp, mode="wrap")
    tmp -= bottom
    tmp *= fx
    bottom += tmp
    bottom -= top
    bottom *= fy
    np.add(top, bottom, out=out)
    return out


def augment_batch(
    X: np.ndarray,
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    max_shift: float,
    max_rotation_deg: float,
    out: np.ndarray | None = None,
    background: float = 0.0,
    rows: slice = slice(None),
    pixels: np.ndarray | None = None,
) -> np.ndarray:
    """Randomly rotate and shift each image of a batch (see :func:`affine_batch`).

    Parameters
    ----------
    X : (N, H*W) float32
        Flattened images, row-major.
    shape : (H, W)
    rng : np.random.Generator
        Draws, per image, an angle uniform in ±max_rotation_deg and a shift uniform in
        ±max_shift pixels along each axis.
    max_shift : float
        Largest shift in pixels, per axis.
    max_rotation_deg : float
        Largest rotation in degrees, either way.
    out : (N, H*W) float32, optional
        Where to write the result; must not overlap ``X``.
    background : float
        The value of a blank pixel (``Dataset.image_background``).
    rows : slice
        Transform only these rows of ``X`` (into the same rows of ``out``; the others are
        neither read nor written). The transforms are drawn for the whole batch, so an
        image gets the same one whichever slice it is made in: tensor-parallel processes
        each make a slice of one batch.
    pixels : (H*W,) int, optional
        The order of the output's columns (see :func:`affine_batch`).

    Returns
    -------
    (N, H*W) float32
        The transformed images; an exact copy of ``X`` (its columns in ``pixels`` order)
        when both limits are 0.
    """
    N = X.shape[0]
    angles = rng.uniform(-max_rotation_deg, max_rotation_deg, N)  # (N,)
    shifts = rng.uniform(-max_shift, max_shift, (N, 2))  # (N, 2)
    if out is None:
        out = np.empty((N, X.shape[1]), np.float32)
    if max_shift == 0 and max_rotation_deg == 0:
        if pixels is None:
            np.copyto(out[rows], X[rows])
        else:
            np.take(X[rows], pixels, axis=1, out=out[rows], mode="clip")
        return out
    affine_batch(X[rows], shape, angles[rows], shifts[rows], out=out[rows], background=background, pixels=pixels)
    return out
