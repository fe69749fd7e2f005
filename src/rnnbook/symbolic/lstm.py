"""The LSTM's backward pass (textbook exercise 6-2), derived by SymPy and compared.

The cell, unrolled over T steps with symbolic entries, for the book's four variants
(textbook (6.33)-(6.47); ``rnnbook.scratch.lstm`` computes the same with sigma the
logistic function and g = phi = tanh):

    a_i = W_i x_t + U_i h_{t-1} + b_i (+ p_i * c_{t-1})     i_t = sigma(a_i)
    a_f = W_f x_t + U_f h_{t-1} + b_f (+ p_f * c_{t-1})     f_t = sigma(a_f)
    a_c = W_c x_t + U_c h_{t-1} + b_c                       c~_t = g(a_c)
    c_t = f_t * c_{t-1} + i_t * c~_t
    a_o = W_o x_t + U_o h_{t-1} + b_o (+ p_o * c_t)         o_t = sigma(a_o)
    h_t = o_t * phi(c_t)

("no_forget": f_t = 1; "coupled": f_t = 1 - i_t; the peephole terms only for
"peephole".) ``sigma``, ``g`` and ``phi`` are undefined functions with their own named
derivatives, so each identity holds for every differentiable gate function and squashing
functions, at the sizes checked (H = D = 2 by default). With the logistic
sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2 the closed form is the one
``rnnbook.scratch.lstm.step_backward`` computes (:func:`with_book_functions` and
:func:`numbers` evaluate it at numbers).

What is proved, and where:

- :func:`step_gradients` (one step, registered in :func:`all_proofs`): the loss is
  L = lambda(h_t, c_t), an undefined function of the new state standing for everything
  after the step, so the identity is the step of the backward sweep for every loss;
- :func:`state_gradients` and :func:`parameter_gradient` (the whole sweep over T = 2 steps,
  :func:`sequence_proofs`; slower): L = sum_t l_t(h_t) with undefined l_t, h_0 and c_0
  symbols;
- :func:`cell_jacobian`: the one-step blocks dc_t/dc_{t-1} and dc_t/dh_{t-1};
  :func:`cell_path_only` refutes dc_T/dc_0 = prod_t diag(f_t) (T = 2).

The closed form, one step back from t (the book's derivation; ``*`` is elementwise):

    dh   = dl_t/dh_t + (what step t+1 sends to h_t);   dc = what step t+1 sends to c_t
    do   = dh * phi(c_t);             dc  = dc + dh * o_t * phi'(c_t)
    da_o = do * sigma'(a_o);          peephole: dc = dc + da_o * p_o
    di   = dc * c~_t;                 coupled:  di = di - dc * c_{t-1}
    df   = dc * c_{t-1};              dc~ = dc * i_t
    da_i = di * sigma'(a_i),  da_f = df * sigma'(a_f),  da_c = dc~ * g'(a_c)
    dc_{t-1} = dc * f_t  (no_forget: dc);   peephole: + da_i * p_i + da_f * p_f
    dh_{t-1} = sum_* U_*^T da_*,   dx_t = sum_* W_*^T da_*
    dW_* += da_* x_t^T,  dU_* += da_* h_{t-1}^T,  db_* += da_*
    dp_i += da_i * c_{t-1},  dp_f += da_f * c_{t-1},  dp_o += da_o * c_t

SymPy's side never uses these lines: the parameters' and the inputs' gradients are
``sympy.diff`` of the loss of the unrolled cell; over a sequence, the gradients reaching the state
(h_k, c_k) are SymPy's derivatives of the loss after the state is cut free (replaced by
free symbols, the cell rerun from them, and the loss differentiated).

Planted errors (``error=``), each a slip one could make in the derivation, for the
checks that must fail: ``"coupled_sign"`` (the coupled gate's extra term added, not
subtracted), ``"peephole_o"`` (the path through p_o * c_t left out of dc),
``"peephole_prev"`` (the peephole terms left out of dc_{t-1}), ``"no_f"`` (dc_{t-1} =
dc, the forget gate forgotten).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import sympy as sp

from rnnbook import cells
from rnnbook.symbolic._proof import (
    Proof,
    cached,
    check_choice,
    check_size,
    derivative_function,
    diag_of,
    gradient,
    matrix,
    name_derivatives,
    prove,
    vector,
)
from rnnbook.symbolic.model import StepLosses

#: The gate function (the logistic function in the book's cell), undefined here.
sigma = sp.Function(r"\sigma")
#: The candidate's squashing function g in c~_t = g(a_c) (tanh in the book's cell).
g = sp.Function("g")
#: The cell's output squashing function phi in h_t = o_t * phi(c_t) (tanh in the book's cell).
phi = sp.Function(r"\phi")

VARIANTS = cells.OPTIONS["lstm"]["variant"]
ERRORS = (None, "coupled_sign", "peephole_o", "peephole_prev", "no_f")
#: the variant whose derivation each planted error belongs to
ERROR_VARIANT = {
    "coupled_sign": ("coupled",),
    "peephole_o": ("peephole",),
    "peephole_prev": ("peephole",),
    "no_f": tuple(v for v in VARIANTS if "f" in cells.gates("lstm", variant=v)),
}

__all__ = [
    "SymbolicLSTM",
    "build_lstm",
    "closed_form",
    "sympy_state_gradient",
    "state_gradients",
    "parameter_gradient",
    "cell_jacobian",
    "cell_path_only",
    "all_proofs",
    "closed_step",
    "step_gradients",
    "sequence_proofs",
    "planted_errors",
    "with_book_functions",
    "numbers",
    "sigma",
    "g",
    "phi",
]


def _sized(fn):
    """:func:`cached`, with the sizes checked first: an lru_cache takes 2.0 or True for 2 or 1."""
    inner = cached(fn)
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise ValueError(f"{fn.__name__}: {err}") from err
        bound.apply_defaults()
        for name in ("hidden_size", "input_size", "steps"):
            if name in bound.arguments:
                check_size(name, bound.arguments[name])
        return inner(*args, **kwargs)

    wrapper.cache_clear = inner.cache_clear
    return wrapper


def d(fn, arg):
    """The named derivative ``fn'(arg)`` of an undefined function of one argument."""
    return derivative_function(fn, 0, 1)(arg)


