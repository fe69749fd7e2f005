"""A character-level language model (字符级语言模型): next-character prediction on a long stream.

The model reads characters x_1 ... x_T (ids in 0 .. V-1) and at every step gives the logits of
the next one:

    (LM.1)  e_t = E[x_t]                       embedding, (B, D)
    (LM.2)  h_t = cell(e_t, h_{t-1})           rnnbook.nn.SRN, LSTM or GRU, (B, H)
    (LM.3)  z_t = h_t W_out^T + b_out          logits of x_{t+1}, (B, V)

With weight tying (权重共享, Press and Wolf 2017; Inan et al. 2017) W_out is the embedding
matrix E itself (V, D), which requires D = H. The loss is the mean cross-entropy in nats; in
bits per character (比特每字符) it is

    (LM.4)  bpc = - (1 / N) sum_t log2 p(x_{t+1} | x_<=t) = cross-entropy in nats / ln 2.

Truncated BPTT over one long stream (:func:`stream_windows`): the stream is cut into B rows
that are read in parallel, and each row into windows of k steps. The state at the end of one
window is the initial state of the next (so the model sees the whole row as one sequence),
but it is *detached*: the gradient of a window's loss stops at its first step.
"""

import math

import numpy as np
import torch
from torch import nn

from rnnbook._checks import check_int, check_option
from rnnbook.nn.gru import GRU
from rnnbook.nn.lstm import LSTM
from rnnbook.nn.srn import SRN
from rnnbook.train import History, progress_range

CELLS = {"srn": SRN, "lstm": LSTM, "gru": GRU}


