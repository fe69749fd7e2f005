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
:func:`forward` and :func:`backward` are loops over the two step functions.

In code a batch is rows: W_i x_t is written ``x_t @ W_i.T``, (B, D) x (D, H).
The state is the pair (h, c), both (B, H).
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_backward,
    check_cache,
    check_cell_inputs,
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
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            raise ValueError(f"forget_bias must be a number or None, got {describe(forget_bias)}")
    params = _init.draw_params("lstm", input_size, hidden_size, rng, init=init, dtype=dtype, **opts)
    if forget_bias is not None:
        params["b_f"] = _init.forget_bias(hidden_size, forget_bias, dtype)
    return params


def step_forward(x_t, state_prev, params, *, check=True, a_t=None, **options):
    """One step of the LSTM, (6.33)-(6.47).

    Args:
        x_t: input (B, D).
        state_prev: the pair (h_{t-1}, c_{t-1}), each (B, H); None for zeros.
        params: "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in
            ``cells.gates("lstm", variant=...)``; "p_i", "p_f", "p_o" (H,) for "peephole".
        check: check the arguments first; :func:`forward`, which has checked the whole
            sequence, passes False (and every option).
        a_t: the gates' pre-activations W_* x_t + U_* h_{t-1} + b_* (gate -> (B, H)),
            when the caller has formed them: :func:`forward` does, for all gates in one
            product. None (the default) forms them here.
        **options: ``variant``: "standard" (default), "no_forget", "peephole" or "coupled".

    Returns:
        ((h_t, c_t), cache): h_t and c_t (B, H); the cache holds, by name, what
        :func:`step_backward` needs.

    Raises:
        ValueError: before any arithmetic, for an unknown option, a missing or extra key,
            a state that is not a pair, a wrong rank or shape, mismatched D or H, a
            non-float or mixed dtype, NaN or inf.
    """
    if check:
        options = cells.options("lstm", options)
        state_prev = check_cell_inputs("lstm", x_t, state_prev, params, options, sequence=False)
    variant, p = options["variant"], params
    h_prev, c_prev = state_prev  # (B, H) each
    if a_t is None:
        # W_* x_t + U_* h_{t-1} + b_* for every gate *   (B, H) each
        gates = cells.gates("lstm", **options)
        a_t = {g: x_t @ p[f"W_{g}"].T + h_prev @ p[f"U_{g}"].T + p[f"b_{g}"] for g in gates}

    # (6.36)  i_t = sigma(W_i x_t + U_i h_{t-1} + b_i)   (B, H)
    a_i = a_t["i"]
    if variant == "peephole":
        # (6.43)  the input gate also looks at c_{t-1}
        a_i = a_i + p["p_i"] * c_prev
    i = sigmoid(a_i)

    if variant == "no_forget":
        # (6.42)  no forget gate: f_t = 1
        f = None
    elif variant == "coupled":
        # (6.46)  f_t = 1 - i_t
        f = 1 - i
    else:
        # (6.37)  f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)   (B, H)
        a_f = a_t["f"]
        if variant == "peephole":
            # (6.44)  the forget gate also looks at c_{t-1}
            a_f = a_f + p["p_f"] * c_prev
        f = sigmoid(a_f)

    # (6.35)  c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)   (B, H)
    c_tilde = np.tanh(a_t["c"])

    if variant == "no_forget":
        # (6.42)  c_t = c_{t-1} + i_t * c~_t   (B, H)
        c = c_prev + i * c_tilde
    else:
        # (6.40), coupled (6.47)  c_t = f_t * c_{t-1} + i_t * c~_t   (B, H)
        c = f * c_prev + i * c_tilde

    # (6.38)  o_t = sigma(W_o x_t + U_o h_{t-1} + b_o)   (B, H)
    a_o = a_t["o"]
    if variant == "peephole":
        # (6.45)  the output gate looks at the new cell c_t
        a_o = a_o + p["p_o"] * c
    o = sigmoid(a_o)

    # (6.41)  h_t = o_t * tanh(c_t)   (B, H)
    tanh_c = np.tanh(c)
    h = o * tanh_c

    cache = dict(cell="lstm", kind="step", x_t=x_t, h_prev=h_prev, c_prev=c_prev)
    cache.update(i=i, f=f, o=o, c_tilde=c_tilde, c=c, tanh_c=tanh_c, h=h)
    cache.update(params=params, variant=variant)
    return (h, c), cache