def _ew(a: sp.MatrixBase, b: sp.MatrixBase) -> sp.ImmutableMatrix:
    """The elementwise product a * b of two columns."""
    return sp.ImmutableMatrix(a.multiply_elementwise(b))


def _map(fn, v: sp.MatrixBase) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(v.applyfunc(fn))


def _gates(variant: str) -> tuple[str, ...]:
    return cells.gates("lstm", variant=variant)


@dataclass(frozen=True)
class SymbolicLSTM(StepLosses):
    """An LSTM cell unrolled over ``T`` steps with symbolic parameters, inputs and state.

    Attributes:
        H, D, T, variant: sizes and the variant.
        W, U, b: dicts gate -> (H, D), (H, H), (H, 1) matrices of symbols.
        p: dict gate -> (H, 1) peephole weights ("peephole" only; else empty).
        x: dict t -> x_t (D, 1).
        steps: dict t -> the step's quantities (a_i, i, a_f, f, a_c, ct, c, a_o, o, h,
            h_prev, c_prev), t = 1..T.
        h, c: dicts t -> h_t, c_t (H, 1), t = 0..T (h_0, c_0 symbols).
    """

    H: int
    D: int
    T: int
    variant: str
    W: dict
    U: dict
    b: dict
    p: dict
    x: dict
    steps: dict
    h: dict
    c: dict

    def step(self, t: int, h_prev: sp.MatrixBase, c_prev: sp.MatrixBase) -> dict:
        """One step of the cell at time t from (h_{t-1}, c_{t-1}); returns its quantities."""
        W, U, b, p, x_t, variant = self.W, self.U, self.b, self.p, self.x[t], self.variant
        s = dict(h_prev=sp.ImmutableMatrix(h_prev), c_prev=sp.ImmutableMatrix(c_prev))
        # (6.36) / (6.43)
        a_i = W["i"] * x_t + U["i"] * h_prev + b["i"]
        if variant == "peephole":
            a_i = a_i + _ew(p["i"], c_prev)
        s["a_i"], s["i"] = sp.ImmutableMatrix(a_i), _map(sigma, a_i)
        if variant == "no_forget":
            s["f"] = None  # (6.42) f_t = 1
        elif variant == "coupled":
            s["f"] = sp.ImmutableMatrix(sp.ones(self.H, 1) - s["i"])  # (6.46)
        else:
            # (6.37) / (6.44)
            a_f = W["f"] * x_t + U["f"] * h_prev + b["f"]
            if variant == "peephole":
                a_f = a_f + _ew(p["f"], c_prev)
            s["a_f"], s["f"] = sp.ImmutableMatrix(a_f), _map(sigma, a_f)
        # (6.35)
        a_c = W["c"] * x_t + U["c"] * h_prev + b["c"]
        s["a_c"], s["ct"] = sp.ImmutableMatrix(a_c), _map(g, a_c)
        # (6.40), (6.42), (6.47)
        if s["f"] is None:
            c = c_prev + _ew(s["i"], s["ct"])
        else:
            c = _ew(s["f"], c_prev) + _ew(s["i"], s["ct"])
        s["c"] = sp.ImmutableMatrix(c)
        # (6.38) / (6.45)
        a_o = W["o"] * x_t + U["o"] * h_prev + b["o"]
        if variant == "peephole":
            a_o = a_o + _ew(p["o"], s["c"])
        s["a_o"], s["o"] = sp.ImmutableMatrix(a_o), _map(sigma, a_o)
        # (6.41)
        s["h"] = _ew(s["o"], _map(phi, s["c"]))
        return s

    def run_from(self, k: int, h_k: sp.MatrixBase, c_k: sp.MatrixBase) -> tuple[dict, dict]:
        """Run the cell from step k+1 to T starting at (h_k, c_k); returns (h, c) dicts."""
        h, c = {k: sp.ImmutableMatrix(h_k)}, {k: sp.ImmutableMatrix(c_k)}
        for t in range(k + 1, self.T + 1):
            s = self.step(t, h[t - 1], c[t - 1])
            h[t], c[t] = s["h"], s["c"]
        return h, c

    def params(self) -> dict:
        """Every parameter by the package's key ("W_i", ..., "p_o"), as SymPy matrices."""
        out = {}
        for gate in _gates(self.variant):
            out[f"W_{gate}"], out[f"U_{gate}"], out[f"b_{gate}"] = (
                self.W[gate],
                self.U[gate],
                self.b[gate],
            )
        out.update({f"p_{gate}": v for gate, v in self.p.items()})
        return out


