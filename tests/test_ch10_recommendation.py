"""Section 10.7: generated click sessions, GRU4Rec, its baselines and recall@k / MRR@k."""

import numpy as np
import pytest
import torch

from rnnbook import data, metrics
from rnnbook.nn import recommender as R

# hand-computed: 3 rows over 4 items
SCORES = np.array([[0.1, 0.9, 0.3, 0.2], [0.5, 0.1, 0.2, 0.4], [0.0, 0.0, 0.0, 0.0]])
TARGETS = np.array([1, 3, 2])  # ranks 1, 2 and (ties count against) 4


def test_ranks_recall_mrr_by_hand():
    assert metrics.target_rank(SCORES, TARGETS).tolist() == [1, 2, 4]
    assert metrics.recall_at_k(SCORES, TARGETS, 1) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(SCORES, TARGETS, 2) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(SCORES, TARGETS, 4) == pytest.approx(1.0)
    assert metrics.mrr_at_k(SCORES, TARGETS, 2) == pytest.approx((1 + 1 / 2) / 3)
    assert metrics.mrr_at_k(SCORES, TARGETS, 4) == pytest.approx((1 + 1 / 2 + 1 / 4) / 3)


def test_optimistic_and_pessimistic_ties_differ():
    """GRU4Rec's evaluation counts only strictly higher scores; the book counts ties against."""
    assert metrics.target_rank(SCORES, TARGETS, "optimistic").tolist() == [1, 2, 1]
    tied = np.array([[0.5, 0.5, 0.5, 0.1]])  # target 1 tied with two others
    assert metrics.target_rank(tied, np.array([1])).tolist() == [3]
    assert metrics.target_rank(tied, np.array([1]), ties="optimistic").tolist() == [1]
    assert metrics.mrr_at_k(SCORES, TARGETS, 4, "optimistic") == pytest.approx((1 + 1 / 2 + 1) / 3)
    assert metrics.recall_at_k(tied, np.array([1]), 2, ties="optimistic") == 1.0
    assert metrics.recall_at_k(tied, np.array([1]), 2) == 0.0
    S = np.random.default_rng(1).normal(size=(30, 8))  # no ties: the two agree
    y = np.arange(30) % 8
    assert np.array_equal(metrics.target_rank(S, y), metrics.target_rank(S, y, "optimistic"))
    with pytest.raises(ValueError):
        metrics.target_rank(SCORES, TARGETS, ties="random")


def test_metrics_against_argsort():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(50, 20))
    y = rng.integers(0, 20, 50)
    top = np.argsort(-S, 1)
    for k in (1, 3, 20):
        hits = [y[i] in top[i, :k] for i in range(50)]
        assert metrics.recall_at_k(S, y, k) == pytest.approx(np.mean(hits))
    rank = np.array([int(np.where(top[i] == y[i])[0][0]) + 1 for i in range(50)])
    assert metrics.mrr_at_k(S, y, 5) == pytest.approx(np.mean(np.where(rank <= 5, 1 / rank, 0)))


def test_planted_error_is_caught():
    """A rank that forgets the '+1' (0-based) would give recall@1 = 0 on row 0: caught."""

    def wrong_recall(S, y, k):
        s_t = S[np.arange(len(y)), y][:, None]
        return float(np.mean((S > s_t).sum(1) < k - 1))  # off by one

    assert wrong_recall(SCORES, TARGETS, 1) != pytest.approx(
        metrics.recall_at_k(SCORES, TARGETS, 1)
    )


@pytest.mark.parametrize(
    "args",
    [
        (SCORES.astype(np.int64), TARGETS, 1),
        (SCORES[0], TARGETS, 1),
        (SCORES, TARGETS[:2], 1),
        (SCORES, np.array([0, 1, 4]), 1),
        (SCORES, TARGETS, 0),
        (SCORES, TARGETS, 5),
        (np.where(SCORES > 0.8, np.nan, SCORES), TARGETS, 1),
    ],
)
def test_metrics_bad_input(args):
    with pytest.raises(ValueError):
        metrics.recall_at_k(*args)
    with pytest.raises(ValueError):
        metrics.mrr_at_k(*args)


