"""The step-through trace and the confusion matrix, against independent computation."""

import json

import numpy as np
import pytest

from mlp_engine import MLP, LayerSpec, ModelConfig, evaluate, evaluate_confusion, trace_example
from mlp_engine.inspection.views import MAX_VALUES
from mlp_engine.model import layer_of

OUTPUTS = {"softmax_ce": 3, "sigmoid_bce": 1, "mse": 2}


def make_model(head="softmax_ce", activation="tanh", depth=2, dtype="float64", inputs=4, seed=0):
    hidden = tuple(LayerSpec(5 + i, activation) for i in range(depth))
    return MLP(ModelConfig(inputs, hidden, OUTPUTS[head], head=head, init="xavier", dtype=dtype, seed=seed))


def label_for(head):
    return {"softmax_ce": 2, "sigmoid_bce": 1, "mse": [0.5, -1.0]}[head]


def stages_by_name(trace):
    return {s["name"]: s for s in trace["stages"]}


def reference_pass(model, x, head, label):
    """Forward and backward by hand in float64, written independently of the engine."""
    acts, zs = [np.asarray(x, dtype=np.float64)], []
    for i, layer in enumerate(model.dense):
        z = acts[-1] @ layer.W.astype(np.float64) + layer.b
        zs.append(z)
        if i < len(model.dense) - 1:
            name = layer.activation.name
            acts.append({"relu": np.maximum(z, 0), "tanh": np.tanh(z), "sigmoid": 1 / (1 + np.exp(-z))}[name])
    z = zs[-1]
    if head == "softmax_ce":
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        loss = -np.log(p[label])
        dz = p - np.eye(len(p))[label]
    elif head == "sigmoid_bce":
        p = 1 / (1 + np.exp(-z))
        loss = -(label * np.log(p[0]) + (1 - label) * np.log(1 - p[0]))
        dz = p - label
    else:
        p = z
        loss = np.mean((z - np.asarray(label)) ** 2)
        dz = 2 * (z - np.asarray(label)) / len(z)
    grads = {}
    for i in range(len(model.dense) - 1, -1, -1):
        grads[f"dense{i}.W"] = np.outer(acts[i], dz)
        grads[f"dense{i}.b"] = dz
        if i:
            da = model.dense[i].W @ dz
            a = acts[i]
            name = model.dense[i - 1].activation.name
            slope = {"relu": (a > 0).astype(float), "tanh": 1 - a * a, "sigmoid": a * (1 - a)}[name]
            dz = da * slope
    return p, float(loss), grads


