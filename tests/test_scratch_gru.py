"""rnnbook.scratch.gru: every convention's forward against a PyTorch reference, backward
against autograd and finite differences, sequence against a loop of steps."""

import itertools

import numpy as np
import pytest
import torch
from autograd_reference import SIZES, autograd_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import cells
from rnnbook.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch import gru

TOL = 1e-7
# finite differences resolve a gradient to about 1e-10 in absolute terms: a gradient whose
# entries are all below 1e-2 (a saturated unit) is compared with 1e-2 instead of its own size
FD_FLOOR = 1e-2
GRU_OPTIONS = cells.OPTIONS["gru"]
CONVENTIONS = [
    dict(reset=r, update=u)
    for r, u in itertools.product(GRU_OPTIONS["reset"], GRU_OPTIONS["update"])
]
IDS = [f"{c['reset']}-{c['update']}" for c in CONVENTIONS]


def flat(*arrays):
    """All entries in one vector: finite differences are compared with the analytic gradient
    as a whole, since their rounding error scales with the loss, not with each entry."""
    return np.concatenate([np.ravel(a) for a in arrays])


def torch_gru(x, h0, p, reset, update):
    """The GRU written gate by gate from its equations, in PyTorch."""
    h, outs = h0, []
    for t in range(x.shape[0]):
        z = torch.sigmoid(x[t] @ p["W_z"].T + h @ p["U_z"].T + p["b_z"])
        r = torch.sigmoid(x[t] @ p["W_r"].T + h @ p["U_r"].T + p["b_r"])
        if reset == "before":
            n = torch.tanh(x[t] @ p["W_h"].T + (r * h) @ p["U_h"].T + p["b_h"])
        else:
            n = torch.tanh(x[t] @ p["W_h"].T + p["b_h"] + r * (h @ p["U_h"].T + p["d_h"]))
        h = z * h + (1 - z) * n if update == "keep" else (1 - z) * h + z * n
        outs.append(h)
    return torch.stack(outs), h


def make_case(seed, T, B, D, H, conv):
    rng = np.random.default_rng(seed)
    p = {k: 2 * v for k, v in gru.init_params(D, H, rng, **conv).items()}
    x = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    d_out = rng.standard_normal((T, B, H))
    d_final = rng.standard_normal((B, H))
    return p, x, h0, d_out, d_final


def autograd(x, h0, p, d_out, d_final, conv):
    def run(tx, th0, tp):
        return torch_gru(tx, th0, tp, **conv)

    return autograd_sequence(run, x, h0, p, d_out, d_final)


dims = SIZES


