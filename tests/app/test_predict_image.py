"""Drawn digits over real HTTP: POST /api/models/{id}/predict with a base64 image and
POST /api/models/{id}/predict/image with a multipart upload, against a model trained
on MNIST by the server itself."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from mlp_engine.datasets import read_idx
from tests.app.helpers import XOR_RUN, assert_error, read_events
from tests.app.live_server import LiveServer

MNIST_QUICK = {"dataset": "mnist", "dataset_params": {"train_subset": 5000},
               "layers": [{"units": 128, "activation": "relu"}], "epochs": 2}
N_DIGITS = 8
SEND_MODES = ("base64", "data_url", "multipart")


# --------------------------------------------------------------------------- helpers


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def canvas_png(digit: np.ndarray, side: int = 400, top: int = 20, left: int = 150) -> bytes:
    """An MNIST digit (28, 28) uint8 redrawn large (240 px tall) and off-centre
    (towards the top right) as dark ink on a white side x side RGB canvas."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = Image.fromarray(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    scale = min(240 / crop.height, (side - left - 10) / crop.width)
    big = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BICUBIC)
    ink = Image.new("L", (side, side), 0)
    ink.paste(big, (left, top))
    return png_bytes(Image.eval(ink, lambda v: 255 - v).convert("RGB"))


def send_image(client: httpx.Client, model_id: str, data: bytes, mode: str) -> httpx.Response:
    """The image as bare base64, as a data URL, or as a multipart file upload."""
    if mode == "multipart":
        return client.post(f"/api/models/{model_id}/predict/image", files={"file": ("digit.png", data, "image/png")})
    text = base64.b64encode(data).decode("ascii")
    if mode == "data_url":
        text = "data:image/png;base64," + text
    return client.post(f"/api/models/{model_id}/predict", json={"image": text})


def train(client: httpx.Client, spec: dict) -> str:
    run_id = client.post("/api/runs", json=spec).raise_for_status().json()["id"]
    done = read_events(client, run_id)[-1]
    assert done["event"] == "done" and done["data"]["status"] == "completed", done
    return done["data"]["model_id"]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def mnist_model(shared_api, mnist_dir) -> str:
    return train(shared_api, MNIST_QUICK)


@pytest.fixture(scope="module")
def xor_model(shared_api) -> str:
    return train(shared_api, {**XOR_RUN, "epochs": 5})


@pytest.fixture(scope="module")
def known_digits(shared_api, mnist_model, mnist_dir) -> list[tuple[np.ndarray, int]]:
    """N_DIGITS MNIST test digits (28, 28) uint8 with their labels, among the first 40,
    that the model classifies right as raw pixels."""
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")[:40]
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")[:40]
    raw = (images.reshape(len(images), 784) / 255.0).round(4).tolist()
    predicted = shared_api.post(f"/api/models/{mnist_model}/predict", json={"inputs": raw}).raise_for_status()
    right = [i for i, p in enumerate(predicted.json()["predictions"]) if p == labels[i]]
    assert len(right) >= N_DIGITS, f"the quick model got only {len(right)} of 40 raw digits right"
    return [(images[i], int(labels[i])) for i in right[:N_DIGITS]]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("mode", SEND_MODES)
def test_canvas_drawing_is_classified_as_its_digit(shared_api, mnist_model, known_digits, mode):
    agree = 0
    for digit, label in known_digits:
        response = send_image(shared_api, mnist_model, canvas_png(digit), mode)
        assert response.status_code == 200, response.text
        body = response.json()
        agree += body["predictions"] == [label]
        assert body["labels"] == [str(body["predictions"][0])]

        image = np.array(body["input"])  # the preprocessed digit the model saw
        assert image.shape == (28, 28) and image.min() >= 0.0 and image.max() == pytest.approx(1.0)
        mass = image.sum()
        row, col = image.sum(axis=1) @ np.arange(28) / mass, image.sum(axis=0) @ np.arange(28) / mass
        assert abs(row - 14) <= 1 and abs(col - 14) <= 1

        (probabilities,) = body["probabilities"]
        assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
        assert int(np.argmax(probabilities)) == body["predictions"][0]
        (layers,) = body["activations"]  # one example, one hidden layer of 128 units
        assert len(layers) == 1 and len(layers[0]) == 128
    assert agree >= N_DIGITS - 1, f"{agree} of {N_DIGITS} canvas drawings classified as their digit"


