"""The Jordan network's self-connection mu (Jordan 1986): s_t = mu s_{t-1} + yhat_t.

Forward against the equations written in PyTorch, backward against autograd and
against finite differences per parameter key, for several mu; mu = 0 is the plain
output feedback bit for bit; bad values of mu are refused.
"""

import numpy as np
import pytest
import torch

from rnnbook import cells
from rnnbook.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch import srn

T, B, D, H, O = 5, 3, 4, 6, 2
TOL = 1e-7
MUS = (0.0, 0.5, -0.8, 1.3)
G = {"identity": lambda o: o, "tanh": torch.tanh, "softmax": lambda o: torch.softmax(o, -1)}


def case(seed, output_activation="identity"):
    rng = np.random.default_rng(seed)
    p = srn.init_params(D, H, rng, feedback="output", output_size=O)
    p = {
        k: 2 * v for k, v in p.items()
    }  # larger weights: the check is not dominated by tiny values
    x = rng.standard_normal((T, B, D))
    s0 = rng.standard_normal((B, O))
    d_out = rng.standard_normal((T, B, O))
    d_final = rng.standard_normal((B, O))
    opts = dict(feedback="output", output_activation=output_activation)
    return p, x, s0, d_out, d_final, opts


def torch_jordan(x, s0, p, mu, output_activation):
    """Jordan's network from its equations: h_t = tanh(W x_t + U s_{t-1} + b),
    yhat_t = g(V h_t + c), s_t = mu s_{t-1} + yhat_t. Returns (yhat (T, B, O), s_T)."""
    s, ys = s0, []
    for t in range(x.shape[0]):
        h = torch.tanh(x[t] @ p["W"].T + s @ p["U"].T + p["b"])
        y = G[output_activation](h @ p["V"].T + p["c"])
        s = mu * s + y
        ys.append(y)
    return torch.stack(ys), s


