"""Output heads: the output activation fused with its loss.

Fusing them gives the simple, stable gradient at the logits that every textbook
derives: ``(p - y) / N`` for softmax + cross-entropy and for sigmoid + binary
cross-entropy, ``2 (z - y) / (N·D)`` for mean squared error.

Targets ``y``:
    multiclass: (N,) int class indices; binary: (N,) 0/1; regression: (N, D) float.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid

def log_softmax(logits: np.ndarray) -> np.ndarray:
    """logits: (N, C) -> log p: (N, C), by the max-subtracted log-sum-exp."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C), max 0 per row
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """logits: (N, C) -> p: (N, C), each row sums to 1."""
    e = logits - logits.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


class SoftmaxCrossEntropy:
    """Multi-class head: softmax output, loss = mean_i -log p[i, y_i]."""

    name = "softmax_ce"
    task = "multiclass"
    formula = "L = -mean(log softmax(z)[y])"

    def output(self, logits):
        return softmax(logits)

    def probabilities(self, output):
        """Head output -> (N, C) class probabilities."""
        return output

    def loss_and_grad(self, logits, y):
        """logits: (N, C), y: (N,) int -> (loss, dL/dlogits: (N, C)).

        The loss is -log p[y] = log Σ exp(z - max) - (z[y] - max), exact however
        confidently wrong the network is (no floor under p, so it equals :meth:`loss`)."""
        n = logits.shape[0]
        e = logits - logits.max(axis=1, keepdims=True)  # (N, C), max 0 per row
        picked = (np.arange(n), y)
        z_true = e[picked]  # (N,)
        np.exp(e, out=e)
        total = e.sum(axis=1)  # (N,)
        loss = float((np.log(total) - z_true).sum()) / n
        e *= (1.0 / (n * total))[:, None]  # p / N
        e[picked] -= 1.0 / n  # (p - onehot(y)) / N
        return loss, e

    def loss(self, logits, y):
        return -float(np.mean(log_softmax(logits)[np.arange(len(y)), y]))

    def predict(self, output):
        return output.argmax(axis=1)

    def predict_logits(self, logits):
        """The same classes without the softmax: it keeps the order of the logits."""
        return logits.argmax(axis=1)

    def metrics(self, output, y):
        return {"accuracy": float(np.mean(self.predict(output) == y))}


class SigmoidBinaryCrossEntropy:
    """Binary head: one output unit, sigmoid, loss = mean BCE."""

    name = "sigmoid_bce"
    task = "binary"
    formula = "L = -mean(y log σ(z) + (1-y) log(1-σ(z)))"

    def output(self, logits):
        return sigmoid(logits)

    def probabilities(self, output):
        """P(y=1): (N, 1) -> (N, 2) probabilities of class 0 and class 1."""
        return np.hstack([1.0 - output, output])

    def loss(self, logits, y):
        z = logits[:, 0]
        # log(1 + e^z) - y z, written so exp never overflows.
        return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))

    def loss_and_grad(self, logits, y):
        """logits: (N, 1), y: (N,) 0/1 -> (loss, dL/dlogits: (N, 1))."""
        grad = self.output(logits)
        grad[:, 0] -= y
        grad /= logits.shape[0]
        return self.loss(logits, y), grad

    def predict(self, output):
        return (output[:, 0] >= 0.5).astype(np.int64)

    def predict_logits(self, logits):
        """σ(z) >= 0.5 exactly when z >= 0."""
        return (logits[:, 0] >= 0).astype(np.int64)

    def metrics(self, output, y):
        return {"accuracy": float(np.mean(self.predict(output) == y))}


class MeanSquaredError:
    """Regression head: identity output, loss = mean over all elements of (z - y)^2."""

    name = "mse"
    task = "regression"
    formula = "L = mean((z - y)²)"

    def output(self, logits):
        return logits

    def probabilities(self, output):
        return None  # regression has no classes

    def loss(self, logits, y):
        return float(np.mean((logits - y) ** 2))

    def loss_and_grad(self, logits, y):
        """logits: (N, D), y: (N, D) -> (loss, dL/dlogits: (N, D))."""
        diff = logits - y
        return float(np.mean(diff**2)), diff * (2.0 / diff.size)

    def predict(self, output):
        return output

    def metrics(self, output, y):
        mse = float(np.mean((output - y) ** 2))
        variance = float(np.mean((y - y.mean(axis=0)) ** 2))
        r2 = 1.0 - mse / variance if variance > 0 else 0.0
        return {"mse": mse, "r2": r2}


HEADS = {
    "softmax_ce": SoftmaxCrossEntropy(),
    "sigmoid_bce": SigmoidBinaryCrossEntropy(),
    "mse": MeanSquaredError(),
}

#: The head a dataset task trains with.
HEAD_FOR_TASK = {head.task: name for name, head in HEADS.items()}


def get_head(name: str):
    try:
        return HEADS[name]
    except KeyError:
        raise ValueError(f"unknown output head {name!r}: choose one of {', '.join(HEADS)}") from None
