"""Save -> load gives the same model; bad files give clear errors; no pickle."""

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from mlp_engine import (MLP, LayerSpec, ModelConfig, ModelFileError, TrainConfig, Trainer, load_checkpoint,
                        load_model, model_from_zip, model_to_zip, save_checkpoint, save_model)
from mlp_engine.serialization import ModelLimits


@pytest.fixture
def model():
    m = MLP(ModelConfig(6, (LayerSpec(8, "tanh"), LayerSpec(5, "gelu")), 3, seed=3))
    for p in m.params().values():  # non-zero biases too
        p += np.random.default_rng(0).normal(size=p.shape).astype(p.dtype) * 0.1
    return m


X = np.random.default_rng(1).normal(size=(10, 6))


def test_save_load_gives_identical_predictions(model, tmp_path):
    save_model(model, tmp_path / "m", {"test_accuracy": 0.5})
    loaded, meta = load_model(tmp_path / "m")
    assert meta == {"test_accuracy": 0.5}
    assert loaded.config == model.config
    np.testing.assert_array_equal(loaded.output(X), model.output(X))


def test_zip_round_trip(model):
    loaded, meta = model_from_zip(model_to_zip(model, {"name": "x"}))
    np.testing.assert_array_equal(loaded.output(X), model.output(X))
    assert meta["name"] == "x"


