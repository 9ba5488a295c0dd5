"""Arrays as JSON for the inspect page: small ones in full, big ones as a summary plus the
entries that matter.

Arrays of up to :data:`MAX_VALUES` numbers are given in full ("values"); bigger ones as a
summary (min, max, mean, std, nonzero) plus named columns or the largest entries, so the
trace of an MNIST 784-512-10 model stays a few hundred kilobytes of JSON. float32 values
are written as their shortest decimal (0.1, not 0.10000000149011612).
"""

from __future__ import annotations

import math

import numpy as np

from ..gradcheck import largest_entries

#: Arrays with at most this many numbers are given in full ("values").
MAX_VALUES = 1024
#: Largest-|value| entries listed for big arrays, and terms listed for a unit's z.
TOP_K = 10


def json_list(a: np.ndarray) -> list:
    """Nested lists of floats; float32 values as their shortest decimal (0.1, not
    0.10000000149011612), which still reads back to the same float32."""
    if a.dtype == np.float32:
        flat = [float(str(v)) for v in a.reshape(-1)]
        return np.array(flat).reshape(a.shape).tolist() if a.ndim > 1 else flat
    return np.asarray(a, dtype=np.float64).tolist()


def json_number(v) -> float:
    """A float; a float32 as its shortest decimal, like :func:`json_list`."""
    return float(str(v)) if isinstance(v, np.float32) else float(v)


def summarize(a: np.ndarray) -> dict:
    """{"min", "max", "mean", "std", "nonzero", "shape"} of any array."""
    a = np.asarray(a)
    return {"min": json_number(a.min()), "max": json_number(a.max()), "mean": float(a.mean(dtype=np.float64)),
            "std": float(a.std(dtype=np.float64)), "nonzero": int(np.count_nonzero(a)), "shape": list(a.shape)}


def array_view(a: np.ndarray) -> dict:
    """{"shape", "summary", "values"}: "values" only for at most MAX_VALUES numbers,
    flat for a row vector (1, n), else nested as the shape."""
    a = np.asarray(a)
    out = {"shape": list(a.shape), "summary": summarize(a)}
    if a.size <= MAX_VALUES:
        out["values"] = json_list(a[0] if a.ndim == 2 and a.shape[0] == 1 else a)
    return out


def top_k(a: np.ndarray, k: int = TOP_K) -> list[dict]:
    """The k entries of largest |value|: [{"index": [i, j], "value"}], largest first."""
    return [{"index": list(i), "value": json_number(a[i])} for i in largest_entries(a, k)]


def column_view(v: np.ndarray, image_shape: tuple[int, int] | None) -> dict:
    """One slice (a column of a matrix): values (and an image) when short, else summary + top-k."""
    if v.size > MAX_VALUES:
        return {"summary": summarize(v), "top_k": top_k(v)}
    out = {"values": json_list(v)}
    if image_shape is not None and math.prod(image_shape) == v.size:
        out["image"] = json_list(v.reshape(image_shape))
    return out


def matrix_view(W: np.ndarray, columns: list[tuple[int, str]], image_shape: tuple[int, int] | None) -> dict:
    """A (D_in, D_out) matrix: shape, summary, all values when small, and the named columns."""
    return {**array_view(W),
            "columns": [{"index": j, "why": why, **column_view(W[:, j], image_shape)} for j, why in columns]}


def shape_strings(*shapes: tuple[int, ...]) -> list[str]:
    """Each shape as Python writes a tuple: ``(1, 4)``, ``(4,)``."""
    return ["(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")") for shape in shapes]