def step_backward(d_state, cache, *, check=True, products=True):
    """Backward of :func:`step_forward`: every gradient of one step.

    Args:
        d_state: the pair (dL/dh_t, dL/dc_t), each (B, H).
        cache: from :func:`step_forward`.
        check: check the arguments first; :func:`backward` passes False.
        products: False stops at the gates' pre-activations and leaves every product
            with a weight matrix to the caller: :func:`backward` forms them for all
            gates (and the weights' gradients for all steps) at once.

    Returns:
        (dx_t (B, D), (dh_prev, dc_prev) each (B, H), grads keyed like params); with
        ``products=False`` the pair (da, dc_prev): da the gradients of the gates'
        pre-activations a_* (gate -> (B, H)), dc_prev = dL/dc_{t-1} (B, H).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward` or ``d_state`` is
            not a pair matching the state's shapes and dtype.
    """
    if check:
        check_cache(cache, "lstm", "step")
        check_state_grad(d_state, (cache["h"], cache["c"]), "d_state")
    dh, dc = d_state  # (B, H) each
    p, variant = cache["params"], cache["variant"]
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
    if variant in ("standard", "peephole"):
        # (6.37)  f_t = sigma(a_f), with dL/df_t = dc_t * c_{t-1}
        da["f"] = dc * c_prev * f * (1 - f)
    da["o"] = da_o
    # (6.35)  c~_t = tanh(a_c), tanh' = 1 - c~_t^2
    da["c"] = dc_tilde * (1 - c_tilde**2)
    if variant == "peephole":
        # (6.43)-(6.44)  a_i and a_f hold p_i * c_{t-1} and p_f * c_{t-1}
        dc_prev = dc_prev + da["i"] * p["p_i"] + da["f"] * p["p_f"]
    if not products:
        return da, dc_prev

    # a_* = W_* x_t + U_* h_{t-1} + b_* for every gate * (in the order i, (f,) o, c):
    # dx_t = sum_* da_* W_* (B, D),  dh_{t-1} = sum_* da_* U_* (B, H),
    # dW_* = da_*^T x_t (H, D),  dU_* = da_*^T h_{t-1} (H, H),  db_* = sum over the batch (H,)
    dx_t = sum(da[g] @ p[f"W_{g}"] for g in da)
    dh_prev = sum(da[g] @ p[f"U_{g}"] for g in da)
    grads = {}
    for g in da:
        grads[f"W_{g}"] = da[g].T @ x_t
        grads[f"U_{g}"] = da[g].T @ h_prev
        grads[f"b_{g}"] = da[g].sum(axis=0)
    if variant == "peephole":
        # (6.43)-(6.45)  the peephole terms p_i * c_{t-1}, p_f * c_{t-1}, p_o * c_t   (H,) each
        grads["p_i"] = (da["i"] * c_prev).sum(axis=0)
        grads["p_f"] = (da["f"] * c_prev).sum(axis=0)
        grads["p_o"] = (da["o"] * c).sum(axis=0)
    return dx_t, (dh_prev, dc_prev), grads


def _stacked(params, symbol, gates):
    """The gates' matrices of one symbol, transposed and stacked gate-major.

    ``"W"`` -> (n, D, H), ``"U"`` -> (n, H, H), ``"b"`` -> (n, 1, H) for the n gates, so
    that ``np.matmul(x, W)`` gives every gate's x W_*^T as one (n, rows, H) array whose
    block for each gate is contiguous (faster elementwise arithmetic than column slices).
    """
    if symbol == "b":
        return np.stack([params[f"b_{g}"][None] for g in gates])
    return np.ascontiguousarray(np.stack([params[f"{symbol}_{g}"].T for g in gates]))


