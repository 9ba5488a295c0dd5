"""Tests for mlp_engine.datasets: the Dataset contract, the registry and its parameter checks,
the generated sets. IDX and MNIST: test_mnist.py."""

import json

import numpy as np
import pytest

from mlp_engine.datasets import DATASETS, SPAM_THRESHOLD, SPAM_WEIGHTS, Dataset, dataset_info, load_dataset

# name -> (task, n_features, n_outputs, train size, test size) with default parameters
EXPECTED = {
    "xor": ("binary", 2, 1, 4, 4),
    "circle": ("binary", 2, 1, 320, 80),
    "gaussians": ("multiclass", 2, 3, 320, 80),
    "spiral": ("multiclass", 2, 3, 480, 120),
    "moons": ("binary", 2, 1, 320, 80),
    "letters": ("multiclass", 26, 26, 26, 26),
    "spam": ("binary", 3, 1, 800, 200),
    "sine": ("regression", 1, 1, 320, 80),
}
SPLIT = [name for name, spec in DATASETS.items() if "test_fraction" in spec.params]

def test_registry_holds_every_dataset():
    assert set(DATASETS) == set(EXPECTED) | {"mnist"}
    assert all(spec.name == name for name, spec in DATASETS.items())


# --------------------------------------------------------------------------- generated sets


@pytest.mark.parametrize("name", list(EXPECTED))
def test_generated_dataset_meets_contract(name):
    ds = load_dataset(name)
    task, n_features, n_outputs, n_train, n_test = EXPECTED[name]
    assert (ds.name, ds.task, ds.n_features, ds.n_outputs) == (name, task, n_features, n_outputs)
    assert (len(ds.X_train), len(ds.X_test)) == (n_train, n_test)
    assert ds.description and ds.description == DATASETS[name].description
    assert len(ds.feature_names) == n_features
    for X, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        assert X.dtype == np.float32 and X.flags.c_contiguous and X.shape == (len(y), n_features)
        assert np.isfinite(X).all() and np.abs(X).max() <= np.pi + 1e-6
        if task == "regression":
            assert ds.classes == ()
            assert y.dtype == np.float32 and y.shape == (len(X), 1)
        else:
            assert y.dtype == np.int64 and y.shape == (len(X),)
            assert 0 <= y.min() and y.max() < len(ds.classes)
    if task != "regression":
        assert set(np.unique(ds.y_train)) == set(range(len(ds.classes)))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_info_is_json_and_matches_dataset(name):
    ds = load_dataset(name)
    info = ds.info()
    assert json.loads(json.dumps(info)) == info
    assert info == dataset_info(name)
    assert info["classes"] == list(ds.classes)
    assert info["input_shape"] == list(ds.input_shape)
    assert (info["train_size"], info["test_size"]) == (len(ds.X_train), len(ds.X_test))
    assert (info["n_features"], info["n_outputs"]) == (ds.n_features, ds.n_outputs)


@pytest.mark.parametrize("name", SPLIT)
def test_same_seed_gives_same_arrays_and_another_seed_differs(name):
    a, b, c = (load_dataset(name, seed=s) for s in (7, 7, 8))
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize(
    "n_samples, test_fraction, n_test",
    [(100, 0.2, 20), (1000, 0.35, 350), (10, 0.01, 1), (10, 0.99, 9)],
)
def test_split_sizes_follow_test_fraction_and_keep_a_row_each(n_samples, test_fraction, n_test):
    ds = load_dataset("moons", n_samples=n_samples, test_fraction=test_fraction)
    assert (len(ds.X_train), len(ds.X_test)) == (n_samples - n_test, n_test)
    # train and test are disjoint: no generated point appears twice
    assert len(np.unique(np.vstack([ds.X_train, ds.X_test]), axis=0)) == n_samples


def test_xor_is_the_four_corners():
    ds = load_dataset("xor")
    np.testing.assert_array_equal(ds.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y_train, [0, 1, 1, 0])
    np.testing.assert_array_equal(ds.X_test, ds.X_train)
    np.testing.assert_array_equal(ds.y_test, ds.y_train)
    assert ds.classes == ("0", "1")


