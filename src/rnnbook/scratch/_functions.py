"""Activation functions and their backward passes, shared by the cells.

``activate(name, z)`` computes ``y = f(z)``; ``activate_backward(name, dy, z, y)``
turns the gradient ``dy = dL/dy`` into ``dz = dL/dz``. Both keep the shape and
dtype of their inputs.
"""

import numpy as np

from rnnbook.cells import OUTPUT_ACTIVATIONS


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function sigma(z) = 1 / (1 + exp(-z)), computed as (1 + tanh(z/2)) / 2.

    The tanh form never overflows, for any finite z. With ``out`` (which may be
    ``z`` itself) the result is written there instead of a new array.
    """
    s = np.multiply(z, 0.5, out=out)
    np.tanh(s, out=s)
    s *= 0.5
    s += 0.5
    return s


def softmax(o: np.ndarray) -> np.ndarray:
    """softmax over the last axis, shifted by the maximum so exp never overflows."""
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """y = f(z) for f named by ``name`` (one of ``OUTPUT_ACTIVATIONS``)."""
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return sigmoid(z)
    if name == "identity":
        return z
    if name == "softmax":
        return softmax(z)
    raise ValueError(f"activation must be one of {OUTPUT_ACTIVATIONS}, got {name!r}")


def activate_backward(name: str, dy: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dz = dL/dz from dy = dL/dy, where y = f(z)."""
    if name == "tanh":
        # tanh'(z) = 1 - tanh(z)^2
        return dy * (1 - y * y)
    if name == "relu":
        # relu'(z) = 1 for z > 0, else 0 (0 at z = 0, as in PyTorch)
        return dy * (z > 0)
    if name == "sigmoid":
        # sigma'(z) = sigma(z) (1 - sigma(z))
        return dy * y * (1 - y)
    if name == "identity":
        return dy
    if name == "softmax":
        # d softmax: dz_k = y_k (dy_k - sum_j dy_j y_j)
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    raise ValueError(f"activation must be one of {OUTPUT_ACTIVATIONS}, got {name!r}")
