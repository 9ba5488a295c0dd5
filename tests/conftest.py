"""Fixtures shared by the engine, app and reliability tests."""

import os
from pathlib import Path

import pytest

#: The real server, in-process app, HTTP client and browser fixtures (tests/app/fixtures.py),
#: for the API and browser tests and the reliability suite alike.
pytest_plugins = ["tests.app.fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with the four real MNIST ``.gz`` files.

    ``$MLP_MNIST_DIR`` if set, else ``<repo>/../shared/data/mnist``.

    Tests that use it are skipped where the folder or its training images are missing.
    """
    directory = Path(os.environ.get("MLP_MNIST_DIR", REPO_ROOT.parent / "shared" / "data" / "mnist"))
    if not (directory / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no MNIST files in {directory}; set MLP_MNIST_DIR to a folder holding them")
    return directory
