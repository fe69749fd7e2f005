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
    import sacrebleu

    return float(
        sacrebleu.corpus_bleu(list(hypotheses), [list(references)], tokenize=tokenize).score
    )


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
