"""Checks of the notes on the sources' BPTT and long-term-dependency passages.

Each test names the note of ``book/notes_on_sources.md`` it decides and the
source line it checks ("003 line 209": file ``003_7b1546038586aa35.txt``,
line 209). Where a source's statement is wrong, the test shows the statement
as printed failing and the corrected statement holding; the two sides of each
comparison are built independently (SymPy's own derivative, or a direct
computation, against the formula).
"""

import numpy as np
import sympy as sp

from rnnbook.scratch import bptt as scratch_bptt
from rnnbook.symbolic import chain_rule
from rnnbook.symbolic._proof import (
    apply,
    diag_of,
    f,
    fprime,
    gradient,
    name_derivatives,
    prove,
    vector,
)
from rnnbook.symbolic.bptt import sympy_delta
from rnnbook.symbolic.gradient_bound import ordered_product
from rnnbook.symbolic.model import build_srn

# --- chapter 3: backpropagation through time ------------------------------------------------


def test_error_recursion_needs_its_base_case():
    """Note ``note-bptt-base-case``: 003 (6.16)-(6.18), lines 205-209.

    The recursion (6.18) holds for k < t only. Applied at k = t it would give
    ``delta_{t,t} = diag(f'(z_t)) U^T dL_t/dz_{t+1} = 0``, since L_t does not
    depend on z_{t+1}; SymPy's ``dL_t/dz_t`` is not 0 but
    ``diag(f'(z_t)) dL_t/dh_t``, the base case the source does not state.
    """
    model = build_srn(2, 2, 3)
    for t in range(1, model.T + 1):
        exact = sympy_delta(model, t, t)  # SymPy: z_t cut free, the loss differentiated
        # (6.18) read at k = t: dL_t/dz_{t+1} = 0, so the recursion gives 0
        as_recursion = diag_of(apply(fprime, model.z[t])) * model.U.T * sp.zeros(model.H, 1)
        assert not prove("delta_tt_by_recursion", "", exact, as_recursion).holds
        # the base case: delta_{t,t} = diag(f'(z_t)) dL_t/dh_t
        base = diag_of(apply(fprime, model.z[t])) * model.dloss_dh(t)
        assert prove("delta_tt_base_case", "", exact, base).holds


def _qa_sum_over_paths(model, theta, derivative: str) -> sp.ImmutableMatrix:
    """004 lines 223 and 236, in the book's letters, for ``dL_T/d theta``.

    ``sum_k (dL_T/dh_T)^T (prod_{j=T}^{k+1} dh_j/dh_{j-1}) dh_k/d theta``, with
    ``dh_k/d theta`` the immediate derivative (h_{k-1} held fixed) or the total one.
    Both are computed by SymPy's differentiation, not by a hand formula.
    """
    H, T = model.H, model.T
    g = model.dloss_dh(T)  # (H, 1)
    # dh_j/dh_{j-1} = diag(f'(z_j)) U                               (H, H)
    J = {j: diag_of(apply(fprime, model.z[j])) * model.U for j in range(1, T + 1)}
    out = sp.zeros(*theta.shape)
    for k in range(1, T + 1):
        if derivative == "immediate":
            eta = vector(rf"\eta_{k}", H)  # h_{k-1} held fixed: a free column
            h_k = apply(f, model.U * eta + model.W * model.x[k] + model.b)
            back = dict(zip(eta, model.h[k - 1], strict=True))
        else:
            h_k, back = model.h[k], {}
        factors = {m: J[m] for m in range(k + 1, T + 1)}
        path = ordered_product(factors, "descending") if factors else sp.eye(H)
        for i in range(theta.shape[0]):
            for j in range(theta.shape[1]):
                dh = h_k.diff(theta[i, j]).applyfunc(
                    lambda e, back=back: name_derivatives(e).xreplace(back)
                )
                out[i, j] += (g.T * path * dh)[0, 0]
    return sp.ImmutableMatrix(out)


