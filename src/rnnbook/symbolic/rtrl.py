"""Real-time recurrent learning, textbook (6.24)-(6.28), derived by SymPy and compared.

RTRL carries forward the sensitivities of the state to each parameter. In
column form (the book's), for the entry ``U_ij``:

    P_t^{(ij)} = dh_t/dU_ij  (H, 1),   P_0^{(ij)} = 0
    (6.27)  P_t^{(ij)} = diag(f'(z_t)) ( I_i([h_{t-1}]_j) + U P_{t-1}^{(ij)} )
    (6.28)  dL/dU_ij = sum_t (P_t^{(ij)})^T dL_t/dh_t

where ``I_i(a)`` is the H-vector with ``a`` in row i and 0 elsewhere. For
``W_ij`` the immediate term is ``I_i([x_t]_j)``, for ``b_i`` it is ``I_i(1)``.

Disagreements with the source
-----------------------------
- 003 (6.26)-(6.27), lines 247-249: the immediate term is written
  ``I_i([h_k]_j)``; ``k`` is not defined there, and for ``h_{t+1}`` the right
  term is ``I_i([h_t]_j)`` (``z_{t+1} = U h_t + ...``, (6.24) line 241). Reading
  it as the state of the same step, as (6.15) does, gives a wrong recursion:
  ``sensitivity_recursion("U", immediate="h_t")`` does not hold,
  ``sensitivity_recursion("U")`` does.
- 003 (6.25)-(6.27) write the sensitivity as a row vector (``... U^T`` then
  ``diag(f')`` on the right), while (6.15) defines ``I_i`` as a column and
  (6.28) uses ``(dh_t/dU_ij)^T dL_t/dh_t``, which needs a column. The row form
  is the transpose of the column form; ``row_form()`` proves the two agree.
- 003 line 261 says BPTT and RTRL apply the chain rule "respectively in forward
  mode and reverse mode"; it is the other way round. RTRL (here
  :func:`sensitivities`) runs forward in t carrying ``dh_t/dtheta`` (forward
  mode); BPTT (:func:`rnnbook.symbolic.bptt.closed_form_deltas`) runs backward
  carrying ``delta_{t,k}`` (reverse mode). :func:`rtrl_equals_bptt` shows that
  the two give the same gradient. (The textbook's own line 235 says RTRL works
  "by forward propagation".)
"""

from __future__ import annotations

import sympy as sp

from rnnbook.symbolic._proof import (
    Proof,
    apply,
    cached,
    check_choice,
    diag_of,
    fprime,
    name_derivatives,
    prove,
    unit,
)
from rnnbook.symbolic.bptt import closed_form_deltas
from rnnbook.symbolic.model import SymbolicSRN, build_srn


def _entries(model: SymbolicSRN, param: str) -> list[tuple[int, int]]:
    rows, cols = {"U": model.U, "W": model.W, "b": model.b}[param].shape
    return [(i, j) for i in range(rows) for j in range(cols)]


def sensitivities(model: SymbolicSRN, param: str, *, immediate: str = "h_{t-1}") -> dict:
    """``P_t^{(ij)} = dh_t/d param_ij`` (H, 1) by the RTRL recursion; keys (i, j, t).

    Args:
        param: ``"U"``, ``"W"`` or ``"b"``.
        immediate: for ``"U"``, the state in the immediate term: ``"h_{t-1}"``
            (right) or ``"h_t"`` (the slip of (6.26) read like (6.15)).
    """
    check_choice("param", param, ("U", "W", "b"))
    check_choice("immediate", immediate, ("h_{t-1}", "h_t"))
    H, P = model.H, {}
    for i, j in _entries(model, param):
        prev = sp.zeros(H, 1)  # P_0 = 0 (h_0 does not depend on the parameters)
        for t in range(1, model.T + 1):
            if param == "U":
                a = model.h[t - 1][j] if immediate == "h_{t-1}" else model.h[t][j]
            elif param == "W":
                a = model.x[t][j]
            else:
                a = 1
            # (6.27)  P_t = diag(f'(z_t)) (I_i(a) + U P_{t-1})      (H, 1)
            prev = diag_of(apply(fprime, model.z[t])) * (unit(H, i, a) + model.U * prev)
            P[i, j, t] = sp.ImmutableMatrix(prev)
    return P