def forward(x, state0, params, **options):
    """Run the LSTM over a sequence: :func:`step_forward` at every step.

    The products with the weights are formed here, for all gates at once: the input
    parts W_* x_t + b_* of all steps before the loop, U_* h_{t-1} at each step.

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
    gates = cells.gates("lstm", **options)
    T, B, D = x.shape
    # W_* x_t + b_* for every gate and step, one product   (n, T, B, H)
    xw = np.matmul(x.reshape(T * B, D), _stacked(params, "W", gates)) + _stacked(params, "b", gates)
    xw = xw.reshape(len(gates), T, B, -1)
    U = _stacked(params, "U", gates)  # (n, H, H)
    state, steps, states = state0, [], []
    for t in range(T):
        # the pre-activations W_* x_t + U_* h_{t-1} + b_* of every gate   (n, B, H)
        a_t = xw[:, t] + np.matmul(state[0], U)
        a_t = dict(zip(gates, a_t, strict=True))
        state, step = step_forward(x[t], state, params, check=False, a_t=a_t, **options)
        steps.append(step)
        states.append(state)
    # (T, B, H)
    outputs = np.stack([h for h, _ in states])
    cache = dict(cell="lstm", kind="sequence", steps=steps, states=states, state0=state0)
    cache.update(final=state, outputs=outputs, x=x, params=params, options=options)
    return outputs, cache


def backward(d_outputs, cache, d_final=None):
    """Backpropagation through time for :func:`forward`: :func:`step_backward` from T down to 1.

    The products with the weights are formed here, for all gates at once: dh_{t-1} at
    each step, the weights' and the inputs' gradients of all steps after the loop.

    Args:
        d_outputs: dL/dh_t for every step (T, B, H), from the losses at each step.
        cache: from :func:`forward`.
        d_final: the pair (dL/dh_T, dL/dc_T), each (B, H), arriving from outside, or None.

    Returns:
        (dx (T, B, D), (dh0, dc0) each (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shapes and dtype.
    """
    dh, dc = check_backward(d_outputs, cache, d_final, "lstm")
    steps, x, p = cache["steps"], cache["x"], cache["params"]
    variant = cache["options"]["variant"]
    gates = cells.gates("lstm", variant=variant)
    T, B, D = x.shape
    U = np.concatenate([p[f"U_{g}"] for g in gates])  # (n*H, H), the U_* stacked
    da = []
    for t in reversed(range(T)):
        # dL/dh_t: this step's own loss plus what flows back from step t + 1
        da_t, dc = step_backward((dh + d_outputs[t], dc), steps[t], check=False, products=False)
        da_t = np.concatenate([da_t[g] for g in gates], axis=1)  # (B, n*H)
        # dh_{t-1} = sum_* da_* U_*, every gate in one product   (B, H)
        dh = da_t @ U
        da.append(da_t)
    # The weights are shared by every step, so their gradients are sums over t of
    # step_backward's: dW_* = sum_t da_*,t^T x_t, dU_* = sum_t da_*,t^T h_{t-1}, db_* =
    # the sum of da_*,t; and dx_t = sum_* da_*,t W_*. One product each over all T*B rows:
    da = np.stack(da[::-1]).reshape(T * B, -1)  # (T*B, n*H), in time order
    h_prev = np.stack([s["h_prev"] for s in steps]).reshape(T * B, -1)  # (T*B, H)
    W = np.concatenate([p[f"W_{g}"] for g in gates])  # (n*H, D)
    dx = (da @ W).reshape(T, B, D)
    dW, dU, db = da.T @ x.reshape(T * B, D), da.T @ h_prev, da.sum(axis=0)
    grads = {}
    # row block k of dW, dU and db belongs to gate k
    for g, dW_g, dU_g, db_g in zip(
        gates, *(np.split(a, len(gates)) for a in (dW, dU, db)), strict=True
    ):
        grads.update({f"W_{g}": dW_g, f"U_{g}": dU_g, f"b_{g}": db_g})
    if variant == "peephole":
        # (6.43)-(6.45)  the peephole terms p_i * c_{t-1}, p_f * c_{t-1}, p_o * c_t   (H,) each
        da_i, da_f, da_o, _ = np.split(da, len(gates), axis=1)  # (T*B, H) each
        c_prev = np.stack([s["c_prev"] for s in steps]).reshape(da_i.shape)
        c = np.stack([s["c"] for s in steps]).reshape(da_i.shape)
        grads["p_i"] = (da_i * c_prev).sum(axis=0)
        grads["p_f"] = (da_f * c_prev).sum(axis=0)
        grads["p_o"] = (da_o * c).sum(axis=0)
    return dx, (dh, dc), grads
