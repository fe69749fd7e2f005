"""Session-based recommendation: GRU4Rec (Hidasi et al. 2016) and two baselines.

:class:`GRU4Rec` embeds each clicked item, runs a GRU over the session and scores every item
as the next click: y_t = W h_t + b over all V items, trained with cross-entropy over the items
(softmax over the full catalogue, affordable for small V). Hidasi et al. train with
*session-parallel mini-batches*: B sessions side by side, each lane moving to the next item
of its session at every step and to a new session (hidden state reset to zero) when its
session ends; :func:`session_parallel_batches` builds these. With very many items they score
only the batch's own targets (the others act as popularity-sampled negatives) with the
ranking losses BPR and TOP1; those are not implemented here.

Baselines: :class:`MostPopular` (the same ranking for every prediction, by training counts)
and :class:`ItemToItem` (co-occurrence: how often item j followed item i in training, the
item-kNN baseline of the paper reduced to successor counts); both see only the last item,
or nothing.
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


class MostPopular:
    """Scores every item by its number of clicks in the training sessions."""

    def __init__(self, n_items: int):
        self.V = check_int("n_items", n_items, minimum=2)
        self.counts = np.zeros(self.V)

    def fit(self, sessions):
        _check_sessions(sessions, self.V)
        self.counts = np.bincount(np.concatenate(sessions), minlength=self.V).astype(float)
        return self

    def score_prefixes(self, prefixes):
        return np.tile(self.counts, (len(prefixes), 1))


class ItemToItem:
    """Scores item j after a prefix ending in item i by how often j followed i in training.

    Ties (and items never seen after i) are broken by popularity, scaled to stay below one
    co-occurrence count.
    """

    def __init__(self, n_items: int):
        self.V = check_int("n_items", n_items, minimum=2)
        self.C = np.zeros((self.V, self.V))

    def fit(self, sessions):
        _check_sessions(sessions, self.V)
        self.C = np.zeros((self.V, self.V))
        for s in sessions:
            np.add.at(self.C, (np.asarray(s[:-1]), np.asarray(s[1:])), 1.0)
        pop = np.bincount(np.concatenate(sessions), minlength=self.V).astype(float)
        self.tiebreak = 0.5 * pop / (pop.max() + 1)
        return self

    def score_prefixes(self, prefixes):
        last = np.array([int(p[-1]) for p in prefixes])
        return self.C[last] + self.tiebreak[None]
