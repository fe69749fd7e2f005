"""Products of Jacobians and the bound behind vanishing and exploding gradients.

Identities (proved, f undefined, at the stated sizes):

    dh_t/dh_k = diag(f'(z_t)) U diag(f'(z_{t-1})) U ... diag(f'(z_{k+1})) U   (newest factor left)
    (6.29)  delta_{t,k} = [diag(f'(z_k)) U^T] ... [diag(f'(z_{t-1})) U^T] delta_{t,t}
    (6.31)  h_t = h_{t-1} + g(x_t)          =>  dh_t/dh_{t-1} = I
    (6.32)  h_t = h_{t-1} + g(x_t, h_{t-1}) =>  dh_t/dh_{t-1} = I + dg/dh_{t-1}

The bound, with beta_f >= |f'| and beta_W = ||U||_2 (spectral norm):

    ||diag(f'(z_k)) U^T v|| <= beta_f beta_W ||v||          (one step)
    ||delta_{t,k}|| <= (beta_W beta_f)^(t-k) ||delta_{t,t}|| (t - k steps, by induction)

``beta_f = 1`` for tanh and ``1/4`` for the logistic sigmoid are proved in
:func:`activation_derivative_bounds`.

What is proved and what is checked. The diagonal half of the step,
``||diag(d) w|| <= beta_f ||w||`` for ``|d_i| <= beta_f``, is proved for
symbolic entries (:func:`diagonal_step_bound`). The other half,
``||U^T v|| <= ||U||_2 ||v||``, is the definition of the spectral norm (a
theorem, not re-proved here); it and the whole bound are *checked* on random
rational instances in exact arithmetic: ``||U||_2^2`` is the largest root of
``det(lambda I - U U^T)``, and "largest root >= r" is decided by counting roots
in ``[r, oo)`` with Sturm sequences (SymPy ``count_roots``), so no rounding
enters (:func:`step_bound_instances`, :func:`multi_step_bound_instances`).

Disagreements with the source
-----------------------------
- 002 line 268: ``delta_k^T = delta_t^T prod_{i=k}^{t-1} W diag[f'(net_i)]``
  (W is the report's hidden-to-hidden matrix, line 38). Read as a product in
  increasing i, left to right, the factors are in the wrong order: the right
  one is ``delta_t^T W diag(f'(net_{t-1})) ... W diag(f'(net_k))``.
  Decided by ``course_report_product("ascending")`` (holds=False) against
  ``course_report_product("descending")`` (holds=True). The two inequalities
  of line 268 are right (they are bounds, not equalities).
- 002 line 270 and 003 line 275: a bound above 1 does not make the error
  grow: with ``U = [[0, 2], [0, 0]]`` and ``f`` the identity,
  ``beta_W beta_f = 2`` yet ``delta_{t,t-2} = 0`` (:func:`bound_is_not_growth`).
  Only ``beta_W beta_f < 1`` has a consequence (vanishing).
- 003 (6.30), line 273: ``delta_{t,k} = gamma^{t-k} delta_{t,t}`` is stated as
  an equality; it is only a bound on norms,
  ``||delta_{t,k}|| <= gamma^{t-k} ||delta_{t,t}||`` with gamma the largest
  ``||diag(f'(z_i)) U^T||``. :func:`textbook_equality_630` gives an exact
  instance where the equality fails and the bound holds.
- 003 line 281 says the derivatives of the logistic function and tanh are
  "all less than 1": they are at most 1 (``tanh'(0) = 1``), and at most 1/4 for
  the logistic function (:func:`activation_derivative_bounds`:
  ``1 - tanh'(z) = tanh(z)^2``, zero at z = 0). 004 line 251 states the ranges
  (0, 0.25] and (0, 1] correctly.
- 003 (6.29): correct when the product is taken in increasing i from left to
  right (:func:`delta_product`).
- 004 line 255: ``prod_{j=k+1}^t dh^j/dh^{j-1} = prod_{j=k+1}^t tanh' . W_s``:
  each factor is the matrix ``diag(tanh'(z_j)) W`` (W, the Q&A's recurrent
  matrix; ``W_s`` is not defined there), and the product must be taken with
  the newest factor on the left; in increasing j it is wrong
  (``jacobian_product(order="ascending")`` holds=False).
"""

