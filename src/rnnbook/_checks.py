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


def check_int(name: str, value, *, minimum: int = 1) -> int:
    """Check that ``value`` is an int (not a bool) and at least ``minimum``; return it as an int.

    Raises:
        ValueError: naming the minimum and what came.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int >= {minimum}, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_rng(rng, name: str = "rng") -> None:
    """Check that ``rng`` is a ``numpy.random.Generator``; raise ValueError if not."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {describe(rng)}"
        )


# ---- the NumPy cells' inputs, checked against the cells' schema ----------------------


def check_x(x, sequence: bool) -> str:
    """Check a NumPy cell's input x (T, B, D) or x_t (B, D); return its dtype name."""
    name, dims = ("x", "(T, B, D)") if sequence else ("x_t", "(B, D)")
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray {dims}, got {describe(x)}")
    check_array(x, name, shape=(None,) * (3 if sequence else 2), dims=dims)
    if 0 in x.shape:
        raise ValueError(f"{name} must have every size in {dims} >= 1, got shape {x.shape}")
    return x.dtype.name


def check_state(state, name: str, shape: tuple, dims: str, dtype: str, source: str = ""):
    """Check one array of a state; ``None`` means zeros of ``shape``. Returns the array.

    ``source`` says where the expected sizes came from, for the message.
    """
    if state is None:
        return np.zeros(shape, dtype=dtype)
    if not isinstance(state, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray {dims}, got {describe(state)}")
    if state.ndim == len(shape) and tuple(state.shape) != tuple(shape) and source:
        raise ValueError(
            f"{name} must have shape {_shape_text(shape, dims)}, got shape "
            f"{tuple(state.shape)} ({source})"
        )
    check_array(state, name, shape=shape, dims=dims, dtype=dtype)
    return state


def _majority(values: list) -> int:
    """The most frequent of the sizes the parameters give for one dimension (ties: the first)."""
    return max(values, key=values.count)


def check_cell_inputs(cell: str, x, state, params, opts: dict, *, sequence: bool):
    """Check a NumPy cell's x, state and params against each other, before any arithmetic.

    Args:
        cell: "srn", "lstm" or "gru".  x: x (T, B, D) or, for one step, x_t (B, D).
        state: the initial or previous state (the LSTM's pair (h, c)), or None for zeros.
        params: the cell's parameter dict.  opts: the cell's checked options.
        sequence: whether x is a whole sequence.

    Returns:
        the state, with zeros where None was given: an array (B, H) (the Jordan
        network's (B, O)), or the LSTM's pair of arrays.

    Raises:
        ValueError: naming what was expected and what came. The sizes H, D (and O) are
            those most of the parameters agree on, so a parameter that is the odd one out
            is the one blamed; an input or a state that does not fit them is blamed itself,
            with the size it was compared against and where that size came from.
    """
    from rnnbook import cells

    dtype = check_x(x, sequence)
    xname, xdims = ("x", "(T, B, D)") if sequence else ("x_t", "(B, D)")
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a dict, got {type(params).__name__}")
    jordan = cell == "srn" and opts["feedback"] == "output"
    expected = cells.param_shapes(cell, 1, 1, O=1, **opts)
    check_keys(params, expected)
    for key, (shape, dims) in expected.items():
        if not isinstance(params[key], np.ndarray):
            raise ValueError(
                f"params[{key!r}] must be a numpy.ndarray {dims}, got {describe(params[key])}"
            )
        check_array(
            params[key], f"params[{key!r}]", shape=(None,) * len(shape), dims=dims, dtype=dtype
        )
    # the sizes most parameters agree on: H from every array's rows (and an Elman U's
    # columns), D from the W_*'s columns, O from the Jordan network's c, V and U
    rows = [params[k].shape[0] for k in expected if k not in ("V", "c")]
    U_keys = [k for k in expected if k.startswith("U")]
    cols = [params[k].shape[1] for k in U_keys]
    H = _majority(rows + ([] if jordan else cols))
    D = _majority([params[k].shape[1] for k in expected if k.startswith("W")])
    O = _majority([params["c"].shape[0], params["V"].shape[0]] + cols) if jordan else None
    if 0 in (H, D) or O == 0:
        raise ValueError(f"params must have sizes H, D (and O) >= 1, got H = {H}, D = {D}")
    check_params(params, cells.param_shapes(cell, D, H, O=O, **opts), dtype=dtype)
    if x.shape[-1] != D:
        W = cells.key("W", cells.gates(cell, **opts)[0])
        raise ValueError(
            f"{xname} has D = {x.shape[-1]} features ({xname} {xdims} = {x.shape}) where the "
            f"parameters expect D = {D} (params[{W!r}] is (H, D) = {params[W].shape})"
        )
    B = x.shape[-2]
    source = f"B = {B} read from {xname} {xdims} = {x.shape}"
    names = cells.state_names(cell, sequence=sequence, **opts)
    if cell == "lstm":
        state = (None, None) if state is None else state
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise ValueError(
                f"the LSTM state must be a pair ({', '.join(names)}), got {describe(state)}"
            )
        return tuple(
            check_state(s, n, (B, H), "(B, H)", dtype, source)
            for s, n in zip(state, names, strict=True)
        )
    if jordan:
        return check_state(state, names[0], (B, O), "(B, O)", dtype, source)
    return check_state(state, names[0], (B, H), "(B, H)", dtype, source)


def check_cache(cache, cell: str, kind: str) -> None:
    """Check that ``cache`` came from ``cell``'s ``step_forward`` (kind "step") or ``forward``."""
    if not (isinstance(cache, dict) and cache.get("cell") == cell and cache.get("kind") == kind):
        maker = f"{cell}.step_forward" if kind == "step" else f"{cell}.forward"
        if isinstance(cache, dict) and "cell" in cache and "kind" in cache:
            got = f"the {cache['kind']} cache of {cache['cell']}"
        elif isinstance(cache, dict):
            got = f"a dict with the keys {sorted(map(str, cache))[:8]}"
        else:
            got = describe(cache)
        raise ValueError(f"cache must be the cache returned by {maker}, got {got}")


def check_state_grad(d, like, name: str) -> None:
    """Check a state's gradient against the state: one array, or the LSTM's pair (dh, dc)."""
    if isinstance(like, tuple):
        if not (isinstance(d, (tuple, list)) and len(d) == len(like)):
            raise ValueError(f"{name} must be a pair (dh, dc) of arrays, got {describe(d)}")
        for k, (dk, lk) in enumerate(zip(d, like, strict=True)):
            check_array(dk, f"{name}[{k}]", shape=lk.shape, dtype=dtype_name(lk))
    else:
        check_array(d, name, shape=like.shape, dtype=dtype_name(like))


def check_backward(d_outputs, cache, d_final, cell: str, dims: str = "(T, B, H)"):
    """Check the arguments of a NumPy cell's sequence ``backward``.

    Returns the gradient arriving at the final state: ``d_final``, or zeros like the
    final state when it is None.
    """
    check_cache(cache, cell, "sequence")
    outputs = cache["outputs"]
    check_array(d_outputs, "d_outputs", shape=outputs.shape, dims=dims, dtype=dtype_name(outputs))
    final = cache["final"]
    if d_final is None:
        return (
            tuple(np.zeros_like(s) for s in final)
            if isinstance(final, tuple)
            else (np.zeros_like(final))
        )
    check_state_grad(d_final, final, "d_final")
    return tuple(d_final) if isinstance(final, tuple) else d_final


def check_flag(name: str, value) -> bool:
    """Check a True/False argument; return it."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {describe(value)}")
    return value


def check_no_options(where: str, options: dict) -> None:
    """Refuse options passed to a backward pass, which reads them from its cache."""
    if options:
        raise ValueError(
            f"{where} takes no options: it reads them from the cache of the forward pass, "
            f"got {sorted(options)}"
        )


def check_input_parts(xw_t, cell: str, h_prev, opts: dict) -> None:
    """Check the input parts W_* x_t + b_* handed to a step: None, or gate -> (B, H) arrays."""
    if xw_t is None:
        return
    from rnnbook import cells

    gates = cells.gates(cell, **opts)
    if not (isinstance(xw_t, Mapping) and set(xw_t) == set(gates)):
        raise ValueError(f"xw_t must be None or a dict with the keys {gates}, got {describe(xw_t)}")
    for g in gates:
        check_array(
            xw_t[g], f"xw_t[{g!r}]", shape=h_prev.shape, dims="(B, H)", dtype=h_prev.dtype.name
        )
