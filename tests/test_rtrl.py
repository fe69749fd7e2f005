"""rnnbook.scratch.rtrl: RTRL's gradients equal BPTT's, step by step and over a sequence."""

import numpy as np
import pytest
from bptt_problem import make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.scratch import bptt, gru, lstm, rtrl, srn

MODELS = [
    ("srn", srn, {"activation": "tanh"}),
    ("srn", srn, {"activation": "sigmoid"}),
    ("srn", srn, {"activation": "relu"}),
    ("gru", gru, {"reset": "before", "update": "keep"}),
    ("gru", gru, {"reset": "before", "update": "replace"}),
    ("gru", gru, {"reset": "after", "update": "keep"}),
    ("gru", gru, {"reset": "after", "update": "replace"}),
    ("lstm", lstm, {"variant": "standard"}),
    ("lstm", lstm, {"variant": "no_forget"}),
    ("lstm", lstm, {"variant": "peephole"}),
    ("lstm", lstm, {"variant": "coupled"}),
]
IDS = [f"{c}-{'-'.join(o.values())}" for c, _, o in MODELS]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    T=st.integers(1, 6),
    B=st.integers(1, 3),
    D=st.integers(1, 4),
    H=st.integers(1, 5),
    loss=st.sampled_from(bptt.LOSSES),
    on=st.sampled_from(bptt.ONS),
)
def test_rtrl_equals_bptt(model, seed, T, B, D, H, loss, on):
    cell, module, opts = model
    rng = np.random.default_rng(seed)
    x, y, p = make_problem(rng, module, opts, T, B, D, H, 3, loss, on)
    h0 = rng.standard_normal((B, H))
    if cell == "lstm":
        h0 = (h0, rng.standard_normal((B, H)))  # (h0, c0)
    L_b, g_b = bptt.full(cell, x, y, p, h0=h0, loss=loss, on=on, **opts)
    L_r, g_r = rtrl.gradients(cell, x, y, p, h0=h0, loss=loss, on=on, **opts)
    assert abs(L_r - L_b) <= 1e-12 * max(1.0, abs(L_b))
    assert g_r.keys() == g_b.keys()
    for k in g_b:
        np.testing.assert_allclose(g_r[k], g_b[k], rtol=1e-10, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("model", [MODELS[i] for i in (0, 5, 9)], ids=[IDS[i] for i in (0, 5, 9)])
def test_online_gradient_of_each_step_equals_bptt_of_that_step(model):
    """After step t, RTRL knows dL_t/dtheta: BPTT of the prefix x_1..x_t with the loss at t only."""
    cell, module, opts = model
    rng = np.random.default_rng(7)
    T, B = 6, 2
    x, y, p = make_problem(rng, module, opts, T, B, 3, 4, 3, "cross_entropy", "every")
    learner = rtrl.RTRL(cell, p, batch_size=B, **opts)
    memory = learner.S.nbytes
    for t in range(T):
        L_t, g_t = learner.step(x[t], y[t])
        L_b, g_b = bptt.full(cell, x[: t + 1], y[t], p, on="last", **opts)
        assert abs(L_t - L_b) < 1e-12
        for k in g_b:
            np.testing.assert_allclose(g_t[k], g_b[k], rtol=1e-10, atol=1e-12, err_msg=k)
        assert learner.S.nbytes == memory  # memory does not grow with t
    assert learner.t == T
    _, total = bptt.full(cell, x, y, p, **opts)
    for k in total:
        np.testing.assert_allclose(learner.grads[k], total[k], rtol=1e-10, atol=1e-12)
    learner.reset_grads()
    assert all(not g.any() for g in learner.grads.values())
    assert learner.step(x[0]) == (None, None)


def test_rtrl_refuses_what_it_does_not_cover():
    rng = np.random.default_rng(8)
    x, y, p = make_problem(rng, srn, {}, 3, 1, 2, 3, 2, "cross_entropy", "every")
    with pytest.raises(ValueError, match="cell must be one of"):
        rtrl.RTRL("elman", p, batch_size=1)
    with pytest.raises(ValueError, match="feedback must be one of"):
        rtrl.RTRL("srn", p, batch_size=1, feedback="output")
    with pytest.raises(ValueError, match="batch_size"):
        rtrl.RTRL("srn", p, batch_size=0)
    learner = rtrl.RTRL("srn", p, batch_size=1)
    with pytest.raises(ValueError, match=r"x_t must have shape \(B, D\)"):
        learner.step(np.zeros((2, 2)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="class indices"):
        learner.step(np.zeros((1, 2)), np.array([5]))
    with pytest.raises(ValueError, match="finite"):
        learner.step(np.array([[np.nan, 0.0]]), np.array([0]))
    assert learner.t == 0  # nothing was computed


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda p: {k: v for k, v in p.items() if k != "V"}, "output layer's 'V' and 'c'"),
        (
            lambda p: {**p, "V": p["V"][:, :-1]},
            r"params\['V'\] must have shape \(O, H\) = \(2, 3\)",
        ),
        (lambda p: {**p, "W": p["W"].astype(np.int64)}, r"params\['W'\] must have a dtype in"),
        (lambda p: {**p, "U": p["U"][:-1]}, r"params\['U'\] must have shape \(H, H\) = \(3, 3\)"),
        (lambda p: {**p, "b": np.full(3, np.nan)}, r"params\['b'\] must contain only finite"),
        (lambda p: {k: v for k, v in p.items() if k != "W"}, "params must have the key 'W'"),
    ],
)
def test_rtrl_checks_params_before_anything(change, match):
    rng = np.random.default_rng(9)
    _, _, p = make_problem(rng, srn, {}, 3, 1, 2, 3, 2, "cross_entropy", "every")
    with pytest.raises(ValueError, match=match):
        rtrl.RTRL("srn", change(p), batch_size=1)


