"""The clockwork RNN (rnnbook.scratch.clockwork): mask, clock, gradients, and the SRN limit."""

import numpy as np
import pytest
import torch
from autograd_reference import autograd_sequence

from rnnbook import gradcheck
from rnnbook.scratch import clockwork as cw
from rnnbook.scratch import srn

PERIODS = (1, 2, 4)


def _problem(seed=0, T=7, B=2, D=3, k=2, periods=PERIODS, junk=False):
    rng = np.random.default_rng(seed)
    p = cw.init_params(D, k, periods, rng)
    if junk:
        # entries outside the mask that forward must ignore
        p["U"] = p["U"] + (1 - cw.recurrent_mask(k, periods)) * rng.standard_normal(p["U"].shape)
    H = k * len(periods)
    x = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    d_out = rng.standard_normal((T, B, H))
    d_final = rng.standard_normal((B, H))
    return x, h0, p, d_out, d_final


def _loss(x, h0, p, d_out, d_final, **kw):
    out, cache = cw.forward(x, h0, p, **kw)
    return float((out * d_out).sum() + (cache["final"] * d_final).sum())


# ---- the mask and the clock ---------------------------------------------------------


def test_mask_is_block_upper_triangular_built_independently():
    k, G = 3, 4
    M = cw.recurrent_mask(k, cw.default_periods(G))
    # blocks (i, j) with j >= i are ones: row i receives from the slower modules j
    expected = np.kron(np.triu(np.ones((G, G))), np.ones((k, k)))
    np.testing.assert_array_equal(M, expected)
    assert cw.default_periods(G) == (1, 2, 4, 8)


def test_the_qa_example_worked_out():
    c = cw.connection_counts(64, (1, 2, 4, 8))
    # the Q&A chapter's sizes (004 line 478) are the outgoing reading
    assert c["outgoing"] == [(64, 64), (64, 128), (64, 192), (64, 256)]
    # the paper's rows: the fastest module receives from all four
    assert c["incoming"] == [(64, 256), (64, 192), (64, 128), (64, 64)]
    # k^2 G (G + 1) / 2 weights instead of H^2: fewer parameters, as the chapter says
    assert c["recurrent_weights"] == 64 * 64 * 4 * 5 // 2 == 40960
    assert c["full_weights"] == 256 * 256
    # per step: module g's k x (k (G - g + 1)) rows are used every T_g steps
    assert c["used_per_step"] == 64 * (256 + 192 / 2 + 128 / 4 + 64 / 8) == 25088


def test_ticks_follow_t_mod_T():
    got = cw.ticks(9, (1, 2, 4), start=0)
    assert got[:, 0].all()
    np.testing.assert_array_equal(np.flatnonzero(got[:, 2]), [0, 4, 8])
    got1 = cw.ticks(8, (1, 2, 4))  # t = 1..8
    np.testing.assert_array_equal(np.flatnonzero(got1[:, 1]) + 1, [2, 4, 6, 8])
    np.testing.assert_array_equal(np.flatnonzero(got1[:, 2]) + 1, [4, 8])


@pytest.mark.parametrize("start", [0, 1, 3])
def test_a_period_4_module_changes_only_at_its_ticks(start):
    x, h0, p, _, _ = _problem(T=12, periods=(1, 4))
    out, _ = cw.forward(x, h0, p, periods=(1, 4), start=start)
    slow = np.concatenate([h0[None, :, 2:], out[:, :, 2:]])  # h_0..h_T of module 2
    changed = [
        t for s, t in enumerate(range(start, start + 12)) if not np.allclose(slow[s + 1], slow[s])
    ]
    assert changed == [t for t in range(start, start + 12) if t % 4 == 0]
    # the fast module changes at every step
    assert all(not np.allclose(out[s, :, :2], out[s - 1, :, :2]) for s in range(1, 12))


# ---- gradients ----------------------------------------------------------------------


@pytest.mark.parametrize("start", [0, 1])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_gradients_per_key_match_centred_differences(start, activation):
    x, h0, p, d_out, d_final = _problem(junk=True)
    kw = dict(periods=PERIODS, start=start, activation=activation)
    out, cache = cw.forward(x, h0, p, **kw)
    dx, dh0, grads = cw.backward(d_out, cache, d_final)
    errors = gradcheck.check_gradients(lambda q: _loss(x, h0, q, d_out, d_final, **kw), p, grads)
    assert set(errors) == {"W", "U", "b"}
    assert max(errors.values()) < 1e-7, errors
    f_x = lambda _: _loss(x, h0, p, d_out, d_final, **kw)  # noqa: E731
    assert gradcheck.relative_error(dx, gradcheck.numerical_gradient(f_x, x)) < 1e-7
    f_h = lambda _: _loss(x, h0, p, d_out, d_final, **kw)  # noqa: E731
    assert gradcheck.relative_error(dh0, gradcheck.numerical_gradient(f_h, h0)) < 1e-7


