"""The long short-term memory cell (LSTM) in NumPy, with its variants.

Textbook (6.33)-(6.41), ``variant="standard"``: for * in i, f, o, c (the key
suffix c belongs to the candidate c~),

    i_t  = sigma(W_i x_t + U_i h_{t-1} + b_i)          input gate        (6.36)
    f_t  = sigma(W_f x_t + U_f h_{t-1} + b_f)          forget gate       (6.37)
    o_t  = sigma(W_o x_t + U_o h_{t-1} + b_o)          output gate       (6.38)
    c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)           candidate state   (6.35)
    c_t  = f_t * c_{t-1} + i_t * c~_t                  memory cell       (6.33), (6.40)
    h_t  = o_t * tanh(c_t)                             hidden state      (6.34), (6.41)

Variants: ``"no_forget"`` c_t = c_{t-1} + i_t * c~_t (6.42), no f keys;
``"peephole"`` (6.43)-(6.45) adds p_i * c_{t-1}, p_f * c_{t-1} and p_o * c_t
inside the gates (the book's V_* c, with V_* diagonal: "p_i", "p_f", "p_o" (H,));
``"coupled"`` f_t = 1 - i_t (6.46)-(6.47), no f keys.

The state is the pair (h, c), both (B, H). Internally the gates' matrices are
stacked gate-major in the order i, f, o, c (i, o, c without a forget gate);
the input projections of all steps are computed before the recurrence.
"""

import numpy as np

from rnnbook._checks import check_array, check_int, check_option, check_params, check_rng, describe
from rnnbook.scratch import _sequence
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import sigmoid

VARIANTS = ("standard", "no_forget", "peephole", "coupled")


def gates(variant: str) -> tuple:
    """The gates with their own parameters, in the internal stacking order.

    ("i", "f", "o", "c") for "standard" and "peephole", ("i", "o", "c") for
    "no_forget" and "coupled". ``variant`` is not checked here.
    """
    return ("i", "o", "c") if variant in ("no_forget", "coupled") else ("i", "f", "o", "c")


def param_shapes(D: int, H: int, variant: str = "standard") -> dict:
    """The keys of the parameter dict, each with its shape and its shape in symbols.

    Args:
        D, H: input and hidden sizes.  variant: as in :func:`step_forward`.

    Returns:
        dict key -> (shape, text), e.g. ``{"W_i": ((H, D), "(H, D)"), ...}``.
    """
    shapes = {}
    for g in gates(variant):
        shapes[f"W_{g}"] = ((H, D), "(H, D)")
        shapes[f"U_{g}"] = ((H, H), "(H, H)")
        shapes[f"b_{g}"] = ((H,), "(H,)")
    if variant == "peephole":
        shapes.update({f"p_{g}": ((H,), "(H,)") for g in ("i", "f", "o")})
    return shapes


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    *,
    variant: str = "standard",
    init: str = "uniform",
    forget_bias: float | None = None,
    dtype=np.float64,
) -> dict:
    """Draw the parameters of an LSTM.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except:
    ``init="orthogonal"`` draws each U_* orthogonal (Saxe et al. 2014), and
    ``forget_bias=1.0`` (or 2.0) sets b_f to that constant (Gers et al. 2000;
    Jozefowicz et al. 2015); only for variants that have a forget gate.

    Args:
        input_size: D.  hidden_size: H.  rng: the generator to draw from.
        variant: one of "standard", "no_forget", "peephole", "coupled".
        init: "uniform" or "orthogonal" for the recurrent matrices.
        forget_bias: None (drawn like the other biases) or a number for b_f.
        dtype: float64 (default) or float32.

    Returns:
        dict with "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for each gate (and "p_*" (H,)).

    Raises:
        ValueError: for an unknown option, a size that is not an int >= 1, a bad rng,
            or a ``forget_bias`` that is not a number or is given without a forget gate.
    """
    check_option("variant", variant, VARIANTS)
    check_rng(rng)
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)
    check_option("init", init, ("uniform", "orthogonal"))
    if forget_bias is not None:
        if "f" not in gates(variant):
            raise ValueError(f"forget_bias needs a forget gate; variant {variant!r} has none")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            raise ValueError(f"forget_bias must be a number or None, got {describe(forget_bias)}")
    D, H = input_size, hidden_size
    params = {}
    for g in gates(variant):
        params[f"W_{g}"] = _init.uniform(rng, (H, D), H, dtype)
        params[f"U_{g}"] = _init.recurrent(rng, H, init, dtype)
        params[f"b_{g}"] = _init.uniform(rng, (H,), H, dtype)
    if variant == "peephole":
        for g in ("i", "f", "o"):
            params[f"p_{g}"] = _init.uniform(rng, (H,), H, dtype)
    if forget_bias is not None:
        params["b_f"] = _init.forget_bias(H, forget_bias, dtype)
    return params


