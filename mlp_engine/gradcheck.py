"""Numerical gradient check: backprop against central differences.

:func:`gradient_check` checks every entry of every parameter (or a random sample of
each); :func:`gradient_check_example` checks, for one example, the entries a learner
looks at: those of largest gradient and a few random ones.
"""

from __future__ import annotations

import numpy as np

from .model import MLP, layer_of

#: Entries per parameter checked by :func:`gradient_check_example`: the largest-|gradient|
#: ones (:data:`CHECK_LARGEST` of them) and random ones.
CHECKS_PER_PARAM = 5
CHECK_LARGEST = 3
#: Step of :func:`gradient_check_example`'s central differences; float64 round-off is
#: then about 1e-10 of the loss.
CHECK_EPS = 1e-6


def numerical_gradient(model: MLP, X, y, name: str, index: tuple, l2: float = 0.0, eps: float = 1e-6) -> float:
    """dL/dθ for one parameter entry by central differences: (L(θ+ε) - L(θ-ε)) / 2ε."""
    param = model.params()[name]
    original = param[index]
    param[index] = original + eps
    plus = model.loss(X, y, l2)
    param[index] = original - eps
    minus = model.loss(X, y, l2)
    param[index] = original
    return (plus - minus) / (2 * eps)


#: The least denominator of :func:`relative_error` (the inspect page shows it in the formula).
RELATIVE_ERROR_FLOOR = 1e-4


def relative_error(analytic: float, numeric: float, floor: float = RELATIVE_ERROR_FLOOR) -> float:
    """|a - n| / max(|a| + |n|, floor).

    The floor matters for tiny gradients only: central differences carry a
    round-off of about 1e-16·|L|/ε ≈ 1e-11, which would make two agreeing values
    of size 1e-7 look 1e-4 apart; below the floor the error is judged on that
    absolute scale instead."""
    return abs(analytic - numeric) / max(abs(analytic) + abs(numeric), floor)


def largest_entries(a: np.ndarray, k: int) -> list[tuple[int, ...]]:
    """The indices of the ``min(k, a.size)`` entries of largest |value|, largest first."""
    flat = np.abs(a).reshape(-1)
    k = min(k, flat.size)
    picks = np.argpartition(-flat, k - 1)[:k]
    picks = picks[np.argsort(-flat[picks], kind="stable")]
    return [tuple(int(i) for i in np.unravel_index(p, a.shape)) for p in picks]


def _backprop_gradients(model: MLP, X, y, l2: float) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(X, y, grads)``: the checked inputs and targets, and backprop's gradients, dropout off."""
    X = model.check_inputs(X)
    y = model.check_targets(y, X.shape[0])
    model.forward_backward(X, y, l2, dropout=False)
    return X, y, {k: g.copy() for k, g in model.grads().items()}


def _check_entry(model: MLP, X, y, name: str, grad: np.ndarray, index: tuple, l2: float, eps: float) -> dict:
    """``{"param", "index", "analytic", "numeric", "relative_error"}`` for one entry."""
    numeric = numerical_gradient(model, X, y, name, index, l2, eps)
    analytic = float(grad[index])
    return {"param": name, "index": list(index), "analytic": analytic, "numeric": numeric,
            "relative_error": relative_error(analytic, numeric)}


def gradient_check(
    model: MLP, X, y, l2: float = 0.0, eps: float = 1e-5, max_entries: int | None = 20,
    rng: np.random.Generator | None = None, details: bool = False,
):
    """Compare backprop's gradient with central differences, dropout off.

    Checks every entry of every parameter, or ``max_entries`` random entries per
    parameter array when set. Use a float64 model: float32 rounding swamps the
    differences. Returns the max relative error, or with ``details=True`` a list of
    ``{"param", "index", "analytic", "numeric", "relative_error"}`` too.
    """
    X, y, analytic = _backprop_gradients(model, X, y, l2)
    rng = rng or np.random.default_rng(0)
    rows = []
    for name, grad in analytic.items():
        indices = list(np.ndindex(grad.shape))
        if max_entries is not None and len(indices) > max_entries:
            indices = [indices[i] for i in rng.choice(len(indices), max_entries, replace=False)]
        rows += [_check_entry(model, X, y, name, grad, index, l2, eps) for index in indices]
    worst = max(r["relative_error"] for r in rows)
    return (worst, rows) if details else worst


def gradient_check_example(model: MLP, X, y, *, per_param: int = CHECKS_PER_PARAM, seed: int = 0) -> list[dict]:
    """Backprop against central differences for a few entries of every parameter.

    Per parameter, the ``CHECK_LARGEST`` entries of largest |gradient| and random others,
    ``per_param`` in all. ``model`` should be float64 (float32 rounding would swamp the
    differences); its weights are nudged and put back. Returns rows ``{"param", "layer"
    (1-based), "index", "why", "analytic", "numeric", "relative_error"}``.
    """
    X, y, analytic = _backprop_gradients(model, X, y, 0.0)
    rng = np.random.default_rng(seed)
    rows = []
    for name, grad in analytic.items():
        largest = largest_entries(grad, min(CHECK_LARGEST, per_param))
        # Random entries with a nonzero gradient where there are enough (0 against 0 shows little).
        nonzero = np.flatnonzero(grad)
        pool = nonzero if nonzero.size >= per_param else np.arange(grad.size)
        drawn = pool[rng.permutation(pool.size)[: per_param]]
        randoms = [i for i in (tuple(int(k) for k in np.unravel_index(p, grad.shape)) for p in drawn)
                   if i not in largest][: per_param - len(largest)]
        for index, why in [(i, "largest |gradient|") for i in largest] + [(i, "random") for i in randoms]:
            row = _check_entry(model, X, y, name, grad, index, 0.0, CHECK_EPS)
            rows.append({"param": name, "layer": layer_of(name) + 1, **row, "why": why})
    return rows
