"""Backpropagation through time, full and truncated, for a cell with an output layer.

The model: a recurrent cell (``"srn"``, ``"lstm"`` or ``"gru"``, any of their
options) produces h_1..h_T; an output layer gives, textbook (6.6)/(6.10),

    o_t = V h_t + c        (B, O)
    L_t = (1/B) sum_b loss(o_t[b], y_t[b])

with ``loss="cross_entropy"`` (softmax and cross-entropy, y_t an integer class
(B,)) or ``loss="squared"`` (1/2 ||o_t - y_t||^2, y_t a float (B, O)). The total
loss (6.11) is ``L = sum_t L_t`` over every step (``on="every"``) or only
L_T (``on="last"``, a sequence-to-class model).

- :func:`full` returns dL/d(params) by BPTT (6.12)-(6.23).
- :func:`truncated` is BPTT(k2; k1) in the sense of Williams & Peng (1990):
  every k1 steps (at t = k1, 2 k1, ..., and at T), the losses of the last k1
  steps are backpropagated through the last k2 steps only (k2 >= k1); the
  state before those k2 steps is held constant. The parameters stay fixed over
  the whole sequence, and the gradients of all the updates are summed, so the
  result is what BPTT(k2; k1) would apply with a learning rate of 0.
  With k2 >= T every update reaches back to the start, and the sum equals
  :func:`full` (to rounding) for any k1; with k1 = T and k2 >= T it is a
  single update over the whole sequence, the same computation as :func:`full`.
- :func:`cut_gradient` backpropagates with the flow cut at given steps and scaled by a
  weight across the others (cuts every k steps, weight 1: BPTT(k; k));
  :func:`randomized` draws the cuts at random and reweights them so that the expected
  gradient is :func:`full`'s (Tallec & Ollivier 2017).

Parameters: one dict with the cell's keys plus "V" (O, H) and "c" (O,).
Both functions return ``(L, grads)`` with grads keyed like params.
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_array,
    check_cell_inputs,
    check_flag,
    check_int,
    check_option,
    describe,
)
from rnnbook.scratch import cell_module
from rnnbook.scratch._functions import softmax

LOSSES = ("cross_entropy", "squared")
ONS = ("every", "last")


def head_loss(h, y, V, c, loss):
    """One step of the output layer and its loss, forward and backward.

    Args:
        h: hidden state h_t (B, H).
        y: target, int classes (B,) for "cross_entropy", floats (B, O) for "squared".
        V: (O, H).  c: (O,).  loss: "cross_entropy" or "squared".

    Returns:
        (L_t, dh (B, H), dV (O, H), dc (O,)): the loss averaged over the batch and its gradients.

    The arrays' shapes and dtypes are not checked here: callers (:func:`full`,
    :func:`truncated`, ``rtrl.RTRL.step``) have checked them.

    Raises:
        ValueError: for a ``loss`` other than "cross_entropy" or "squared", or a class
            index outside [0, O).
    """
    check_option("loss", loss, LOSSES)
    B = h.shape[0]
    if loss == "cross_entropy" and y.size and (y.min() < 0 or y.max() >= V.shape[0]):
        raise ValueError(
            f"y must be class indices in [0, O) = [0, {V.shape[0]}), "
            f"got values in [{y.min()}, {y.max()}]"
        )
    # (6.6), with a bias c:  o_t = V h_t + c   (B, O)
    o = h @ V.T + c
    if loss == "cross_entropy":
        p = softmax(o)
        rows = np.arange(B)
        # (6.10)  L_t = -(1/B) sum_b log softmax(o_t)[y_t]
        L = -np.log(p[rows, y]).sum() / B
        # dL_t/do_t = (softmax(o_t) - onehot(y_t)) / B   (B, O), written over p
        do = p
        do[rows, y] -= 1
        do /= B
    else:
        # o_t - y_t   (B, O)
        r = o - y
        # (6.10)  L_t = (1/B) sum_b 1/2 ||o_t - y_t||^2
        L = 0.5 * np.sum(r * r) / B
        # dL_t/do_t = (o_t - y_t) / B   (B, O)
        do = r / B
    return float(L), do @ V, do.T @ h, do.sum(axis=0)


def check_problem(cell, x, targets, params, loss, on, options):
    """Check everything :func:`full` and :func:`truncated` take, before any arithmetic.

    The arguments are those of :func:`full`, the cell's options as one dict ``options``.

    Returns (cell module, cell params without V and c). The cell's own parameters,
    h0 and options are checked by the cell's ``forward``, also before any arithmetic.

    Raises:
        ValueError: for an unknown cell, option, loss or ``on``, the Jordan network, x not
            a float array (T, B, D), a missing or misshapen V or c, or targets of the
            wrong shape or dtype, or class indices outside [0, O).
    """
    cells.check_cell(cell)
    cells.options(cell, options)
    check_option("loss", loss, LOSSES)
    check_option("on", on, ONS)
    if cell == "srn" and options.get("feedback", "hidden") != "hidden":
        raise ValueError(
            "bptt takes an output layer V, c on top of the cell; for the Jordan network "
            f"(feedback='output') use srn.forward/backward directly, got {options['feedback']!r}"
        )
    if not isinstance(x, np.ndarray):
        raise ValueError(f"x must be a numpy.ndarray (T, B, D), got {describe(x)}")
    check_array(x, "x", shape=(None, None, None), dims="(T, B, D)")
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, got {describe(params)}")
    for key in ("V", "c"):
        if key not in params:
            raise ValueError(
                f"params must have the output layer's key {key!r}, got {sorted(params)}"
            )
    dtype = x.dtype.name
    # the cell's own parameters first, against each other and x: they give H
    cell_params = {k: v for k, v in params.items() if k not in ("V", "c")}
    opts = cells.options(cell, options)
    h = check_cell_inputs(cell, x, None, cell_params, opts, sequence=True)
    H = (h[0] if isinstance(h, tuple) else h).shape[1]
    check_array(params["c"], "params['c']", shape=(None,), dims="(O,)", dtype=dtype)
    O = params["c"].shape[0]
    check_array(params["V"], "params['V']", shape=(O, H), dims="(O, H)", dtype=dtype)
    T, B = x.shape[:2]
    shape = (T, B) if on == "every" else (B,)
    dims = "(T, B)" if on == "every" else "(B,)"
    where = f"T = {T} and B = {B} read from x (T, B, D) = {x.shape}"
    if loss == "cross_entropy":
        check_targets(targets, shape, dims, ("int32", "int64"), where)
        if targets.size and (targets.min() < 0 or targets.max() >= O):
            raise ValueError(
                f"targets must be class indices in [0, O) = [0, {O}), "
                f"got values in [{targets.min()}, {targets.max()}]"
            )
    else:
        dims = "(T, B, O)" if on == "every" else "(B, O)"
        check_targets(targets, shape + (O,), dims, (dtype,), where)
    return cell_module(cell), cell_params


def check_targets(targets, shape, dims, dtypes, where):
    """Check the targets' dtype and shape; a wrong shape names where T and B came from."""
    if len(dtypes) == 1:
        check_array(targets, "targets", dtype=dtypes[0])
    else:
        check_array(targets, "targets", dtypes=dtypes)
    if tuple(targets.shape) != tuple(shape):
        raise ValueError(
            f"targets must have shape {dims} = {tuple(shape)}, got shape {tuple(targets.shape)} "
            f"({where})"
        )


