"""Initialisations of recurrent networks' parameters.

Every function that draws numbers takes a ``numpy.random.Generator``, and each
returns a new float64 array, or the dtype asked for (float32 or float64). A bad
generator, size, option, value or dtype raises ValueError.

- :func:`uniform`: U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, PyTorch's
  default for ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``.
- :func:`orthogonal`: a random orthogonal matrix for the recurrent weights
  (Saxe et al. 2014); all its singular values are 1, so repeated products
  neither shrink nor blow up a state at the start of training.
- :func:`identity`: U = I (with b = 0) for ReLU networks (Le et al. 2015, "IRNN"):
  at the start h_t = relu(h_{t-1} + W x_t), which copies the state forward.
- :func:`forget_bias`: a constant forget-gate bias of 1 (Gers et al. 2000;
  Jozefowicz et al. 2015) or 2, so the LSTM remembers by default.
"""

import numpy as np

from rnnbook._checks import check_int, check_option, check_rng

#: The names accepted by the cells' ``init_params(..., init=...)`` for the recurrent matrices.
RECURRENT_INITS = ("uniform", "orthogonal", "identity")


def _check_dtype(dtype) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
    check_option("dtype", dtype.name, ("float32", "float64"))
    return dtype


def _check_number(name: str, value) -> None:
    """A finite real number (not a bool): int, float or a NumPy scalar."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def uniform(rng: np.random.Generator, shape: tuple, hidden_size: int, dtype=np.float64):
    """Draw from U(-k, k) with k = 1/sqrt(hidden_size), as PyTorch's recurrent layers do.

    Args:
        rng: the generator to draw from.
        shape: the shape of the array, e.g. (H, D) or (H,).
        hidden_size: H, which sets the range.
        dtype: float64 (default) or float32.

    Returns:
        an array of ``shape``.
    """
    check_rng(rng)
    check_int("hidden_size", hidden_size)
    dtype = _check_dtype(dtype)
    k = 1.0 / np.sqrt(hidden_size)
    return rng.uniform(-k, k, size=shape).astype(dtype)


def orthogonal(
    rng: np.random.Generator,
    rows: int,
    cols: int | None = None,
    gain: float = 1.0,
    dtype=np.float64,
):
    """A random (rows, cols) matrix with orthonormal rows or columns (Saxe et al. 2014).

    Q from the QR decomposition of a standard Gaussian matrix, with the signs of
    R's diagonal moved into Q so that Q is uniformly (Haar) distributed; the
    method of ``torch.nn.init.orthogonal_``.

    Args:
        rng: the generator to draw from.
        rows, cols: the shape; ``cols`` defaults to ``rows`` (a square matrix).
        gain: a factor multiplying the result.
        dtype: float64 (default) or float32.

    Returns:
        an array (rows, cols).
    """
    check_rng(rng)
    check_int("rows", rows)
    cols = rows if cols is None else cols
    check_int("cols", cols)
    _check_number("gain", gain)
    dtype = _check_dtype(dtype)
    tall = rows >= cols
    # a Gaussian matrix with at least as many rows as columns: (max, min)
    A = rng.standard_normal((rows, cols) if tall else (cols, rows))
    Q, R = np.linalg.qr(A)
    # fix the signs so that Q does not depend on the QR routine's convention
    Q = Q * np.sign(np.diag(R))
    Q = Q if tall else Q.T
    return (gain * Q).astype(dtype)


def identity(size: int, scale: float = 1.0, dtype=np.float64):
    """The (size, size) matrix scale * I, for U in a ReLU network (Le et al. 2015)."""
    check_int("size", size)
    _check_number("scale", scale)
    dtype = _check_dtype(dtype)
    return (scale * np.eye(size)).astype(dtype)


def forget_bias(hidden_size: int, value: float = 1.0, dtype=np.float64):
    """The forget-gate bias b_f (H,), every entry ``value`` (1 as in Gers et al. 2000, or 2)."""
    check_int("hidden_size", hidden_size)
    _check_number("value", value)
    dtype = _check_dtype(dtype)
    return np.full(hidden_size, value, dtype=dtype)


def draw_params(
    cell: str, input_size, hidden_size, rng, *, init="uniform", dtype=np.float64, O=None, **opts
) -> dict:
    """Draw every parameter of a cell, in the order of ``rnnbook.cells.param_shapes``.

    Each array from U(-1/sqrt(H), 1/sqrt(H)) (:func:`uniform`), except the recurrent
    matrices U_* with ``init="orthogonal"`` (:func:`orthogonal`) or ``"identity"``
    (:func:`identity`, the SRN only).

    Args:
        cell: "srn", "lstm" or "gru".  input_size: D.  hidden_size: H.
        rng: the generator to draw from.  init: one of :data:`RECURRENT_INITS`
            ("identity" for the SRN only).  dtype: float64 or float32.
        O: the Jordan network's output size.  **opts: the cell's options.

    Returns:
        dict key -> array, keyed as the cell's parameters.

    Raises:
        ValueError: for a bad rng, size, init, option or dtype.
    """
    from rnnbook import cells

    opts = cells.options(cell, opts)
    check_rng(rng)
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)
    check_option("init", init, RECURRENT_INITS if cell == "srn" else RECURRENT_INITS[:2])
    params = {}
    for key, (shape, _) in cells.param_shapes(cell, input_size, hidden_size, O=O, **opts).items():
        if key.startswith("U") and init == "orthogonal":
            params[key] = orthogonal(rng, *shape, dtype=dtype)
        elif key.startswith("U") and init == "identity":
            if shape[0] != shape[1]:
                raise ValueError(f"init='identity' needs a square {key}, got shape {shape}")
            params[key] = identity(shape[0], dtype=dtype)
        else:
            params[key] = uniform(rng, shape, hidden_size, dtype)
    return params