def test_qa_chain_rule_needs_immediate_derivatives():
    """Note ``note-qa-immediate``: 004 lines 223, 227, 232 and 236.

    In the sum over paths, ``dh^(k)/dW`` must be the immediate derivative, with
    h^(k-1) held fixed (the textbook's ``d+``, 003 line 188). Read as total
    derivatives, as written, the longer paths are counted again inside the
    shorter ones and the sum is not the gradient. Both the recurrent matrix
    (the Q&A's W, the book's U) and the input matrix (its U, the book's W).
    """
    model = build_srn(2, 2, 3)
    for theta in (model.U, model.W):
        exact = gradient(model.loss(model.T), theta)  # SymPy's dL_T/d theta
        total = _qa_sum_over_paths(model, theta, "total")
        assert not prove("qa_paths_total", "", exact, total).holds
        immediate = _qa_sum_over_paths(model, theta, "immediate")
        assert prove("qa_paths_immediate", "", exact, immediate).holds
    # the same with the zero initial state (the sum still counts paths twice at T = 3)
    zero = build_srn(2, 2, 3, h0="zero")
    exact = gradient(zero.loss(zero.T), zero.U)
    assert not prove(
        "qa_paths_total_h0", "", exact, _qa_sum_over_paths(zero, zero.U, "total")
    ).holds
    # the package's own statement of the corrected formula agrees
    assert chain_rule.chain_rule("U").holds and chain_rule.chain_rule("W").holds


# --- chapter 5: long-term dependencies ------------------------------------------------------


def _norm2(v: sp.MatrixBase):
    """Euclidean norm of a vector, exact."""
    return sp.sqrt(sum(e**2 for e in v))


def test_the_bound_needs_a_norm_consistent_with_the_vector_norm():
    """Note ``note-bound-norm``: 002 lines 268-270 and 003 line 271.

    ``||delta^T W diag(f')|| <= ||delta|| ||W|| ||diag(f')||`` needs a matrix norm
    consistent with the vector norm (the induced norm, or Frobenius for the
    Euclidean one). With the largest entry as the "norm" of a matrix, the
    bound fails: W = [[1, 1], [1, 1]], f' = 1, delta_t = (1, 1) gives
    ``||delta_{t-m}|| = 2^m sqrt(2)`` against ``1^m sqrt(2)``. With the
    spectral or Frobenius norm it holds, with equality for the spectral norm.
    """
    W = sp.Matrix([[1, 1], [1, 1]])
    d_f = sp.ones(2, 1)  # f' = 1 (tanh' at 0)
    delta_t = sp.Matrix([1, 1])
    beta_f = max(abs(e) for e in d_f)
    norms = {
        "largest entry": max(abs(e) for e in W),
        "spectral": sp.sqrt(max((W * W.T).eigenvals())),
        "Frobenius": sp.sqrt(sum(e**2 for e in W)),
    }
    assert norms["spectral"] == 2 and norms["largest entry"] == 1
    for m in range(1, 5):
        # 002 line 268: delta_k^T = delta_t^T (W diag f') ... (W diag f'), m = t - k factors
        delta_k = (delta_t.T * (W * diag_of(d_f)) ** m).T
        lhs = _norm2(delta_k)
        assert lhs == 2**m * sp.sqrt(2)
        assert not lhs <= _norm2(delta_t) * (norms["largest entry"] * beta_f) ** m
        assert lhs <= _norm2(delta_t) * (norms["spectral"] * beta_f) ** m
        assert lhs <= _norm2(delta_t) * (norms["Frobenius"] * beta_f) ** m


def _linear_srn(T: int, u: float, dtype=np.float64) -> tuple:
    """An SRN with one unit, f the identity, U = u, h_0 = 0, x = (1, 0, ..., 0).

    Returns ``(x, target, params)`` for a squared loss at the last step, target 0.
    """
    params = {
        "W": np.array([[1.0]]),
        "U": np.array([[u]]),
        "b": np.array([0.0]),
        "V": np.array([[1.0]]),
        "c": np.array([0.0]),
    }
    x = np.zeros((T, 1, 1))
    x[0] = 1.0
    target = np.zeros((1, 1))
    return x.astype(dtype), target.astype(dtype), {k: v.astype(dtype) for k, v in params.items()}


