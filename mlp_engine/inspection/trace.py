"""One example walked forward and backward through a model, stage by stage.

:func:`trace_example` writes out every stage a learner steps through (the input, each
layer's ``z = a W + b`` and ``a = f(z)``, the output, the loss, ``dL/dz`` at the output,
each layer's ``dW``, ``db``, ``dL/da`` and ``f'(z)``, one optimiser step) with its formula,
its shapes multiplied out and its numbers. It computes them by hand from the weights and
checks them against the engine: ``dW`` and ``db`` against ``forward_backward``'s gradients,
the update against the engine's own optimiser, and a few gradients against central
differences in float64. The model passed in is never changed: the backward pass and the
optimiser step run on copies, so a model a server shares between requests stays as it is.

The arrays are written as :mod:`.views` shows them; the formulas and notes come from
:mod:`.explanations`.
"""

from __future__ import annotations

import math

import numpy as np

from ..gradcheck import gradient_check_example
from ..model import MLP, ModelConfig, layer_of
from ..train_config import OptimizerConfig, config_from_dict
from .explanations import (ACTIVATION_NOTES, DERIVATIVES, FOCUS, LOSS_FORMULAS, NOTES, OPTIMIZER_FORMULAS,
                           OUTPUT_DELTAS, OUTPUT_FORMULAS, SATURATION, STAGE_FORMULAS)
from .views import array_view, json_list, json_number, matrix_view, shape_strings, summarize, top_k

#: Entries per parameter whose optimiser step is written out number by number.
UPDATE_ENTRIES = 3


def copy_model(model: MLP, dtype: str | None = None) -> MLP:
    """A new model with the same config and weights, optionally in another dtype."""
    config = ModelConfig.from_dict({**model.config.to_dict(), "dtype": dtype or model.config.dtype})
    copy = MLP(config)
    copy.set_weights(model.params())  # set_weights casts to the copy's dtype
    return copy


def _targets(model: MLP, label) -> np.ndarray:
    """One example's label in the form the head takes: (1,) int or (1, D_out) float."""
    task, k = model.head.task, model.config.output_dim
    if task == "regression":
        target = np.asarray(label, dtype=np.float64).reshape(-1)
        if target.size != k:
            raise ValueError(f"the target has {target.size} values, this regression model has {k} outputs")
        return model.check_targets(target[None, :], 1)  # (1, D_out)
    classes = k if task == "multiclass" else 2
    if (isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, float, np.integer, np.floating))
            or not float(label).is_integer()):
        raise ValueError(f"the label must be a whole class index 0..{classes - 1}, got {label!r}")
    if not 0 <= label < classes:
        raise ValueError(f"label {label} is out of range: this model has {classes} classes, 0..{classes - 1}")
    return np.array([int(label)], dtype=np.int64)


def _focus_outputs(model: MLP, output: np.ndarray, y: np.ndarray) -> list[tuple[int, str]]:
    """Output units whose weight columns matter: the predicted and true class."""
    task = model.head.task
    if task == "multiclass":
        predicted, true = int(output[0].argmax()), int(y[0])
        if predicted == true:
            return [(true, FOCUS["true_and_predicted"])]
        return [(predicted, FOCUS["predicted"]), (true, FOCUS["true"])]
    if task == "binary":
        return [(0, FOCUS["binary"])]
    return [(j, FOCUS["regression"].format(j=j)) for j in range(min(model.config.output_dim, 3))]


