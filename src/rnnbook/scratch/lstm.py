"""The long short-term memory cell (LSTM) in NumPy, with its variants.

Textbook (6.33)-(6.41), ``variant="standard"`` (the key suffix c belongs to the
candidate c~):

    i_t  = sigma(W_i x_t + U_i h_{t-1} + b_i)          input gate        (6.36)
    f_t  = sigma(W_f x_t + U_f h_{t-1} + b_f)          forget gate       (6.37)
    o_t  = sigma(W_o x_t + U_o h_{t-1} + b_o)          output gate       (6.38)
    c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)           candidate state   (6.35)
    c_t  = f_t * c_{t-1} + i_t * c~_t                  memory cell       (6.33), (6.40)
    h_t  = o_t * tanh(c_t)                             hidden state      (6.34), (6.41)

The variants (option ``variant=``) each change one or two of these equations:

    "no_forget"  (6.42)         c_t = c_{t-1} + i_t * c~_t; no f keys
    "peephole"   (6.43)-(6.45)  the gates look at the cell: + p_i * c_{t-1} in i_t,
                                + p_f * c_{t-1} in f_t, + p_o * c_t in o_t (the book's
                                V_* c with V_* diagonal: keys "p_i", "p_f", "p_o" (H,))
    "coupled"    (6.46)-(6.47)  f_t = 1 - i_t; no f keys

How the code reads. :func:`step_forward` computes one step, an equation a line
under its number, and :func:`step_backward` every gradient of that step, the
equations taken in reverse. A variant is one marked branch at each equation it
changes (``if variant == "peephole":``), so the line that differs sits beside
the standard one; a function per variant would repeat the equations they share.
:func:`forward` and :func:`backward` are loops over the two step functions, with
two speed-ups in view: ``forward`` forms the input parts W_* x_t + b_* of all
steps in one product per gate before the loop and hands each step its part
(``xw_t=``); ``backward`` asks each step only for the gradients of the gates'
pre-activations (``weights=False``) and forms the weights' and the inputs'
gradients of all steps after the loop, one product per gate. Both pass
``check=False``: they have checked the whole sequence once.

In code a batch is rows: W_i x_t is written ``x_t @ W_i.T``, (B, D) x (D, H).
The state is the pair (h, c), both (B, H).
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_backward,
    check_cache,
    check_cell_inputs,
    check_flag,
    check_input_parts,
    check_no_options,
    check_state_grad,
    describe,
)
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import sigmoid


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    *,
    init: str = "uniform",
    forget_bias: float | None = None,
    dtype=np.float64,
    **options,
) -> dict:
    """Draw the parameters of an LSTM.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except:
    ``init="orthogonal"`` draws each U_* orthogonal (Saxe et al. 2014), and
    ``forget_bias=1.0`` (or 2.0) sets b_f to that constant (Gers et al. 2000;
    Jozefowicz et al. 2015); only for variants that have a forget gate.

    Args:
        input_size: D.  hidden_size: H.  rng: the generator to draw from.
        init: "uniform" or "orthogonal" for the recurrent matrices.
        forget_bias: None (drawn like the other biases) or a number for b_f.
        dtype: float64 (default) or float32.
        **options: ``variant``, one of "standard", "no_forget", "peephole", "coupled".

    Returns:
        dict with "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for each gate (and "p_*" (H,)).

    Raises:
        ValueError: for an unknown option, a size that is not an int >= 1, a bad rng,
            or a ``forget_bias`` that is not a number or is given without a forget gate.
    """
    opts = cells.options("lstm", options)
    if forget_bias is not None:
        if "f" not in cells.gates("lstm", **opts):
            raise ValueError(
                f"forget_bias needs a forget gate; variant {opts['variant']!r} has none"
            )
        kinds = (int, float, np.integer, np.floating)
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, kinds):
            raise ValueError(f"forget_bias must be a number or None, got {describe(forget_bias)}")
        if not np.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be a finite number, got {forget_bias!r}")
    params = _init.draw_params("lstm", input_size, hidden_size, rng, init=init, dtype=dtype, **opts)
    if forget_bias is not None:
        params["b_f"] = _init.forget_bias(hidden_size, forget_bias, dtype)
    return params


def step_forward(x_t, state_prev, params, *, check=True, xw_t=None, **options):
    """One step of the LSTM, (6.33)-(6.47).

    Args:
        x_t: input (B, D).
        state_prev: the pair (h_{t-1}, c_{t-1}), each (B, H); None for zeros.
        params: "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in
            ``cells.gates("lstm", variant=...)``; "p_i", "p_f", "p_o" (H,) for "peephole".
        check: check the arguments first (True or False); :func:`forward`, which has
            checked the whole sequence, passes False, with every option.
        xw_t: the input parts W_* x_t + b_* of the gates (gate -> (B, H)) when the caller
            has formed them (:func:`forward` does, for all steps at once); None forms them.
        **options: ``variant``: "standard" (default), "no_forget", "peephole" or "coupled".

    Returns:
        ((h_t, c_t), cache): h_t and c_t (B, H); the cache holds, by name, what
        :func:`step_backward` needs.

    Raises:
        ValueError: before any arithmetic, for an unknown option, a missing or extra key,
            a state that is not a pair, a wrong rank or shape, mismatched D or H, a
            non-float or mixed dtype, NaN or inf, or an ``xw_t`` that does not fit.
    """
    if check_flag("check", check):
        options = cells.options("lstm", options)
        state_prev = check_cell_inputs("lstm", x_t, state_prev, params, options, sequence=False)
        check_input_parts(xw_t, "lstm", state_prev[0], options)
    variant, p = options["variant"], params
    h_prev, c_prev = state_prev  # (B, H) each
    if xw_t is None:
        # W_* x_t + b_*, the part of each gate's pre-activation that the state does not enter
        xw_t = {g: x_t @ p[f"W_{g}"].T + p[f"b_{g}"] for g in cells.gates("lstm", **options)}

    # (6.36)  i_t = sigma(W_i x_t + U_i h_{t-1} + b_i)   (B, H)
    a_i = xw_t["i"] + h_prev @ p["U_i"].T
    if variant == "peephole":
        # (6.43)  the input gate also looks at c_{t-1}
        a_i += p["p_i"] * c_prev
    i = sigmoid(a_i)

    if variant == "no_forget":
        # (6.42)  no forget gate: f_t = 1
        f = None
    elif variant == "coupled":
        # (6.46)  f_t = 1 - i_t
        f = 1 - i
    else:
        # (6.37)  f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)   (B, H)
        a_f = xw_t["f"] + h_prev @ p["U_f"].T
        if variant == "peephole":
            # (6.44)  the forget gate also looks at c_{t-1}
            a_f += p["p_f"] * c_prev
        f = sigmoid(a_f)

    # (6.35)  c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)   (B, H)
    c_tilde = np.tanh(xw_t["c"] + h_prev @ p["U_c"].T)

    if variant == "no_forget":
        # (6.42)  c_t = c_{t-1} + i_t * c~_t   (B, H)
        c = c_prev + i * c_tilde
    else:
        # (6.40), coupled (6.47)  c_t = f_t * c_{t-1} + i_t * c~_t   (B, H)
        c = f * c_prev + i * c_tilde

    # (6.38)  o_t = sigma(W_o x_t + U_o h_{t-1} + b_o)   (B, H)
    a_o = xw_t["o"] + h_prev @ p["U_o"].T
    if variant == "peephole":
        # (6.45)  the output gate looks at the new cell c_t
        a_o += p["p_o"] * c
    o = sigmoid(a_o)

    # (6.41)  h_t = o_t * tanh(c_t)   (B, H)
    tanh_c = np.tanh(c)
    h = o * tanh_c

    cache = dict(cell="lstm", kind="step", x_t=x_t, h_prev=h_prev, c_prev=c_prev)
    cache.update(i=i, f=f, o=o, c_tilde=c_tilde, c=c, tanh_c=tanh_c, h=h)
    cache.update(params=params, options=options)
    return (h, c), cache


def step_backward(d_state, cache, *, check=True, weights=True, **options):
    """Backward of :func:`step_forward`: every gradient of one step.

    Args:
        d_state: the pair (dL/dh_t, dL/dc_t), each (B, H).
        cache: from :func:`step_forward`; it holds the step's options.
        check: check the arguments first (True or False); :func:`backward` passes False.
        weights: False leaves out the gradients of the weights and of x_t, which
            :func:`backward` forms for all steps at once.

    Returns:
        (dx_t (B, D), (dh_prev, dc_prev) each (B, H), grads keyed like params); with
        ``weights=False``, (None, (dh_prev, dc_prev), da), da the gradients of the
        gates' pre-activations a_* (gate -> (B, H)).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward`, ``d_state`` is not a
            pair matching the state's shapes and dtype, or an option is passed (the
            options are the forward step's, read from the cache).
    """
    check_no_options("lstm.step_backward", options)
    if check_flag("check", check):
        check_cache(cache, "lstm", "step")
        check_state_grad(d_state, (cache["h"], cache["c"]), "d_state")
    dh, dc = d_state  # (B, H) each
    p, variant = cache["params"], cache["options"]["variant"]
    x_t, h_prev, c_prev = cache["x_t"], cache["h_prev"], cache["c_prev"]
    i, f, o, c_tilde, c, tanh_c = (cache[k] for k in ("i", "f", "o", "c_tilde", "c", "tanh_c"))

    # (6.41)  h_t = o_t * tanh(c_t):  dL/do_t, and dL/dc_t gains the path through h_t
    do = dh * tanh_c
    dc = dc + dh * o * (1 - tanh_c**2)
    # (6.38)  o_t = sigma(a_o), sigma' = o_t (1 - o_t)
    da_o = do * o * (1 - o)
    if variant == "peephole":
        # (6.45)  a_o holds p_o * c_t
        dc = dc + da_o * p["p_o"]

    # (6.40)  c_t = f_t * c_{t-1} + i_t * c~_t   ((6.42): f_t = 1)
    di = dc * c_tilde
    dc_tilde = dc * i
    dc_prev = dc if f is None else dc * f
    if variant == "coupled":
        # (6.46)  f_t = 1 - i_t, so dL/df_t = dc_t * c_{t-1} reaches i_t with a minus sign
        di = di - dc * c_prev

    # (6.36)  i_t = sigma(a_i)
    da = {"i": di * i * (1 - i)}
    if "W_f" in p:  # a forget gate with its own weights (not "no_forget", not "coupled")
        # (6.37)  f_t = sigma(a_f), with dL/df_t = dc_t * c_{t-1}
        da["f"] = dc * c_prev * f * (1 - f)
    da["o"] = da_o
    # (6.35)  c~_t = tanh(a_c), tanh' = 1 - c~_t^2
    da["c"] = dc_tilde * (1 - c_tilde**2)
    if variant == "peephole":
        # (6.43)-(6.44)  a_i and a_f hold p_i * c_{t-1} and p_f * c_{t-1}
        dc_prev = dc_prev + da["i"] * p["p_i"] + da["f"] * p["p_f"]

    # a_* = W_* x_t + U_* h_{t-1} + b_* for every gate * (i, (f,) o, c):
    # dh_{t-1} = sum_* da_* U_*   (B, H)
    dh_prev = da["i"] @ p["U_i"]
    for g in tuple(da)[1:]:
        dh_prev += da[g] @ p[f"U_{g}"]
    if not check_flag("weights", weights):
        return None, (dh_prev, dc_prev), da
    # dx_t = sum_* da_* W_* (B, D),  dW_* = da_*^T x_t (H, D),  dU_* = da_*^T h_{t-1} (H, H),
    # db_* = the sum of da_* over the batch (H,)
    dx_t = sum(da[g] @ p[f"W_{g}"] for g in da)
    grads = {}
    for g in da:
        grads[f"W_{g}"] = da[g].T @ x_t
        grads[f"U_{g}"] = da[g].T @ h_prev
        grads[f"b_{g}"] = da[g].sum(axis=0)
    if variant == "peephole":
        grads.update(_peephole_grads(da, c_prev, c))
    return dx_t, (dh_prev, dc_prev), grads


def _peephole_grads(da, c_prev, c):
    """(6.43)-(6.45)  the gradients of p_i, p_f, p_o (H,) each, from the terms p_i * c_{t-1},
    p_f * c_{t-1} and p_o * c_t; the arrays may hold one step (B, H) or all (T*B, H)."""
    return {
        "p_i": (da["i"] * c_prev).sum(axis=0),
        "p_f": (da["f"] * c_prev).sum(axis=0),
        "p_o": (da["o"] * c).sum(axis=0),
    }


def forward(x, state0, params, **options):
    """Run the LSTM over a sequence: :func:`step_forward` at every step.

    The input parts W_* x_t + b_* of all steps are formed before the loop, one product
    per gate.

    Args:
        x: inputs (T, B, D).
        state0: the pair (h0, c0), each (B, H), or None for zeros.
        params, **options: as in :func:`step_forward`.

    Returns:
        (outputs, cache): outputs (T, B, H) are h_1..h_T; ``cache["final"]`` is
        (h_T, c_T), ``cache["states"]`` the list of every step's (h_t, c_t).

    Raises:
        ValueError: as :func:`step_forward`, for x, state0 and params.
    """
    options = cells.options("lstm", options)
    state0 = check_cell_inputs("lstm", x, state0, params, options, sequence=True)
    T, B, D = x.shape
    # W_* x_t + b_* for all steps at once, one product per gate over the T*B rows   (T, B, H)
    xw = {
        g: (x.reshape(T * B, D) @ params[f"W_{g}"].T + params[f"b_{g}"]).reshape(T, B, -1)
        for g in cells.gates("lstm", **options)
    }
    outputs = np.empty((T, B, state0[0].shape[1]), dtype=x.dtype)  # h_1..h_T   (T, B, H)
    state, steps, states = state0, [], []
    for t in range(T):
        xw_t = {g: xw[g][t] for g in xw}
        state, step = step_forward(x[t], state, params, check=False, xw_t=xw_t, **options)
        steps.append(step)
        states.append(state)
        outputs[t] = state[0]
    cache = dict(cell="lstm", kind="sequence", steps=steps, states=states, state0=state0)
    cache.update(final=state, outputs=outputs, x=x, params=params, options=options)
    return outputs, cache


def backward(d_outputs, cache, d_final=None, **options):
    """Backpropagation through time for :func:`forward`: :func:`step_backward` from T down to 1.

    The weights' and the inputs' gradients of all steps are formed after the loop, one
    product per gate.

    Args:
        d_outputs: dL/dh_t for every step (T, B, H), from the losses at each step.
        cache: from :func:`forward`.
        d_final: the pair (dL/dh_T, dL/dc_T), each (B, H), arriving from outside, or None.

    Returns:
        (dx (T, B, D), (dh0, dc0) each (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shapes and dtype,
            or an option is passed (the options are read from the cache).
    """
    check_no_options("lstm.backward", options)
    dh, dc = check_backward(d_outputs, cache, d_final, "lstm")
    steps, x, p = cache["steps"], cache["x"], cache["params"]
    T, B, D = x.shape
    # dL/da_* of every step, filled from t = T down to 1   (T, B, H) per gate
    da = {g: np.empty_like(d_outputs) for g in cells.gates("lstm", **cache["options"])}
    for t in reversed(range(T)):
        # dL/dh_t: this step's own loss plus what flows back from step t + 1
        d_state = (dh + d_outputs[t], dc)
        _, (dh, dc), da_t = step_backward(d_state, steps[t], check=False, weights=False)
        for g in da:
            da[g][t] = da_t[g]
    # The weights are shared by every step, so their gradients are sums over t of
    # step_backward's: dW_* = sum_t da_*,t^T x_t, dU_* = sum_t da_*,t^T h_{t-1}, db_* = the
    # sum of da_*,t; and dx_t = sum_* da_*,t W_*. One product each over all T*B rows:
    da = {g: da[g].reshape(T * B, -1) for g in da}  # (T*B, H)
    x_all = x.reshape(T * B, D)
    h_prev = np.stack([s["h_prev"] for s in steps]).reshape(T * B, -1)  # h_0..h_{T-1} (T*B, H)
    dx = sum(da[g] @ p[f"W_{g}"] for g in da).reshape(T, B, D)
    grads = {}
    for g in da:
        grads[f"W_{g}"] = da[g].T @ x_all
        grads[f"U_{g}"] = da[g].T @ h_prev
        grads[f"b_{g}"] = da[g].sum(axis=0)
    if cache["options"]["variant"] == "peephole":
        c_prev = np.stack([s["c_prev"] for s in steps]).reshape(T * B, -1)
        c = np.stack([s["c"] for s in steps]).reshape(T * B, -1)
        grads.update(_peephole_grads(da, c_prev, c))
    return dx, (dh, dc), grads