def test_letters_maps_each_one_hot_row_to_its_letter():
    ds = load_dataset("letters")
    np.testing.assert_array_equal(ds.X_train, np.eye(26))
    np.testing.assert_array_equal(ds.y_train, np.arange(26))
    assert ds.classes[0] == "A" and ds.classes[25] == "Z" and len(set(ds.classes)) == 26


def _all_points(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([ds.X_train, ds.X_test]).astype(np.float64), np.concatenate([ds.y_train, ds.y_test])


def test_circle_without_noise_puts_inside_points_in_the_disc():
    X, y = _all_points(load_dataset("circle", noise=0.0))
    r = np.hypot(X[:, 0], X[:, 1])
    assert (r[y == 1] <= 0.5 + 1e-6).all()
    assert ((r[y == 0] >= 0.7 - 1e-6) & (r[y == 0] <= 1 + 1e-6)).all()
    assert (y == 1).sum() == 200


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = _all_points(load_dataset("moons", noise=0.0))
    raw = X * 1.5 + [0.5, 0.25]  # undo the documented scaling
    upper, lower = raw[y == 0], raw[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-5)
    assert (upper[:, 1] >= -1e-5).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-5)
    assert (lower[:, 1] <= 0.5 + 1e-5).all()


def test_gaussians_are_centred_evenly_on_a_circle():
    X, y = _all_points(load_dataset("gaussians", n_classes=5, noise=0.05, n_samples=2000))
    for k in range(5):
        centre = 0.6 * np.array([np.cos(2 * np.pi * k / 5), np.sin(2 * np.pi * k / 5)])
        np.testing.assert_allclose(X[y == k].mean(axis=0), centre, atol=0.01)
        assert X[y == k].std(axis=0) == pytest.approx([0.05, 0.05], abs=0.01)


def test_spiral_without_noise_follows_its_arms():
    X, y = _all_points(load_dataset("spiral", noise=0.0, n_classes=4))
    r = np.hypot(X[:, 0], X[:, 1])
    expected_angle = 2 * np.pi * y / 4 + 4 * r
    gap = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected_angle)))
    assert np.abs(gap[r > 1e-3]).max() < 1e-4


def test_spam_labels_follow_the_documented_rule():
    ds = load_dataset("spam")
    X, y = _all_points(ds)
    assert ds.feature_names == ("exclamation_count", "contains_free", "sender_reputation")
    np.testing.assert_allclose(X[:, 0] * 10, np.round(X[:, 0] * 10), atol=1e-5)  # whole counts
    assert X[:, 0].min() >= 0 and X[:, 0].max() <= 1
    assert set(np.unique(X[:, 1])) == {0.0, 1.0}
    assert X[:, 2].min() >= 0 and X[:, 2].max() <= 1
    assert 0.3 < y.mean() < 0.7
    w = np.array(list(SPAM_WEIGHTS.values())) * [10, 1, 1]  # weights on the scaled columns
    rule = lambda X: (X @ w > SPAM_THRESHOLD).astype(np.int64)  # noqa: E731
    # The noise-free rule is one sigmoid unit, so a 3-2-1 net can pass 90% on the test split.
    assert (rule(ds.X_test.astype(np.float64)) == ds.y_test).mean() > 0.9
    X0, y0 = _all_points(load_dataset("spam", noise=0.0))
    np.testing.assert_array_equal(rule(X0), y0)


def test_sine_targets_are_sine_plus_noise():
    X, y = _all_points(load_dataset("sine", noise=0.0))
    assert X.min() >= -np.pi and X.max() <= np.pi
    np.testing.assert_allclose(y, np.sin(X), atol=1e-6)
    ds = load_dataset("sine", noise=0.1, n_samples=4000)
    residual = ds.y_train - np.sin(ds.X_train)
    assert residual.std() == pytest.approx(0.1, rel=0.1)


