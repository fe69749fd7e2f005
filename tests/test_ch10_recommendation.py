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
    i2i = R.ItemToItem(3).fit(sessions)
    assert i2i.C.tolist() == [[0, 2, 0], [0, 1, 1], [1, 0, 0]]
    S = i2i.score_prefixes([np.array([2, 0])])
    assert int(np.argmax(S[0])) == 1
    with pytest.raises(ValueError):
        R.ItemToItem(3).fit([np.array([0, 5])])


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


def test_session_parallel_batches():
    sessions = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6, 7, 8])]
    steps = list(R.session_parallel_batches(sessions, 2, np.random.default_rng(0)))
    pairs = {(int(x), int(y)) for xs, ys, _ in steps for x, y in zip(xs, ys, strict=True)}
    allowed = {(int(s[t]), int(s[t + 1])) for s in sessions for t in range(len(s) - 1)}
    assert pairs <= allowed and steps[0][2].all()
