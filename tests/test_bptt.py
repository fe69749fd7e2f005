"""rnnbook.scratch.bptt: full BPTT against finite differences; truncated BPTT against full."""

import numpy as np
import pytest
from bptt_problem import make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.gradcheck import numerical_gradients, relative_error
from rnnbook.scratch import bptt, gru, lstm, srn

MODELS = [
    ("srn", srn, {}),
    ("srn", srn, {"activation": "relu"}),
    ("lstm", lstm, {"variant": "standard"}),
    ("lstm", lstm, {"variant": "peephole"}),
    ("gru", gru, {"reset": "before"}),
    ("gru", gru, {"reset": "after", "update": "replace"}),
]
IDS = [f"{c}-{'-'.join(o.values()) or 'default'}" for c, _, o in MODELS]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@pytest.mark.parametrize("loss", bptt.LOSSES)
@pytest.mark.parametrize("on", bptt.ONS)
def test_full_bptt_matches_finite_differences(model, loss, on):
    cell, module, opts = model
    rng = np.random.default_rng(0)
    x, y, p = make_problem(rng, module, opts, 5, 2, 3, 4, 3, loss, on)
    L, grads = bptt.full(cell, x, y, p, loss=loss, on=on, **opts)
    assert grads.keys() == p.keys()
    numeric = numerical_gradients(
        lambda q: bptt.full(cell, x, y, q, loss=loss, on=on, **opts)[0], p
    )
    # compared as one vector: the differences' rounding error scales with L, not with each entry
    flat_grads = np.concatenate([grads[k].ravel() for k in p])
    flat_numeric = np.concatenate([numeric[k].ravel() for k in p])
    assert relative_error(flat_grads, flat_numeric, floor=1e-2) < 1e-7


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**31), T=st.integers(1, 8), k1=st.integers(1, 8), extra=st.integers(0, 3)
)
def test_truncated_with_k2_at_least_T_equals_full(model, seed, T, k1, extra):
    """With k2 >= T every update reaches back to step 1, so the summed updates are full BPTT."""
    cell, module, opts = model
    rng = np.random.default_rng(seed)
    x, y, p = make_problem(rng, module, opts, T, 2, 3, 4, 3, "cross_entropy", "every")
    L, full = bptt.full(cell, x, y, p, **opts)
    k1 = min(k1, T)
    Lt, trunc = bptt.truncated(cell, x, y, p, k1=k1, k2=T + extra, **opts)
    assert Lt == L
    for k in p:
        assert relative_error(trunc[k], full[k]) < 1e-12, k


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_truncated_with_k1_equal_T_is_the_same_computation_as_full(model):
    cell, module, opts = model
    rng = np.random.default_rng(1)
    x, y, p = make_problem(rng, module, opts, 6, 2, 3, 4, 3, "squared", "last")
    _, full = bptt.full(cell, x, y, p, loss="squared", on="last", **opts)
    _, trunc = bptt.truncated(cell, x, y, p, k1=6, k2=6, loss="squared", on="last", **opts)
    for k in p:
        np.testing.assert_array_equal(trunc[k], full[k])


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_short_truncation_is_a_real_truncation(model):
    """With k2 < T the recurrent gradients differ from full BPTT; the output layer's do not;
    and the truncated gradient is what full BPTT gives when the state is cut at each window."""
    cell, module, opts = model
    rng = np.random.default_rng(2)
    x, y, p = make_problem(rng, module, opts, 8, 2, 3, 4, 3, "cross_entropy", "every")
    _, full = bptt.full(cell, x, y, p, **opts)
    _, trunc = bptt.truncated(cell, x, y, p, k1=2, k2=2, **opts)
    np.testing.assert_allclose(trunc["V"], full["V"], rtol=1e-13)
    np.testing.assert_allclose(trunc["c"], full["c"], rtol=1e-13)
    recurrent = [k for k in p if k.startswith("U")]
    assert max(relative_error(trunc[k], full[k]) for k in recurrent) > 1e-3
    # k1 = k2 = 2: the same as full BPTT on each 2-step window, from the state where it starts
    outputs, cache = module.forward(
        x, None, {k: v for k, v in p.items() if k not in ("V", "c")}, **opts
    )
    summed = {k: 0 for k in p}
    for start in range(0, 8, 2):
        h = cache["state0"] if start == 0 else cache["states"][start - 1]
        _, g = bptt.full(cell, x[start : start + 2], y[start : start + 2], p, h0=h, **opts)
        summed = {k: summed[k] + g[k] for k in p}
    for k in p:
        assert relative_error(trunc[k], summed[k]) < 1e-12, k