@_sized
def build_lstm(
    hidden_size: int = 2, input_size: int = 2, steps: int = 2, variant: str = "standard"
) -> SymbolicLSTM:
    """Unroll a symbolic LSTM of the given variant (h_0 and c_0 are symbols)."""
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    T = check_size("steps", steps)
    check_choice("variant", variant, VARIANTS)
    gates = _gates(variant)
    W = {q: matrix(f"W^{q}", H, D) for q in gates}
    U = {q: matrix(f"U^{q}", H, H) for q in gates}
    b = {q: vector(f"b^{q}", H) for q in gates}
    p = {q: vector(f"p^{q}", H) for q in cells.PEEPHOLES} if variant == "peephole" else {}
    x = {t: vector(f"x_{t}", D) for t in range(1, T + 1)}
    model = SymbolicLSTM(H, D, T, variant, W, U, b, p, x, {}, {}, {})
    h, c = {0: vector("h_0", H)}, {0: vector("c_0", H)}
    steps_ = {}
    for t in range(1, T + 1):
        steps_[t] = model.step(t, h[t - 1], c[t - 1])
        h[t], c[t] = steps_[t]["h"], steps_[t]["c"]
    return SymbolicLSTM(H, D, T, variant, W, U, b, p, x, steps_, h, c)


def _check_model(model) -> SymbolicLSTM:
    if not isinstance(model, SymbolicLSTM):
        raise ValueError(
            f"model: expected a SymbolicLSTM from build_lstm, got {type(model).__name__}"
        )
    return model


def _check_step(model: SymbolicLSTM, t, low: int = 1) -> int:
    if isinstance(t, bool) or not isinstance(t, int) or not low <= t <= model.T:
        raise ValueError(f"t: expected an int in {low}..{model.T} (the model's steps), got {t!r}")
    return t


def _check_column(name: str, v, size: int) -> sp.ImmutableMatrix:
    if not isinstance(v, sp.MatrixBase) or v.shape != (size, 1):
        got = v.shape if isinstance(v, sp.MatrixBase) else type(v).__name__
        raise ValueError(f"{name}: expected a SymPy column of shape ({size}, 1), got {got}")
    return sp.ImmutableMatrix(v)


def _check(variant, error):
    check_choice("variant", variant, VARIANTS)
    check_choice("error", error, ERRORS)
    if error is not None and variant not in ERROR_VARIANT[error]:
        raise ValueError(
            f"error {error!r} is a slip in the derivation of {ERROR_VARIANT[error]}, "
            f"got variant {variant!r}"
        )


def _label(variant, error):
    return variant + ("" if error is None else f"[{error}]")


_SOURCE = "003 (6.33)-(6.47), exercise 6-2 (line 556)"


