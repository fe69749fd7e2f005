"""Memory by delays: the time-delay neural network (TDNN) and the NARX model.

Both give a feedforward network a short memory by feeding it delayed copies of
signals (textbook chapter, Section 6 opening; eq. (6.1) for NARX):

    TDNN, one layer on a window of the K latest inputs:
        h_t = f(W [x_t; x_{t-1}; ...; x_{t-K+1}] + b),   yhat_t = V h_t + c          (tdnn)
    NARX, the output depends on p+1 inputs and q past outputs:
        y_t = f(x_t, x_{t-1}, ..., x_{t-p}, y_{t-1}, ..., y_{t-q})                    (narx)

A single series is an array of shape (T, D) (time along the first axis). The
delay-embedded design matrix stacks, for every time t with a full history,
the delayed values side by side, newest first.
"""

from collections.abc import Mapping

import numpy as np

from rnnbook._checks import (
    check_array,
    check_int,
    check_keys,
    check_option,
    check_rng,
    describe,
)
from rnnbook.scratch._functions import activate


def _check_series(a, name, dims="(T, D)"):
    """Check a finite float NumPy series of shape ``dims`` with every size >= 1."""
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray {dims}, got {describe(a)}")
    check_array(a, name, shape=(None, None), dims=dims)
    if 0 in a.shape:
        raise ValueError(f"{name} must have every size in {dims} >= 1, got shape {a.shape}")


