"""Look inside a model: one example walked forward and backward, stage by stage, and a
confusion matrix over a dataset.

:func:`trace_example` writes out every stage a learner steps through (the input, each
layer's ``z = a W + b`` and ``a = f(z)``, the output, the loss, ``dL/dz`` at the output,
each layer's ``dW``, ``db``, ``dL/da`` and ``f'(z)``, one optimiser step) with its formula,
its shapes multiplied out and its numbers. It computes them by hand from the weights and
checks them against the engine: ``dW`` and ``db`` against ``forward_backward``'s gradients,
the update against the engine's own optimiser, and a few gradients against central
differences in float64. The model passed in is never changed: the backward pass and the
optimiser step run on copies, so a model a server shares between requests stays as it is.

Arrays of up to :data:`MAX_VALUES` numbers are given in full; bigger ones as a summary
(min, max, mean, std, nonzero) plus the slices that matter, so the trace of an MNIST
784-512-10 model stays a few hundred kilobytes of JSON.
"""

from __future__ import annotations

import math

import numpy as np

from .gradcheck import numerical_gradient, relative_error
from .model import MLP, ModelConfig
from .metrics import outputs_and_loss
from .train_config import OptimizerConfig

#: Arrays with at most this many numbers are given in full ("values").
MAX_VALUES = 1024
#: Largest-|value| entries listed for big arrays, and terms listed for a unit's z.
TOP_K = 10
#: Entries per parameter whose optimiser step is written out number by number.
UPDATE_ENTRIES = 3
#: Entries per parameter checked against central differences: the largest-|gradient|
#: ones (:data:`CHECK_LARGEST` of them) and random ones.
CHECKS_PER_PARAM = 5
CHECK_LARGEST = 3
#: Step of the central differences; float64 round-off is then about 1e-10 of the loss.
CHECK_EPS = 1e-6
#: Misclassified examples listed by :func:`evaluate_confusion`.
MAX_MISCLASSIFIED = 100
#: An input of this many numbers is shown as an image of this shape.
IMAGE_SHAPES = {784: (28, 28)}

ACTIVATION_NOTES = {
    "relu": "a unit is 0 wherever z <= 0: ReLU lets only positive inputs through",
    "leaky_relu": "z <= 0 is scaled by 0.01 instead of zeroed, so no unit is cut off",
    "sigmoid": "squashes z into (0, 1); where |z| > 4 the curve is flat (slope < 0.02)",
    "tanh": "squashes z into (-1, 1); where |z| > 2.5 the curve is flat (slope < 0.03)",
    "gelu": "a smooth ReLU: about z for large z, about 0 for very negative z",
    "linear": "a = z",
}
#: |z| beyond which a squashing unit counts as saturated (its slope is nearly 0).
SATURATION = {"sigmoid": 4.0, "tanh": 2.5}
DERIVATIVES = {
    "relu": "f'(z) = 1 where z > 0, else 0",
    "leaky_relu": "f'(z) = 1 where z > 0, else 0.01",
    "sigmoid": "f'(z) = a (1 - a), at most 0.25",
    "tanh": "f'(z) = 1 - a², at most 1",
    "gelu": "f'(z) of the tanh approximation: 0.5 (1 + t) + 0.5 z (1 - t²) √(2/π) (1 + 0.134145 z²)",
    "linear": "f'(z) = 1",
}
OPTIMIZER_FORMULAS = {
    "sgd": "w ← w − lr·g",
    "momentum": "v ← μ·v + g (v starts at 0, so v = g);  w ← w − lr·v",
    "nesterov": "v ← μ·v + g (v starts at 0, so v = g);  w ← w − lr·(g + μ·v)",
    "rmsprop": "s ← ρ·s + (1−ρ)·g²;  w ← w − lr·g / (√s + ε)",
    "adam": "m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  "
            "m̂ = m / (1−β1ᵗ);  v̂ = v / (1−β2ᵗ);  w ← w − lr·m̂ / (√v̂ + ε)",
    "adamw": "w ← w − lr·wd·w (weight matrices only), then Adam: m ← β1·m + (1−β1)·g;  "
             "v ← β2·v + (1−β2)·g²;  m̂ = m / (1−β1ᵗ);  v̂ = v / (1−β2ᵗ);  "
             "w ← w − lr·m̂ / (√v̂ + ε)",
}


