"""The simple recurrent network with symbolic entries, unrolled over T steps.

    (6.3)-(6.4)  z_t = U h_{t-1} + W x_t + b ;  h_t = f(z_t)

``U`` (H, H), ``W`` (H, D), ``b`` (H, 1), ``x_t`` (D, 1), ``h_t`` (H, 1) are
matrices of SymPy symbols; ``f`` is an undefined function, so every identity
proved on this model holds for any differentiable activation. The loss at
step t is ``L_t = l_t(h_t)`` with ``l_t`` an undefined function of the H
entries of ``h_t``: any differentiable loss (cross-entropy after an output
layer included), since only its gradient at ``h_t`` enters BPTT and RTRL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rnnbook.symbolic._proof import (
    apply,
    check_choice,
    check_size,
    derivative_function,
    f,
    fprime,
    matrix,
    vector,
)

# f is the activation (an undefined function) and fprime its derivative f';
# both are exported for chapters that put numbers into a proof's expressions.
__all__ = ["StepLosses", "SymbolicSRN", "build_srn", "f", "fprime", "loss_function"]


def loss_function(t: int) -> sp.FunctionClass:
    """The undefined per-step loss ``l_t``."""
    return sp.Function(rf"\ell_{t}")


class StepLosses:
    """The losses of an unrolled model with states ``self.h[t]`` (H, 1), t = 1..T.

    Each l_t is an undefined function of the H entries of h_t, so a proof that holds
    holds for every differentiable per-step loss. Shared by the SRN, LSTM and GRU models.
    """

    def loss(self, t: int, h_t: sp.MatrixBase | None = None):
        """``L_t = l_t(h_t)``: the undefined loss of step t at ``h_t`` (default: the model's)."""
        h_t = self.h[t] if h_t is None else h_t
        return loss_function(t)(*list(h_t))

    def total_loss(self):
        """(6.11)  L = sum_t L_t."""
        return sum(self.loss(t) for t in range(1, self.T + 1))

    def dloss_dh(self, t: int) -> sp.ImmutableMatrix:
        """``dL_t/dh_t`` (H, 1): the named partial derivatives of ``l_t`` at ``h_t``."""
        args = list(self.h[t])
        return sp.ImmutableMatrix(
            [derivative_function(loss_function(t), i, self.H)(*args) for i in range(self.H)]
        )


@dataclass(frozen=True)
class SymbolicSRN(StepLosses):
    """An SRN unrolled over ``T`` steps with symbolic parameters and inputs.

    Attributes:
        H, D, T: hidden size, input size, number of steps.
        U: (H, H) hidden-to-hidden; W: (H, D) input-to-hidden; b: (H, 1).
        x: dict t -> x_t (D, 1) for t = 1..T.
        z: dict t -> z_t (H, 1) for t = 1..T (net input).
        h: dict t -> h_t (H, 1) for t = 0..T (h_0 symbols, or 0).
    """

    H: int
    D: int
    T: int
    U: sp.ImmutableMatrix
    W: sp.ImmutableMatrix
    b: sp.ImmutableMatrix
    x: dict
    z: dict
    h: dict

    def run_from(self, k: int, h_k: sp.MatrixBase) -> tuple[dict, dict]:
        """Run (6.3)-(6.4) from step k+1 on, starting at the given ``h_k`` (H, 1).

        Returns ``(z, h)``: dicts over t = k+1..T (and ``h[k] = h_k``).
        """
        z, h = {}, {k: sp.ImmutableMatrix(h_k)}
        for t in range(k + 1, self.T + 1):
            # (6.3)  z_t = U h_{t-1} + W x_t + b          (H, 1)
            z[t] = self.U * h[t - 1] + self.W * self.x[t] + self.b
            # (6.4)  h_t = f(z_t)                           (H, 1)
            h[t] = apply(f, z[t])
        return z, h


def build_srn(
    hidden_size: int = 2, input_size: int = 2, steps: int = 3, *, h0: str = "symbols"
) -> SymbolicSRN:
    """Unroll a symbolic SRN.

    Args:
        hidden_size: H >= 1.  input_size: D >= 1.  steps: T >= 1.
        h0: ``"symbols"`` (h_0 is a column of symbols) or ``"zero"`` (h_0 = 0, as (6.2)).
    """
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    T = check_size("steps", steps)
    check_choice("h0", h0, ("symbols", "zero"))
    U, W, b = matrix("U", H, H), matrix("W", H, D), vector("b", H)
    x = {t: vector(f"x_{t}", D) for t in range(1, T + 1)}
    h_0 = vector("h_0", H) if h0 == "symbols" else sp.zeros(H, 1)
    model = SymbolicSRN(H, D, T, U, W, b, x, {}, {})
    z, h = model.run_from(0, h_0)
    return SymbolicSRN(H, D, T, U, W, b, x, z, h)
