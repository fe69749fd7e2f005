"""Backpropagation through time, textbook (6.13)-(6.23), derived by SymPy and compared.

The error term is the textbook's (6.16): ``delta_{t,k} = dL_t/dz_k`` (H, 1), the
gradient of the loss at step t with respect to the net input at step k <= t.

    (6.18)  delta_{t,k} = diag(f'(z_k)) U^T delta_{t,k+1},   delta_{t,t} = diag(f'(z_t)) dL_t/dh_t
    (6.21)  dL/dU = sum_t sum_{k<=t} delta_{t,k} h_{k-1}^T
    (6.22)  dL/dW = sum_t sum_{k<=t} delta_{t,k} x_k^T
    (6.23)  dL/db = sum_t sum_{k<=t} delta_{t,k}

SymPy's side: the loss is written as a function of the unrolled network and
differentiated by ``sympy.diff``; the closed forms are computed by the
recursion above. ``f`` and the losses ``l_t`` are undefined functions.

Disagreements with the source
-----------------------------
- 003, (6.15) line 190, and its consequences (6.19) line 213, (6.20) line 217,
  (6.21) line 223: the direct derivative of ``z_k = U h_{k-1} + W x_k + b`` by
  ``U_ij`` is ``I_i([h_{k-1}]_j)``, not ``I_i([h_k]_j)``; so (6.21) must read
  ``sum_t sum_k delta_{t,k} h_{k-1}^T``. Decided by
  ``parameter_gradient("U", state_index="k")`` (holds=False) against
  ``parameter_gradient("U")`` (holds=True). The text above (6.13), line 179,
  states ``z_k = U h_{k-1} + ...`` correctly; only the displayed equations slip.
- 003 (6.18): correct as printed (``error_recursion()`` holds; the variant
  with ``U`` in place of ``U^T`` does not).
"""

from __future__ import annotations

import sympy as sp

from rnnbook.symbolic._proof import (
    Proof,
    apply,
    cached,
    check_choice,
    diag_of,
    f,
    fprime,
    gradient,
    name_derivatives,
    prove,
    vector,
)
from rnnbook.symbolic.model import SymbolicSRN, build_srn


def sympy_delta(model: SymbolicSRN, t: int, k: int) -> sp.ImmutableMatrix:
    """``dL_t/dz_k`` (H, 1) by SymPy: z_k is cut free, the net is rerun from it, and differentiated.

    Args:
        model: the unrolled network.  t: loss step, 1..T.  k: 1..t.
    """
    Z = vector(rf"\zeta_{k}", model.H)  # free stand-in for z_k, (H, 1)
    _, h = model.run_from(k, apply(f, Z))  # h_k = f(z_k) and on
    L_t = model.loss(t, h[t])
    grad = [name_derivatives(sp.diff(L_t, s)) for s in Z]
    back = dict(zip(Z, model.z[k], strict=True))
    return sp.ImmutableMatrix([g.xreplace(back) for g in grad])


def closed_form_deltas(model: SymbolicSRN, *, recurrent: str = "U^T") -> dict:
    """All ``delta_{t,k}`` (H, 1) by the recursion (6.18); keys (t, k).

    Args:
        recurrent: ``"U^T"`` (the textbook's (6.18)) or ``"U"`` (a wrong variant, for tests).
    """
    check_choice("recurrent", recurrent, ("U^T", "U"))
    R = model.U.T if recurrent == "U^T" else model.U  # (H, H)
    delta = {}
    for t in range(1, model.T + 1):
        # delta_{t,t} = diag(f'(z_t)) dL_t/dh_t           (H, 1)
        delta[t, t] = diag_of(apply(fprime, model.z[t])) * model.dloss_dh(t)
        for k in range(t - 1, 0, -1):
            # (6.18)  delta_{t,k} = diag(f'(z_k)) U^T delta_{t,k+1}   (H, 1)
            delta[t, k] = diag_of(apply(fprime, model.z[k])) * R * delta[t, k + 1]
    return delta


