"""Chapter 10, section 1: the Python-docs corpus, the character LM, tBPTT windows, sampling."""

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnbook import data
from rnnbook.nn import language_model as lm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import char_lm as experiment  # noqa: E402

torch.set_num_threads(1)


# ---- the corpus ----------------------------------------------------------------------


def test_corpus_splits_by_topic_deterministically_without_overlap():
    from pydoc_data.topics import topics

    c = data.python_docs_corpus(0)
    assert set(c["train_topics"]) | set(c["test_topics"]) == set(topics)
    assert not set(c["train_topics"]) & set(c["test_topics"])
    held_out = sum(len(topics[n]) for n in c["test_topics"])
    assert 0.05 * len(c["train_text"]) < held_out <= 0.1 * sum(map(len, topics.values()))
    assert len(c["train_text"]) == len(c["train"]) and len(c["test_text"]) == len(c["test"])
    assert c["train"].dtype == np.int64 and c["train"].max() < len(c["vocab"]) - 1
    assert "".join(c["vocab"][i] for i in c["train"][:200]) == c["train_text"][:200]
    c2 = data.python_docs_corpus(0)
    assert c2["test_topics"] == c["test_topics"] and np.array_equal(c2["test"], c["test"])
    assert data.python_docs_corpus(1)["test_topics"] != c["test_topics"]


def test_no_passage_of_a_held_out_topic_is_in_the_training_text():
    c = data.python_docs_corpus(0)
    train, test, k = c["train_text"], c["test_text"], data.SHARED_SPAN
    spans = {test[i : i + k] for i in range(len(test) - k + 1)}
    # the joins between topics ("\n\n") make the only spans that cross two topics
    shared = [s for s in spans if s in train and "\n\n" not in s]
    assert shared == []


def test_overlap_groups_join_partners_of_partners_and_nothing_else():
    base = "".join(chr(97 + i % 26) for i in range(120))
    texts = {
        "whole": base,
        "part": "xyz " + base[30:90] + " zyx",  # a passage of "whole", as a subsection
        "chain": base[60:85] + "-" * 40 + "0123456789" * 6,  # shares 25 only: not linked
        "other": "0123456789" * 6 + "!",  # shares 60 characters with "chain"
        "alone": "completely different text, long enough to have spans of fifty characters",
    }
    assert data.overlap_groups(texts) == [["alone"], ["chain", "other"], ["part", "whole"]]
    assert data.overlap_groups(texts, span=20) == [["alone"], ["chain", "other", "part", "whole"]]
    with pytest.raises(ValueError, match="texts"):
        data.overlap_groups(["a", "b"])