# --------------------------------------------------------------------------- arrays -> JSON


def _tolist(a: np.ndarray):
    """Nested lists of floats; float32 values as their shortest decimal (0.1, not
    0.10000000149011612), which still reads back to the same float32."""
    if a.dtype == np.float32:
        flat = [float(str(v)) for v in a.reshape(-1)]
        return np.array(flat).reshape(a.shape).tolist() if a.ndim > 1 else flat
    return np.asarray(a, dtype=np.float64).tolist()


def _num(v) -> float:
    """A float; a float32 as its shortest decimal, like :func:`_tolist`."""
    return float(str(v)) if isinstance(v, np.float32) else float(v)


def summarize(a: np.ndarray) -> dict:
    """{"min", "max", "mean", "std", "nonzero", "shape"} of any array."""
    a = np.asarray(a)
    return {"min": _num(a.min()), "max": _num(a.max()), "mean": float(a.mean(dtype=np.float64)),
            "std": float(a.std(dtype=np.float64)), "nonzero": int(np.count_nonzero(a)), "shape": list(a.shape)}


def _view(a: np.ndarray) -> dict:
    """{"shape", "summary", "values"}: "values" only for at most MAX_VALUES numbers,
    flat for a row vector (1, n), else nested as the shape."""
    a = np.asarray(a)
    out = {"shape": list(a.shape), "summary": summarize(a)}
    if a.size <= MAX_VALUES:
        out["values"] = _tolist(a[0] if a.ndim == 2 and a.shape[0] == 1 else a)
    return out


def top_k(a: np.ndarray, k: int = TOP_K) -> list[dict]:
    """The k entries of largest |value|: [{"index": [i, j], "value"}], largest first."""
    flat = np.abs(a).reshape(-1)
    k = min(k, flat.size)
    picks = np.argpartition(-flat, k - 1)[:k]
    picks = picks[np.argsort(-flat[picks], kind="stable")]
    return [{"index": [int(i) for i in np.unravel_index(p, a.shape)], "value": _num(a.reshape(-1)[p])}
            for p in picks]


def _vector(v: np.ndarray, image_shape: tuple[int, int] | None) -> dict:
    """One slice (a column of a matrix): values (and an image) when short, else summary + top-k."""
    if v.size > MAX_VALUES:
        return {"summary": summarize(v), "top_k": top_k(v)}
    out = {"values": _tolist(v)}
    if image_shape is not None and math.prod(image_shape) == v.size:
        out["image"] = _tolist(v.reshape(image_shape))
    return out


def _matrix(W: np.ndarray, columns: list[tuple[int, str]], image_shape) -> dict:
    """A (D_in, D_out) matrix: shape, summary, all values when small, and the named columns."""
    return {**_view(W), "columns": [{"index": j, "why": why, **_vector(W[:, j], image_shape)} for j, why in columns]}


def _dims(*shapes) -> list[str]:
    return ["(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")") for shape in shapes]


# --------------------------------------------------------------------------- helpers


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
            return [(true, "the true class, also predicted")]
        return [(predicted, "the predicted class"), (true, "the true class")]
    if task == "binary":
        return [(0, "the single output unit")]
    return [(j, f"output {j}") for j in range(min(model.config.output_dim, 3))]