def _head(outputs, targets, V, c, loss, on):
    """The output layer on every step: returns (L, dL/d outputs (T, B, H), dV, dc)."""
    T = outputs.shape[0]
    d_outputs = np.zeros_like(outputs)
    dV, dc, L = np.zeros_like(V), np.zeros_like(c), 0.0
    steps = range(T) if on == "every" else [T - 1]
    for t in steps:
        y = targets[t] if on == "every" else targets
        L_t, d_outputs[t], dV_t, dc_t = head_loss(outputs[t], y, V, c, loss)
        L, dV, dc = L + L_t, dV + dV_t, dc + dc_t
    return L, d_outputs, dV, dc


def full(cell, x, targets, params, *, h0=None, loss="cross_entropy", on="every", **options):
    """Full BPTT: the loss over the whole sequence and its exact gradient.

    Args:
        cell: "srn", "lstm" or "gru".
        x: inputs (T, B, D), float64 or float32.
        targets: "cross_entropy": int (T, B) (``on="last"``: (B,));
            "squared": float (T, B, O) (``on="last"``: (B, O)).
        params: the cell's parameters plus "V" (O, H) and "c" (O,).
        h0: the initial state ((h0, c0) for the LSTM), or None for zeros.
        loss: "cross_entropy" or "squared".  on: "every" or "last".
        **options: the cell's options (activation=, variant=, reset=, update=).

    Returns:
        (L, grads): the loss (float) and dL/d params, keyed like params.
    """
    module, cell_params = check_problem(cell, x, targets, params, loss, on, options)
    outputs, cache = module.forward(x, h0, cell_params, **options)
    L, d_outputs, dV, dc = _head(outputs, targets, params["V"], params["c"], loss, on)
    _, _, grads = module.backward(d_outputs, cache)
    return L, {**grads, "V": dV, "c": dc}


