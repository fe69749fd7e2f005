"""Section 10.3: generated reviews, the recurrent classifier and the bag-of-words baseline."""

import itertools
from collections import Counter

import pytest
import torch

from rnnbook import data
from rnnbook.nn import classifier as C


def test_reviews_sizes_determinism_and_split():
    d = data.sentiment_reviews(300, 100, 5)
    assert len(d["train"]["text"]) == 300 and d["test"]["label"].shape == (100,)
    again = data.sentiment_reviews(300, 100, 5)
    assert d["train"]["text"] == again["train"]["text"]
    assert d["train"]["text"] != data.sentiment_reviews(300, 100, 6)["train"]["text"]
    assert not set(d["train"]["text"]) & set(d["test"]["text"])
    assert len(set(d["train"]["text"])) == 300


def test_contrast_label_is_the_clause_after_but():
    d = data.sentiment_reviews(200, 10, 1)
    for text, y in zip(d["train"]["text"], d["train"]["label"], strict=True):
        after = text.split(" but ")[1].split()
        polarity = (after[-1] in data.POSITIVE) != ("not" in after)
        assert int(polarity) == y


def test_swapping_the_clauses_keeps_the_words_and_flips_the_label():
    # the generator draws the two clauses, then their order: a review and its swap are equally
    # likely, so the word counts carry no information about the label
    d = data.sentiment_reviews(3000, 10, 2)
    texts = d["train"]["text"]
    for text in texts[:50]:
        a, b = text.split(" but ")
        assert Counter(text.split()) == Counter(f"{b} but {a}".split())
    # over many reviews every word is as common among positive as among negative reviews
    pos = Counter(
        w for t, y in zip(texts, d["train"]["label"], strict=True) if y for w in t.split()
    )
    neg = Counter(
        w for t, y in zip(texts, d["train"]["label"], strict=True) if not y for w in t.split()
    )
    n_pos, n_neg = int(d["train"]["label"].sum()), int((1 - d["train"]["label"]).sum())
    for w in data.POSITIVE + data.NEGATIVE + ("not", "very"):
        assert abs(pos[w] / n_pos - neg[w] / n_neg) < 0.08, w


def _grammar(kind):
    # every review the grammar allows, written out independently of the generator
    clauses = {}
    for subject, neg, very, adj in itertools.product(
        data.SUBJECTS, ("", "not "), ("", "very "), data.POSITIVE + data.NEGATIVE
    ):
        polarity = (adj in data.POSITIVE) != bool(neg)
        clauses[f"the {subject} is {neg}{very}{adj}"] = polarity
    if kind == "plain":
        return {c: y for c, y in clauses.items() if " not " not in c}
    return {
        f"{a} but {b}": yb for a, ya in clauses.items() for b, yb in clauses.items() if ya != yb
    }


@pytest.mark.parametrize("kind", ["contrast", "plain"])
def test_the_grammar_is_counted_and_every_review_is_in_it(kind):
    reviews = _grammar(kind)
    assert (
        data.sentiment_review_count(kind)
        == len(reviews)
        == {"contrast": 73_728, "plain": 192}[kind]
    )
    n = min(2000, len(reviews) - 20)
    d = data.sentiment_reviews(n, 20, 3, kind=kind)
    for split in ("train", "test"):
        for text, y in zip(d[split]["text"], d[split]["label"], strict=True):
            assert reviews[text] == bool(y), text
    with pytest.raises(ValueError, match="at most"):
        data.sentiment_reviews(len(reviews), 1, 0, kind=kind)


def test_plain_reviews_have_no_negation():
    d = data.sentiment_reviews(50, 20, 0, kind="plain")
    assert all("not" not in t and "but" not in t for t in d["train"]["text"] + d["test"]["text"])


def test_packed_equals_masked_and_unmasked_differs():
    torch.manual_seed(0)
    m = C.SequenceClassifier(12, 4, 5)
    tokens = torch.randint(1, 12, (4, 7))
    lengths = torch.tensor([7, 3, 5, 1])
    tokens[torch.arange(7)[None] >= lengths[:, None]] = 0
    packed = m.final_state(tokens, lengths, "packed")
    masked = m.final_state(tokens, lengths, "masked")
    wrong = m.final_state(tokens, lengths, "unmasked")
    assert (packed - masked).abs().max() < 1e-6
    assert (wrong[0] - packed[0]).abs().max() < 1e-6  # the full-length row is right
    assert (wrong[1:] - packed[1:]).abs().amax(1).min() > 1e-3  # the others are not
    # each row alone gives the packed state
    for b in range(4):
        alone = m.final_state(tokens[b : b + 1, : lengths[b]], lengths[b : b + 1], "unmasked")
        assert (alone[0] - packed[b]).abs().max() < 1e-6
    prefix = m.prefix_logits(tokens, lengths)
    assert torch.isnan(prefix[1, 3:]).all()
    assert (prefix[2, 4] - m(tokens, lengths)[2]).abs() < 1e-6


def test_bag_of_words_ignores_order_and_padding():
    torch.manual_seed(1)
    m = C.BagOfWords(9, 4, 6)
    a = torch.tensor([[1, 2, 3, 0, 0]])
    b = torch.tensor([[3, 1, 2, 0, 0]])
    n = torch.tensor([3])
    assert (m(a, n) - m(b, n)).abs().max() < 1e-6
    assert (m(a, n) - m(a[:, :3], n)).abs().max() < 1e-6


def test_encode_and_bad_input():
    tokens, lengths = C.encode(["a b", "b"], {"a": 1, "b": 2})
    assert tokens.tolist() == [[1, 2], [2, 0]] and lengths.tolist() == [2, 1]
    with pytest.raises(ValueError, match="vocab"):
        C.encode(["a c"], {"a": 1})
    m = C.SequenceClassifier(5)
    with pytest.raises(ValueError, match="lengths"):
        m(torch.ones(2, 3, dtype=torch.int64), torch.tensor([4, 1]))
    with pytest.raises(ValueError, match="tokens"):
        m(torch.ones(2, 3), torch.tensor([3, 1]))
    with pytest.raises(ValueError, match="mode"):
        m(torch.ones(2, 3, dtype=torch.int64), torch.tensor([3, 1]), mode="last")
    with pytest.raises(ValueError, match="kind"):
        data.sentiment_reviews(5, 5, 0, kind="sarcasm")
    with pytest.raises(ValueError, match="rng"):
        data.sentiment_reviews(5, 5, "seed")


def _bags_with_unequal_labels(reviews):
    labels = {}
    for text, y in reviews.items():
        labels.setdefault(tuple(sorted(text.split())), Counter())[y] += 1
    return [bag for bag, c in labels.items() if c[True] != c[False]]


def test_every_bag_of_the_grammar_is_as_often_positive_as_negative():
    # the generator draws every contrast review of the grammar with the same probability (its
    # clauses uniformly, then the order by a fair coin: test above), so P(label | bag) = 1/2 exactly
    # when each bag holds as many positive as negative reviews of the grammar
    reviews = _grammar("contrast")
    assert _bags_with_unequal_labels(reviews) == []
    # planted: a grammar in which "great" makes any review positive, whatever the order says
    planted = {t: y or "great" in t.split() for t, y in reviews.items()}
    assert _bags_with_unequal_labels(planted) != []
