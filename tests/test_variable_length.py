"""Padded batches of sequences of different lengths, done exactly.

rnnbook.scratch.stack with ``lengths=`` and rnnbook.nn with a PackedSequence input:
each padded sequence gives what it gives run alone; the scratch backward pass against
centred differences (per parameter key) and against autograd through rnnbook.nn; the
modules against torch.nn fed pack_padded_sequence; the classic bug of running the
backward direction over the padding; and bad lengths.
"""

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbook import convert
from rnnbook.gradcheck import check_gradients
from rnnbook.scratch import gru, lstm, srn, stack

MODULES = {"srn": srn, "lstm": lstm, "gru": gru}
CELLS = [("srn", {}), ("lstm", {}), ("gru", {"reset": "after"})]
IDS = [c for c, _ in CELLS]
T, B, D, H = 5, 3, 2, 3
LENGTHS = np.array([3, 5, 1])  # not sorted; one full, one of a single step


def _params(cell, opts, rng, layers=2, dirs=2, D=D, H=H):
    """params[layer][direction] of ``cell``, drawn from ``rng``."""
    return [
        [MODULES[cell].init_params(D if l == 0 else dirs * H, H, rng, **opts) for _ in range(dirs)]
        for l in range(layers)
    ]


def _state(cell, rng, B, H=H):
    """A random state: (B, H), or the LSTM's pair."""
    if cell == "lstm":
        return (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
    return rng.standard_normal((B, H))


def _row(state, b):
    """Row b of a state (kept 2-D), one array or the LSTM's pair."""
    if isinstance(state, tuple):
        return tuple(s[b : b + 1] for s in state)
    return state[b : b + 1]


def _problem(cell, opts, dirs, seed=0):
    """A padded batch with its lengths, initial states, and the gradients of a loss."""
    rng = np.random.default_rng(seed)
    p = _params(cell, opts, rng, dirs=dirs)
    n = 2 * dirs
    x = rng.standard_normal((T, B, D))
    states0 = [_state(cell, rng, B) for _ in range(n)]
    d_out = rng.standard_normal((T, B, dirs * H))  # also on the padding: it must be ignored
    d_finals = [_state(cell, rng, B) for _ in range(n)]
    return p, x, states0, d_out, d_finals


def _assert_state_close(got, want, atol=1e-12):
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=0, atol=atol)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=atol)


# ---- 1. each padded sequence = the same sequence run alone ------------------------------


