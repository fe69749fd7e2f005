"""Section 10.5: the linear-chain CRF (NumPy and PyTorch), BIO scoring, the tagging data."""

import numpy as np
import pytest
import torch

from rnnbook import data
from rnnbook.nn.crf import CRF, BiLSTMTagger
from rnnbook.scratch import crf


def problem(T, K, seed):
    g = np.random.default_rng(seed)
    return (
        g.standard_normal((T, K)),
        g.standard_normal((K, K)),
        g.standard_normal(K),
        g.standard_normal(K),
    )


@pytest.mark.parametrize("T,K,seed", [(1, 3, 0), (2, 2, 1), (4, 3, 2), (5, 4, 3), (6, 2, 4)])
def test_forward_and_viterbi_match_brute_force(T, K, seed):
    E, A, s, e = problem(T, K, seed)
    logZ, best, best_score = crf.brute_force(E, A, s, e)
    assert abs(crf.log_partition(E, A, s, e) - logZ) < 1e-12
    y, score = crf.viterbi(E, A, s, e)
    assert np.array_equal(y, best) and abs(score - best_score) < 1e-12


def test_marginals_sum_to_one_and_match_enumeration():
    E, A, s, e = problem(4, 3, 7)
    node, pair = crf.marginals(E, A, s, e)
    assert np.allclose(node.sum(1), 1) and np.allclose(pair.sum((1, 2)), 1)
    logZ = crf.log_partition(E, A, s, e)
    import itertools

    brute = np.zeros((4, 3))
    for p in itertools.product(range(3), repeat=4):
        w = np.exp(crf.path_score(E, np.array(p), A, s, e) - logZ)
        brute[np.arange(4), p] += w
    assert np.abs(node - brute).max() < 1e-12