from __future__ import annotations

import random

import sympy as sp

from rnnbook.symbolic._proof import (
    Proof,
    apply,
    cached,
    check_choice,
    check_size,
    diag_of,
    fprime,
    name_derivatives,
    prove,
    vector,
)
from rnnbook.symbolic.bptt import sympy_delta
from rnnbook.symbolic.model import build_srn

_ORDERS = ("descending", "ascending")


def ordered_product(factors: dict, order: str) -> sp.ImmutableMatrix:
    """Product of ``factors[j]``, j decreasing (``"descending"``) or increasing, left to right."""
    keys = sorted(factors, reverse=(order == "descending"))
    out = sp.eye(factors[keys[0]].shape[0])
    for j in keys:
        out = out * factors[j]
    return sp.ImmutableMatrix(out)


@cached
def jacobian_product(
    hidden_size: int = 2, input_size: int = 2, steps: int = 3, *, order: str = "descending"
) -> Proof:
    """SymPy's Jacobian ``dh_t/dh_k`` equals ``prod_{j=t}^{k+1} diag(f'(z_j)) U`` for all k < t."""
    check_choice("order", order, _ORDERS)
    model = build_srn(hidden_size, input_size, steps)
    lhs, rhs = [], []
    for k in range(0, model.T):
        Hk = vector(rf"\eta_{k}", model.H)  # free stand-in for h_k, (H, 1)
        _, h = model.run_from(k, Hk)
        back = dict(zip(Hk, model.h[k], strict=True))
        for t in range(k + 1, model.T + 1):
            J = h[t].jacobian(Hk).applyfunc(lambda e, back=back: name_derivatives(e).xreplace(back))
            lhs.append(J)
            # J_j = dh_j/dh_{j-1} = diag(f'(z_j)) U        (H, H)
            factors = {j: diag_of(apply(fprime, model.z[j])) * model.U for j in range(k + 1, t + 1)}
            rhs.append(ordered_product(factors, order))
    return prove(
        "bound.jacobian_product" + ("" if order == "descending" else "[ascending]"),
        r"\frac{\partial h_t}{\partial h_k} = "
        # the product's bounds say in which order its factors are multiplied, left to right
        + (r"\prod_{j=t}^{k+1}" if order == "descending" else r"\prod_{j=k+1}^{t}")
        + r" \operatorname{diag}(f'(z_j))\, U"
        + (
            r" \quad(\text{newest factor on the left})"
            if order == "descending"
            else r" \quad(\text{oldest factor on the left})"
        ),
        sp.Matrix.hstack(*lhs),
        sp.Matrix.hstack(*rhs),
        source="003 (6.29) in state space; 004 line 255",
        note=f"H={model.H}, D={model.D}, T={model.T}; all pairs 0 <= k < t.",
    )


@cached
def delta_product(
    hidden_size: int = 2, input_size: int = 2, steps: int = 3, *, order: str = "ascending"
) -> Proof:
    """(6.29): SymPy's ``delta_{t,k}`` is ``prod_{i=k}^{t-1} (diag(f'(z_i)) U^T) delta_{t,t}``."""
    check_choice("order", order, _ORDERS)
    model = build_srn(hidden_size, input_size, steps)
    lhs, rhs = [], []
    for t in range(1, model.T + 1):
        d_tt = sympy_delta(model, t, t)
        for k in range(1, t):
            lhs.append(sympy_delta(model, t, k))
            factors = {i: diag_of(apply(fprime, model.z[i])) * model.U.T for i in range(k, t)}
            rhs.append(ordered_product(factors, order) * d_tt)
    return prove(
        "bound.delta_product" + ("" if order == "ascending" else "[descending]"),
        r"\delta_{t,k} = "
        # the product's bounds say in which order its factors are multiplied, left to right
        + (r"\prod_{i=k}^{t-1}" if order == "ascending" else r"\prod_{i=t-1}^{k}")
        + r"\left(\operatorname{diag}(f'(z_i))\, U^{\top}\right)\delta_{t,t}"
        + (
            r" \quad(\text{increasing } i \text{ from left to right})"
            if order == "ascending"
            else r" \quad(\text{decreasing } i \text{ from left to right})"
        ),
        sp.Matrix.hstack(*lhs),
        sp.Matrix.hstack(*rhs),
        source="003 (6.29), line 269",
        note=f"H={model.H}, D={model.D}, T={model.T}; SymPy's delta on both sides.",
    )


