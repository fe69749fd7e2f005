"""Session-based recommendation: GRU4Rec (Hidasi et al. 2016) and baselines.

:class:`GRU4Rec` embeds each clicked item, runs a GRU over the session and scores every item
as the next click: y_t = W h_t + b over all V items, trained with cross-entropy over the items
(softmax over the full catalogue, affordable for small V). Hidasi et al. feed the GRU the
1-of-N code of the item and report that an extra embedding layer did worse; here the item is
embedded (E numbers). Hidasi et al. train with
*session-parallel mini-batches*: B sessions side by side, each lane moving to the next item
of its session at every step and to a new session (hidden state reset to zero) when its
session ends; :func:`session_parallel_batches` builds these. With very many items they score
only the batch's own targets (the others act as popularity-sampled negatives) with the
ranking losses BPR and TOP1; those are not implemented here.

Baselines. Three of the paper's four: :class:`MostPopular` (POP: the same ranking for every
prediction, by training clicks), :class:`SessionPopular` (S-POP: the items clicked most often
in the current session, ties by training clicks) and :class:`ItemKNN` (Item-KNN: the items
whose sessions are most similar, by cosine, to those of the last item); the fourth, BPR-MF,
is not here. Two that are not the paper's: :class:`SuccessorCounts`, a Markov chain of order
1 or 2 (how often j followed the last one or two items in training; order 1 is stronger than
Item-KNN here because it uses the order of the clicks), and :class:`IntentFilter`, the
Bayes-optimal predictor for :func:`rnnbook.data.click_sessions`, which knows the generator.
"""

import numpy as np
import torch
from torch import nn

from rnnbook._checks import check_int


def _check_sessions(sessions, V):
    if not isinstance(sessions, (list, tuple)) or not sessions:
        raise ValueError(f"sessions must be a non-empty list of int arrays, got {sessions!r:.60}")
    for i, s in enumerate(sessions):
        s = np.asarray(s)
        if s.ndim != 1 or s.dtype.kind not in "iu" or len(s) < 2:
            raise ValueError(f"sessions[{i}] must be a 1-d int array of length >= 2")
        if s.min() < 0 or s.max() >= V:
            raise ValueError(f"sessions[{i}] has items outside [0, V) = [0, {V})")


def next_item_pairs(sessions):
    """Every (prefix, next item) of every session: lists of prefixes and the (N,) targets."""
    prefixes, targets = [], []
    for s in sessions:
        for t in range(1, len(s)):
            prefixes.append(np.asarray(s[:t]))
            targets.append(int(s[t]))
    return prefixes, np.array(targets, dtype=np.int64)


def session_parallel_batches(sessions, B, rng):
    """Hidasi's session-parallel mini-batches, one step at a time.

    Yields (x (B,) int64, y (B,) int64, reset (B,) bool): the current and the next item of B
    lanes, and which lanes started a new session at this step (their hidden state must be
    zeroed before it). Sessions are taken in a random order; iteration stops when a lane has
    no session left.
    """
    B = check_int("B", B)
    order = list(np.asarray(rng.permutation(len(sessions))))
    lanes = [order.pop() for _ in range(min(B, len(order)))]
    if len(lanes) < B:
        raise ValueError(f"B must be at most the number of sessions {len(sessions)}, got {B}")
    pos = [0] * B
    reset = np.ones(B, dtype=bool)
    while True:
        x = np.array([sessions[s][p] for s, p in zip(lanes, pos, strict=True)], dtype=np.int64)
        y = np.array([sessions[s][p + 1] for s, p in zip(lanes, pos, strict=True)])
        yield torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)), torch.from_numpy(reset)
        reset = np.zeros(B, dtype=bool)
        for b in range(B):
            pos[b] += 1
            if pos[b] + 1 >= len(sessions[lanes[b]]):
                if not order:
                    return
                lanes[b], pos[b], reset[b] = order.pop(), 0, True


