"""The fused heads' training loss is the same number as their evaluation loss."""

import numpy as np
import pytest

from mlp_engine.losses import HEADS


def test_softmax_loss_is_exact_for_confident_mistakes():
    logits = np.array([[0.0, 100.0, -3.0], [2.0, 1.0, 0.5]])
    y = np.array([0, 0])
    loss, grad = HEADS["softmax_ce"].loss_and_grad(logits.copy(), y)
    expected = (100.0 + np.log1p(np.exp(-100.0) + np.exp(-103.0)) + -np.log(np.exp(2) / np.exp([2, 1, 0.5]).sum())) / 2
    assert loss == pytest.approx(expected, rel=1e-12)  # a floor under p would cap the first row at 27.63
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[[0, 1], y] -= 1
    np.testing.assert_allclose(grad, p / 2, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("head, y", [
    ("softmax_ce", np.array([0, 1, 2, 2, 1, 0, 3, 3])),
    ("sigmoid_bce", np.array([0, 1, 1, 0, 1, 0, 0, 1])),
    ("mse", np.arange(16.0).reshape(8, 2)),
])
def test_training_loss_equals_evaluation_loss(head, y):
    width = {"softmax_ce": 4, "sigmoid_bce": 1, "mse": 2}[head]
    logits = np.random.default_rng(0).normal(scale=40.0, size=(8, width))  # saturating logits
    loss, _ = HEADS[head].loss_and_grad(logits.copy(), y)
    assert loss == pytest.approx(HEADS[head].loss(logits, y), rel=1e-12)
