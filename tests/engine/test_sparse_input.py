"""The sparse first layer: the same numbers as a Dense layer, from a batch's non-zero inputs only."""

import numpy as np

from mlp_engine.engines.sparse_input import SparseInputDense
from mlp_engine.layers import Dense


def test_skipping_a_batchs_zero_inputs_gives_the_same_numbers():
    rng = np.random.default_rng(4)
    W, b = rng.normal(size=(40, 16)), rng.normal(size=16)
    sparse_X = rng.normal(size=(32, 40)) * (rng.random((32, 40)) > 0.97)  # ~38% of columns all zero
    leading_run = sparse_X.copy()
    leading_run[:, :12] = rng.normal(size=(32, 12))  # columns [0, 12) in place, the rest gathered
    for X, skips in ((sparse_X, True), (leading_run, True), (rng.normal(size=(32, 40)), False)):
        full, skipping = Dense("d", W.copy(), b.copy(), "tanh"), SparseInputDense("d", W.copy(), b.copy(), "tanh")
        da = rng.normal(size=(32, 16))
        np.testing.assert_allclose(skipping.forward(X, training=True), full.forward(X, training=True), rtol=1e-12)
        assert (skipping._skip is not None) == skips  # a dense batch takes the plain path
        skipping.backward(da.copy(), need_input_grad=False)
        full.backward(da.copy(), need_input_grad=False)
        np.testing.assert_allclose(skipping.dW, full.dW, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(skipping.db, full.db, rtol=1e-12)
        if skips:
            zero_columns = ~X.any(axis=0)
            assert zero_columns.sum() >= 8 and not skipping.dW[zero_columns].any()


def test_a_sparse_layer_over_a_dense_one_trains_its_arrays():
    """What the serial engine relies on when it puts the sparse layer in the model for an epoch:
    the Dense layer's own W, b and gradients are the ones it works on."""
    rng = np.random.default_rng(5)
    layer = Dense("dense0", rng.normal(size=(40, 16)), rng.normal(size=16), "relu")
    sparse = SparseInputDense.over(layer)
    assert sparse.W is layer.W and sparse.b is layer.b and sparse.grads is layer.grads
    X = rng.normal(size=(32, 40)) * (rng.random((32, 40)) > 0.97)
    reference = Dense("dense0", layer.W.copy(), layer.b.copy(), "relu")
    da = rng.normal(size=(32, 16))
    sparse.forward(X, training=True)
    assert sparse._skip is not None
    sparse.backward(da.copy(), need_input_grad=False)
    reference.forward(X, training=True)
    reference.backward(da.copy(), need_input_grad=False)
    np.testing.assert_allclose(layer.dW, reference.dW, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.grads["dense0.b"], reference.db, rtol=1e-12)
    np.testing.assert_allclose(sparse.forward(X), reference.forward(X), rtol=1e-12)  # eval: the plain product