def closed_step(
    model: SymbolicLSTM, t: int, dh: sp.MatrixBase, dc: sp.MatrixBase, *, error: str | None = None
) -> dict:
    """One step back from t by the closed form of the module docstring, in SymPy.

    Args:
        dh, dc: dL/dh_t and dL/dc_t (H, 1), everything that reaches the new state.

    Returns:
        dict with "h_prev", "c_prev" (the gradients sent to h_{t-1}, c_{t-1}), "x" (dL/dx_t),
        "a" (gate -> dL/da_*) and the step's terms of the parameters' gradients by key.
    """
    check_choice("error", error, ERRORS)
    _check_model(model)
    _check_step(model, t)
    variant, H = model.variant, model.H
    dh, dc = _check_column("dh", dh, H), _check_column("dc", dc, H)
    gates = _gates(variant)
    s = model.steps[t]
    # h_t = o_t * phi(c_t)
    do = _ew(dh, _map(phi, s["c"]))
    dc = dc + _ew(_ew(dh, s["o"]), _map(lambda z: d(phi, z), s["c"]))
    da = {"o": _ew(do, _map(lambda z: d(sigma, z), s["a_o"]))}
    if variant == "peephole" and error != "peephole_o":
        dc = dc + _ew(da["o"], model.p["o"])
    # c_t = f_t * c_{t-1} + i_t * c~_t
    di = _ew(dc, s["ct"])
    if variant == "coupled":
        sign = 1 if error == "coupled_sign" else -1
        di = di + sign * _ew(dc, s["c_prev"])
    dct = _ew(dc, s["i"])
    da["i"] = _ew(di, _map(lambda z: d(sigma, z), s["a_i"]))
    if "f" in gates:
        da["f"] = _ew(_ew(dc, s["c_prev"]), _map(lambda z: d(sigma, z), s["a_f"]))
    da["c"] = _ew(dct, _map(lambda z: d(g, z), s["a_c"]))
    dc_prev = dc if (s["f"] is None or error == "no_f") else _ew(dc, s["f"])
    if variant == "peephole" and error != "peephole_prev":
        dc_prev = dc_prev + _ew(da["i"], model.p["i"]) + _ew(da["f"], model.p["f"])
    out = {
        "h_prev": sp.ImmutableMatrix(sum((model.U[q].T * da[q] for q in gates), sp.zeros(H, 1))),
        "c_prev": sp.ImmutableMatrix(dc_prev),
        "x": sp.ImmutableMatrix(sum((model.W[q].T * da[q] for q in gates), sp.zeros(model.D, 1))),
        "a": da,
    }
    for q in gates:
        out[f"W_{q}"] = da[q] * model.x[t].T
        out[f"U_{q}"] = da[q] * s["h_prev"].T
        out[f"b_{q}"] = da[q]
    if variant == "peephole":
        out["p_i"] = _ew(da["i"], s["c_prev"])
        out["p_f"] = _ew(da["f"], s["c_prev"])
        out["p_o"] = _ew(da["o"], s["c"])
    return out


def closed_form(model: SymbolicLSTM, *, error: str | None = None) -> dict:
    """The backward sweep over the sequence: :func:`closed_step` from t = T down to 1.

    Returns a dict with "state": k -> (dL/dh_k, dL/dc_k) for k = 0..T, "x": t -> dL/dx_t,
    and the parameters' gradients (sums over the steps) by the package's keys.
    """
    check_choice("error", error, ERRORS)
    _check_model(model)
    zero = sp.ImmutableMatrix(sp.zeros(model.H, 1))
    grads = {k: sp.zeros(*v.shape) for k, v in model.params().items()}
    state = {model.T: (model.dloss_dh(model.T), zero)}
    dx = {}
    for t in range(model.T, 0, -1):
        back = closed_step(model, t, *state[t], error=error)
        dx[t] = back["x"]
        for k in grads:
            grads[k] += back[k]
        # dL/dh_{t-1}: the loss of step t-1 itself and what step t sends back
        own = model.dloss_dh(t - 1) if t > 1 else zero
        state[t - 1] = (sp.ImmutableMatrix(own + back["h_prev"]), back["c_prev"])
    out = {k: sp.ImmutableMatrix(v) for k, v in grads.items()}
    out.update(state=state, x=dx)
    return out


