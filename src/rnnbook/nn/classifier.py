"""Sequence to class: a recurrent classifier over padded batches, and a bag-of-words baseline.

:class:`SequenceClassifier` embeds the words of a padded batch, runs an LSTM over each
review's true steps and feeds the last state to a linear classifier, the textbook's (6.7)
y = g(h_T) with T each review's own length. :meth:`SequenceClassifier.final_state` gets h_T
in three ways: from a packed batch (``pack_padded_sequence``), by reading the padded run's
output at each row's last true step (the mask), or, wrongly, from the padded run's last
column, which has read the padding. :class:`BagOfWords` averages the embeddings of a review's
words and classifies the mean with a small MLP: it sees which words occur and how often,
never their order. Both return one logit per review (label 1 = positive).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnbook._checks import check_int, check_option

MODES = ("packed", "masked", "unmasked")


def _check_batch(tokens, lengths, V):
    if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.int64 or tokens.dim() != 2:
        raise ValueError(f"tokens must be a (B, T) int64 tensor, got {tokens!r:.80}")
    B, T = tokens.shape
    if (
        not isinstance(lengths, torch.Tensor)
        or lengths.dtype != torch.int64
        or lengths.shape != (B,)
    ):
        raise ValueError(
            f"lengths must be an int64 tensor of shape (B,) = ({B},), got {lengths!r:.80}"
        )
    if (lengths < 1).any() or (lengths > T).any():
        raise ValueError(f"lengths must lie in [1, T] = [1, {T}], got {lengths.tolist()}")
    if tokens.min() < 0 or tokens.max() >= V:
        raise ValueError(f"tokens must lie in [0, V) = [0, {V})")
    if lengths.device != tokens.device:
        raise ValueError(
            f"lengths must be on the device of tokens ({tokens.device}), got {lengths.device}"
        )
    # the mask is built on the input's device: a CPU arange against GPU lengths would fail
    return torch.arange(T, device=tokens.device)[None, :] < lengths[:, None]  # (B, T)


class SequenceClassifier(nn.Module):
    """Embedding (index 0 = padding), an LSTM, a linear classifier of the last state.

    Args:
        vocab_size: V. embed: embedding size. hidden: H.
    """

    def __init__(self, vocab_size: int, embed: int = 16, hidden: int = 32):
        super().__init__()
        self.V = check_int("vocab_size", vocab_size, minimum=2)
        self.embedding = nn.Embedding(self.V, check_int("embed", embed), padding_idx=0)
        self.lstm = nn.LSTM(embed, check_int("hidden", hidden), batch_first=True)
        self.g = nn.Linear(hidden, 1)

    def final_state(self, tokens, lengths, mode: str = "packed"):
        """h_T of each row (B, H) from tokens (B, T) and lengths (B,); mode in ``MODES``."""
        _check_batch(tokens, lengths, self.V)
        check_option("mode", mode, MODES)
        x = self.embedding(tokens)  # (B, T, E)
        if mode == "packed":
            packed = pack_padded_sequence(  # torch wants the lengths on the CPU here
                x, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            _, (h_n, _) = self.lstm(packed)  # h_n: (1, B, H), each row after its own last step
            return h_n[0]
        out, (h_n, _) = self.lstm(x)  # out: (B, T, H), every column, padding included
        if mode == "masked":
            rows = torch.arange(len(lengths), device=out.device)
            return out[rows, lengths - 1]  # (B, H) at t = length
        return h_n[0]  # (B, H) after the padding too: wrong for every row shorter than T

    def forward(self, tokens, lengths, mode: str = "packed"):
        """One logit per row (B,): (6.7) g(h_T)."""
        return self.g(self.final_state(tokens, lengths, mode))[:, 0]

    def prefix_logits(self, tokens, lengths):
        """The logit g(h_t) after every prefix, (B, T); NaN beyond each row's length."""
        mask = _check_batch(tokens, lengths, self.V)
        out, _ = self.lstm(self.embedding(tokens))  # (B, T, H)
        return self.g(out)[:, :, 0].masked_fill(~mask, float("nan"))


class BagOfWords(nn.Module):
    """The mean embedding of a review's true words, classified by a one-hidden-layer MLP."""

    def __init__(self, vocab_size: int, embed: int = 16, hidden: int = 32):
        super().__init__()
        self.V = check_int("vocab_size", vocab_size, minimum=2)
        self.embedding = nn.Embedding(self.V, check_int("embed", embed), padding_idx=0)
        self.mlp = nn.Sequential(
            nn.Linear(embed, check_int("hidden", hidden)), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def forward(self, tokens, lengths):
        """One logit per row (B,) from tokens (B, T) and lengths (B,)."""
        mask = _check_batch(tokens, lengths, self.V).to(self.embedding.weight.dtype)  # (B, T)
        x = self.embedding(tokens) * mask[:, :, None]  # (B, T, E), zero on the padding
        mean = x.sum(1) / lengths[:, None].to(x.dtype)  # (B, E)
        return self.mlp(mean)[:, 0]


def encode(texts, vocab):
    """Space-separated texts -> (tokens (N, L) int64 padded with 0, lengths (N,) int64).

    ``vocab`` maps each word to an index >= 1; an unknown word raises ValueError.
    """
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
        raise ValueError(f"texts must be a non-empty list of strings, got {texts!r:.60}")
    rows = []
    for i, s in enumerate(texts):
        words = s.split() if isinstance(s, str) else s
        unknown = [w for w in words if w not in vocab]
        if unknown or not words:
            raise ValueError(f"texts[{i}] is empty or has words not in vocab: {unknown}")
        rows.append([vocab[w] for w in words])
    L = max(len(r) for r in rows)
    tokens = torch.zeros(len(rows), L, dtype=torch.int64)
    for i, r in enumerate(rows):
        tokens[i, : len(r)] = torch.tensor(r)
    return tokens, torch.tensor([len(r) for r in rows], dtype=torch.int64)
