"""rnnbook.metrics: BLEU through sacrebleu, and the edit distance against a brute force."""

import itertools

import pytest

from rnnbook import metrics


def _brute_distance(a, b):
    # the shortest edit script found by breadth-first search over strings (tiny cases only)
    alphabet = sorted(set(a) | set(b))
    frontier, seen, steps = {a}, {a}, 0
    while b not in frontier:
        nxt = set()
        for s in frontier:
            for i in range(len(s) + 1):
                nxt.add(s[:i] + s[i + 1 :])  # delete (no-op at the end)
                for c in alphabet:
                    nxt.add(s[:i] + c + s[i:])  # insert
                    nxt.add(s[:i] + c + s[i + 1 :])  # substitute
        frontier = nxt - seen
        seen |= nxt
        steps += 1
    return steps


@pytest.mark.parametrize(
    "a, b", [(a, b) for a in ["", "a", "ab", "ba", "abc"] for b in ["", "b", "ab", "cab", "aab"]]
)
def test_edit_distance_equals_breadth_first_search(a, b):
    assert metrics.edit_distance(a, b) == _brute_distance(a, b)


def test_edit_distance_on_lists_and_a_known_value():
    assert metrics.edit_distance(list("kitten"), list("sitting")) == 3
    assert metrics.edit_distance((1, 2, 3), (1, 3)) == 1


def test_error_rates():
    assert metrics.error_rate(["abc", "d"], ["abd", "de"]) == pytest.approx(2 / 5)
    assert metrics.sequence_error_rate(["ab", "c"], ["ab", "d"]) == 0.5
    assert metrics.sequence_error_rate([[1, 2]], [(1, 2)]) == 0.0


def test_bleu_is_sacrebleu():
    import sacrebleu

    hyp = ["the cat sat on the mat", "a dog ran"]
    ref = ["the cat sat on a mat", "a dog ran away"]
    expected = sacrebleu.corpus_bleu(hyp, [ref]).score
    assert metrics.corpus_bleu(hyp, ref) == pytest.approx(expected)
    assert metrics.corpus_bleu(ref, ref) == pytest.approx(100.0)
    assert 0.0 < metrics.corpus_bleu(["二千零二十六"], ["二千零二十五"], tokenize="char") < 100.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: metrics.corpus_bleu("abc", ["abc"]), "list of strings"),
        (lambda: metrics.corpus_bleu(["a"], ["a", "b"]), "same length"),
        (lambda: metrics.corpus_bleu([], []), "empty"),
        (lambda: metrics.corpus_bleu(["a"], [3]), r"references\[0\]"),
        (lambda: metrics.corpus_bleu(["a"], ["a"], tokenize="spacy"), "tokenize"),
        (lambda: metrics.edit_distance(3, "a"), "a must be"),
        (lambda: metrics.error_rate(["a"], ["a", "b"]), "same length"),
        (lambda: metrics.error_rate([""], [""]), "undefined"),
        (lambda: metrics.sequence_error_rate([], []), "non-empty"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_brute_force_would_notice_a_wrong_distance():
    # a planted error: substitution cost 2 (a common slip) disagrees with the search
    def wrong(a, b):
        prev = list(range(len(b) + 1))
        for i in range(1, len(a) + 1):
            cur = [i]
            for j in range(1, len(b) + 1):
                cur.append(
                    min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + 2 * (a[i - 1] != b[j - 1]))
                )
            prev = cur
        return prev[-1]

    pairs = itertools.product(["ab", "ba"], ["bb", "aa"])
    assert any(wrong(a, b) != _brute_distance(a, b) for a, b in pairs)


def test_bleu_signature_names_the_tokenizer_and_rejects_unknown_ones():
    sig = metrics.bleu_signature("char")
    assert "nrefs:1" in sig and "tok:char" in sig and "version:" in sig
    assert "tok:13a" in metrics.bleu_signature()
    with pytest.raises(ValueError, match="tokenize"):
        metrics.bleu_signature("words")