#: dL/dc_{t-1} in the chapter's notation: \bar\delta c_t is what reaches c_t from later steps
#: plus the path through h_t (and, with peepholes, p_o * delta a_o), as in eq-ch6-back-out.
_PREV_TEX = {
    "standard": r"\bar{\delta} c_t \odot f_t",
    "no_forget": r"\bar{\delta} c_t",
    "peephole": r"\bar{\delta} c_t \odot f_t + p_i \odot \delta a_i + p_f \odot \delta a_f",
    "coupled": r"\bar{\delta} c_t \odot (1 - i_t)",
}
_STEP_TEX = {
    "state": lambda v: (
        r"\frac{\partial \mathcal{L}}{\partial c_{t-1}} = " + _PREV_TEX[v] + r",\quad "
        r"\frac{\partial \mathcal{L}}{\partial h_{t-1}} = \sum_{*} U_*^{\top} \delta a_*"
    ),
    "x": lambda v: r"\frac{\partial \mathcal{L}}{\partial x_t} = \sum_{*} W_*^{\top} \delta a_*",
    "W": lambda v: r"\frac{\partial \mathcal{L}}{\partial W_*} = \delta a_*\, x_t^{\top}",
    "U": lambda v: r"\frac{\partial \mathcal{L}}{\partial U_*} = \delta a_*\, h_{t-1}^{\top}",
    "b": lambda v: r"\frac{\partial \mathcal{L}}{\partial b_*} = \delta a_*",
    "p": lambda v: (
        r"\frac{\partial \mathcal{L}}{\partial p_i} = \delta a_i \odot c_{t-1},\ "
        r"\frac{\partial \mathcal{L}}{\partial p_f} = \delta a_f \odot c_{t-1},\ "
        r"\frac{\partial \mathcal{L}}{\partial p_o} = \delta a_o \odot c_t"
    ),
}


#: The loss as a function of the new state (h_t, c_t): everything after step t.
lam = sp.Function(r"\lambda")


@_sized
def step_gradients(
    variant: str = "standard",
    hidden_size: int = 2,
    input_size: int = 2,
    *,
    wrt: str = "state",
    error: str | None = None,
) -> Proof:
    """One step's backward pass against SymPy's derivative of L = lambda(h_t, c_t).

    lambda is an undefined function of the 2H entries of the new state: it stands for the
    loss of step t and of every later step, which depend on step t's inputs and parameters
    only through (h_t, c_t). So the identity is the step of the backward sweep for any
    loss, and the whole sweep follows by induction over the steps.

    Args:
        wrt: "state" (dL/dh_{t-1} and dL/dc_{t-1}, stacked), "x", "W", "U", "b" (every
            gate's, stacked) or "p" (the peepholes, "peephole" only).
    """
    check_choice("wrt", wrt, ("state", "x", "W", "U", "b", "p"))
    _check(variant, error)
    if wrt == "p" and variant != "peephole":
        raise ValueError(f"wrt 'p' needs variant 'peephole', got {variant!r}")
    model = build_lstm(hidden_size, input_size, 1, variant)
    H = model.H
    args = list(model.h[1]) + list(model.c[1])
    L = lam(*args)
    dlam = [derivative_function(lam, j, 2 * H)(*args) for j in range(2 * H)]
    dh, dc = sp.ImmutableMatrix(dlam[:H]), sp.ImmutableMatrix(dlam[H:])
    back = closed_step(model, 1, dh, dc, error=error)
    if wrt == "state":
        lhs = sp.Matrix.vstack(gradient(L, model.h[0]), gradient(L, model.c[0]))
        rhs = sp.Matrix.vstack(back["h_prev"], back["c_prev"])
        keys = ["h_{t-1}", "c_{t-1}"]
    elif wrt == "x":
        lhs, rhs, keys = gradient(L, model.x[1]), back["x"], ["x_t"]
    else:
        keys = [k for k in model.params() if k.startswith(wrt + "_")]
        lhs = sp.Matrix.vstack(*[gradient(L, model.params()[k]) for k in keys])
        rhs = sp.Matrix.vstack(*[back[k] for k in keys])
    return prove(
        f"lstm.step_{wrt}[{_label(variant, error)}]",
        _STEP_TEX[wrt](variant),
        lhs,
        rhs,
        source=_SOURCE,
        note=(
            f"variant {variant!r}, H={H}, D={model.D}, one step, L = lambda(h_t, c_t) undefined; "
            + ", ".join(keys)
            + ("" if error is None else f"; planted error {error!r}")
        ),
    )


def sympy_state_gradient(model: SymbolicLSTM, k: int) -> sp.ImmutableMatrix:
    """SymPy's (dL/dh_k; dL/dc_k) (2H, 1): the state is cut free, the cell rerun, L differentiated.

    The losses l_t for t >= k depend on (h_k, c_k); l_k through h_k itself.
    """
    _check_step(_check_model(model), k, low=0)
    eta, kappa = vector(rf"\eta_{k}", model.H), vector(rf"\kappa_{k}", model.H)
    h, _ = model.run_from(k, eta, kappa)
    L = sum(model.loss(t, h[t]) for t in range(max(k, 1), model.T + 1))
    back = dict(zip(list(eta) + list(kappa), list(model.h[k]) + list(model.c[k]), strict=True))
    grad = [name_derivatives(sp.diff(L, s)).xreplace(back) for s in list(eta) + list(kappa)]
    return sp.ImmutableMatrix(grad)


