"""Tests for mlp_engine.datasets: generated sets, parameter checks, IDX parsing, MNIST, download."""

import functools
import gzip
import hashlib
import http.server
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from mlp_engine.datasets import (
    DATASETS,
    MNIST_SHA256,
    SPAM_THRESHOLD,
    SPAM_WEIGHTS,
    Dataset,
    dataset_info,
    download_mnist,
    load_dataset,
    read_idx,
    standardize_inputs,
)

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

# Digit counts of the original MNIST files.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


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


# --------------------------------------------------------------------------- IDX files


def _idx_bytes(array: np.ndarray, type_byte: int) -> bytes:
    header = bytes([0, 0, type_byte, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_uint8(tmp_path, compress):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    data = _idx_bytes(array, 0x08)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize("dtype, type_byte", [(np.int16, 0x0B), (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_converts_big_endian_types(tmp_path, dtype, type_byte):
    array = np.array([[-2.5, 1000], [3, -7]]).astype(dtype)
    (tmp_path / "a.idx").write_bytes(_idx_bytes(array, type_byte))
    out = read_idx(tmp_path / "a.idx")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda b: b[:-1], r"holds 23 bytes of data after its header, but dimensions \(2, 3, 4\) .* need 24"),
        (lambda b: b + b"\x00", r"holds 25 bytes .* truncated or corrupt"),
        (lambda b: b"\x01" + b[1:], r"is not an IDX file: it starts with bytes '01000803'"),
        (lambda b: b[:2] + b"\x07" + b[3:], r"is not an IDX file"),
        (lambda b: b[:10], r"is truncated: its header announces 3 dimensions but ends early"),
        (lambda b: gzip.compress(b)[:-12], r"is not a readable gzip file"),
    ],
)
def test_read_idx_rejects_corrupt_files_naming_them(tmp_path, mangle, message):
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(mangle(_idx_bytes(np.zeros((2, 3, 4), np.uint8), 0x08)))
    with pytest.raises(ValueError, match=message) as exc:
        read_idx(path)
    assert str(path) in str(exc.value)


# --------------------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist(mnist_dir) -> Dataset:
    return load_dataset("mnist", mnist_dir=mnist_dir)


def test_mnist_parses_the_real_files(mnist, mnist_dir):
    assert mnist.X_train.shape == (60000, 784) and mnist.X_test.shape == (10000, 784)
    assert mnist.X_train.dtype == np.float32 and mnist.y_train.dtype == np.int64
    assert mnist.input_shape == (28, 28) and mnist.n_outputs == 10 and mnist.task == "multiclass"
    assert mnist.X_train.min() == 0 and mnist.X_train.max() == 1
    np.testing.assert_array_equal(mnist.y_train[:5], [5, 0, 4, 1, 9])
    np.testing.assert_array_equal(mnist.y_test[:3], [7, 2, 1])
    np.testing.assert_array_equal(np.bincount(mnist.y_train), MNIST_TRAIN_COUNTS)
    np.testing.assert_array_equal(np.bincount(mnist.y_test), MNIST_TEST_COUNTS)
    raw = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")  # (10000, 28, 28) uint8
    np.testing.assert_array_equal(mnist.X_test, raw.reshape(10000, 784) / np.float32(255))


def test_mnist_is_cached_and_read_only(mnist, mnist_dir):
    again = load_dataset("mnist", mnist_dir=str(mnist_dir) + "/")
    assert again.X_train is mnist.X_train and again.y_test is mnist.y_test
    with pytest.raises(ValueError, match="read-only"):
        again.X_train[0, 0] = 0.5


def _fingerprints(X: np.ndarray) -> np.ndarray:
    """One number per image from its 0..255 pixel values: (N, 784) -> (N,) float64.

    Every product and sum is an integer below 2**53, so equal images give equal numbers exactly.
    """
    weights = np.random.default_rng(0).integers(1, 2**20, 784).astype(np.float64)
    # in blocks of rows, to avoid one 60000 x 784 temporary
    blocks = (X[i : i + 2048] for i in range(0, len(X), 2048))
    return np.concatenate([np.rint(block * np.float32(255)) @ weights for block in blocks])


def test_mnist_train_subset_is_a_seeded_sample_of_the_training_set(mnist, mnist_dir):
    a = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=300, seed=1)
    b = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=300, seed=1)
    c = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=300, seed=2)
    assert a.X_train.shape == (300, 784) and a.X_test is mnist.X_test
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    index = {f: i for i, f in enumerate(_fingerprints(mnist.X_train))}
    rows = np.array([index[f] for f in _fingerprints(a.X_train)])  # position of each kept image
    assert len(set(rows)) == 300 and (np.diff(rows) > 0).all()  # distinct, in file order
    np.testing.assert_array_equal(a.y_train, mnist.y_train[rows])
    assert a.info()["train_size"] == 300


def _mean_and_rms(X: np.ndarray) -> tuple[float, float]:
    """Mean and root mean square of all entries, in float64, without a float64 copy of X."""
    return X.mean(dtype=np.float64), np.sqrt(np.einsum("ij,ij->", X, X, dtype=np.float64) / X.size)