def test_the_three_ways_of_sending_agree(shared_api, mnist_model, known_digits):
    data = canvas_png(known_digits[0][0])
    bodies = [send_image(shared_api, mnist_model, data, mode).json() for mode in SEND_MODES]
    assert bodies[0]["input"] == bodies[1]["input"] == bodies[2]["input"]
    assert bodies[0]["probabilities"] == bodies[1]["probabilities"] == bodies[2]["probabilities"]


@pytest.mark.parametrize("mode", SEND_MODES)
def test_blank_canvas_is_rejected(shared_api, mnist_model, mode):
    blank = png_bytes(Image.new("RGB", (280, 280), "white"))
    assert_error(send_image(shared_api, mnist_model, blank, mode), 422, "blank", "draw a digit first")


@pytest.mark.parametrize("mode", SEND_MODES)
def test_garbage_bytes_are_rejected(shared_api, mnist_model, mode):
    assert_error(send_image(shared_api, mnist_model, b"\x89PNG but not really" * 10, mode), 422, "PNG or JPEG")


def test_text_that_is_not_base64_is_rejected(shared_api, mnist_model):
    url = f"/api/models/{mnist_model}/predict"
    assert_error(shared_api.post(url, json={"image": "certainly not base64!"}), 422, "base64")
    assert_error(shared_api.post(url, json={"image": "data:image/png,rawbytes"}), 422, "base64")


@pytest.mark.parametrize("mode", SEND_MODES)
def test_image_sent_to_a_non_mnist_model_is_rejected(shared_api, xor_model, known_digits, mode):
    drawing = canvas_png(known_digits[0][0])
    assert_error(send_image(shared_api, xor_model, drawing, mode), 422, "takes 2 inputs", "not a 28x28 image")


def test_upload_over_the_size_limit_gets_413(tmp_path, mnist_dir):
    limit = 16 * 1024
    server = LiveServer(tmp_path / "data", env={"MLP_MNIST_DIR": str(mnist_dir),
                                                "MLP_MAX_UPLOAD_BYTES": str(limit)}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            model_id = train(c, {**MNIST_QUICK, "dataset_params": {"train_subset": 500}, "epochs": 1,
                                 "layers": [{"units": 16, "activation": "relu"}]})
            digit = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")[0]
            drawing = canvas_png(digit)
            assert len(drawing) < limit
            assert send_image(c, model_id, drawing, "multipart").status_code == 200
            noise = np.random.default_rng(0).integers(0, 256, (160, 160), dtype=np.uint8)
            too_big = png_bytes(Image.fromarray(noise))  # noise does not compress: ~26 KB
            assert len(too_big) > limit
            assert_error(send_image(c, model_id, too_big, "multipart"), 413, f"{limit}-byte limit",
                         "MLP_MAX_UPLOAD_BYTES")
    finally:
        server.stop()


def test_a_standardised_model_gets_its_drawing_standardised(shared_api, known_digits):
    """A model trained with standardize: true saw (pixel - mean) / std: a drawing gets the
    same, with the mean and std of its training images, kept in the model's record."""
    spec = {**MNIST_QUICK, "dataset_params": {"train_subset": 2000, "standardize": True}, "epochs": 1}
    model_id = train(shared_api, spec)
    scaling = shared_api.get(f"/api/models/{model_id}").json()["metrics"]["dataset"]["standardization"]
    assert 0.1 < scaling["mean"] < 0.2 and 0.25 < scaling["std"] < 0.4  # MNIST's pixel statistics
    body = send_image(shared_api, model_id, canvas_png(known_digits[0][0]), "base64").json()
    raw = np.array(body["input"]).reshape(1, -1)  # the preprocessed drawing, in [0, 1]
    as_trained = shared_api.post(f"/api/models/{model_id}/predict",
                             json={"inputs": ((raw - scaling["mean"]) / scaling["std"]).tolist()}).json()
    np.testing.assert_allclose(body["probabilities"], as_trained["probabilities"], atol=1e-5)
    unscaled = shared_api.post(f"/api/models/{model_id}/predict", json={"inputs": raw.tolist()}).json()
    assert not np.allclose(body["probabilities"], unscaled["probabilities"], atol=1e-3)