@_sized
def state_gradients(
    variant: str = "standard",
    hidden_size: int = 2,
    input_size: int = 2,
    steps: int = 2,
    *,
    error: str | None = None,
) -> Proof:
    """The recursion for (dL/dh_{t-1}, dL/dc_{t-1}) equals SymPy's, at every k = 0..T-1."""
    _check(variant, error)
    model = build_lstm(hidden_size, input_size, steps, variant)
    cf = closed_form(model, error=error)
    lhs = sp.Matrix.hstack(*[sympy_state_gradient(model, k) for k in range(model.T)])
    rhs = sp.Matrix.hstack(*[sp.Matrix.vstack(*cf["state"][k]) for k in range(model.T)])
    prev = _PREV_TEX[variant]
    return prove(
        f"lstm.state_gradients[{_label(variant, error)}]",
        r"\frac{\partial \mathcal{L}}{\partial c_{t-1}} = " + prev + r",\quad "
        r"\frac{\partial \mathcal{L}}{\partial h_{t-1}} = "
        r"\frac{\partial \mathcal{L}_{t-1}}{\partial h_{t-1}} + \sum_{*} U_*^{\top} \delta a_*",
        lhs,
        rhs,
        source=_SOURCE,
        note=(
            f"variant {variant!r}, H={model.H}, D={model.D}, T={model.T}; columns k = 0..T-1; "
            "bar-delta c_t includes the path through h_t"
            + ("" if error is None else f"; planted error {error!r}")
        ),
    )


_PARAM_TEX = {
    "W": r"\frac{\partial \mathcal{L}}{\partial W_*} = \sum_t \delta a_{*,t}\, x_t^{\top}",
    "U": r"\frac{\partial \mathcal{L}}{\partial U_*} = \sum_t \delta a_{*,t}\, h_{t-1}^{\top}",
    "b": r"\frac{\partial \mathcal{L}}{\partial b_*} = \sum_t \delta a_{*,t}",
    "p": r"\frac{\partial \mathcal{L}}{\partial p_{i}} = \sum_t \delta a_{i,t} \odot c_{t-1},\ "
    r"\frac{\partial \mathcal{L}}{\partial p_{f}} = \sum_t \delta a_{f,t} \odot c_{t-1},\ "
    r"\frac{\partial \mathcal{L}}{\partial p_{o}} = \sum_t \delta a_{o,t} \odot c_{t}",
    "x": r"\frac{\partial \mathcal{L}}{\partial x_t} = \sum_{*} W_*^{\top} \delta a_{*,t}",
}


@_sized
def parameter_gradient(
    param: str,
    variant: str = "standard",
    hidden_size: int = 2,
    input_size: int = 2,
    steps: int = 2,
    *,
    error: str | None = None,
) -> Proof:
    """SymPy's dL/d(param) equals the closed form's, for every gate's matrix at once.

    Args:
        param: "W", "U", "b" (every gate's, stacked), "p" (the peepholes, "peephole" only)
            or "x" (the inputs x_1..x_T).
    """
    check_choice("param", param, ("W", "U", "b", "p", "x"))
    _check(variant, error)
    if param == "p" and variant != "peephole":
        raise ValueError(f"param 'p' needs variant 'peephole', got {variant!r}")
    model = build_lstm(hidden_size, input_size, steps, variant)
    cf = closed_form(model, error=error)
    L = model.total_loss()
    if param == "x":
        keys = list(range(1, model.T + 1))
        lhs = sp.Matrix.hstack(*[gradient(L, model.x[t]) for t in keys])
        rhs = sp.Matrix.hstack(*[cf["x"][t] for t in keys])
    else:
        keys = [k for k in model.params() if k.startswith(param + "_")]
        lhs = sp.Matrix.vstack(*[gradient(L, model.params()[k]) for k in keys])
        rhs = sp.Matrix.vstack(*[cf[k] for k in keys])
    return prove(
        f"lstm.gradient_{param}[{_label(variant, error)}]",
        _PARAM_TEX[param],
        lhs,
        rhs,
        source=_SOURCE,
        note=(
            f"variant {variant!r}, H={model.H}, D={model.D}, T={model.T}; "
            + ("every step's input" if param == "x" else "keys " + ", ".join(map(str, keys)))
            + ("" if error is None else f"; planted error {error!r}")
        ),
    )


_CH_FORGET_TEX = {
    "no_forget": "",
    "coupled": r" - \operatorname{diag}(c_{t-1} \odot \sigma'(a_i)) U_i",
}


