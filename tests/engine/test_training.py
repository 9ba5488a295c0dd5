"""The training loop: real learning on real data, and every loop feature."""

import numpy as np
import pytest

from mlp_engine import (MLP, Experiment, LayerSpec, ModelConfig, OptimizerConfig, ScheduleConfig, TrainConfig,
                        Trainer, evaluate, load_dataset, preset, train)


def run_preset(name, **overrides):
    data, model, config = Experiment.from_dict({**__import__("mlp_engine").PRESETS[name][1], **overrides}).build()
    result = Trainer(model, config, data.X_train, data.y_train).run()
    return model, data, result


def test_xor_reaches_100_percent():
    model, data, _ = run_preset("xor")
    assert evaluate(model, data.X_test, data.y_test)["accuracy"] == 1.0


def test_letters_reaches_95_percent():
    model, data, _ = run_preset("letters")
    assert evaluate(model, data.X_test, data.y_test)["accuracy"] >= 0.95


def test_spam_beats_90_percent():
    model, data, _ = run_preset("spam")
    assert evaluate(model, data.X_test, data.y_test)["accuracy"] > 0.90


def test_sine_regression_fits():
    model, data, result = run_preset("xor", dataset="sine", layers=[{"units": 32, "activation": "tanh"}],
                                     epochs=200, batch_size=32, optimizer={"name": "adam", "lr": 0.01})
    test = evaluate(model, data.X_test, data.y_test)
    assert test["r2"] > 0.9
    assert {"train_mse", "train_r2"} <= set(result.history[-1])


def test_mnist_10k_subset_two_epochs_reaches_94_percent(mnist_dir):
    data = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=10_000)
    model = MLP(ModelConfig(784, (LayerSpec(512, "relu"),), 10))
    train(model, data.X_train, data.y_train, TrainConfig(epochs=2, batch_size=64))
    assert evaluate(model, data.X_test, data.y_test)["accuracy"] >= 0.94


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    y = rng.integers(0, 3, 600)
    return rng.normal(size=(600, 2)) + centers[y], y


def small_model(**kw):
    return MLP(ModelConfig(2, (LayerSpec(16, "relu"),), 3, **kw))


def test_epoch_metrics_have_everything_the_page_shows(blobs):
    X, y = blobs
    batches = []
    result = train(small_model(), X, y, TrainConfig(epochs=2, batch_size=100, validation_split=0.2),
                   on_batch=batches.append)
    m = result.history[-1]
    for key in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"):
        assert isinstance(m[key], (int, float)), key
    assert [b["batch"] for b in batches[:4]] == [1, 2, 3, 4]
    assert batches[-1]["batches"] == 5  # 480 training rows / 100
    first, last = m["layers"]
    assert first["shape"] == [2, 16] and last["shape"] == [16, 3]
    for hist in (first["weights"], first["gradients"]):
        assert len(hist["counts"]) == 30 and len(hist["edges"]) == 31
        assert sum(hist["counts"]) == 32
    assert first["weight_norm"] == pytest.approx(np.linalg.norm(small_model().dense[0].W), rel=2)
    assert 0.0 <= first["dead_fraction"] <= 1.0
    assert last["dead_fraction"] is None


def test_dead_relu_fraction_counts_units_that_never_fire(blobs):
    X, y = blobs
    model = small_model()
    model.dense[0].b[:4] = -1e3  # four units can never fire
    result = train(model, X, y, TrainConfig(epochs=1, batch_size=600, optimizer=OptimizerConfig("sgd", lr=1e-9)))
    assert result.history[0]["layers"][0]["dead_fraction"] == pytest.approx(4 / 16)


def test_loss_falls_and_validation_split_is_held_out(blobs):
    X, y = blobs
    trainer = Trainer(small_model(), TrainConfig(epochs=20, validation_split=0.25, optimizer=OptimizerConfig(lr=0.02)), X, y)
    assert len(trainer.X) == 450 and len(trainer.X_val) == 150
    history = trainer.run().history
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > 0.9


