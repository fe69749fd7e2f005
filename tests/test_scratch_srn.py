"""rnnbook.scratch.srn: forward against a PyTorch reference, backward against autograd
and against finite differences, step by step and over sequences."""

import numpy as np
import pytest
import torch
from autograd_reference import SIZES, autograd_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import cells
from rnnbook.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch import srn

TOL = 1e-7
# finite differences resolve a gradient to about 1e-10 in absolute terms: a gradient whose
# entries are all below 1e-2 (a saturated unit) is compared with 1e-2 instead of its own size
FD_FLOOR = 1e-2


def flat(*arrays):
    """All entries in one vector: finite differences are compared with the analytic gradient
    as a whole, since their rounding error scales with the loss, not with each entry."""
    return np.concatenate([np.ravel(a) for a in arrays])


TORCH_F = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=-1),
}


def torch_srn(x, s0, p, activation, feedback, output_activation):
    """The SRN written directly from its equations in PyTorch; returns (outputs, final)."""
    f, g = TORCH_F[activation], TORCH_F[output_activation]
    s, outs = s0, []
    for t in range(x.shape[0]):
        h = f(x[t] @ p["W"].T + s @ p["U"].T + p["b"])
        s = h if feedback == "hidden" else g(h @ p["V"].T + p["c"])
        outs.append(s)
    return torch.stack(outs), s


def opts_strategy(feedback):
    return st.fixed_dictionaries(
        {
            "activation": st.sampled_from(cells.ACTIVATIONS),
            "feedback": st.just(feedback),
            # every output activation but relu, whose kink at 0 finite differences can straddle
            "output_activation": st.sampled_from(
                [a for a in cells.OUTPUT_ACTIVATIONS if a != "relu"]
            ),
        }
    )


FEEDBACKS = list(cells.OPTIONS["srn"]["feedback"])


def make_case(seed, T, B, D, H, O, opts):
    rng = np.random.default_rng(seed)
    out_size = O if opts["feedback"] == "output" else None
    p = srn.init_params(D, H, rng, output_size=out_size, feedback=opts["feedback"])
    # larger weights than the default init, so that the check is not dominated by tiny values
    p = {k: 2 * v for k, v in p.items()}
    S = H if opts["feedback"] == "hidden" else O
    x = rng.standard_normal((T, B, D))
    s0 = rng.standard_normal((B, S))
    d_out = rng.standard_normal((T, B, S))
    d_final = rng.standard_normal((B, S))
    return p, x, s0, d_out, d_final


def autograd(x, s0, p, d_out, d_final, opts):
    def run(tx, ts0, tp):
        return torch_srn(tx, ts0, tp, **opts)

    return autograd_sequence(run, x, s0, p, d_out, d_final)


dims = dict(SIZES, O=st.integers(1, 4))


@pytest.mark.parametrize("feedback", FEEDBACKS)
@settings(max_examples=25, deadline=None)
@given(**dims, data=st.data(), use_final=st.booleans())
def test_backward_matches_autograd(feedback, data, seed, T, B, D, H, O, use_final):
    opts = data.draw(opts_strategy(feedback))
    p, x, s0, d_out, d_final = make_case(seed, T, B, D, H, O, opts)
    d_final = d_final if use_final else None
    out, cache = srn.forward(x, s0, p, **opts)
    dx, ds0, grads = srn.backward(d_out, cache, d_final)
    t_out, t_dx, t_ds0, t_grads = autograd(x, s0, p, d_out, d_final, opts)
    assert relative_error(out, t_out) < TOL
    assert relative_error(dx, t_dx) < TOL
    assert relative_error(ds0, t_ds0) < TOL
    assert grads.keys() == p.keys()
    for k in p:
        assert relative_error(grads[k], t_grads[k]) < TOL, k


@pytest.mark.parametrize("feedback", FEEDBACKS)
@settings(max_examples=10, deadline=None)
@given(**dims, data=st.data(), use_final=st.booleans())
def test_backward_matches_finite_differences(feedback, data, seed, T, B, D, H, O, use_final):
    opts = data.draw(opts_strategy(feedback))
    p, x, s0, d_out, d_final = make_case(seed, T, B, D, H, O, opts)
    d_final = d_final if use_final else np.zeros_like(d_final)

    def loss(_=None):
        out, cache = srn.forward(x, s0, p, **opts)
        return np.sum(out * d_out) + np.sum(cache["final"] * d_final)

    _, cache = srn.forward(x, s0, p, **opts)
    dx, ds0, grads = srn.backward(d_out, cache, d_final)
    analytic = flat(dx, ds0, *grads.values())
    numeric = flat(*(numerical_gradient(loss, a) for a in (x, s0, *p.values())))
    assert relative_error(analytic, numeric, floor=FD_FLOOR) < TOL