def test_exploding_gradients_are_finite_long_before_they_overflow():
    """Note ``note-explode-nan``: 002 line 272.

    The report says that when gradients explode the program receives NaN. With
    U = 1.5 and T = 100 (one unit, f the identity, ``rnnbook.scratch.bptt.full``)
    the gradient dL/dU is about 5e36, in float64 and in float32 alike: finite,
    no NaN, yet one step of gradient descent with learning rate 1e-3 moves U by
    some 5e33, which wrecks the network. A NaN comes only after overflow: at
    T = 200 the float32 loss overflows to inf and the gradient is NaN, while in
    float64 it is a finite 1.6e72.
    """
    for dtype in (np.float64, np.float32):
        x, target, params = _linear_srn(100, 1.5, dtype)
        L, grads = scratch_bptt.full(
            "srn", x, target, params, loss="squared", on="last", activation="identity"
        )
        # the report's symptom does not occur ...
        assert np.isfinite(L) and all(np.isfinite(g).all() for g in grads.values())
        # ... although the gradient has exploded
        assert abs(grads["U"][0, 0]) > 1e36
        step = params["U"] - np.asarray(1e-3, dtype) * grads["U"]
        assert abs(step[0, 0]) > 1e33
    # NaN needs overflow first: T = 200 overflows in float32, not in float64
    x, target, params = _linear_srn(200, 1.5, np.float64)
    L, grads = scratch_bptt.full(
        "srn", x, target, params, loss="squared", on="last", activation="identity"
    )
    assert np.isfinite(grads["U"]).all() and abs(grads["U"][0, 0]) > 1e72
    x, target, params = _linear_srn(200, 1.5, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        L, grads = scratch_bptt.full(
            "srn", x, target, params, loss="squared", on="last", activation="identity"
        )
    assert np.isinf(L) and np.isnan(grads["U"]).all()


def test_weight_decay_does_not_force_gamma_below_one():
    """Note ``note-weight-decay``: 003 line 294.

    The textbook says an L1 or L2 penalty keeps gamma <= 1. A penalty shrinks the
    weights by an amount set by its strength, and nothing more: for the one-unit
    linear network h_2 = u h_1, h_1 = x_1 = 1, with the target h_2 = 2, the loss
    ``(u - 2)^2 / 2 + lam u^2 / 2`` is smallest at ``u = 2 / (1 + lam)``, so
    ``gamma = |u|`` (f' = 1) exceeds 1 for every lam < 1; with ``lam |u|`` the
    minimiser is ``2 - lam``, above 1 for lam < 1.
    """
    u, lam = sp.symbols("u lambda", positive=True)
    data = (u * 1 - 2) ** 2 / 2  # h_2 = u h_1 with h_1 = 1, target 2
    (u_l2,) = sp.solve(sp.diff(data + lam * u**2 / 2, u), u)
    (u_l1,) = sp.solve(sp.diff(data + lam * u, u), u)  # u > 0, so |u| = u
    assert sp.simplify(u_l2 - 2 / (1 + lam)) == 0 and sp.simplify(u_l1 - (2 - lam)) == 0
    # the textbook's version: gamma <= 1 under weight decay, fails at lam = 1/10
    small = sp.Rational(1, 10)
    assert u_l2.subs(lam, small) == sp.Rational(20, 11) > 1
    assert u_l1.subs(lam, small) == sp.Rational(19, 10) > 1
    # the corrected version: the penalty shrinks u, and gamma <= 1 only from lam = 1 on
    assert sp.diff(u_l2, lam).is_negative and sp.diff(u_l1, lam).is_negative
    assert sp.solve(sp.Eq(u_l2, 1), lam) == [1] and sp.solve(sp.Eq(u_l1, 1), lam) == [1]


def test_u_identity_and_linear_f_give_an_affine_update():
    """Note ``note-631-affine``: 003 lines 296-300, (6.31).

    The textbook obtains (6.31), ``h_t = h_{t-1} + g(x_t; theta)`` with g
    nonlinear, by setting U = I and f' = 1 in the SRN. With f' = 1, f is the
    identity (up to a constant) and the SRN step becomes ``h_t = h_{t-1} + W x_t + b``:
    the increment is affine in x_t (its second derivatives vanish), not a
    nonlinear g. A nonlinear g with ``dh_t/dh_{t-1} = I`` comes from moving the
    nonlinearity off the recurrent edge, ``h_t = h_{t-1} + f(W x_t + b)``.
    """
    H, D = 2, 2
    h_prev, x = vector("h", H), vector("x", D)
    W, b = sp.Matrix(H, D, sp.symbols("w1:5")), vector("b", H)
    # the SRN step (6.3)-(6.4) with U = I and f the identity
    srn_step = sp.eye(H) * h_prev + W * x + b
    increment = srn_step - h_prev
    hessians = [sp.hessian(e, list(x)) for e in increment]
    assert all(hs == sp.zeros(D, D) for hs in hessians)  # affine: no nonlinear g arises
    # the cell (6.31) describes: f on the input path only, here f = tanh
    residual = h_prev + (W * x + b).applyfunc(sp.tanh)
    assert residual.jacobian(h_prev) == sp.eye(H)
    assert any(sp.hessian(e, list(x)) != sp.zeros(D, D) for e in residual - h_prev)


def test_residual_update_632_can_still_explode_or_vanish():
    """Note ``note-632-jacobian``: 003 lines 306-308, (6.32).

    For (6.31) the Jacobian of n steps is exactly I. For (6.32),
    ``dh_t/dh_{t-1} = I + dg/dh_{t-1}``: with one unit and
    ``g(x, h) = tanh(a h)`` (x = 0), h = 0 is a fixed point and the Jacobian of
    n steps there is ``(1 + a)^n``: it explodes for a > 0 and vanishes for
    -2 < a < 0. The update is free of both problems only while dg/dh is small.
    """
    h0, a = sp.Symbol("h0"), sp.Symbol("a")
    n = 6
    h_631, h_632 = h0, h0
    for _ in range(n):
        h_631 = h_631 + sp.tanh(sp.Rational(1, 3))  # (6.31): g(x_t) does not read h
        h_632 = h_632 + sp.tanh(a * h_632)  # (6.32): g(x_t, h_{t-1})
    assert sp.diff(h_631, h0) == 1
    jac = sp.simplify(sp.diff(h_632, h0).subs(h0, 0))
    assert sp.expand(jac - (1 + a) ** n) == 0
    assert jac.subs(a, sp.Rational(1, 2)) == sp.Rational(3, 2) ** n  # > 11: grows
    assert jac.subs(a, sp.Rational(-3, 2)) == sp.Rational(1, 2) ** n  # < 0.02: vanishes


def test_logistic_residual_state_grows_and_stops_taking_inputs():
    """Note ``note-capacity``: 003 line 308.

    With g the logistic function of ``w x_t + u h_{t-1}`` in (6.32), the textbook
    says h_t "becomes saturated". Each increment lies in (0, 1), so h_t grows
    without bound (here by more than 0.99 T over T = 200 steps): the state is
    not saturated. What saturates is g: sigma'(w x_t + u h_{t-1}) falls below
    1e-40, so the step's input no longer changes the state, while the first
    input still shifts h_T. With u = 0 (g reads only x_t, as in (6.31)) nothing
    saturates and the last input enters as the first did.
    """
    rng = np.random.default_rng(0)
    T = 200
    x = rng.choice([-1.0, 1.0], size=T)

    def run(xs, u):
        h, hs = 0.0, []
        for x_t in xs:
            h = h + 1 / (1 + np.exp(-(x_t + u * h)))  # h_t = h_{t-1} + sigma(x_t + u h_{t-1})
            hs.append(h)
        return np.array(hs)

    h = run(x, 1.0)
    assert np.all(np.diff(h) > 0) and h[-1] > 0.99 * T  # unbounded, not saturated
    a_T = x[-1] + h[-2]
    assert np.exp(-a_T) / (1 + np.exp(-a_T)) ** 2 < 1e-40  # g saturated
    flip_last, flip_first = x.copy(), x.copy()
    flip_last[-1] *= -1
    flip_first[0] *= -1
    assert run(flip_last, 1.0)[-1] == h[-1]  # the last input is not stored at all
    assert abs(run(flip_first, 1.0)[-1] - h[-1]) > 0.1  # the first one is
    h0 = run(x, 0.0)
    assert abs(run(flip_last, 0.0)[-1] - h0[-1]) > 0.4  # with u = 0 the last input enters