@pytest.mark.parametrize("dirs", [1, 2])
@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_each_padded_sequence_equals_it_run_alone(cell, opts, dirs):
    p, x, states0, d_out, d_finals = _problem(cell, opts, dirs)
    out, cache = stack.forward(cell, x, states0, p, lengths=LENGTHS, **opts)
    dx, d_states0, grads = stack.backward(d_out, cache, d_finals)
    summed = None  # the parameters' gradients of the sequences run alone, added up
    for b, L in enumerate(LENGTHS):
        alone = [_row(s, b) for s in states0]
        out_b, cache_b = stack.forward(cell, x[:L, b : b + 1], alone, p, **opts)
        d_fin_b = [_row(s, b) for s in d_finals]
        dx_b, d_states0_b, grads_b = stack.backward(d_out[:L, b : b + 1], cache_b, d_fin_b)
        np.testing.assert_allclose(out[:L, b], out_b[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(dx[:L, b], dx_b[:, 0], rtol=0, atol=1e-12)
        # beyond the end: zero outputs and zero input gradients, although d_out is not zero
        assert np.all(out[L:, b] == 0) and np.all(dx[L:, b] == 0)
        for i in range(len(states0)):
            _assert_state_close(_row(cache["final"][i], b), cache_b["final"][i])
            _assert_state_close(_row(d_states0[i], b), d_states0_b[i])
        summed = (
            grads_b
            if summed is None
            else [
                [{k: s[k] + g[k] for k in s} for s, g in zip(rs, rg, strict=True)]
                for rs, rg in zip(summed, grads_b, strict=True)
            ]
        )
    for l in range(2):
        for d in range(dirs):
            for k in p[l][d]:
                np.testing.assert_allclose(
                    grads[l][d][k], summed[l][d][k], rtol=0, atol=1e-12, err_msg=f"{l} {d} {k}"
                )


@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_full_lengths_change_nothing(cell, opts):
    p, x, states0, d_out, d_finals = _problem(cell, opts, 2, seed=1)
    out, cache = stack.forward(cell, x, states0, p, **opts)
    out_m, cache_m = stack.forward(cell, x, states0, p, lengths=np.full(B, T), **opts)
    np.testing.assert_allclose(out_m, out, rtol=0, atol=1e-13)
    dx, _, grads = stack.backward(d_out, cache, d_finals)
    dx_m, _, grads_m = stack.backward(d_out, cache_m, d_finals)
    np.testing.assert_allclose(dx_m, dx, rtol=0, atol=1e-13)
    for k in p[1][1]:
        np.testing.assert_allclose(grads_m[1][1][k], grads[1][1][k], rtol=0, atol=1e-12)


# ---- 2. the backward pass: centred differences per key, a planted error, autograd --------


def _flat(p):
    """One dict over every layer, direction and key, sharing the arrays of ``p``."""
    return {
        f"{l}.{d}.{k}": a
        for l, row in enumerate(p)
        for d, q in enumerate(row)
        for k, a in q.items()
    }


def _loss_and_grads(cell, opts, p, x, states0, d_out, d_finals):
    def loss(_=None):
        out, cache = stack.forward(cell, x, states0, p, lengths=LENGTHS, **opts)
        total = np.sum(out * d_out)
        for s, g in zip(cache["final"], d_finals, strict=True):
            pairs = zip(s, g, strict=True) if isinstance(s, tuple) else [(s, g)]
            total += sum(np.sum(a * b) for a, b in pairs)
        return total

    _, cache = stack.forward(cell, x, states0, p, lengths=LENGTHS, **opts)
    return loss, cache


@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_backward_against_centred_differences_per_key(cell, opts):
    p, x, states0, d_out, d_finals = _problem(cell, opts, 2, seed=2)
    loss, cache = _loss_and_grads(cell, opts, p, x, states0, d_out, d_finals)
    _, _, grads = stack.backward(d_out, cache, d_finals)
    errors = check_gradients(loss, _flat(p), _flat(grads))
    assert max(errors.values()) < 1e-7, errors


def test_centred_differences_catch_a_dropped_term(monkeypatch):
    """Backward without the term (1 - m_t) * d state_t, which carries a finished sequence's
    final-state gradient back over its padding: the check must fail."""
    cell, opts = "lstm", {}
    p, x, states0, d_out, d_finals = _problem(cell, opts, 2, seed=2)
    loss, cache = _loss_and_grads(cell, opts, p, x, states0, d_out, d_finals)
    blend = stack._blend
    # the planted error: m_t * new + (1 - m_t) * old loses its second term in backward
    monkeypatch.setattr(stack, "_blend", lambda m, new, old: blend(m, new, stack._zero_like(old)))
    _, _, grads = stack.backward(d_out, cache, d_finals)
    monkeypatch.undo()
    errors = check_gradients(loss, _flat(p), _flat(grads))
    assert max(errors.values()) > 1e-2, errors


@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_backward_against_autograd_through_rnnbook_nn(cell, opts):
    """The scratch stack's gradients = autograd's through rnnbook.nn on a PackedSequence."""
    p, x, states0, d_out, d_finals = _problem(cell, opts, 2, seed=3)
    _, cache = stack.forward(cell, x, states0, p, lengths=LENGTHS, **opts)
    dx, d_states0, grads = stack.backward(d_out, cache, d_finals)
    module = convert.to_nn(p, cell, **opts)
    xt = torch.tensor(x, requires_grad=True)
    k_states = 2 if cell == "lstm" else 1
    comp = (lambda s, k: s[k]) if k_states == 2 else (lambda s, k: s)  # noqa: E731
    hx = [
        torch.tensor(np.stack([comp(s, k) for s in states0]), requires_grad=True)
        for k in range(k_states)
    ]
    packed = pack_padded_sequence(xt, torch.tensor(LENGTHS), enforce_sorted=False)
    out, fin = module(packed, tuple(hx) if k_states == 2 else hx[0])
    fin = fin if k_states == 2 else (fin,)
    out, _ = pad_packed_sequence(out, total_length=T)
    loss = (out * torch.tensor(d_out)).sum()
    for k in range(k_states):
        loss = loss + (fin[k] * torch.tensor(np.stack([comp(s, k) for s in d_finals]))).sum()
    loss.backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    for k in range(k_states):
        got = np.stack([comp(s, k) for s in d_states0])
        np.testing.assert_allclose(got, hx[k].grad.numpy(), rtol=0, atol=1e-12)
    for l in range(2):
        for d in range(2):
            for key, param in module.params[l][d].items():
                np.testing.assert_allclose(
                    grads[l][d][key], param.grad.numpy(), rtol=0, atol=1e-12, err_msg=key
                )


# ---- 3. the classic bug: the backward direction run over the padding ---------------------


@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_without_lengths_the_backward_direction_starts_on_the_padding(cell, opts):
    rng = np.random.default_rng(4)
    p = _params(cell, opts, rng, layers=1, dirs=2)
    L = 2  # one sequence of length 2, padded with zeros to T
    x = np.zeros((T, 1, D))
    x[:L] = rng.standard_normal((L, 1, D))
    alone, _ = stack.forward(cell, x[:L], None, p, **opts)
    padded, _ = stack.forward(cell, x, None, p, **opts)  # no lengths: the bug
    masked, _ = stack.forward(cell, x, None, p, lengths=np.array([L]), **opts)
    # the forward direction is right at the valid positions, even without lengths
    np.testing.assert_allclose(padded[:L, :, :H], alone[:, :, :H], rtol=0, atol=1e-12)
    # the backward direction began at t = T on zeros, not at the sequence's end: it differs
    assert np.max(np.abs(padded[:L, :, H:] - alone[:, :, H:])) > 1e-3
    # with lengths it is right
    np.testing.assert_allclose(masked[:L], alone, rtol=0, atol=1e-12)


# ---- 4. rnnbook.nn fed a PackedSequence = torch.nn fed the same ---------------------------


def _pack(x, lengths, enforce_sorted=False):
    return pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=enforce_sorted)


@pytest.mark.parametrize(
    ("dtype", "atol"), [(torch.float32, 1e-6), (torch.float64, 1e-12)], ids=["f32", "f64"]
)
@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_nn_packed_equals_torch_packed(cell, opts, dtype, atol):
    rng = np.random.default_rng(5)
    p = _params(cell, opts, rng)  # 2 layers, bidirectional
    ours = convert.to_nn(p, cell, dtype=dtype, **opts)
    ref = convert.to_torch(p, cell, dtype=dtype, **opts)
    x = torch.tensor(rng.standard_normal((T, B, D)), dtype=dtype)
    k_states = 2 if cell == "lstm" else 1
    hx = tuple(torch.tensor(rng.standard_normal((4, B, H)), dtype=dtype) for _ in range(k_states))
    hx = hx if k_states == 2 else hx[0]
    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, fin = ours(_pack(x_ours, LENGTHS), hx)
    want, want_fin = ref(_pack(x_ref, LENGTHS), hx)
    assert isinstance(out, torch.nn.utils.rnn.PackedSequence)
    for a, b in zip(out[1:], want[1:], strict=True):  # batch_sizes, sorted and unsorted indices
        assert torch.equal(a, b)
    padded, lengths = pad_packed_sequence(out)
    want_padded, want_lengths = pad_packed_sequence(want)
    assert torch.equal(lengths, want_lengths)
    torch.testing.assert_close(padded, want_padded, rtol=0, atol=atol)
    fin = fin if k_states == 2 else (fin,)
    want_fin = want_fin if k_states == 2 else (want_fin,)
    for f, w in zip(fin, want_fin, strict=True):
        torch.testing.assert_close(f, w, rtol=0, atol=atol)  # h_n (and c_n)
    # and dL/dx through both, for a loss on the valid outputs and the final states
    d_out = torch.tensor(rng.standard_normal(padded.shape), dtype=dtype)
    for y, s in ((padded, fin), (want_padded, want_fin)):
        ((y * d_out).sum() + sum(f.sum() for f in s)).backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=0, atol=10 * atol)


