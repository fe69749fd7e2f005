"""Input validation shared by the NumPy and the PyTorch code.

Every public function of the package checks its arguments here before it does
any arithmetic, and raises a ``ValueError`` that says what was expected and
what came. The functions accept anything with ``.shape`` and ``.dtype``:
NumPy arrays and PyTorch tensors alike (PyTorch is never imported here).

Names and signatures in this module are stable; other modules import them.
"""

from collections.abc import Iterable, Mapping

import numpy as np

#: The floating-point dtypes the book computes in.
FLOAT_DTYPES = ("float32", "float64")


def dtype_name(a) -> str:
    """The dtype of ``a`` as a short name: ``"float32"`` for NumPy and PyTorch alike."""
    return str(a.dtype).removeprefix("torch.")


def describe(a) -> str:
    """A short description of any value, for error messages."""
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return f"{type(a).__name__} of shape {tuple(a.shape)} and dtype {dtype_name(a)}"
    return f"{type(a).__name__} {a!r}"[:120]


def _is_finite(a) -> bool:
    """True when every entry of ``a`` is finite (NumPy array or PyTorch tensor)."""
    if isinstance(a, np.ndarray):
        return bool(np.isfinite(a).all())
    return bool(a.isfinite().all())


def _shape_text(shape, dims: str | None) -> str:
    """``(H, D) = (5, 3)`` or ``(5, 3)``; unknown sizes print as ``*``."""
    sizes = "(" + ", ".join("*" if s is None else str(s) for s in shape)
    sizes += ",)" if len(shape) == 1 else ")"
    return f"{dims} = {sizes}" if dims else sizes


def check_array(
    a,
    name: str,
    *,
    shape: tuple | None = None,
    dims: str | None = None,
    dtype: str | None = None,
    dtypes: Iterable[str] = FLOAT_DTYPES,
    finite: bool = True,
) -> None:
    """Check one array or tensor.

    Args:
        a: the value to check; must have ``.shape`` and ``.dtype``.
        name: its name in messages, e.g. ``"x"`` or ``"params['W']"``.
        shape: expected shape, a tuple of ints with ``None`` for any size;
            its length is the expected rank. ``None`` skips the check.
        dims: the shape in symbols for messages, e.g. ``"(T, B, D)"``.
        dtype: the one dtype name required (e.g. ``"float64"``), or ``None``
            to accept any of ``dtypes``.
        dtypes: the dtype names accepted when ``dtype`` is ``None``.
        finite: also require every entry to be finite (no NaN, no inf).

    Raises:
        ValueError: naming what was expected and what came.
    """
    if not (hasattr(a, "shape") and hasattr(a, "dtype")):
        raise ValueError(f"{name} must be an array with .shape and .dtype, got {describe(a)}")
    got = dtype_name(a)
    if dtype is not None and got != dtype:
        raise ValueError(f"{name} must have dtype {dtype} (the dtype of the input), got {got}")
    dtypes = tuple(dtypes)
    if dtype is None and got not in dtypes:
        raise ValueError(f"{name} must have a dtype in {dtypes}, got {got}")
    if shape is not None:
        actual = tuple(a.shape)
        if len(actual) != len(shape):
            raise ValueError(
                f"{name} must have rank {len(shape)} with shape {_shape_text(shape, dims)}, "
                f"got rank {len(actual)} with shape {actual}"
            )
        if any(e is not None and e != s for e, s in zip(shape, actual, strict=True)):
            raise ValueError(
                f"{name} must have shape {_shape_text(shape, dims)}, got shape {actual}"
            )
    if finite and not _is_finite(a):
        raise ValueError(f"{name} must contain only finite numbers, got NaN or inf")


def check_keys(d, expected: Iterable[str], name: str = "params") -> None:
    """Check that the mapping ``d`` has exactly the keys ``expected``.

    Raises:
        ValueError: naming the missing and the unexpected keys.
    """
    if not isinstance(d, Mapping):
        raise ValueError(f"{name} must be a dict, got {describe(d)}")
    expected = list(expected)
    missing = [k for k in expected if k not in d]
    extra = sorted(str(k) for k in d if k not in expected)
    if missing or extra:
        raise ValueError(
            f"{name} must have exactly the keys {expected}; missing {missing}, unexpected {extra}"
        )


def check_params(
    params,
    expected: Mapping[str, tuple[tuple, str]],
    *,
    dtype: str,
    name: str = "params",
) -> None:
    """Check a parameter dict: its keys, and each array's shape, dtype and values.

    Args:
        params: the dict to check.
        expected: key -> (shape, dims), e.g. ``{"W": ((5, 3), "(H, D)")}``.
        dtype: the dtype every array must have (the dtype of the input).
        name: the dict's name in messages.

    Raises:
        ValueError: naming the missing or unexpected keys, or the array that is wrong.
    """
    check_keys(params, expected, name)
    for key, (shape, dims) in expected.items():
        check_array(params[key], f"{name}[{key!r}]", shape=shape, dims=dims, dtype=dtype)


def check_option(name: str, value, allowed: Iterable) -> None:
    """Check that an option's value is one of ``allowed``; raise ValueError if not."""
    allowed = tuple(allowed)
    scalar = isinstance(value, (str, int, float, type(None)))
    if not scalar or isinstance(value, bool) or value not in allowed:
        got = repr(value) if scalar else describe(value)
        raise ValueError(f"{name} must be one of {allowed}, got {got}")


def check_int(name: str, value, *, minimum: int = 1) -> None:
    """Check that ``value`` is an int (not a bool) and at least ``minimum``; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int >= {minimum}, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")


def check_rng(rng, name: str = "rng") -> None:
    """Check that ``rng`` is a ``numpy.random.Generator``; raise ValueError if not."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {describe(rng)}"
        )
