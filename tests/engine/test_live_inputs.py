"""Training on the live inputs only: the same result as training on all of them."""

import numpy as np
import pytest

from mlp_engine import MLP, LayerSpec, ModelConfig, OptimizerConfig, TrainConfig, Trainer
from mlp_engine.engines.live_inputs import input_order

DEAD = [0, 3, 7]  # columns that are zero in every training example


@pytest.fixture
def data():
    """(X, y): 400 examples of 8 features, 3 of them always zero, 3 classes."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 8))
    X[:, DEAD] = 0.0
    y = (X[:, 1] + X[:, 2] > 0).astype(int) + (X[:, 4] > 1).astype(int)
    return X, y


def model():
    return MLP(ModelConfig(8, (LayerSpec(16, "relu"), LayerSpec(12, "tanh")), 3, dtype="float64", seed=5))


def trained(data, skip: bool, epochs: int = 3, **config):
    net = model()
    trainer = Trainer(net, TrainConfig(epochs=epochs, batch_size=32, **config), *data, skip_dead_inputs=skip)
    return net, trainer, trainer.run().history


def test_input_order():
    X = np.array([[0.0, 1.0, 0.0, -2.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert input_order(X, drop_dead=True).tolist() == [1, 3]
    assert input_order(X, drop_dead=False).tolist() == [1, 3, 0, 2, 4]  # dead inputs last
    X = np.array([[0.0, 1.0, 0.0, -2.0, 0.0], [0.0, 0.0, 0.0, 3.0, 0.0]])
    assert input_order(X, drop_dead=True).tolist() == [3, 1]  # the most often non-zero first
    for drop_dead in (True, False):
        assert input_order(np.ones((2, 3)), drop_dead) is None  # nothing to drop or reorder
    assert input_order(np.zeros((2, 3)), drop_dead=True) is None  # nothing would be left
    assert input_order(np.zeros((2, 3)), drop_dead=False) is None


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "momentum", "rmsprop"])
def test_skipping_dead_inputs_gives_the_same_training(data, optimizer):
    kw = {"optimizer": OptimizerConfig(optimizer, lr=0.01), "clip_norm": 5.0}
    skipped, trainer, history = trained(data, skip=True, **kw)
    full, _, reference = trained(data, skip=False, **kw)
    assert trainer.engine.order.tolist() == [1, 2, 4, 5, 6]
    for name, value in full.params().items():
        np.testing.assert_allclose(skipped.params()[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    for name, value in full.grads().items():
        np.testing.assert_allclose(skipped.grads()[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    assert [m["train_loss"] for m in history] == pytest.approx([m["train_loss"] for m in reference], rel=1e-10)
    W0 = model().dense[0].W
    assert np.array_equal(skipped.dense[0].W[DEAD], W0[DEAD])  # dead rows: untouched, bit for bit
    for arrays in trainer.optimizer.state.values():  # optimizer state back at full shape
        for name, value in arrays.items():
            assert value.shape in {p.shape for p in skipped.params().values()}
    state = trainer.optimizer.state["dense0.W"]
    assert all(value.shape == (8, 16) and not value[DEAD].any() for value in state.values())


@pytest.mark.parametrize("config", [{"l2": 1e-3}, {"optimizer": OptimizerConfig("adamw")},
                                    {"optimizer": OptimizerConfig("adam", weight_decay=0.1)}])
def test_no_skipping_where_dead_weights_would_move(data, config):
    net, trainer, _ = trained(data, skip=True, epochs=1, **config)
    assert trainer.engine.order.tolist() == [1, 2, 4, 5, 6, 0, 3, 7]  # all kept, only reordered
    assert not np.array_equal(net.dense[0].W[DEAD], model().dense[0].W[DEAD])  # decay moved them
    in_column_order, _, _ = trained(data, skip=False, epochs=1, **config)
    for name, value in in_column_order.params().items():
        np.testing.assert_allclose(net.params()[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


def test_resuming_from_a_checkpoint_continues_the_same_run(data):
    uninterrupted, _, _ = trained(data, skip=True, epochs=3)
    first = model()
    trainer = Trainer(first, TrainConfig(epochs=3, batch_size=32), *data)
    trainer.run(should_stop=lambda: trainer.epoch >= 1)
    arrays, scalars = trainer.state_dict()
    assert arrays["optimizer/dense0.W/m_sum"].shape == (8, 16)
    resumed = model()
    resumed.set_weights(first.get_weights())
    again = Trainer(resumed, TrainConfig(epochs=3, batch_size=32), *data)
    again.load_state_dict(arrays, scalars)
    again.run()
    for name, value in uninterrupted.params().items():
        np.testing.assert_array_equal(resumed.params()[name], value, err_msg=name)


def test_cancelling_mid_epoch_leaves_a_whole_model(data):
    net = model()
    calls = iter(range(1000))
    result = Trainer(net, TrainConfig(epochs=2, batch_size=32), *data).run(should_stop=lambda: next(calls) == 5)
    assert result.stop_reason == "cancelled"
    assert net.dense[0].W.shape == (8, 16) and net.dense[0].dW.shape == (8, 16)
    assert net.predict(data[0]).shape == (400,)