@pytest.mark.parametrize("batch_first", [False, True])
def test_nn_packed_sorted_input_and_batch_first(batch_first):
    """A sorted PackedSequence (no sorted_indices), and batch_first, which a packed input
    ignores: the same as torch.nn.LSTM, and as each sequence run alone."""
    rng = np.random.default_rng(6)
    p = _params("lstm", {}, rng)
    ours = convert.to_nn(p, "lstm", batch_first=batch_first)
    ref = convert.to_torch(p, "lstm", batch_first=batch_first)
    lengths = np.sort(LENGTHS)[::-1].copy()
    x = torch.tensor(rng.standard_normal((T, B, D)))
    packed = _pack(x, lengths, enforce_sorted=True)
    assert packed.sorted_indices is None
    out, (h, c) = ours(packed)
    want, (want_h, want_c) = ref(packed)
    assert out.sorted_indices is None
    torch.testing.assert_close(out.data, want.data, rtol=0, atol=1e-12)
    torch.testing.assert_close(h, want_h, rtol=0, atol=1e-12)
    torch.testing.assert_close(c, want_c, rtol=0, atol=1e-12)
    padded, _ = pad_packed_sequence(out)
    for b, L in enumerate(lengths):
        x_b = x[:L, b : b + 1]
        alone, (h_b, _) = ours(x_b.transpose(0, 1) if batch_first else x_b)
        alone = alone.transpose(0, 1) if batch_first else alone
        torch.testing.assert_close(padded[:L, b : b + 1], alone, rtol=0, atol=1e-12)
        torch.testing.assert_close(h[:, b : b + 1], h_b, rtol=0, atol=1e-12)


