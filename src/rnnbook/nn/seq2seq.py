"""An encoder-decoder (编码器-解码器) for translation, with and without attention.

The encoder reads the source x_1..x_S with a GRU (one or two directions) and gives the states
h_1..h_S, each of size He (H, or 2H when bidirectional). The decoder is a GRU cell with state
s_t of size H, started from s_0 = tanh(W_s c + b_s), where c is the encoder's final state
(both directions' final states, joined, when bidirectional). At step t it computes a context
c_t and

    (S2S.1)  s_t = GRU([e(y_{t-1}); c_t], s_{t-1})
    (S2S.2)  p(y_t | y_<t, x) = softmax(W_o [s_t; c_t] + b_o)

With ``attention="none"`` c_t = c at every step: the fixed context vector (上下文向量) of
Cho et al. (2014), where the decoder's update is h'_t = g(h'_{t-1}, y_{t-1}, c). With
attention (注意力机制) c_t is a weighted mean of the encoder's states,

    (S2S.3)  alpha_tj = softmax_j(e_tj),   c_t = sum_j alpha_tj h_j

with one of two scores of the previous decoder state and each encoder state:

    (S2S.4)  additive (Bahdanau et al. 2015):        e_tj = v^T tanh(W_a s_{t-1} + U_a h_j)
    (S2S.5)  multiplicative (Luong et al. 2015):     e_tj = s_{t-1}^T W_a h_j

Luong et al. score the *current* state s_t and combine c_t with it in an attentional vector
tanh(W_c [c_t; s_t]) for the output (and, with input feeding, the next input); here both scores
sit in the same place, so that the two attention models differ in the score and nothing else.
Padding positions of the source get alpha = 0.

Token ids: 0 is padding, 1 begins and 2 ends a target sequence (``PAD``, ``BOS``, ``EOS``).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbook._checks import check_int, check_option

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")
ATTENTIONS = ("none", "additive", "multiplicative")


def build_vocab(sequences) -> list:
    """The specials, then every token of ``sequences`` (lists of str) in sorted order."""
    if not isinstance(sequences, (list, tuple)) or not sequences:
        raise ValueError(f"sequences must be a non-empty list of token lists, got {sequences!r}")
    tokens = set()
    for s in sequences:
        if not isinstance(s, (list, tuple)) or not all(isinstance(t, str) for t in s):
            raise ValueError(f"each sequence must be a list of str tokens, got {s!r}")
        tokens.update(s)
    return list(SPECIALS) + sorted(tokens - set(SPECIALS))


def encode(sequences, vocab, *, add_eos=False):
    """Token lists -> a padded id tensor (B, T) int64 and the lengths (B,) int64.

    Raises:
        ValueError: for an empty list or sequence, or a token not in ``vocab``.
    """
    if not isinstance(sequences, (list, tuple)) or not sequences:
        raise ValueError(f"sequences must be a non-empty list of token lists, got {sequences!r}")
    index = {t: i for i, t in enumerate(vocab)}
    rows = []
    for s in sequences:
        if not isinstance(s, (list, tuple)) or not s:
            raise ValueError(f"each sequence must be a non-empty list of tokens, got {s!r}")
        missing = [t for t in s if t not in index]
        if missing:
            raise ValueError(f"tokens not in the vocabulary: {missing[:5]}")
        rows.append([index[t] for t in s] + ([EOS] if add_eos else []))
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.int64)
    ids = torch.full((len(rows), int(lengths.max())), PAD, dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return ids, lengths


def decode_ids(ids, vocab) -> list:
    """Ids -> tokens, stopping at the first EOS and leaving out PAD and BOS."""
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        if i not in (PAD, BOS):
            out.append(vocab[i])
    return out


def _check_ids(name, ids, vocab_size):
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.int64 or ids.dim() != 2:
        got = f"{ids.dtype} {tuple(ids.shape)}" if isinstance(ids, torch.Tensor) else type(ids)
        raise ValueError(f"{name} must be an int64 tensor (B, T), got {got}")
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"{name} must hold ids in [0, {vocab_size}), got {ids.min()}..{ids.max()}")


class Seq2Seq(nn.Module):
    """Encoder-decoder with a fixed context or with attention; see the module docstring.

    Args:
        source_vocab, target_vocab: vocabulary sizes (>= 4, the three specials included).
        hidden: H, the size of each encoder direction's state and of the decoder's state.
        embed: the size of the token embeddings.
        attention: ``"none"`` (fixed context), ``"additive"`` or ``"multiplicative"``.
        bidirectional: a bidirectional encoder (He = 2H) or a one-way one (He = H).
    """

    def __init__(
        self,
        source_vocab,
        target_vocab,
        *,
        hidden=64,
        embed=32,
        attention="none",
        bidirectional=True,
    ):
        super().__init__()
        check_int("source_vocab", source_vocab, minimum=4)
        check_int("target_vocab", target_vocab, minimum=4)
        H, E = check_int("hidden", hidden), check_int("embed", embed)
        check_option("attention", attention, ATTENTIONS)
        if not isinstance(bidirectional, bool):
            raise ValueError(f"bidirectional must be True or False, got {bidirectional!r}")
        self.attention, self.bidirectional = attention, bidirectional
        He = H * (2 if bidirectional else 1)
        self.H, self.He, self.V = H, He, target_vocab
        self.source_embedding = nn.Embedding(source_vocab, E, padding_idx=PAD)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=bidirectional)
        self.W_s = nn.Linear(He, H)
        self.target_embedding = nn.Embedding(target_vocab, E, padding_idx=PAD)
        self.decoder = nn.GRUCell(E + He, H)
        if attention == "additive":
            self.W_a = nn.Linear(H, H, bias=False)
            self.U_a = nn.Linear(He, H, bias=False)
            self.v = nn.Linear(H, 1, bias=False)
        elif attention == "multiplicative":
            self.W_a = nn.Linear(He, H, bias=False)
        self.W_o = nn.Linear(H + He, target_vocab)

    def encode(self, x, lengths):
        """Run the encoder on x (B, S) int64 with true lengths (B,); return its memory, a dict:
        "h" (B, S, He) the states, "mask" (B, S) True on real tokens, "c" (B, He) the final
        state, "s" (B, H) the decoder's first state s_0."""
        _check_ids("x", x, self.source_embedding.num_embeddings)
        if (
            not isinstance(lengths, torch.Tensor)
            or lengths.shape != (x.shape[0],)
            or lengths.dtype != torch.int64
        ):
            raise ValueError(f"lengths must be an int64 tensor ({x.shape[0]},), got {lengths!r}")
        if lengths.min() < 1 or lengths.max() > x.shape[1]:
            raise ValueError(f"lengths must lie in 1..{x.shape[1]}, got {lengths.tolist()}")
        packed = pack_padded_sequence(
            self.source_embedding(x), lengths, batch_first=True, enforce_sorted=False
        )
        out, h_n = self.encoder(packed)  # h_n (directions, B, H): each direction's final state
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])  # (B, S, He)
        c = torch.cat(list(h_n), dim=-1)  # (B, He)
        mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]  # (B, S)
        memory = {"h": h, "mask": mask, "c": c, "s": torch.tanh(self.W_s(c))}  # s_0 (B, H)
        if self.attention == "additive":
            memory["Uh"] = self.U_a(h)  # (B, S, H): U_a h_j, computed once
        elif self.attention == "multiplicative":
            memory["Wh"] = self.W_a(h)  # (B, S, H): W_a h_j, computed once
        return memory

    def context(self, s_prev, memory):
        """The context c_t (B, He) and the weights alpha_t (B, S) (None without attention)."""
        if self.attention == "none":
            return memory["c"], None
        if self.attention == "additive":
            # (S2S.4)  e_tj = v^T tanh(W_a s_{t-1} + U_a h_j)
            e = self.v(torch.tanh(self.W_a(s_prev)[:, None, :] + memory["Uh"]))[..., 0]  # (B, S)
        else:
            # (S2S.5)  e_tj = s_{t-1}^T W_a h_j
            e = torch.einsum("bh,bsh->bs", s_prev, memory["Wh"])  # (B, S)
        e = e.masked_fill(~memory["mask"], float("-inf"))
        # (S2S.3)  alpha_tj = softmax_j(e_tj),  c_t = sum_j alpha_tj h_j
        alpha = torch.softmax(e, dim=-1)  # (B, S)
        return torch.einsum("bs,bsh->bh", alpha, memory["h"]), alpha  # (B, He), (B, S)

    def step(self, y_prev, s_prev, memory):
        """One decoder step: y_prev (B,) int64, s_prev (B, H) -> logits (B, V), s_t (B, H),
        alpha_t (B, S) or None."""
        c_t, alpha = self.context(s_prev, memory)  # (B, He)
        # (S2S.1)  s_t = GRU([e(y_{t-1}); c_t], s_{t-1})
        s = self.decoder(torch.cat([self.target_embedding(y_prev), c_t], dim=-1), s_prev)  # (B, H)
        # (S2S.2)  logits of p(y_t | y_<t, x)
        return self.W_o(torch.cat([s, c_t], dim=-1)), s, alpha  # (B, V)

    def forward(self, x, lengths, y, *, teacher_forcing=1.0, generator=None):
        """Logits (B, T', V) for the targets y (B, T') (each ending in EOS, padded with PAD).

        The decoder's input at step t is y_{t-1} (BOS at t = 1) with probability
        ``teacher_forcing`` (teacher forcing, 教师强制, at 1.0), else the model's own most
        likely token at t-1 (free running at 0.0), drawn per token with ``generator``.
        """
        _check_ids("y", y, self.V)
        if isinstance(teacher_forcing, bool) or not isinstance(teacher_forcing, (int, float)):
            raise ValueError(f"teacher_forcing must be a number in [0, 1], got {teacher_forcing!r}")
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
        memory = self.encode(x, lengths)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y must have {x.shape[0]} rows like x, got {y.shape[0]}")
        s, y_prev, logits = memory["s"], torch.full((y.shape[0],), BOS, dtype=torch.int64), []
        for t in range(y.shape[1]):
            out, s, _ = self.step(y_prev, s, memory)  # (B, V), (B, H)
            logits.append(out)
            y_prev = y[:, t]
            if teacher_forcing < 1.0:
                own = out.argmax(dim=-1).detach()  # (B,)
                keep = torch.rand(y.shape[0], generator=generator) < teacher_forcing
                y_prev = torch.where(keep, y_prev, own)
        return torch.stack(logits, dim=1)  # (B, T', V)