def test_rtrl_float32_and_unknown_options():
    rng = np.random.default_rng(10)
    x, y, p = make_problem(rng, gru, {}, 4, 2, 3, 4, 3, "cross_entropy", "every")
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    L, g = rtrl.gradients("gru", x.astype(np.float32), y, p32)
    assert all(v.dtype == np.float32 for v in g.values())
    _, g64 = bptt.full("gru", x, y, p)
    for k in g:
        np.testing.assert_allclose(g[k], g64[k], rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match=r"the gru options are \('reset', 'update'\), got unknown"):
        rtrl.RTRL("gru", p, batch_size=2, variant="standard")


def test_online_learning_on_a_stream_lowers_the_loss():
    """Chapter 4's use: one step at a time, the parameters updated in place after each step."""
    rng = np.random.default_rng(11)
    p = srn.init_params(1, 8, rng)
    p["V"] = 0.1 * rng.standard_normal((2, 8))
    p["c"] = np.zeros(2)
    learner = rtrl.RTRL("srn", p, batch_size=4)
    # a stream of bits; the target is the bit seen one step earlier (a task needing memory)
    bits = rng.integers(0, 2, (3000, 4))
    losses = []
    for t in range(1, 3000):
        L, g = learner.step(bits[t][:, None].astype(float) * 2 - 1, bits[t - 1])
        for k in p:
            p[k] -= 0.1 * g[k]
        losses.append(L)
    assert np.mean(losses[-200:]) < 0.5 * np.mean(losses[:200])


def test_rtrl_lstm_state_and_options_are_checked():
    rng = np.random.default_rng(12)
    _, _, p = make_problem(rng, lstm, {"variant": "peephole"}, 3, 2, 2, 3, 2, "squared", "every")
    with pytest.raises(ValueError, match=r"the LSTM state must be a pair \(h_prev, c_prev\)"):
        rtrl.RTRL("lstm", p, batch_size=2, h0=np.zeros((2, 3)), variant="peephole")
    with pytest.raises(ValueError, match=r"unexpected \['p_f', 'p_i', 'p_o'\]"):
        rtrl.RTRL("lstm", p, batch_size=2, variant="standard")
    with pytest.raises(ValueError, match="variant must be one of"):
        rtrl.RTRL("lstm", p, batch_size=2, variant="gru")
    with pytest.raises(ValueError, match=r"the lstm options are \('variant',\), got unknown"):
        rtrl.RTRL("lstm", p, batch_size=2, reset="after")
    learner = rtrl.RTRL("lstm", p, batch_size=2, variant="peephole")
    n_params = sum(v.size for k, v in p.items() if k not in ("V", "c"))
    assert learner.S.shape == (2, 2 * 3, n_params)  # [dh/dtheta; dc/dtheta]
    assert learner.h.shape == (2, 3) and len(learner.state) == 2


def test_sensitivities_must_start_at_zero_with_the_state():
    """(6.27) starts from dh_0/dtheta = 0, which holds because h_0 is fixed; the textbook
    leaves it unstated (003 line 253). A learner that starts a new sequence from h_0 but
    keeps the sensitivities of the last one gets a wrong gradient; reset, BPTT's."""
    rng = np.random.default_rng(13)
    x, y, p = make_problem(rng, srn, {}, 8, 2, 3, 4, 3, "cross_entropy", "every")
    _, expected = bptt.full("srn", x[4:], y[4:], p)
    results = {}
    for reset_S in (False, True):
        learner = rtrl.RTRL("srn", p, batch_size=2)
        for t in range(4):  # a first sequence
            learner.step(x[t], y[t])
        learner.state = np.zeros_like(learner.state)  # a second one, from h_0 = 0
        if reset_S:
            learner.S = np.zeros_like(learner.S)
        learner.reset_grads()
        for t in range(4, 8):
            learner.step(x[t], y[t])
        results[reset_S] = max(
            np.abs(learner.grads[k] - expected[k]).max() / np.abs(expected[k]).max()
            for k in expected
        )
    assert results[True] < 1e-12
    assert results[False] > 1e-3  # the unstated condition matters


def test_immediate_term_added_in_place_equals_the_dense_delta_ki_u_j():
    # (6.15): d+a_k/dM_ij = delta_ki u_j and d+a_k/db_i = delta_ki, built densely here
    rng = np.random.default_rng(3)
    B, H, D = 2, 4, 3
    p = srn.init_params(D, H, rng)
    layout = rtrl._layout(p)
    P = sum(v.size for v in p.values())
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    dense = np.zeros((B, H, P))
    eye = np.eye(H)
    for key, u in (("W", x), ("U", h)):
        offset, (_, N) = layout[key]
        dense[:, :, offset : offset + H * N] = np.einsum("ki,bj->bkij", eye, u).reshape(B, H, -1)
    offset, _ = layout["b"]
    dense[:, :, offset : offset + H] = eye
    start = rng.standard_normal((B, H, P))
    added = rtrl._add_direct(start.copy(), layout, [("W", x), ("U", h), ("b", None)])
    np.testing.assert_array_equal(added, start + dense)
    np.testing.assert_array_equal(
        rtrl._direct(layout, P, [("W", x), ("U", h), ("b", None)], B, H, float), dense
    )