@pytest.mark.parametrize("head", sorted(OUTPUTS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_every_stage_matches_an_independent_computation(head, activation):
    model = make_model(head, activation)
    x = np.random.default_rng(1).normal(size=4)
    label = label_for(head)
    trace = trace_example(model, x, label)
    stages = stages_by_name(trace)
    L = len(model.dense)
    expected_names = ["input", "z1", "a1", "z2", "a2", "z3", "output", "loss", "dz3",
                      "dW3", "db3", "da2", "dz2", "dW2", "db2", "da1", "dz1", "dW1", "db1",
                      "update", "loss_after_step"]
    assert [s["name"] for s in trace["stages"]] == expected_names
    for s in trace["stages"]:
        assert s["formula"] and "shape" in s and "summary" in s

    p, loss, grads = reference_pass(model, x, head, label)
    np.testing.assert_allclose(stages["output"]["values"], p, rtol=1e-12, atol=1e-14)
    assert stages["loss"]["value"] == pytest.approx(loss, rel=1e-12)
    assert trace["loss"] == pytest.approx(loss, rel=1e-12)

    # The engine's gradient for the same example, from a separate forward_backward.
    X = model.check_inputs(x)
    model.forward_backward(X, model.check_targets(np.asarray(label).reshape(1, -1) if head == "mse" else [label], 1),
                           dropout=False)
    engine = {k: g.copy() for k, g in model.grads().items()}
    for l in range(1, L + 1):
        dW = np.array(stages[f"dW{l}"]["values"])
        a_prev = np.array(stages["input" if l == 1 else f"a{l - 1}"]["values"])
        dz = np.array(stages[f"dz{l}"]["values"])
        np.testing.assert_allclose(dW, engine[f"dense{l - 1}.W"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dW, np.outer(a_prev, dz), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dW, grads[f"dense{l - 1}.W"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(stages[f"db{l}"]["values"], engine[f"dense{l - 1}.b"], rtol=1e-12, atol=1e-15)
        assert stages[f"dW{l}"]["engine_check"]["matches"] and stages[f"db{l}"]["engine_check"]["matches"]
    for l in range(1, L):  # dz = dL/da ⊙ f'(z)
        da = np.array(stages[f"da{l}"]["values"])
        slope = np.array(stages[f"dz{l}"]["derivative"]["values"])
        np.testing.assert_allclose(stages[f"dz{l}"]["values"], da * slope, rtol=1e-12, atol=1e-15)


def test_softmax_output_sums_to_one_and_shapes_multiply_out():
    model = make_model("softmax_ce", "relu", depth=1, dtype="float32")
    trace = trace_example(model, [0.5, -1, 2, 0], 0)
    stages = stages_by_name(trace)
    assert sum(stages["output"]["values"]) == pytest.approx(1.0, abs=1e-6)
    assert stages["output"]["sum"] == pytest.approx(1.0, abs=1e-6)
    assert stages["z1"]["shapes"] == "(1, 4) · (4, 5) + (5,) → (1, 5)"
    assert stages["dW2"]["shapes"] == "(5, 1) · (1, 3) → (5, 3)"
    assert stages["da1"]["shapes"] == "(1, 3) · (3, 5) → (1, 5)"
    z1 = np.array(stages["z1"]["values"])
    assert stages["a1"]["zero_units"] == int(np.sum(z1 <= 0))
    assert stages["dz1"]["blocked_units"] == int(np.sum(z1 <= 0))
    assert "z <= 0" in stages["a1"]["note"]
    assert stages["loss"]["formula"].startswith("L = −log p[y] = −log p[0]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("head", sorted(OUTPUTS))
def test_numeric_gradient_check_agrees(head, dtype):
    model = make_model(head, "tanh", dtype=dtype, seed=3)
    trace = trace_example(model, np.random.default_rng(2).normal(size=4), label_for(head))
    rows = trace["gradient_check"]
    assert {r["param"] for r in rows} == set(model.params())
    assert {r["why"] for r in rows} == {"largest |gradient|", "random"}
    assert max(r["relative_error"] for r in rows) < 1e-4
    for r in rows:  # the trace's own (model dtype) gradient is the one checked
        assert r["trace"] == pytest.approx(r["analytic"], rel=1e-4, abs=1e-6)


def test_adam_update_matches_the_hand_formula():
    model = make_model("softmax_ce", "relu")
    before = model.get_weights()
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-7
    trace = trace_example(model, np.random.default_rng(3).normal(size=4), 1, "adam", lr, beta1=b1, beta2=b2, eps=eps)
    stages = stages_by_name(trace)
    update = stages["update"]
    assert update["optimizer"]["name"] == "adam" and update["t"] == 1
    assert update["bias_correction"]["1-beta1^t"] == pytest.approx(1 - b1)
    for entry in update["parameters"]:
        name = entry["param"]
        layer = int(name[5]) + 1
        g = np.array(stages[f"{'dW' if name.endswith('.W') else 'db'}{layer}"]["values"])
        m, v = (1 - b1) * g, (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1), v / (1 - b2)
        expected = -lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(entry["delta"]["values"], expected, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(entry["state"]["m_hat"]["values"], m_hat, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(entry["state"]["v_hat"]["values"], v_hat, rtol=1e-12, atol=1e-18)
        assert entry["hand_check"]["matches"]
        for e in entry["entries"]:
            i = tuple(e["index"])
            assert e["w_new"] == pytest.approx(before[name][i] + expected[i], rel=1e-12)
    for name, w in model.get_weights().items():  # the update ran on a copy
        np.testing.assert_array_equal(w, before[name])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adamw"])
def test_other_optimizers_match_their_formula(optimizer):
    model = make_model("sigmoid_bce", "tanh")
    trace = trace_example(model, [1, 0, -1, 0.5], 0, optimizer, 0.01, weight_decay=0.1)
    for entry in stages_by_name(trace)["update"]["parameters"]:
        assert entry["hand_check"]["matches"], entry["hand_check"]


@pytest.mark.parametrize("head", sorted(OUTPUTS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_one_small_sgd_step_lowers_the_loss(head, activation):
    model = make_model(head, activation, dtype="float32", seed=4)
    trace = trace_example(model, np.random.default_rng(5).normal(size=4), label_for(head), "sgd", 1e-3)
    assert trace["loss_after_step"] < trace["loss"]
    assert stages_by_name(trace)["loss_after_step"]["change"] < 0


def test_mnist_sized_trace_is_summarised_and_small():
    model = MLP(ModelConfig(784, (LayerSpec(512),), 10))
    x = np.random.default_rng(0).random(784)
    trace = trace_example(model, x, 7, "adam", 1e-3, image_shape=(28, 28))
    stages = stages_by_name(trace)
    assert len(json.dumps(trace)) < 1_000_000
    assert np.array(stages["input"]["image"]).shape == (28, 28)
    W1 = stages["z1"]["W"]
    assert "values" not in W1 and W1["summary"]["shape"] == [784, 512]
    unit = stages["a1"]["most_active_unit"]
    assert W1["columns"][0]["index"] == unit and np.array(W1["columns"][0]["image"]).shape == (28, 28)
    np.testing.assert_array_equal(np.array(W1["columns"][0]["image"], dtype=np.float32).reshape(-1),
                                  model.dense[0].W[:, unit])
    dW1 = stages["dW1"]
    assert "values" not in dW1 and len(dW1["top_k"]) == 10
    # top-k holds the largest |dW| entries: dW = outer(x, dz1), recomputed here.
    dz1 = np.array(stages["dz1"]["values"], dtype=np.float32)
    full = np.outer(model.check_inputs(x)[0], dz1)
    assert abs(dW1["top_k"][0]["value"]) == pytest.approx(np.abs(full).max(), rel=1e-6)
    assert dW1["engine_check"]["matches"]
    assert dW1["summary"]["nonzero"] == np.count_nonzero(full)
    predicted = stages["output"]["predicted"]
    columns = {c["index"] for c in stages["dW2"]["columns"]}
    assert columns == {predicted, 7}
    assert len(stages["a1"]["values"]) == 512 <= MAX_VALUES


def test_images_take_the_shape_the_caller_gives():
    model = make_model(inputs=6, depth=1)
    x = np.arange(6.0)
    stages = stages_by_name(trace_example(model, x, 1, image_shape=(2, 3)))
    np.testing.assert_array_equal(stages["input"]["image"], x.reshape(2, 3))
    column = stages["z1"]["W"]["columns"][0]
    np.testing.assert_array_equal(column["image"], model.dense[0].W[:, column["index"]].reshape(2, 3))
    plain = trace_example(model, x, 1)  # no shape given: rows of numbers, no images
    assert "image" not in json.dumps(plain)
    mnist_sized = trace_example(MLP(ModelConfig(784, (LayerSpec(8),), 10)), np.zeros(784), 3)
    assert "image" not in stages_by_name(mnist_sized)["input"]


def test_layer_of_reads_the_names_the_model_gives():
    model = make_model(depth=3)
    assert [layer_of(name) for name in model.params()] == [0, 0, 1, 1, 2, 2, 3, 3]
    rows = trace_example(model, np.ones(4), 0)["gradient_check"]
    assert {row["layer"] for row in rows} == {1, 2, 3, 4}


def test_bad_inputs_raise_value_errors():
    model = make_model()
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        trace_example(model, [1, 2, 3], 0)
    with pytest.raises(ValueError, match="NaN"):
        trace_example(model, [1, np.nan, 3, 4], 0)
    with pytest.raises(ValueError, match="out of range.*0..2"):
        trace_example(model, [1, 2, 3, 4], 3)
    with pytest.raises(ValueError, match="class index"):
        trace_example(model, [1, 2, 3, 4], "cat")
    with pytest.raises(ValueError, match="optimizer.name must be one of sgd"):
        trace_example(model, [1, 2, 3, 4], 0, "lbfgs")
    with pytest.raises(ValueError, match="optimizer.lr must be > 0, got -1.0"):
        trace_example(model, [1, 2, 3, 4], 0, "sgd", -1.0)
    with pytest.raises(ValueError, match="2 outputs"):
        trace_example(make_model("mse"), [1, 2, 3, 4], [1.0])


def test_confusion_matrix_counts_and_misclassified():
    rng = np.random.default_rng(0)
    model = make_model("softmax_ce", "relu", dtype="float32")
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    result = evaluate_confusion(model, X, y, max_examples=20, classes=["a", "b", "c"])
    confusion = np.array(result["confusion"])
    assert confusion.shape == (3, 3)
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(y, minlength=3))
    predicted = model.predict(X)
    np.testing.assert_array_equal(confusion.sum(axis=0), np.bincount(predicted, minlength=3))
    assert result["accuracy"] == pytest.approx(np.mean(predicted == y))
    assert result["loss"] == pytest.approx(evaluate(model, X, y)["loss"], rel=1e-6)
    assert result["per_class_accuracy"][1] == pytest.approx(np.mean(predicted[y == 1] == 1))
    assert result["n_misclassified"] == int(np.sum(predicted != y)) > 20
    listed = result["misclassified"]
    assert len(listed) == 20
    assert [m["confidence"] for m in listed] == sorted((m["confidence"] for m in listed), reverse=True)
    for m in listed:
        assert predicted[m["index"]] == m["predicted"] != m["true"] == y[m["index"]]
    assert result["classes"] == ["a", "b", "c"]
    top = result["most_confused"][0]
    off = confusion - np.diag(np.diag(confusion))
    assert top["count"] == off.max() == confusion[top["true"], top["predicted"]]


def test_confusion_for_binary_and_not_for_regression():
    model = make_model("sigmoid_bce", "tanh")
    X = np.random.default_rng(1).normal(size=(50, 4))
    y = (X[:, 0] > 0).astype(int)
    result = evaluate_confusion(model, X, y)
    assert np.array(result["confusion"]).shape == (2, 2)
    assert sum(result["class_counts"]) == 50
    with pytest.raises(ValueError, match="regression"):
        evaluate_confusion(make_model("mse"), X, np.zeros((50, 2)))
