"""rnnbook.scratch.lstm: every variant's forward against a PyTorch reference, backward
against autograd and finite differences, sequence against a loop of steps."""

import numpy as np
import pytest
import torch
from autograd_reference import SIZES, autograd_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import cells
from rnnbook.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch import lstm

TOL = 1e-7
# finite differences resolve a gradient to about 1e-10 in absolute terms: a gradient whose
# entries are all below 1e-2 (a saturated unit) is compared with 1e-2 instead of its own size
FD_FLOOR = 1e-2


def flat(*arrays):
    """All entries in one vector: finite differences are compared with the analytic gradient
    as a whole, since their rounding error scales with the loss, not with each entry."""
    return np.concatenate([np.ravel(a) for a in arrays])


VARIANTS = list(cells.OPTIONS["lstm"]["variant"])


def torch_lstm(x, h0, c0, p, variant):
    """The LSTM written gate by gate from the book's equations, in PyTorch."""
    h, c, outs = h0, c0, []
    for t in range(x.shape[0]):

        def pre(g, h=h, t=t):
            return x[t] @ p[f"W_{g}"].T + h @ p[f"U_{g}"].T + p[f"b_{g}"]

        peep = variant == "peephole"
        i = torch.sigmoid(pre("i") + (p["p_i"] * c if peep else 0))
        ct = torch.tanh(pre("c"))
        if variant == "no_forget":
            c_new = c + i * ct
        else:
            f = (
                1 - i
                if variant == "coupled"
                else torch.sigmoid(pre("f") + (p["p_f"] * c if peep else 0))
            )
            c_new = f * c + i * ct
        o = torch.sigmoid(pre("o") + (p["p_o"] * c_new if peep else 0))
        h, c = o * torch.tanh(c_new), c_new
        outs.append(h)
    return torch.stack(outs), (h, c)


def make_case(seed, T, B, D, H, variant):
    rng = np.random.default_rng(seed)
    p = {k: 2 * v for k, v in lstm.init_params(D, H, rng, variant=variant).items()}
    x = rng.standard_normal((T, B, D))
    s0 = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
    d_out = rng.standard_normal((T, B, H))
    d_final = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
    return p, x, s0, d_out, d_final


def autograd(x, s0, p, d_out, d_final, variant):
    def run(tx, ts0, tp):
        return torch_lstm(tx, *ts0, tp, variant)  # out, (h, c)

    return autograd_sequence(
        run, x, tuple(s0), p, d_out, None if d_final is None else tuple(d_final)
    )