@cached
def error_recursion(
    hidden_size: int = 2, input_size: int = 2, steps: int = 3, *, recurrent: str = "U^T"
) -> Proof:
    """(6.18): SymPy's ``dL_t/dz_k`` equals ``diag(f'(z_k)) U^T dL_t/dz_{k+1}`` for all k < t.

    Both sides use SymPy's own ``delta``; the columns of lhs and rhs run over the pairs (t, k).
    """
    check_choice("recurrent", recurrent, ("U^T", "U"))
    model = build_srn(hidden_size, input_size, steps)
    R = model.U.T if recurrent == "U^T" else model.U
    lhs, rhs = [], []
    for t in range(1, model.T + 1):
        d = {k: sympy_delta(model, t, k) for k in range(1, t + 1)}
        # base case: delta_{t,t} = diag(f'(z_t)) dL_t/dh_t
        lhs.append(d[t])
        rhs.append(diag_of(apply(fprime, model.z[t])) * model.dloss_dh(t))
        for k in range(1, t):
            lhs.append(d[k])
            rhs.append(diag_of(apply(fprime, model.z[k])) * R * d[k + 1])
    sym = r"U^{\top}" if recurrent == "U^T" else "U"
    return prove(
        "bptt.error_recursion" + ("" if recurrent == "U^T" else "[U]"),
        r"\delta_{t,k} = \operatorname{diag}(f'(z_k))\," + sym + r"\,\delta_{t,k+1}",
        sp.Matrix.hstack(*lhs),
        sp.Matrix.hstack(*rhs),
        source="003 (6.16)-(6.18), lines 205-209",
        note=f"H={model.H}, D={model.D}, T={model.T}; all pairs k <= t, with the base case k = t.",
    )


_FACTOR = {"U": r"h_{k-1}^{\top}", "W": r"x_k^{\top}", "b": ""}


@cached
def parameter_gradient(
    param: str,
    hidden_size: int = 2,
    input_size: int = 2,
    steps: int = 3,
    *,
    state_index: str = "k-1",
    recurrent: str = "U^T",
) -> Proof:
    """(6.21)-(6.23): SymPy's ``dL/d param`` equals the BPTT closed form.

    Args:
        param: ``"U"``, ``"W"`` or ``"b"``.
        hidden_size, input_size, steps: H, D, T (each an int >= 1).
        state_index: for ``"U"``, the factor ``h_{k-1}`` (``"k-1"``, right) or
            ``h_k`` (``"k"``, as printed in the textbook's (6.20)-(6.21)).
        recurrent: passed to :func:`closed_form_deltas`.
    """
    check_choice("param", param, ("U", "W", "b"))
    check_choice("state_index", state_index, ("k-1", "k"))
    model = build_srn(hidden_size, input_size, steps)
    delta = closed_form_deltas(model, recurrent=recurrent)
    P = {"U": model.U, "W": model.W, "b": model.b}[param]
    lhs = gradient(model.total_loss(), P)
    rhs = sp.zeros(*P.shape)
    shift = 1 if state_index == "k-1" else 0
    for t in range(1, model.T + 1):
        for k in range(1, t + 1):
            if param == "U":
                # (6.21)  delta_{t,k} h_{k-1}^T                 (H, H)
                rhs += delta[t, k] * model.h[k - shift].T
            elif param == "W":
                # (6.22)  delta_{t,k} x_k^T                     (H, D)
                rhs += delta[t, k] * model.x[k].T
            else:
                # (6.23)  delta_{t,k}                           (H, 1)
                rhs += delta[t, k]
    factor = _FACTOR[param] if state_index == "k-1" else r"h_{k}^{\top}"
    symbol = r"b" if param == "b" else param
    number = {"U": "6.21", "W": "6.22", "b": "6.23"}[param]
    variant = "" if (state_index, recurrent) == ("k-1", "U^T") else f"[{state_index},{recurrent}]"
    return prove(
        f"bptt.gradient_{param}{variant}",
        rf"\frac{{\partial \mathcal{{L}}}}{{\partial {symbol}}} = "
        rf"\sum_{{t=1}}^{{T}} \sum_{{k=1}}^{{t}} \delta_{{t,k}} {factor}",
        lhs,
        rhs,
        source=f"003 ({number})",
        note=f"H={model.H}, D={model.D}, T={model.T}; h_0 symbolic; delta by the recursion (6.18).",
    )


def all_proofs(hidden_size: int = 2, input_size: int = 2, steps: int = 3) -> tuple[Proof, ...]:
    """The BPTT identities of the book at the given sizes (each should hold)."""
    return (error_recursion(hidden_size, input_size, steps),) + tuple(
        parameter_gradient(p, hidden_size, input_size, steps) for p in ("U", "W", "b")
    )


def disagreements() -> tuple[Proof, ...]:
    """The textbook's equations as printed where they are wrong (each should not hold)."""
    return (parameter_gradient("U", state_index="k"),)
