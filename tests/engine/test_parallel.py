"""Tensor-parallel training: the same training as one process, on several processes."""

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from mlp_engine import MLP, LayerSpec, ModelConfig, OptimizerConfig, TrainConfig, Trainer, evaluate


@pytest.fixture
def data():
    """(X, y): 300 examples of 6 features, 3 classes."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
    return X, y


def model(head_classes=3, dropout=0.0, hidden=((10, "relu"), (7, "tanh"))):
    layers = tuple(LayerSpec(units, act) for units, act in hidden)
    return MLP(ModelConfig(6, layers, head_classes, dtype="float64", seed=3, dropout=dropout))


def train(net, X, y, processes, epochs=2, **config):
    trainer = Trainer(net, TrainConfig(epochs=epochs, batch_size=32, **config), X, y, processes=processes)
    return trainer, trainer.run().history


@pytest.mark.parametrize("processes", [2, 3])
@pytest.mark.parametrize("config", [
    {},
    {"l2": 1e-3, "clip_norm": 0.5, "optimizer": OptimizerConfig("momentum", lr=0.05)},
    {"optimizer": OptimizerConfig("adamw", lr=0.01)},
])
def test_parallel_training_matches_one_process(data, processes, config):
    serial, parallel = model(), model()
    _, reference = train(serial, *data, processes=1, **config)
    trainer, history = train(parallel, *data, processes=processes, **config)
    for name, value in serial.params().items():
        np.testing.assert_allclose(parallel.params()[name], value, rtol=1e-9, atol=1e-11, err_msg=name)
    for name, value in serial.grads().items():
        np.testing.assert_allclose(parallel.grads()[name], value, rtol=1e-9, atol=1e-11, err_msg=name)
    assert [m["train_loss"] for m in history] == pytest.approx([m["train_loss"] for m in reference], rel=1e-10)
    assert [m["train_accuracy"] for m in history] == [m["train_accuracy"] for m in reference]
    # The optimizer's state is whole again, and its step count right.
    for name, p in parallel.params().items():
        for k, value in trainer.optimizer.state[name].items():
            assert value.shape == p.shape, (name, k)
    assert trainer.optimizer.t == 2 * 10  # 2 epochs of 300/32 -> 10 batches


def assert_same_training(make_model, X, y, processes=2):
    """Training a fresh ``make_model()`` on one process and on ``processes`` gives the same weights."""
    serial, parallel = make_model(), make_model()
    train(serial, X, y, processes=1)
    train(parallel, X, y, processes=processes)
    for name, value in serial.params().items():
        np.testing.assert_allclose(parallel.params()[name], value, rtol=1e-9, atol=1e-11, err_msg=name)


def test_sparse_inputs_take_the_same_steps(data):
    """Each process multiplies only the batch's non-zero inputs (SparseInputDense)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 40)) * (rng.random((300, 40)) > 0.97)  # a batch of 32 leaves ~38% columns zero
    assert_same_training(lambda: MLP(ModelConfig(40, (LayerSpec(12, "relu"),), 3, dtype="float64", seed=3)),
                         X, data[1])


@pytest.mark.parametrize("processes", [2, 3])
def test_each_process_makes_the_same_augmented_batches(data, processes):
    """Every process shifts and rotates its own copy of each batch; the copies must agree,
    or the processes would train on different images and the result would differ."""
    rng = np.random.default_rng(6)
    X = rng.random((300, 36)) * (rng.random((300, 36)) > 0.5)  # 6x6 "images"
    make = lambda: MLP(ModelConfig(36, (LayerSpec(12, "relu"),), 3, dtype="float64", seed=3))
    augment = {"max_shift": 1.5, "max_rotation": 20.0}
    serial, parallel = make(), make()
    for net, n in ((serial, 1), (parallel, processes)):
        Trainer(net, TrainConfig(epochs=2, batch_size=32, augment=augment), X, data[1], image_shape=(6, 6),
                processes=n).run()
    for name, value in serial.params().items():
        np.testing.assert_allclose(parallel.params()[name], value, rtol=1e-9, atol=1e-11, err_msg=name)


def test_dropout_masks_are_the_serial_ones(data):
    assert_same_training(lambda: model(dropout=0.3), *data)


