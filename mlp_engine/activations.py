"""Hidden-layer activations, each function beside its derivative.

Every activation works in place where it can, because the training loop calls
them on preallocated buffers thousands of times an epoch.

``forward(z, out) -> a``
    z: (N, H) pre-activation; writes a = f(z) into ``out`` (same shape) and returns it.
``backward(z, a, da) -> dz``
    dL/dz = dL/da * f'(z). May overwrite ``da`` and returns the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

LEAKY_SLOPE = 0.01
_GELU_C = np.sqrt(2.0 / np.pi)


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    formula: str
    #: True when units can be "dead" (output exactly zero for every input).
    can_die: bool = False


def _relu(z, out):
    return np.maximum(z, 0, out=out)


def _relu_grad(z, a, da):
    return np.multiply(da, a > 0, out=da)


def _leaky_relu(z, out):
    # max(z, slope*z) equals z for z>0 and slope*z otherwise, since 0 < slope < 1.
    np.multiply(z, LEAKY_SLOPE, out=out)
    return np.maximum(z, out, out=out)


def _leaky_relu_grad(z, a, da):
    slope = np.where(z > 0, 1.0, LEAKY_SLOPE).astype(da.dtype, copy=False)
    return np.multiply(da, slope, out=da)


def sigmoid(z, out=None):
    """Numerically stable logistic function: never exponentiates a positive number."""
    if out is None:
        out = np.empty_like(z)
    e = np.exp(-np.abs(z))  # in (0, 1]
    np.divide(1.0, 1.0 + e, out=out)
    neg = z < 0
    out[neg] = e[neg] * out[neg]  # sigmoid(z) = e^z / (1 + e^z) for z < 0
    return out


def _sigmoid_grad(z, a, da):
    return np.multiply(da, a * (1.0 - a), out=da)


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_grad(z, a, da):
    return np.multiply(da, 1.0 - a * a, out=da)


def _gelu(z, out):
    # tanh approximation (Hendrycks & Gimpel), as in GPT-2; NumPy has no erf.
    np.tanh(_GELU_C * (z + 0.044715 * z**3), out=out)
    out += 1.0
    out *= 0.5 * z
    return out


def _gelu_grad(z, a, da):
    inner = _GELU_C * (z + 0.044715 * z**3)
    t = np.tanh(inner)
    d_inner = _GELU_C * (1.0 + 3 * 0.044715 * z * z)
    grad = 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * d_inner
    return np.multiply(da, grad, out=da)


def _linear(z, out):
    out[...] = z
    return out


def _linear_grad(z, a, da):
    return da


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", _relu, _relu_grad, "max(0, z)", can_die=True),
    "leaky_relu": Activation(
        "leaky_relu", _leaky_relu, _leaky_relu_grad, f"max({LEAKY_SLOPE}·z, z)"
    ),
    "sigmoid": Activation(
        "sigmoid", lambda z, out: sigmoid(z, out), _sigmoid_grad, "1 / (1 + exp(-z))"
    ),
    "tanh": Activation("tanh", _tanh, _tanh_grad, "tanh(z)"),
    "gelu": Activation(
        "gelu", _gelu, _gelu_grad, "0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))"
    ),
    "linear": Activation("linear", _linear, _linear_grad, "z"),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}"
        ) from None