def trace_example(
    model: MLP, x, label, optimizer_name: str = "sgd", lr: float = 0.01, *,
    image_shape: tuple[int, int] | None = None, seed: int = 0, **hyperparameters,
) -> dict:
    """Walk one example through the forward pass, the loss, the backward pass and one
    optimiser step, writing out every stage.

    Parameters
    ----------
    model : MLP
        Left unchanged.
    x : (D,) or (1, D) array-like
        One example's features.
    label : int, or float / (D_out,) for regression
        The class index (0/1 for a binary model), or the regression target.
    optimizer_name, lr, **hyperparameters
        The optimiser for the update stage, as :class:`~mlp_engine.train_config.OptimizerConfig`
        takes them (``momentum``, ``beta1``, ``beta2``, ``eps``, ``rho``, ``weight_decay``);
        it starts from a fresh state (step t = 1).
    image_shape : (H, W), optional
        Show the input and the first layer's weight columns as images of this shape (the
        dataset's ``input_shape``, e.g. (28, 28) for MNIST); None: no images.
    seed : int
        Picks the random entries of the gradient check.

    Returns
    -------
    dict
        ``{"stages", "gradient_check", "loss", "loss_after_step", "prediction", "label",
        "model"}``. Each stage has ``name``, ``phase`` (forward, loss, backward, update),
        ``layer``, ``formula``, ``shapes`` (the product written out), ``shape``,
        ``summary`` and, for arrays of at most MAX_VALUES numbers, ``values``. The stages,
        in order: ``input``; per layer l ``z{l}``, ``a{l}`` (hidden layers); ``output``;
        ``loss``; ``dz{L}``; per layer from the top ``dW{l}``, ``db{l}`` and, below the top,
        ``da{l-1}``, ``dz{l-1}``; ``update``; ``loss_after_step``.

    Raises
    ------
    ValueError
        For an input of the wrong length or with NaN, a label out of range, or a bad
        optimiser setting.
    """
    X = model.check_inputs(x)  # (D,) -> (1, D)
    if X.shape[0] != 1:
        raise ValueError(f"trace one example at a time, got {X.shape[0]}")
    y = _targets(model, label)
    # A bad name or setting is a ValueError here, before any work.
    optimizer_config = config_from_dict(OptimizerConfig, {"name": optimizer_name, "lr": lr, **hyperparameters},
                                        "optimizer")

    # The engine's own forward and backward pass, on a copy (dropout off).
    work = copy_model(model)
    loss, _ = work.forward_backward(X, y, dropout=False)
    engine_grads = {k: g.copy() for k, g in work.grads().items()}

    forward, fwd = _forward(model, X, y, image_shape)
    stages = [*forward, *_loss_stages(model, fwd, y)]
    stages += _backward(model, fwd, y, engine_grads, image_shape)
    update, loss_after = _update(work, X, y, engine_grads, optimizer_config, float(loss))
    stages += update
    output = fwd["output"]
    return {
        "model": {"layer_sizes": model.config.layer_sizes, "activations": [h.activation for h in model.config.hidden],
                  "head": model.head.name, "task": model.head.task, "dtype": model.config.dtype,
                  "dropout_note": NOTES["dropout_off"] if model.config.dropout else None},
        "label": y[0].tolist() if y.ndim == 2 else int(y[0]),
        "prediction": json_list(output[0]) if model.head.task == "regression"
        else int(model.head.predict(output)[0]),
        "loss": float(loss),
        "loss_after_step": loss_after,
        "stages": stages,
        "gradient_check": _gradient_check(model, X, y, engine_grads, seed),
    }


def _forward(model: MLP, X: np.ndarray, y: np.ndarray, image_shape) -> tuple[list[dict], dict]:
    """The forward stages, computed by hand from the weights, and the arrays the rest needs."""
    L = len(model.dense)
    input_stage = {"name": "input", "phase": "forward", "layer": 0, "formula": STAGE_FORMULAS["input"],
                   "shapes": shape_strings(X.shape)[0], **array_view(X)}
    if image_shape is not None and math.prod(image_shape) == X.shape[1]:
        input_stage["image"] = json_list(X[0].reshape(image_shape))
    stages, acts, zs = [input_stage], [X], []
    for l, layer in enumerate(model.dense, start=1):
        a_prev, W, b = acts[-1], layer.W, layer.b
        z = a_prev @ W + b  # (1, D_in) @ (D_in, D_out) + (D_out,) -> (1, D_out)
        zs.append(z)
        last = l == L
        if last:
            output = model.head.output(z.copy())  # (1, D_out): probabilities or values
            focus = _focus_outputs(model, output, y)
        else:
            a = layer.activation.forward(z, np.empty_like(z))
            focus = [(int(a[0].argmax()), FOCUS["most_active"])]
        j = focus[0][0]
        terms = a_prev[0] * W[:, j]  # (D_in,): the products that sum to z_j - b_j
        din, dout = W.shape
        s_a, s_w, s_b, s_z = shape_strings((1, din), (din, dout), (dout,), (1, dout))
        stages.append({
            "name": f"z{l}", "phase": "forward", "layer": l, "param": layer.name,
            "role": "logits" if last else "pre-activation",
            "formula": STAGE_FORMULAS["z"].format(l=l, k=l - 1), "shapes": f"{s_a} · {s_w} + {s_b} → {s_z}", **array_view(z),
            "W": matrix_view(W, focus, image_shape if l == 1 else None), "b": array_view(b),
            "unit": {"index": j, "why": focus[0][1], "z": json_number(z[0, j]), "b": json_number(b[j]),
                     "terms": [{"index": t["index"][0], "a": json_number(a_prev[0, t["index"][0]]),
                                "w": json_number(W[t["index"][0], j]), "product": t["value"]}
                               for t in top_k(terms)]},
        })
        if last:
            stages.append(_output_stage(model, z, output, l))
        else:
            stages.append(_activation_stage(layer.activation, z, a, l))
            acts.append(a)
    return stages, {"acts": acts, "zs": zs, "output": output}