def test_k2_smaller_than_k1_is_refused():
    rng = np.random.default_rng(3)
    x, y, p = make_problem(rng, srn, {}, 4, 1, 2, 3, 2, "cross_entropy", "every")
    with pytest.raises(ValueError, match="k2 must be >= k1"):
        bptt.truncated("srn", x, y, p, k1=3, k2=2)
    with pytest.raises(ValueError, match="k1 must be an int"):
        bptt.truncated("srn", x, y, p, k1=0, k2=2)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(cell="rnn"), "cell must be one of"),
        (dict(loss="hinge"), "loss must be one of"),
        (dict(on="first"), "on must be one of"),
        (
            dict(y=np.zeros((4, 1))),
            r"targets must have a dtype in \('int32', 'int64'\), got float64",
        ),
        (dict(y=np.full((4, 1), 7)), r"class indices in \[0, O\)"),
        (dict(drop="V"), "output layer's key 'V'"),
        (dict(feedback="output"), "Jordan"),
    ],
)
def test_bad_problems_are_refused(change, match):
    rng = np.random.default_rng(4)
    x, y, p = make_problem(rng, srn, {}, 4, 1, 2, 3, 2, "cross_entropy", "every")
    y = change.get("y", y)
    if "drop" in change:
        p = {k: v for k, v in p.items() if k != change["drop"]}
    kwargs = {k: change[k] for k in ("loss", "on", "feedback") if k in change}
    with pytest.raises(ValueError, match=match):
        bptt.full(change.get("cell", "srn"), x, y, p, **kwargs)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_float32_in_float32_out(model):
    cell, module, opts = model
    rng = np.random.default_rng(5)
    x, y, p = make_problem(rng, module, opts, 5, 2, 3, 4, 3, "squared", "every")
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    L, g = bptt.truncated(cell, x32, y32, p32, k1=2, k2=3, loss="squared", **opts)
    assert all(v.dtype == np.float32 for v in g.values())
    L64, g64 = bptt.truncated(cell, x, y, p, k1=2, k2=3, loss="squared", **opts)
    assert abs(L - L64) < 1e-4 * abs(L64)
    for k in g:
        assert relative_error(g[k], g64[k]) < 1e-4, k
    with pytest.raises(ValueError, match=r"targets must have dtype float32"):
        bptt.full(cell, x32, y, p32, loss="squared", **opts)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_cut_gradient_without_cuts_is_full_and_with_regular_cuts_is_truncated(model):
    cell, module, opts = model
    rng = np.random.default_rng(6)
    x, y, p = make_problem(rng, module, opts, 6, 2, 3, 4, 3, "cross_entropy", "every")
    _, full = bptt.full(cell, x, y, p, **opts)
    _, uncut = bptt.cut_gradient(cell, x, y, p, cuts=np.zeros(6, bool), **opts)
    for k in p:
        assert relative_error(uncut[k], full[k]) < 1e-12, k
    # a cut before steps 0 and 3 (counted from 0): the windows of BPTT(3; 3) for T = 6
    cuts = np.arange(6) % 3 == 0
    _, cut = bptt.cut_gradient(cell, x, y, p, cuts=cuts, **opts)
    _, trunc = bptt.truncated(cell, x, y, p, k1=3, k2=3, **opts)
    for k in p:
        assert relative_error(cut[k], trunc[k]) < 1e-12, k
    # the weight scales each path by weight^(its length): weight 2 differs from weight 1
    _, heavy = bptt.cut_gradient(cell, x, y, p, cuts=cuts, weight=2.0, **opts)
    recurrent = [k for k in p if k.startswith("U")]
    assert max(relative_error(heavy[k], cut[k]) for k in recurrent) > 1e-3


