"""The clockwork RNN (Koutnik et al. 2014) in NumPy.

The hidden layer of an SRN, H = G k units, is split into modules g = 1..G of k units
each, and module g gets a clock period T_g (by default T_g = 2^(g-1): 1, 2, 4, 8, ...).
Module g is updated only at the steps t where t mod T_g = 0; between its ticks it keeps
its state:

    h_t^g = f(W_g x_t + U_g h_{t-1} + b_g)    if t mod T_g = 0
    h_t^g = h_{t-1}^g                          otherwise

where W_g (k, D), U_g (k, H) and b_g (k,) are module g's rows of W, U and b, the SRN's
(6.3)-(6.4) restricted to the module. The whole layer is written with the active set
a_t = {units of the modules with t mod T_g = 0}:

    z_t = (M * U)[a_t] h_{t-1} + W[a_t] x_t + b[a_t]      (6.3) on the active rows
    h_t[a_t] = f(z_t),   h_t[not a_t] = h_{t-1}[not a_t]

Which blocks of U are nonzero. Row r of U holds the weights *into* unit r (as in (6.3)
and in the paper, where the recurrent matrix multiplies the previous state). Module i
receives from module j only when T_j >= T_i: slower modules feed faster ones, and each
module is fully connected within itself. With the modules sorted by increasing period
the nonzero blocks (i, j) are those with j >= i, so U is block-upper-triangular, the
paper's convention; :func:`recurrent_mask` returns that 0/1 mask M (H, H). The input
matrix W has no zero blocks: its block row W_g simply belongs to module g and is used
only at g's ticks.

The mask in code. :func:`step_forward` computes, for each module that ticks, only its rows
and, in them, only the columns the mask keeps (module g's row of M is ones from the first
unit of period T_g on), so it never builds M * U and skips the idle rows and the zero
blocks; the result is that of (M * U)[a_t] h_{t-1}. Entries of U outside the mask have no
effect on the outputs and :func:`backward` returns zero gradient for them
(dU = M * sum_t dz_t^T h_{t-1}); a gradient step therefore keeps them at zero.

Where the clock starts. The rule "t mod T_g = 0" does not by itself say which step is
t = 0. Here the first input is x_1 at t = 1 (the textbook's indexing, h_0 the initial
state), so at the first step only the modules with T_g = 1 update. ``start=0`` gives
the other reading, in which every module updates at the first input.

Equal periods. The periods must be non-decreasing. Two modules with the same period tick
together and are connected both ways (T_j >= T_i holds both ways): they act as one larger
module. In particular with every period 1 the mask is all ones and the clockwork RNN is
the SRN of :mod:`rnnbook.scratch.srn`.

How the code reads. :func:`step_forward` / :func:`step_backward` are one step, an
equation a line; :func:`forward` / :func:`backward` loop over them. A batch is rows:
W x_t is ``x_t @ W.T``. Shapes: x (T, B, D), h (B, H), H = G k.
"""

from math import lcm

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_array,
    check_cache,
    check_flag,
    check_int,
    check_option,
    check_params,
    check_rng,
    describe,
    dtype_name,
)
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import activate, activate_backward

#: the name of this cell in caches
CELL = "clockwork"


# ---- the clock and the mask ------------------------------------------------------------


def default_periods(n_modules: int) -> tuple:
    """The paper's exponential periods T_g = 2^(g-1), g = 1..G: (1, 2, 4, ..., 2^(G-1))."""
    G = check_int("n_modules", n_modules)
    return tuple(2**g for g in range(G))