def loss(model, x, lengths, y, **options):
    """Mean cross-entropy per target token (PAD left out) of ``model(x, lengths, y)``."""
    logits = model(x, lengths, y, **options)  # (B, T', V)
    return nn.functional.cross_entropy(logits.transpose(1, 2), y, ignore_index=PAD)


@torch.no_grad()
def greedy_decode(model, x, lengths, *, max_len):
    """Greedy decoding (贪心解码) of a batch: ids (B, max_len) and the attention weights
    (B, max_len, S) (zeros without attention). Rows stop growing after EOS (padded with PAD)."""
    max_len = check_int("max_len", max_len)
    memory = model.encode(x, lengths)
    B, S = x.shape
    s, y_prev = memory["s"], torch.full((B,), BOS, dtype=torch.int64)
    done = torch.zeros(B, dtype=torch.bool)
    ids = torch.full((B, max_len), PAD, dtype=torch.int64)
    alphas = torch.zeros(B, max_len, S)
    for t in range(max_len):
        logits, s, alpha = model.step(y_prev, s, memory)
        y_prev = logits.argmax(dim=-1)  # (B,)
        ids[:, t] = torch.where(done, PAD, y_prev)
        if alpha is not None:
            alphas[:, t] = alpha
        done |= y_prev == EOS
        if bool(done.all()):
            break
    return ids, alphas


