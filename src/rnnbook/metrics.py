"""Scores of predicted sequences against references: BLEU, edit distance, error rates.

BLEU is computed by ``sacrebleu`` (the reference implementation, Post 2018), never by hand:
hand-written BLEU differs from one paper to the next in tokenisation, smoothing and the
brevity penalty. The edit distance is the Levenshtein distance, written out here because
the book teaches it (chapter 10, sequence recognition).
"""

from collections.abc import Sequence

import numpy as np

BLEU_TOKENIZERS = ("13a", "char", "zh", "none")


def _check_strings(name, values):
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a list of strings, got {type(values).__name__}")
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise ValueError(f"{name}[{i}] must be a str, got {type(v).__name__}")


def corpus_bleu(hypotheses, references, *, tokenize="13a"):
    """Corpus BLEU (0-100) of ``hypotheses`` against one reference each, by sacrebleu.

    Args:
        hypotheses: list of N predicted strings.
        references: list of N reference strings, in the same order.
        tokenize: sacrebleu's tokenizer: ``"13a"`` (words, the WMT default), ``"char"``
            (every character a token), ``"zh"`` (Chinese characters split, other text as
            13a) or ``"none"`` (split on spaces only).

    Returns:
        sacrebleu's corpus score, a float in [0, 100].
    """
    _check_strings("hypotheses", hypotheses)
    _check_strings("references", references)
    if len(hypotheses) != len(references):
        raise ValueError(
            f"hypotheses and references must have the same length, got "
            f"{len(hypotheses)} and {len(references)}"
        )
    if not hypotheses:
        raise ValueError("hypotheses must not be empty")
    if tokenize not in BLEU_TOKENIZERS:
        raise ValueError(f"tokenize must be one of {BLEU_TOKENIZERS}, got {tokenize!r}")
    return float(_bleu(tokenize).corpus_score(list(hypotheses), [list(references)]).score)


def _bleu(tokenize):
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenize)


def bleu_signature(tokenize="13a") -> str:
    """sacrebleu's signature of the BLEU that :func:`corpus_bleu` computes: the number of
    references, case, tokenizer, smoothing and sacrebleu's version, to print beside a score."""
    if tokenize not in BLEU_TOKENIZERS:
        raise ValueError(f"tokenize must be one of {BLEU_TOKENIZERS}, got {tokenize!r}")
    bleu = _bleu(tokenize)
    bleu.corpus_score(["a"], [["a"]])  # the signature needs the number of references
    return str(bleu.get_signature())


