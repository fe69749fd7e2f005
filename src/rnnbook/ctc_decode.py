"""Decoding the output of a CTC network: best path, prefix beam search, exhaustive search.

The network gives log-probabilities (T, K) for every frame; the blank is symbol ``blank``.
The labelling wanted is the most probable one, l* = argmax_l p(l | x), where p(l | x) sums
over all paths pi with B(pi) = l (B merges repeats, then drops blanks; see
:mod:`rnnbook.scratch.ctc`). Three decoders:

- :func:`greedy` (best path): the most probable symbol at every frame, then B. It finds the
  most probable *path*, which need not collapse to the most probable *labelling*.
- :func:`prefix_beam_search`: keeps the ``width`` most probable prefixes, each with two
  probabilities (its paths so far ending in a blank, and ending in its last label), the
  search of Hannun et al. (2014, arXiv:1408.2873), here without a language model. With a
  width no smaller than the number of prefixes it prunes nothing and is exact; with a finite
  width it may miss the most probable labelling, and the log p it returns is a lower bound
  on log p(l | x), since the paths that passed through a pruned prefix are lost. (It is not
  the *prefix search decoding* of Graves et al. (2006), a best-first search over prefixes
  run on the sections between frames where the blank is nearly certain.)
- :func:`exhaustive_labelling`: sums all K^T paths per labelling; for checks on small cases.

:mod:`rnnbook.decode` decodes a step function (a decoder that feeds back its own output);
CTC's frames are all given at once, so its search is over prefixes, not over next-token
calls, and nothing of that module fits here.
"""

import itertools

import numpy as np

from rnnbook._checks import check_array, check_int
from rnnbook.scratch.ctc import collapse


def _check(log_probs, blank):
    check_array(log_probs, "log_probs", shape=(None, None), dims="(T, K)")
    K = log_probs.shape[1]
    blank = check_int("blank", blank, minimum=0)
    if blank >= K:
        raise ValueError(f"blank must be in [0, K) = [0, {K}), got {blank}")
    return np.asarray(log_probs, dtype=np.float64), blank


def greedy(log_probs, blank=0):
    """Best-path decoding: argmax at every frame, merge repeats, drop blanks; a tuple of ints."""
    log_probs, blank = _check(log_probs, blank)
    return collapse(np.argmax(log_probs, axis=1), blank)


def prefix_beam_search(log_probs, width, blank=0):
    """Prefix beam search; returns ``(labelling, log p)`` of the best prefix kept at the end.

    ``log p`` sums only the paths whose prefixes were kept at every frame: it equals
    log p(labelling | x) when nothing was pruned, and is at most that otherwise.

    Each prefix l carries log p_b(l) and log p_nb(l): the probability of the paths of frames
    1..t that collapse to l and end in a blank, or in l's last label. Per frame t, with y = y_t:

        p_b(l)     += (p_b(l) + p_nb(l)) y[blank]        a blank keeps l
        p_nb(l)    += p_nb(l) y[l_last]                   repeating the last label keeps l
        p_nb(l + c) += p_b(l) y[c]        if c == l_last  (a blank separated the repeat)
        p_nb(l + c) += (p_b(l) + p_nb(l)) y[c]   otherwise

    and the ``width`` prefixes with the largest p_b + p_nb are kept.
    """
    log_probs, blank = _check(log_probs, blank)
    width = check_int("width", width)
    T, K = log_probs.shape
    add = np.logaddexp
    beams = {(): (0.0, -np.inf)}  # prefix -> (log p_b, log p_nb)
    for t in range(T):
        y = log_probs[t]
        nxt = {}

        def push(prefix, b, nb, nxt=nxt):
            ob, onb = nxt.get(prefix, (-np.inf, -np.inf))
            nxt[prefix] = (add(ob, b), add(onb, nb))

        for prefix, (p_b, p_nb) in beams.items():
            p = add(p_b, p_nb)
            push(prefix, p + y[blank], -np.inf)
            last = prefix[-1] if prefix else None
            for c in range(K):
                if c == blank:
                    continue
                if c == last:
                    push(prefix, -np.inf, p_nb + y[c])
                    push(prefix + (c,), -np.inf, p_b + y[c])
                else:
                    push(prefix + (c,), -np.inf, p + y[c])
        ranked = sorted(nxt.items(), key=lambda kv: -add(*kv[1]))
        beams = dict(ranked[:width])
    best, (p_b, p_nb) = max(beams.items(), key=lambda kv: add(*kv[1]))
    return best, float(add(p_b, p_nb))


def labelling_log_probs(log_probs, blank=0):
    """log p(l | x) of every labelling l with p > 0, by enumerating all K^T paths (small cases)."""
    log_probs, blank = _check(log_probs, blank)
    T, K = log_probs.shape
    if K**T > 2_000_000:
        raise ValueError(f"K^T = {K}^{T} paths are too many to enumerate (at most 2,000,000)")
    totals = {}
    for path in itertools.product(range(K), repeat=T):
        lp = float(log_probs[np.arange(T), path].sum())
        label = collapse(path, blank)
        totals[label] = np.logaddexp(totals.get(label, -np.inf), lp)
    return totals


def exhaustive_labelling(log_probs, blank=0):
    """The most probable labelling and its log p, from :func:`labelling_log_probs`."""
    totals = labelling_log_probs(log_probs, blank)
    best = max(totals, key=totals.get)
    return best, float(totals[best])
