"""The gated recurrent unit in SymPy: its conventions compared and its backward pass proved.

The cell is that of ``rnnbook.scratch.gru``, in columns (textbook (6.48)-(6.51), with the
book's names W_h, U_h, b_h for the candidate's parameters):

    z_t = sigma(W_z x_t + U_z h_{t-1} + b_z),   r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)
    reset="before":  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
    reset="after":   h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + d_h))
    update="keep":   h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
    update="replace": h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

``sigma`` and ``tanh`` are undefined SymPy functions, so a proof about the forward cell holds
for any gate function and any candidate activation. Where a derivative enters, SymPy's
``sigma'(a)`` and ``tanh'(a)`` are replaced by ``sigma(a) (1 - sigma(a))`` and
``1 - tanh(a)^2``, the two facts of the logistic function and of tanh that the backward pass
uses; the proof then holds for those two functions. Where ``1 - sigma(a) = sigma(-a)`` is
needed, the update gate is the logistic function itself, ``1 / (1 + exp(-a))``.

What is proved:

- :func:`update_reparametrisation`: update="replace" with W_z, U_z, b_z negated computes what
  update="keep" computes, for one step with symbolic h_{t-1} (hence, by induction over t, for
  every sequence); both reset placements.
- :func:`review_concatenation`: the review's eqs. (9)-(12) (000 lines 139-159), with the
  candidate's prime restored in (12), are the cell reset="before", update="replace" with each
  concatenated matrix split into [U_* | W_*].
- :func:`reset_placement`: with one hidden unit and d_h = 0 the two placements of the reset
  gate are the same cell; with two units, or with d_h != 0, they differ for the same
  parameters (a counterexample).
- :func:`gate_limits`: the textbook's limiting cases (003 lines 429 and 441), and the Q&A
  chapter's reversed reading of the reset gate (004 line 460).
- :func:`gradient`: textbook exercise 6-3, the gradient of a loss summed over the steps with
  respect to every parameter, h_0 and each input x_t, by the backward sweep below, against
  SymPy's own derivative of the unrolled cell (built by :func:`build_gru`, independently of
  the sweep).
- :func:`parameter_count`: the number of parameters of the SRN, the LSTM and the GRU as a
  formula in symbolic D and H, against ``rnnbook.cells.param_shapes``.

The backward sweep (columns; epsilon_t = dL/dh_t, the loss of step t plus all later losses):

    update="keep":    delta_z = eps_t * (h_{t-1} - h~_t) * z_t (1 - z_t)
                      delta_h = eps_t * (1 - z_t) * (1 - h~_t^2),     carry_t = eps_t * z_t
    update="replace": delta_z = eps_t * (h~_t - h_{t-1}) * z_t (1 - z_t)
                      delta_h = eps_t * z_t * (1 - h~_t^2),           carry_t = eps_t * (1 - z_t)
    reset="before":   delta_r = (U_h^T delta_h) * h_{t-1} * r_t (1 - r_t)
                      eps_{t-1} = dl_{t-1}/dh_{t-1} + carry_t + r_t * (U_h^T delta_h)
                                  + U_z^T delta_z + U_r^T delta_r
                      dL/dU_h = sum_t delta_h (r_t * h_{t-1})^T
    reset="after":    delta_r = delta_h * (U_h h_{t-1} + d_h) * r_t (1 - r_t)
                      eps_{t-1} = dl_{t-1}/dh_{t-1} + carry_t + U_h^T (r_t * delta_h)
                                  + U_z^T delta_z + U_r^T delta_r
                      dL/dU_h = sum_t (r_t * delta_h) h_{t-1}^T,  dL/dd_h = sum_t r_t * delta_h
    every gate g:     dL/dW_g = sum_t delta_g x_t^T,  dL/db_g = sum_t delta_g,
                      dL/dU_g = sum_t delta_g h_{t-1}^T (g = z, r)
    every input:      dL/dx_t = W_z^T delta_z + W_r^T delta_r + W_h^T delta_h

Disagreements with the sources (:func:`disagreements`): the review's eq. (12) as printed,
the textbook's (6.52) against its (6.48), and the Q&A chapter's reset gate at 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rnnbook import cells
from rnnbook.symbolic._proof import (
    Proof,
    apply,
    cached,
    check_choice,
    check_size,
    derivative_function,
    matrix,
    prove,
    vector,
)
from rnnbook.symbolic._proof import gradient as sympy_gradient
from rnnbook.symbolic.model import StepLosses

#: The gate function, undefined: sigma(a).
sigma = sp.Function(r"\sigma")
#: The candidate's activation, undefined: tanh(a).
tanh = sp.Function(r"\tanh")

RESETS = cells.OPTIONS["gru"]["reset"]
UPDATES = cells.OPTIONS["gru"]["update"]
#: The errors :func:`gradient` can plant in the sweep, to show that the check sees them.
PLANTED = ("no_U_h_T", "z_swapped")

__all__ = [
    "SymbolicGRU",
    "all_proofs",
    "build_gru",
    "disagreements",
    "gate_limits",
    "gradient",
    "logistic",
    "parameter_count",
    "reset_placement",
    "review_concatenation",
    "sequence_proofs",
    "sigma",
    "step",
    "sweep",
    "tanh",
    "update_reparametrisation",
]


def logistic(a):
    """The logistic function itself, 1 / (1 + exp(-a))."""
    return 1 / (1 + sp.exp(-a))


def _had(a: sp.MatrixBase, b: sp.MatrixBase) -> sp.ImmutableMatrix:
    """The elementwise (Hadamard) product a * b of two columns."""
    return sp.ImmutableMatrix(a.multiply_elementwise(b))


def _ones(n: int) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(sp.ones(n, 1))


def symbolic_params(H: int, D: int, reset: str = "before", *, bias: bool = True) -> dict:
    """The GRU's parameters as matrices of symbols, keyed as in ``rnnbook.cells.param_shapes``.

    Biases are columns (H, 1); without ``bias`` they are zero columns (Cho et al. 2014 and
    Chung et al. 2014 write the cell without biases).
    """
    check_size("H", H)
    check_size("D", D)
    check_choice("reset", reset, RESETS)
    if not isinstance(bias, bool):
        raise ValueError(f"bias: expected True or False, got {bias!r}")
    p = {}
    for g in cells.gates("gru"):
        p[f"W_{g}"] = matrix(f"W^{g}", H, D)
        p[f"U_{g}"] = matrix(f"U^{g}", H, H)
        p[f"b_{g}"] = vector(f"b^{g}", H) if bias else sp.ImmutableMatrix(sp.zeros(H, 1))
    if reset == "after":
        p["d_h"] = vector("d^h", H) if bias else sp.ImmutableMatrix(sp.zeros(H, 1))
    return p


def step(
    p: dict, x_t, h_prev, *, reset: str = "before", update: str = "keep", gate_z=None, gate_r=None
):
    """One GRU step in columns. Returns a dict of z, r, a_h, h_tilde, h (and u or r_h).

    Args:
        p: parameters keyed like :func:`symbolic_params`.  x_t: (D, 1).  h_prev: (H, 1).
        reset, update: the conventions of ``rnnbook.cells.OPTIONS["gru"]``.
        gate_z, gate_r: the update and reset gates' functions (default: the undefined
            ``sigma``); a constant function puts a gate at a fixed value (:func:`gate_limits`).
    """
    check_choice("reset", reset, RESETS)
    check_choice("update", update, UPDATES)
    gate_z = sigma if gate_z is None else gate_z
    gate_r = sigma if gate_r is None else gate_r
    if not isinstance(p, dict):
        raise ValueError(f"p: expected a dict of parameter matrices, got {type(p).__name__}")
    # the keys of the convention; with reset="before" a d_h is allowed and not used
    wanted = set(cells.param_shapes("gru", 1, 1, reset=reset))
    if not wanted <= set(p) or set(p) - wanted - {"d_h"}:
        raise ValueError(f"p: expected the keys {sorted(wanted)}, got {sorted(p)}")
    if not isinstance(h_prev, sp.MatrixBase) or not isinstance(x_t, sp.MatrixBase):
        raise ValueError(
            f"x_t, h_prev: expected SymPy columns, got {type(x_t).__name__}, "
            f"{type(h_prev).__name__}"
        )
    H = h_prev.shape[0]
    out = {}
    # (6.51)  z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)   (H, 1)
    out["z"] = apply(gate_z, p["W_z"] * x_t + p["U_z"] * h_prev + p["b_z"])
    # (6.49)  r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)   (H, 1)
    out["r"] = apply(gate_r, p["W_r"] * x_t + p["U_r"] * h_prev + p["b_r"])
    if reset == "before":
        # (6.48)  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
        out["r_h"] = _had(out["r"], h_prev)
        out["a_h"] = p["W_h"] * x_t + p["U_h"] * out["r_h"] + p["b_h"]
    else:
        # after:  h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + d_h))
        out["u"] = p["U_h"] * h_prev + p["d_h"]
        out["a_h"] = p["W_h"] * x_t + p["b_h"] + _had(out["r"], out["u"])
    out["h_tilde"] = apply(tanh, out["a_h"])
    z, keep = out["z"], _ones(H) - out["z"]
    if update == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
        out["h"] = _had(z, h_prev) + _had(keep, out["h_tilde"])
    else:
        # replace:  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
        out["h"] = _had(keep, h_prev) + _had(z, out["h_tilde"])
    return out


@dataclass(frozen=True)
class SymbolicGRU(StepLosses):
    """A GRU unrolled over ``T`` steps with symbolic parameters, inputs and h_0.

    Attributes:
        H, D, T, reset, update: sizes and conventions.
        p: the parameters (:func:`symbolic_params`).
        x: dict t -> x_t (D, 1), t = 1..T.  h: dict t -> h_t (H, 1), t = 0..T.
        steps: dict t -> the dict of :func:`step` at step t.
    """

    H: int
    D: int
    T: int
    reset: str
    update: str
    p: dict
    x: dict
    h: dict
    steps: dict


@cached
def build_gru(
    hidden_size: int = 2,
    input_size: int = 1,
    steps: int = 1,
    *,
    reset: str = "before",
    update: str = "keep",
) -> SymbolicGRU:
    """Unroll a symbolic GRU (h_0 a column of symbols)."""
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    T = check_size("steps", steps)
    check_choice("reset", reset, RESETS)
    check_choice("update", update, UPDATES)
    p = symbolic_params(H, D, reset)
    x = {t: vector(f"x_{t}", D) for t in range(1, T + 1)}
    h = {0: vector("h_0", H)}
    out = {}
    for t in range(1, T + 1):
        out[t] = step(p, x[t], h[t - 1], reset=reset, update=update)
        h[t] = out[t]["h"]
    return SymbolicGRU(H, D, T, reset, update, p, x, h, out)


def _known_derivatives(expr):
    """sigma'(a) -> sigma(a) (1 - sigma(a)) and tanh'(a) -> 1 - tanh(a)^2 in ``expr``."""
    d_sigma = derivative_function(sigma, 0, 1)
    d_tanh = derivative_function(tanh, 0, 1)
    expr = expr.replace(d_sigma, lambda a: sigma(a) * (1 - sigma(a)))
    return expr.replace(d_tanh, lambda a: 1 - tanh(a) ** 2)


# --- the backward sweep (textbook exercise 6-3) ------------------------------------------------


def sweep(model: SymbolicGRU, *, planted: str | None = None) -> dict:
    """Every gradient of ``model.total_loss()`` by the backward sweep of the module docstring.

    Args:
        model: from :func:`build_gru`.
        planted: None, or one of :data:`PLANTED`: "no_U_h_T" drops the factor U_h^T where the
            error passes through the candidate's recurrent matrix (into delta_r for
            reset="before", into eps_{t-1} for reset="after"); "z_swapped" swaps z_t and
            1 - z_t in delta_h and the carry.

    Returns:
        dict key -> gradient, keyed like ``model.p`` (each of its shape), "h_0" (H, 1) and
        "x_t" for t = 1..T (D, 1): dL/dx_t = W_z^T delta_z + W_r^T delta_r + W_h^T delta_h.
    """
    if not isinstance(model, SymbolicGRU):
        raise ValueError(f"model: expected a SymbolicGRU, got {type(model).__name__}")
    if planted is not None:
        check_choice("planted", planted, PLANTED)
    p, H = model.p, model.H
    U_h_T = sp.eye(H) if planted == "no_U_h_T" else p["U_h"].T
    grads = {k: sp.zeros(*v.shape) for k, v in p.items()}
    eps = model.dloss_dh(model.T)  # eps_T = dl_T/dh_T   (H, 1)
    for t in range(model.T, 0, -1):
        s, h_prev, x_t = model.steps[t], model.h[t - 1], model.x[t]
        z, r, h_tilde = s["z"], s["r"], s["h_tilde"]
        one = _ones(H)
        kept, taken = (z, one - z) if model.update == "keep" else (one - z, z)
        if planted == "z_swapped":
            kept, taken = taken, kept
        sign = 1 if model.update == "keep" else -1
        # delta_z = eps * (+-(h_{t-1} - h~_t)) * z (1 - z), with z (1 - z) = sigma'(a_z)
        delta_z = _had(_had(eps, sign * (h_prev - h_tilde)), _had(z, one - z))
        # delta_h = eps * (the candidate's weight) * (1 - h~^2)
        delta_h = _had(_had(eps, taken), one - _had(h_tilde, h_tilde))
        carry = _had(eps, kept)
        if model.reset == "before":
            back = U_h_T * delta_h  # dL/d(r * h_{t-1})   (H, 1)
            delta_r = _had(_had(back, h_prev), _had(r, one - r))
            through_h = _had(r, p["U_h"].T * delta_h)
            grads["U_h"] += delta_h * s["r_h"].T
        else:
            du = _had(r, delta_h)  # dL/du_t, u_t = U_h h_{t-1} + d_h   (H, 1)
            delta_r = _had(_had(delta_h, s["u"]), _had(r, one - r))
            through_h = U_h_T * du
            grads["U_h"] += du * h_prev.T
            grads["d_h"] += du
        deltas = {"z": delta_z, "r": delta_r, "h": delta_h}
        for g, d in deltas.items():
            grads[f"W_{g}"] += d * x_t.T
            grads[f"b_{g}"] += d
        # dL/dx_t = sum over the gates of W_g^T delta_g   (D, 1)
        grads[f"x_{t}"] = sum((p[f"W_{g}"].T * d for g, d in deltas.items()), sp.zeros(model.D, 1))
        grads["U_z"] += delta_z * h_prev.T
        grads["U_r"] += delta_r * h_prev.T
        eps = carry + through_h + p["U_z"].T * delta_z + p["U_r"].T * delta_r
        if t > 1:
            eps = eps + model.dloss_dh(t - 1)
    grads["h_0"] = eps
    return {k: sp.ImmutableMatrix(v) for k, v in grads.items()}


_GRAD_STATEMENT = {
    "W": r"\sum_{t} \delta^{%s}_t x_t^{\top}",
    "b": r"\sum_{t} \delta^{%s}_t",
    "U_zr": r"\sum_{t} \delta^{%s}_t h_{t-1}^{\top}",
}


def _statement(key: str, reset: str) -> str:
    lhs = rf"\frac{{\partial \mathcal{{L}}}}{{\partial {key}}} = "
    if key == "h_0":
        return lhs + r"\epsilon_0"
    if key.startswith("x_"):
        return lhs + r"W_z^{\top} \delta^{z}_t + W_r^{\top} \delta^{r}_t + W_h^{\top} \delta^{h}_t"
    if key == "d_h":
        return lhs + r"\sum_{t} r_t \odot \delta^{h}_t"
    if key == "U_h":
        if reset == "before":
            return lhs + r"\sum_{t} \delta^{h}_t (r_t \odot h_{t-1})^{\top}"
        return lhs + r"\sum_{t} (r_t \odot \delta^{h}_t)\, h_{t-1}^{\top}"
    symbol, gate = key.split("_")
    template = _GRAD_STATEMENT["U_zr" if symbol == "U" else symbol]
    return lhs + template % gate


@cached
def gradient(
    key: str,
    hidden_size: int = 2,
    input_size: int = 1,
    steps: int = 1,
    *,
    reset: str = "before",
    update: str = "keep",
    planted: str | None = None,
) -> Proof:
    """Exercise 6-3: SymPy's dL/d``key`` of the unrolled GRU equals the backward sweep's.

    Args:
        key: a parameter key ("W_z", "U_z", "b_z", ..., "d_h" with reset="after"), "h_0", or
            an input "x_t" (t = 1..T).
        hidden_size, input_size, steps: H, D, T of the unrolled cell (ints >= 1).
        reset, update: the conventions.
        planted: an error of :data:`PLANTED` planted in the sweep (for tests), or None.

    The loss is L = sum_t l_t(h_t) with undefined l_t; SymPy differentiates it through the
    unrolled cell, then replaces sigma' and tanh' by their expressions in sigma and tanh.
    """
    model = build_gru(hidden_size, input_size, steps, reset=reset, update=update)
    inputs = {f"x_{t}": x for t, x in model.x.items()}
    keys = tuple(model.p) + ("h_0",) + tuple(inputs)
    check_choice("key", key, keys)
    target = model.h[0] if key == "h_0" else inputs[key] if key in inputs else model.p[key]
    lhs = sp.ImmutableMatrix(
        sympy_gradient(model.total_loss(), target).applyfunc(_known_derivatives)
    )
    rhs = sweep(model, planted=planted)[key]
    tags = [reset, update] + ([f"T={model.T}"] if model.T != 1 else []) + [planted]
    variant = "[" + ",".join(t for t in tags if t) + "]"
    return prove(
        f"gru.gradient_{key}{variant}",
        _statement(key, reset),
        lhs,
        rhs,
        source="003 exercise 6-3, line 558",
        note=(
            f"H={model.H}, D={model.D}, T={model.T}, h_0 symbolic, L = sum_t l_t(h_t) with "
            "l_t undefined; sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2."
        ),
    )


# --- conventions -------------------------------------------------------------------------------


def _negate_update_gate(p: dict) -> dict:
    q = dict(p)
    for s in ("W", "U", "b"):
        q[f"{s}_z"] = -p[f"{s}_z"]
    return q


@cached
def update_reparametrisation(
    reset: str = "before", hidden_size: int = 2, input_size: int = 2
) -> Proof:
    """update="replace" with -W_z, -U_z, -b_z equals update="keep", for one step.

    The update gate is the logistic function (1 - sigma(a) = sigma(-a) is what is used);
    r_t's gate and the candidate's activation stay undefined. h_{t-1} is symbolic, so the
    two step maps are the same function, and by induction over t the two cells compute the
    same states from the same h_0 for every input sequence.
    """
    check_choice("reset", reset, RESETS)
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    p = symbolic_params(H, D, reset)
    x, h_prev = vector("x", D), vector("h", H)
    keep = step(p, x, h_prev, reset=reset, update="keep", gate_z=logistic)["h"]
    replace = step(
        _negate_update_gate(p), x, h_prev, reset=reset, update="replace", gate_z=logistic
    )["h"]
    return prove(
        f"gru.update_reparametrisation[{reset}]",
        r"h_t^{\mathrm{keep}}(W_z, U_z, b_z) = h_t^{\mathrm{replace}}(-W_z, -U_z, -b_z)",
        keep,
        replace,
        rational=True,
        source="000 eq. (12), line 159; 003 (6.50), line 433",
        note=f"H={H}, D={D}, one step with h_(t-1) symbolic; sigma(a) = 1/(1 + exp(-a)).",
    )


@cached
def review_concatenation(hidden_size: int = 2, input_size: int = 2) -> Proof:
    """The review's (9)-(12), concatenated [h_{t-1}, x_t], = reset="before", update="replace".

    The review's matrices act on the column [h_{t-1}; x_t] (and [r_t * h_{t-1}; x_t] in
    (11)); split into the first H columns (U_*) and the last D (W_*), they are the book's.
    The review's (12) is read with its candidate h'_t (the prime lost in the source).
    """
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    x, h_prev = vector("x", D), vector("h", H)
    M = {g: matrix(f"M^{g}", H, H + D) for g in cells.gates("gru")}
    b = {g: vector(f"b^{g}", H) for g in cells.gates("gru")}
    # (9)  z_t = sigma(W_z [h_{t-1}, x_t] + b_z);  (10) r_t likewise
    z = apply(sigma, M["z"] * sp.Matrix.vstack(h_prev, x) + b["z"])
    r = apply(sigma, M["r"] * sp.Matrix.vstack(h_prev, x) + b["r"])
    # (11)  h'_t = tanh(W_h [r_t * h_{t-1}, x_t] + b'_h)
    cand = apply(tanh, M["h"] * sp.Matrix.vstack(_had(r, h_prev), x) + b["h"])
    # (12), prime restored:  h_t = (1 - z_t) * h_{t-1} + z_t * h'_t
    review = _had(_ones(H) - z, h_prev) + _had(z, cand)
    p = {}
    for g in cells.gates("gru"):
        p[f"U_{g}"] = M[g][:, :H]
        p[f"W_{g}"] = M[g][:, H:]
        p[f"b_{g}"] = b[g]
    book = step(p, x, h_prev, reset="before", update="replace")["h"]
    return prove(
        "gru.review_concatenation",
        r"W^{\mathrm{rev}}_{\ast} [h_{t-1}; x_t] = U_{\ast} h_{t-1} + W_{\ast} x_t"
        r"\ \Rightarrow\ \text{(9)--(12)} = \text{reset before, update replace}",
        review,
        book,
        source="000 eqs. (9)-(12), lines 139-159",
        note=f"H={H}, D={D}, one step; sigma and tanh undefined.",
    )


@cached
def reset_placement(hidden_size: int = 1, input_size: int = 1, *, with_d_h: bool = False):
    """reset="before" against reset="after" with the same parameters, for one step.

    With ``with_d_h`` False, d_h = 0. Holds at one hidden unit without d_h (r (u h) =
    u (r h) for scalars); at two units, or with d_h, a counterexample shows the two differ.
    """
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    if not isinstance(with_d_h, bool):
        raise ValueError(f"with_d_h: expected True or False, got {with_d_h!r}")
    p = symbolic_params(H, D, "after")
    if not with_d_h:
        p["d_h"] = sp.ImmutableMatrix(sp.zeros(H, 1))
    x, h_prev = vector("x", D), vector("h", H)
    before = step(p, x, h_prev, reset="before")["h"]
    after = step(p, x, h_prev, reset="after")["h"]
    d_text = "d_h" if with_d_h else "d_h = 0"
    return prove(
        f"gru.reset_placement[H={H},{'d_h' if with_d_h else 'no d_h'}]",
        r"U_h (r_t \odot h_{t-1}) + b_h = r_t \odot (U_h h_{t-1} + d_h) + b_h"
        + (r"\ \ (d_h = 0)" if not with_d_h else ""),
        before,
        after,
        source="003 (6.48), line 423; PyTorch's nn.GRU",
        note=f"H={H}, D={D}, {d_text}, one step, the same parameters on both sides.",
    )


def gate_limits() -> dict:
    """The gates' limiting cases as Proofs, keyed by name (H = 2, D = 1, one step).

    Each case runs :func:`step` itself with the gate functions replaced by constants 0 or 1
    (limits: the logistic function only approaches them), so what is proved is a property of
    the book's step. "r0": r = 0 gives h~ = tanh(W_h x + b_h) for both placements; "r1": r = 1
    (reset="before") gives the SRN's candidate tanh(W_h x + U_h h + b_h); "z0r1": z = 0, r = 1
    gives the SRN's step; "z0r0": z = 0, r = 0 gives h_t = tanh(W_h x_t + b_h), a function of
    the input alone (reset="before"; with reset="after" the same, since r multiplies d_h too);
    "z1": z = 1 (update="keep") gives h_t = h_{t-1} for any r and both placements. "qa_r1" is
    the Q&A chapter's reading (004 line 460), r = 1 ignoring the previous state: it does not
    hold.
    """
    H, D = 2, 1
    p = symbolic_params(H, D, "after")
    x, h = vector("x", D), vector("h", H)
    srn = apply(tanh, p["W_h"] * x + p["U_h"] * h + p["b_h"])
    no_state = apply(tanh, p["W_h"] * x + p["b_h"])

    def fixed(z_value, r_value, reset):
        # the book's step with both gates put at constants
        return step(
            p,
            x,
            h,
            reset=reset,
            update="keep",
            gate_z=lambda a: sp.Integer(z_value),
            gate_r=lambda a: sp.Integer(r_value),
        )

    def both(key, z_value, r_value):
        return sp.Matrix.vstack(*(fixed(z_value, r_value, reset)[key] for reset in RESETS))

    src = "003 lines 429 and 441"
    out = {
        "r0": prove(
            "gru.limit_r0",
            r"r_t = 0:\ \tilde{h}_t = \tanh(W_h x_t + b_h)\ \text{(before and after)}",
            both("h_tilde", 0, 0),
            sp.Matrix.vstack(no_state, no_state),
            source=src,
        ),
        "r1": prove(
            "gru.limit_r1",
            r"r_t = 1:\ \tilde{h}_t = \tanh(W_h x_t + U_h h_{t-1} + b_h)",
            fixed(0, 1, "before")["h_tilde"],
            srn,
            source=src,
        ),
        "z0r1": prove(
            "gru.limit_z0_r1",
            r"z_t = 0,\ r_t = 1:\ h_t = \tanh(W_h x_t + U_h h_{t-1} + b_h)\ \text{(an SRN step)}",
            fixed(0, 1, "before")["h"],
            srn,
            source=src,
        ),
        "z0r0": prove(
            "gru.limit_z0_r0",
            r"z_t = 0,\ r_t = 0:\ h_t = \tanh(W_h x_t + b_h)\ \text{(before and after)}",
            both("h", 0, 0),
            sp.Matrix.vstack(no_state, no_state),
            source=src,
        ),
        "z1": prove(
            "gru.limit_z1",
            r"z_t = 1:\ h_t = h_{t-1}\ \text{(any } r_t\text{, before and after)}",
            sp.Matrix.vstack(both("h", 1, 0), both("h", 1, 1)),
            sp.Matrix.vstack(h, h, h, h),
            source=src,
        ),
        "qa_r1": prove(
            "gru.qa_reset_at_1",
            r"r_t = 1:\ \tilde{h}_t = \tanh(W_h x_t + b_h)\ \text{(004 line 460 as printed)}",
            fixed(0, 1, "before")["h_tilde"],
            no_state,
            source="004 line 460",
            note="As printed, the Q&A chapter says the reset gate at 1 ignores the previous "
            "memory; it is r = 0 that does (see the proof gru.limit_r0).",
        ),
    }
    return out


# --- parameter counts --------------------------------------------------------------------------

D_, H_ = sp.symbols("D H", positive=True, integer=True)

#: The book's counts (one bias per gate) as typed formulas in D and H.
COUNT_FORMULAS = {
    ("srn", "standard"): H_ * (H_ + D_ + 1),
    ("lstm", "standard"): 4 * H_ * (H_ + D_ + 1),
    ("gru", "before"): 3 * H_ * (H_ + D_ + 1),
    ("gru", "after"): 3 * H_ * (H_ + D_ + 1) + H_,
}
#: PyTorch's counts (``bias_ih`` and ``bias_hh``: two biases per gate) as typed formulas.
TORCH_COUNT_FORMULAS = {
    "srn": H_ * (H_ + D_ + 2),
    "lstm": 4 * H_ * (H_ + D_ + 2),
    "gru": 3 * H_ * (H_ + D_ + 2),
}


@cached
def parameter_count(cell: str, variant: str = "standard") -> Proof:
    """A cell's number of parameters as a formula in D and H, against ``cells.param_shapes``.

    Args:
        cell: "srn", "lstm" or "gru".  variant: "standard" for the SRN and the LSTM,
            "before" or "after" (the reset placement) for the GRU.

    The lhs multiplies out the shapes ``rnnbook.cells.param_shapes`` gives at symbolic D, H;
    the rhs is the formula of :data:`COUNT_FORMULAS`, typed separately.
    """
    cells.check_cell(cell)
    allowed = RESETS if cell == "gru" else ("standard",)
    check_choice("variant", variant, allowed)
    opts = {"reset": variant} if cell == "gru" else {}
    shapes = cells.param_shapes(cell, D_, H_, **opts)
    lhs = sp.expand(sum(sp.Mul(*shape) for shape, _ in shapes.values()))
    rhs = COUNT_FORMULAS[cell, variant]
    name = cell if cell != "gru" else f"gru[{variant}]"
    return prove(
        f"gru.parameter_count_{name}",
        rf"\#\theta_{{\mathrm{{{name}}}}} = {sp.latex(rhs)}",
        lhs,
        rhs,
        source="000 line 135; 002 line 299",
        note="D and H symbolic; the shapes are read from rnnbook.cells.param_shapes.",
    )


# --- the sources as printed ----------------------------------------------------------------------


@cached
def review_eq12_as_printed(hidden_size: int = 2) -> Proof:
    """The review's (12) as printed, h_t = (1 - z_t) h_{t-1} + z_t h_t, solved for h_t.

    SymPy solves the printed equation for h_t (z_t != 0): h_t = h_{t-1}, the state never
    changes. Compared with the update the review means, with the candidate h'_t.
    """
    H = check_size("hidden_size", hidden_size)
    z, h_prev, cand = vector("z", H), vector("h", H), vector("h'", H)
    h_t = vector("h_t", H)
    printed = [sp.Eq(h_t[i], (1 - z[i]) * h_prev[i] + z[i] * h_t[i]) for i in range(H)]
    solution = sp.solve(printed, list(h_t), dict=True)
    if len(solution) != 1:
        raise RuntimeError(f"expected one solution of the printed (12), got {solution}")
    solved = sp.ImmutableMatrix([solution[0][s] for s in h_t])
    meant = _had(_ones(H) - z, h_prev) + _had(z, cand)
    return prove(
        "gru.review_eq12_as_printed",
        r"h_t = (1 - z_t) \odot h_{t-1} + z_t \odot h_t \ \Rightarrow\ "
        r"h_t = (1 - z_t) \odot h_{t-1} + z_t \odot h'_t",
        solved,
        meant,
        source="000 eq. (12), line 159",
        note="SymPy's solution of the printed equation is h_t = h_(t-1).",
    )


@cached
def textbook_652_against_648(hidden_size: int = 2, input_size: int = 1) -> Proof:
    """The textbook's (6.52), h~ = tanh(W_c x + U (r * h)), against its (6.48) with b."""
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    W_c, U, b = matrix("W^c", H, D), matrix("U", H, H), vector("b", H)
    x, h, r = vector("x", D), vector("h", H), vector("r", H)
    eq_652 = apply(tanh, W_c * x + U * _had(r, h))
    eq_648 = apply(tanh, W_c * x + U * _had(r, h) + b)
    return prove(
        "gru.textbook_652_vs_648",
        r"\tanh(W_c x_t + U (r_t \odot h_{t-1})) = \tanh(W_c x_t + U (r_t \odot h_{t-1}) + b)",
        eq_652,
        eq_648,
        source="003 (6.52), line 439, against (6.48), line 423",
        note="(6.52) repeats (6.48) without its bias b: the two agree only for b = 0.",
    )


def all_proofs() -> tuple[Proof, ...]:
    """The GRU statements of the book (each holds)."""
    proofs = [update_reparametrisation(r) for r in RESETS]
    proofs += [review_concatenation(), reset_placement(1)]
    limits = gate_limits()
    proofs += [limits[k] for k in ("r0", "r1", "z0r1", "z0r0", "z1")]
    for reset in RESETS:
        model = build_gru(reset=reset)
        proofs += [gradient(k, reset=reset) for k in tuple(model.p) + ("h_0", "x_1")]
    proofs += [parameter_count("srn"), parameter_count("lstm")]
    proofs += [parameter_count("gru", r) for r in RESETS]
    return tuple(proofs)


def disagreements() -> tuple[Proof, ...]:
    """The sources' GRU equations as printed where a check shows them wrong."""
    return (review_eq12_as_printed(), textbook_652_against_648(), gate_limits()["qa_r1"])


def sequence_proofs(keys: tuple = ("h_0", "U_h", "W_r"), reset: str = "before") -> tuple:
    """The sweep over two steps (T = 2): the error carried back through time included."""
    return tuple(gradient(k, steps=2, reset=reset) for k in keys)