def check_periods(periods) -> tuple:
    """Check the periods T_1..T_G: ints >= 1 in non-decreasing order; return them as a tuple.

    Raises:
        ValueError: naming what was expected and what came.
    """
    if not isinstance(periods, (tuple, list)) or len(periods) == 0:
        raise ValueError(
            f"periods must be a non-empty tuple or list of ints >= 1, got {describe(periods)}"
        )
    out = tuple(check_int(f"periods[{g}]", T) for g, T in enumerate(periods))
    if any(b < a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(
            f"periods must be in non-decreasing order (slowest module last), got {out}"
        )
    return out


def module_of_units(module_size: int, periods) -> np.ndarray:
    """The module index g - 1 of every hidden unit, (H,) ints: k zeros, k ones, ..."""
    k = check_int("module_size", module_size)
    periods = check_periods(periods)
    return np.repeat(np.arange(len(periods)), k)


def recurrent_mask(module_size: int, periods) -> np.ndarray:
    """The 0/1 mask M (H, H) of the recurrent connections that exist.

    M[r, c] = 1 when unit r (in module i) receives from unit c (in module j), that is
    when T_j >= T_i. For increasing periods it is block-upper-triangular: blocks (i, j)
    with j >= i are ones.

    Args:
        module_size: k, the units per module.  periods: T_1..T_G, non-decreasing.

    Returns:
        float64 array (H, H) of zeros and ones, H = G k.

    Raises:
        ValueError: for a module size that is not an int >= 1, or bad periods.
    """
    periods = np.array(check_periods(periods))
    g = module_of_units(module_size, tuple(periods))
    T = periods[g]  # the period of every unit (H,)
    # receiving unit r (rows) may hear sending unit c (columns) when T_c >= T_r
    return (T[None, :] >= T[:, None]).astype(np.float64)


def ticks(length: int, periods, *, start: int = 1) -> np.ndarray:
    """Which modules update at which step: (length, G) bools, row s for t = start + s.

    Module g updates at step t when t mod T_g = 0.

    Raises:
        ValueError: for a length that is not an int >= 1, a start that is not an int >= 0,
            or bad periods.
    """
    n = check_int("length", length)
    t0 = check_int("start", start, minimum=0)
    periods = np.array(check_periods(periods))
    t = np.arange(t0, t0 + n)
    return t[:, None] % periods[None, :] == 0


def connection_counts(module_size: int, periods) -> dict:
    """Sizes of the recurrent blocks, and how many recurrent weights are used per step.

    This works out the question-and-answer chapter's example (k = 64, periods 1, 2, 4, 8)
    from :func:`recurrent_mask` and :func:`ticks`.

    Returns:
        dict with
        ``"incoming"``: per module, (k, units it receives from): its block row of U,
        the paper's reading; ``"outgoing"``: per module, (k, units it sends to), the
        transpose of its block column of U; ``"recurrent_weights"``: the number of ones
        in the mask; ``"full_weights"``: H^2, an SRN's; ``"used_per_step"``: the recurrent
        weights used per step on average over one cycle of lcm(T_1..T_G) steps (the rows
        of the modules that update); ``"full_per_step"``: H^2.

    Raises:
        ValueError: as :func:`recurrent_mask`.
    """
    M = recurrent_mask(module_size, periods)
    g = module_of_units(module_size, periods)
    k, G, H = module_size, len(periods), M.shape[0]
    incoming = [(k, int(M[g == i].any(axis=0).sum())) for i in range(G)]
    outgoing = [(k, int(M[:, g == j].any(axis=1).sum())) for j in range(G)]
    cycle = lcm(*periods)
    active = ticks(cycle, periods, start=1)  # (cycle, G)
    rows_weights = M.sum(axis=1)  # weights into each unit (H,)
    used = sum(float(rows_weights[active[s][g]].sum()) for s in range(cycle)) / cycle
    return dict(
        incoming=incoming,
        outgoing=outgoing,
        recurrent_weights=int(M.sum()),
        full_weights=H * H,
        used_per_step=used,
        full_per_step=H * H,
    )


# ---- parameters ----------------------------------------------------------------------


def init_params(
    input_size: int, module_size: int, periods, rng: np.random.Generator, *, dtype=np.float64
) -> dict:
    """Draw the parameters: the SRN's, with U masked by :func:`recurrent_mask`.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as for the SRN, then U = M * U.

    Args:
        input_size: D.  module_size: k.  periods: T_1..T_G, non-decreasing
            (e.g. :func:`default_periods`).  rng: the generator.  dtype: float64 or float32.

    Returns:
        dict with "W" (H, D), "U" (H, H) (zero outside the mask), "b" (H,), H = G k.

    Raises:
        ValueError: for a size that is not an int >= 1, bad periods, rng or dtype.
    """
    D = check_int("input_size", input_size)
    M = recurrent_mask(module_size, periods)
    check_rng(rng)
    H = M.shape[0]
    params = _init.draw_params("srn", D, H, rng, dtype=dtype)
    params["U"] = (M * params["U"]).astype(params["U"].dtype)
    return params


def _check_params(params, periods, D: int | None, dtype: str) -> int:
    """Check params against the periods; return k. D None: take it from params['W']."""
    if not isinstance(params, dict) or "U" not in params:
        raise ValueError(f"params must be a dict with 'W', 'U', 'b', got {describe(params)}")
    U = params["U"]
    check_array(U, "params['U']", shape=(None, None), dims="(H, H)", dtype=dtype)
    H, G = U.shape[0], len(periods)
    if H % G:
        raise ValueError(f"params['U'] must have H = G k rows for G = {G} modules, got H = {H}")
    if D is None:
        check_array(params.get("W"), "params['W']", shape=(H, None), dims="(H, D)")
        D = params["W"].shape[1]
    shapes = {"W": ((H, D), "(H, D)"), "U": ((H, H), "(H, H)"), "b": ((H,), "(H,)")}
    check_params(params, shapes, dtype=dtype)
    return H // G


def _active_blocks(k: int, periods: tuple, t: int) -> list:
    """The modules that update at t, each as (g, c0): module g (0-based) and the first unit
    it receives from. With non-decreasing periods the units with T_c >= T_g are those from
    the first module of period T_g on, so module g's row of the mask is ones from c0 on."""
    return [(g, k * periods.index(T)) for g, T in enumerate(periods) if t % T == 0]


# ---- one step ------------------------------------------------------------------------


def step_forward(
    x_t, h_prev, params, t: int, *, periods, activation: str = "tanh", check: bool = True
):
    """One step of the clockwork RNN at time t.

    Args:
        x_t: input (B, D).  h_prev: h_{t-1} (B, H), or None for zeros.
        params: "W" (H, D), "U" (H, H), "b" (H,).  t: the step's time, an int >= 0.
        periods: T_1..T_G, non-decreasing, G dividing H.
        activation: f, one of ``rnnbook.cells.ACTIVATIONS`` ("tanh" by default).
        check: check the arguments first (True or False); :func:`forward` passes False.

    Returns:
        (h_t (B, H), cache).

    Raises:
        ValueError: before any arithmetic, for a wrong shape, dtype, key or option.
    """
    if check_flag("check", check):
        periods = check_periods(periods)
        check_option("activation", activation, cells.ACTIVATIONS)
        check_array(x_t, "x_t", shape=(None, None), dims="(B, D)")
        dtype = dtype_name(x_t)
        k = _check_params(params, periods, x_t.shape[1], dtype)
        H = k * len(periods)
        if h_prev is None:
            h_prev = np.zeros((x_t.shape[0], H), dtype=x_t.dtype)
        check_array(h_prev, "h_prev", shape=(x_t.shape[0], H), dims="(B, H)", dtype=dtype)
        t = check_int("t", t, minimum=0)
    p = params
    k = p["U"].shape[0] // len(periods)
    # the active modules at t, each with the first unit it receives from   [(g, c0), ...]
    blocks = _active_blocks(k, periods, t)
    # the active units a_t: those of the modules with t mod T_g = 0   (H,) bools
    a = np.repeat(t % np.array(periods) == 0, k)
    # (6.3) on the active rows, one module at a time and only over the columns that exist,
    # units c0.. (the mask's ones in module g's rows of M * U):
    #   z_t^g = U[g, c0:] h_{t-1}[c0:] + W_g x_t + b_g   (B, k) each, (B, |a|) together
    z = np.concatenate(
        [
            h_prev[:, c0:] @ p["U"][g * k : (g + 1) * k, c0:].T
            + x_t @ p["W"][g * k : (g + 1) * k].T
            + p["b"][g * k : (g + 1) * k]
            for g, c0 in blocks
        ]
        or [np.zeros((x_t.shape[0], 0), dtype=x_t.dtype)],  # no module ticks at t
        axis=1,
    )
    # the inactive modules keep their state:  h_t = h_{t-1} there   (B, H)
    h = h_prev.copy()
    # (6.4) on the active rows:  h_t[a] = f(z_t)
    h[:, a] = activate(activation, z)
    cache = dict(cell=CELL, kind="step", x_t=x_t, h_prev=h_prev, a=a, z=z, h=h, blocks=blocks)
    cache.update(params=params, periods=periods, activation=activation, t=t)
    return h, cache


def step_backward(dh_t, cache, *, check: bool = True):
    """Backward of :func:`step_forward`.

    Args:
        dh_t: dL/dh_t (B, H), everything that reaches h_t.  cache: from :func:`step_forward`.
        check: check the arguments first (True or False).

    Returns:
        (dx_t (B, D), dh_prev (B, H), grads keyed like params; grads["U"] is zero outside
        the mask).

    Raises:
        ValueError: when ``cache`` is not a clockwork step cache or ``dh_t`` does not
            match h_t's shape and dtype.
    """
    if check_flag("check", check):
        check_cache(cache, CELL, "step")
        h = cache["h"]
        check_array(dh_t, "dh_t", shape=h.shape, dims="(B, H)", dtype=dtype_name(h))
    p, a, blocks = cache["params"], cache["a"], cache["blocks"]
    x_t, h_prev, z = cache["x_t"], cache["h_prev"], cache["z"]
    k = p["U"].shape[0] // len(cache["periods"])
    # the inactive units copy h_{t-1}: their gradient passes straight to h_{t-1}   (B, H)
    dh_prev = np.where(a, 0.0, dh_t).astype(dh_t.dtype)
    # (6.4)  h_t[a] = f(z_t):  dz_t = dh_t[a] * f'(z_t)   (B, |a|)
    dz = activate_backward(cache["activation"], dh_t[:, a], z, cache["h"][:, a])
    # (6.3) module by module: only the active rows, and in them only the columns c0.. that
    # exist, get gradient; dU is zero outside the mask
    dW, dU, db = np.zeros_like(p["W"]), np.zeros_like(p["U"]), np.zeros_like(p["b"])
    dx_t = np.zeros_like(x_t)
    for i, (g, c0) in enumerate(blocks):
        rows, dz_g = slice(g * k, (g + 1) * k), dz[:, i * k : (i + 1) * k]  # (B, k)
        dW[rows] = dz_g.T @ x_t  # (k, D)
        dU[rows, c0:] = dz_g.T @ h_prev[:, c0:]  # (k, H - c0)
        db[rows] = dz_g.sum(axis=0)
        # dx_t += dz_t^g W_g (B, D),  dh_{t-1}[c0:] += dz_t^g U[g, c0:] (B, H - c0)
        dx_t += dz_g @ p["W"][rows]
        dh_prev[:, c0:] += dz_g @ p["U"][rows, c0:]
    return dx_t, dh_prev, {"W": dW, "U": dU, "b": db}


# ---- a sequence ----------------------------------------------------------------------


def forward(x, h0, params, *, periods, start: int = 1, activation: str = "tanh"):
    """Run the clockwork RNN over x_1..x_T at times t = start, ..., start + T - 1.

    Args:
        x: inputs (T, B, D).  h0: initial state (B, H), or None for zeros.
        params: "W" (H, D), "U" (H, H), "b" (H,) (entries of U outside the mask are ignored).
        periods: T_1..T_G, non-decreasing, G dividing H (the mask follows from them).
        start: the time of the first step (1 by default; 0 makes every module tick first).
        activation: f, one of ``rnnbook.cells.ACTIVATIONS``.

    Returns:
        (outputs (T, B, H): h_1..h_T, cache); ``cache["final"]`` is h_T.

    Raises:
        ValueError: for a wrong shape, dtype, key, option, period or start.
    """
    periods = check_periods(periods)
    t0 = check_int("start", start, minimum=0)
    check_option("activation", activation, cells.ACTIVATIONS)
    check_array(x, "x", shape=(None, None, None), dims="(T, B, D)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must have T >= 1 and B >= 1, got shape {tuple(x.shape)}")
    dtype = dtype_name(x)
    k = _check_params(params, periods, x.shape[2], dtype)
    H = k * len(periods)
    if h0 is None:
        h0 = np.zeros((x.shape[1], H), dtype=x.dtype)
    check_array(h0, "h0", shape=(x.shape[1], H), dims="(B, H)", dtype=dtype)
    h, steps = h0, []
    for s, x_t in enumerate(x):
        h, step = step_forward(
            x_t, h, params, t0 + s, periods=periods, activation=activation, check=False
        )
        steps.append(step)
    outputs = np.stack([step["h"] for step in steps])  # (T, B, H)
    cache = dict(cell=CELL, kind="sequence", steps=steps, outputs=outputs, state0=h0, final=h)
    cache.update(params=params, periods=periods, start=t0, activation=activation)
    return outputs, cache


def backward(d_outputs, cache, d_final=None):
    """Backpropagation through time for :func:`forward`.

    Args:
        d_outputs: dL/dh_t for t = 1..T, (T, B, H).  cache: from :func:`forward`.
        d_final: gradient arriving at h_T from outside (B, H), or None.

    Returns:
        (dx (T, B, D), dh0 (B, H), grads keyed like params; grads["U"] zero outside the mask).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shape and dtype.
    """
    check_cache(cache, CELL, "sequence")
    out = cache["outputs"]
    check_array(d_outputs, "d_outputs", shape=out.shape, dims="(T, B, H)", dtype=dtype_name(out))
    if d_final is None:
        dh = np.zeros_like(cache["final"])
    else:
        check_array(d_final, "d_final", shape=out.shape[1:], dims="(B, H)", dtype=dtype_name(out))
        dh = d_final
    dx, grads = [], None
    for s in reversed(range(len(d_outputs))):
        # dL/dh_t: this step's own loss plus what flows back from step t + 1
        dx_t, dh, g = step_backward(dh + d_outputs[s], cache["steps"][s], check=False)
        dx.append(dx_t)
        # the parameters are shared by every step: their gradients add up over t
        grads = g if grads is None else {key: grads[key] + g[key] for key in grads}
    return np.stack(dx[::-1]), dh, grads