def _check_ids(name, ids, vocab_size=None, dims=1):
    if not isinstance(ids, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of int64 ids, got {type(ids).__name__}")
    if ids.dtype != torch.int64:
        raise ValueError(f"{name} must be int64 ids, got dtype {ids.dtype}")
    if ids.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimension(s), got shape {tuple(ids.shape)}")
    if ids.numel() and ids.min() < 0:
        raise ValueError(f"{name} must be ids >= 0, got {int(ids.min())}")
    if vocab_size is not None and ids.numel() and ids.max() >= vocab_size:
        raise ValueError(f"{name} must be ids < {vocab_size}, got {int(ids.max())}")


def as_ids(ids, name="ids"):
    """An int64 tensor from a NumPy array or tensor of ids (1-D), validated."""
    if isinstance(ids, np.ndarray):
        if ids.dtype.kind not in "iu":
            raise ValueError(f"{name} must be integer ids, got dtype {ids.dtype}")
        ids = torch.from_numpy(ids.astype(np.int64))
    _check_ids(name, ids)
    return ids


class CharLM(nn.Module):
    """Embedding, one recurrent cell of ``rnnbook.nn`` and an output layer: (LM.1)-(LM.3).

    Args:
        vocab_size: V, the number of characters.
        hidden_size: H.
        cell: "srn", "lstm" or "gru".
        embedding_size: D; H when None.
        tie: use the embedding matrix as the output matrix (requires D = H).
        num_layers: stacked recurrent layers.

    ``forward(x, state=None)`` takes ids (T, B) int64 and returns logits (T, B, V) and the
    final state (h_n, or (h_n, c_n) for the LSTM).
    """

    def __init__(
        self, vocab_size, hidden_size, *, cell="lstm", embedding_size=None, tie=False, num_layers=1
    ):
        super().__init__()
        check_int("vocab_size", vocab_size, minimum=2)
        check_int("hidden_size", hidden_size)
        check_option("cell", cell, CELLS)
        if not isinstance(tie, bool):
            raise ValueError(f"tie must be a bool, got {tie!r}")
        D = hidden_size if embedding_size is None else embedding_size
        check_int("embedding_size", D)
        if tie and D != hidden_size:
            raise ValueError(
                f"tie=True needs embedding_size == hidden_size, got {D} and {hidden_size}"
            )
        self.vocab_size, self.hidden_size, self.cell, self.tie = vocab_size, hidden_size, cell, tie
        self.embedding = nn.Embedding(vocab_size, D)
        self.rnn = CELLS[cell](D, hidden_size, num_layers)
        self.out = nn.Linear(hidden_size, vocab_size)
        if tie:
            # (LM.3) with W_out = E: one (V, H) matrix for both ends
            self.out.weight = self.embedding.weight

    def forward(self, x, state=None):
        _check_ids("x", x, self.vocab_size, dims=2)
        # (LM.1)  (T, B) -> (T, B, D)
        e = self.embedding(x)
        # (LM.2)  (T, B, H)
        h, state = self.rnn(e, state)
        # (LM.3)  (T, B, V)
        return self.out(h), state


def detach(state):
    """The state with its history cut: the same values, no gradient path to earlier windows."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def stream_rows(ids, batch_size):
    """Cut a stream of N ids into B rows read in parallel: inputs and next-character targets.

    Row r holds ids[r n : (r + 1) n + 1] with n = (N - 1) // B, so the rows are consecutive
    pieces of the stream and the last few ids (fewer than B) are dropped.

    Returns:
        (x, y), both (n, B) int64: x[t, r] = ids[r n + t], y[t, r] = ids[r n + t + 1].
    """
    ids = as_ids(ids)
    check_int("batch_size", batch_size)
    n = (len(ids) - 1) // batch_size
    if n < 1:
        raise ValueError(f"a stream of {len(ids)} ids is too short for {batch_size} rows")
    x = ids[: n * batch_size].reshape(batch_size, n).T
    y = ids[1 : n * batch_size + 1].reshape(batch_size, n).T
    # y[t, r] = ids[r n + t + 1] is x[t + 1, r] inside a row
    return x.contiguous(), y.contiguous()


def stream_windows(ids, batch_size, window):
    """The windows of truncated BPTT: a list of (x, y), each (k, B), in reading order.

    The windows follow each other along the rows of :func:`stream_rows`; the last is shorter
    when k does not divide n. Carry the state from one window to the next (detached).
    """
    check_int("window", window)
    x, y = stream_rows(ids, batch_size)
    return [(x[t : t + window], y[t : t + window]) for t in range(0, len(x), window)]


def _nats(model, x, y, state):
    logits, state = model(x, state)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return loss, state


@torch.no_grad()
def bits_per_char(model, ids, *, batch_size=16, window=256):
    """(LM.4) on a held-out stream, read as B rows with the state carried across windows."""
    if not isinstance(model, CharLM):
        raise ValueError(f"model must be a CharLM, got {type(model).__name__}")
    was = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    for x, y in stream_windows(ids, batch_size, window):
        loss, state = _nats(model, x, y, state)
        total += float(loss) * y.numel()
        count += y.numel()
    model.train(was)
    return total / count / math.log(2)


def train(
    model,
    ids,
    *,
    batch_size=32,
    window=64,
    steps=500,
    lr=3e-3,
    clip=1.0,
    carry=True,
    eval_ids=None,
    eval_every=None,
    progress=False,
):
    """Truncated BPTT with Adam over the stream ``ids``, cycling through its windows.

    With ``carry`` the state flows from each window to the next (detached) and is reset to
    zeros when the stream starts again; without it every window starts from zeros.
    Every ``eval_every`` steps, the held-out bpc of ``eval_ids`` is measured.

    Returns:
        a :class:`rnnbook.train.History` (loss in nats per step) and a list of
        (step, train bpc of the last ``eval_every`` steps, held-out bpc).
    """
    if not isinstance(model, CharLM):
        raise ValueError(f"model must be a CharLM, got {type(model).__name__}")
    check_int("steps", steps)
    if eval_every is not None:
        check_int("eval_every", eval_every)
        if eval_ids is None:
            raise ValueError("eval_every needs eval_ids")
    windows = stream_windows(ids, batch_size, window)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history, curve, state = History(), [], None
    for step in progress_range(steps, desc=f"{model.cell} tBPTT", enabled=progress):
        i = step % len(windows)
        if i == 0 or not carry:
            state = None
        x, y = windows[i]
        loss, state = _nats(model, x, y, state)
        state = detach(state)
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        history.loss.append(loss.item())
        history.grad_norm.append(norm.item())
        if eval_every and (step + 1) % eval_every == 0:
            train_bpc = float(np.mean(history.loss[-eval_every:])) / math.log(2)
            curve.append((step + 1, train_bpc, bits_per_char(model, eval_ids)))
    return history, curve


def sample_next(logits, temperature, generator):
    """One id per row from softmax(logits / T); the argmax when T = 0.

    Args:
        logits: (B, V) float tensor, finite.
        temperature: T >= 0 (温度).
        generator: a ``torch.Generator``.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError(f"logits must be a (B, V) tensor, got {getattr(logits, 'shape', logits)}")
    if not torch.isfinite(logits).all():
        raise ValueError("logits must be finite (no NaN or inf)")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if not temperature >= 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if temperature == 0:
        return logits.argmax(-1)
    # p = softmax(z / T): T < 1 sharpens, T > 1 flattens the distribution
    p = torch.softmax(logits.double() / temperature, dim=-1)
    return torch.multinomial(p, 1, generator=generator)[:, 0]


@torch.no_grad()
def generate(model, prompt, length, *, temperature=1.0, seed=0):
    """The prompt's ids (1-D) followed by ``length`` sampled ids, as a list."""
    if not isinstance(model, CharLM):
        raise ValueError(f"model must be a CharLM, got {type(model).__name__}")
    prompt = as_ids(prompt, "prompt")
    if len(prompt) < 1:
        raise ValueError("prompt must hold at least one id")
    check_int("length", length, minimum=0)
    gen = torch.Generator().manual_seed(seed)
    logits, state = model(prompt[:, None])
    out = prompt.tolist()
    for _ in range(length):
        v = sample_next(logits[-1], temperature, gen)
        out.append(int(v))
        logits, state = model(v[None], state)
    return out


def count_bpc(train_ids, test_ids, vocab_size, order):
    """Held-out bpc of a count model with add-one smoothing: order 0 (unigram) or 1 (bigram).

    p(c) = (n(c) + 1) / (N + V),   p(c | b) = (n(b, c) + 1) / (n(b) + V)
    """
    check_int("vocab_size", vocab_size, minimum=2)
    check_option("order", order, (0, 1))
    a, b = _check_id_arrays(train_ids, test_ids, vocab_size)
    if order == 0:
        p = (np.bincount(a, minlength=vocab_size) + 1) / (len(a) + vocab_size)
        return float(-np.log2(p[b[1:]]).mean())
    n = np.zeros((vocab_size, vocab_size))
    np.add.at(n, (a[:-1], a[1:]), 1)
    p = (n + 1) / (n.sum(1, keepdims=True) + vocab_size)
    return float(-np.log2(p[b[:-1], b[1:]]).mean())


def _check_id_arrays(train_ids, test_ids, vocab_size):
    a, b = np.asarray(train_ids), np.asarray(test_ids)
    for name, v in (("train_ids", a), ("test_ids", b)):
        if (
            v.ndim != 1
            or v.dtype.kind not in "iu"
            or (v.size and (v.min() < 0 or v.max() >= vocab_size))
        ):
            raise ValueError(f"{name} must be 1-D integer ids in [0, {vocab_size})")
    return a, b


def witten_bell_probabilities(train_ids, vocab_size, n):
    """An n-gram model with interpolated Witten-Bell smoothing (WB.1), as a function.

    p_0(c) = (n(c) + 1) / (N + V); for a history h of k >= 1 characters, with h' its last
    k - 1, count C(h, c), C(h) = sum_c C(h, c) and T(h) the number of distinct c seen after h,

        p(c | h) = (C(h, c) + T(h) p(c | h')) / (C(h) + T(h)),                      (WB.1)

    and p(c | h) = p(c | h') for a history never seen (C(h) = 0).

    Each level mixes its counts with the level below, so p(. | h) sums to one whenever the
    level below does. Returns ``prob(history)``: the (V,) vector p(. | last n - 1 ids of
    ``history``), for a history of any length (shorter ones use fewer levels).
    """
    check_int("vocab_size", vocab_size, minimum=2)
    check_int("n", n)
    a, _ = _check_id_arrays(train_ids, np.zeros(0, dtype=np.int64), vocab_size)
    base = (np.bincount(a, minlength=vocab_size) + 1.0) / (len(a) + vocab_size)
    counts: list[dict] = [{} for _ in range(n)]  # counts[k][history of k ids] -> {c: count}
    ids = a.tolist()
    for k in range(1, n):
        table = counts[k]
        for i in range(k, len(ids)):
            following = table.setdefault(tuple(ids[i - k : i]), {})
            following[ids[i]] = following.get(ids[i], 0) + 1

    def prob(history):
        h = [int(c) for c in history][-(n - 1) :] if n > 1 else []
        p = base
        for k in range(1, len(h) + 1):
            following = counts[k].get(tuple(h[-k:]))
            if not following:
                continue  # an unseen history: p(. | h) = p(. | h')
            total, types = sum(following.values()), len(following)
            q = types * p
            for c, m in following.items():
                q[c] += m
            p = q / (total + types)
        return p

    return prob


def witten_bell_bpc(train_ids, test_ids, vocab_size, n):
    """Held-out bits per character of the n-gram model (WB.1), over the test stream's
    characters after the first (the targets :func:`count_bpc` scores)."""
    _, b = _check_id_arrays(train_ids, test_ids, vocab_size)
    prob = witten_bell_probabilities(train_ids, vocab_size, n)
    bits = [-math.log2(prob(b[max(0, i - n + 1) : i])[b[i]]) for i in range(1, len(b))]
    return float(np.mean(bits))