@cached
def sensitivity_recursion(
    param: str = "U",
    hidden_size: int = 2,
    input_size: int = 2,
    steps: int = 3,
    *,
    immediate: str = "h_{t-1}",
) -> Proof:
    """(6.27): the RTRL recursion equals SymPy's derivative ``dh_t/d param_ij`` for all i, j, t.

    Columns of lhs/rhs run over (i, j, t).
    """
    model = build_srn(hidden_size, input_size, steps)
    P = sensitivities(model, param, immediate=immediate)
    theta = {"U": model.U, "W": model.W, "b": model.b}[param]
    lhs, rhs = [], []
    for i, j, t in P:
        lhs.append(model.h[t].applyfunc(lambda e, s=theta[i, j]: name_derivatives(sp.diff(e, s))))
        rhs.append(P[i, j, t])
    term = {"U": r"[h_{t-1}]_j", "W": r"[x_t]_j", "b": "1"}[param]
    if immediate == "h_t":
        term = r"[h_{t}]_j"
    sym = r"b_i" if param == "b" else rf"{param}_{{ij}}"
    return prove(
        f"rtrl.sensitivity_{param}" + ("" if immediate == "h_{t-1}" else "[h_t]"),
        rf"\frac{{\partial h_t}}{{\partial {sym}}} ="
        rf" \operatorname{{diag}}(f'(z_t))"
        rf"\left(\mathbb{{I}}_i({term}) + U \frac{{\partial"
        rf" h_{{t-1}}}}{{\partial {sym}}}\right)",
        sp.Matrix.hstack(*lhs),
        sp.Matrix.hstack(*rhs),
        source="003 (6.24)-(6.27), lines 241-249",
        note=f"H={model.H}, D={model.D}, T={model.T}; column form; P_0 = 0.",
    )


@cached
def rtrl_equals_bptt(
    param: str = "U", hidden_size: int = 2, input_size: int = 2, steps: int = 3
) -> Proof:
    """(6.28) summed over t equals the BPTT closed form (6.21)-(6.23)."""
    model = build_srn(hidden_size, input_size, steps)
    P = sensitivities(model, param)
    delta = closed_form_deltas(model)
    theta = {"U": model.U, "W": model.W, "b": model.b}[param]
    lhs = sp.zeros(*theta.shape)
    for i, j, t in P:
        # (6.28)  dL_t/d theta_ij = P_t^T dL_t/dh_t              (scalar)
        lhs[i, j] += (P[i, j, t].T * model.dloss_dh(t))[0, 0]
    rhs = sp.zeros(*theta.shape)
    for t in range(1, model.T + 1):
        for k in range(1, t + 1):
            a = {"U": model.h[k - 1].T, "W": model.x[k].T, "b": sp.ones(1, 1)}[param]
            # (6.21)-(6.23)  sum_t sum_k delta_{t,k} a_k^T      theta's shape
            rhs += delta[t, k] * a
    sym = r"b" if param == "b" else param
    return prove(
        f"rtrl.equals_bptt_{param}",
        rf"\sum_{{t}} \Big(\frac{{\partial h_t}}{{\partial {sym}}}\Big)^{{\top}}"
        rf"\frac{{\partial \mathcal{{L}}_t}}{{\partial h_t}} = "
        rf"\sum_{{t}} \sum_{{k \le t}} \delta_{{t,k}} \cdots",
        lhs,
        rhs,
        source="003 (6.28) against (6.21)-(6.23)",
        note=f"H={model.H}, D={model.D}, T={model.T}; forward mode and reverse mode agree exactly.",
    )


@cached
def row_form(hidden_size: int = 2) -> Proof:
    """(6.25)-(6.27) in the textbook's row layout equal the transpose of the column form.

    ``(I_i(a)^T + p^T U^T) diag(d) = (diag(d) (I_i(a) + U p))^T`` and the
    ``diag(d)`` product equals the elementwise product with ``d^T`` (6.27),
    for symbolic ``p``, ``d`` (H, 1), ``U`` (H, H), ``a``, ``i = 1``.
    """
    model = build_srn(hidden_size, 1, 1)
    H = model.H
    p = sp.ImmutableMatrix(sp.symbols(f"p_1:{H + 1}"))
    d = sp.ImmutableMatrix(sp.symbols(f"d_1:{H + 1}"))
    e = unit(H, 0, sp.Symbol("a"))
    row = (e.T + p.T * model.U.T) * diag_of(d)  # (6.26), (1, H)
    hadamard = (e.T + p.T * model.U.T).multiply_elementwise(d.T)  # (6.27), (1, H)
    column = diag_of(d) * (e + model.U * p)  # column form, (H, 1)
    return prove(
        "rtrl.row_form",
        r"\left(\mathbb{I}_i(a)^{\top} + p^{\top}"
        r" U^{\top}\right)\operatorname{diag}(d)"
        r" = \left(\mathbb{I}_i(a)^{\top} + p^{\top}"
        r" U^{\top}\right) \odot d^{\top}"
        r" = \left(\operatorname{diag}(d)(\mathbb{I}_i(a) + Up)\right)^{\top}",
        sp.Matrix.vstack(row, hadamard),
        sp.Matrix.vstack(column.T, column.T),
        source="003 (6.25)-(6.27)",
        note=f"H={H}; layout only.",
    )


def all_proofs(hidden_size: int = 2, input_size: int = 2, steps: int = 3) -> tuple[Proof, ...]:
    """The RTRL identities of the book at the given sizes (each should hold)."""
    sizes = (hidden_size, input_size, steps)
    return (
        tuple(sensitivity_recursion(p, *sizes) for p in ("U", "W", "b"))
        + tuple(rtrl_equals_bptt(p, *sizes) for p in ("U", "W", "b"))
        + (row_form(hidden_size),)
    )


def disagreements() -> tuple[Proof, ...]:
    """The textbook's RTRL recursion as printed (h_k read as h_t): should not hold."""
    return (sensitivity_recursion("U", immediate="h_t"),)
