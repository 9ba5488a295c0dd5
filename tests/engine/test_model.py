"""Model: shapes, initialisation, gradients (numerically checked), bad input."""

import numpy as np
import pytest

from mlp_engine import ACTIVATIONS, HEADS, MLP, LayerSpec, ModelConfig, gradient_check
from mlp_engine.losses import log_softmax, softmax

HEAD_OUTPUTS = {"softmax_ce": 3, "sigmoid_bce": 1, "mse": 2}


def make_targets(head, n, rng):
    if head == "softmax_ce":
        return rng.integers(0, 3, n)
    if head == "sigmoid_bce":
        return rng.integers(0, 2, n)
    return rng.normal(size=(n, 2))


def make_model(head, activation, depth, **kw):
    hidden = tuple(LayerSpec(5 + i, activation) for i in range(depth))
    return MLP(ModelConfig(4, hidden, HEAD_OUTPUTS[head], head=head, dtype="float64", init="xavier", **kw))


@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_central_differences(activation, head, depth, l2):
    rng = np.random.default_rng(depth)
    model = make_model(head, activation, depth, seed=depth)
    X = rng.normal(size=(6, 4))
    y = make_targets(head, 6, rng)
    error = gradient_check(model, X, y, l2=l2, max_entries=None)
    assert error < 1e-6


def test_gradient_check_catches_a_wrong_gradient():
    rng = np.random.default_rng(0)
    model = make_model("softmax_ce", "tanh", 2)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    # A model whose loss carries an L2 term its gradient does not know about.
    worst, rows = gradient_check(model, X, y, max_entries=None, details=True)
    assert worst < 1e-6
    original_loss = model.loss
    model.loss = lambda X_, y_, l2=0.0: original_loss(X_, y_, 1.0)
    assert gradient_check(model, X, y, max_entries=None) > 1e-3


def test_softmax_is_stable_and_sums_to_one():
    logits = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]])
    p = softmax(logits)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(log_softmax(logits)[1], np.log(p[1]))


def test_cross_entropy_gradient_is_p_minus_y_over_n():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 0.5, 3.0]])
    y = np.array([0, 2])
    loss, grad = HEADS["softmax_ce"].loss_and_grad(logits.copy(), y)
    p = softmax(logits)
    np.testing.assert_allclose(grad, (p - np.eye(3)[y]) / 2)
    assert loss == pytest.approx(-np.mean(np.log(p[[0, 1], y])))


def test_binary_cross_entropy_does_not_overflow():
    logits = np.array([[800.0], [-800.0]])
    loss = HEADS["sigmoid_bce"].loss(logits, np.array([0, 1]))
    assert loss == pytest.approx(800.0)


def test_he_and_xavier_initialisation_scales():
    he = MLP(ModelConfig(1000, (LayerSpec(500),), 10, init="he"))
    assert he.dense[0].W.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    xavier = MLP(ModelConfig(1000, (LayerSpec(500),), 10, init="xavier"))
    limit = np.sqrt(6 / 1500)
    assert np.abs(xavier.dense[0].W).max() <= limit
    assert xavier.dense[0].W.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    normal = MLP(ModelConfig(1000, (LayerSpec(500),), 10, init="normal", init_std=0.05))
    assert normal.dense[0].W.std() == pytest.approx(0.05, rel=0.02)
    assert all(np.all(d.b == 0) for d in he.dense)


def test_same_seed_same_weights_other_seed_other_weights():
    config = ModelConfig(20, (LayerSpec(8), LayerSpec(6, "tanh")), 3, seed=7)
    a, b = MLP(config), MLP(config)
    c = MLP(ModelConfig(20, (LayerSpec(8), LayerSpec(6, "tanh")), 3, seed=8))
    for name in a.params():
        np.testing.assert_array_equal(a.params()[name], b.params()[name])
    assert not np.array_equal(a.params()["dense0.W"], c.params()["dense0.W"])


def test_float32_by_default_float64_selectable():
    assert MLP(ModelConfig(4, (LayerSpec(3),), 2)).output(np.ones((1, 4))).dtype == np.float32
    assert MLP(ModelConfig(4, (LayerSpec(3),), 2, dtype="float64")).output(np.ones((1, 4))).dtype == np.float64


def test_trace_gives_every_intermediate():
    model = MLP(ModelConfig(4, (LayerSpec(5, "relu"), LayerSpec(3, "tanh")), 2, dtype="float64"))
    X = np.random.default_rng(0).normal(size=(2, 4))
    stages = model.trace(X)
    assert [s["name"] for s in stages] == ["dense0", "dense1", "dense2"]
    assert [s["z"].shape for s in stages] == [(2, 5), (2, 3), (2, 2)]
    W0, b0 = model.params()["dense0.W"], model.params()["dense0.b"]
    np.testing.assert_allclose(stages[0]["z"], X @ W0 + b0)
    np.testing.assert_allclose(stages[0]["a"], np.maximum(X @ W0 + b0, 0))
    np.testing.assert_allclose(stages[1]["a"], np.tanh(stages[1]["z"]))
    np.testing.assert_allclose(stages[2]["a"], model.output(X))
    np.testing.assert_allclose(stages[2]["a"].sum(axis=1), 1.0)


def test_eval_output_is_not_overwritten_by_later_calls():
    model = MLP(ModelConfig(4, (LayerSpec(5),), 2))
    first = model.output(np.ones((3, 4)))
    kept = first.copy()
    model.output(np.zeros((3, 4)))
    np.testing.assert_array_equal(first, kept)


def test_dropout_is_train_time_only_and_inverted():
    model = MLP(ModelConfig(50, (LayerSpec(2000, "linear"),), 1, head="mse", dropout=0.5, dtype="float64"))
    X = np.ones((1, 50))
    np.testing.assert_array_equal(model.output(X), model.output(X))  # eval: deterministic
    dropout = model.layers[1]
    a = np.ones((4, 2000))
    out = dropout.forward(a.copy(), training=True)
    assert set(np.unique(out)) == {0.0, 2.0}
    assert out.mean() == pytest.approx(1.0, abs=0.05)  # scaled so the mean is kept


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden": ()}, "zero hidden layers"),
        ({"hidden": (LayerSpec(4, "swish"),)}, "hidden layer 1 activation must be one of relu, .*, got 'swish'"),
        ({"hidden": (LayerSpec(3), LayerSpec(0))}, "hidden layer 2 units must be >= 1, got 0"),
        ({"head": "hinge"}, "unknown output head"),
        ({"init": "orthogonal"}, "init must be one of he, xavier, normal, got 'orthogonal'"),
        ({"dropout": 1.0}, "dropout must be >= 0 and < 1, got 1.0"),
        ({"dtype": "float16"}, "dtype must be"),
        ({"output_dim": 3, "head": "sigmoid_bce"}, "one output unit"),
    ],
)
def test_bad_config_says_what_to_change(kwargs, message):
    base = {"input_dim": 4, "hidden": (LayerSpec(3),), "output_dim": 2}
    with pytest.raises(ValueError, match=message):
        ModelConfig(**{**base, **kwargs})


def test_bad_inputs_say_what_to_change():
    model = MLP(ModelConfig(4, (LayerSpec(3),), 2))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(N, 4\)"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[1.0, np.nan, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        model.loss(np.ones((2, 4)), np.array([0, 5]))
    with pytest.raises(ValueError, match="empty"):
        model.predict(np.ones((0, 4)))


