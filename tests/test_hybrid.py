"""rnnbook.scratch.hybrid: Schmidhuber's FP/BPTT hybrid gives BPTT's and RTRL's gradients."""

import numpy as np
import pytest
from bptt_problem import make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.scratch import bptt, hybrid, rtrl, srn


def assert_same(L_a, g_a, L_b, g_b, tol=1e-10):
    assert abs(L_a - L_b) <= 1e-12 * max(1.0, abs(L_b))
    assert g_a.keys() == g_b.keys()
    for k in g_b:
        np.testing.assert_allclose(g_a[k], g_b[k], rtol=tol, atol=tol, err_msg=k)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    T=st.integers(1, 9),
    block=st.integers(1, 10),
    B=st.integers(1, 3),
    D=st.integers(1, 4),
    H=st.integers(1, 5),
    activation=st.sampled_from(("tanh", "relu", "sigmoid", "identity")),
    loss=st.sampled_from(bptt.LOSSES),
    on=st.sampled_from(bptt.ONS),
)
def test_hybrid_equals_bptt_and_rtrl(seed, T, block, B, D, H, activation, loss, on):
    rng = np.random.default_rng(seed)
    x, y, p = make_problem(rng, srn, {}, T, B, D, H, 3, loss, on)
    h0 = rng.standard_normal((B, H))
    kw = dict(h0=h0, loss=loss, on=on, activation=activation)
    L_b, g_b = bptt.full("srn", x, y, p, **kw)
    L_h, g_h = hybrid.gradients("srn", x, y, p, block=block, **kw)
    assert_same(L_h, g_h, L_b, g_b)
    L_r, g_r = rtrl.gradients("srn", x, y, p, **kw)
    assert_same(L_h, g_h, L_r, g_r)


class TransposedJ(hybrid.Hybrid):
    """Planted error: S_t1 = d+h_t1/dtheta + J^T S_t0."""

    def block_jacobians(self):
        J, S_plus = super().block_jacobians()
        return J.transpose(0, 2, 1), S_plus


class Forgetful(hybrid.Hybrid):
    """Planted error: S_t1 = d+h_t1/dtheta, the path through h_t0 dropped (a truncation)."""

    def block_jacobians(self):
        J, S_plus = super().block_jacobians()
        return np.zeros_like(J), S_plus


class NewState(hybrid.Hybrid):
    """Planted error: U's immediate term with h_t for h_{t-1} (the textbook's [h_k]_j read so)."""

    def block_jacobians(self):
        saved = [c["s_prev"] for c in self.steps]
        for c in self.steps:
            c["s_prev"] = c["h"]
        try:
            return super().block_jacobians()
        finally:
            for c, s in zip(self.steps, saved, strict=True):
                c["s_prev"] = s


def run(learner_class, x, y, p, block):
    learner = learner_class("srn", p, batch_size=x.shape[1], block=block)
    total = sum(learner.step(x_t, y_t)[0] for x_t, y_t in zip(x, y, strict=True))
    if learner.steps:
        learner.end_block()
    return total, learner.grads


@pytest.mark.parametrize("mutant", [TransposedJ, Forgetful, NewState])
def test_the_comparison_catches_a_planted_error(mutant):
    rng = np.random.default_rng(3)
    x, y, p = make_problem(rng, srn, {}, 9, 2, 3, 4, 3, "cross_entropy", "every")
    L_b, g_b = bptt.full("srn", x, y, p)
    assert_same(*run(hybrid.Hybrid, x, y, p, 3), L_b, g_b)
    with pytest.raises(AssertionError):
        assert_same(*run(mutant, x, y, p, 3), L_b, g_b)