def _check(x, state, params, variant, sequence: bool):
    """Check x, the state (h, c) and params against each other; return the state."""
    check_option("variant", variant, VARIANTS)
    dtype = _sequence.check_x(x, sequence)
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, got {type(params).__name__}")
    if "b_i" not in params:
        raise ValueError(f"params must have the key 'b_i', got keys {sorted(params)}")
    check_array(params["b_i"], "params['b_i']", shape=(None,), dims="(H,)", dtype=dtype)
    D, B, H = x.shape[-1], x.shape[-2], params["b_i"].shape[0]
    check_params(params, param_shapes(D, H, variant), dtype=dtype)
    names = ("h_prev", "c_prev") if not sequence else ("h0", "c0")
    if state is None:
        state = (None, None)
    if not (isinstance(state, (tuple, list)) and len(state) == 2):
        raise ValueError(
            f"the LSTM state must be a pair ({', '.join(names)}), got {describe(state)}"
        )
    return tuple(
        _sequence.check_state(s, n, (B, H), "(B, H)", dtype)
        for s, n in zip(state, names, strict=True)
    )


# ---- the cell: stacked weights, recurrent core, and their backward ----


def _prepare(params, opts):
    order = gates(opts["variant"])
    P = _sequence.stack(
        [params[f"W_{g}"] for g in order],  # -> W (n, H, D)
        [params[f"b_{g}"] for g in order],  # -> b (n, 1, H)
        [params[f"U_{g}"] for g in order],  # -> U (n, H, H)
    )
    if opts["variant"] == "peephole":
        P.update({k: params[k] for k in ("p_i", "p_f", "p_o")})
    return P


def _core_forward(a_t, state_prev, P, opts):
    """a_t (4, B, H) holds W_* x_t + b_* for every gate, in the order i, f, o, c
    (without a forget gate (3, B, H), in the order i, o, c).

    The gates are computed in place in one array g (n + 1, B, H) = [i_t, f_t, o_t, c~_t]
    (without a forget gate [i_t, o_t, c~_t]), n being the number of sigmoid gates;
    i, f, o, ct below are its blocks, each (B, H).
    """
    variant = opts["variant"]
    h_prev, c_prev = state_prev  # (B, H) each
    n = len(gates(variant)) - 1  # the number of sigmoid gates with their own weights
    # all gates' pre-activations W_* x_t + U_* h_{t-1} + b_*   (n + 1, B, H)
    g = _sequence.recurrent_product(h_prev, P)
    g += a_t
    i, o, ct = g[0], g[n - 1], g[n]
    if variant == "peephole":
        # (6.43)-(6.44)  the input and forget gates also look at c_{t-1}
        g[0] += P["p_i"] * c_prev
        g[1] += P["p_f"] * c_prev
        # (6.43)-(6.44)  i_t, f_t = sigma(...)   (B, H) each
        sigmoid(g[:2], out=g[:2])
    else:
        # (6.36)-(6.38)  i_t, f_t, o_t = sigma(W_* x_t + U_* h_{t-1} + b_*)   (B, H) each
        # (without a forget gate only i_t and o_t)
        sigmoid(g[:n], out=g[:n])
    # (6.35)  c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)   (B, H)
    np.tanh(ct, out=ct)
    if variant == "no_forget":
        # (6.42)  c_t = c_{t-1} + i_t * c~_t   (B, H)
        f = None
        c = c_prev + i * ct
    else:
        # (6.46)  coupled: f_t = 1 - i_t
        f = 1 - i if variant == "coupled" else g[1]
        # (6.33) = (6.40), coupled (6.47)  c_t = f_t * c_{t-1} + i_t * c~_t   (B, H)
        c = f * c_prev
        c += i * ct
    if variant == "peephole":
        # (6.45)  o_t = sigma(W_o x_t + U_o h_{t-1} + p_o * c_t + b_o)   (B, H)
        o += P["p_o"] * c
        sigmoid(o, out=o)
    # tanh(c_t)   (B, H)
    tc = np.tanh(c)
    # (6.34) = (6.41)  h_t = o_t * tanh(c_t)   (B, H)
    h = o * tc
    return (h, c), (h_prev, c_prev, g, f, c, tc)