def _zip(doc, weights: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.json", doc if isinstance(doc, str) else json.dumps(doc))
        zf.writestr("weights.npz", weights)
    return buf.getvalue()


def _parts(model):
    with zipfile.ZipFile(io.BytesIO(model_to_zip(model))) as zf:
        return json.loads(zf.read("model.json")), zf.read("weights.npz")


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_corrupt_and_mismatched_files_raise_clear_errors(model):
    doc, weights = _parts(model)
    with pytest.raises(ModelFileError, match="not a zip"):
        model_from_zip(b"hello")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        model_from_zip(_zip("{nope", weights))
    with pytest.raises(ModelFileError, match="format version 99"):
        model_from_zip(_zip({**doc, "format_version": 99}, weights))
    with pytest.raises(ModelFileError, match="not an MLP Playground model"):
        model_from_zip(_zip({"format": "keras"}, weights))
    with pytest.raises(ModelFileError, match="not a readable .npz"):
        model_from_zip(_zip(doc, b"garbage"))
    bad_shape = dict(model.params())
    bad_shape["dense0.W"] = np.zeros((6, 9), np.float32)
    with pytest.raises(ModelFileError, match=r"dense0.W has shape \(6, 9\)"):
        model_from_zip(_zip(doc, _npz(**bad_shape)))
    with pytest.raises(ModelFileError, match="the config needs"):
        model_from_zip(_zip(doc, _npz(only=np.zeros(3))))
    nan = dict(model.params())
    nan["dense1.b"] = np.full(5, np.nan, np.float32)
    with pytest.raises(ModelFileError, match="finite"):
        model_from_zip(_zip(doc, _npz(**nan)))


def test_pickled_object_arrays_are_refused(model):
    doc, _ = _parts(model)
    evil = dict(model.params())
    evil["dense0.W"] = np.array([object()] * 48, dtype=object).reshape(6, 8)
    with pytest.raises(ModelFileError, match="float32 or float64 numbers, not object"):
        model_from_zip(_zip(doc, _npz(**evil)))


def test_missing_model_dir(tmp_path):
    with pytest.raises(ModelFileError, match="no saved model"):
        load_model(tmp_path / "none")


@pytest.mark.parametrize("dropout, augment, processes", [
    (0.0, None, 1),
    (0.3, None, 1),  # the dropout generator resumes where it stopped, not at epoch 1's masks
    (0.3, {"max_shift": 1.0, "max_rotation": 10.0}, 1),
    (0.3, {"max_shift": 1.0, "max_rotation": 10.0}, 2),
])
def test_checkpoint_resume_continues_like_an_unbroken_run(tmp_path, dropout, augment, processes):
    rng = np.random.default_rng(0)
    X, y = rng.random(size=(64, 36)), rng.integers(0, 3, 64)
    config = ModelConfig(36, (LayerSpec(8), LayerSpec(6)), 3, dtype="float64", dropout=dropout)
    train_config = TrainConfig(epochs=4, batch_size=16, augment=augment)
    images = {"image_shape": (6, 6), "processes": processes}
    straight = MLP(config)
    Trainer(straight, train_config, X, y, **images).run()

    first = MLP(config)
    trainer = Trainer(first, train_config, X, y, **images)
    trainer.run(on_epoch=lambda m: None, should_stop=lambda: trainer.epoch == 2)
    save_checkpoint(tmp_path, first, *trainer.state_dict())

    model, arrays, scalars = load_checkpoint(tmp_path)
    resumed = Trainer(model, train_config, X, y, **images)
    resumed.load_state_dict(arrays, scalars)
    result = resumed.run()
    assert [m["epoch"] for m in result.history] == [1, 2, 3, 4]
    for name, value in straight.params().items():
        np.testing.assert_allclose(model.params()[name], value, rtol=1e-9)


def test_checkpoint_is_one_file_replaced_whole(tmp_path):
    model = MLP(ModelConfig(6, (LayerSpec(8),), 3))
    save_checkpoint(tmp_path, model, {"optimizer/x": np.arange(3.0)}, {"epoch": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]
    model.params()["dense0.W"][...] = 7.0
    save_checkpoint(tmp_path, model, {"optimizer/x": np.arange(3.0) + 1}, {"epoch": 2})
    loaded, arrays, scalars = load_checkpoint(tmp_path)
    assert scalars == {"epoch": 2} and arrays["optimizer/x"].tolist() == [1.0, 2.0, 3.0]
    assert np.all(loaded.params()["dense0.W"] == 7.0)
    (tmp_path / "checkpoint.npz").write_bytes(b"torn")
    with pytest.raises(ModelFileError, match="not a readable"):
        load_checkpoint(tmp_path)


# -- hostile uploads: nothing past the limits is decompressed or allocated ----------------------

BOMB_BYTES = 64 * 2**20


def _peak_bytes(fn) -> int:
    """Peak memory Python and NumPy allocate while ``fn`` runs (it must raise ModelFileError)."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as err:
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        print(err.value)


def _npz_with_zeros_member(arrays: dict, member: str, n_bytes: int) -> bytes:
    """A weights.npz whose ``member`` is ``n_bytes`` of zeros, deflated (a compression bomb)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in arrays.items():
            with zf.open(f"{name}.npy", "w") as fp:
                np.lib.format.write_array(fp, value)
        with zf.open(member, "w", force_zip64=True) as fp:
            chunk = bytes(2**20)
            for _ in range(n_bytes // len(chunk)):
                fp.write(chunk)
    return buf.getvalue()


def test_a_nested_compression_bomb_is_refused_without_unpacking_it(model):
    doc, _ = _parts(model)
    params = model.params()
    extra_member = _npz_with_zeros_member(params, "junk.npy", BOMB_BYTES)
    assert len(extra_member) < BOMB_BYTES / 100  # small upload, huge when unpacked
    assert _peak_bytes(lambda: model_from_zip(_zip(doc, extra_member))) < 4 * 2**20
    rest = {k: v for k, v in params.items() if k != "dense0.W"}
    trailing = io.BytesIO()  # a right header for dense0.W, followed by 64 MiB of zeros
    np.lib.format.write_array_header_1_0(trailing, np.lib.format.header_data_from_array_1_0(params["dense0.W"]))
    bomb = _npz_with_zeros_member(rest, "dense0.W.npy", BOMB_BYTES)
    assert _peak_bytes(lambda: model_from_zip(_zip(doc, bomb))) < 4 * 2**20


def test_a_declared_shape_past_the_limits_is_refused_before_allocation(model):
    doc, weights = _parts(model)
    huge = {**doc, "config": {**doc["config"], "hidden": [{"units": 8000, "activation": "relu"}] * 2}}
    limits = ModelLimits(max_units=4096)
    peak = _peak_bytes(lambda: model_from_zip(_zip(huge, weights), limits))
    assert peak < 2**20
    with pytest.raises(ModelFileError, match="8000 units wide.*at most 4096"):
        model_from_zip(_zip(huge, weights), limits)
    deep = {**doc, "config": {**doc["config"], "hidden": [{"units": 4, "activation": "relu"}] * 9}}
    with pytest.raises(ModelFileError, match="9 hidden layers; this server takes at most 8"):
        model_from_zip(_zip(deep, weights), ModelLimits(max_hidden_layers=8))
    million = {**doc, "config": {**doc["config"], "input_dim": 10**6, "hidden": [{"units": 10**6}]}}
    assert _peak_bytes(lambda: model_from_zip(_zip(million, weights))) < 2**20


def test_an_array_whose_header_disagrees_with_the_config_is_refused_unread(model, tmp_path):
    doc, _ = _parts(model)
    wide = dict(model.params())
    wide["dense0.W"] = np.zeros((6, 4000), np.float32)
    with pytest.raises(ModelFileError, match="weights.npz unpacks to 9.... bytes; the arrays of a 6-8-5-3 model"):
        model_from_zip(_zip(doc, _npz(**wide)))
    save_model(model, tmp_path)
    (tmp_path / "weights.npz").write_bytes(_npz(**wide))
    with pytest.raises(ModelFileError, match=r"dense0.W has shape \(6, 4000\), the config needs \(6, 8\)"):
        load_model(tmp_path)
    ints = dict(model.params())
    ints["dense0.b"] = np.zeros(8, np.int64)
    with pytest.raises(ModelFileError, match="float32 or float64"):
        model_from_zip(_zip(doc, _npz(**ints)))


@pytest.mark.parametrize("doc_change, message", [
    (lambda d: {**d, "metadata": ["a", "list"]}, "metadata must be an object"),
    (lambda d: {**d, "config": ["not", "a", "dict"]}, "invalid config"),
    (lambda d: {**d, "config": {**d["config"], "hidden": "relu"}}, "invalid config"),
    (lambda d: {**d, "config": {**d["config"], "hidden": [7]}}, "invalid config"),
    (lambda d: {**d, "config": {**d["config"], "hidden": [{"units": "9"}]}}, "invalid config"),
    (lambda d: {**d, "config": {**d["config"], "dropout": [1]}}, "invalid config"),
    (lambda d: {**d, "config": {**d["config"], "seed": "x"}}, "invalid config"),
    (lambda d: {**d, "config": {**d["config"], "bogus": 1}}, "invalid config"),
])
def test_crafted_documents_get_a_model_file_error(model, doc_change, message):
    doc, weights = _parts(model)
    with pytest.raises(ModelFileError, match=message):
        model_from_zip(_zip(doc_change(doc), weights))


def test_deeply_nested_or_oversized_json_is_refused(model):
    doc, weights = _parts(model)
    with pytest.raises(ModelFileError, match="nests too deeply"):
        model_from_zip(_zip("[" * 100_000 + "]" * 100_000, weights))
    with pytest.raises(ModelFileError, match="over 1000 bytes"):
        model_from_zip(_zip({**doc, "metadata": {"pad": "x" * 2000}}, weights), ModelLimits(max_json_bytes=1000))