def test_block_jacobians_are_the_products_of_the_steps_and_rtrl_from_zero():
    """J is the product of diag(f'(z_t)) U over the block; S_plus is RTRL started at S = 0."""
    rng = np.random.default_rng(4)
    T, B, D, H = 5, 2, 3, 4
    x, y, p = make_problem(rng, srn, {}, T, B, D, H, 3, "cross_entropy", "every")
    h0 = rng.standard_normal((B, H))
    learner = hybrid.Hybrid("srn", p, batch_size=B, block=T + 1, h0=h0)
    for x_t in x:
        learner.step(x_t)
    J, S_plus = learner.block_jacobians()
    expected = np.broadcast_to(np.eye(H), (B, H, H))
    for cache in learner.steps:
        # dh_t/dh_{t-1} = diag(1 - h_t^2) U for tanh, newest on the left
        expected = (1 - cache["h"] ** 2)[:, :, None] * p["U"] @ expected
    np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-14)
    fresh = rtrl.RTRL("srn", p, batch_size=B, h0=h0)
    for x_t in x:
        fresh.step(x_t)
    np.testing.assert_allclose(S_plus, fresh.S, rtol=1e-12, atol=1e-14)


def test_each_block_returns_the_gradient_of_its_own_losses():
    """At the end of block [t0, t1), the gradient is that of L_{t0+1} + ... + L_{t1}: BPTT's of
    the prefix up to t1 minus BPTT's of the prefix up to t0."""
    rng = np.random.default_rng(5)
    T, B, block = 10, 2, 4
    x, y, p = make_problem(rng, srn, {}, T, B, 2, 3, 3, "squared", "every")
    learner = hybrid.Hybrid("srn", p, batch_size=B, block=block, loss="squared")
    memory = learner.S.nbytes
    ends = []
    for t in range(T):
        _, g = learner.step(x[t], y[t])
        assert len(learner.steps) < block and learner.S.nbytes == memory
        if g is not None:
            ends.append((t + 1, g))
    assert [t1 for t1, _ in ends] == [4, 8]
    for t1, g in ends:
        t0 = t1 - block
        _, upto_t1 = bptt.full("srn", x[:t1], y[:t1], p, loss="squared")
        if t0 == 0:
            upto_t0 = {k: 0.0 for k in upto_t1}
        else:
            upto_t0 = bptt.full("srn", x[:t0], y[:t0], p, loss="squared")[1]
        for k in g:
            np.testing.assert_allclose(g[k], upto_t1[k] - upto_t0[k], rtol=1e-10, atol=1e-12)
    assert len(learner.steps) == 2
    last = learner.end_block()
    assert learner.steps == [] and learner.t == T
    _, whole = bptt.full("srn", x, y, p, loss="squared")
    _, first8 = bptt.full("srn", x[:8], y[:8], p, loss="squared")
    for k in whole:
        np.testing.assert_allclose(last[k], whole[k] - first8[k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(learner.grads[k], whole[k], rtol=1e-10, atol=1e-12)


def test_float32():
    rng = np.random.default_rng(6)
    x, y, p = make_problem(rng, srn, {}, 6, 2, 3, 4, 3, "cross_entropy", "every")
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    _, g = hybrid.gradients("srn", x.astype(np.float32), y, p32, block=2)
    _, g64 = bptt.full("srn", x, y, p)
    for k in g:
        assert g[k].dtype == np.float32
        np.testing.assert_allclose(g[k], g64[k], rtol=1e-3, atol=1e-4)


def test_hybrid_refuses_what_it_does_not_cover():
    rng = np.random.default_rng(7)
    x, y, p = make_problem(rng, srn, {}, 3, 1, 2, 3, 2, "cross_entropy", "every")
    with pytest.raises(ValueError, match="block"):
        hybrid.Hybrid("srn", p, batch_size=1, block=0)
    with pytest.raises(ValueError, match="cell must be one of"):
        hybrid.Hybrid("gru", p, batch_size=1, block=2)
    with pytest.raises(ValueError, match="feedback must be one of"):
        hybrid.Hybrid("srn", p, batch_size=1, block=2, feedback="output")
    with pytest.raises(ValueError, match="cell must be one of"):
        hybrid.gradients("lstm", x, y, p, block=2)
    learner = hybrid.Hybrid("srn", p, batch_size=1, block=2)
    with pytest.raises(ValueError, match=r"x_t must have shape \(B, D\)"):
        learner.step(np.zeros((2, 2)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="class indices"):
        learner.step(np.zeros((1, 2)), np.array([5]))
    assert learner.t == 0 and learner.steps == []  # nothing was computed
    with pytest.raises(ValueError, match="targets"):
        hybrid.gradients("srn", x, y[:, :, None], p, block=2)