def _activation_stage(activation, z: np.ndarray, a: np.ndarray, l: int) -> dict:
    name = activation.name
    formula = STAGE_FORMULAS["activation"].format(l=l, name=name)
    written = activation.formula.replace("z", f"z{l}")
    if written != f"{name}(z{l})":
        formula += f" = {written}"
    stage = {"name": f"a{l}", "phase": "forward", "layer": l, "activation": name, "formula": formula,
             "shapes": f"{shape_strings(z.shape)[0]} → {shape_strings(a.shape)[0]}", **array_view(a),
             "note": ACTIVATION_NOTES.get(name, ""), "units": int(a.size), "most_active_unit": int(a[0].argmax())}
    if name == "relu":
        stage["zero_units"] = int(np.count_nonzero(a == 0))
        stage["note"] = NOTES["relu_zeros"].format(zeros=stage["zero_units"], units=a.size)
    if name in SATURATION:
        stage["saturated_units"] = int(np.count_nonzero(np.abs(z) > SATURATION[name]))
    return stage


def _output_stage(model: MLP, z: np.ndarray, output: np.ndarray, L: int) -> dict:
    head = model.head.name
    stage = {"name": "output", "phase": "forward", "layer": L, "head": head,
             "formula": OUTPUT_FORMULAS[head].format(L=L),
             "shapes": f"{shape_strings(z.shape)[0]} → {shape_strings(output.shape)[0]}", **array_view(output)}
    if head == "softmax_ce":
        k = int(output[0].argmax())
        stage.update(symbol="p", sum=float(output.sum(dtype=np.float64)), predicted=k,
                     confidence=json_number(output[0, k]))
    elif head == "sigmoid_bce":
        p = json_number(output[0, 0])
        stage.update(symbol="p", predicted=int(p >= 0.5), confidence=max(p, 1.0 - p))
    else:
        stage.update(symbol="ŷ")
    return stage


def _loss_stages(model: MLP, fwd: dict, y: np.ndarray) -> list[dict]:
    """The loss and dL/dz at the output, written out for this example."""
    z, output, L = fwd["zs"][-1], fwd["output"], len(model.dense)
    head = model.head.name
    loss = float(model.head.loss(z, y))
    stage = {"name": "loss", "phase": "loss", "layer": L, "head": head, "value": loss, "shape": [1],
             "summary": summarize(np.array([loss])), "values": [loss]}
    if head == "softmax_ce":
        stage["p_label"] = json_number(output[0, y[0]])
        target = np.zeros_like(output)
        target[0, y[0]] = 1.0  # onehot(y): (1, C)
    elif head == "sigmoid_bce":
        p = json_number(output[0, 0])
        stage["p_label"] = p if y[0] else 1.0 - p
        target = y.reshape(1, 1).astype(output.dtype)
    else:
        target = y
    stage["formula"] = LOSS_FORMULAS[head].format(label=y[0], p_label=stage.get("p_label"), loss=loss)
    # softmax + cross-entropy and sigmoid + BCE both give p - y; the mean square error 2 (ŷ - y) / n
    dz = (output - target) * (2.0 / output.size) if head == "mse" else output - target
    fwd["dz"] = dz.astype(output.dtype, copy=False)
    delta = {"name": f"dz{L}", "phase": "backward", "layer": L,
             "formula": OUTPUT_DELTAS[head].format(L=L, n=output.size),
             "shapes": "{} − {} → {}".format(*shape_strings(output.shape, target.shape, dz.shape)),
             **array_view(fwd["dz"]), "target": json_list(np.asarray(target, dtype=output.dtype).reshape(-1))}
    return [stage, delta]