class GRU4Rec(nn.Module):
    """Item embedding, one GRU layer, scores over all V items (Hidasi et al. 2016).

    Args:
        n_items: V. embed: embedding size E. hidden: H.
    """

    def __init__(self, n_items: int, embed: int = 32, hidden: int = 64):
        super().__init__()
        self.V = check_int("n_items", n_items, minimum=2)
        self.embedding = nn.Embedding(self.V, check_int("embed", embed))
        self.gru = nn.GRU(embed, check_int("hidden", hidden), batch_first=True)
        self.out = nn.Linear(hidden, self.V)

    def step(self, x, h):
        """One click for B lanes: x (B,) int64, h (B, H) -> (scores (B, V), new h (B, H))."""
        if not isinstance(x, torch.Tensor) or x.dtype != torch.int64 or x.dim() != 1:
            raise ValueError(f"x must be a (B,) int64 tensor, got {x!r:.60}")
        if x.min() < 0 or x.max() >= self.V:
            raise ValueError(f"x must lie in [0, V) = [0, {self.V})")
        out, h_n = self.gru(self.embedding(x)[:, None], h[None])  # out: (B, 1, H)
        return self.out(out[:, 0]), h_n[0]

    def forward(self, items):
        """Scores of the next item after every prefix: items (B, T) int64 -> (B, T, V)."""
        if not isinstance(items, torch.Tensor) or items.dtype != torch.int64 or items.dim() != 2:
            raise ValueError(f"items must be a (B, T) int64 tensor, got {items!r:.60}")
        if items.min() < 0 or items.max() >= self.V:
            raise ValueError(f"items must lie in [0, V) = [0, {self.V})")
        out, _ = self.gru(self.embedding(items))  # (B, T, H)
        return self.out(out)  # (B, T, V)

    @torch.no_grad()
    def score_prefixes(self, prefixes):
        """(N, V) float64 scores of the next item after each prefix (a list of int arrays)."""
        rows = []
        for p in prefixes:
            rows.append(self(torch.as_tensor(np.asarray(p), dtype=torch.int64)[None])[0, -1])
        return torch.stack(rows).double().numpy()


def _lexicographic(*keys):
    """(N, V) scores that order items by keys[0], then by keys[1] among its ties, and so on.

    Each key broadcasts to (N, V); items equal in every key keep equal scores (still tied).
    """
    shape = np.broadcast_shapes(*(np.shape(key) for key in keys))
    out = np.zeros(shape)
    for key in keys:
        _, r = np.unique(np.broadcast_to(key, shape), return_inverse=True)  # dense ranks
        out = out * (r.max() + 1) + r.reshape(shape)
    return out


class MostPopular:
    """POP: scores every item by its number of clicks in the training sessions."""

    def __init__(self, n_items: int):
        self.V = check_int("n_items", n_items, minimum=2)
        self.counts = np.zeros(self.V)

    def fit(self, sessions):
        _check_sessions(sessions, self.V)
        self.counts = np.bincount(np.concatenate(sessions), minlength=self.V).astype(float)
        return self

    def score_prefixes(self, prefixes):
        return np.tile(self.counts, (len(prefixes), 1))


class SessionPopular(MostPopular):
    """S-POP: scores items by their clicks in the prefix so far, ties by training clicks."""

    def score_prefixes(self, prefixes):
        in_session = np.stack([np.bincount(np.asarray(p), minlength=self.V) for p in prefixes])
        return _lexicographic(in_session, self.counts[None])


class ItemKNN:
    """Item-KNN: scores item j after a prefix ending in i by the cosine similarity of i and j.

    Each item is the 0/1 vector of the training sessions it occurs in, so
    sim(i, j) = (sessions with both) / sqrt((sessions with i) (sessions with j)), which
    ignores the order of the clicks; the item itself is left out (sim(i, i) = 0). Ties are
    broken by training clicks. Hidasi et al. add a regularisation against high similarities
    of rare items; it is left out here.
    """

    def __init__(self, n_items: int):
        self.V = check_int("n_items", n_items, minimum=2)
        self.sim = np.zeros((self.V, self.V))

    def fit(self, sessions):
        _check_sessions(sessions, self.V)
        occurs = np.zeros((len(sessions), self.V))  # (n_sessions, V) 0/1
        for n, s in enumerate(sessions):
            occurs[n, np.asarray(s)] = 1.0
        co = occurs.T @ occurs  # (V, V): sessions with both i and j
        support = np.diag(co).copy()  # sessions with i
        norm = np.sqrt(np.outer(support, support))
        self.sim = np.divide(co, norm, out=np.zeros_like(co), where=norm > 0)
        np.fill_diagonal(self.sim, 0.0)
        self.counts = np.bincount(np.concatenate(sessions), minlength=self.V).astype(float)
        return self

    def score_prefixes(self, prefixes):
        last = np.array([int(p[-1]) for p in prefixes])
        return _lexicographic(self.sim[last], self.counts[None])