@cached
def course_report_product(
    order: str = "descending", hidden_size: int = 2, input_size: int = 2, steps: int = 3
) -> Proof:
    """002 line 268 in row form: ``delta_k^T = delta_t^T prod (W diag(f'(net_i)))``.

    The report's W (hidden-to-hidden) is the book's U, its net_i the book's z_i.
    ``order="ascending"`` is the product as printed (i = k .. t-1 left to right).
    """
    check_choice("order", order, _ORDERS)
    model = build_srn(hidden_size, input_size, steps)
    lhs, rhs = [], []
    for t in range(1, model.T + 1):
        d_tt = sympy_delta(model, t, t)
        for k in range(1, t):
            lhs.append(sympy_delta(model, t, k).T)
            factors = {i: model.U * diag_of(apply(fprime, model.z[i])) for i in range(k, t)}
            rhs.append(d_tt.T * ordered_product(factors, order))
    return prove(
        "bound.course_report_product" + ("[as printed]" if order == "ascending" else ""),
        r"\delta_k^{\top} = \delta_t^{\top}\, U\operatorname{diag}(f'(z_{t-1}))\cdots "
        r"U\operatorname{diag}(f'(z_{k}))"
        if order == "descending"
        else (
            r"\delta_k^{\top} = \delta_t^{\top} \prod_{i=k}^{t-1} U"
            r" \operatorname{diag}(f'(z_i))"
        ),
        sp.Matrix.vstack(*lhs),
        sp.Matrix.vstack(*rhs),
        source="002 line 268",
        note="The report's W (hidden-to-hidden, line 38) is the book's U.",
    )


@cached
def diagonal_step_bound(hidden_size: int = 3) -> Proof:
    """``beta^2 ||w||^2 - ||diag(d) w||^2 = sum_i s_i w_i^2 >= 0``.

    Here ``d_i^2 = beta^2 - s_i`` with ``s_i >= 0``, i.e. ``|d_i| <= beta``.

    The identity is decided by ``expand``; the sign by SymPy's assumptions
    (each term is a nonnegative symbol times a square of a real symbol).
    """
    H = check_size("hidden_size", hidden_size)
    beta = sp.Symbol("beta_f", nonnegative=True)
    w = sp.symbols(f"w_1:{H + 1}", real=True)
    s = sp.symbols(f"s_1:{H + 1}", nonnegative=True)
    d2 = [beta**2 - si for si in s]  # d_i^2 <= beta^2
    lhs = beta**2 * sum(wi**2 for wi in w) - sum(di * wi**2 for di, wi in zip(d2, w, strict=True))
    rhs = sum(si * wi**2 for si, wi in zip(s, w, strict=True))
    proof = prove(
        "bound.diagonal_step",
        r"\beta_f^2\|w\|^2 - \|\operatorname{diag}(d)w\|^2"
        r" = \sum_i (\beta_f^2 - d_i^2)\, w_i^2 \ge 0",
        lhs,
        rhs,
        source="002 line 268; 003 (6.30)",
        note=f"H={H}; SymPy assumptions give rhs.is_nonnegative = {rhs.is_nonnegative}.",
    )
    holds = proof.holds and rhs.is_nonnegative is True
    method = proof.method + "; rhs is a sum of nonnegative terms (SymPy assumptions)"
    return Proof(proof.name, proof.statement, lhs, rhs, holds, method, proof.source, proof.note)


def _spectral_sq_at_least(U: sp.Matrix, r, power: int = 1) -> bool:
    """Exact test of ``||U||_2^(2 power) >= r`` for rational ``U`` and ``r`` (Sturm root count).

    ``||U||_2^2`` is the largest root of ``p(lam) = det(lam I - U U^T)``; the
    powers ``lam^power`` of its roots are the roots of the resultant
    ``Res_lam(p(lam), mu - lam^power)``, all nonnegative.
    """
    lam, mu = sp.Dummy("lambda"), sp.Dummy("mu")
    M = U * U.T  # (H, H), symmetric, positive semidefinite
    p = sp.expand((lam * sp.eye(M.shape[0]) - M).det())
    q = p if power == 1 else sp.resultant(p, mu - lam**power, lam)
    var = lam if power == 1 else mu
    return sp.Poly(q, var).count_roots(r, None) >= 1


