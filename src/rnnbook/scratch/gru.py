"""The gated recurrent unit (GRU) in NumPy, with the two conventions of each choice.

Textbook (6.48)-(6.52); the book writes the candidate's parameters W_c, U, b,
here they are the keys W_h, U_h, b_h:

    z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)           update gate       (6.51)
    r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)           reset gate        (6.49)

Where the reset gate acts, option ``reset=``:

    "before" (Cho et al. 2014; default):  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)   (6.48)
    "after"  (cuDNN, PyTorch's nn.GRU):   h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + d_h))
                                          with an extra key "d_h" (H,)

What the update gate keeps, option ``update=``:

    "keep"    (Cho et al. 2014, PyTorch; default):  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t   (6.50)
    "replace" (Chung et al. 2014):                  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

PyTorch's nn.GRU is reset="after", update="keep" (see its documentation).
State h (B, H). Internally the gates' input matrices are stacked z, r, h
(gate-major); the recurrent matrices stack as U_z, U_r with "before", where U_h
acts on r_t * h_{t-1} separately, and as U_z, U_r, U_h with "after".
"""

import numpy as np

from rnnbook._checks import check_array, check_int, check_option, check_params, check_rng
from rnnbook.scratch import _sequence
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import sigmoid

RESETS = ("before", "after")
UPDATES = ("keep", "replace")
GATES = ("z", "r", "h")


def _options(reset, update) -> dict:
    check_option("reset", reset, RESETS)
    check_option("update", update, UPDATES)
    return {"reset": reset, "update": update}


def param_shapes(D: int, H: int, reset: str = "before") -> dict:
    """The keys of the parameter dict, each with its shape and its shape in symbols.

    Args:
        D, H: input and hidden sizes.  reset: "before", or "after" (adds "d_h").

    Returns:
        dict key -> (shape, text), e.g. ``{"W_z": ((H, D), "(H, D)"), ...}``.
    """
    shapes = {}
    for g in GATES:
        shapes[f"W_{g}"] = ((H, D), "(H, D)")
        shapes[f"U_{g}"] = ((H, H), "(H, H)")
        shapes[f"b_{g}"] = ((H,), "(H,)")
    if reset == "after":
        shapes["d_h"] = ((H,), "(H,)")
    return shapes


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    *,
    reset: str = "before",
    update: str = "keep",
    init: str = "uniform",
    dtype=np.float64,
) -> dict:
    """Draw the parameters of a GRU.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except
    with ``init="orthogonal"``, where each U_* is orthogonal (Saxe et al. 2014).

    Args:
        input_size: D.  hidden_size: H.  rng: the generator to draw from.
        reset: "before" or "after" ("after" adds the key "d_h").
        update: "keep" or "replace"; checked, not used (the parameters are the same).
        init: "uniform" or "orthogonal" for the recurrent matrices.
        dtype: float64 (default) or float32.

    Returns:
        dict with "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in z, r, h (and "d_h" (H,)).

    Raises:
        ValueError: for an unknown option, a size that is not an int >= 1, or a bad rng.
    """
    _options(reset, update)
    check_rng(rng)
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)
    check_option("init", init, ("uniform", "orthogonal"))
    D, H = input_size, hidden_size
    params = {}
    for g in GATES:
        params[f"W_{g}"] = _init.uniform(rng, (H, D), H, dtype)
        params[f"U_{g}"] = _init.recurrent(rng, H, init, dtype)
        params[f"b_{g}"] = _init.uniform(rng, (H,), H, dtype)
    if reset == "after":
        params["d_h"] = _init.uniform(rng, (H,), H, dtype)
    return params


def _check(x, h, params, opts, sequence: bool):
    """Check x, the state and params against each other; return the state."""
    dtype = _sequence.check_x(x, sequence)
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, got {type(params).__name__}")
    if "b_z" not in params:
        raise ValueError(f"params must have the key 'b_z', got keys {sorted(params)}")
    check_array(params["b_z"], "params['b_z']", shape=(None,), dims="(H,)", dtype=dtype)
    D, B, H = x.shape[-1], x.shape[-2], params["b_z"].shape[0]
    check_params(params, param_shapes(D, H, opts["reset"]), dtype=dtype)
    return _sequence.check_state(h, "h0" if sequence else "h_prev", (B, H), "(B, H)", dtype)


# ---- the cell: stacked weights, recurrent core, and their backward ----


def _prepare(params, opts):
    recurrent = GATES if opts["reset"] == "after" else GATES[:2]
    P = _sequence.stack(
        [params[f"W_{g}"] for g in GATES],  # -> W (3, H, D)
        [params[f"b_{g}"] for g in GATES],  # -> b (3, 1, H)
        [params[f"U_{g}"] for g in recurrent],  # -> U (3 or 2, H, H)
    )
    if opts["reset"] == "after":
        P["d_h"] = params["d_h"]
    else:
        P["U_h"] = params["U_h"]
    return P


def _core_forward(a_t, h_prev, P, opts):
    """a_t (3, B, H) holds W_* x_t + b_* for z, r, h.

    The candidate h~_t is called n below (PyTorch's name for it).
    """
    # q[k] = U_k h_{t-1} for U_z, U_r (and U_h with reset="after")   (2 or 3, B, H)
    q = _sequence.recurrent_product(h_prev, P)
    # (6.51), (6.49)  z_t, r_t = sigma(W x_t + U h_{t-1} + b)   (B, H) each
    zr = sigmoid(a_t[:2] + q[:2])
    z, r = zr[0], zr[1]
    if opts["reset"] == "before":
        # (6.48)  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)   (B, H)
        # with m = r_t * h_{t-1}   (B, H)
        m = r * h_prev
        n = np.tanh(a_t[2] + m @ P["U_h"].T)
        extra = m
    else:
        # PyTorch: h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + d_h))   (B, H)
        # with u = U_h h_{t-1} + d_h   (B, H)
        u = q[2] + P["d_h"]
        n = np.tanh(a_t[2] + r * u)
        extra = u
    if opts["update"] == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t   (B, H)
        h = n + z * (h_prev - n)
    else:
        # Chung et al. 2014:  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t   (B, H)
        h = h_prev + z * (n - h_prev)
    return h, (h_prev, z, r, n, extra)