def truncated(
    cell, x, targets, params, *, k1, k2, h0=None, loss="cross_entropy", on="every", **options
):
    """Truncated BPTT(k2; k1) (Williams & Peng 1990), the parameters held fixed.

    Every k1 steps (and at the last step), the losses of the steps since the
    previous update are backpropagated through the last k2 steps; the gradients
    of all updates are summed. See the module docstring.

    Args:
        k1: steps between updates (>= 1).
        k2: steps each update backpropagates through (>= k1).
        the rest: as in :func:`full`.

    Returns:
        (L, grads): the loss (float, the same as :func:`full`'s) and the summed
        truncated gradients, keyed like params.

    Raises:
        ValueError: when k1 or k2 is not an int >= 1, k2 < k1, or as :func:`full`.
    """
    check_int("k1", k1)
    check_int("k2", k2)
    if k2 < k1:
        raise ValueError(f"k2 must be >= k1 = {k1} (every loss is backpropagated), got k2 = {k2}")
    module, cell_params = check_problem(cell, x, targets, params, loss, on, options)
    T = x.shape[0]
    outputs, cache = module.forward(x, h0, cell_params, **options)
    # the output layer does not depend on the truncation: all of its gradient is exact
    L, d_outputs, dV, dc = _head(outputs, targets, params["V"], params["c"], loss, on)
    grads = {k: np.zeros_like(v) for k, v in cell_params.items()}
    for end in sorted(set(range(k1, T + 1, k1)) | {T}):
        first_loss = (end - 1) // k1 * k1  # the losses of steps first_loss .. end-1
        start = max(0, end - k2)  # backpropagate through steps start .. end-1
        state = cache["state0"] if start == 0 else cache["states"][start - 1]
        # the segment's forward again, from its (constant) initial state
        _, seg = module.forward(x[start:end], state, cell_params, **options)
        d_seg = np.zeros_like(d_outputs[start:end])
        d_seg[first_loss - start :] = d_outputs[first_loss:end]
        _, _, g = module.backward(d_seg, seg)
        grads = {k: grads[k] + g[k] for k in grads}
    return L, {**grads, "V": dV, "c": dc}


def _scale(d, w):
    """w times a state's gradient: one array, or the LSTM's pair (dh, dc)."""
    return tuple(w * a for a in d) if isinstance(d, tuple) else w * d