def _check_beta(beta_f) -> sp.Rational:
    """``beta_f`` as an exact positive rational (int, ``fractions.Fraction`` or SymPy Rational)."""
    from fractions import Fraction

    if isinstance(beta_f, bool) or not isinstance(beta_f, int | Fraction | sp.Rational):
        raise ValueError(f"beta_f: expected an exact positive rational, got {beta_f!r}")
    value = sp.Rational(beta_f)
    if value <= 0:
        raise ValueError(f"beta_f: expected an exact positive rational, got {beta_f!r}")
    return value


def _random_instance(rng: random.Random, H: int, beta_f):
    U = sp.Matrix(H, H, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)))
    v = sp.Matrix(H, 1, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)))
    return U, v


def _random_fprime(rng: random.Random, H: int, beta_f) -> sp.Matrix:
    """Rational values of f' with |f'| <= beta_f (e.g. tanh': (0, 1], sigmoid': (0, 1/4])."""
    return sp.Matrix(H, 1, lambda i, j: beta_f * sp.Rational(rng.randint(1, 12), 12))


@cached
def step_bound_instances(hidden_size: int = 3, count: int = 20, seed: int = 0, beta_f=1) -> Proof:
    """CHECK (not proof): ``||diag(d) U^T v||^2 <= beta_f^2 ||U||_2^2 ||v||^2`` on instances.

    Random rational ``U`` (H, H), ``v`` (H,) and ``0 < d_i <= beta_f``, exact arithmetic.
    """
    H = check_size("hidden_size", hidden_size)
    n = check_size("count", count)
    beta_f = _check_beta(beta_f)
    rng = random.Random(check_size("seed", seed, minimum=0))
    lhs, rhs, ok = [], [], []
    for _ in range(n):
        U, v = _random_instance(rng, H, beta_f)
        d = _random_fprime(rng, H, beta_f)
        w = diag_of(d) * U.T * v  # (H, 1)
        norm2 = (w.T * w)[0, 0]
        vv = (v.T * v)[0, 0]
        lhs.append(norm2)
        rhs.append(beta_f**2 * vv)  # times ||U||_2^2, decided exactly below
        # ||w||^2 <= beta_f^2 ||U||^2 ||v||^2  <=>  ||U||_2^2 >= ||w||^2 / (beta_f^2 ||v||^2)
        ok.append(vv == 0 or _spectral_sq_at_least(U, norm2 / (beta_f**2 * vv)))
    return Proof(
        f"bound.step_instances[beta_f={beta_f}]",
        r"\|\operatorname{diag}(f'(z))U^{\top}v\|"
        r" \le \beta_f \beta_W \|v\|",
        sp.ImmutableMatrix(lhs),
        sp.ImmutableMatrix(rhs),
        all(ok),
        f"checked on {n} random rational instances (H={H}, beta_f={beta_f}, seed={seed}) in exact "
        "arithmetic; ||U||_2^2 compared by Sturm root counting. The general statement is the "
        "theorem ||AB|| <= ||A|| ||B|| with ||diag(d)||_2 = max|d_i|.",
        "002 line 268",
        "rhs lists beta_f^2 ||v||^2; the factor ||U||_2^2 enters the exact comparison.",
    )