def test_click_sessions_sizes_determinism_overlap():
    a = data.click_sessions(200, 50, 3)
    b = data.click_sessions(200, 50, np.random.default_rng(3))
    assert len(a["train"]) == 200 and len(a["test"]) == 50
    assert all(6 <= len(s) <= 14 and s.min() >= 0 and s.max() < 60 for s in a["train"])
    assert all(np.array_equal(x, y) for x, y in zip(a["train"], b["train"], strict=True))
    train = {tuple(s) for s in a["train"]}
    assert len(train) == 200 and not train & {tuple(s) for s in a["test"]}


def test_click_sessions_hidden_structure():
    """Within an intent, each click is the path's next item; the last item alone is ambiguous."""
    d = data.click_sessions(300, 10, 0)
    paths = d["paths"]
    follows = 0
    for s, z in zip(d["train"], d["intents"]["train"], strict=True):
        for t in range(1, len(s)):
            if z[t] == z[t - 1]:
                row = paths[z[t]]
                i = int(np.where(row == s[t - 1])[0][0])
                assert s[t] == row[(i + 1) % len(row)]
                follows += 1
    assert follows > 0
    successors = {}
    for row in paths:
        for i, item in enumerate(row):
            successors.setdefault(int(item), set()).add(int(row[(i + 1) % len(row)]))
    assert max(len(v) for v in successors.values()) > 1  # some item has several successors


def test_click_sessions_bad_input():
    for kw in ({"switch": 1.5}, {"path_length": 100}, {"min_length": 1}):
        with pytest.raises(ValueError):
            data.click_sessions(10, 10, 0, **kw)
    with pytest.raises(ValueError):
        data.click_sessions(10, 10, "seed")


def test_baselines_by_hand():
    sessions = [np.array([0, 1, 2]), np.array([0, 1, 1]), np.array([2, 0])]
    pop = R.MostPopular(3).fit(sessions)
    assert pop.counts.tolist() == [3, 3, 2]
    m1 = R.SuccessorCounts(3).fit(sessions)
    assert m1.C.tolist() == [[0, 2, 0], [0, 1, 1], [1, 0, 0]]
    S = m1.score_prefixes([np.array([2, 0])])
    assert int(np.argmax(S[0])) == 1
    with pytest.raises(ValueError):
        R.SuccessorCounts(3).fit([np.array([0, 5])])
    with pytest.raises(ValueError):
        R.SuccessorCounts(3, order=3)


def test_session_popular_by_hand():
    """S-POP: clicks in the prefix first, then global clicks; an unclicked tie stays tied."""
    sessions = [np.array([0, 1, 2]), np.array([0, 1, 1]), np.array([2, 3])]
    spop = R.SessionPopular(5).fit(sessions)  # global clicks [2, 3, 2, 1, 0]
    S = spop.score_prefixes([np.array([3, 2, 3]), np.array([4])])
    assert np.argsort(-S[0], kind="stable").tolist() == [3, 2, 1, 0, 4]
    assert S[0, 0] < S[0, 1] and S[1, 4] > S[1, 1] > S[1, 0] == S[1, 2] > S[1, 3]


def test_item_knn_cosine_by_hand():
    """sim(i, j) = sessions with both / sqrt(sessions with i * sessions with j); order ignored."""
    sessions = [np.array([0, 1]), np.array([1, 0, 2]), np.array([2, 3]), np.array([3, 2])]
    knn = R.ItemKNN(4).fit(sessions)
    # supports: 0 in 2 sessions, 1 in 2, 2 in 3, 3 in 2
    assert knn.sim[0, 1] == pytest.approx(2 / 2)
    assert knn.sim[0, 2] == pytest.approx(1 / np.sqrt(2 * 3))
    assert knn.sim[2, 3] == pytest.approx(2 / np.sqrt(3 * 2))
    assert knn.sim[0, 3] == 0 and knn.sim[1, 1] == 0
    np.testing.assert_allclose(knn.sim, knn.sim.T)
    S = knn.score_prefixes([np.array([3, 0])])
    assert np.argsort(-S[0])[:2].tolist() == [1, 2]
    assert S[0, 0] == S[0, 3] < S[0, 2]  # similarity 0 and two clicks each: still tied