# --------------------------------------------------------------------------- parameter checks


def test_unknown_dataset_lists_the_known_names():
    with pytest.raises(ValueError, match="unknown dataset 'nope'") as exc:
        load_dataset("nope")
    assert all(name in str(exc.value) for name in DATASETS)


def test_unknown_parameter_names_the_allowed_ones():
    allowed = r"\['n_classes'\] for dataset 'moons'; allowed: n_samples, noise, test_fraction"
    with pytest.raises(ValueError, match=allowed):
        load_dataset("moons", n_classes=3)
    with pytest.raises(ValueError, match="allowed: none"):
        load_dataset("xor", n_samples=10)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("circle", {"n_samples": 0}, r"n_samples must be an integer in \[10, 100000\], got 0"),
        ("circle", {"n_samples": 100_001}, r"n_samples must be an integer in \[10, 100000\]"),
        ("circle", {"n_samples": 50.0}, r"n_samples must be an integer"),
        ("circle", {"n_samples": True}, r"n_samples must be an integer"),
        ("moons", {"noise": -0.1}, r"noise must be a number in \[0.0, 1.0\], got -0.1"),
        ("moons", {"noise": float("nan")}, r"noise must be a number in \[0.0, 1.0\]"),
        ("sine", {"test_fraction": 1.0}, r"test_fraction must be a number strictly between 0 and 1"),
        ("sine", {"test_fraction": 0}, r"test_fraction must be a number strictly between 0 and 1"),
        ("spiral", {"n_classes": 1}, r"n_classes must be an integer in \[2, 10\], got 1"),
        ("gaussians", {"n_classes": 11}, r"n_classes must be an integer in \[2, 10\]"),
        ("mnist", {"train_subset": 0}, r"train_subset must be None \(all 60000\) or an integer in \[1, 6"),
        ("mnist", {"train_subset": 60_001}, r"train_subset must be None"),
        ("mnist", {"standardize": "yes"}, r"standardize must be true or false, got 'yes'"),
        ("moons", {"seed": -1}, r"seed must be an integer in \[0, "),
    ],
)
def test_bad_parameter_values_say_the_valid_range(name, params, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(name, **params)


def test_numpy_scalars_are_accepted_as_parameters():
    ds = load_dataset("gaussians", n_samples=np.int64(50), noise=np.float32(0.1), n_classes=np.int32(4))
    assert len(ds.X_train) + len(ds.X_test) == 50 and ds.n_outputs == 4


def test_dataset_rejects_arrays_that_break_the_contract():
    X = np.zeros((4, 2), dtype=np.float32)
    y = np.zeros(4, dtype=np.int64)
    fields = dict(name="t", task="binary", classes=("a", "b"), input_shape=(2,), description="")
    Dataset(X_train=X, y_train=y, X_test=X, y_test=y, **fields)
    with pytest.raises(ValueError, match="X_train must be a C-contiguous 2-D float32 array, got 2-D float64"):
        Dataset(X_train=X.astype(np.float64), y_train=y, X_test=X, y_test=y, **fields)
    with pytest.raises(ValueError, match="X_test must be a C-contiguous"):
        Dataset(X_train=X, y_train=y, X_test=np.asfortranarray(X), y_test=y, **fields)
    with pytest.raises(ValueError, match=r"y_test holds labels 0..2; they must index classes, 0..1"):
        Dataset(X_train=X, y_train=y, X_test=X, y_test=np.array([0, 1, 2, 0]), **fields)
    with pytest.raises(ValueError, match=r"2 columns \(the product of input_shape \(2,\)\)"):
        Dataset(X_train=np.zeros((4, 3), np.float32), y_train=y, X_test=X, y_test=y, **fields)
    with pytest.raises(ValueError, match=r"regression must be float32 of shape \(4, 1\)"):
        Dataset(X_train=X, y_train=y, X_test=X, y_test=y, **(fields | {"task": "regression", "classes": ()}))