def edit_distance(a, b) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b.

    ``a`` and ``b`` are sequences (strings, lists or tuples) of comparable items. Dynamic
    programming over a (len(a)+1) x (len(b)+1) table, one row kept at a time:
    ``D[i][j] = min(D[i-1][j] + 1, D[i][j-1] + 1, D[i-1][j-1] + (a[i-1] != b[j-1]))``.
    """
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, (str, list, tuple)):
            raise ValueError(f"{name} must be a str, list or tuple, got {type(s).__name__}")
    previous = list(range(len(b) + 1))  # D[0][j] = j
    for i in range(1, len(a) + 1):
        current = [i]  # D[i][0] = i
        for j in range(1, len(b) + 1):
            substitute = previous[j - 1] + (a[i - 1] != b[j - 1])
            current.append(min(previous[j] + 1, current[j - 1] + 1, substitute))
        previous = current
    return previous[-1]


def error_rate(predictions, references) -> float:
    """Total edit distance over total reference length (the character error rate on strings).

    ``predictions`` and ``references`` are lists of sequences of the same length; the
    references together must hold at least one item.
    """
    if not isinstance(predictions, Sequence) or not isinstance(references, Sequence):
        raise ValueError("predictions and references must be lists of sequences")
    if isinstance(predictions, str) or isinstance(references, str):
        raise ValueError("predictions and references must be lists of sequences, not one str")
    if len(predictions) != len(references):
        raise ValueError(
            f"predictions and references must have the same length, got "
            f"{len(predictions)} and {len(references)}"
        )
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("the references hold no items: the error rate is undefined")
    errors = sum(edit_distance(p, r) for p, r in zip(predictions, references, strict=True))
    return errors / total


def sequence_error_rate(predictions, references) -> float:
    """Fraction of sequences not predicted exactly (1 - exact-match accuracy)."""
    if not isinstance(predictions, Sequence) or not isinstance(references, Sequence):
        raise ValueError("predictions and references must be lists of sequences")
    if len(predictions) != len(references) or not references:
        raise ValueError(
            f"predictions and references must be non-empty and of the same length, got "
            f"{len(predictions)} and {len(references)}"
        )
    wrong = [tuple(p) != tuple(r) for p, r in zip(predictions, references, strict=True)]
    return float(np.mean(wrong))


# ---- ranking metrics for next-item prediction (chapter 10, section 10.7) ----


def _check_ranking(scores, targets, k):
    """scores (N, V) float finite, targets (N,) int in [0, V), k an int in [1, V]."""
    if not (hasattr(scores, "shape") and hasattr(scores, "dtype")) or len(scores.shape) != 2:
        raise ValueError(f"scores must be an (N, V) float array, got {scores!r:.80}")
    scores = np.asarray(scores)
    if scores.dtype.kind != "f" or not np.isfinite(scores).all():
        raise ValueError(f"scores must be finite floats, got dtype {scores.dtype}")
    targets = np.asarray(targets)
    N, V = scores.shape
    if targets.shape != (N,) or targets.dtype.kind not in "iu":
        raise ValueError(
            f"targets must be (N,) = ({N},) integers, got shape {targets.shape} "
            f"and dtype {targets.dtype}"
        )
    if N == 0 or targets.min() < 0 or targets.max() >= V:
        raise ValueError(f"targets must be non-empty and lie in [0, V) = [0, {V})")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= V:
        raise ValueError(f"k must be an int in [1, V] = [1, {V}], got {k!r}")
    return scores, targets


def target_rank(scores, targets, ties="pessimistic"):
    """The 1-based rank of each target among its row's scores.

    ``ties="pessimistic"`` (the book's default): rank = 1 + the number of other items scored
    at least as high as the target, so a constant score ranks every target last and a model
    is never rewarded for ties. ``ties="optimistic"``: rank = 1 + the number of items scored
    strictly higher, as the original GRU4Rec evaluation counts it (a constant score then ranks
    every target first). The two agree wherever the target's score is not tied.
    """
    if ties not in ("pessimistic", "optimistic"):
        raise ValueError(f"ties must be 'pessimistic' or 'optimistic', got {ties!r}")
    scores, targets = _check_ranking(scores, targets, 1)
    s_t = scores[np.arange(len(targets)), targets][:, None]  # (N, 1)
    if ties == "optimistic":
        return 1 + (scores > s_t).sum(1)  # only strictly higher scores count
    return (scores >= s_t).sum(1)  # the target itself counts once: 1 + the others >= it


def recall_at_k(scores, targets, k, ties="pessimistic"):
    """Share of rows whose target is among the k highest scores (hit rate at k).

    ``scores`` (N, V) floats, one row of item scores per prediction; ``targets`` (N,) ints.
    The position inside the top k does not matter; ``ties`` as in :func:`target_rank`.
    """
    scores, targets = _check_ranking(scores, targets, k)
    return float(np.mean(target_rank(scores, targets, ties) <= k))


def mrr_at_k(scores, targets, k, ties="pessimistic"):
    """Mean reciprocal rank at k: the mean of 1/rank over rows, 0 where rank > k.

    ``ties`` as in :func:`target_rank`.
    """
    scores, targets = _check_ranking(scores, targets, k)
    rank = target_rank(scores, targets, ties)
    return float(np.mean(np.where(rank <= k, 1.0 / rank, 0.0)))
