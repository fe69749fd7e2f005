"""The chain rule over time in the Q&A's form (source 004, lines 223-236), checked.

The Q&A writes the step with ``h^(t) = phi(U x^(t) + W h^(t-1) + b)``: its U is
the book's W (input-to-hidden) and its W the book's U (hidden-to-hidden).
Translated to the book's letters, its general formula (lines 232, 236) reads

    dL_t/dU_ij = sum_{k=1}^{t} (dL_t/dh_t)^T (prod_{j=t}^{k+1} dh_j/dh_{j-1}) d+h_k/dU_ij

with ``dh_j/dh_{j-1} = diag(f'(z_j)) U`` and the immediate derivative
``d+h_k/dU_ij = diag(f'(z_k)) I_i([h_{k-1}]_j)`` (for W: ``I_i([x_k]_j)``). The
Q&A starts the sum at k = 0; that term is 0, since h_0 does not depend on
the parameters.

Disagreements with the source
-----------------------------
- 004 lines 232 and 236 write the product as ``prod_{j=k+1}^{t}``. The
  Jacobians do not commute: with the row vector ``dL_t/dh_t`` on the left, the
  newest factor ``dh_t/dh_{t-1}`` must come first. Read in increasing j, left
  to right, the formula fails: ``chain_rule("U", order="ascending")`` holds=False,
  ``chain_rule("U")`` holds=True. The three-step expansions of lines 223 and 227
  write the factors in the right order.
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
    gradient,
    prove,
    unit,
)
from rnnbook.symbolic.gradient_bound import ordered_product
from rnnbook.symbolic.model import build_srn


@cached
def chain_rule(
    param: str = "U",
    hidden_size: int = 2,
    input_size: int = 2,
    steps: int = 3,
    *,
    order: str = "descending",
) -> Proof:
    """The Q&A's sum over paths for ``dL_T/d param`` against SymPy's derivative of ``L_T``.

    Args:
        param: ``"U"`` (recurrent; the Q&A's W) or ``"W"`` (input; the Q&A's U).
        hidden_size, input_size, steps: H, D, T (ints >= 1).
        order: ``"descending"`` (newest Jacobian first, right) or ``"ascending"``.
    """
    check_choice("param", param, ("U", "W"))
    check_choice("order", order, ("descending", "ascending"))
    model = build_srn(hidden_size, input_size, steps)
    H, T = model.H, model.T
    theta = model.U if param == "U" else model.W
    lhs = gradient(model.loss(T), theta)
    g = model.dloss_dh(T)  # dL_T/dh_T, (H, 1)
    # J_j = dh_j/dh_{j-1} = diag(f'(z_j)) U                      (H, H)
    J = {j: diag_of(apply(fprime, model.z[j])) * model.U for j in range(1, T + 1)}
    rhs = sp.zeros(*theta.shape)
    for i in range(theta.shape[0]):
        for j in range(theta.shape[1]):
            for k in range(1, T + 1):
                a = model.h[k - 1][j] if param == "U" else model.x[k][j]
                # d+h_k/d theta_ij = diag(f'(z_k)) I_i(a_k)           (H, 1)
                immediate = diag_of(apply(fprime, model.z[k])) * unit(H, i, a)
                factors = {m: J[m] for m in range(k + 1, T + 1)}
                path = ordered_product(factors, order) if factors else sp.eye(H)
                rhs[i, j] += (g.T * path * immediate)[0, 0]
    return prove(
        f"chain_rule.{param}" + ("" if order == "descending" else "[ascending]"),
        rf"\frac{{\partial \mathcal{{L}}_t}}{{\partial {param}}} = \sum_{{k=1}}^{{t}}"
        + r" \frac{\partial \mathcal{L}_t}{\partial h_t}"
        # the product's bounds say in which order its factors are multiplied, left to right
        + (r" \Big(\prod_{j=t}^{k+1}" if order == "descending" else r" \Big(\prod_{j=k+1}^{t}")
        + r" \frac{\partial h_j}{\partial h_{j-1}}\Big)"
        + rf" \frac{{\partial^+ h_k}}{{\partial {param}}}",
        lhs,
        rhs,
        source="004 lines 223-236 (its W is the book's U)",
        note=f"H={H}, D={model.D}, T={T}; t = T; product {order}.",
    )


def all_proofs(hidden_size: int = 2, input_size: int = 2, steps: int = 3) -> tuple[Proof, ...]:
    """The Q&A's chain rule, with the product in the right order, for U and W."""
    return tuple(chain_rule(p, hidden_size, input_size, steps) for p in ("U", "W"))


def disagreements() -> tuple[Proof, ...]:
    """The Q&A's product read as printed (increasing j): should not hold."""
    return (chain_rule("U", order="ascending"),)