@pytest.mark.parametrize("feedback", FEEDBACKS)
@settings(max_examples=20, deadline=None)
@given(**dims, data=st.data())
def test_step_backward_matches_autograd_and_finite_differences(feedback, data, seed, T, B, D, H, O):
    opts = data.draw(opts_strategy(feedback))
    p, x, s0, d_out, _ = make_case(seed, 1, B, D, H, O, opts)
    s1, cache = srn.step_forward(x[0], s0, p, **opts)
    dx, ds0, grads = srn.step_backward(d_out[0], cache)
    t_out, t_dx, t_ds0, t_grads = autograd(x[:1], s0, p, d_out[:1], None, opts)
    assert relative_error(s1, t_out[0]) < TOL
    assert relative_error(dx, t_dx[0]) < TOL
    assert relative_error(ds0, t_ds0) < TOL
    for k in p:
        assert relative_error(grads[k], t_grads[k]) < TOL, k

    def loss(_=None):
        return np.sum(srn.step_forward(x[0], s0, p, **opts)[0] * d_out[0])

    analytic = flat(dx, ds0, *grads.values())
    numeric = flat(*(numerical_gradient(loss, a) for a in (x[0], s0, *p.values())))
    assert relative_error(analytic, numeric, floor=FD_FLOOR) < TOL


@pytest.mark.parametrize("feedback", FEEDBACKS)
@settings(max_examples=10, deadline=None)
@given(**dims, data=st.data())
def test_forward_and_backward_equal_a_loop_of_steps(feedback, data, seed, T, B, D, H, O):
    opts = data.draw(opts_strategy(feedback))
    p, x, s0, d_out, d_final = make_case(seed, T, B, D, H, O, opts)
    out, cache = srn.forward(x, s0, p, **opts)
    dx, ds0, grads = srn.backward(d_out, cache, d_final)
    s, caches = s0, []
    for t in range(T):
        s, c = srn.step_forward(x[t], s, p, **opts)
        np.testing.assert_allclose(out[t], s, rtol=1e-13, atol=1e-14)
        caches.append(c)
    ds, step_grads = d_final, {k: 0 for k in p}
    for t in reversed(range(T)):
        dx_t, ds, g = srn.step_backward(ds + d_out[t], caches[t])
        np.testing.assert_allclose(dx[t], dx_t, rtol=1e-12, atol=1e-13)
        step_grads = {k: step_grads[k] + g[k] for k in p}
    np.testing.assert_allclose(ds0, ds, rtol=1e-12, atol=1e-13)
    for k in p:
        np.testing.assert_allclose(grads[k], step_grads[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("feedback", FEEDBACKS)
def test_float32_in_float32_out(feedback):
    rng = np.random.default_rng(0)
    O = 3 if feedback == "output" else None
    p = srn.init_params(4, 5, rng, dtype=np.float32, feedback=feedback, output_size=O)
    x = rng.standard_normal((6, 2, 4)).astype(np.float32)
    out, cache = srn.forward(x, None, p, feedback=feedback)
    dx, dh0, grads = srn.backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    out64, _ = srn.forward(
        x.astype(np.float64),
        None,
        {k: v.astype(np.float64) for k, v in p.items()},
        feedback=feedback,
    )
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-6)


def test_h0_none_means_zeros():
    rng = np.random.default_rng(1)
    p = srn.init_params(3, 4, rng)
    x = rng.standard_normal((5, 2, 3))
    np.testing.assert_array_equal(
        srn.forward(x, None, p)[0], srn.forward(x, np.zeros((2, 4)), p)[0]
    )


def test_matches_torch_rnn():
    """The Elman network with tanh is torch.nn.RNN with bias_ih + bias_hh = b."""
    rng = np.random.default_rng(2)
    p = srn.init_params(3, 4, rng)
    x = rng.standard_normal((5, 2, 3))
    h0 = rng.standard_normal((2, 4))
    rnn = torch.nn.RNN(3, 4).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(p["W"]))
        rnn.weight_hh_l0.copy_(torch.tensor(p["U"]))
        rnn.bias_ih_l0.copy_(torch.tensor(p["b"]))
        rnn.bias_hh_l0.zero_()
        ref, _ = rnn(torch.tensor(x), torch.tensor(h0)[None])
    np.testing.assert_allclose(srn.forward(x, h0, p)[0], ref.numpy(), rtol=1e-12, atol=1e-14)