@_sized
def cell_jacobian(
    variant: str = "standard", hidden_size: int = 2, input_size: int = 2, *, block: str = "cc"
) -> Proof:
    """One step's Jacobian block: d c_t / d c_{t-1} ("cc") or d c_t / d h_{t-1} ("ch").

    SymPy's jacobian of c_1 against the closed forms:

        cc: diag(f_t) (standard), I (no_forget), diag(1 - i_t) (coupled),
            diag(f_t + c~_t sigma'(a_i) p_i + c_{t-1} sigma'(a_f) p_f) (peephole)
        ch: diag(c~_t sigma'(a_i)) U_i + diag(i_t g'(a_c)) U_c + diag(c_{t-1} sigma'(a_f)) U_f,
            the last term -diag(c_{t-1} sigma'(a_i)) U_i for coupled, absent for no_forget.
    """
    check_choice("variant", variant, VARIANTS)
    check_choice("block", block, ("cc", "ch"))
    model = build_lstm(hidden_size, input_size, 1, variant)
    s = model.steps[1]
    H = model.H
    wrt = model.c[0] if block == "cc" else model.h[0]
    lhs = sp.ImmutableMatrix(H, H, lambda r, q: name_derivatives(sp.diff(model.c[1][r], wrt[q])))
    sig_i = _map(lambda z: d(sigma, z), s["a_i"])
    if block == "cc":
        if variant == "no_forget":
            diag = sp.ones(H, 1)
        else:
            diag = s["f"]
        if variant == "peephole":
            sig_f = _map(lambda z: d(sigma, z), s["a_f"])
            diag = diag + _ew(_ew(s["ct"], sig_i), model.p["i"])
            diag = diag + _ew(_ew(s["c_prev"], sig_f), model.p["f"])
        rhs = diag_of(sp.ImmutableMatrix(diag))
        tex = {
            "standard": r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t)",
            "no_forget": r"\frac{\partial c_t}{\partial c_{t-1}} = I",
            "coupled": r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(1 - i_t)",
            "peephole": r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}\big(f_t + "
            r"\tilde{c}_t \odot \sigma'(a_i) \odot p_i + c_{t-1} \odot \sigma'(a_f) \odot p_f\big)",
        }[variant]
    else:
        rhs = diag_of(_ew(s["ct"], sig_i)) * model.U["i"]
        rhs = rhs + diag_of(_ew(s["i"], _map(lambda z: d(g, z), s["a_c"]))) * model.U["c"]
        if "f" in _gates(variant):
            sig_f = _map(lambda z: d(sigma, z), s["a_f"])
            rhs = rhs + diag_of(_ew(s["c_prev"], sig_f)) * model.U["f"]
        elif variant == "coupled":
            rhs = rhs - diag_of(_ew(s["c_prev"], sig_i)) * model.U["i"]
        tex = (
            r"\frac{\partial c_t}{\partial h_{t-1}} = "
            r"\operatorname{diag}(\tilde{c}_t \odot \sigma'(a_i)) U_i + "
            r"\operatorname{diag}(i_t \odot g'(a_c)) U_c"
        )
        # the forget gate's own term, as the rhs above has it: none without a forget gate,
        # and for coupled gates (f_t = 1 - i_t) a second term through U_i with a minus sign
        tex += _CH_FORGET_TEX.get(
            variant, r" + \operatorname{diag}(c_{t-1} \odot \sigma'(a_f)) U_f"
        )
    return prove(
        f"lstm.jacobian_{block}[{variant}]",
        tex,
        lhs,
        rhs,
        source="003 (6.33)-(6.47)",
        note=f"variant {variant!r}, H={H}, D={model.D}; one step, h_{{t-1}} and c_{{t-1}} symbols",
    )


@_sized
def cell_path_only(hidden_size: int = 2, input_size: int = 2, steps: int = 2) -> Proof:
    """The claim that dc_T/dc_0 is the product of the diag(f_t) alone (it is not).

    The total derivative also runs through h_{t-1} = o_{t-1} * phi(c_{t-1}) into every gate
    of the next step; the product of the direct blocks misses those paths. Does not hold.
    """
    model = build_lstm(hidden_size, input_size, steps, "standard")
    H = model.H
    lhs = sp.ImmutableMatrix(
        H, H, lambda r, q: name_derivatives(sp.diff(model.c[model.T][r], model.c[0][q]))
    )
    rhs = sp.eye(H)
    for t in range(model.T, 0, -1):
        rhs = rhs * diag_of(model.steps[t]["f"])
    return prove(
        "lstm.cell_path_only",
        r"\frac{\partial c_T}{\partial c_0} = \prod_{t=1}^{T} \operatorname{diag}(f_t)",
        lhs,
        sp.ImmutableMatrix(rhs),
        source="003 line 322 (c_t carries information 'linearly')",
        note=f"H={H}, D={model.D}, T={model.T}: the direct path only; the paths through h miss",
    )


