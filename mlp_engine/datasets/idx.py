"""The IDX file format, in which MNIST is published: a small header, then raw numbers.

Format: http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT". Files may be gzipped.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import zlib
from pathlib import Path
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

# IDX type byte -> big-endian NumPy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@contextlib.contextmanager
def _open_idx(path: Path) -> Iterator[BinaryIO]:
    """``path`` open for reading, through gzip when it starts with the gzip magic bytes.

    A broken gzip stream surfaces as a ValueError that names the file.
    """
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    try:
        with gzip.open(path, "rb") if is_gzip else open(path, "rb") as f:
            yield f
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path} is not a readable gzip file ({exc}); download it again") from exc


def _read_idx_header(f: BinaryIO, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: it starts with bytes {magic.hex()!r}, expected "
            f"0000 then a type byte in {[hex(c) for c in _IDX_DTYPES]} and the number of dimensions"
        )
    n_dims = magic[3]
    raw_dims = f.read(4 * n_dims)
    if len(raw_dims) < 4 * n_dims:
        raise ValueError(f"{path} is truncated: its header announces {n_dims} dimensions but ends early")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    return np.dtype(_IDX_DTYPES[magic[2]]), dims


def idx_dims(path: Path) -> tuple[int, ...]:
    """The dimensions in the header of the IDX file at ``path``, without reading its data."""
    with _open_idx(path) as f:
        return _read_idx_header(f, path)[1]


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file, gzipped or raw.

    Layout: 2 zero bytes, a type byte (0x08 = uint8, see ``_IDX_DTYPES``), the number of
    dimensions ``d``, then ``d`` big-endian uint32 sizes, then the data, big-endian and
    row-major.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of shape ``dims`` in native byte order; read-only for uint8 files (a view of
    the file's bytes).

    Raises
    ------
    ValueError
        Naming the file, if the header is malformed, the gzip stream is broken, or the
        data is shorter or longer than the dimensions require.
    """
    path = Path(path)
    with _open_idx(path) as f:
        dtype, dims = _read_idx_header(f, path)
        data = f.read()
    expected = math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path} holds {len(data)} bytes of data after its header, but dimensions {dims} of "
            f"{dtype.itemsize}-byte items need {expected}: the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)
