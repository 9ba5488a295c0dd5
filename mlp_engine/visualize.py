"""What a model predicts over its input space, for drawing: the decision
boundary of a 2-D classifier and the curve of a 1-D regression."""

from __future__ import annotations

import numpy as np

from .model import MLP

#: Margin around the data, as a fraction of its range.
PAD = 0.1


def _span(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * PAD or 1.0
    return lo - pad, hi + pad


def decision_grid(model: MLP, X: np.ndarray, resolution: int = 40) -> dict:
    """Predictions on a resolution x resolution grid covering X: (N, 2).

    Returns ``{"x_range", "y_range", "resolution", "predicted", "confidence"}``:
    ``predicted`` and ``confidence`` are row-major lists (row 0 at the lowest y)
    of the predicted class and its probability.
    """
    x_range, y_range = _span(X[:, 0]), _span(X[:, 1])
    xs = np.linspace(*x_range, resolution)
    ys = np.linspace(*y_range, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # (R*R, 2), x fastest
    out = model.head.probabilities(model.output(grid))  # (R*R, C)
    predicted = out.argmax(axis=1)
    confidence = out[np.arange(len(out)), predicted]
    return {
        "x_range": list(x_range), "y_range": list(y_range), "resolution": resolution,
        "predicted": predicted.tolist(), "confidence": np.round(confidence, 3).tolist(),
    }


def regression_curve(model: MLP, X: np.ndarray, points: int = 100) -> dict:
    """The model's output along a line covering X: (N, 1): ``{"x": [...], "y": [...]}``."""
    xs = np.linspace(*_span(X[:, 0]), points)
    return {"x": xs.tolist(), "y": model.output(xs[:, None])[:, 0].tolist()}


def prediction_view(model: MLP, X: np.ndarray) -> dict | None:
    """The picture that suits the input space, or None when there is none (D > 2)."""
    if X.shape[1] == 2 and model.head.task != "regression":
        return {"kind": "decision_grid", **decision_grid(model, X)}
    if X.shape[1] == 1 and model.head.task == "regression":
        return {"kind": "curve", **regression_curve(model, X)}
    return None