def _engine_check(name: str, mine: np.ndarray, engine: np.ndarray) -> dict:
    diff = float(np.max(np.abs(mine.astype(np.float64) - engine.astype(np.float64))))
    scale = max(1.0, float(np.max(np.abs(engine))))
    tol = (1e-5 if engine.dtype == np.float32 else 1e-12) * scale
    return {"param": name, "max_abs_diff": diff, "matches": diff <= tol}


def _backward(model: MLP, fwd: dict, y: np.ndarray, engine_grads: dict, image_shape) -> list[dict]:
    """Per layer from the top: dW, db, dL/da below, and f'(z) giving dz below."""
    acts, zs, dz = fwd["acts"], fwd["zs"], fwd["dz"]
    L = len(model.dense)
    stages = []
    for l in range(L, 0, -1):
        layer = model.dense[l - 1]
        a_prev = acts[l - 1]
        din, dout = layer.W.shape
        dW = a_prev.T @ dz  # (D_in, 1) @ (1, D_out) -> (D_in, D_out): the outer product
        db = dz[0]  # (D_out,): the sum over a batch of one
        if l == L:
            columns = _focus_outputs(model, fwd["output"], y)
        else:
            columns = [(int(acts[l][0].argmax()), FOCUS["most_active"])]
            pushed = int(np.abs(dz[0]).argmax())
            if pushed != columns[0][0]:
                columns.append((pushed, FOCUS["largest_gradient"]))
        zero_rows = int(np.count_nonzero(a_prev[0] == 0))
        stages.append({
            "name": f"dW{l}", "phase": "backward", "layer": l, "param": f"{layer.name}.W",
            "formula": STAGE_FORMULAS["dW"].format(l=l, k=l - 1),
            "shapes": "{} · {} → {}".format(*shape_strings((din, 1), (1, dout), (din, dout))),
            **matrix_view(dW, columns, image_shape if l == 1 else None), "top_k": top_k(dW),
            "zero_rows": zero_rows,
            "note": NOTES["dW_zero_rows"].format(l=l, k=l - 1, zeros=zero_rows),
            "engine_check": _engine_check(f"{layer.name}.W", dW, engine_grads[f"{layer.name}.W"]),
        })
        stages.append({
            "name": f"db{l}", "phase": "backward", "layer": l, "param": f"{layer.name}.b",
            "formula": STAGE_FORMULAS["db"].format(l=l),
            "shapes": "{} → {}".format(*shape_strings((1, dout), (dout,))), **array_view(db),
            "engine_check": _engine_check(f"{layer.name}.b", db, engine_grads[f"{layer.name}.b"]),
        })
        if l == 1:
            break
        da = dz @ layer.W.T  # (1, D_out) @ (D_out, D_in) -> (1, D_in)
        stages.append({
            "name": f"da{l - 1}", "phase": "backward", "layer": l - 1,
            "formula": STAGE_FORMULAS["da"].format(l=l, k=l - 1),
            "shapes": "{} · {} → {}".format(*shape_strings((1, dout), (dout, din), (1, din))), **array_view(da),
        })
        below = model.dense[l - 2].activation
        slope = below.backward(zs[l - 2], acts[l - 1], np.ones_like(da))  # f'(z{l-1}): (1, D_in)
        dz = da * slope
        stage = {
            "name": f"dz{l - 1}", "phase": "backward", "layer": l - 1, "activation": below.name,
            "formula": STAGE_FORMULAS["dz"].format(k=l - 1, name=below.name),
            "shapes": "{} ⊙ {} → {}".format(*shape_strings((1, din), (1, din), (1, din))), **array_view(dz),
            "derivative": {"formula": DERIVATIVES.get(below.name, "f'(z)"), **array_view(slope)},
        }
        if below.name == "relu":
            blocked = int(np.count_nonzero(slope == 0))
            stage.update(blocked_units=blocked, note=NOTES["relu_blocked"].format(k=l - 1, blocked=blocked))
        stages.append(stage)
    return stages