def with_book_functions(expr):
    """``expr`` with sigma the logistic function and g = phi = tanh, their derivatives too.

    sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2: the functions of
    ``rnnbook.scratch.lstm``, so that a proved formula can be evaluated at numbers.
    """
    try:
        expr = sp.sympify(expr)
    except (sp.SympifyError, TypeError) as err:
        raise ValueError(f"expr: expected a SymPy expression, got {type(expr).__name__}") from err
    z = sp.Dummy("z")
    logistic = sp.Lambda(z, 1 / (1 + sp.exp(-z)))
    expr = expr.replace(
        derivative_function(sigma, 0, 1), sp.Lambda(z, logistic(z) * (1 - logistic(z)))
    )
    for fn in (g, phi):
        expr = expr.replace(derivative_function(fn, 0, 1), sp.Lambda(z, 1 - sp.tanh(z) ** 2))
        expr = expr.replace(fn, sp.Lambda(z, sp.tanh(z)))
    return expr.replace(sigma, logistic)


def numbers(model: SymbolicLSTM, params: dict, x_t, h_prev, c_prev) -> dict:
    """Map the symbols of step 1 of ``model`` to numbers (one sequence: B = 1).

    Args:
        params: the package's parameter dict (``rnnbook.scratch.lstm``), keys as
            :meth:`SymbolicLSTM.params`, arrays (H, D), (H, H), (H,).
        x_t (D,), h_prev (H,), c_prev (H,): the step's input and state.
    """
    import numpy as np

    _check_model(model)
    if not isinstance(params, dict) or set(params) != set(model.params()):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params: expected the keys {sorted(model.params())}, got {got}")
    for key, M in model.params().items():
        shape = M.shape if M.shape[1] > 1 else (M.shape[0],)
        if np.shape(params[key]) != shape:
            raise ValueError(
                f"params[{key!r}]: expected shape {shape}, got {np.shape(params[key])}"
            )
    for name, v, size in (
        ("x_t", x_t, model.D),
        ("h_prev", h_prev, model.H),
        ("c_prev", c_prev, model.H),
    ):
        if np.shape(v) != (size,):
            raise ValueError(f"{name}: expected shape ({size},), got {np.shape(v)}")
    values = {}
    for key, M in model.params().items():
        A = sp.Matrix(params[key]).reshape(*M.shape) if M.shape[1] > 1 else None
        for r in range(M.shape[0]):
            for q in range(M.shape[1]):
                v = params[key][r, q] if A is not None else params[key][r]
                values[M[r, q]] = sp.Float(float(v), 30)
    for M, v in ((model.x[1], x_t), (model.h[0], h_prev), (model.c[0], c_prev)):
        values.update({M[r]: sp.Float(float(v[r]), 30) for r in range(M.shape[0])})
    return values


def all_proofs(hidden_size: int = 2, input_size: int = 2) -> tuple[Proof, ...]:
    """The LSTM identities of the book at the given sizes, one step (each holds)."""
    out = []
    for variant in VARIANTS:
        wrts = ("state", "x", "W", "U", "b") + (("p",) if variant == "peephole" else ())
        out += [step_gradients(variant, hidden_size, input_size, wrt=w) for w in wrts]
        out += [cell_jacobian(variant, hidden_size, input_size, block=k) for k in ("cc", "ch")]
    return tuple(out)


def sequence_proofs(hidden_size: int = 2, input_size: int = 2, steps: int = 2) -> tuple:
    """The whole backward sweep over ``steps`` steps, per variant (each holds; slower)."""
    out = []
    for variant in VARIANTS:
        out.append(state_gradients(variant, hidden_size, input_size, steps))
        params = ("W", "U", "b", "x") + (("p",) if variant == "peephole" else ())
        out += [parameter_gradient(q, variant, hidden_size, input_size, steps) for q in params]
    return tuple(out)


def planted_errors(hidden_size: int = 2, input_size: int = 2) -> tuple[Proof, ...]:
    """Each planted slip in its variant's derivation, one step (each does not hold)."""
    return (
        step_gradients("coupled", hidden_size, input_size, wrt="state", error="coupled_sign"),
        step_gradients("coupled", hidden_size, input_size, wrt="b", error="coupled_sign"),
        step_gradients("peephole", hidden_size, input_size, wrt="state", error="peephole_o"),
        step_gradients("peephole", hidden_size, input_size, wrt="p", error="peephole_o"),
        step_gradients("peephole", hidden_size, input_size, wrt="state", error="peephole_prev"),
        step_gradients("standard", hidden_size, input_size, wrt="state", error="no_f"),
    )