# ---- 5. bad input ------------------------------------------------------------------------

BAD_LENGTHS = [
    (np.array([3, 5]), r"lengths must be None or an int array of shape \(B,\) = \(3,\), got"),
    (np.array([[3, 5, 1]]), r"shape \(B,\) = \(3,\), got dtype int64 with shape \(1, 3\)"),
    (np.array([3, 0, 1]), r"lengths must lie in 1..T = 1..5, got values in \[0, 3\]"),
    (np.array([3, 6, 1]), r"lengths must lie in 1..T = 1..5, got values in \[1, 6\]"),
    (np.array([3.0, 5.0, 1.0]), r"an int array .* got dtype float64"),
    (np.array([3.0, np.nan, 1.0]), r"an int array .* got dtype float64"),
    (np.array([True, True, True]), r"an int array .* got dtype bool"),
    ("3 5 1", r"an int array of shape \(B,\) = \(3,\), got"),
]


@pytest.mark.parametrize(("lengths", "match"), BAD_LENGTHS, ids=[str(c[0]) for c in BAD_LENGTHS])
def test_bad_lengths(lengths, match):
    rng = np.random.default_rng(7)
    p = _params("gru", {}, rng)
    x = rng.standard_normal((T, B, D))
    with pytest.raises(ValueError, match=match):
        stack.forward("gru", x, None, p, lengths=lengths)


def test_lengths_as_a_list_of_ints_is_accepted():
    rng = np.random.default_rng(7)
    p = _params("gru", {}, rng)
    x = rng.standard_normal((T, B, D))
    a, _ = stack.forward("gru", x, None, p, lengths=[3, 5, 1])
    b, _ = stack.forward("gru", x, None, p, lengths=LENGTHS)
    np.testing.assert_array_equal(a, b)


def test_bad_d_finals_with_lengths():
    p, x, states0, d_out, _ = _problem("srn", {}, 2)
    _, cache = stack.forward("srn", x, states0, p, lengths=LENGTHS)
    bad = [np.zeros((B, H))] * 3 + [np.zeros((B, H + 1))]
    with pytest.raises(ValueError, match=r"d_finals\[3\] must have shape"):
        stack.backward(d_out, cache, bad)


def test_lengths_refuse_the_jordan_network():
    rng = np.random.default_rng(8)
    p = [[srn.init_params(D, H, rng, output_size=2, feedback="output")]]
    x = rng.standard_normal((T, B, D))
    with pytest.raises(ValueError, match="lengths needs the Elman network"):
        stack.forward("srn", x, None, p, lengths=LENGTHS, feedback="output")


def test_nn_packed_sequence_of_vectors_is_refused():
    module = convert.to_nn(_params("gru", {"reset": "after"}, np.random.default_rng(9)), "gru")
    packed = pack_padded_sequence(
        torch.zeros(T, B, dtype=torch.float64), torch.tensor(LENGTHS), enforce_sorted=False
    )
    with pytest.raises(ValueError, match=r"must hold sequences of shape \(T_b, D\) = \(\*, 2\)"):
        module(packed)