def step_function(model, x, lengths):
    """A step function and first state for ``rnnbook.decode`` on ONE source sentence:
    ``step(last (K,) ints, state) -> (log-probabilities (K, V), state)``, the state a dict of
    tensors with K rows (the decoder state and the K copies of the encoder's memory)."""
    if x.shape[0] != 1:
        raise ValueError(f"step_function decodes one sentence: x must be (1, S), got {x.shape}")
    memory = model.encode(x, lengths)

    def step(last, state):
        K = len(last)
        mem = {k: v.expand(K, *v.shape[1:]) for k, v in memory.items() if k != "s"}
        with torch.no_grad():
            logits, s, _ = model.step(torch.as_tensor(last, dtype=torch.int64), state["s"], mem)
        return torch.log_softmax(logits, dim=-1).numpy().astype("float64"), {"s": s}

    return step, {"s": memory["s"].detach()}


def tokenize(text, unit):
    """``unit="word"``: split at spaces and hyphens ("twenty-six" -> twenty, six);
    ``unit="char"``: every character a token."""
    check_option("unit", unit, ("word", "char"))
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty str, got {text!r}")
    return text.replace("-", " ").split() if unit == "word" else list(text)


def train(
    model, x, lengths, y, *, steps, rng, batch=64, lr=3e-3, teacher_forcing=1.0, progress=True
):
    """Adam on mini-batches drawn with ``rng`` from (x (N, S), lengths (N,), y (N, T')),
    gradient norm clipped to 1. Returns the loss of every step (a list of floats)."""
    from rnnbook.train import progress_range

    steps, batch = check_int("steps", steps), check_int("batch", batch)
    if len(x) != len(y) or len(x) != len(lengths):
        raise ValueError(
            f"x, lengths, y must have the same rows, got {len(x)}, {len(lengths)}, {len(y)}"
        )
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    y_len = (y != PAD).sum(dim=1)  # (N,)
    history = []
    for _ in progress_range(steps, desc=f"seq2seq ({model.attention})", enabled=progress):
        idx = torch.as_tensor(rng.integers(0, len(x), batch))
        S, T = int(lengths[idx].max()), int(y_len[idx].max())
        value = loss(
            model,
            x[idx, :S],
            lengths[idx],
            y[idx, :T],
            teacher_forcing=teacher_forcing,
            generator=generator,
        )
        optimiser.zero_grad()
        value.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        history.append(float(value.detach()))
    return history


def translate(model, x, lengths, vocab, *, max_len, joiner=""):
    """Greedy translations of a batch, as strings (tokens joined by ``joiner``)."""
    ids, _ = greedy_decode(model, x, lengths, max_len=max_len)
    return [joiner.join(decode_ids(row, vocab)) for row in ids]