def test_corpus_counts_unknown_characters():
    c = data.python_docs_corpus(0, test_fraction=0.5)
    known = set(c["vocab"][:-1])
    expected = sum(ch not in known for ch in c["test_text"])
    assert c["n_unknown"] == expected
    assert (c["test"] == len(c["vocab"]) - 1).sum() == expected


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.1", True])
def test_corpus_rejects_bad_fraction(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        data.python_docs_corpus(0, test_fraction=bad)


def test_corpus_rejects_bad_rng():
    with pytest.raises(ValueError, match="rng"):
        data.python_docs_corpus("seed")


# ---- windows for truncated BPTT -------------------------------------------------------


def test_stream_rows_are_consecutive_pieces_with_shifted_targets():
    ids = np.arange(103)
    x, y = lm.stream_rows(ids, 4)
    n = 102 // 4
    assert x.shape == y.shape == (n, 4)
    for r in range(4):
        assert x[:, r].tolist() == list(range(r * n, (r + 1) * n))
        assert y[:, r].tolist() == list(range(r * n + 1, (r + 1) * n + 1))
    windows = lm.stream_windows(ids, 4, 10)
    assert torch.equal(torch.cat([w[0] for w in windows]), x)
    assert [len(w[0]) for w in windows] == [10, 10, 5]


def test_bad_streams_are_rejected():
    with pytest.raises(ValueError, match="too short"):
        lm.stream_rows(np.arange(3), 4)
    with pytest.raises(ValueError, match="integer"):
        lm.stream_rows(np.zeros(10), 2)
    with pytest.raises(ValueError, match="batch_size"):
        lm.stream_rows(np.arange(10), 0)


def test_carried_state_equals_one_long_run_and_detach_cuts_the_gradient():
    torch.manual_seed(0)
    m = lm.CharLM(7, 8, cell="lstm").double()
    x = torch.randint(0, 7, (12, 2))
    full, _ = m(x)
    a, s = m(x[:6])
    b, _ = m(x[6:], lm.detach(s))
    assert torch.allclose(torch.cat([a, b]), full)
    fresh, _ = m(x[6:])
    assert not torch.allclose(fresh, full[6:])  # the planted error: a reset state differs
    # the gradient of the second window w.r.t. the first window's embedding rows
    e = m.embedding(x)
    e.retain_grad()
    h, s = m.rnn(e[:6])
    h2, _ = m.rnn(e[6:], lm.detach(s))
    h2.sum().backward()
    assert e.grad[:6].abs().max() == 0 and e.grad[6:].abs().max() > 0
    e = m.embedding(x)
    e.retain_grad()
    h, s = m.rnn(e[:6])
    h2, _ = m.rnn(e[6:], s)  # without detach the gradient reaches the first window
    h2.sum().backward()
    assert e.grad[:6].abs().max() > 0


# ---- the model -----------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["srn", "lstm", "gru"])
def test_charlm_shapes_and_tying(cell):
    m = lm.CharLM(11, 6, cell=cell, tie=True)
    logits, _ = m(torch.zeros(5, 3, dtype=torch.int64))
    assert logits.shape == (5, 3, 11)
    assert m.out.weight is m.embedding.weight
    untied = lm.CharLM(11, 6, cell=cell)
    n_tied = sum(p.numel() for p in m.parameters())
    assert sum(p.numel() for p in untied.parameters()) - n_tied == 11 * 6


def test_charlm_rejects_bad_input():
    with pytest.raises(ValueError, match="embedding_size == hidden_size"):
        lm.CharLM(11, 6, embedding_size=4, tie=True)
    with pytest.raises(ValueError, match="cell"):
        lm.CharLM(11, 6, cell="rnn")
    m = lm.CharLM(11, 6)
    with pytest.raises(ValueError, match="int64"):
        m(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="< 11"):
        m(torch.full((5, 3), 11))
    with pytest.raises(ValueError, match="2 dimension"):
        m(torch.zeros(5, dtype=torch.int64))


def _bits_by_hand(m, ids):
    # one pass over the whole stream, probabilities by a float64 softmax written out
    with torch.no_grad():
        z = m(ids[:-1, None])[0][:, 0].double().numpy()
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return float(-np.log2(p[np.arange(len(p)), ids[1:].numpy()]).mean())


def test_bits_per_char_equals_a_softmax_by_hand_across_windows():
    torch.manual_seed(0)
    m = lm.CharLM(9, 5, cell="gru")
    ids = torch.randint(0, 9, (401,))
    # windows of 37 carry the state across 11 window boundaries
    assert lm.bits_per_char(m, ids, batch_size=1, window=37) == pytest.approx(
        _bits_by_hand(m, ids), rel=1e-6
    )
    # the check fails when the state is not carried across windows
    cut = np.mean(
        [lm.bits_per_char(m, ids[i : i + 38], batch_size=1, window=37) for i in range(0, 370, 37)]
    )
    assert abs(cut - _bits_by_hand(m, ids[:371])) > 1e-4


def test_count_baselines_match_hand_counts_and_uniform():
    train, test = np.array([0, 1, 0, 1, 0]), np.array([0, 1, 1])
    # unigram: n = (3, 2, 0), p = (4, 3, 1) / 8 on the targets 1, 1
    assert lm.count_bpc(train, test, 3, 0) == pytest.approx(-math.log2(3 / 8))
    # bigram: n(0,1) = 2, n(0) = 2 -> 3/5; n(1,1) = 0, n(1) = 2 -> 1/5
    assert lm.count_bpc(train, test, 3, 1) == pytest.approx(
        -(math.log2(3 / 5) + math.log2(1 / 5)) / 2
    )
    assert lm.count_bpc(np.array([], dtype=np.int64), test, 3, 0) == pytest.approx(math.log2(3))
    with pytest.raises(ValueError, match="order"):
        lm.count_bpc(train, test, 3, 2)


# ---- sampling ------------------------------------------------------------------------


def _chi_square(counts, p):
    expected = p * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("T", [0.5, 1.0, 2.0])
def test_samples_follow_softmax_of_logits_over_temperature(T):
    from scipy.stats import chi2

    z = torch.tensor([[2.0, 1.0, 0.0, -1.0, 0.5]])
    n = 20000
    gen = torch.Generator().manual_seed(1)
    v = lm.sample_next(z.expand(n, -1), T, gen)
    counts = np.bincount(v.numpy(), minlength=5)
    bound = chi2.ppf(0.999, df=4)
    assert _chi_square(counts, torch.softmax(z[0] / T, -1).numpy()) < bound
    # a planted wrong temperature fails the same test
    assert _chi_square(counts, torch.softmax(z[0] / (1.3 * T), -1).numpy()) > bound


def test_temperature_zero_is_argmax_and_bad_values_are_rejected():
    z = torch.randn(50, 7, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator()
    assert torch.equal(lm.sample_next(z, 0, gen), z.argmax(-1))
    assert torch.equal(lm.sample_next(z, 1e-4, gen), z.argmax(-1))
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="temperature"):
            lm.sample_next(z, bad, gen)
    with pytest.raises(ValueError, match="finite"):
        lm.sample_next(torch.full((2, 3), float("nan")), 1.0, gen)


def test_generate_is_deterministic_given_the_seed():
    torch.manual_seed(0)
    m = lm.CharLM(9, 5)
    a = lm.generate(m, np.array([1, 2]), 30, temperature=1.0, seed=3)
    assert a == lm.generate(m, np.array([1, 2]), 30, temperature=1.0, seed=3)
    assert len(a) == 32 and a[:2] == [1, 2]
    assert a != lm.generate(m, np.array([1, 2]), 30, temperature=1.0, seed=4)


# ---- the experiment script -----------------------------------------------------------


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_quick_run_reproduces_the_stored_quick_results(tmp_path):
    out = tmp_path / "quick.csv"
    assert experiment.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    new, old = _read(out), _read(experiment.OUT_QUICK)
    key = ("model", "seed", "step", "metric")
    assert [tuple(r[k] for k in key) for r in new] == [tuple(r[k] for k in key) for r in old]
    for a, b in zip(new, old, strict=True):
        assert float(a["value"]) == pytest.approx(float(b["value"]), rel=1e-3, abs=1e-3)


def test_a_planted_change_of_the_script_is_caught(monkeypatch):
    """The comparison above can fail: another learning rate gives other numbers."""
    monkeypatch.setitem(experiment.QUICK, "lr", 0.03)
    config = experiment.configurations(quick=True)[0]
    new = [float(r["value"]) for r in experiment.run(config)]
    old = [float(r["value"]) for r in _read(experiment.OUT_QUICK)[: len(new)]]
    assert new[-1] != pytest.approx(old[-1], rel=1e-3)


def test_the_stored_results_are_complete():
    rows = _read(experiment.OUT)
    runs = {(r["model"], int(r["seed"])) for r in rows}
    assert runs == {(c["model"], c["seed"]) for c in experiment.configurations()}


# ---- the Witten-Bell n-gram baseline ----------------------------------------------------


def _sums_to_one(prob, histories):
    return all(abs(prob(h).sum() - 1) < 1e-12 for h in histories)


def test_witten_bell_matches_hand_counts_and_the_unigram():
    ab = np.array([0, 1, 0, 1])  # "abab" over V = 3 (a, b, c)
    p = lm.witten_bell_probabilities(ab, 3, 2)([0])  # after "a": C(a, b) = 2, T(a) = 1
    np.testing.assert_allclose(p, [1 / 7, 17 / 21, 1 / 21], rtol=1e-14)
    np.testing.assert_allclose(lm.witten_bell_probabilities(ab, 3, 2)([2]), [3 / 7, 3 / 7, 1 / 7])
    g = np.random.default_rng(0)
    a, b = g.integers(0, 6, 500), g.integers(0, 6, 100)
    assert lm.witten_bell_bpc(a, b, 6, 1) == pytest.approx(lm.count_bpc(a, b, 6, 0), rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_witten_bell_distributions_sum_to_one_and_a_planted_error_does_not(n):
    g = np.random.default_rng(n)
    train = g.integers(0, 5, 400)
    histories = [g.integers(0, 5, int(g.integers(0, 7))) for _ in range(40)] + [train[:10]]
    assert _sums_to_one(lm.witten_bell_probabilities(train, 5, n), histories)

    unigram = lm.witten_bell_probabilities(train, 5, 1)

    def planted(history):
        # (WB.1) for the last character, with T(h) left out of the denominator
        counts = np.bincount(train[1:][train[:-1] == history[-1]], minlength=5)
        return (counts + (counts > 0).sum() * unigram([])) / counts.sum()

    assert not _sums_to_one(planted, [h for h in histories if len(h)])


def test_witten_bell_rejects_bad_input():
    with pytest.raises(ValueError, match="train_ids"):
        lm.witten_bell_bpc(np.array([0, 7]), np.array([0, 1]), 3, 2)
    with pytest.raises(ValueError, match="n must"):
        lm.witten_bell_bpc(np.array([0, 1]), np.array([0, 1]), 3, 0)
