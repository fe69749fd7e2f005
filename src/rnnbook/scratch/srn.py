"""The simple recurrent network (Elman), and Jordan's variant, in NumPy.

Elman network, textbook (6.3)-(6.5), ``feedback="hidden"`` (default):

    z_t = U h_{t-1} + W x_t + b,    h_t = f(z_t)                  (6.3), (6.4)

Jordan network, ``feedback="output"``: the outputs are fed back through state
units s that keep a decaying sum of them, with the self-connection ``mu`` (Jordan 1986),

    z_t = U s_{t-1} + W x_t + b,    h_t = f(z_t),    yhat_t = g(V h_t + c),
    s_t = mu s_{t-1} + yhat_t

so the state carried from step to step is s (B, O), ``U`` is (H, O), and the
output layer ``V`` (O, H), ``c`` (O,) belongs to the cell. ``mu = 0`` (the default)
gives s_t = yhat_t: the previous output alone is fed back. Jordan's paper indexes the
state units one step later (its s(t) = mu s(t-1) + y(t-1) is read at step t); ours is
named after the last output it holds, so s_t = yhat_t when mu = 0.

How the code reads. :func:`step_forward` computes one step, an equation a line,
and :func:`step_backward` every gradient of that step; the Jordan network's
output layer is one marked branch in each. :func:`forward` and :func:`backward`
are loops over the two step functions. In code a batch is rows: W x_t is written
``x_t @ W.T``, (B, D) x (D, H). Shapes: x (T, B, D), h (B, H). The outputs of
:func:`forward` are the Elman network's states h_t, and the Jordan network's outputs
yhat_t (its states s_t are in the cache; the two are the same when mu = 0).
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_backward,
    check_cache,
    check_cell_inputs,
    check_flag,
    check_int,
    check_no_options,
    check_state_grad,
)
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import activate, activate_backward


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    *,
    output_size: int | None = None,
    init: str = "uniform",
    dtype=np.float64,
    **options,
) -> dict:
    """Draw the parameters of an SRN.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except:
    ``init="orthogonal"`` draws U orthogonal (Saxe et al. 2014) and
    ``init="identity"`` sets U = I and b = 0 (Le et al. 2015, for
    ``activation="relu"``; with ``feedback="output"`` it needs O = H).

    Args:
        input_size: D.  hidden_size: H.  rng: the generator to draw from.
        output_size: O, for the Jordan network's output layer V (O, H), c (O,).
        init: one of ``"uniform"``, ``"orthogonal"``, ``"identity"``.
        dtype: float64 (default) or float32.
        **options: ``feedback``: "hidden" (Elman) or "output" (Jordan, needs
            ``output_size``); ``activation``, ``output_activation`` and ``mu`` are accepted so
            the same options can be passed here and to :func:`forward` (checked, not used).

    Returns:
        dict with "W" (H, D), "U" (H, H), "b" (H,); Jordan: "U" (H, O), "V" (O, H), "c" (O,).

    Raises:
        ValueError: for an unknown option, a size that is not an int >= 1, a missing or
            extra ``output_size``, ``init="identity"`` with O != H, or a bad rng or dtype.
    """
    opts = cells.options("srn", options)
    O = None
    if opts["feedback"] == "output":
        O = check_int("output_size", output_size)
    elif output_size is not None:
        raise ValueError(f"output_size is only used with feedback='output', got {output_size!r}")
    if init == "identity" and O not in (None, hidden_size):
        raise ValueError(
            f"init='identity' needs a square U (H, O) with O = H = {hidden_size}, got O = {O}"
        )
    params = _init.draw_params(
        "srn", input_size, hidden_size, rng, init=init, dtype=dtype, O=O, **opts
    )
    if init == "identity":
        # Le et al. (2015): U = I and b = 0
        params["b"] = np.zeros_like(params["b"])
    return params


def step_forward(x_t, h_prev, params, *, check=True, **options):
    """One step of the SRN, (6.3)-(6.4).

    Args:
        x_t: input (B, D).
        h_prev: previous state h_{t-1} (B, H); Jordan: s_{t-1} (B, O) (yhat_{t-1} when
            mu = 0); None for zeros.
        params: "W" (H, D), "U" (H, H), "b" (H,); Jordan: "U" (H, O), "V" (O, H), "c" (O,).
        check: check the arguments first (True or False); :func:`forward`, which has
            checked the whole sequence, passes False, with every option.
        **options: ``activation``: f, one of "tanh" (default), "relu", "sigmoid",
            "identity"; ``feedback``: "hidden" (Elman, default) or "output" (Jordan);
            ``output_activation``: g of the Jordan output layer ("identity" by default,
            also "tanh", "relu", "sigmoid", "softmax"); ``mu``: the Jordan network's
            self-connection, a finite real number (0.0 by default).

    Returns:
        (h_t, cache): the new state h_t (B, H) (Jordan: s_t (B, O)) and, by name,
        what :func:`step_backward` needs; the Jordan network's output yhat_t (B, O) is
        ``cache["yhat"]`` (the state itself when mu = 0).

    Raises:
        ValueError: before any arithmetic, for an unknown option, a missing or extra key,
            a wrong rank or shape, mismatched D, H or O, a non-float or mixed dtype, NaN or inf.
    """
    if check_flag("check", check):
        options = cells.options("srn", options)
        h_prev = check_cell_inputs("srn", x_t, h_prev, params, options, sequence=False)
    p = params
    # (6.3)  z_t = U h_{t-1} + W x_t + b   (Jordan: U s_{t-1})   (B, H)
    z = h_prev @ p["U"].T + x_t @ p["W"].T + p["b"]
    # (6.4)  h_t = f(z_t)   (B, H)
    h = activate(options["activation"], z)
    cache = dict(cell="srn", kind="step", x_t=x_t, s_prev=h_prev, z=z, h=h)
    cache.update(params=params, options=options)
    if options["feedback"] == "hidden":
        cache["state"] = h
        return h, cache
    # Jordan's output layer, (6.6) with a bias c: o_t = V h_t + c,  yhat_t = g(o_t)   (B, O)
    o = h @ p["V"].T + p["c"]
    yhat = activate(options["output_activation"], o)
    # Jordan's state units (eq-ch2-jordan): s_t = mu s_{t-1} + yhat_t   (B, O)
    s = yhat if options["mu"] == 0.0 else options["mu"] * h_prev + yhat
    cache.update(o=o, yhat=yhat, state=s)
    return s, cache


def step_backward(dh_t, cache, *, d_out_t=None, check=True, **options):
    """Backward of :func:`step_forward`: every gradient of one step.

    Args:
        dh_t: dL/dh_t (B, H) (Jordan: dL/ds_t (B, O), what reaches the state from later).
        cache: from :func:`step_forward`.
        d_out_t: the gradient of the step's own output, or None: added to dh_t for the
            Elman network, whose output is h_t; the Jordan network's dL/dyhat_t (B, O),
            which reaches yhat_t but not the path s_{t-1} -> s_t through mu.
        check: check the arguments first (True or False); :func:`backward` passes False.

    Returns:
        (dx_t (B, D), dh_prev (B, H) (Jordan: ds_{t-1} (B, O)), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward`, ``dh_t`` or
            ``d_out_t`` does not match the state's shape and dtype, or an option is
            passed (the options are the forward step's, read from the cache).
    """
    check_no_options("srn.step_backward", options)
    if check_flag("check", check):
        check_cache(cache, "srn", "step")
        check_state_grad(dh_t, cache["state"], "dh_t")
        if d_out_t is not None:
            check_state_grad(d_out_t, cache["state"], "d_out_t")
    p, options = cache["params"], cache["options"]
    # s_prev is the state fed back: h_{t-1} (B, H), or for the Jordan network yhat_{t-1} (B, O)
    x_t, s_prev, z, h = cache["x_t"], cache["s_prev"], cache["z"], cache["h"]
    grads = {}
    # dL/dyhat_t = ds_t + d_out_t, as s_t = mu s_{t-1} + yhat_t (Elman: the output is h_t itself)
    dy = dh_t if d_out_t is None else dh_t + d_out_t
    if options["feedback"] == "output":
        # Jordan: yhat_t = g(o_t), o_t = V h_t + c
        do = activate_backward(options["output_activation"], dy, cache["o"], cache["yhat"])
        grads["V"] = do.T @ h  # (O, H)
        grads["c"] = do.sum(axis=0)  # (O,)
        dh = do @ p["V"]  # dL/dh_t (B, H)
    else:
        dh = dy
    # (6.4)  h_t = f(z_t):  dz_t = dh_t * f'(z_t)   (B, H)
    dz = activate_backward(options["activation"], dh, z, h)
    # (6.3)  z_t = U h_{t-1} + W x_t + b:  dW = dz_t^T x_t (H, D),
    # dU = dz_t^T h_{t-1} (H, H) (Jordan: (H, O)),  db = the sum of dz_t over the batch (H,)
    grads.update(W=dz.T @ x_t, U=dz.T @ s_prev, b=dz.sum(axis=0))
    # dx_t = dz_t W (B, D),  dh_{t-1} = dz_t U (B, H) (Jordan: ds_{t-1} (B, O))
    ds_prev = dz @ p["U"]
    if options["feedback"] == "output" and options["mu"] != 0.0:
        # Jordan's self-connection s_t = mu s_{t-1} + yhat_t: ds_{t-1} += mu ds_t
        ds_prev = ds_prev + options["mu"] * dh_t
    return dz @ p["W"], ds_prev, {k: grads[k] for k in p}


def forward(x, h0, params, **options):
    """Run the SRN over a sequence: :func:`step_forward` at every step.

    Args:
        x: inputs (T, B, D).
        h0: initial state (B, H) (Jordan: s_0 (B, O)), or None for zeros.
        params, **options: as in :func:`step_forward`.

    Returns:
        (outputs, cache): outputs (T, B, H) are h_1..h_T (Jordan: yhat_1..yhat_T
        (T, B, O)); ``cache["final"]`` is the last state (Jordan: s_T),
        ``cache["states"]`` the list of every step's state (Jordan: s_1..s_T, the
        outputs themselves when mu = 0).

    Raises:
        ValueError: as :func:`step_forward`, for x, h0 and params.
    """
    options = cells.options("srn", options)
    h0 = check_cell_inputs("srn", x, h0, params, options, sequence=True)
    h, steps, states = h0, [], []
    for x_t in x:
        h, step = step_forward(x_t, h, params, check=False, **options)
        steps.append(step)
        states.append(h)
    cache = dict(cell="srn", kind="sequence", steps=steps, states=states, state0=h0, final=h)
    # the outputs: h_t, or the Jordan network's yhat_t (the states s_t when mu = 0)
    jordan = options["feedback"] == "output" and options["mu"] != 0.0
    outputs = np.stack([step["yhat"] for step in steps] if jordan else states)
    cache.update(outputs=outputs, x=x, params=params, options=options)
    return cache["outputs"], cache


def backward(d_outputs, cache, d_final=None, **options):
    """Backpropagation through time for :func:`forward`: :func:`step_backward` from T down to 1.

    Args:
        d_outputs: dL/d outputs (T, B, H) (Jordan: dL/dyhat_t, (T, B, O)).
        cache: from :func:`forward`.
        d_final: gradient arriving at the final state from outside, (B, H)
            (Jordan: dL/ds_T (B, O)), or None.

    Returns:
        (dx (T, B, D), dh0 (B, H) (Jordan: ds_0 (B, O)), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shape and dtype,
            or an option is passed (the options are read from the cache).
    """
    check_no_options("srn.backward", options)
    check_cache(cache, "srn", "sequence")
    # the outputs are h_t (B, H), or for the Jordan network yhat_t (B, O)
    dims = "(T, B, O)" if cache["options"]["feedback"] == "output" else "(T, B, H)"
    dh = check_backward(d_outputs, cache, d_final, "srn", dims)
    dx, grads = [], None
    for t in reversed(range(len(d_outputs))):
        # dL/dh_t: this step's own loss plus what flows back from step t + 1 (Jordan: the
        # output's own loss reaches yhat_t, what flows back reaches s_t)
        dx_t, dh, g = step_backward(dh, cache["steps"][t], d_out_t=d_outputs[t], check=False)
        dx.append(dx_t)
        # the parameters are shared by every step: their gradients add up over t
        grads = g if grads is None else {k: grads[k] + g[k] for k in grads}
    return np.stack(dx[::-1]), dh, grads