def _hand_update(name: str, hyper: dict, lr: float, w: np.ndarray, g: np.ndarray, is_weight: bool) -> dict:
    """The first step (t = 1, fresh state) of each optimiser, written out in float64."""
    w, g = w.astype(np.float64), g.astype(np.float64)
    wd = hyper.get("weight_decay", 0.0) if is_weight else 0.0
    out = {}
    if name == "sgd":
        step = -lr * g
    elif name in ("momentum", "nesterov"):
        v = g  # μ·0 + g
        out["velocity"] = v
        step = -lr * v if name == "momentum" else -lr * (g + hyper["momentum"] * v)
    elif name == "rmsprop":
        s = (1 - hyper["rho"]) * g * g
        out["square_avg"] = s
        step = -lr * g / (np.sqrt(s) + hyper["eps"])
    else:  # adam, adamw
        b1, b2 = hyper["beta1"], hyper["beta2"]
        m, v = (1 - b1) * g, (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1), v / (1 - b2)  # bias correction at t = 1
        out.update(m=m, v=v, m_hat=m_hat, v_hat=v_hat)
        step = -lr * m_hat / (np.sqrt(v_hat) + hyper["eps"])
    out["delta"] = step - lr * wd * w
    return out


def _update(work: MLP, X, y, grads: dict, config: OptimizerConfig, loss_before: float) -> tuple[list[dict], float]:
    """One step of the engine's optimiser on the copy ``work``, from a fresh state."""
    optimizer = config.build()
    hyper = optimizer.hyperparameters()
    before = work.get_weights()
    optimizer.step(work.params(), work.grads(), config.lr)
    loss_after = float(work.loss(X, y))
    params, deltas = [], []
    for name, w_new in work.params().items():
        w, g = before[name], grads[name]
        delta = w_new.astype(np.float64) - w.astype(np.float64)
        deltas.append(delta.reshape(-1))
        hand = _hand_update(optimizer.name, hyper, config.lr, w, g, name.endswith(".W"))
        state = {k: v for k, v in optimizer.state.get(name, {}).items()}
        if optimizer.name in ("adam", "adamw"):  # m and v as the paper writes them; m̂, v̂ are derived
            state = dict(zip(("m", "v"), optimizer.moments(name)))
            state["m_hat"] = state["m"].astype(np.float64) / (1 - optimizer.beta1 ** optimizer.t)
            state["v_hat"] = state["v"].astype(np.float64) / (1 - optimizer.beta2 ** optimizer.t)
        entries = []
        for pick in top_k(g, UPDATE_ENTRIES):
            i = tuple(pick["index"])
            entry = {"index": pick["index"], "w": json_number(w[i]), "g": json_number(g[i])}
            entry.update({k: json_number(v[i]) for k, v in state.items()})
            entry.update(delta=float(delta[i]), w_new=json_number(w_new[i]))
            entries.append(entry)
        tol = 1e-6 * max(1.0, float(np.max(np.abs(w)))) if w.dtype == np.float32 else 1e-12
        params.append({
            "param": name, "layer": layer_of(name) + 1,
            "delta": array_view(delta), "state": {k: array_view(v) for k, v in state.items()}, "entries": entries,
            "hand_check": {"max_abs_diff": float(np.max(np.abs(hand["delta"] - delta))),
                           "matches": bool(np.max(np.abs(hand["delta"] - delta)) <= tol)},
        })
    all_deltas = np.concatenate(deltas)
    update = {
        "name": "update", "phase": "update", "layer": None, "formula": OPTIMIZER_FORMULAS[optimizer.name],
        "optimizer": {"name": optimizer.name, "lr": config.lr, **hyper}, "t": optimizer.t,
        "shape": [int(all_deltas.size)], "summary": summarize(all_deltas), "parameters": params,
        "note": NOTES["update"],
    }
    if optimizer.name in ("adam", "adamw"):
        update["bias_correction"] = {"1-beta1^t": 1 - optimizer.beta1 ** optimizer.t,
                                     "1-beta2^t": 1 - optimizer.beta2 ** optimizer.t}
    after = {"name": "loss_after_step", "phase": "update", "layer": None,
             "formula": STAGE_FORMULAS["loss_after_step"],
             "value": loss_after, "change": loss_after - loss_before, "shape": [1],
             "summary": summarize(np.array([loss_after])), "values": [loss_after]}
    return [update, after], loss_after


def _gradient_check(model: MLP, X: np.ndarray, y: np.ndarray, engine_grads: dict, seed: int) -> list[dict]:
    """:func:`~mlp_engine.gradcheck.gradient_check_example` on a float64 copy of ``model``,
    each row with ``"trace"``: the engine's gradient in the model's own dtype."""
    rows = gradient_check_example(copy_model(model, "float64"), X, y, seed=seed)
    for row in rows:
        row["trace"] = json_number(engine_grads[row["param"]][tuple(row["index"])])
    return rows