@pytest.mark.parametrize("conv", CONVENTIONS, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(**dims, use_final=st.booleans())
def test_backward_matches_autograd(conv, seed, T, B, D, H, use_final):
    p, x, h0, d_out, d_final = make_case(seed, T, B, D, H, conv)
    d_final = d_final if use_final else None
    out, cache = gru.forward(x, h0, p, **conv)
    dx, dh0, grads = gru.backward(d_out, cache, d_final)
    t_out, t_dx, t_dh0, t_grads = autograd(x, h0, p, d_out, d_final, conv)
    assert relative_error(out, t_out) < TOL
    assert relative_error(dx, t_dx) < TOL
    assert relative_error(dh0, t_dh0) < TOL
    assert grads.keys() == p.keys()
    for k in p:
        assert relative_error(grads[k], t_grads[k]) < TOL, k


@pytest.mark.parametrize("conv", CONVENTIONS, ids=IDS)
@settings(max_examples=6, deadline=None)
@given(**dims, use_final=st.booleans())
def test_backward_matches_finite_differences(conv, seed, T, B, D, H, use_final):
    p, x, h0, d_out, d_final = make_case(seed, T, B, D, H, conv)
    d_final = d_final if use_final else np.zeros_like(d_final)

    def loss(_=None):
        out, cache = gru.forward(x, h0, p, **conv)
        return np.sum(out * d_out) + np.sum(cache["final"] * d_final)

    _, cache = gru.forward(x, h0, p, **conv)
    dx, dh0, grads = gru.backward(d_out, cache, d_final)
    analytic = flat(dx, dh0, *grads.values())
    numeric = flat(*(numerical_gradient(loss, a) for a in (x, h0, *p.values())))
    assert relative_error(analytic, numeric, floor=FD_FLOOR) < TOL


@pytest.mark.parametrize("conv", CONVENTIONS, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(**dims)
def test_step_backward_matches_autograd_and_finite_differences(conv, seed, T, B, D, H):
    p, x, h0, d_out, _ = make_case(seed, 1, B, D, H, conv)
    h1, cache = gru.step_forward(x[0], h0, p, **conv)
    dx, dh0, grads = gru.step_backward(d_out[0], cache)
    t_out, t_dx, t_dh0, t_grads = autograd(x, h0, p, d_out, None, conv)
    assert relative_error(h1, t_out[0]) < TOL
    assert relative_error(dx, t_dx[0]) < TOL
    assert relative_error(dh0, t_dh0) < TOL
    for k in p:
        assert relative_error(grads[k], t_grads[k]) < TOL, k

    def loss(_=None):
        return np.sum(gru.step_forward(x[0], h0, p, **conv)[0] * d_out[0])

    analytic = flat(dx, dh0, *grads.values())
    numeric = flat(*(numerical_gradient(loss, a) for a in (x[0], h0, *p.values())))
    assert relative_error(analytic, numeric, floor=FD_FLOOR) < TOL


@pytest.mark.parametrize("conv", CONVENTIONS, ids=IDS)
@settings(max_examples=10, deadline=None)
@given(**dims)
def test_forward_and_backward_equal_a_loop_of_steps(conv, seed, T, B, D, H):
    p, x, h0, d_out, d_final = make_case(seed, T, B, D, H, conv)
    out, cache = gru.forward(x, h0, p, **conv)
    dx, dh0, grads = gru.backward(d_out, cache, d_final)
    h, caches = h0, []
    for t in range(T):
        h, c = gru.step_forward(x[t], h, p, **conv)
        np.testing.assert_allclose(out[t], h, rtol=1e-13, atol=1e-14)
        caches.append(c)
    dh, step_grads = d_final, {k: 0 for k in p}
    for t in reversed(range(T)):
        dx_t, dh, g = gru.step_backward(dh + d_out[t], caches[t])
        np.testing.assert_allclose(dx[t], dx_t, rtol=1e-12, atol=1e-13)
        step_grads = {k: step_grads[k] + g[k] for k in p}
    np.testing.assert_allclose(dh0, dh, rtol=1e-12, atol=1e-13)
    for k in p:
        np.testing.assert_allclose(grads[k], step_grads[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("conv", CONVENTIONS, ids=IDS)
def test_float32_in_float32_out(conv):
    rng = np.random.default_rng(0)
    p = gru.init_params(4, 5, rng, dtype=np.float32, **conv)
    x = rng.standard_normal((6, 2, 4)).astype(np.float32)
    out, cache = gru.forward(x, None, p, **conv)
    dx, dh0, grads = gru.backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    p64 = {k: v.astype(np.float64) for k, v in p.items()}
    out64, _ = gru.forward(x.astype(np.float64), None, p64, **conv)
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-6)


def test_after_keep_matches_torch_gru():
    """reset="after", update="keep" is torch.nn.GRU (rows r, z, n; bias_hh of n is d_h)."""
    rng = np.random.default_rng(4)
    D, H = 3, 4
    p = gru.init_params(D, H, rng, reset="after")
    x = rng.standard_normal((5, 2, D))
    h0 = rng.standard_normal((2, H))
    m = torch.nn.GRU(D, H).double()
    zeros = np.zeros(H)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(np.concatenate([p["W_r"], p["W_z"], p["W_h"]])))
        m.weight_hh_l0.copy_(torch.tensor(np.concatenate([p["U_r"], p["U_z"], p["U_h"]])))
        m.bias_ih_l0.copy_(torch.tensor(np.concatenate([p["b_r"], p["b_z"], p["b_h"]])))
        m.bias_hh_l0.copy_(torch.tensor(np.concatenate([zeros, zeros, p["d_h"]])))
        ref, _ = m(torch.tensor(x), torch.tensor(h0)[None])
    out, _ = gru.forward(x, h0, p, reset="after")
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-12, atol=1e-14)


def test_conventions_differ():
    """The options change the result: each convention is a different function."""
    rng = np.random.default_rng(5)
    p = gru.init_params(3, 4, rng, reset="after")
    x = rng.standard_normal((4, 2, 3))
    h0 = rng.standard_normal((2, 4))
    before = {k: v for k, v in p.items() if k != "d_h"}
    outs = [gru.forward(x, h0, p if c["reset"] == "after" else before, **c)[0] for c in CONVENTIONS]
    for a, b in itertools.combinations(outs, 2):
        assert np.abs(a - b).max() > 1e-3


@pytest.mark.parametrize("reset", GRU_OPTIONS["reset"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), T=st.integers(1, 6), B=st.integers(1, 3), H=st.integers(1, 5))
def test_keep_and_replace_are_one_family_with_the_update_gate_negated(reset, seed, T, B, H):
    """1 - sigma(a) = sigma(-a): "replace" with -W_z, -U_z, -b_z computes what "keep" does."""
    rng = np.random.default_rng(seed)
    D = 3
    p = gru.init_params(D, H, rng, reset=reset)
    x = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    flipped = {k: (-v if k in ("W_z", "U_z", "b_z") else v) for k, v in p.items()}
    keep, _ = gru.forward(x, h0, p, reset=reset, update="keep")
    replace, _ = gru.forward(x, h0, flipped, reset=reset, update="replace")
    np.testing.assert_allclose(replace, keep, rtol=1e-12, atol=1e-14)