@cached
def multi_step_bound_instances(
    hidden_size: int = 2,
    steps: int = 4,
    count: int = 6,
    seed: int = 1,
    beta_f=1,
) -> Proof:
    """CHECK (not proof): ``||delta_{t,k}||^2 <= (beta_W beta_f)^(2(t-k)) ||delta_{t,t}||^2``.

    On random rational U, f'(z_k) and delta_{t,t}, with delta_{t,k} from (6.18),
    for every t - k = 1 .. steps - 1, in exact arithmetic.
    """
    H = check_size("hidden_size", hidden_size)
    T = check_size("steps", steps, minimum=2)
    n = check_size("count", count)
    beta_f = _check_beta(beta_f)
    rng = random.Random(check_size("seed", seed, minimum=0))
    lhs, rhs, ok = [], [], []
    for _ in range(n):
        U, delta = _random_instance(rng, H, beta_f)
        base = (delta.T * delta)[0, 0]
        for m in range(1, T):
            # (6.18)  delta_{t,k} = diag(f'(z_k)) U^T delta_{t,k+1}     (H, 1)
            delta = diag_of(_random_fprime(rng, H, beta_f)) * U.T * delta
            norm2 = (delta.T * delta)[0, 0]
            lhs.append(norm2)
            rhs.append(beta_f ** (2 * m) * base)
            ok.append(base == 0 or _spectral_sq_at_least(U, norm2 / (beta_f ** (2 * m) * base), m))
    return Proof(
        "bound.multi_step_instances",
        r"\|\delta_{t,k}\| \le (\beta_W \beta_f)^{t-k}\, \|\delta_{t,t}\|",
        sp.ImmutableMatrix(lhs),
        sp.ImmutableMatrix(rhs),
        all(ok),
        f"checked on {n} random rational instances x {T - 1} distances (H={H}, beta_f={beta_f}, "
        f"seed={seed}) in exact arithmetic (resultant + Sturm root counting). "
        "In general it follows "
        "from the one-step bound by induction.",
        "002 line 268; 003 (6.29)-(6.30)",
        "rhs lists beta_f^(2(t-k)) ||delta_tt||^2; ||U||_2^(2(t-k)) enters the exact comparison.",
    )


@cached
def textbook_equality_630() -> Proof:
    """003 (6.30) as an equality fails on an exact instance; the norm bound holds there.

    ``f`` the identity (f' = 1), ``U = diag(2, 1/2)`` so gamma = ||U^T||_2 = 2,
    ``delta_{t,t} = (1, 1)``, ``t - k = 2``: ``delta_{t,k} = (4, 1/4) != 4 (1, 1)``.
    """
    U = sp.ImmutableMatrix([[2, 0], [0, sp.Rational(1, 2)]])
    gamma = sp.Integer(2)  # ||U^T||_2 of a diagonal matrix: the largest |entry|
    d_tt = sp.ImmutableMatrix([1, 1])
    delta = U.T * (U.T * d_tt)  # (6.18) twice with f' = 1
    bound_ok = (delta.T * delta)[0, 0] <= gamma**4 * (d_tt.T * d_tt)[0, 0]
    proof = prove(
        "bound.textbook_6_30_as_equality",
        r"\delta_{t,k} = \gamma^{t-k}\delta_{t,t}",
        delta,
        gamma**2 * d_tt,
        source="003 (6.30), line 273",
        note=(
            f"U = diag(2, 1/2), f' = 1, t-k = 2; the bound "
            f"||delta_tk|| <= gamma^2 ||delta_tt|| holds: {bound_ok}."
        ),
    )
    return proof


@cached
def bound_is_not_growth() -> Proof:
    """``beta_W beta_f = 2 > 1`` and yet ``delta_{t,t-2} = 0``: a bound above 1 is not growth.

    ``U = [[0, 2], [0, 0]]`` (nilpotent, ``||U||_2 = 2``), ``f`` the identity.
    """
    U = sp.ImmutableMatrix([[0, 2], [0, 0]])
    d_tt = sp.ImmutableMatrix(sp.symbols("e_1:3"))
    delta = U.T * (U.T * d_tt)  # (6.18) twice with f' = 1, (2, 1)
    norm_is_2 = sp.sqrt(max((U * U.T).eigenvals())) == 2
    proof = prove(
        "bound.not_growth",
        r"U = \begin{pmatrix}0&2\\0&0\end{pmatrix},\ f' = 1:\quad \beta_W\beta_f = 2,\ "
        r"\delta_{t,t-2} = (U^{\top})^2\delta_{t,t} = \mathbf{0}",
        delta,
        sp.zeros(2, 1),
        source="002 line 270; 003 line 275",
        note=f"||U||_2 = 2 checked exactly: {norm_is_2}.",
    )
    if not norm_is_2:
        return Proof(
            proof.name, proof.statement, proof.lhs, proof.rhs, False, "||U||_2 != 2", proof.source
        )
    return proof


