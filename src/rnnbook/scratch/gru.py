"""The gated recurrent unit (GRU) in NumPy, with the two conventions of each choice.

Textbook (6.48)-(6.52); the textbook writes the candidate's parameters W_c, U, b,
here they are the keys W_h, U_h, b_h (h for the candidate h~):

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

How the code reads. :func:`step_forward` computes one step, an equation a line
under its number, and :func:`step_backward` every gradient of that step. Each
convention is one marked branch at the equation it changes, so the two forms of
(6.48) and of (6.50) sit side by side. :func:`forward` and :func:`backward` are
loops over the two step functions. In code a batch is rows: W_z x_t is written
``x_t @ W_z.T``, (B, D) x (D, H). The state h is (B, H).
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_backward,
    check_cache,
    check_cell_inputs,
    check_flag,
    check_no_options,
    check_state_grad,
)
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import sigmoid


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    *,
    init: str = "uniform",
    dtype=np.float64,
    **options,
) -> dict:
    """Draw the parameters of a GRU.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except
    with ``init="orthogonal"``, where each U_* is orthogonal (Saxe et al. 2014).

    Args:
        input_size: D.  hidden_size: H.  rng: the generator to draw from.
        init: "uniform" or "orthogonal" for the recurrent matrices.
        dtype: float64 (default) or float32.
        **options: ``reset`` ("after" adds the key "d_h") and ``update`` (checked;
            the parameters are the same for both).

    Returns:
        dict with "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in z, r, h (and "d_h" (H,)).

    Raises:
        ValueError: for an unknown option, a size that is not an int >= 1, or a bad rng.
    """
    opts = cells.options("gru", options)
    return _init.draw_params("gru", input_size, hidden_size, rng, init=init, dtype=dtype, **opts)


def step_forward(x_t, h_prev, params, *, check=True, **options):
    """One step of the GRU, (6.48)-(6.52).

    Args:
        x_t: input (B, D).
        h_prev: h_{t-1} (B, H), or None for zeros.
        params: "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in z, r, h;
            with reset="after" also "d_h" (H,).
        check: check the arguments first (True or False); :func:`forward`, which has
            checked the whole sequence, passes False, with every option.
        **options: ``reset``: "before" (default) or "after"; ``update``: "keep"
            (default) or "replace".

    Returns:
        (h_t (B, H), cache): the cache holds, by name, what :func:`step_backward` needs.

    Raises:
        ValueError: before any arithmetic, for an unknown option, a missing or extra key,
            a wrong rank or shape, mismatched D or H, a non-float or mixed dtype, NaN or inf.
    """
    if check_flag("check", check):
        options = cells.options("gru", options)
        h_prev = check_cell_inputs("gru", x_t, h_prev, params, options, sequence=False)
    p = params

    # (6.51)  z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)   (B, H)
    z = sigmoid(x_t @ p["W_z"].T + h_prev @ p["U_z"].T + p["b_z"])
    # (6.49)  r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)   (B, H)
    r = sigmoid(x_t @ p["W_r"].T + h_prev @ p["U_r"].T + p["b_r"])

    if options["reset"] == "before":
        # (6.48)  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)   (B, H)
        r_h = r * h_prev
        h_tilde = np.tanh(x_t @ p["W_h"].T + r_h @ p["U_h"].T + p["b_h"])
        extra = {"r_h": r_h}
    else:
        # after:  h~_t = tanh(W_h x_t + b_h + r_t * u_t), u_t = U_h h_{t-1} + d_h   (B, H)
        u = h_prev @ p["U_h"].T + p["d_h"]
        h_tilde = np.tanh(x_t @ p["W_h"].T + p["b_h"] + r * u)
        extra = {"u": u}

    if options["update"] == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t   (B, H)
        h = z * h_prev + (1 - z) * h_tilde
    else:
        # replace:  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t   (B, H)
        h = (1 - z) * h_prev + z * h_tilde

    cache = dict(cell="gru", kind="step", x_t=x_t, h_prev=h_prev, z=z, r=r, h_tilde=h_tilde)
    cache.update(extra, h=h, params=params, options=options)
    return h, cache


def step_backward(dh_t, cache, *, check=True, **options):
    """Backward of :func:`step_forward`: every gradient of one step.

    Args:
        dh_t: dL/dh_t (B, H).
        cache: from :func:`step_forward`.
        check: check the arguments first (True or False); :func:`backward` passes False.

    Returns:
        (dx_t (B, D), dh_prev (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward`, ``dh_t`` does not
            match the state's shape and dtype, or an option is passed (the options are
            the forward step's, read from the cache).
    """
    check_no_options("gru.step_backward", options)
    if check_flag("check", check):
        check_cache(cache, "gru", "step")
        check_state_grad(dh_t, cache["h"], "dh_t")
    p, options = cache["params"], cache["options"]
    x_t, h_prev, z, r, h_tilde = (cache[k] for k in ("x_t", "h_prev", "z", "r", "h_tilde"))

    if options["update"] == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
        dz = dh_t * (h_prev - h_tilde)
        dh_tilde = dh_t * (1 - z)
        dh_prev = dh_t * z
    else:
        # replace:  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
        dz = dh_t * (h_tilde - h_prev)
        dh_tilde = dh_t * z
        dh_prev = dh_t * (1 - z)

    # h~_t = tanh(a_h), tanh' = 1 - h~_t^2   (B, H)
    da_h = dh_tilde * (1 - h_tilde**2)
    grads = {}
    if options["reset"] == "before":
        # (6.48)  a_h = W_h x_t + U_h (r_t * h_{t-1}) + b_h
        d_rh = da_h @ p["U_h"]
        dr = d_rh * h_prev
        dh_prev = dh_prev + d_rh * r
        grads["U_h"] = da_h.T @ cache["r_h"]
    else:
        # after:  a_h = W_h x_t + b_h + r_t * u_t, u_t = U_h h_{t-1} + d_h
        dr = da_h * cache["u"]
        du = da_h * r
        dh_prev = dh_prev + du @ p["U_h"]
        grads["U_h"] = du.T @ h_prev
        grads["d_h"] = du.sum(axis=0)

    # (6.51)  z_t = sigma(a_z);  (6.49)  r_t = sigma(a_r);  sigma' = s (1 - s)
    da_z = dz * z * (1 - z)
    da_r = dr * r * (1 - r)
    # a_z = W_z x_t + U_z h_{t-1} + b_z and a_r likewise: dh_{t-1} gains da_z U_z + da_r U_r
    dh_prev = dh_prev + da_z @ p["U_z"] + da_r @ p["U_r"]
    grads["U_z"] = da_z.T @ h_prev
    grads["U_r"] = da_r.T @ h_prev
    # every gate's W_* x_t + b_*:  dW_* = da_*^T x_t (H, D), db_* = sum over the batch (H,),
    # dx_t = sum_* da_* W_* (B, D)
    da = {"z": da_z, "r": da_r, "h": da_h}
    for g in da:
        grads[f"W_{g}"] = da[g].T @ x_t
        grads[f"b_{g}"] = da[g].sum(axis=0)
    dx_t = sum(da[g] @ p[f"W_{g}"] for g in da)
    return dx_t, dh_prev, {k: grads[k] for k in p}


def forward(x, h0, params, **options):
    """Run the GRU over a sequence: :func:`step_forward` at every step.

    Args:
        x: inputs (T, B, D).
        h0: initial state (B, H), or None for zeros.
        params, **options: as in :func:`step_forward`.

    Returns:
        (outputs (T, B, H) = h_1..h_T, cache); ``cache["final"]`` is h_T,
        ``cache["states"]`` the list of every step's h_t.

    Raises:
        ValueError: as :func:`step_forward`, for x, h0 and params.
    """
    options = cells.options("gru", options)
    h0 = check_cell_inputs("gru", x, h0, params, options, sequence=True)
    h, steps, states = h0, [], []
    for x_t in x:
        h, step = step_forward(x_t, h, params, check=False, **options)
        steps.append(step)
        states.append(h)
    cache = dict(cell="gru", kind="sequence", steps=steps, states=states, state0=h0, final=h)
    cache.update(outputs=np.stack(states), x=x, params=params, options=options)
    return cache["outputs"], cache


def backward(d_outputs, cache, d_final=None, **options):
    """Backpropagation through time for :func:`forward`: :func:`step_backward` from T down to 1.

    Args:
        d_outputs: dL/dh_t for every step (T, B, H), from the losses at each step.
        cache: from :func:`forward`.
        d_final: dL/dh_T arriving from outside (B, H), or None.

    Returns:
        (dx (T, B, D), dh0 (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shapes and dtype,
            or an option is passed (the options are read from the cache).
    """
    check_no_options("gru.backward", options)
    dh = check_backward(d_outputs, cache, d_final, "gru")
    dx, grads = [], None
    for t in reversed(range(len(d_outputs))):
        # dL/dh_t: this step's own loss plus what flows back from step t + 1
        dx_t, dh, g = step_backward(dh + d_outputs[t], cache["steps"][t], check=False)
        dx.append(dx_t)
        # the parameters are shared by every step: their gradients add up over t
        grads = g if grads is None else {k: grads[k] + g[k] for k in grads}
    return np.stack(dx[::-1]), dh, grads
