"""Finite-difference gradients, and how far apart two gradients are.

Centred differences approximate a partial derivative as

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

with error O(eps^2) from the Taylor series and O(u |f| / eps) from rounding
(u ~ 1.1e-16 in float64), so eps = 1e-6 gives about 1e-10 in float64. Use
float64 for checks: in float32 (u ~ 6e-8) no eps gives more than a few digits.
"""

from collections.abc import Callable, Mapping

import numpy as np

from rnnbook._checks import check_array, check_keys, describe


def numerical_gradient(f: Callable, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The gradient of the scalar ``f(x)`` by centred differences.

    Each entry of ``x`` is changed in place by +eps and -eps, ``f(x)`` is
    evaluated, and the entry is restored; ``x`` is unchanged on return (also
    when ``f`` raises).

    Args:
        f: a function of ``x`` returning a scalar. It may also ignore its
            argument and read ``x`` from elsewhere (e.g. a params dict holding it).
        x: a float array of any shape, perturbed in place.
        eps: the step.

    Returns:
        an array of the shape and dtype of ``x``.

    Raises:
        ValueError: when ``x`` is not a float32/float64 array, holds NaN or inf, or
            ``eps`` is not a positive float.
    """
    if not isinstance(x, np.ndarray):
        raise ValueError(f"x must be a numpy.ndarray, got {describe(x)}")
    check_array(x, "x")
    if not (isinstance(eps, float) and eps > 0):
        raise ValueError(f"eps must be a positive float, got {eps!r}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + eps
            f_plus = float(f(x))
            x[i] = old - eps
            f_minus = float(f(x))
        finally:
            x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b, floor: float = 0.0) -> float:
    """The largest difference between ``a`` and ``b``, relative to their largest entries.

    Exactly::

        max_i |a_i - b_i|  /  max( max_i (|a_i| + |b_i|), floor, tiny )

    with ``tiny`` the smallest positive normal float64 (so two zero arrays give 0).
    Scaling by the largest entry, not entry by entry, keeps a gradient entry
    that is 0 in one array and 1e-12 in the other from counting as a 100 %
    error. The result is 0 for equal arrays and at most 1.

    Args:
        a, b: arrays (or scalars) of the same shape.
        floor: the smallest denominator. Finite differences have an absolute
            rounding error (about 1e-10 for a loss of order 1); when a whole
            gradient is smaller than that allows to resolve (a saturated unit),
            a floor such as 1e-2 compares it in absolute terms instead.

    Returns:
        the relative error, a float in [0, 1].

    Raises:
        ValueError: for a non-float input, different shapes, NaN or inf, or a negative
            ``floor``.
    """
    a, b = np.asarray(a), np.asarray(b)
    for name, v in (("a", a), ("b", b)):
        if v.dtype.kind != "f":
            raise ValueError(f"{name} must be a float array, got dtype {v.dtype.name}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    for name, v in (("a", a), ("b", b)):
        check_array(v, name)
    if a.size == 0:
        return 0.0
    if not (isinstance(floor, (int, float)) and floor >= 0):
        raise ValueError(f"floor must be a number >= 0, got {floor!r}")
    scale = max(float(np.max(np.abs(a) + np.abs(b))), floor, np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b)) / scale)


def numerical_gradients(f: Callable, params: Mapping, eps: float = 1e-6) -> dict:
    """Centred-difference gradients of ``f(params)`` for every array in ``params``.

    Args:
        f: a function of the dict ``params`` returning a scalar.
        params: key -> float array; each array is perturbed in place and restored.
        eps: the step.

    Returns:
        dict keyed like ``params``, each array of its parameter's shape and dtype.

    Raises:
        ValueError: as :func:`numerical_gradient`, for each array.
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a dict of arrays, got {describe(params)}")
    return {k: numerical_gradient(lambda _, p=params: f(p), v, eps) for k, v in params.items()}


def check_gradients(f: Callable, params: Mapping, grads: Mapping, eps: float = 1e-6) -> dict:
    """Compare analytic gradients with centred differences, array by array.

    Args:
        f: a function of the dict ``params`` returning a scalar loss.
        params: key -> float64 array.
        grads: key -> the analytic gradient dL/d params[key], same keys and shapes.
        eps: the step of the differences.

    Returns:
        dict key -> :func:`relative_error` between ``grads[key]`` and the
        numerical gradient; ``max(result.values())`` is the worst.

    Raises:
        ValueError: when ``grads`` does not have exactly the keys of ``params``, or
            as :func:`numerical_gradient` and :func:`relative_error`.
    """
    check_keys(grads, list(params), "grads")
    numeric = numerical_gradients(f, params, eps)
    return {k: relative_error(grads[k], numeric[k]) for k in params}