@cached
def activation_derivative_bounds() -> Proof:
    """beta_f for tanh and the logistic sigmoid: ``tanh' <= 1`` and ``sigma' <= 1/4``.

    With ``t = tanh(z)`` and ``s = sigma(z)``: ``tanh'(z) = 1 - t^2`` and
    ``sigma'(z) = s (1 - s)`` (SymPy's own derivatives), and
    ``1 - tanh'(z) = t^2 >= 0``, ``1/4 - sigma'(z) = (s - 1/2)^2 >= 0``.
    """
    z = sp.Symbol("z", real=True)
    t, s = sp.tanh(z), 1 / (1 + sp.exp(-z))
    d_tanh = sp.diff(t, z)  # 1 - tanh(z)^2
    d_sigma = sp.diff(s, z)  # exp(-z) / (1 + exp(-z))^2
    lhs = sp.ImmutableMatrix([1 - d_tanh, sp.Rational(1, 4) - d_sigma])
    rhs = sp.ImmutableMatrix([t**2, (s - sp.Rational(1, 2)) ** 2])
    proof = prove(
        "bound.activation_derivatives",
        r"1 - \tanh'(z) = \tanh^2 z \ge 0,\qquad"
        r" \tfrac14 - \sigma'(z) = (\sigma(z) - \tfrac12)^2 \ge 0",
        lhs,
        rhs,
        rational=True,
        source="004 line 251; 003 line 281",
        note="beta_f = 1 for tanh, 1/4 for the logistic sigmoid; both bounds attained at z = 0.",
    )
    squares = all(r.is_nonnegative for r in rhs)
    return Proof(
        proof.name,
        proof.statement,
        lhs,
        rhs,
        proof.holds and squares,
        proof.method + "; rhs entries are squares of real expressions",
        proof.source,
        proof.note,
    )


@cached
def residual_jacobians(hidden_size: int = 2, input_size: int = 2) -> Proof:
    """(6.31)-(6.32): ``dh_t/dh_{t-1} = I`` and ``= I + dg/dh_{t-1}`` for undefined ``g``."""
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    h_prev, x = vector("h", H), vector("x", D)
    g = [sp.Function(f"g_{i + 1}") for i in range(H)]
    # (6.31)  h_t = h_{t-1} + g(x_t)                             (H, 1)
    h_631 = h_prev + sp.ImmutableMatrix([gi(*x) for gi in g])
    # (6.32)  h_t = h_{t-1} + g(x_t, h_{t-1})                     (H, 1)
    h_632 = h_prev + sp.ImmutableMatrix([gi(*x, *h_prev) for gi in g])
    J_631 = h_631.jacobian(h_prev).applyfunc(name_derivatives)
    J_632 = h_632.jacobian(h_prev).applyfunc(name_derivatives)
    dg = sp.Matrix(H, H, lambda i, j: sp.diff(g[i](*x, *h_prev), h_prev[j])).applyfunc(
        name_derivatives
    )
    return prove(
        "bound.residual_jacobians",
        r"\frac{\partial h_t}{\partial h_{t-1}} = I \ (6.31),\qquad"
        r"\frac{\partial h_t}{\partial h_{t-1}} = I + "
        r"\frac{\partial g}{\partial h_{t-1}} \ (6.32)",
        sp.Matrix.hstack(J_631, J_632),
        sp.Matrix.hstack(sp.eye(H), sp.eye(H) + dg),
        source="003 (6.31)-(6.32), lines 298-306",
        note=f"H={H}, D={D}; g undefined.",
    )


def all_proofs(hidden_size: int = 2, input_size: int = 2, steps: int = 3) -> tuple[Proof, ...]:
    """The identities and checks of this module (each should hold)."""
    sizes = (hidden_size, input_size, steps)
    return (
        jacobian_product(*sizes),
        delta_product(*sizes),
        course_report_product("descending", *sizes),
        diagonal_step_bound(),
        step_bound_instances(),
        step_bound_instances(beta_f=sp.Rational(1, 4)),
        multi_step_bound_instances(),
        activation_derivative_bounds(),
        bound_is_not_growth(),
        residual_jacobians(),
    )


def disagreements() -> tuple[Proof, ...]:
    """The sources' statements as printed where they are wrong (each should not hold)."""
    return (
        course_report_product("ascending"),
        textbook_equality_630(),
        jacobian_product(order="ascending"),
    )