def test_mnist_standardize_uses_training_statistics(mnist, mnist_dir):
    # mean and std of all training pixels, exactly, from a histogram of the raw 0..255 values
    raw = read_idx(mnist_dir / "train-images-idx3-ubyte.gz")  # (60000, 28, 28) uint8
    counts = sum(np.bincount(raw[i : i + 2048].ravel(), minlength=256) for i in range(0, len(raw), 2048))
    levels = np.arange(256) / 255
    mean = counts @ levels / counts.sum()
    sd = np.sqrt(counts @ (levels - mean) ** 2 / counts.sum())
    std = load_dataset("mnist", mnist_dir=mnist_dir, standardize=True)
    assert std.X_train.dtype == np.float32 and std.X_train.flags.c_contiguous
    assert _mean_and_rms(std.X_train) == pytest.approx((0, 1), abs=1e-5)
    np.testing.assert_allclose(std.X_train[:1000], (mnist.X_train[:1000] - mean) / sd, atol=1e-5)
    np.testing.assert_allclose(std.X_test, (mnist.X_test - mean) / sd, atol=1e-5)
    sub = load_dataset("mnist", mnist_dir=mnist_dir, standardize=True, train_subset=500)
    assert _mean_and_rms(sub.X_train) == pytest.approx((0, 1), abs=1e-5)
    assert not np.allclose(sub.X_test, std.X_test, atol=1e-3)  # the subset's own statistics
    # The statistics travel with the dataset, so new raw inputs (a drawing) get the same.
    assert std.info()["standardization"] == pytest.approx({"mean": mean, "std": sd})
    np.testing.assert_allclose(standardize_inputs(mnist.X_test[:50], **std.info()["standardization"]),
                               std.X_test[:50], atol=1e-6)
    assert mnist.info()["standardization"] is None


def test_mnist_info_reads_headers_and_matches_the_loaded_dataset(mnist, mnist_dir):
    assert dataset_info("mnist", mnist_dir=mnist_dir) == mnist.info()
    info = dataset_info("mnist", mnist_dir=mnist_dir, train_subset=1234)
    assert (info["train_size"], info["test_size"], info["n_features"]) == (1234, 10000, 784)


def test_mnist_without_files_says_where_it_looked_and_how_to_fix_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="none was given.*MLP_MNIST_DIR.*download_mnist"):
        load_dataset("mnist")
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="MNIST files missing in") as exc:
        dataset_info("mnist", mnist_dir=tmp_path)
    message = str(exc.value)
    assert str(tmp_path.resolve()) in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "train-images-idx3-ubyte.gz:" not in message  # present files are not reported missing


# --------------------------------------------------------------------------- download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and records each requested path in ``self.server.requests``."""

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def mirror(tmp_path, mnist_dir):
    """A local HTTP server on a free port serving copies of the MNIST files.

    Yields ``(base_url, served_dir, requests)``; tests may change files in ``served_dir``.
    """
    served = tmp_path / "served"
    served.mkdir()
    for name in MNIST_SHA256:
        shutil.copyfile(mnist_dir / name, served / name)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served))
    )
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", served, server.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_fetches_verifies_and_skips_good_files(mirror, tmp_path):
    base_url, _, requests = mirror
    dest = tmp_path / "data" / "mnist"
    assert download_mnist(dest, base_url.rstrip("/"), timeout=5) == dest
    assert {p.name: _sha256(p) for p in dest.iterdir()} == MNIST_SHA256  # no temporary files left
    assert sorted(requests) == sorted(f"/{name}" for name in MNIST_SHA256)
    assert dataset_info("mnist", mnist_dir=dest)["train_size"] == 60000

    requests.clear()
    (dest / "t10k-labels-idx1-ubyte.gz").write_bytes(b"stale")
    download_mnist(dest, base_url, timeout=5)
    assert requests == ["/t10k-labels-idx1-ubyte.gz"]  # only the bad file is fetched again
    assert _sha256(dest / "t10k-labels-idx1-ubyte.gz") == MNIST_SHA256["t10k-labels-idx1-ubyte.gz"]


def test_download_rejects_a_corrupted_file_and_deletes_it(mirror, tmp_path):
    base_url, served, _ = mirror
    bad = served / "t10k-images-idx3-ubyte.gz"
    data = bytearray(bad.read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    dest = tmp_path / "dest"
    message = r"sha256 of http://127\.0\.0\.1:\d+/t10k-images-idx3-ubyte\.gz is"
    with pytest.raises(ValueError, match=message) as exc:
        download_mnist(dest, base_url, timeout=5)
    assert MNIST_SHA256["t10k-images-idx3-ubyte.gz"] in str(exc.value)
    assert "corrupted" in str(exc.value)
    left = sorted(p.name for p in dest.iterdir())  # the files before the bad one, and no temporaries
    assert left == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_download_reports_a_missing_file_with_its_url(mirror, tmp_path):
    base_url, served, _ = mirror
    (served / "train-labels-idx1-ubyte.gz").unlink()
    message = r"could not download http://.*/train-labels-idx1-ubyte\.gz: HTTP Error 404"
    with pytest.raises(OSError, match=message):
        download_mnist(tmp_path / "dest", base_url, timeout=5)
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["train-images-idx3-ubyte.gz"]


@pytest.mark.parametrize(
    "base_url, timeout, message",
    [
        ("ftp://example.org/mnist/", 30, "base_url must start with http:// or https://, got 'ftp://"),
        ("http://127.0.0.1:9/", 0, "timeout must be a positive number of seconds, got 0"),
    ],
)
def test_download_rejects_bad_arguments_before_connecting(tmp_path, base_url, timeout, message):
    with pytest.raises(ValueError, match=message):
        download_mnist(tmp_path, base_url, timeout=timeout)
    assert list(tmp_path.iterdir()) == []