def test_randomized_truncation_is_unbiased_and_its_unweighted_form_is_not():
    """The mean over many draws of the cuts approaches the full gradient with the
    compensation factor, and stays away from it without."""
    rng = np.random.default_rng(7)
    x, y, p = make_problem(rng, srn, {}, 8, 2, 3, 4, 3, "cross_entropy", "every")
    p["U"] = 0.5 * p["U"]  # paths shrink as they lengthen: the reweighted variance stays small
    _, full = bptt.full("srn", x, y, p)
    flat_full = np.concatenate([full[k].ravel() for k in ("W", "U", "b")])
    draws = {True: [], False: []}
    for reweight in (True, False):
        gen = np.random.default_rng(8)
        for _ in range(400):
            _, g = bptt.randomized("srn", x, y, p, p_cut=0.5, rng=gen, reweight=reweight)
            draws[reweight].append(np.concatenate([g[k].ravel() for k in ("W", "U", "b")]))
    unbiased = np.array(draws[True])
    biased = np.array(draws[False])
    # the error of the mean of 400 draws, against the standard error of that mean
    se = np.linalg.norm(unbiased.std(axis=0)) / np.sqrt(len(unbiased))
    assert np.linalg.norm(unbiased.mean(axis=0) - flat_full) < 3 * se
    assert np.linalg.norm(biased.mean(axis=0) - flat_full) > 5 * se
    # c = 0 cuts nothing: full BPTT
    _, g0 = bptt.randomized("srn", x, y, p, p_cut=0, rng=np.random.default_rng(0))
    for k in p:
        assert relative_error(g0[k], full[k]) < 1e-12, k


def test_randomized_and_cut_gradient_refuse_bad_arguments():
    rng = np.random.default_rng(9)
    x, y, p = make_problem(rng, srn, {}, 4, 1, 2, 3, 2, "cross_entropy", "every")
    with pytest.raises(ValueError, match=r"p_cut must be a probability in \[0, 1\)"):
        bptt.randomized("srn", x, y, p, p_cut=1.0, rng=rng)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        bptt.randomized("srn", x, y, p, p_cut=0.5, rng=3)
    with pytest.raises(ValueError, match=r"cuts must be a bool array \(T,\) = \(4,\)"):
        bptt.cut_gradient("srn", x, y, p, cuts=np.zeros(3, bool))
    with pytest.raises(ValueError, match="weight must be a number > 0"):
        bptt.cut_gradient("srn", x, y, p, cuts=np.zeros(4, bool), weight=0)


def detached_autograd_truncation(x, y, p, k1, k2):
    """BPTT(k2; k1) by PyTorch's autograd, independently of ``bptt.truncated``: at every update
    step tau (k1, 2 k1, ..., and T), each loss t of the block since the last update is
    backpropagated alone, from the state h_{tau-k2} held constant (detached)."""
    import torch

    from rnnbook import convert

    T, B = y.shape
    rnn = convert.to_torch({k: p[k] for k in ("W", "U", "b")}, "srn")  # float64
    V = torch.tensor(p["V"], requires_grad=True)
    c = torch.tensor(p["c"], requires_grad=True)
    xs = torch.tensor(x)
    with torch.no_grad():
        states = torch.cat([torch.zeros(1, B, p["U"].shape[0], dtype=xs.dtype), rnn(xs)[0]])
    for tau in sorted(set(range(k1, T + 1, k1)) | {T}):
        start = max(0, tau - k2)
        for t in range((tau - 1) // k1 * k1 + 1, tau + 1):
            # steps start+1 .. t from the constant h_start; the loss of step t only
            out, _ = rnn(xs[start:t], states[start][None].clone())
            logits = out[-1] @ V.T + c
            loss = torch.nn.functional.cross_entropy(
                logits, torch.tensor(y[t - 1]), reduction="sum"
            )
            (loss / B).backward()
    return {
        "W": rnn.weight_ih_l0.grad.numpy(),
        "U": rnn.weight_hh_l0.grad.numpy(),
        "b": rnn.bias_ih_l0.grad.numpy(),
        "V": V.grad.numpy(),
        "c": c.grad.numpy(),
    }


@pytest.mark.parametrize("T, k1, k2", [(7, 1, 2), (7, 1, 3), (8, 2, 3), (9, 3, 5), (6, 2, 2)])
def test_truncated_matches_autograd_that_detaches_at_each_window_edge(T, k1, k2):
    """The case k1 < k2 < T, which the chapter's training grid uses, checked against a
    reference that shares no code with bptt.truncated."""
    rng = np.random.default_rng(T + 10 * k1 + 100 * k2)
    x, y, p = make_problem(rng, srn, {}, T, 2, 3, 4, 3, "cross_entropy", "every")
    _, trunc = bptt.truncated("srn", x, y, p, k1=k1, k2=k2)
    _, full = bptt.full("srn", x, y, p)
    reference = detached_autograd_truncation(x, y, p, k1, k2)
    for k in p:
        assert relative_error(trunc[k], reference[k]) < 1e-12, k
    assert relative_error(trunc["U"], full["U"]) > 1e-3  # a real truncation
