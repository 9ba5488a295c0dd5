"""What the training loop reports: loss and metrics over a dataset, and per-layer
statistics (weight and gradient histograms, norms, dead units)."""

from __future__ import annotations

import numpy as np

from .model import EVAL_CHUNK, MLP


def histogram(values: np.ndarray, bins: int) -> dict:
    counts, edges = np.histogram(values, bins=bins)
    # Six significant digits are plenty for drawing and keep each epoch event small.
    return {"counts": counts.tolist(), "edges": [float(f"{e:.6g}") for e in edges]}


def evaluate(model: MLP, X: np.ndarray, y: np.ndarray) -> dict:
    """Loss and metrics over (X, y) in eval mode (no dropout), without the L2 term.

    Returns ``{"loss", "accuracy"}`` for classification, ``{"loss", "mse", "r2"}``
    for regression.
    """
    output, loss, y = outputs_and_loss(model, X, y)
    return {"loss": loss, **model.head.metrics(output, y)}


def outputs_and_loss(model: MLP, X, y) -> tuple[np.ndarray, float, np.ndarray]:
    """Head outputs (N, K) over (X, y) in eval mode, in chunks, with the mean loss
    (no L2 term) and the checked targets."""
    X = model.check_inputs(X)
    y = model.check_targets(y, X.shape[0])
    outputs, loss = [], 0.0
    for s in range(0, len(X), EVAL_CHUNK):
        logits = model.forward(X[s : s + EVAL_CHUNK])
        loss += model.head.loss(logits, y[s : s + EVAL_CHUNK]) * len(logits)
        outputs.append(model.head.output(logits))
    return np.concatenate(outputs), loss / len(X), y


def layer_stats(model: MLP, X_sample: np.ndarray, bins: int) -> list[dict]:
    """Per dense layer: weight and gradient histograms (with bin edges), L2 norms, and
    for ReLU layers the fraction of dead units (zero for every sample in X_sample)."""
    stats, out = [], X_sample
    for i, layer in enumerate(model.dense):
        out = layer.forward(out)
        dead = None
        if layer.activation.can_die and i < len(model.dense) - 1:
            dead = float(np.mean(out.max(axis=0) <= 0))
        stats.append(
            {
                "name": layer.name,
                "shape": list(layer.W.shape),
                "activation": layer.activation.name if i < len(model.dense) - 1 else model.head.name,
                "weights": histogram(layer.W, bins),
                "gradients": histogram(layer.dW, bins),
                "weight_norm": float(np.linalg.norm(layer.W)),
                "grad_norm": float(np.linalg.norm(layer.dW)),
                "bias_norm": float(np.linalg.norm(layer.b)),
                "dead_fraction": dead,
            }
        )
    return stats