def test_second_order_counts_by_hand():
    sessions = [np.array([0, 1, 2]), np.array([2, 1, 0]), np.array([0, 1, 2]), np.array([3, 1])]
    m2 = R.SuccessorCounts(4, order=2).fit(sessions)
    assert m2.C2[0, 1, 2] == 2 and m2.C2[2, 1, 0] == 1 and m2.C2.sum() == 3
    S = m2.score_prefixes([np.array([2, 1]), np.array([0, 1]), np.array([1])])
    assert int(np.argmax(S[0])) == 0 and int(np.argmax(S[1])) == 2
    # the pair (2, 1) was followed by 0 once; the first-order counts after 1 favour 2
    assert int(np.argmax(m2.C[1])) == 2 and int(np.argmax(S[2])) == 2


def _brute_force_next(paths, switch, prefix):
    """P(next item | prefix) by summing over every sequence of hidden states (tiny cases)."""
    Z, L = paths.shape
    states = [(z, pos) for z in range(Z) for pos in range(L)]

    def step(a, b):
        if b == (a[0], (a[1] + 1) % L):
            return 1 - switch
        return switch / ((Z - 1) * L) if b[0] != a[0] else 0.0

    def walk(t, state, w):
        if paths[state] != prefix[t]:
            return np.zeros(paths.max() + 1)
        if t == len(prefix) - 1:
            out = np.zeros(paths.max() + 1)
            for b in states:
                out[paths[b]] += w * step(state, b)
            return out
        return sum(walk(t + 1, b, w * step(state, b)) for b in states)

    p = sum(walk(0, s, 1 / len(states)) for s in states)
    return p / p.sum()


def test_intent_filter_matches_brute_force():
    paths = np.array([[0, 1, 2], [1, 3, 0]])
    f = R.IntentFilter(paths, 0.2, 4)
    prefixes = [np.array([1]), np.array([0, 1]), np.array([1, 3, 0]), np.array([2, 1])]
    S = f.score_prefixes(prefixes)
    np.testing.assert_allclose(S.sum(1), 1.0)
    for row, p in zip(S, prefixes, strict=True):
        np.testing.assert_allclose(row, _brute_force_next(paths, 0.2, p))
    exact = R.IntentFilter(paths, 0.0, 4).score_prefixes([np.array([1, 2])])
    np.testing.assert_allclose(exact[0], [1, 0, 0, 0])  # no switches: the path fixes it
    with pytest.raises(ValueError):
        R.IntentFilter(paths, 0.0, 4).score_prefixes([np.array([0, 3])])
    with pytest.raises(ValueError):
        R.IntentFilter(paths, 1.5, 4)


def test_gru4rec_shapes_and_step_matches_forward():
    torch.manual_seed(0)
    net = R.GRU4Rec(10, embed=4, hidden=5)
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    out = net(x)
    assert out.shape == (2, 3, 10)
    h = torch.zeros(2, 5)
    for t in range(3):
        s, h = net.step(x[:, t], h)
    torch.testing.assert_close(s, out[:, -1])
    with pytest.raises(ValueError):
        net(x.float())
    with pytest.raises(ValueError):
        net(torch.tensor([[1, 10]]))


def _check_lanes(sessions, steps):
    """Every lane resets exactly at a session's first item and otherwise continues it.

    Each item occurs once in ``sessions``, so an item names its session and position.
    """
    where = {int(item): (n, t) for n, s in enumerate(sessions) for t, item in enumerate(s)}
    previous = {}
    for xs, ys, reset in steps:
        for b, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
            n, t = where[x]
            if bool(reset[b]) != (t == 0):
                return False  # a reset away from a session's start, or a missed one
            if t > 0 and previous.get(b) != (n, t - 1):
                return False  # not the same session's next step
            if where[y] != (n, t + 1):
                return False
            previous[b] = (n, t)
    return True


def test_session_parallel_batches():
    sessions = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6, 7, 8]), np.array([9, 10])]
    steps = list(R.session_parallel_batches(sessions, 2, np.random.default_rng(0)))
    assert steps[0][2].all() and _check_lanes(sessions, steps)
    assert sum(int(r.sum()) for _, _, r in steps) >= 3  # lanes moved on to new sessions
    missed = [(x, y, r if i == 0 else torch.zeros_like(r)) for i, (x, y, r) in enumerate(steps)]
    assert not _check_lanes(sessions, missed)  # a planted missed reset is caught
    with pytest.raises(ValueError):
        next(R.session_parallel_batches(sessions, 5, np.random.default_rng(0)))
