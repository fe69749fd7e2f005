"""Decoding a sequence from a model that gives next-token log-probabilities.

Every function here is generic over a *step function*

    step(last, state) -> (log_probs, new_state)

where ``last`` holds the K previous tokens (an int array (K,)), ``log_probs`` is a float
array (K, V) of log p(y_t = v | prefix) for each of the K prefixes, and ``state`` is whatever
the model carries (an array, a tensor, or a dict / tuple / list of them), with K rows along the
first axis. The search only selects rows of it.

The score of a finished sequence y = (y_1, ..., y_L) (EOS included when it ends in EOS) is

    (DEC.1)  score(y) = log p(y | x) / L^alpha,   log p(y | x) = sum_t log p(y_t | y_<t, x)

alpha = 0 is the plain log-probability, which favours short outputs (every token adds a
negative term); alpha = 1 is the mean log-probability per token (length normalisation,
长度归一化). A sequence ends at EOS or after ``max_len`` tokens.
"""

import numpy as np

from rnnbook._checks import check_int


def _select(state, idx):
    """The rows ``idx`` of every array in ``state`` (a nested dict / tuple / list of arrays)."""
    if isinstance(state, dict):
        return {k: _select(v, idx) for k, v in state.items()}
    if isinstance(state, (tuple, list)):
        return type(state)(_select(v, idx) for v in state)
    if state is None:
        return None
    return state[idx]


def _check_args(step, bos, eos, max_len, alpha):
    if not callable(step):
        raise ValueError(f"step must be callable, got {type(step).__name__}")
    check_int("bos", bos, minimum=0)
    check_int("eos", eos, minimum=0)
    check_int("max_len", max_len)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")


def _call(step, last, state):
    log_probs, new_state = step(np.asarray(last, dtype=np.int64), state)
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[0] != len(last):
        raise ValueError(
            f"step must return log-probabilities of shape ({len(last)}, V), got {log_probs.shape}"
        )
    if np.isnan(log_probs).any() or (log_probs > 1e-9).any():
        raise ValueError("step must return log-probabilities (<= 0, no NaN)")
    return log_probs, new_state


def normalised(log_p, length, alpha):
    """(DEC.1): the score of a finished sequence of ``length`` tokens."""
    return log_p / length**alpha


def greedy(step, state, *, bos, eos, max_len, alpha=0.0):
    """The most likely token at every step: (tokens, score), tokens without BOS, EOS kept."""
    _check_args(step, bos, eos, max_len, alpha)
    tokens, log_p, last = [], 0.0, [bos]
    for _ in range(max_len):
        log_probs, state = _call(step, last, state)
        v = int(np.argmax(log_probs[0]))
        tokens.append(v)
        log_p += float(log_probs[0, v])
        if v == eos:
            break
        last = [v]
    return tokens, normalised(log_p, len(tokens), alpha)


def beam_search(step, state, *, bos, eos, width, max_len, alpha=0.0):
    """Beam search (束搜索): keep the ``width`` most likely unfinished prefixes at every step.

    Each step extends every kept prefix by every token and keeps the ``width`` extensions with
    the highest log-probability; an extension that ends in EOS leaves the beam and joins the
    finished sequences, so after a step in which j of the ``width`` best end in EOS only
    ``width - j`` prefixes go on (the next step picks ``width`` again from their extensions).
    There is no early stop: the search runs until no prefix is left or for ``max_len`` steps,
    after which the prefixes still in the beam are finished too. The answer is the finished
    sequence with the highest score (DEC.1); with width 1 this is greedy decoding.

    Returns:
        (tokens, score): the tokens (a list of ints, BOS left out, EOS kept) and (DEC.1).
    """
    _check_args(step, bos, eos, max_len, alpha)
    width = check_int("width", width)
    beams = [((), 0.0)]  # (tokens, log p) of the unfinished prefixes
    last, finished = [bos], []
    for t in range(max_len):
        log_probs, state = _call(step, last, state)  # (K, V)
        # (DEC.1)  log p(prefix + v) = log p(prefix) + log p(v | prefix)
        total = np.array([lp for _, lp in beams])[:, None] + log_probs  # (K, V)
        order = np.argsort(-total, axis=None, kind="stable")[:width]
        rows, cols = np.unravel_index(order, total.shape)
        kept_rows, new_beams = [], []
        for r, v in zip(rows.tolist(), cols.tolist(), strict=True):
            tokens = beams[r][0] + (v,)
            if v == eos or t == max_len - 1:
                finished.append((tokens, float(total[r, v])))
            else:
                kept_rows.append(r)
                new_beams.append((tokens, float(total[r, v])))
        if not new_beams:
            break
        beams, last = new_beams, [tok[-1] for tok, _ in new_beams]
        state = _select(state, np.array(kept_rows))
    best = max(finished, key=lambda f: normalised(f[1], len(f[0]), alpha))
    return list(best[0]), normalised(best[1], len(best[0]), alpha)


def exhaustive_search(step, state, *, bos, eos, vocab_size, max_len, alpha=0.0):
    """The best sequence of all, by enumeration: the reference that beam search is tested on.

    Scores every sequence that ends in EOS within ``max_len`` tokens, and every sequence of
    ``max_len`` tokens without EOS, by (DEC.1). Costs about vocab_size ** max_len calls: for
    tiny vocabularies only.
    """
    _check_args(step, bos, eos, max_len, alpha)
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    if vocab_size**max_len > 200_000:
        raise ValueError(
            f"vocab_size ** max_len must be at most 200000, got {vocab_size}**{max_len}"
        )
    best = [None, -np.inf]

    def visit(prefix, log_p, state, last):
        # every continuation of ``prefix``: one step call per prefix, a depth-first walk
        log_probs, state = _call(step, [last], state)
        for v in range(vocab_size):
            tokens, total = prefix + [v], log_p + float(log_probs[0, v])
            if v == eos or len(tokens) == max_len:
                score = normalised(total, len(tokens), alpha)
                if score > best[1]:
                    best[:] = [tokens, score]
            else:
                visit(tokens, total, state, v)

    visit([], 0.0, state, bos)
    return best[0], best[1]