def cut_gradient(
    cell,
    x,
    targets,
    params,
    *,
    cuts,
    weight=1.0,
    h0=None,
    loss="cross_entropy",
    on="every",
    **options,
):
    """BPTT with the backward flow cut at given steps and scaled across the others.

    The gradient of every loss flows back from h_t to h_{t-1} unless ``cuts[t]`` is
    True (the state entering step t, counted from 0, is then held constant, as at the
    edge of a truncation window); where it does flow, it is multiplied by ``weight``.
    Cuts every k steps with ``weight=1`` give BPTT(k; k); no cut and ``weight=1`` give
    :func:`full`. The loop is one step at a time, with the cell's own ``forward`` and
    ``backward`` on each step, so it works for every cell.

    Args:
        cuts: bool (T,); ``cuts[0]`` is about h0 and changes nothing.
        weight: the factor on the gradient that crosses an uncut link (a float > 0).
        the rest: as in :func:`full`.

    Returns:
        (L, grads) as :func:`full`.
    """
    module, cell_params = check_problem(cell, x, targets, params, loss, on, options)
    T = x.shape[0]
    cuts = np.asarray(cuts)
    if cuts.shape != (T,) or cuts.dtype != bool:
        raise ValueError(f"cuts must be a bool array (T,) = ({T},), got {describe(cuts)}")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
        raise ValueError(f"weight must be a number > 0, got {weight!r}")
    outputs, cache = module.forward(x, h0, cell_params, **options)
    L, d_outputs, dV, dc = _head(outputs, targets, params["V"], params["c"], loss, on)
    grads = {k: np.zeros_like(v) for k, v in cell_params.items()}
    carried = None  # the gradient arriving at h_t from step t + 1
    for t in reversed(range(T)):
        state = cache["state0"] if t == 0 else cache["states"][t - 1]
        _, step = module.forward(x[t : t + 1], state, cell_params, **options)
        _, d_prev, g = module.backward(d_outputs[t : t + 1], step, d_final=carried)
        grads = {k: grads[k] + g[k] for k in grads}
        # across a cut nothing flows back; across any other link, weight times the gradient
        carried = None if cuts[t] else _scale(d_prev, weight)
    return L, {**grads, "V": dV, "c": dc}


def randomized(
    cell,
    x,
    targets,
    params,
    *,
    p_cut,
    rng,
    reweight=True,
    h0=None,
    loss="cross_entropy",
    on="every",
    **options,
):
    """Truncation at random steps, reweighted to be unbiased (Tallec & Ollivier 2017).

    Each link h_{t-1} -> h_t (t = 2..T) is cut independently with probability ``p_cut``.
    With ``reweight=True`` the gradient that crosses an uncut link is multiplied by
    1 / (1 - p_cut), the compensation factor of their ARTBP in its simplest form (a constant
    truncation probability): a path back over n links survives with probability
    (1 - p_cut)^n and then carries the weight (1 - p_cut)^(-n), so the expectation of the
    returned gradient over the cuts is :func:`full`'s. With ``reweight=False`` the same
    cuts give a truncation of random length, biased as the fixed one is. The windows'
    mean length is about 1 / p_cut.

    Args:
        p_cut: the probability of a cut, 0 <= p_cut < 1 (0: full BPTT).
        rng: a ``numpy.random.Generator``; T - 1 uniform numbers are drawn from it.
        reweight: apply the compensation factor 1 / (1 - p_cut) (True or False).
        the rest: as in :func:`full`.

    Returns:
        (L, grads) as :func:`full`.
    """
    if isinstance(p_cut, bool) or not isinstance(p_cut, (int, float)) or not 0 <= p_cut < 1:
        raise ValueError(f"p_cut must be a probability in [0, 1), got {p_cut!r}")
    check_flag("reweight", reweight)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {describe(rng)}")
    T = x.shape[0] if isinstance(x, np.ndarray) and x.ndim == 3 else 0
    cuts = np.concatenate([[False], rng.random(max(T - 1, 0)) < p_cut])[:T]
    weight = 1.0 / (1.0 - p_cut) if reweight else 1.0
    return cut_gradient(
        cell, x, targets, params, cuts=cuts, weight=weight, h0=h0, loss=loss, on=on, **options
    )