dims = SIZES


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=25, deadline=None)
@given(**dims, use_final=st.booleans())
def test_backward_matches_autograd(variant, seed, T, B, D, H, use_final):
    p, x, s0, d_out, d_final = make_case(seed, T, B, D, H, variant)
    d_final = d_final if use_final else None
    out, cache = lstm.forward(x, s0, p, variant=variant)
    dx, ds0, grads = lstm.backward(d_out, cache, d_final)
    t_out, t_dx, t_ds0, t_grads = autograd(x, s0, p, d_out, d_final, variant)
    assert relative_error(out, t_out) < TOL
    assert relative_error(dx, t_dx) < TOL
    assert relative_error(ds0[0], t_ds0[0]) < TOL
    assert relative_error(ds0[1], t_ds0[1]) < TOL
    assert grads.keys() == p.keys()
    for k in p:
        assert relative_error(grads[k], t_grads[k]) < TOL, k


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=6, deadline=None)
@given(**dims, use_final=st.booleans())
def test_backward_matches_finite_differences(variant, seed, T, B, D, H, use_final):
    p, x, s0, d_out, d_final = make_case(seed, T, B, D, H, variant)
    if not use_final:
        d_final = (np.zeros_like(d_final[0]), np.zeros_like(d_final[1]))

    def loss(_=None):
        out, cache = lstm.forward(x, s0, p, variant=variant)
        h, c = cache["final"]
        return np.sum(out * d_out) + np.sum(h * d_final[0]) + np.sum(c * d_final[1])

    _, cache = lstm.forward(x, s0, p, variant=variant)
    dx, ds0, grads = lstm.backward(d_out, cache, d_final)
    analytic = flat(dx, *ds0, *grads.values())
    numeric = flat(*(numerical_gradient(loss, a) for a in (x, *s0, *p.values())))
    assert relative_error(analytic, numeric, floor=FD_FLOOR) < TOL


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=15, deadline=None)
@given(**dims)
def test_step_backward_matches_autograd_and_finite_differences(variant, seed, T, B, D, H):
    p, x, s0, d_out, d_final = make_case(seed, 1, B, D, H, variant)
    (h1, c1), cache = lstm.step_forward(x[0], s0, p, variant=variant)
    dx, ds0, grads = lstm.step_backward((d_out[0], d_final[1]), cache)
    # the step's loss: sum(d_out * h_1) + sum(d_final[1] * c_1)
    t_out, t_dx, t_ds0, t_grads = autograd(
        x, s0, p, d_out, (np.zeros_like(d_final[0]), d_final[1]), variant
    )
    assert relative_error(h1, t_out[0]) < TOL
    assert relative_error(dx, t_dx[0]) < TOL
    assert relative_error(ds0[0], t_ds0[0]) < TOL
    assert relative_error(ds0[1], t_ds0[1]) < TOL
    for k in p:
        assert relative_error(grads[k], t_grads[k]) < TOL, k

    def loss(_=None):
        (h, c), _ = lstm.step_forward(x[0], s0, p, variant=variant)
        return np.sum(h * d_out[0]) + np.sum(c * d_final[1])

    analytic = flat(dx, *ds0, *grads.values())
    numeric = flat(*(numerical_gradient(loss, a) for a in (x[0], *s0, *p.values())))
    assert relative_error(analytic, numeric, floor=FD_FLOOR) < TOL


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=10, deadline=None)
@given(**dims)
def test_forward_and_backward_equal_a_loop_of_steps(variant, seed, T, B, D, H):
    p, x, s0, d_out, d_final = make_case(seed, T, B, D, H, variant)
    out, cache = lstm.forward(x, s0, p, variant=variant)
    dx, ds0, grads = lstm.backward(d_out, cache, d_final)
    s, caches = s0, []
    for t in range(T):
        s, c = lstm.step_forward(x[t], s, p, variant=variant)
        np.testing.assert_allclose(out[t], s[0], rtol=1e-13, atol=1e-14)
        caches.append(c)
    np.testing.assert_allclose(cache["final"][1], s[1], rtol=1e-13, atol=1e-14)
    ds, step_grads = d_final, {k: 0 for k in p}
    for t in reversed(range(T)):
        dx_t, ds, g = lstm.step_backward((ds[0] + d_out[t], ds[1]), caches[t])
        np.testing.assert_allclose(dx[t], dx_t, rtol=1e-12, atol=1e-13)
        step_grads = {k: step_grads[k] + g[k] for k in p}
    for a, b in zip(ds0, ds, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    for k in p:
        np.testing.assert_allclose(grads[k], step_grads[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_in_float32_out(variant):
    rng = np.random.default_rng(0)
    p = lstm.init_params(4, 5, rng, variant=variant, dtype=np.float32)
    x = rng.standard_normal((6, 2, 4)).astype(np.float32)
    out, cache = lstm.forward(x, None, p, variant=variant)
    dx, (dh0, dc0), grads = lstm.backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dh0.dtype == dc0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    p64 = {k: v.astype(np.float64) for k, v in p.items()}
    out64, _ = lstm.forward(x.astype(np.float64), None, p64, variant=variant)
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-6)


def test_standard_matches_torch_lstm():
    """variant="standard" is torch.nn.LSTM (gate rows i, f, g, o; bias_ih + bias_hh = b_*)."""
    rng = np.random.default_rng(3)
    D, H = 3, 4
    p = lstm.init_params(D, H, rng)
    x = rng.standard_normal((5, 2, D))
    h0, c0 = rng.standard_normal((2, 2, H))
    m = torch.nn.LSTM(D, H).double()
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(np.concatenate([p[f"W_{g}"] for g in "ifco"])))
        m.weight_hh_l0.copy_(torch.tensor(np.concatenate([p[f"U_{g}"] for g in "ifco"])))
        m.bias_ih_l0.copy_(torch.tensor(np.concatenate([p[f"b_{g}"] for g in "ifco"])))
        m.bias_hh_l0.zero_()
        ref, (hn, cn) = m(torch.tensor(x), (torch.tensor(h0)[None], torch.tensor(c0)[None]))
    out, cache = lstm.forward(x, (h0, c0), p)
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache["final"][1], cn[0].numpy(), rtol=1e-12, atol=1e-14)


def test_forget_bias_init():
    rng = np.random.default_rng(0)
    p = lstm.init_params(3, 4, rng, forget_bias=1.0)
    np.testing.assert_array_equal(p["b_f"], np.ones(4))
    with pytest.raises(ValueError, match="forget gate"):
        lstm.init_params(3, 4, rng, variant="coupled", forget_bias=1.0)