def _torch_clockwork(periods, k, start):
    """An independent implementation: a loop over modules, blocks sliced out of U."""
    G = len(periods)

    def run(x, h0, tp):
        h = h0
        outs = []
        for s in range(x.shape[0]):
            t = start + s
            parts = []
            for i in range(G):
                rows = slice(i * k, (i + 1) * k)
                if t % periods[i] == 0:
                    # module i hears every module j at least as slow as itself (T_j >= T_i),
                    # read from the periods, not from the modules' order
                    z = x[s] @ tp["W"][rows].T + tp["b"][rows]
                    for j in (j for j in range(G) if periods[j] >= periods[i]):
                        cols = slice(j * k, (j + 1) * k)
                        z = z + h[:, cols] @ tp["U"][rows, cols].T
                    parts.append(torch.tanh(z))
                else:
                    parts.append(h[:, rows])
            h = torch.cat(parts, dim=1)
            outs.append(h)
        return torch.stack(outs), h

    return run


@pytest.mark.parametrize("periods", [PERIODS, (1, 2, 2, 4)])
@pytest.mark.parametrize("start", [0, 1])
def test_matches_torch_autograd(start, periods):
    # (1, 2, 2, 4): two modules share a period and hear each other both ways
    k = 2
    x, h0, p, d_out, d_final = _problem(seed=3, k=k, periods=periods, junk=True)
    out, cache = cw.forward(x, h0, p, periods=periods, start=start)
    dx, dh0, grads = cw.backward(d_out, cache, d_final)
    ref = autograd_sequence(_torch_clockwork(periods, k, start), x, h0, p, d_out, d_final)
    t_out, t_dx, t_dh0, t_grads = ref
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dh0, t_dh0, rtol=1e-10, atol=1e-12)
    for key in p:
        np.testing.assert_allclose(grads[key], t_grads[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_masked_entries_get_zero_gradient_and_stay_zero():
    x, h0, p, d_out, d_final = _problem(seed=5)
    M = cw.recurrent_mask(2, PERIODS)
    assert np.all(p["U"][M == 0] == 0)
    _, cache = cw.forward(x, h0, p, periods=PERIODS)
    _, _, grads = cw.backward(d_out, cache, d_final)
    assert np.all(grads["U"][M == 0] == 0)
    assert np.abs(grads["U"][M == 1]).min() > 0
    stepped = {key: p[key] - 0.1 * grads[key] for key in p}
    assert np.all(stepped["U"][M == 0] == 0)


def test_a_planted_error_fails_the_check(monkeypatch):
    """Drop one term: the copy h_t = h_{t-1} of the modules that do not tick."""
    x, h0, p, d_out, d_final = _problem(seed=7)
    kw = dict(periods=PERIODS)
    f = lambda q: _loss(x, h0, q, d_out, d_final, **kw)  # noqa: E731
    _, cache = cw.forward(x, h0, p, **kw)
    good = cw.backward(d_out, cache, d_final)[2]
    assert max(gradcheck.check_gradients(f, p, good).values()) < 1e-7
    original = cw.step_backward

    def planted(dh_t, step_cache, check=True):
        dx_t, dh_prev, g = original(dh_t, step_cache, check=check)
        return dx_t, dh_prev - np.where(step_cache["a"], 0.0, dh_t), g

    monkeypatch.setattr(cw, "step_backward", planted)
    bad = cw.backward(d_out, cache, d_final)[2]
    assert max(gradcheck.check_gradients(f, p, bad).values()) > 1e-2


# ---- the SRN limit ------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_all_periods_one_is_the_srn(activation):
    """With every period 1 the mask is all ones (nothing is removed) and every module ticks."""
    periods, k, D = (1, 1, 1), 2, 3
    assert np.all(cw.recurrent_mask(k, periods) == 1)
    p = cw.init_params(D, k, periods, np.random.default_rng(11))
    # the same draws as the SRN's own init
    q = srn.init_params(D, 6, np.random.default_rng(11))
    for key in p:
        np.testing.assert_array_equal(p[key], q[key])
    x, h0, _, d_out, d_final = _problem(seed=12, k=k, periods=periods)
    out, cache = cw.forward(x, h0, p, periods=periods, activation=activation)
    s_out, s_cache = srn.forward(x, h0, p, activation=activation)
    np.testing.assert_allclose(out, s_out, rtol=1e-13, atol=1e-14)
    got = cw.backward(d_out, cache, d_final)
    want = srn.backward(d_out, s_cache, d_final)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)
    for key in p:
        np.testing.assert_allclose(got[2][key], want[2][key], rtol=1e-12, atol=1e-14)


def test_step_forward_is_forward_one_step():
    x, h0, p, d_out, _ = _problem(seed=2, T=1)
    h, step = cw.step_forward(x[0], h0, p, 4, periods=PERIODS)
    out, _ = cw.forward(x, h0, p, periods=PERIODS, start=4)
    np.testing.assert_array_equal(h, out[0])
    dx_t, dh_prev, g = cw.step_backward(d_out[0], step)
    assert dx_t.shape == x[0].shape and dh_prev.shape == h0.shape and set(g) == {"W", "U", "b"}


def test_float32_stays_float32():
    x, h0, p, d_out, d_final = _problem(seed=4)
    p32 = {key: v.astype(np.float32) for key, v in p.items()}
    f32 = (x.astype(np.float32), h0.astype(np.float32))
    out, cache = cw.forward(*f32, p32, periods=PERIODS)
    dx, dh0, grads = cw.backward(d_out.astype(np.float32), cache, d_final.astype(np.float32))
    assert {a.dtype for a in (out, dx, dh0, *grads.values())} == {np.dtype(np.float32)}
    np.testing.assert_allclose(out, cw.forward(x, h0, p, periods=PERIODS)[0], atol=1e-5)


# ---- bad input ----------------------------------------------------------------------


def _bad_cases():
    x, h0, p, d_out, _ = _problem()
    _, cache = cw.forward(x, h0, p, periods=PERIODS)
    rng = np.random.default_rng(0)
    return [
        (lambda: cw.recurrent_mask(0, PERIODS), "module_size must be an int >= 1, got 0"),
        (lambda: cw.recurrent_mask(2, (1, 4, 2)), "non-decreasing order"),
        (lambda: cw.recurrent_mask(2, ()), "periods must be a non-empty tuple"),
        (lambda: cw.recurrent_mask(2, (1, 0)), r"periods\[1\] must be an int >= 1, got 0"),
        (lambda: cw.recurrent_mask(2, (1, 2.0)), r"periods\[1\] must be an int >= 1"),
        (lambda: cw.ticks(0, PERIODS), "length must be an int >= 1"),
        (lambda: cw.ticks(3, PERIODS, start=-1), "start must be an int >= 0, got -1"),
        (lambda: cw.default_periods(0), "n_modules must be an int >= 1"),
        (lambda: cw.connection_counts(64, 4), "periods must be a non-empty tuple"),
        (lambda: cw.init_params(3, 2, PERIODS, 0), "rng must be a numpy.random.Generator"),
        (lambda: cw.init_params(0, 2, PERIODS, rng), "input_size must be an int >= 1"),
        (
            lambda: cw.forward(x, h0, p, periods=(1, 2, 4, 8)),
            "H = G k rows for G = 4 modules, got H = 6",
        ),
        (lambda: cw.forward(x[0], h0, p, periods=PERIODS), "x must have rank 3"),
        (lambda: cw.forward(x, h0[:, :4], p, periods=PERIODS), r"h0 must have shape \(B, H\)"),
        (
            lambda: cw.forward(x.astype(np.float32), None, p, periods=PERIODS),
            "must have dtype float32",
        ),
        (lambda: cw.forward(x, h0, p, periods=PERIODS, activation="softmax"), "activation must"),
        (lambda: cw.forward(x, h0, p, periods=PERIODS, start=1.5), "start must be an int"),
        (lambda: cw.forward(x, h0, {"U": p["U"]}, periods=PERIODS), "params"),
        (lambda: cw.forward(x * np.nan, h0, p, periods=PERIODS), "only finite numbers"),
        (lambda: cw.step_forward(x[0], h0, p, -1, periods=PERIODS), "t must be an int >= 0"),
        (lambda: cw.backward(d_out[:2], cache), r"d_outputs must have shape \(T, B, H\)"),
        (lambda: cw.backward(d_out, {"cell": "srn"}), "cache must be the cache returned by"),
        (lambda: cw.backward(d_out, cache, d_out[0, :1]), "d_final must have shape"),
        (lambda: cw.step_backward(d_out[0], cache), "cache must be the cache returned by"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_cases())))
def test_bad_input_is_a_value_error(index):
    call, match = _bad_cases()[index]
    with pytest.raises(ValueError, match=match):
        call()


def test_mask_in_the_papers_words():
    # "slower modules feed faster ones": rows of the fast module read the slow columns,
    # rows of the slow module never read the fast columns
    M = cw.recurrent_mask(2, (1, 4))
    fast, slow = slice(0, 2), slice(2, 4)
    assert np.all(M[fast, slow] == 1) and np.all(M[slow, fast] == 0)
    assert np.all(M[fast, fast] == 1) and np.all(M[slow, slow] == 1)