def numerical(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def test_nll_gradient_matches_finite_differences():
    E, A, s, e = problem(5, 3, 11)
    y = np.array([0, 2, 2, 1, 0])
    nll, grads = crf.nll_grad(E, y, A, s, e)
    assert abs(nll - (crf.brute_force(E, A, s, e)[0] - crf.path_score(E, y, A, s, e))) < 1e-12
    for name, x in (("E", E), ("A", A), ("start", s), ("end", e)):
        num = numerical(lambda: crf.nll_grad(E, y, A, s, e)[0], x)
        assert np.abs(num - grads[name]).max() < 1e-7, name


def test_planted_error_is_caught():
    # a forward algorithm that forgets the transitions: brute force tells it apart
    E, A, s, e = problem(4, 3, 5)

    def wrong_log_partition(E, A, start, end):
        alpha = start + E[0]
        for t in range(1, len(E)):
            alpha = E[t] + np.log(np.exp(alpha).sum())  # A left out
        return float(np.log(np.exp(alpha + end).sum()))

    logZ = crf.brute_force(E, A, s, e)[0]
    assert abs(wrong_log_partition(E, A, s, e) - logZ) > 1e-3
    assert abs(crf.log_partition(E, A, s, e) - logZ) < 1e-12


def _padded_problem(seed):
    """A CRF with random scores and a batch of three rows of lengths 5, 2 and 1."""
    torch.manual_seed(seed)
    layer = CRF(4).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_()
    lengths = [5, 2, 1]
    em = torch.randn(3, 5, 4, dtype=torch.float64)
    mask = torch.arange(5)[None] < torch.tensor(lengths)[:, None]
    tags = torch.randint(0, 4, (3, 5))
    return layer, em, mask, tags, lengths


def test_torch_crf_matches_numpy_on_a_padded_batch():
    layer, em, mask, tags, lengths = _padded_problem(0)
    A, s, e = (p.detach().numpy() for p in (layer.A, layer.start, layer.end))
    logZ = layer.log_partition(em, mask)
    score = layer.score(em, tags, mask)
    paths = layer.decode(em, mask)
    for b, n in enumerate(lengths):
        E = em[b, :n].numpy()
        assert abs(logZ[b].item() - crf.log_partition(E, A, s, e)) < 1e-12
        assert abs(score[b].item() - crf.path_score(E, tags[b, :n].numpy(), A, s, e)) < 1e-12
        assert paths[b] == crf.viterbi(E, A, s, e)[0].tolist()
    # autograd's gradient of the NLL equals the NumPy forward-backward gradient
    em.requires_grad_(True)
    layer.nll(em[:1], tags[:1], mask[:1]).backward()
    _, grads = crf.nll_grad(em[0].detach().numpy(), tags[0].numpy(), A, s, e)
    assert np.abs(em.grad[0].numpy() - grads["E"]).max() < 1e-12
    assert np.abs(layer.A.grad.numpy() - grads["A"]).max() < 1e-12


def _row_gradients_match(layer, em, tags, mask, lengths):
    """The batch NLL's autograd gradient, row by row, against the NumPy forward-backward."""
    A, s, e = (p.detach().numpy() for p in (layer.A, layer.start, layer.end))
    em = em.detach().clone().requires_grad_(True)
    layer.zero_grad()
    layer.nll(em, tags, mask).backward()
    B = len(lengths)
    want = {k: np.zeros_like(v) for k, v in (("A", A), ("start", s), ("end", e))}
    ok = True
    for b, n in enumerate(lengths):
        _, g = crf.nll_grad(em[b, :n].detach().numpy(), tags[b, :n].numpy(), A, s, e)
        ok &= np.abs(em.grad[b, :n].numpy() - g["E"] / B).max() < 1e-12
        ok &= np.abs(em.grad[b, n:].numpy()).max(initial=0.0) == 0.0  # nothing reaches padding
        for k in want:
            want[k] += g[k] / B
    for k, param in (("A", layer.A), ("start", layer.start), ("end", layer.end)):
        ok &= np.abs(param.grad.numpy() - want[k]).max() < 1e-12
    return bool(ok)


def test_the_padded_batch_gradient_matches_row_by_row_and_a_planted_mask_error_fails():
    layer, em, mask, tags, lengths = _padded_problem(1)
    assert _row_gradients_match(layer, em, tags, mask, lengths)
    # planted: the mask forgotten (every row read to the end) must fail the same check
    full = torch.ones_like(mask)
    assert not _row_gradients_match(layer, em, tags, full, lengths)


def test_bio_helpers():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "B-ORG", "I-PER"]
    assert crf.bio_violations(tags) == 2
    assert crf.bio_spans(tags) == {("PER", 0, 1), ("LOC", 3, 3), ("ORG", 4, 4), ("PER", 5, 5)}
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    assert crf.entity_f1(gold, gold)["f1"] == 1.0
    r = crf.entity_f1([["B-PER", "O", "O", "B-LOC"]], gold)  # one of two spans right
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["f1"] == 0.5
    assert crf.entity_f1([["O"] * 4], gold) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_bad_input_is_a_value_error():
    E, A, s, e = problem(3, 2, 0)
    with pytest.raises(ValueError, match="A"):
        crf.log_partition(E, A[:1], s, e)
    with pytest.raises(ValueError, match="E"):
        crf.viterbi(np.full((3, 2), np.nan), A, s, e)
    with pytest.raises(ValueError, match="y must"):
        crf.path_score(E, np.array([0, 5, 1]), A, s, e)
    with pytest.raises(ValueError, match="10\\^6"):
        crf.brute_force(*problem(20, 3, 0))
    with pytest.raises(ValueError, match="tags"):
        crf.bio_violations(["B-PER", "X"])
    with pytest.raises(ValueError, match="gold"):
        crf.entity_f1([["O"]], [])
    layer = CRF(3)
    with pytest.raises(ValueError, match="emissions"):
        layer.log_partition(torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        layer.log_partition(torch.zeros(2, 4, 3), torch.tensor([[1, 0, 1, 0]] * 2).bool())
    with pytest.raises(ValueError, match="crf"):
        BiLSTMTagger(10, 3, crf="yes")
    with pytest.raises(ValueError):
        data.entity_sentences(0, 5, 1)


def test_entity_sentences():
    d = data.entity_sentences(60, 40, 3)
    assert len(d["train"]["words"]) == 60 and len(d["test"]["tags"]) == 40
    again = data.entity_sentences(60, 40, 3)
    assert d == again and d != data.entity_sentences(60, 40, 4)
    key = lambda s: {(" ".join(w), " ".join(t)) for w, t in zip(s["words"], s["tags"], strict=True)}  # noqa: E731
    assert not key(d["train"]) & key(d["test"])
    for w, t in zip(
        d["train"]["words"] + d["test"]["words"],
        d["train"]["tags"] + d["test"]["tags"],
        strict=True,
    ):
        assert len(w) == len(t) and crf.bio_violations(t) == 0
        for word, tag in zip(w, t, strict=True):
            assert (word in data.NAME_WORDS) == (tag != "O")
