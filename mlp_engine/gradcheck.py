"""Numerical gradient check: backprop against central differences."""

from __future__ import annotations

import numpy as np

from .model import MLP


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


def relative_error(analytic: float, numeric: float, floor: float = 1e-4) -> float:
    """|a - n| / max(|a| + |n|, floor).

    The floor matters for tiny gradients only: central differences carry a
    round-off of about 1e-16·|L|/ε ≈ 1e-11, which would make two agreeing values
    of size 1e-7 look 1e-4 apart; below the floor the error is judged on that
    absolute scale instead."""
    return abs(analytic - numeric) / max(abs(analytic) + abs(numeric), floor)


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
    X = model.check_inputs(X)
    y = model.check_targets(y, X.shape[0])
    model.forward_backward(X, y, l2, dropout=False)
    analytic = {k: g.copy() for k, g in model.grads().items()}
    rng = rng or np.random.default_rng(0)
    rows = []
    for name, grad in analytic.items():
        indices = list(np.ndindex(grad.shape))
        if max_entries is not None and len(indices) > max_entries:
            indices = [indices[i] for i in rng.choice(len(indices), max_entries, replace=False)]
        for index in indices:
            numeric = numerical_gradient(model, X, y, name, index, l2, eps)
            a = float(grad[index])
            rows.append({"param": name, "index": list(index), "analytic": a, "numeric": numeric,
                         "relative_error": relative_error(a, numeric)})
    worst = max(r["relative_error"] for r in rows)
    return (worst, rows) if details else worst