def _core_backward(dh, core, P, opts, da):
    """Fills da (3, B, H) with dL/da_t; returns (dq, dh_prev, per-step grads of U_h or d_h).

    dq is dL/dq_t, (2, B, H) with reset="before" and (3, B, H) with reset="after".
    """
    h_prev, z, r, n, extra = core
    rec = {}
    if opts["update"] == "keep":
        # h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
        dz = dh * (h_prev - n)
        dn = dh * (1 - z)
        dh_prev = dh * z
    else:
        # h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
        dz = dh * (n - h_prev)
        dn = dh * z
        dh_prev = dh * (1 - z)
    # h~_t = tanh(a_h + ...)
    da_h = da[2]
    np.multiply(dn, 1 - n * n, out=da_h)
    if opts["reset"] == "before":
        # a_h + U_h m with m = r_t * h_{t-1}: dU_h = da_h^T m, dm = da_h U_h
        m = extra
        rec["U_h"] = da_h.T @ m
        dm = da_h @ P["U_h"]
        dr = dm * h_prev
        dh_prev += dm * r
        dq = da[:2]
    else:
        # a_h + r_t * u with u = U_h h_{t-1} + d_h: du = r_t * da_h, dr = da_h * u
        u = extra
        dr = da_h * u
        dq = np.empty_like(da)
        np.multiply(r, da_h, out=dq[2])
        rec["d_h"] = dq[2].sum(axis=0)
    # z_t = sigma(a_z + q_z), r_t = sigma(a_r + q_r)
    np.multiply(dz, z * (1 - z), out=da[0])
    np.multiply(dr, r * (1 - r), out=da[1])
    if opts["reset"] == "after":
        dq[:2] = da[:2]
    # q[k] = U_k h_{t-1}  =>  dh_{t-1} += sum_k dq[k] U_k   (dU is summed by the loop)
    dh_prev += _sequence.recurrent_product_backward(dq, P)
    return dq, dh_prev, rec


def _unstack(dW, db, dU, rec, opts):
    grads = {}
    for k, g in enumerate(GATES):
        grads[f"W_{g}"] = dW[k]
        grads[f"U_{g}"] = rec["U_h"] if g == "h" and "U_h" in rec else dU[k]
        grads[f"b_{g}"] = db[k]
    if "d_h" in rec:
        grads["d_h"] = rec["d_h"]
    return grads


# dq_t is da_t[:2] with reset="before", but not with reset="after", where U_h h_{t-1}
# enters a_h multiplied by r_t: the core returns dq_t in both cases
CELL = _sequence.Cell("gru", _prepare, _core_forward, _core_backward, _unstack, dq_is_da=False)


# ---- public API ----


def step_forward(x_t, h_prev, params, *, reset="before", update="keep"):
    """One step of the GRU.

    Args:
        x_t: input (B, D).
        h_prev: h_{t-1} (B, H), or None for zeros.
        params: "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in z, r, h;
            with reset="after" also "d_h" (H,).
        reset: "before" (Cho et al. 2014) or "after" (PyTorch).
        update: "keep" (Cho et al. 2014, PyTorch) or "replace" (Chung et al. 2014).

    Returns:
        (h_t (B, H), cache).

    Raises:
        ValueError: before any arithmetic, for an unknown option, a missing or extra key,
            a wrong rank or shape, mismatched D or H, a non-float or mixed dtype, NaN or inf.
    """
    opts = _options(reset, update)
    h_prev = _check(x_t, h_prev, params, opts, sequence=False)
    return _sequence.step_forward(CELL, x_t, h_prev, params, opts)


def step_backward(dh_t, cache):
    """Backward of :func:`step_forward`.

    Args:
        dh_t: dL/dh_t (B, H).
        cache: from :func:`step_forward`.

    Returns:
        (dx_t (B, D), dh_prev (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward` or ``dh_t`` does not
            match the state's shape and dtype.
    """
    return _sequence.step_backward(CELL, dh_t, cache)


def forward(x, h0, params, *, reset="before", update="keep"):
    """Run the GRU over a sequence.

    Args:
        x: inputs (T, B, D).
        h0: initial state (B, H), or None for zeros.
        params, reset, update: as in :func:`step_forward`.

    Returns:
        (outputs (T, B, H) = h_1..h_T, cache); ``cache["final"]`` is h_T.

    Raises:
        ValueError: as :func:`step_forward`, for x, h0 and params.
    """
    opts = _options(reset, update)
    h0 = _check(x, h0, params, opts, sequence=True)
    return _sequence.forward(CELL, x, h0, params, opts)


def backward(d_outputs, cache, d_final=None):
    """Backpropagation through time for :func:`forward`.

    Args:
        d_outputs: dL/dh_t for every step (T, B, H).
        cache: from :func:`forward`.
        d_final: dL/dh_T arriving from outside (B, H), or None.

    Returns:
        (dx (T, B, D), dh0 (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shape and dtype.
    """
    return _sequence.backward(CELL, d_outputs, cache, d_final)