def _core_backward(d_state, core, P, opts, da):
    """Fills da (n + 1, B, H) with dL/d(pre-activations); returns (da, (dh_prev, dc_prev), rec).

    n is the number of sigmoid gates, as in :func:`_core_forward`.
    First dg = dL/dg (n + 1, B, H), the gradient of the gates themselves, then in one
    product per activation da = dg * sigma'(a) (i, f, o) and dg * tanh'(a) (c~).
    ``rec`` holds this step's gradients of the peepholes (empty for other variants).
    """
    variant = opts["variant"]
    dh, dc = d_state
    h_prev, c_prev, g, f, c, tc = core
    n = len(gates(variant)) - 1
    i, o, ct = g[0], g[n - 1], g[n]
    rec = {}
    dg = np.empty_like(g)  # (n + 1, B, H)
    # h_t = o_t * tanh(c_t):  dL/do_t = dh_t * tanh(c_t),  dL/dc_t += dh_t * o_t * (1 - tanh^2(c_t))
    np.multiply(dh, tc, out=dg[n - 1])
    dc = dc + dh * o * (1 - tc * tc)
    if variant == "peephole":
        # o_t = sigma(... + p_o * c_t): the output gate also carries gradient to c_t
        da_o = dg[2] * o * (1 - o)
        dc += da_o * P["p_o"]
        rec["p_o"] = (da_o * c).sum(axis=0)
    # c_t = f_t * c_{t-1} + i_t * c~_t:  dL/di_t = dc_t * c~_t,  dL/dc~_t = dc_t * i_t
    np.multiply(dc, ct, out=dg[0])
    np.multiply(dc, i, out=dg[n])
    if variant == "no_forget":
        dc_prev = dc
    else:
        # dL/df_t = dc_t * c_{t-1},  dL/dc_{t-1} = dc_t * f_t
        dc_prev = dc * f
        if variant == "coupled":
            # f_t = 1 - i_t:  dL/di_t -= dL/df_t
            dg[0] -= dc * c_prev
        else:
            np.multiply(dc, c_prev, out=dg[1])
    # sigma'(a) = sigma(a) (1 - sigma(a)) for i, f, o;  tanh'(a) = 1 - tanh(a)^2 for c~
    s = g[:n]
    np.multiply(dg[:n], s * (1 - s), out=da[:n])
    np.multiply(dg[n], 1 - ct * ct, out=da[n])
    if variant == "peephole":
        # a_i and a_f contain p_i * c_{t-1} and p_f * c_{t-1}
        dc_prev += da[0] * P["p_i"] + da[1] * P["p_f"]
        rec["p_i"] = (da[0] * c_prev).sum(axis=0)
        rec["p_f"] = (da[1] * c_prev).sum(axis=0)
    # a = a_t + U h_{t-1}  =>  dh_{t-1} = sum_k da_k U_k (B, H)   (dU is summed by the loop)
    dh_prev = _sequence.recurrent_product_backward(da, P)
    return da, (dh_prev, dc_prev), rec


def _unstack(dW, db, dU, rec, opts):
    grads = {}
    for k, g in enumerate(gates(opts["variant"])):
        grads.update({f"W_{g}": dW[k], f"U_{g}": dU[k], f"b_{g}": db[k]})
    grads.update({k: rec[k] for k in ("p_i", "p_f", "p_o") if k in rec})
    return grads


CELL = _sequence.Cell("lstm", _prepare, _core_forward, _core_backward, _unstack)


# ---- public API ----


def step_forward(x_t, state_prev, params, *, variant="standard"):
    """One step of the LSTM.

    Args:
        x_t: input (B, D).
        state_prev: the pair (h_{t-1}, c_{t-1}), each (B, H); None for zeros.
        params: "W_*" (H, D), "U_*" (H, H), "b_*" (H,) for * in gates(variant),
            and "p_i", "p_f", "p_o" (H,) for the peephole variant.
        variant: "standard", "no_forget", "peephole" or "coupled".

    Returns:
        ((h_t, c_t), cache), h_t and c_t (B, H).

    Raises:
        ValueError: before any arithmetic, for an unknown variant, a missing or extra key,
            a state that is not a pair, a wrong rank or shape, mismatched D or H, a
            non-float or mixed dtype, NaN or inf.
    """
    state_prev = _check(x_t, state_prev, params, variant, sequence=False)
    return _sequence.step_forward(CELL, x_t, state_prev, params, {"variant": variant})


def step_backward(d_state, cache):
    """Backward of :func:`step_forward`.

    Args:
        d_state: the pair (dL/dh_t, dL/dc_t), each (B, H).
        cache: from :func:`step_forward`.

    Returns:
        (dx_t (B, D), (dh_prev, dc_prev) each (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward` or ``d_state`` is
            not a pair matching the state's shapes and dtype.
    """
    return _sequence.step_backward(CELL, d_state, cache)


def forward(x, state0, params, *, variant="standard"):
    """Run the LSTM over a sequence.

    Args:
        x: inputs (T, B, D).
        state0: the pair (h0, c0), each (B, H), or None for zeros.
        params, variant: as in :func:`step_forward`.

    Returns:
        (outputs, cache): outputs (T, B, H) are h_1..h_T; ``cache["final"]`` is (h_T, c_T).

    Raises:
        ValueError: as :func:`step_forward`, for x, state0 and params.
    """
    state0 = _check(x, state0, params, variant, sequence=True)
    return _sequence.forward(CELL, x, state0, params, {"variant": variant})


def backward(d_outputs, cache, d_final=None):
    """Backpropagation through time for :func:`forward`.

    Args:
        d_outputs: dL/dh_t for every step (T, B, H).
        cache: from :func:`forward`.
        d_final: the pair (dL/dh_T, dL/dc_T), each (B, H), arriving from outside, or None.

    Returns:
        (dx (T, B, D), (dh0, dc0) each (B, H), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shapes and dtype.
    """
    return _sequence.backward(CELL, d_outputs, cache, d_final)