@pytest.mark.parametrize("mu", MUS)
@pytest.mark.parametrize("g", sorted(G))
def test_forward_and_backward_match_autograd(mu, g):
    p, x, s0, d_out, d_final, opts = case(1, g)
    ys, cache = srn.forward(x, s0, p, mu=mu, **opts)
    dx, ds0, grads = srn.backward(d_out, cache, d_final)

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tx, ts0 = torch.tensor(x, requires_grad=True), torch.tensor(s0, requires_grad=True)
    ty, tsT = torch_jordan(tx, ts0, tp, mu, g)
    np.testing.assert_allclose(ys, ty.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(cache["final"], tsT.detach().numpy(), rtol=0, atol=1e-13)
    ((ty * torch.tensor(d_out)).sum() + (tsT * torch.tensor(d_final)).sum()).backward()
    assert relative_error(dx, tx.grad.numpy()) < TOL
    assert relative_error(ds0, ts0.grad.numpy()) < TOL
    for k in p:
        assert relative_error(grads[k], tp[k].grad.numpy()) < TOL, k


@pytest.mark.parametrize("mu", MUS)
def test_backward_against_finite_differences_per_key(mu):
    p, x, s0, d_out, d_final, opts = case(2, "tanh")
    _, cache = srn.forward(x, s0, p, mu=mu, **opts)
    dx, ds0, grads = srn.backward(d_out, cache, d_final)

    def loss(x_=x, s0_=s0, p_=p):
        ys, c = srn.forward(x_, s0_, p_, mu=mu, **opts)
        return float((ys * d_out).sum() + (c["final"] * d_final).sum())

    for k in p:

        def f(v, k=k):
            return loss(p_={**p, k: v})

        assert relative_error(grads[k], numerical_gradient(f, p[k].copy(), 1e-6)) < 1e-6, k
    assert relative_error(dx, numerical_gradient(lambda v: loss(x_=v), x.copy(), 1e-6)) < 1e-6
    assert relative_error(ds0, numerical_gradient(lambda v: loss(s0_=v), s0.copy(), 1e-6)) < 1e-6


def test_mu_zero_is_todays_output_feedback_exactly():
    p, x, s0, d_out, d_final, opts = case(3)
    ys0, c0 = srn.forward(x, s0, p, **opts)
    ys, c = srn.forward(x, s0, p, mu=0.0, **opts)
    assert np.array_equal(ys0, ys) and np.array_equal(c0["final"], c["final"])
    # with mu = 0 the state is the output itself
    assert all(s is step["yhat"] for s, step in zip(c["states"], c["steps"], strict=True))
    plain, with_mu = srn.backward(d_out, c0, d_final), srn.backward(d_out, c, d_final)
    for a, b in zip(plain[:2], with_mu[:2], strict=True):
        assert np.array_equal(a, b)


def test_mu_changes_the_states_and_the_gradient_of_the_past():
    """The check can fail: a self-connection that did nothing would pass the mu = 0 test."""
    p, x, s0, d_out, d_final, opts = case(4)
    ys0, c0 = srn.forward(x, s0, p, **opts)
    ys, c = srn.forward(x, s0, p, mu=0.5, **opts)
    assert np.abs(ys - ys0).max() > 1e-3
    # the state is the decaying sum of the outputs: s_t = sum_k mu^(t-k) yhat_k + mu^t s_0
    want = 0.5**T * s0 + sum(0.5 ** (T - 1 - k) * ys[k] for k in range(T))
    np.testing.assert_allclose(c["final"], want, rtol=0, atol=1e-13)
    # with mu = 0 and no loss on the outputs, d_final reaches s_0 only through U; with mu it
    # also reaches it directly, as mu^T d_final
    zero = np.zeros_like(d_out)
    V = p["V"] * 0  # cut the path through the network: yhat_t = c, constant
    q = {**p, "V": V}
    _, cz = srn.forward(x, s0, q, mu=0.5, **opts)
    _, ds0, _ = srn.backward(zero, cz, d_final)
    np.testing.assert_allclose(ds0, 0.5**T * d_final, rtol=0, atol=1e-14)


def test_step_returns_the_state_and_keeps_the_output():
    p, x, s0, *_, opts = case(5)
    s1, cache = srn.step_forward(x[0], s0, p, mu=0.25, **opts)
    np.testing.assert_allclose(s1, 0.25 * s0 + cache["yhat"], rtol=0, atol=0)
    assert cache["state"] is s1


@pytest.mark.parametrize(
    "mu, message",
    [
        (float("nan"), "mu must be a finite real number, got nan"),
        (float("inf"), "mu must be a finite real number, got inf"),
        ("0.5", "mu must be a finite real number, got '0.5'"),
        (True, "mu must be a finite real number, got True"),
        (None, "mu must be a finite real number, got None"),
        (np.array([0.5]), "mu must be a finite real number, got ndarray of shape"),
    ],
)
def test_bad_mu_is_refused(mu, message):
    p, x, s0, *_, opts = case(6)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        srn.forward(x, s0, p, mu=mu, **opts)


def test_mu_needs_the_jordan_network():
    rng = np.random.default_rng(0)
    p = srn.init_params(D, H, rng)
    x = rng.standard_normal((T, B, D))
    with pytest.raises(ValueError, match="needs feedback='output', got mu = 0.5"):
        srn.forward(x, None, p, mu=0.5)
    # mu = 0 is the default, allowed for both
    assert cells.options("srn", {"mu": 0})["mu"] == 0.0
    assert cells.options("srn")["mu"] == 0.0
    assert cells.options("srn", {"feedback": "output", "mu": np.float32(0.5)})["mu"] == 0.5


def test_d_out_t_is_checked():
    p, x, s0, *_, opts = case(7)
    _, cache = srn.step_forward(x[0], s0, p, mu=0.5, **opts)
    with pytest.raises(ValueError, match=r"d_out_t must have shape \(3, 2\)"):
        srn.step_backward(np.zeros((B, O)), cache, d_out_t=np.zeros((B, H)))