@pytest.mark.parametrize("head, outputs, targets", [
    ("sigmoid_bce", 1, lambda X: (X[:, 0] > 0).astype(int)),
    ("mse", 2, lambda X: np.stack([X[:, 0] * 2, X[:, 1] - X[:, 2]], axis=1)),
])
def test_other_heads(data, head, outputs, targets):
    X = data[0]
    make = lambda: MLP(ModelConfig(6, (LayerSpec(8, "relu"),), outputs, dtype="float64", seed=3, head=head))
    assert_same_training(make, X, targets(X))


def test_learns_mnist_as_well_on_two_processes(mnist_dir):
    """float32, where rounding differences grow over 300 steps: the same accuracy, not the same weights."""
    from mlp_engine import load_dataset

    data = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=10_000)
    accuracy = {}
    for processes in (1, 2):
        net = MLP(ModelConfig(784, (LayerSpec(512, "relu"),), 10))
        Trainer(net, TrainConfig(epochs=2, batch_size=64), data.X_train, data.y_train, processes=processes).run()
        accuracy[processes] = evaluate(net, data.X_test, data.y_test)["accuracy"]
    assert accuracy[2] >= 0.94
    assert abs(accuracy[2] - accuracy[1]) <= 0.005


def test_cancelling_mid_epoch_stops_the_other_processes(data):
    net = model()
    calls = iter(range(1000))
    trainer = Trainer(net, TrainConfig(epochs=3, batch_size=32), *data, processes=2)
    result = trainer.run(should_stop=lambda: next(calls) == 4)
    assert result.stop_reason == "cancelled"
    assert children() == []
    assert trainer.optimizer.t == 4 and net.predict(data[0]).shape == (300,)


def test_a_second_run_forks_afresh_and_continues_the_training(data):
    """The engine is entered once per run(): a run stopped after one epoch and run again
    trains as one run of two epochs."""
    serial, parallel = model(), model()
    train(serial, *data, processes=1)
    trainer = Trainer(parallel, TrainConfig(epochs=2, batch_size=32), *data, processes=2)
    assert trainer.run(should_stop=lambda: trainer.epoch >= 1).stop_reason == "cancelled"
    assert children() == []
    trainer.run()
    for name, value in serial.params().items():
        np.testing.assert_allclose(parallel.params()[name], value, rtol=1e-9, atol=1e-11, err_msg=name)


def children() -> list[int]:
    """This process's live forks (Linux): the tensor-parallel peers, not other children an
    earlier test left running (a multiprocessing forkserver runs another command line)."""
    own = Path("/proc/self/cmdline").read_bytes()
    pids = Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()
    return [int(p) for p in pids if _cmdline(p) == own]


def _cmdline(pid: str) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # it has just exited
        return None


def test_a_dead_peer_is_an_error_not_a_hang(data):
    def kill_peer(info):
        if info["batch"] == 3:
            for pid in children():
                os.kill(pid, signal.SIGKILL)

    trainer = Trainer(model(), TrainConfig(epochs=2, batch_size=32), *data, processes=2)
    with pytest.raises(RuntimeError, match="tensor-parallel training process"):
        trainer.run(on_batch=kill_peer)
    assert children() == []


def test_models_that_cannot_be_split_are_refused(data):
    net = MLP(ModelConfig(6, (LayerSpec(8, "relu"), LayerSpec(1, "relu")), 3))
    with pytest.raises(ValueError, match="at least 2 units"):
        Trainer(net, TrainConfig(), *data, processes=2)
    with pytest.raises(ValueError, match="positive integer"):
        Trainer(net, TrainConfig(), *data, processes=0)


def test_between_epochs_the_model_is_whole_and_the_peer_lives_on(data):
    """on_epoch sees every epoch's trained weights (the shards synced into the model), and
    the second process is forked once for the run, not once an epoch."""
    seen = {}
    for processes in (1, 2):
        net, snapshots, peers = model(), [], []

        def on_epoch(metrics, net=net, snapshots=snapshots, peers=peers):
            snapshots.append(net.get_weights())
            peers.append(tuple(children()))

        Trainer(net, TrainConfig(epochs=3, batch_size=32), *data, processes=processes).run(on_epoch=on_epoch)
        seen[processes] = snapshots
        assert len(set(peers)) == 1 and len(peers[0]) == processes - 1
    for serial, parallel in zip(seen[1], seen[2]):
        for name, value in serial.items():
            np.testing.assert_allclose(parallel[name], value, rtol=1e-9, atol=1e-11, err_msg=name)
    assert children() == []
