"""A classifier's confusion matrix over a dataset, with the mistakes it is most sure of."""

from __future__ import annotations

import numpy as np

from ..model import MLP
from ..metrics import outputs_and_loss

#: Misclassified examples listed by :func:`evaluate_confusion`.
MAX_MISCLASSIFIED = 100


def evaluate_confusion(model: MLP, X, y, max_examples: int = MAX_MISCLASSIFIED, classes=None) -> dict:
    """Confusion matrix, per-class and overall accuracy, and the misclassified examples.

    Parameters
    ----------
    model : MLP
        A classifier (softmax or sigmoid head).
    X : (N, D)
    y : (N,) int class indices
    max_examples : int
        Misclassified examples listed at most, the most confident mistakes first.
    classes : sequence of str, optional
        Class names; default "0", "1", ...

    Returns
    -------
    dict
        ``{"n", "classes", "accuracy", "loss", "confusion" (K x K, rows the true class,
        columns the predicted one), "class_counts", "per_class_accuracy" (None for a class
        with no examples), "most_confused" ([{"true", "predicted", "count"}], top 5),
        "n_misclassified", "misclassified" ([{"index", "true", "predicted", "confidence",
        "p_true"}])}``.

    Raises
    ------
    ValueError
        For a regression model, or inputs and labels the model does not take.
    """
    if model.head.task == "regression":
        raise ValueError("a regression model has no classes, so no confusion matrix: "
                         "look at its mse and r2 instead")
    output, loss, y = outputs_and_loss(model, X, y)
    probs = model.head.probabilities(output)  # (N, K)
    predicted = model.head.predict(output)  # (N,)
    K = probs.shape[1]
    confusion = np.bincount(y * K + predicted, minlength=K * K).reshape(K, K)  # (true, predicted)
    counts = confusion.sum(axis=1)
    correct = np.diag(confusion)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    pairs = [p for p in np.argsort(-off.reshape(-1), kind="stable")[:5] if off.reshape(-1)[p] > 0]
    wrong = np.flatnonzero(predicted != y)
    confidence = probs[wrong, predicted[wrong]]
    listed = wrong[np.argsort(-confidence, kind="stable")[:max_examples]]
    return {
        "n": int(len(y)),
        "classes": [str(c) for c in classes] if classes else [str(k) for k in range(K)],
        "accuracy": float(correct.sum() / len(y)),
        "loss": loss,
        "confusion": confusion.tolist(),
        "class_counts": counts.tolist(),
        "per_class_accuracy": [float(c / n) if n else None for c, n in zip(correct, counts)],
        "most_confused": [{"true": int(p // K), "predicted": int(p % K), "count": int(off.reshape(-1)[p])}
                          for p in pairs],
        "n_misclassified": int(len(wrong)),
        "misclassified": [{"index": int(i), "true": int(y[i]), "predicted": int(predicted[i]),
                           "confidence": float(probs[i, predicted[i]]), "p_true": float(probs[i, y[i]])}
                          for i in listed],
    }