def test_early_stopping_restores_the_best_weights(blobs):
    X, y = blobs
    # A learning rate this large makes validation loss bounce: patience ends the run.
    config = TrainConfig(epochs=40, batch_size=32, validation_split=0.3, early_stopping=2,
                         optimizer=OptimizerConfig("sgd", lr=3.0))
    model = small_model()
    trainer = Trainer(model, config, X, y)
    result = trainer.run()
    assert result.stop_reason == "early_stopping"
    assert len(result.history) < 40
    best = min(result.history, key=lambda m: m["val_loss"])
    assert result.best_epoch == best["epoch"]
    assert evaluate(model, trainer.X_val, trainer.y_val)["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_early_stopping_without_validation_is_refused(blobs):
    with pytest.raises(ValueError, match="validation_split"):
        Trainer(small_model(), TrainConfig(early_stopping=3), *blobs)


def test_cancel_between_batches(blobs):
    X, y = blobs
    calls = []
    result = train(small_model(), X, y, TrainConfig(epochs=5, batch_size=60),
                   on_batch=calls.append, should_stop=lambda: len(calls) >= 13)
    assert result.stop_reason == "cancelled"
    assert len(calls) == 13 and len(result.history) == 1


def test_schedule_sets_the_learning_rate_each_epoch(blobs):
    X, y = blobs
    config = TrainConfig(epochs=3, batch_size=600, optimizer=OptimizerConfig("sgd", lr=0.1),
                         schedule=ScheduleConfig("step", step_size=1, gamma=0.5))
    result = train(small_model(), X, y, config)
    assert [m["lr"] for m in result.history] == pytest.approx([0.1, 0.05, 0.025])


def test_clipping_bounds_every_step(blobs):
    X, y = blobs
    model = small_model(dtype="float64")
    before = model.get_weights()
    train(model, X, y, TrainConfig(epochs=1, batch_size=600, clip_norm=1e-3, optimizer=OptimizerConfig("sgd", lr=1.0)))
    moved = np.sqrt(sum(np.sum((model.params()[k] - before[k]) ** 2) for k in before))
    assert moved == pytest.approx(1e-3, rel=1e-6)  # one SGD step of lr·(clipped gradient)


def test_same_seed_same_run(blobs):
    X, y = blobs
    config = TrainConfig(epochs=2, batch_size=50, validation_split=0.2, seed=3)
    a, b = small_model(dropout=0.3), small_model(dropout=0.3)
    train(a, X, y, config)
    train(b, X, y, config)
    np.testing.assert_array_equal(a.params()["dense0.W"], b.params()["dense0.W"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be >= 1, got 0"),
        ({"epochs": 2.5}, "epochs must be an integer, got 2.5"),
        ({"batch_size": -1}, "batch_size must be >= 1"),
        ({"optimizer": {"name": "adam", "lr": -0.1}}, "optimizer.lr must be > 0, got -0.1"),
        ({"optimizer": {"name": "lion"}}, "optimizer.name must be one of sgd, .*, got 'lion'"),
        ({"optimizer": {"momentum": 1.0}}, "optimizer.momentum must be >= 0 and < 1, got 1.0"),
        ({"optimizer": {"learning_rate": 1.0}}, "optimizer has unknown keys \\['learning_rate'\\]: use name, lr"),
        ({"schedule": {"gamma": 0}}, "schedule.gamma must be > 0 and <= 1"),
        ({"augment": {"max_shift": 9}}, "augment.max_shift must be >= 0 and <= 4, got 9"),
        ({"validation_split": 1.0}, "validation_split must be >= 0 and < 1"),
        ({"l2": -1.0}, "l2 must be >= 0"),
        ({"l2": float("nan")}, "l2 must be a finite number"),
        ({"clip_norm": 0.0}, "clip_norm must be > 0"),
    ],
)
def test_bad_train_config_says_what_to_change(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_an_explicit_zero_weight_decay_is_zero():
    """Not given, weight decay is the optimizer's own default (AdamW's 0.01); 0 given is 0."""
    assert OptimizerConfig("adamw", weight_decay=0.0).build().weight_decay == 0.0
    assert OptimizerConfig("adamw").build().weight_decay == 0.01
    assert OptimizerConfig("adam").build().weight_decay == 0.0
    spec = {"optimizer": {"name": "adamw", "weight_decay": 0}}
    assert Experiment.from_dict(spec).train_config().optimizer.build().weight_decay == 0.0


def test_bad_data_is_refused(blobs):
    X, y = blobs
    X = X.copy()
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train(small_model(), X, y)
    with pytest.raises(ValueError, match=r"labels have shape"):
        train(small_model(), blobs[0], y[:10])


def test_presets_build():
    for name in ("xor", "letters", "spam"):
        data, model, config = preset(name).build()
        assert model.config.input_dim == data.n_features
