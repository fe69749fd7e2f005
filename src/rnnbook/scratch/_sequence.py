"""The loops shared by every cell: one step, and a whole sequence, forward and backward.

Each cell (``srn``, ``lstm``, ``gru``) splits its step into two parts:

1. the input projection ``a_t[k] = x_t W_k^T + b_k`` for each of its n gates,
   an array (n, B, H); it does not depend on the state, so a sequence computes
   it for all T steps at once;
2. the recurrent core ``state_t = core(a_t, state_{t-1})``, which must run
   step after step.

The gates' matrices are stacked gate-major: W (n, H, D), b (n, 1, H), and the
recurrent matrices U (m, H, S) (S the size of the state fed back). An array
(n, B, H) keeps each gate's (B, H) block contiguous in memory, which makes the
elementwise gate arithmetic about twice as fast as on column slices of (B, nH).

The backward pass mirrors this. The core's backward turns the gradient of the
state into ``da_t`` (n, B, H) and ``dq_t`` (m, B, H), the gradient of the
recurrent products ``q_t[k] = s_{t-1} U_k^T``, where s_{t-1} is the previous
step's output (for most cells ``dq_t`` is the first m gates of ``da_t``).
Once all steps are done, ``dW_k = sum_t da_t[k]^T x_t`` and
``dU_k = sum_t dq_t[k]^T s_{t-1}`` are one matrix product per gate over all steps.

A cell is described by a :class:`Cell` record of four functions, so the loops
below are written once for all cells.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnbook._checks import check_array, describe, dtype_name


@dataclass(frozen=True)
class Cell:
    """What the shared loops need to know about one kind of cell.

    Attributes:
        name: the cell's name, kept in caches to catch mixed-up calls.
        prepare: ``prepare(params, opts) -> P``, the stacked weights (see :func:`stack`)
            and whatever else the core needs.
        core_forward: ``(a_t, state_prev, P, opts) -> (state_t, core_cache)``, with
            a_t (n, B, H).
        core_backward: ``(d_state_t, core_cache, P, opts, da_t) -> (dq_t, d_state_prev,
            rec_grads)``: fills the buffer ``da_t`` (n, B, H) with dL/da_t, returns
            dL/dq_t (m, B, H) and ``rec_grads``, a dict of this step's gradients
            of any other weights used by the core.
        unstack: ``(dW, db, dU, rec_grads, opts) -> grads``, a dict keyed like params,
            from dW (n, H, D), db (n, H), dU (m, H, S).
        dq_is_da: True when dq_t is always ``da_t[:m]`` (the recurrent products
            enter the first m gates' pre-activations directly).
    """

    name: str
    prepare: Callable
    core_forward: Callable
    core_backward: Callable
    unstack: Callable
    dq_is_da: bool = True


def check_x(x, sequence: bool) -> str:
    """Check the input x (T, B, D) of a sequence or x_t (B, D) of a step; return its dtype name."""
    name, dims = ("x", "(T, B, D)") if sequence else ("x_t", "(B, D)")
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray {dims}, got {describe(x)}")
    check_array(x, name, shape=(None,) * (3 if sequence else 2), dims=dims)
    if 0 in x.shape:
        raise ValueError(f"{name} must have every size in {dims} >= 1, got shape {x.shape}")
    return x.dtype.name


def check_state(state, name: str, shape: tuple, dims: str, dtype: str):
    """Check one state array; ``None`` means zeros of ``shape``. Returns the state."""
    if state is None:
        return np.zeros(shape, dtype=dtype)
    if not isinstance(state, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray {dims}, got {describe(state)}")
    check_array(state, name, shape=shape, dims=dims, dtype=dtype)
    return state


# A state is an array (B, H), or for the LSTM the pair (h, c); the output of a
# step is the state's first array.


def _output(state):
    return state[0] if isinstance(state, tuple) else state


def _add_output_grad(d_state, g):
    if isinstance(d_state, tuple):
        return (d_state[0] + g,) + d_state[1:]
    return d_state + g


def _zeros_like(state):
    if isinstance(state, tuple):
        return tuple(np.zeros_like(s) for s in state)
    return np.zeros_like(state)


def _check_state_grad(d, like, name: str) -> None:
    """Check a state gradient against the state it belongs to (same structure and shape)."""
    if isinstance(like, tuple):
        if not isinstance(d, tuple) or len(d) != len(like):
            raise ValueError(f"{name} must be a pair (dh, dc) of arrays, got {describe(d)}")
        for i, (di, li) in enumerate(zip(d, like, strict=True)):
            check_array(di, f"{name}[{i}]", shape=li.shape, dtype=dtype_name(li))
    else:
        check_array(d, name, shape=like.shape, dtype=dtype_name(like))


def _check_cache(cache, cell: Cell, kind: str) -> None:
    if not (
        isinstance(cache, dict) and cache.get("cell") == cell.name and cache.get("kind") == kind
    ):
        maker = f"{cell.name}.step_forward" if kind == "step" else f"{cell.name}.forward"
        raise ValueError(f"cache must be the cache returned by {maker}, got {describe(cache)}")


def stack(W: list, b: list, U: list) -> dict:
    """The stacked weights of a cell, gate-major.

    Args:
        W: the gates' input matrices, each (H, D).  b: their biases, each (H,).
        U: the recurrent matrices, each (H, S).

    Returns:
        dict with "W" (n, H, D), "WT" (n, D, H), "b" (n, 1, H), "U" (m, H, S),
        "UT" (m, S, H); the transposes are stored contiguous for fast products.
    """
    P = {"W": np.stack(W), "b": np.stack(b)[:, None, :], "U": np.stack(U)}
    P["WT"] = np.ascontiguousarray(P["W"].transpose(0, 2, 1))
    P["UT"] = np.ascontiguousarray(P["U"].transpose(0, 2, 1))
    return P


def recurrent_product(s_prev, P):
    """q[k] = s_{t-1} U_k^T for every stacked U_k: (B, S) -> (m, B, H)."""
    return np.matmul(s_prev, P["UT"])


def recurrent_product_backward(dq, P):
    """ds_{t-1} = sum_k dq[k] U_k for q[k] = s_{t-1} U_k^T: (m, B, H) -> (B, S)."""
    return np.matmul(dq, P["U"]).sum(axis=0)


def _input_grads(da, x2, P):
    """Gradients of a[k] = x W_k^T + b_k, from da (n, N, H) and x2 (N, D).

    Returns (dx (N, D), dW (n, H, D), db (n, H)).
    """
    # dx = sum_k da_k W_k ;  dW_k = da_k^T x ;  db_k = sum over N of da_k
    dx = np.matmul(da, P["W"]).sum(axis=0)
    dW = np.matmul(da.transpose(0, 2, 1), x2)
    return dx, dW, da.sum(axis=1)


def step_forward(cell: Cell, x_t, state_prev, params, opts):
    """One step: ``a_t[k] = x_t W_k^T + b_k`` (n, B, H), then the cell's core.

    The inputs have been checked by the cell.
    """
    P = cell.prepare(params, opts)
    # (n, B, H)
    a_t = np.matmul(x_t, P["WT"]) + P["b"]
    state, core = cell.core_forward(a_t, state_prev, P, opts)
    cache = {"cell": cell.name, "kind": "step", "x_t": x_t, "P": P, "core": core, "opts": opts}
    cache.update(state=state, state_prev=state_prev)
    return state, cache


def step_backward(cell: Cell, d_state, cache):
    """Backward of :func:`step_forward`: returns ``(dx_t, d_state_prev, grads)``.

    ``d_state`` has the structure and shapes of the state returned by the forward
    step; a ``cache`` of another cell or a mismatched ``d_state`` raises ValueError.
    """
    _check_cache(cache, cell, "step")
    _check_state_grad(d_state, cache["state"], "d_state")
    x_t, P, opts = cache["x_t"], cache["P"], cache["opts"]
    da = np.empty((P["W"].shape[0],) + x_t.shape[:1] + P["b"].shape[2:], dtype=x_t.dtype)
    dq, d_prev, rec = cell.core_backward(d_state, cache["core"], P, opts, da)
    # a_t[k] = x_t W_k^T + b_k
    dx, dW, db = _input_grads(da, x_t, P)
    # q_t[k] = s_{t-1} U_k^T  =>  dU_k = dq_t[k]^T s_{t-1}   (m, H, S)
    dU = np.matmul(dq.transpose(0, 2, 1), _output(cache["state_prev"]))
    return dx, d_prev, cell.unstack(dW, db, dU, rec, opts)


def forward(cell: Cell, x, state0, params, opts):
    """A whole sequence x (T, B, D) from ``state0``; the inputs have been checked by the cell.

    Returns ``(outputs, cache)`` with outputs (T, B, H) the output of every step;
    ``cache["final"]`` is the final state, ``cache["states"]`` the list of all T states.
    """
    P = cell.prepare(params, opts)
    T, B, D = x.shape
    n, H = P["W"].shape[:2]
    # the input projection of all steps, one product per gate: a[k] = x W_k^T + b_k   (n, T, B, H)
    a = np.matmul(x.reshape(T * B, D), P["WT"])
    a += P["b"]
    a = a.reshape(n, T, B, H)
    state = state0
    cores, outputs, states = [], [], []
    for t in range(T):
        state, core = cell.core_forward(a[:, t], state, P, opts)
        cores.append(core)
        states.append(state)
        outputs.append(_output(state))
    # (T, B, H)
    outputs = np.stack(outputs)
    cache = {"cell": cell.name, "kind": "sequence", "x": x, "P": P, "cores": cores, "opts": opts}
    cache.update(final=state, state0=state0, outputs=outputs, states=states)
    return outputs, cache


def backward(cell: Cell, d_outputs, cache, d_final=None):
    """Backward of :func:`forward`: returns ``(dx, d_state0, grads)``.

    ``d_outputs`` (T, B, H) (Jordan network: (T, B, O)) is dL/d output_t for every
    step; ``d_final`` (the shape of the final state, or ``None`` for zero) is the
    gradient arriving at the final state from outside the sequence (e.g. from a
    later segment).
    """
    _check_cache(cache, cell, "sequence")
    outputs = cache["outputs"]
    # the outputs are h_t (B, H), or for the Jordan network yhat_t (B, O)
    dims = "(T, B, O)" if cache["opts"].get("feedback") == "output" else "(T, B, H)"
    check_array(d_outputs, "d_outputs", shape=outputs.shape, dims=dims, dtype=dtype_name(outputs))
    if d_final is None:
        d_state = _zeros_like(cache["final"])
    else:
        _check_state_grad(d_final, cache["final"], "d_final")
        d_state = d_final
    x, P, opts = cache["x"], cache["P"], cache["opts"]
    T, B, D = x.shape
    n, H = P["W"].shape[:2]
    m = P["U"].shape[0]
    da = np.empty((n, T, B, H), dtype=x.dtype)
    # dq (m, T, B, H): the first m gates of da when the cell says so
    dq = da[:m] if cell.dq_is_da else np.empty((m, T, B, H), dtype=x.dtype)
    rec_sum = {}
    for t in reversed(range(T)):
        d_state = _add_output_grad(d_state, d_outputs[t])
        dq_t, d_state, rec = cell.core_backward(d_state, cache["cores"][t], P, opts, da[:, t])
        if not cell.dq_is_da:
            dq[:, t] = dq_t
        for k, g in rec.items():
            if k in rec_sum:
                rec_sum[k] += g
            else:
                rec_sum[k] = g.copy()
    # a[k] = x W_k^T + b_k for all steps at once
    dx, dW, db = _input_grads(da.reshape(n, T * B, H), x.reshape(T * B, D), P)
    # q[k] = s_{t-1} U_k^T for all steps: dU_k = sum_t dq_t[k]^T s_{t-1}   (m, H, S)
    s_prev = np.concatenate([_output(cache["state0"])[None], outputs[:-1]])  # (T, B, S)
    dU = np.matmul(dq.reshape(m, T * B, H).transpose(0, 2, 1), s_prev.reshape(T * B, -1))
    return dx.reshape(T, B, D), d_state, cell.unstack(dW, db, dU, rec_sum, opts)
