"""Tests for mlp_engine.datasets' IDX parsing, MNIST loading and info, and download_mnist."""

import functools
import gzip
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from mlp_engine.datasets import (
    MNIST_SHA256,
    Dataset,
    dataset_info,
    download_mnist,
    load_dataset,
    read_idx,
    standardize_inputs,
)

# Digit counts of the original MNIST files.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]



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


@pytest.mark.parametrize("params", [{}, {"train_subset": 500}])
def test_mnist_info_reports_the_standardization_of_the_dataset(mnist_dir, params):
    info = dataset_info("mnist", mnist_dir=mnist_dir, seed=3, standardize=True, **params)
    assert set(info["standardization"]) == {"mean", "std"}
    assert info == load_dataset("mnist", mnist_dir=mnist_dir, seed=3, standardize=True, **params).info()


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
