"""rnnbook.nn.ClockworkRNN against rnnbook.scratch.clockwork (float64)."""

import numpy as np
import pytest
import torch

from rnnbook.nn import ClockworkRNN
from rnnbook.scratch import clockwork

PERIODS = (1, 2, 4, 8)


def _pair(start=1, seed=0):
    torch.manual_seed(seed)
    cw = ClockworkRNN(3, 2, PERIODS, start=start, dtype=torch.float64)
    x = np.random.default_rng(seed).normal(size=(11, 2, 3))
    h0 = np.random.default_rng(seed + 1).normal(size=(2, 8))
    return cw, x, h0


@pytest.mark.parametrize("start", [0, 1])
def test_outputs_and_gradients_match_the_scratch_version(start):
    cw, x, h0 = _pair(start)
    params = cw.to_scratch()
    assert np.array_equal(params["U"], clockwork.recurrent_mask(2, PERIODS) * params["U"])
    out_np, cache = clockwork.forward(x, h0, params, periods=PERIODS, start=start)
    d_out = np.random.default_rng(5).normal(size=out_np.shape)
    dx_np, dh0_np, grads_np = clockwork.backward(d_out, cache)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    out, h_T = cw(xt, h0t)
    np.testing.assert_allclose(out.detach().numpy(), out_np, rtol=1e-12, atol=1e-12)
    assert torch.equal(h_T, out[-1])
    (out * torch.tensor(d_out)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), dx_np, atol=1e-12)
    np.testing.assert_allclose(h0t.grad.numpy(), dh0_np, atol=1e-12)
    for key in "WUb":
        np.testing.assert_allclose(getattr(cw, key).grad.numpy(), grads_np[key], atol=1e-12)


def test_a_planted_error_is_seen():
    """The other starting step, or a dropped mask, gives other outputs."""
    cw, x, h0 = _pair(1)
    params = cw.to_scratch()
    out_np, _ = clockwork.forward(x, h0, params, periods=PERIODS, start=0)
    out = cw(torch.tensor(x), torch.tensor(h0))[0].detach().numpy()
    assert np.abs(out - out_np).max() > 1e-3
    with torch.no_grad():
        cw.M.fill_(1.0)
        cw.U.normal_()
    params = cw.to_scratch()
    out_np, _ = clockwork.forward(x, h0, params, periods=PERIODS, start=1)
    out = cw(torch.tensor(x), torch.tensor(h0))[0].detach().numpy()
    assert np.abs(out - out_np).max() > 1e-3


def test_batch_first_and_idle_modules_keep_their_state():
    torch.manual_seed(0)
    cw = ClockworkRNN(1, 3, PERIODS, batch_first=True)
    x = torch.randn(2, 9, 1)
    out, _ = cw(x)
    assert out.shape == (2, 9, 12)
    # the period-8 module (units 9..11) changes only at t = 8, the 8th step
    slow = out[:, :, 9:]
    assert torch.equal(slow[:, :7], torch.zeros(2, 7, 3))
    assert (slow[:, 7] != 0).all() and torch.equal(slow[:, 8], slow[:, 7])
    out_tf, _ = cw.__class__(1, 3, PERIODS)(x.transpose(0, 1))
    assert out_tf.shape == (9, 2, 12)


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="non-decreasing"):
        ClockworkRNN(1, 2, (2, 1))
    with pytest.raises(ValueError, match="module_size"):
        ClockworkRNN(1, 0, PERIODS)
    with pytest.raises(ValueError, match="activation"):
        ClockworkRNN(1, 2, PERIODS, activation="cube")
    cw = ClockworkRNN(1, 2, PERIODS)
    with pytest.raises(ValueError, match="3-d tensor"):
        cw(torch.zeros(4, 1))
    with pytest.raises(ValueError, match=r"\(T, B, D\)"):
        cw(torch.zeros(4, 1, 2))
    with pytest.raises(ValueError, match="dtype"):
        cw(torch.zeros(4, 1, 1, dtype=torch.float64))


@pytest.mark.parametrize("periods", [(1, 2, 4, 8), (1, 2, 2, 4), (2, 4)])
def test_the_scratch_step_equals_the_dense_masked_step(periods):
    """step_forward's per-module products over the kept columns give (M * U)[a] h + W[a] x + b[a],
    with U nonzero outside the mask, also at steps where no module ticks."""
    k, B, D = 3, 2, 2
    H = k * len(periods)
    rng = np.random.default_rng(5)
    params = {"W": rng.normal(size=(H, D)), "U": rng.normal(size=(H, H)), "b": rng.normal(size=H)}
    M = clockwork.recurrent_mask(k, periods)
    assert (params["U"] * (1 - M) != 0).any()  # entries outside the mask, to be ignored
    for t in range(1, 9):
        x_t, h_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H))
        h, cache = clockwork.step_forward(x_t, h_prev, params, t, periods=periods)
        a = np.repeat(t % np.array(periods) == 0, k)
        want = h_prev.copy()
        want[:, a] = np.tanh(
            h_prev @ (M * params["U"])[a].T + x_t @ params["W"][a].T + params["b"][a]
        )
        np.testing.assert_allclose(h, want, rtol=0, atol=1e-12)
        dh = rng.normal(size=(B, H))
        dx, dh_prev, grads = clockwork.step_backward(dh, cache)
        dz = dh[:, a] * (1 - want[:, a] ** 2)
        np.testing.assert_allclose(dx, dz @ params["W"][a], atol=1e-12)
        want_dh = np.where(a, 0.0, dh) + dz @ (M * params["U"])[a]
        np.testing.assert_allclose(dh_prev, want_dh, atol=1e-12)
        want_dU = np.zeros((H, H))
        want_dU[a] = M[a] * (dz.T @ h_prev)
        np.testing.assert_allclose(grads["U"], want_dU, atol=1e-12)
        if not a.any():  # nothing ticks: the state and its gradient pass through unchanged
            assert np.array_equal(h, h_prev) and np.array_equal(dh_prev, dh)
    # a planted error: the mask's transpose (fast modules feeding slow ones) is told apart
    if len(set(periods)) > 1:
        x_t, h_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H))
        t = int(np.lcm.reduce(periods))  # every module ticks
        h, _ = clockwork.step_forward(x_t, h_prev, params, t, periods=periods)
        wrong = np.tanh(h_prev @ (M.T * params["U"]).T + x_t @ params["W"].T + params["b"])
        assert np.abs(h - wrong).max() > 1e-3
