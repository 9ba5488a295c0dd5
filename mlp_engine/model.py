"""The multi-layer perceptron: a stack of dense layers and an output head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .activations import ACTIVATIONS
from .fields import check_fields, setting
from .layers import Dense, Dropout
from .losses import HEADS, get_head

INITS = ("he", "xavier", "normal")
DTYPES = ("float32", "float64")
#: Rows per forward pass when evaluating big arrays, to bound memory.
EVAL_CHUNK = 4096


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer: its width and activation (checked by the config that holds it,
    which knows where the layer is)."""

    units: int = setting(ge=1, doc="Neurons in this hidden layer.")
    activation: str = setting("relu", choices=tuple(ACTIVATIONS), doc="What each neuron applies to z = a W + b.")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that rebuilds a model (its weights aside).

    ``hidden`` lists the hidden layers; the output layer has ``output_dim`` units and
    the ``head`` picks its activation and loss (``softmax_ce``, ``sigmoid_bce``, ``mse``).
    """

    input_dim: int
    hidden: tuple[LayerSpec, ...]
    output_dim: int
    head: str = "softmax_ce"
    init: str = setting("he", choices=INITS, doc="How the first weights are drawn: he (ReLU), xavier (tanh, "
                                                    "sigmoid) or normal (init_std).")
    init_std: float = setting(0.01, gt=0, doc="normal init: the weights' standard deviation.")
    dropout: float = setting(0.0, ge=0, lt=1, doc="Fraction of hidden units dropped while training.")
    dtype: str = setting("float32", choices=DTYPES, doc="The weights' and the arithmetic's float type.")
    seed: int = setting(0, ge=0, doc="The initial weights and the dropout masks.")

    def __post_init__(self):
        object.__setattr__(
            self, "hidden", tuple(h if isinstance(h, LayerSpec) else LayerSpec(**h) for h in self.hidden)
        )
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.input_dim, int) or self.input_dim < 1:
            raise ValueError(f"input_dim must be a positive integer, got {self.input_dim!r}")
        if not isinstance(self.output_dim, int) or self.output_dim < 1:
            raise ValueError(f"output_dim must be a positive integer, got {self.output_dim!r}")
        if not self.hidden:
            raise ValueError("the network has zero hidden layers: add at least one, e.g. 64 units with relu")
        for i, layer in enumerate(self.hidden):
            check_fields(layer, f"hidden layer {i + 1} ")
        get_head(self.head)
        if self.head == "sigmoid_bce" and self.output_dim != 1:
            raise ValueError(f"the sigmoid_bce head has one output unit, got output_dim={self.output_dim}")
        check_fields(self)

    @property
    def layer_sizes(self) -> list[int]:
        return [self.input_dim, *(h.units for h in self.hidden), self.output_dim]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter, keyed as :meth:`MLP.params`: W (fan_in, fan_out), b (fan_out,)."""
        sizes = self.layer_sizes
        shapes = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            shapes[f"dense{i}.W"], shapes[f"dense{i}.b"] = (fan_in, fan_out), (fan_out,)
        return shapes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """From :meth:`to_dict`'s form, which may come from an untrusted file: wrong types
        raise TypeError or ValueError, never anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("hidden", ()), (list, tuple)):
            raise TypeError("config must be an object whose 'hidden' is a list of layers")
        if not all(isinstance(h, dict) for h in data.get("hidden", ())):
            raise TypeError("each hidden layer must be an object like {\"units\": 64, \"activation\": \"relu\"}")
        data = dict(data)
        data["hidden"] = tuple(LayerSpec(**h) for h in data.get("hidden", ()))
        return cls(**data)


def init_weights(fan_in: int, fan_out: int, scheme: str, std: float, rng: np.random.Generator) -> np.ndarray:
    """W: (fan_in, fan_out) float64 drawn by the named scheme."""
    if scheme == "he":  # normal, std sqrt(2 / fan_in): keeps ReLU activations' variance
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
    if scheme == "xavier":  # uniform, limit sqrt(6 / (fan_in + fan_out))
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def layer_of(param_name: str) -> int:
    """The 0-based index in ``MLP.dense`` of a parameter named as :class:`MLP` names them:
    ``layer_of("dense1.W") == 1``."""
    return int(param_name.split(".")[0].removeprefix("dense"))


class MLP:
    """A multi-layer perceptron built from a :class:`ModelConfig`.

    Shape:
        X: (N, input_dim) -> logits: (N, output_dim)
    """

    def __init__(self, config: ModelConfig):
        self.config = config
        self.dtype = np.dtype(config.dtype)
        self.head = HEADS[config.head]
        rng = np.random.default_rng(config.seed)
        sizes = config.layer_sizes
        activations = [h.activation for h in config.hidden] + ["linear"]
        self.dense: list[Dense] = []
        self.layers: list = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = init_weights(fan_in, fan_out, config.init, config.init_std, rng).astype(self.dtype)
            layer = Dense(f"dense{i}", W, np.zeros(fan_out, dtype=self.dtype), activations[i])
            self.dense.append(layer)
            self.layers.append(layer)
            is_hidden = i < len(sizes) - 2
            if is_hidden and config.dropout > 0:
                self.layers.append(Dropout(config.dropout, rng))
        #: What draws the dropout masks (after the initial weights): a checkpoint keeps its
        #: state, so a resumed run goes on with the masks an unbroken one would draw.
        self.dropout_rng = rng if config.dropout > 0 else None

    # -- parameters ---------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        """The live parameter arrays, keyed ``dense{i}.W`` / ``dense{i}.b``."""
        return {k: v for layer in self.dense for k, v in layer.params().items()}

    def grads(self) -> dict[str, np.ndarray]:
        """The gradient arrays of the last backward pass, same keys as :meth:`params`."""
        return {k: v for layer in self.dense for k, v in layer.grads.items()}

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params().values())

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.params().items()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        params = self.params()
        if set(weights) != set(params):
            raise ValueError(f"weights have names {sorted(weights)}, the model needs {sorted(params)}")
        for name, value in weights.items():
            if value.shape != params[name].shape:
                raise ValueError(f"{name} has shape {value.shape}, the model needs {params[name].shape}")
            params[name][...] = value

    # -- inputs -------------------------------------------------------------
    def check_inputs(self, X) -> np.ndarray:
        """Return X as a C-contiguous (N, input_dim) array of the model's dtype, or raise."""
        X = np.asarray(X)
        if X.ndim == 1 and X.size == self.config.input_dim:
            X = X[None, :]  # (D,) -> (1, D)
        if X.ndim != 2 or X.shape[1] != self.config.input_dim:
            raise ValueError(
                f"inputs have shape {X.shape}: the model needs (N, {self.config.input_dim}), "
                f"one row of {self.config.input_dim} numbers per example"
            )
        if X.shape[0] == 0:
            raise ValueError("inputs are empty: give at least one example")
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise ValueError(f"inputs must be real numbers, got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            raise ValueError("inputs contain NaN or infinity: clean or drop those rows")
        return X

    def check_targets(self, y, n: int) -> np.ndarray:
        """Return y in the head's form (see :mod:`mlp_engine.losses`), or raise."""
        y = np.asarray(y)
        task = self.head.task
        if task == "regression":
            if y.ndim == 1 and self.config.output_dim == 1:
                y = y[:, None]  # (N,) -> (N, 1)
            if y.shape != (n, self.config.output_dim):
                raise ValueError(f"targets have shape {y.shape}, the model needs ({n}, {self.config.output_dim})")
            y = np.ascontiguousarray(y, dtype=self.dtype)
            if not np.isfinite(y).all():
                raise ValueError("targets contain NaN or infinity: clean or drop those rows")
            return y
        if y.shape != (n,):
            raise ValueError(f"labels have shape {y.shape}: give one class index per example, shape ({n},)")
        if not np.issubdtype(y.dtype, np.integer):
            if not np.isfinite(y).all() or not np.all(np.mod(y, 1) == 0):
                raise ValueError("labels must be whole class indices (no NaN, no fractions)")
            y = y.astype(np.int64)
        classes = self.config.output_dim if task == "multiclass" else 2
        if y.min() < 0 or y.max() >= classes:
            raise ValueError(f"labels must be in 0..{classes - 1}, got {y.min()}..{y.max()}")
        return y.astype(np.int64, copy=False)

    # -- forward / backward -------------------------------------------------
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """X: (N, input_dim) -> logits: (N, output_dim). X must already be checked."""
        out = X
        for layer in self.layers:
            out = layer.forward(out, training)
        return out

    def forward_backward(self, X: np.ndarray, y: np.ndarray, l2: float = 0.0, dropout: bool = True):
        """One training step's forward and backward pass; fills :meth:`grads`.

        X and y must already be checked. Loss includes ``l2/2 · Σ‖W‖²`` over the
        weight matrices (biases are not penalised). ``dropout=False`` switches
        dropout off (for the gradient check). Returns ``(loss, logits)`` with
        logits: (N, output_dim), valid until the next call.
        """
        out = X
        for layer in self.layers:
            out = layer.forward(out, training=dropout or isinstance(layer, Dense))
        loss, grad = self.head.loss_and_grad(out, y)
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=i > 0)
        if l2:
            loss += self.l2_penalty(l2)
            for d in self.dense:
                d.dW += l2 * d.W
        return loss, out

    def l2_penalty(self, l2: float) -> float:
        return 0.5 * l2 * sum(float(np.vdot(d.W, d.W)) for d in self.dense)

    def loss(self, X, y, l2: float = 0.0) -> float:
        """Mean loss over (X, y), with the same L2 term as training."""
        X = self.check_inputs(X)
        y = self.check_targets(y, X.shape[0])
        n = X.shape[0]
        total = sum(
            self.head.loss(self.forward(X[s : s + EVAL_CHUNK]), y[s : s + EVAL_CHUNK]) * len(y[s : s + EVAL_CHUNK])
            for s in range(0, n, EVAL_CHUNK)
        )
        return total / n + (self.l2_penalty(l2) if l2 else 0.0)

    # -- inference ----------------------------------------------------------
    def output(self, X) -> np.ndarray:
        """Head output: class probabilities (N, C), P(y=1) (N, 1), or values (N, D)."""
        X = self.check_inputs(X)
        chunks = [self.head.output(self.forward(X[s : s + EVAL_CHUNK])) for s in range(0, len(X), EVAL_CHUNK)]
        return np.concatenate(chunks)

    def predict(self, X) -> np.ndarray:
        """Class indices (N,) for classification, values (N, D) for regression."""
        return self.head.predict(self.output(X))

    def trace(self, X) -> list[dict]:
        """Every intermediate of the forward pass, for showing and inspecting.

        Returns one dict per dense layer: ``{"name", "activation", "z", "a"}``
        with z and a: (N, units) copies. The last layer's ``a`` is the head output
        (probabilities for classification).
        """
        X = self.check_inputs(X)
        stages, out = [], X
        for i, layer in enumerate(self.dense):
            z = layer.pre_activation(out)
            last = i == len(self.dense) - 1
            a = self.head.output(z) if last else layer.activation.forward(z, np.empty_like(z))
            stages.append({"name": layer.name, "activation": self.head.name if last else layer.activation.name, "z": z, "a": a})
            out = z if last else a
        return stages
