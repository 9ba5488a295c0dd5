"""The teaching text of the trace: every formula, note and label a learner reads beside
the numbers, in one place.

Templates are filled with ``str.format``: ``{l}`` is the layer of the stage, ``{k}`` the
layer below it (``l - 1``), ``{L}`` the output layer, ``{name}`` an activation's name.
"""

#: Formula of each stage of the step-through, by stage kind.
STAGE_FORMULAS = {
    "input": "a0 = x",
    "z": "z{l} = a{k} W{l} + b{l}",
    "activation": "a{l} = {name}(z{l})",
    "dW": "dL/dW{l} = a{k}ᵀ dz{l}",
    "db": "dL/db{l} = dz{l} (summed over the batch of one)",
    "da": "dL/da{k} = dz{l} W{l}ᵀ",
    "dz": "dL/dz{k} = dL/da{k} ⊙ {name}'(z{k})",
    "loss_after_step": "L' = the loss on the same example with the updated weights",
}

#: Per output head: the output, the loss written out with this example's numbers, and dL/dz
#: at the output.
OUTPUT_FORMULAS = {
    "softmax_ce": "p = softmax(z{L}):  p_k = exp(z_k − max z) / Σ_j exp(z_j − max z)",
    "sigmoid_bce": "p = σ(z{L}) = 1 / (1 + exp(−z{L})) = P(y = 1)",
    "mse": "ŷ = z{L} (identity: a regression output is the raw value)",
}
LOSS_FORMULAS = {
    "softmax_ce": "L = −log p[y] = −log p[{label}] = −log {p_label:.6g} = {loss:.6g}",
    "sigmoid_bce": "L = −(y log p + (1 − y) log(1 − p)) = −log {p_label:.6g} = {loss:.6g}",
    "mse": "L = mean((ŷ − y)²) = {loss:.6g}",
}
OUTPUT_DELTAS = {
    "softmax_ce": "dL/dz{L} = p − onehot(y)",
    "sigmoid_bce": "dL/dz{L} = p − y",
    "mse": "dL/dz{L} = 2 (ŷ − y) / {n}",
}

ACTIVATION_NOTES = {
    "relu": "a unit is 0 wherever z <= 0: ReLU lets only positive inputs through",
    "leaky_relu": "z <= 0 is scaled by 0.01 instead of zeroed, so no unit is cut off",
    "sigmoid": "squashes z into (0, 1); where |z| > 4 the curve is flat (slope < 0.02)",
    "tanh": "squashes z into (-1, 1); where |z| > 2.5 the curve is flat (slope < 0.03)",
    "gelu": "a smooth ReLU: about z for large z, about 0 for very negative z",
    "linear": "a = z",
}
#: |z| beyond which a squashing unit counts as saturated (its slope is nearly 0), as the
#: notes above say.
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

#: Notes on what this example's numbers show.
NOTES = {
    "relu_zeros": "{zeros} of {units} units are 0 because their z <= 0: ReLU lets only positive inputs through",
    "dW_zero_rows": "row i of dW{l} is a{k}[i] · dz{l}, so each of the {zeros} zeros in a{k} gives a row of zeros",
    "relu_blocked": "the gradient stops at the {blocked} units whose z{k} <= 0 (ReLU's slope there is 0)",
    "update": "one step from a fresh optimiser state, on a copy of the weights",
    "dropout_off": "dropout is off in this trace",
}

#: Why a unit (and its weight column) is singled out.
FOCUS = {
    "true_and_predicted": "the true class, also predicted",
    "predicted": "the predicted class",
    "true": "the true class",
    "binary": "the single output unit",
    "regression": "output {j}",
    "most_active": "the most active unit",
    "largest_gradient": "the unit with the largest |dL/dz|",
}
