"""Each optimizer against its textbook formula, written out independently here."""

import numpy as np
import pytest

from mlp_engine import make_optimizer
from mlp_engine.optimizers import CHUNK

LR = 0.01


def reference_steps(name, p, grads, **h):
    """The update rules as the papers / PyTorch docs write them, in float64."""
    p = p.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if name == "sgd":
            p = p - LR * g
        elif name == "momentum":
            m = 0.9 * m + g
            p = p - LR * m
        elif name == "nesterov":
            m = 0.9 * m + g
            p = p - LR * (g + 0.9 * m)
        elif name == "rmsprop":
            v = 0.99 * v + 0.01 * g * g
            p = p - LR * g / (np.sqrt(v) + 1e-8)
        elif name in ("adam", "adamw"):
            if name == "adamw":
                p = p - LR * h["weight_decay"] * p
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
            p = p - LR * m_hat / (np.sqrt(v_hat) + 1e-8)
    return p


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_three_steps_match_the_formula(name):
    rng = np.random.default_rng(0)
    # Bigger than one chunk, so the chunked in-place update is exercised at a seam.
    W = rng.normal(size=(3, CHUNK // 2 + 5))
    b = rng.normal(size=(7,))
    grads = [{"l.W": rng.normal(size=W.shape), "l.b": rng.normal(size=b.shape)} for _ in range(3)]
    hyper = {"weight_decay": 0.1} if name == "adamw" else {}
    opt = make_optimizer(name, **hyper)
    params = {"l.W": W.copy(), "l.b": b.copy()}
    for g in grads:
        frozen = {k: v.copy() for k, v in g.items()}
        opt.step(params, g, LR)
        for k in g:  # gradients are read, never written
            np.testing.assert_array_equal(g[k], frozen[k])
    expected_W = reference_steps(name, W, [g["l.W"] for g in grads], **hyper)
    np.testing.assert_allclose(params["l.W"], expected_W, rtol=1e-12, atol=1e-12)
    # Decoupled weight decay applies to weight matrices, not biases.
    expected_b = reference_steps(name, b, [g["l.b"] for g in grads], weight_decay=0.0)
    np.testing.assert_allclose(params["l.b"], expected_b, rtol=1e-12, atol=1e-12)


def test_adam_first_step_moves_each_weight_by_lr():
    # m̂ = g and v̂ = g² on step 1, so every weight moves by lr·sign(g).
    opt = make_optimizer("adam")
    p = {"x.W": np.zeros(5)}
    opt.step(p, {"x.W": np.array([3.0, -0.001, 50.0, -2.0, 1e-3])}, 0.1)
    np.testing.assert_allclose(p["x.W"], [-0.1, 0.1, -0.1, 0.1, -0.1], rtol=1e-4)


def test_state_dict_round_trip_resumes_identically():
    rng = np.random.default_rng(1)
    grads = [{"a.W": rng.normal(size=(4, 4))} for _ in range(4)]
    straight, p1 = make_optimizer("adam"), {"a.W": np.ones((4, 4))}
    for g in grads:
        straight.step(p1, g, LR)
    first, p2 = make_optimizer("adam"), {"a.W": np.ones((4, 4))}
    for g in grads[:2]:
        first.step(p2, g, LR)
    arrays, scalars = first.state_dict()
    resumed = make_optimizer("adam")
    resumed.load_state_dict(arrays, scalars)
    for g in grads[2:]:
        resumed.step(p2, g, LR)
    np.testing.assert_array_equal(p1["a.W"], p2["a.W"])


def test_denormal_moments_are_flushed():
    opt = make_optimizer("adam")
    p = {"a.W": np.zeros(4, dtype=np.float32)}
    g = {"a.W": np.array([1e-20, 0, 0, 1], dtype=np.float32)}
    for _ in range(100):
        opt.step(p, g, LR)
    _, v = opt.moments("a.W")
    assert v[0] == 0.0  # (1e-20)² would be a float32 denormal
    assert v[3] > 0


@pytest.mark.parametrize(
    "name, hyper, message",
    [
        ("adam", {"beta1": 1.0}, "invalid beta1"),
        ("momentum", {"momentum": -0.1}, "invalid momentum"),
        ("rmsprop", {"eps": 0}, "invalid eps"),
        ("sgd", {"weight_decay": -1}, "invalid weight_decay"),
        ("adagrad", {}, "unknown optimizer 'adagrad'"),
        ("sgd", {"beta1": 0.9}, "unexpected keyword"),
    ],
)
def test_bad_hyperparameters_are_rejected(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, **hyper)
