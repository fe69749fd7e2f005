"""A linear-chain CRF layer in PyTorch, and the BiLSTM tagger it sits on.

:class:`CRF` computes, for a padded batch, what ``rnnbook.scratch.crf`` computes for one
sequence: the path score (10.5.1), log Z by the forward algorithm (10.5.2), Viterbi decoding
(10.5.3). Its gradient is autograd's. :class:`BiLSTMTagger` is a bidirectional LSTM whose
states give emission scores through a linear map; with ``crf=True`` it is the BiLSTM-CRF of
Huang, Xu and Yu (2015), trained by the CRF's negative log-likelihood, otherwise a per-token
softmax trained by cross-entropy. Batches are ``batch_first``: tokens (B, T), a mask (B, T)
whose true steps come first, emissions (B, T, K).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbook._checks import check_int
from rnnbook.nn._checks import check_tensor


def _check_mask(mask, B, T):
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.shape != (B, T):
        raise ValueError(
            f"mask must be a bool tensor of shape (B, T) = ({B}, {T}), got {mask!r:.80}"
        )
    lengths = mask.sum(1)
    if (lengths < 1).any() or not torch.equal(mask, _prefix_mask(lengths, T)):
        raise ValueError("mask must mark the first length >= 1 steps of each row, and only those")
    return lengths


def _prefix_mask(lengths, T):
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]  # (B, T)


class CRF(nn.Module):
    """Transition scores ``A`` (K, K), ``start`` and ``end`` (K,) of a linear-chain CRF."""

    def __init__(self, num_tags: int):
        super().__init__()
        self.K = check_int("num_tags", num_tags)
        self.A = nn.Parameter(torch.zeros(self.K, self.K))
        self.start = nn.Parameter(torch.zeros(self.K))
        self.end = nn.Parameter(torch.zeros(self.K))

    def _check(self, emissions, mask):
        check_tensor(
            emissions, "emissions", shape=(None, None, self.K), dims="(B, T, K)", like=self.A
        )
        B, T, _ = emissions.shape
        return _check_mask(mask, B, T)

    def score(self, emissions, tags, mask):
        """s(y) of each row: emissions (B, T, K), tags (B, T) int64, mask (B, T) -> (B,)."""
        lengths = self._check(emissions, mask)
        if (
            not isinstance(tags, torch.Tensor)
            or tags.dtype != torch.int64
            or tags.shape != mask.shape
        ):
            raise ValueError(
                f"tags must be an int64 tensor of shape {tuple(mask.shape)}, got {tags!r:.80}"
            )
        tags = tags.masked_fill(~mask, 0)
        if tags.min() < 0 or tags.max() >= self.K:
            raise ValueError(f"tags must lie in [0, {self.K})")
        m = mask.to(emissions.dtype)  # (B, T)
        e = emissions.gather(2, tags[:, :, None])[:, :, 0]  # (B, T)
        # (10.5.1)  start + emissions + transitions (where both steps are true) + end
        s = self.start[tags[:, 0]] + (e * m).sum(1)
        s = s + (self.A[tags[:, :-1], tags[:, 1:]] * m[:, 1:]).sum(1)
        last = tags.gather(1, (lengths - 1)[:, None])[:, 0]  # (B,)
        return s + self.end[last]

    def log_partition(self, emissions, mask):
        """log Z of each row by the forward algorithm: (B, T, K), (B, T) -> (B,)."""
        self._check(emissions, mask)
        # (10.5.2)  alpha_1 = start + E_1
        alpha = self.start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            # alpha_t[j] = E_t[j] + logsumexp_i(alpha_{t-1}[i] + A[i, j]); held on padding
            nxt = emissions[:, t] + torch.logsumexp(alpha[:, :, None] + self.A, dim=1)  # (B, K)
            alpha = torch.where(mask[:, t, None], nxt, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def nll(self, emissions, tags, mask):
        """The mean over the batch of -log p(y) = log Z - s(y)."""
        return (self.log_partition(emissions, mask) - self.score(emissions, tags, mask)).mean()

    @torch.no_grad()
    def decode(self, emissions, mask):
        """Viterbi paths: a list of B lists of tag indices, each as long as its row."""
        lengths = self._check(emissions, mask)
        B, T, K = emissions.shape
        # (10.5.3)  delta_t[j] = E_t[j] + max_i(delta_{t-1}[i] + A[i, j])
        delta = self.start + emissions[:, 0]  # (B, K)
        back = []
        for t in range(1, T):
            best, arg = (delta[:, :, None] + self.A).max(dim=1)  # (B, K), (B, K)
            back.append(arg)
            delta = torch.where(mask[:, t, None], emissions[:, t] + best, delta)
        delta = delta + self.end
        paths = []
        for b in range(B):
            y = [int(delta[b].argmax())]
            for t in range(int(lengths[b]) - 1, 0, -1):
                y.append(int(back[t - 1][b, y[-1]]))
            paths.append(y[::-1])
        return paths


class BiLSTMTagger(nn.Module):
    """Embedding, bidirectional LSTM, linear emissions; a CRF on top when ``crf=True``.

    Args:
        vocab_size: V, with index 0 the padding.
        num_tags: K.
        embed: embedding size.
        hidden: H, the size of each direction's state.
        crf: a CRF layer (True) or a per-token softmax (False).
    """

    def __init__(self, vocab_size, num_tags, embed=16, hidden=32, crf=True):
        super().__init__()
        self.V = check_int("vocab_size", vocab_size, minimum=2)
        self.K = check_int("num_tags", num_tags)
        if not isinstance(crf, bool):
            raise ValueError(f"crf must be True or False, got {crf!r}")
        self.embedding = nn.Embedding(self.V, check_int("embed", embed), padding_idx=0)
        self.lstm = nn.LSTM(
            embed, check_int("hidden", hidden), batch_first=True, bidirectional=True
        )
        self.out = nn.Linear(2 * hidden, self.K)
        self.crf = CRF(self.K) if crf else None

    def emissions(self, tokens, mask):
        """tokens (B, T) int64, mask (B, T) bool -> emission scores (B, T, K)."""
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.int64 or tokens.dim() != 2:
            raise ValueError(f"tokens must be a (B, T) int64 tensor, got {tokens!r:.80}")
        B, T = tokens.shape
        lengths = _check_mask(mask, B, T)
        if tokens.min() < 0 or tokens.max() >= self.V:
            raise ValueError(f"tokens must lie in [0, {self.V})")
        x = self.embedding(tokens)  # (B, T, E)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=T)
        return self.out(h)  # (B, T, K)

    def loss(self, tokens, mask, tags):
        """The CRF's mean -log p(y), or the mean cross-entropy over the true steps."""
        em = self.emissions(tokens, mask)
        if self.crf is not None:
            return self.crf.nll(em, tags, mask)
        return nn.functional.cross_entropy(em[mask], tags[mask])

    @torch.no_grad()
    def predict(self, tokens, mask):
        """Tag indices of each row: Viterbi (CRF) or the per-token argmax (softmax)."""
        em = self.emissions(tokens, mask)
        if self.crf is not None:
            return self.crf.decode(em, mask)
        arg = em.argmax(-1)
        return [arg[b, : int(n)].tolist() for b, n in enumerate(mask.sum(1))]