class SuccessorCounts:
    """Markov chain of order 1 or 2 from successor counts.

    Order 1 scores item j after a prefix ending in item i by how often j followed i in
    training (``C[i, j]``); order 2 by how often j followed the last two items
    (``C2[h, i, j]``), ties (and prefixes of one click) by the order-1 counts. Remaining ties,
    and items never seen after the context, are broken by training clicks.
    """

    def __init__(self, n_items: int, order: int = 1):
        self.V = check_int("n_items", n_items, minimum=2)
        if order not in (1, 2) or isinstance(order, bool):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        self.order = order
        self.C = np.zeros((self.V, self.V))

    def fit(self, sessions):
        _check_sessions(sessions, self.V)
        self.C = np.zeros((self.V, self.V))
        for s in sessions:
            np.add.at(self.C, (np.asarray(s[:-1]), np.asarray(s[1:])), 1.0)
        if self.order == 2:
            self.C2 = np.zeros((self.V, self.V, self.V))
            for s in sessions:
                s = np.asarray(s)
                np.add.at(self.C2, (s[:-2], s[1:-1], s[2:]), 1.0)
        self.counts = np.bincount(np.concatenate(sessions), minlength=self.V).astype(float)
        return self

    def score_prefixes(self, prefixes):
        last = np.array([int(p[-1]) for p in prefixes])
        keys = [self.C[last], self.counts[None]]
        if self.order == 2:
            pair = np.stack(
                [self.C2[p[-2], p[-1]] if len(p) > 1 else np.zeros(self.V) for p in prefixes]
            )
            keys.insert(0, pair)
        return _lexicographic(*keys)


class IntentFilter:
    """The Bayes-optimal next-item predictor for :func:`rnnbook.data.click_sessions`.

    It knows the generator: the hidden state is (intent z, position on its path), the click
    is the path's item there, and after each click the state moves one step along the path
    with probability 1 - switch, or else to a uniformly drawn other intent and position. The
    forward recursion of this hidden Markov model gives the posterior over the state after the
    prefix, and the scores are the probabilities of the next item. It ignores that the data
    keep each session once and that sessions have bounded lengths.

    Args:
        paths: (n_intents, path_length) int, the generator's paths. switch: its probability.
        n_items: V.
    """

    def __init__(self, paths, switch: float, n_items: int):
        self.V = check_int("n_items", n_items, minimum=2)
        paths = np.asarray(paths)
        if paths.ndim != 2 or paths.dtype.kind not in "iu" or paths.min() < 0:
            raise ValueError(
                f"paths must be an (n_intents, path_length) int array, got {paths!r:.60}"
            )
        if paths.max() >= self.V or not 0 <= switch <= 1:
            raise ValueError("paths must lie in [0, V) and switch in [0, 1]")
        Z, L = paths.shape
        self.emit = paths.reshape(-1)  # (Z L,): the item of state k = z L + pos
        stay = np.zeros((Z * L, Z * L))
        for z in range(Z):
            for pos in range(L):
                stay[z * L + pos, z * L + (pos + 1) % L] = 1.0
        if Z > 1:
            other = np.kron(1.0 - np.eye(Z), np.ones((L, L))) / ((Z - 1) * L)
            self.A = (1 - switch) * stay + switch * other  # (Z L, Z L), rows sum to 1
        else:
            self.A = stay

    def score_prefixes(self, prefixes):
        rows = []
        for p in prefixes:
            alpha = np.full(len(self.emit), 1.0 / len(self.emit))  # uniform start
            for t, x in enumerate(np.asarray(p)):
                alpha = (alpha if t == 0 else alpha @ self.A) * (self.emit == x)
                if alpha.sum() == 0:
                    raise ValueError(f"prefix {list(p)} cannot come from these paths")
                alpha = alpha / alpha.sum()
            rows.append(np.bincount(self.emit, weights=alpha @ self.A, minlength=self.V))
        return np.stack(rows)