def _check_param(params, key, shape, dims):
    """Check the finite float NumPy array ``params[key]`` of shape ``dims``."""
    name = f"params[{key!r}]"
    if not isinstance(params[key], np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray {dims}, got {describe(params[key])}")
    check_array(params[key], name, shape=shape, dims=dims)


def delay_embed(x, K):
    """Windows of the K latest inputs, newest first.

    Row ``r`` belongs to time ``t = r + K - 1`` and holds
    ``[x_t, x_{t-1}, ..., x_{t-K+1}]`` (each of D values).

    Args:
        x: (T, D) series.
        K: window length, 1 <= K <= T.

    Returns:
        (T - K + 1, K * D) array.
    """
    _check_series(x, "x")
    K = check_int("K", K)
    T, D = x.shape
    if K > T:
        raise ValueError(f"K must be <= T = {T}, got K = {K}")
    # column block k holds x_{t-k}
    blocks = [x[K - 1 - k : T - k] for k in range(K)]  # K blocks of (T-K+1, D)
    return np.concatenate(blocks, axis=1)  # (T-K+1, K*D)


def narx_design(x, y, p, q):
    """Design matrix and targets of the NARX model (narx).

    For every t from ``m = max(p, q)`` to ``T - 1`` the row is
    ``[x_t, x_{t-1}, ..., x_{t-p}, y_{t-1}, ..., y_{t-q}]`` and the target ``y_t``.

    Args:
        x: (T, D) exogenous input.
        y: (T, O) output.
        p: input delay order (p + 1 input vectors per row), p >= 0.
        q: output delay order, q >= 0 (q = 0 gives a TDNN-style input window).

    Returns:
        (Phi, Y): Phi of shape (T - m, (p + 1) * D + q * O), Y of shape (T - m, O).
    """
    _check_series(x, "x")
    _check_series(y, "y", "(T, O)")
    p = check_int("p", p, minimum=0)
    q = check_int("q", q, minimum=0)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same length T, got {x.shape[0]} and {y.shape[0]}")
    T = x.shape[0]
    m = max(p, q)
    if m >= T:
        raise ValueError(f"max(p, q) must be < T = {T}, got {m}")
    x_blocks = [x[m - k : T - k] for k in range(p + 1)]  # x_{t-k}, k = 0..p, each (T-m, D)
    y_blocks = [y[m - k : T - k] for k in range(1, q + 1)]  # y_{t-k}, k = 1..q, each (T-m, O)
    Phi = np.concatenate(x_blocks + y_blocks, axis=1)  # (T-m, (p+1)D + qO)
    return Phi, y[m:]


def tdnn_init(D, K, H, O, rng, *, scale=None):
    """Random TDNN parameters for (tdnn).

    Returns:
        dict with "W" (H, K*D), "b" (H,), "V" (O, H), "c" (O,), float64.
    """
    D, K, H, O = (check_int(n, v) for v, n in ((D, "D"), (K, "K"), (H, "H"), (O, "O")))
    check_rng(rng)
    s = 1.0 / np.sqrt(K * D) if scale is None else float(scale)
    return {
        "W": rng.normal(0.0, s, size=(H, K * D)),
        "b": np.zeros(H),
        "V": rng.normal(0.0, 1.0 / np.sqrt(H), size=(O, H)),
        "c": np.zeros(O),
    }


def tdnn_forward(x, params, *, activation="tanh"):
    """TDNN outputs for every full window, eq. (tdnn).

    The same W is applied at every time step: the layer is a one-dimensional
    convolution over time with kernel length K.

    Args:
        x: (T, D) input series.
        params: "W" (H, K*D), "b" (H,), "V" (O, H), "c" (O,).
        activation: "tanh", "relu" or "identity".

    Returns:
        (T - K + 1, O): output at times t = K-1, ..., T-1.
    """
    _check_series(x, "x")
    check_keys(params, ("W", "b", "V", "c"))
    check_option("activation", activation, ("tanh", "relu", "identity"))
    D = x.shape[1]
    _check_param(params, "W", (None, None), "(H, K*D)")
    H, KD = params["W"].shape
    if KD % D != 0:
        raise ValueError(
            f"params['W'] must have shape (H, K*D) with K*D a multiple of D = {D}, "
            f"got shape {params['W'].shape}"
        )
    _check_param(params, "b", (H,), "(H,)")
    _check_param(params, "V", (None, H), "(O, H)")
    _check_param(params, "c", (params["V"].shape[0],), "(O,)")
    W, b, V, c = params["W"], params["b"], params["V"], params["c"]
    Xw = delay_embed(x, KD // D)  # (T-K+1, K*D)
    # (tdnn)  h_t = f(W [x_t; ...; x_{t-K+1}] + b)
    h = activate(activation, Xw @ W.T + b)  # (T-K+1, H)
    # (tdnn)  yhat_t = V h_t + c
    return h @ V.T + c  # (T-K+1, O)


def fit_narx(x, y, p, q, *, hidden=0, ridge=0.0, rng=None):
    """Fit f in (narx) by least squares.

    With ``hidden == 0`` f is linear (an ARX model): yhat_t = V phi_t + c.
    With ``hidden > 0`` f is a one-hidden-layer network whose hidden weights
    W, b are drawn at random and kept fixed; only the readout V, c is fitted,
    which is again a least-squares problem:  yhat_t = V tanh(W phi_t + b) + c.

    Args:
        x: (T, D) input; y: (T, O) output.
        p, q: delay orders as in :func:`narx_design`.
        hidden: number of random tanh units (0 for the linear model).
        ridge: L2 penalty on V (not on c); 0 gives ordinary least squares.
        rng: numpy Generator, required when hidden > 0.

    Returns:
        params: {"V" (O, F), "c" (O,)} for the linear model, F = (p+1)D + qO;
        {"W" (hidden, F), "b" (hidden,), "V" (O, hidden), "c" (O,)} otherwise.
    """
    Phi, Y = narx_design(x, y, p, q)  # (n, F), (n, O)
    hidden = check_int("hidden", hidden, minimum=0)
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float)) or not ridge >= 0:
        raise ValueError(f"ridge must be a number >= 0, got {ridge!r}")
    params = {}
    if hidden > 0:
        check_rng(rng)
        F = Phi.shape[1]
        params["W"] = rng.normal(0.0, 1.0 / np.sqrt(F), size=(hidden, F))
        params["b"] = rng.uniform(-1.0, 1.0, size=hidden)
        features = np.tanh(Phi @ params["W"].T + params["b"])  # (n, hidden)
    else:
        features = Phi  # (n, F)
    n, F = features.shape
    # least squares on [features, 1]; the ridge penalty rows leave the bias free
    A = np.concatenate([features, np.ones((n, 1))], axis=1)  # (n, F+1)
    rhs = Y  # (n, O)
    if ridge > 0:
        penalty = np.sqrt(ridge) * np.eye(F, F + 1)  # (F, F+1), zero in the bias column
        A = np.concatenate([A, penalty], axis=0)
        rhs = np.concatenate([Y, np.zeros((F, Y.shape[1]))], axis=0)
    coef, *_ = np.linalg.lstsq(A, rhs, rcond=None)  # (F+1, O)
    params["V"] = coef[:F].T.copy()  # (O, F)
    params["c"] = coef[F].copy()  # (O,)
    return params


