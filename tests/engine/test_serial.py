"""The serial engine: gradient clipping, and the sparse first layer on one BLAS thread."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from mlp_engine import MLP, LayerSpec, ModelConfig, TrainConfig, train
from mlp_engine.engines import SparseInputDense, clip_by_global_norm
from mlp_engine.layers import Dense


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0])
    np.testing.assert_allclose(grads["b"], [[0.8]])
    small = {"a": np.array([0.3])}
    clip_by_global_norm(small, 1.0)
    assert small["a"][0] == 0.3


def test_one_blas_thread_trains_on_the_batchs_nonzero_inputs_only():
    """On one BLAS thread the first layer skips a batch's all-zero inputs (it pays there);
    the run is the same, up to float rounding, as with the full matmul on two threads."""
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(size=(600, 2)), np.zeros((600, 4))])
    X[:12, 2:] = 1.0  # inputs that only 12 of 600 examples use: most batches have none
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)
    runs = {}
    for threads in (1, 2):
        net = MLP(ModelConfig(X.shape[1], (LayerSpec(16, "relu"),), 3, dtype="float64", seed=0))
        sparse, skipped = [], []  # per batch: is the first layer sparse; did it leave out zero inputs?
        with threadpool_limits(threads):
            train(net, X, y, TrainConfig(epochs=2, batch_size=50),
                  on_batch=lambda _: (sparse.append(isinstance(net.dense[0], SparseInputDense)),
                                      skipped.append(getattr(net.dense[0], "_skip", None) is not None)))
        assert type(net.dense[0]) is Dense and net.layers[0] is net.dense[0]  # only while training
        assert all(sparse) == any(sparse) == (threads == 1)
        assert any(skipped) == (threads == 1)
        runs[threads] = net.params()
    for name, value in runs[2].items():
        np.testing.assert_allclose(runs[1][name], value, rtol=1e-10, atol=1e-12, err_msg=name)