# --------------------------------------------------------------------------- the trace


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
        Show the input and the first layer's weight columns as images of this shape;
        default (28, 28) for 784 inputs.
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
    try:
        optimizer_config = OptimizerConfig(name=optimizer_name, lr=lr, **hyperparameters)
    except TypeError as exc:
        raise ValueError(f"optimizer settings: {exc}") from None
    optimizer_config.build()  # raises ValueError on a bad name or setting, before any work
    if image_shape is None:
        image_shape = IMAGE_SHAPES.get(X.shape[1])

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
                  "dropout_note": "dropout is off in this trace" if model.config.dropout else None},
        "label": y[0].tolist() if y.ndim == 2 else int(y[0]),
        "prediction": _tolist(output[0]) if model.head.task == "regression"
        else int(model.head.predict(output)[0]),
        "loss": float(loss),
        "loss_after_step": loss_after,
        "stages": stages,
        "gradient_check": gradient_check_example(model, X, y, seed=seed, trace_grads=engine_grads),
    }


def _forward(model: MLP, X: np.ndarray, y: np.ndarray, image_shape) -> tuple[list[dict], dict]:
    """The forward stages, computed by hand from the weights, and the arrays the rest needs."""
    L = len(model.dense)
    input_stage = {"name": "input", "phase": "forward", "layer": 0, "formula": "a0 = x",
                   "shapes": _dims(X.shape)[0], **_view(X)}
    if image_shape is not None and math.prod(image_shape) == X.shape[1]:
        input_stage["image"] = _tolist(X[0].reshape(image_shape))
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
            focus = [(int(a[0].argmax()), "the most active unit")]
        j = focus[0][0]
        terms = a_prev[0] * W[:, j]  # (D_in,): the products that sum to z_j - b_j
        din, dout = W.shape
        s_a, s_w, s_b, s_z = _dims((1, din), (din, dout), (dout,), (1, dout))
        stages.append({
            "name": f"z{l}", "phase": "forward", "layer": l, "param": layer.name,
            "role": "logits" if last else "pre-activation",
            "formula": f"z{l} = a{l - 1} W{l} + b{l}", "shapes": f"{s_a} · {s_w} + {s_b} → {s_z}", **_view(z),
            "W": _matrix(W, focus, image_shape if l == 1 else None), "b": _view(b),
            "unit": {"index": j, "why": focus[0][1], "z": _num(z[0, j]), "b": _num(b[j]),
                     "terms": [{"index": t["index"][0], "a": _num(a_prev[0, t["index"][0]]),
                                "w": _num(W[t["index"][0], j]), "product": t["value"]}
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
    formula = f"a{l} = {name}(z{l})"
    written = activation.formula.replace("z", f"z{l}")
    if written != f"{name}(z{l})":
        formula += f" = {written}"
    stage = {"name": f"a{l}", "phase": "forward", "layer": l, "activation": name, "formula": formula,
             "shapes": f"{_dims(z.shape)[0]} → {_dims(a.shape)[0]}", **_view(a),
             "note": ACTIVATION_NOTES.get(name, ""), "units": int(a.size), "most_active_unit": int(a[0].argmax())}
    if name == "relu":
        stage["zero_units"] = int(np.count_nonzero(a == 0))
        stage["note"] = f"{stage['zero_units']} of {a.size} units are 0 because their z <= 0: " \
                        "ReLU lets only positive inputs through"
    if name in SATURATION:
        stage["saturated_units"] = int(np.count_nonzero(np.abs(z) > SATURATION[name]))
    return stage


def _output_stage(model: MLP, z: np.ndarray, output: np.ndarray, L: int) -> dict:
    head = model.head.name
    stage = {"name": "output", "phase": "forward", "layer": L, "head": head,
             "shapes": f"{_dims(z.shape)[0]} → {_dims(output.shape)[0]}", **_view(output)}
    if head == "softmax_ce":
        k = int(output[0].argmax())
        stage.update(symbol="p", formula=f"p = softmax(z{L}):  p_k = exp(z_k − max z) / Σ_j exp(z_j − max z)",
                     sum=float(output.sum(dtype=np.float64)), predicted=k, confidence=_num(output[0, k]))
    elif head == "sigmoid_bce":
        p = _num(output[0, 0])
        stage.update(symbol="p", formula=f"p = σ(z{L}) = 1 / (1 + exp(−z{L})) = P(y = 1)",
                     predicted=int(p >= 0.5), confidence=max(p, 1.0 - p))
    else:
        stage.update(symbol="ŷ", formula=f"ŷ = z{L} (identity: a regression output is the raw value)")
    return stage


def _loss_stages(model: MLP, fwd: dict, y: np.ndarray) -> list[dict]:
    """The loss and dL/dz at the output, written out for this example."""
    z, output, L = fwd["zs"][-1], fwd["output"], len(model.dense)
    head = model.head.name
    loss = float(model.head.loss(z, y))
    stage = {"name": "loss", "phase": "loss", "layer": L, "head": head, "value": loss, "shape": [1],
             "summary": summarize(np.array([loss])), "values": [loss]}
    if head == "softmax_ce":
        p_y = _num(output[0, y[0]])
        stage.update(formula=f"L = −log p[y] = −log p[{y[0]}] = −log {p_y:.6g} = {loss:.6g}", p_label=p_y)
        target = np.zeros_like(output)
        target[0, y[0]] = 1.0  # onehot(y): (1, C)
        dz = output - target
        dz_formula = f"dL/dz{L} = p − onehot(y)"
    elif head == "sigmoid_bce":
        p, t = _num(output[0, 0]), int(y[0])
        stage.update(formula=f"L = −(y log p + (1 − y) log(1 − p)) = −log {p if t else 1 - p:.6g} = {loss:.6g}",
                     p_label=p if t else 1.0 - p)
        target = y.reshape(1, 1).astype(output.dtype)
        dz = output - target
        dz_formula = f"dL/dz{L} = p − y"
    else:
        target = y
        dz = (output - target) * (2.0 / output.size)
        stage.update(formula=f"L = mean((ŷ − y)²) = {loss:.6g}")
        dz_formula = f"dL/dz{L} = 2 (ŷ − y) / {output.size}"
    fwd["dz"] = dz.astype(output.dtype, copy=False)
    delta = {"name": f"dz{L}", "phase": "backward", "layer": L, "formula": dz_formula,
             "shapes": f"{_dims(output.shape)[0]} − {_dims(target.shape)[0]} → {_dims(dz.shape)[0]}",
             **_view(fwd["dz"]), "target": _tolist(np.asarray(target, dtype=output.dtype).reshape(-1))}
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
            columns = [(int(acts[l][0].argmax()), "the most active unit")]
            pushed = int(np.abs(dz[0]).argmax())
            if pushed != columns[0][0]:
                columns.append((pushed, "the unit with the largest |dL/dz|"))
        zero_rows = int(np.count_nonzero(a_prev[0] == 0))
        stages.append({
            "name": f"dW{l}", "phase": "backward", "layer": l, "param": f"{layer.name}.W",
            "formula": f"dL/dW{l} = a{l - 1}ᵀ dz{l}",
            "shapes": "{} · {} → {}".format(*_dims((din, 1), (1, dout), (din, dout))),
            **_matrix(dW, columns, image_shape if l == 1 else None), "top_k": top_k(dW),
            "zero_rows": zero_rows,
            "note": f"row i of dW{l} is a{l - 1}[i] · dz{l}, so each of the {zero_rows} zeros in a{l - 1} "
                    "gives a row of zeros",
            "engine_check": _engine_check(f"{layer.name}.W", dW, engine_grads[f"{layer.name}.W"]),
        })
        stages.append({
            "name": f"db{l}", "phase": "backward", "layer": l, "param": f"{layer.name}.b",
            "formula": f"dL/db{l} = dz{l} (summed over the batch of one)",
            "shapes": "{} → {}".format(*_dims((1, dout), (dout,))), **_view(db),
            "engine_check": _engine_check(f"{layer.name}.b", db, engine_grads[f"{layer.name}.b"]),
        })
        if l == 1:
            break
        da = dz @ layer.W.T  # (1, D_out) @ (D_out, D_in) -> (1, D_in)
        stages.append({
            "name": f"da{l - 1}", "phase": "backward", "layer": l - 1,
            "formula": f"dL/da{l - 1} = dz{l} W{l}ᵀ",
            "shapes": "{} · {} → {}".format(*_dims((1, dout), (dout, din), (1, din))), **_view(da),
        })
        below = model.dense[l - 2].activation
        slope = below.backward(zs[l - 2], acts[l - 1], np.ones_like(da))  # f'(z{l-1}): (1, D_in)
        dz = da * slope
        stage = {
            "name": f"dz{l - 1}", "phase": "backward", "layer": l - 1, "activation": below.name,
            "formula": f"dL/dz{l - 1} = dL/da{l - 1} ⊙ {below.name}'(z{l - 1})",
            "shapes": "{} ⊙ {} → {}".format(*_dims((1, din), (1, din), (1, din))), **_view(dz),
            "derivative": {"formula": DERIVATIVES.get(below.name, "f'(z)"), **_view(slope)},
        }
        if below.name == "relu":
            blocked = int(np.count_nonzero(slope == 0))
            stage.update(blocked_units=blocked, note=f"the gradient stops at the {blocked} units whose "
                                                     f"z{l - 1} <= 0 (ReLU's slope there is 0)")
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
            entry = {"index": pick["index"], "w": _num(w[i]), "g": _num(g[i])}
            entry.update({k: _num(v[i]) for k, v in state.items()})
            entry.update(delta=float(delta[i]), w_new=_num(w_new[i]))
            entries.append(entry)
        tol = 1e-6 * max(1.0, float(np.max(np.abs(w)))) if w.dtype == np.float32 else 1e-12
        params.append({
            "param": name, "layer": int(name.split(".")[0].removeprefix("dense")) + 1,
            "delta": _view(delta), "state": {k: _view(v) for k, v in state.items()}, "entries": entries,
            "hand_check": {"max_abs_diff": float(np.max(np.abs(hand["delta"] - delta))),
                           "matches": bool(np.max(np.abs(hand["delta"] - delta)) <= tol)},
        })
    all_deltas = np.concatenate(deltas)
    update = {
        "name": "update", "phase": "update", "layer": None, "formula": OPTIMIZER_FORMULAS[optimizer.name],
        "optimizer": {"name": optimizer.name, "lr": config.lr, **hyper}, "t": optimizer.t,
        "shape": [int(all_deltas.size)], "summary": summarize(all_deltas), "parameters": params,
        "note": "one step from a fresh optimiser state, on a copy of the weights",
    }
    if optimizer.name in ("adam", "adamw"):
        update["bias_correction"] = {"1-beta1^t": 1 - optimizer.beta1 ** optimizer.t,
                                     "1-beta2^t": 1 - optimizer.beta2 ** optimizer.t}
    after = {"name": "loss_after_step", "phase": "update", "layer": None,
             "formula": "L' = the loss on the same example with the updated weights",
             "value": loss_after, "change": loss_after - loss_before, "shape": [1],
             "summary": summarize(np.array([loss_after])), "values": [loss_after]}
    return [update, after], loss_after


# --------------------------------------------------------------------------- gradient check


def gradient_check_example(model: MLP, X, y, *, per_param: int = CHECKS_PER_PARAM, seed: int = 0,
                           trace_grads: dict | None = None) -> list[dict]:
    """Backprop against central differences for a few entries of every parameter, on a
    float64 copy of ``model`` (float32 rounding would swamp the differences).

    Per parameter, the ``CHECK_LARGEST`` entries of largest |gradient| and random others,
    ``per_param`` in all. Returns rows ``{"param", "layer", "index", "why", "analytic",
    "numeric", "relative_error", "trace"}``; ``trace`` is the value from ``trace_grads``
    (the model's own dtype) where given.
    """
    check = copy_model(model, "float64")
    X = check.check_inputs(X)
    y = check.check_targets(y, X.shape[0])
    check.forward_backward(X, y, dropout=False)
    analytic = {k: g.copy() for k, g in check.grads().items()}
    rng = np.random.default_rng(seed)
    rows = []
    for name, grad in analytic.items():
        largest = [tuple(t["index"]) for t in top_k(grad, min(CHECK_LARGEST, per_param))]
        # Random entries with a nonzero gradient where there are enough (0 against 0 shows little).
        nonzero = np.flatnonzero(grad)
        pool = nonzero if nonzero.size >= per_param else np.arange(grad.size)
        drawn = pool[rng.permutation(pool.size)[: per_param]]
        randoms = [i for i in (tuple(int(k) for k in np.unravel_index(p, grad.shape)) for p in drawn)
                   if i not in largest][: per_param - len(largest)]
        for index, why in [(i, "largest |gradient|") for i in largest] + [(i, "random") for i in randoms]:
            numeric = numerical_gradient(check, X, y, name, index, eps=CHECK_EPS)
            a = float(grad[index])
            row = {"param": name, "layer": int(name.split(".")[0].removeprefix("dense")) + 1, "index": list(index),
                   "why": why, "analytic": a, "numeric": numeric, "relative_error": relative_error(a, numeric)}
            if trace_grads is not None:
                row["trace"] = _num(trace_grads[name][index])
            rows.append(row)
    return rows


# --------------------------------------------------------------------------- confusion matrix


def evaluate_confusion(model: MLP, X, y, max_examples: int = MAX_MISCLASSIFIED, classes=None) -> dict:
    """Confusion matrix, per-class and overall accuracy, and the misclassified examples.

    Parameters
    ----------
    model : MLP
        A classifier (softmax or sigmoid head).
    X : (N, D)
    y : (N,) int class indices
    max_examples : int
        Misclassified examples listed at most, the most confident mistakes first.
    classes : sequence of str, optional
        Class names; default "0", "1", ...

    Returns
    -------
    dict
        ``{"n", "classes", "accuracy", "loss", "confusion" (K x K, rows the true class,
        columns the predicted one), "class_counts", "per_class_accuracy" (None for a class
        with no examples), "most_confused" ([{"true", "predicted", "count"}], top 5),
        "n_misclassified", "misclassified" ([{"index", "true", "predicted", "confidence",
        "p_true"}])}``.

    Raises
    ------
    ValueError
        For a regression model, or inputs and labels the model does not take.
    """
    if model.head.task == "regression":
        raise ValueError("a regression model has no classes, so no confusion matrix: "
                         "look at its mse and r2 instead")
    output, loss, y = outputs_and_loss(model, X, y)
    probs = model.head.probabilities(output)  # (N, K)
    predicted = model.head.predict(output)  # (N,)
    K = probs.shape[1]
    confusion = np.bincount(y * K + predicted, minlength=K * K).reshape(K, K)  # (true, predicted)
    counts = confusion.sum(axis=1)
    correct = np.diag(confusion)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    pairs = [p for p in np.argsort(-off.reshape(-1), kind="stable")[:5] if off.reshape(-1)[p] > 0]
    wrong = np.flatnonzero(predicted != y)
    confidence = probs[wrong, predicted[wrong]]
    listed = wrong[np.argsort(-confidence, kind="stable")[:max_examples]]
    return {
        "n": int(len(y)),
        "classes": [str(c) for c in classes] if classes else [str(k) for k in range(K)],
        "accuracy": float(correct.sum() / len(y)),
        "loss": loss,
        "confusion": confusion.tolist(),
        "class_counts": counts.tolist(),
        "per_class_accuracy": [float(c / n) if n else None for c, n in zip(correct, counts)],
        "most_confused": [{"true": int(p // K), "predicted": int(p % K), "count": int(off.reshape(-1)[p])}
                          for p in pairs],
        "n_misclassified": int(len(wrong)),
        "misclassified": [{"index": int(i), "true": int(y[i]), "predicted": int(predicted[i]),
                           "confidence": float(probs[i, predicted[i]]), "p_true": float(probs[i, y[i]])}
                          for i in listed],
    }