def _narx_f(params, phi):
    """f(phi) for a batch of rows phi (n, F) -> (n, O)."""
    hidden = isinstance(params, Mapping) and "W" in params
    check_keys(params, ("W", "b", "V", "c") if hidden else ("V", "c"))
    if hidden:
        _check_param(params, "W", (None, None), "(hidden, F)")
        if params["W"].shape[1] != phi.shape[1]:
            raise ValueError(
                f"params expect W of shape (hidden, {phi.shape[1]}) features, "
                f"got {params['W'].shape}"
            )
        _check_param(params, "b", (params["W"].shape[0],), "(hidden,)")
        z = np.tanh(phi @ params["W"].T + params["b"])  # (n, hidden)
    else:
        z = phi
    _check_param(params, "V", (None, None), "(O, F)")
    if z.shape[1] != params["V"].shape[1]:
        raise ValueError(f"params expect {params['V'].shape[1]} features, got {z.shape[1]}")
    _check_param(params, "c", (params["V"].shape[0],), "(O,)")
    return z @ params["V"].T + params["c"]  # (n, O)


def narx_one_step(params, x, y, p, q):
    """One-step-ahead predictions from the true past outputs (series-parallel mode).

    Returns:
        (T - m, O) predictions of y_m, ..., y_{T-1}, m = max(p, q).
    """
    Phi, _ = narx_design(x, y, p, q)
    return _narx_f(params, Phi)


def narx_free_run(params, x, y_init, p, q):
    """Simulate the model on its own past predictions (parallel mode).

    Args:
        params: from :func:`fit_narx`.
        x: (T, D) input over the whole horizon.
        y_init: (m, O) the first m = max(p, q) true outputs, to start from.
        p, q: the delay orders used to fit.

    Returns:
        (T, O): y_init followed by the T - m simulated outputs.
    """
    _check_series(x, "x")
    p = check_int("p", p, minimum=0)
    q = check_int("q", q, minimum=0)
    m = max(p, q)
    if not isinstance(y_init, np.ndarray) or y_init.ndim != 2 or y_init.shape[0] != m:
        raise ValueError(f"y_init must be a numpy.ndarray ({m}, O), got {describe(y_init)}")
    if m > 0:
        _check_series(y_init, "y_init", "(m, O)")
    T = x.shape[0]
    if m >= T:
        raise ValueError(f"max(p, q) must be < T = {T}, got {m}")
    O = y_init.shape[1]
    y = np.zeros((T, O), dtype=x.dtype)
    y[:m] = y_init
    for t in range(m, T):
        x_part = [x[t - k] for k in range(p + 1)]  # x_t, ..., x_{t-p}
        y_part = [y[t - k] for k in range(1, q + 1)]  # yhat_{t-1}, ..., yhat_{t-q}
        phi = np.concatenate(x_part + y_part)[None, :]  # (1, F)
        # (narx) with the model's own outputs fed back
        y[t] = _narx_f(params, phi)[0]
    return y
