"""The datasets of chapters 8 and 9: fill in the blank, and arithmetic expression trees."""

import itertools
import re
from collections import Counter, defaultdict

import numpy as np
import pytest

from rnnbook import data
from rnnbook.scratch import recursive

# ---- fill in the blank -----------------------------------------------------------------


def test_fill_in_blank_shapes_blank_and_label():
    tokens, position, label = data.fill_in_blank(500, 7, 4, 0)
    assert tokens.shape == (500, 7) and position.shape == label.shape == (500,)
    assert tokens.dtype == position.dtype == label.dtype == np.int64
    assert ((tokens == 4).sum(axis=1) == 1).all()  # one blank a row
    assert (tokens.argmax(axis=1) == position).all()  # the blank is the largest token
    assert set(position.tolist()) == {1, 2, 3, 4, 5}  # never at either end
    for row, p, y in zip(tokens, position, label, strict=True):  # the rule, one row at a time
        assert y == (int(row[p - 1]) + int(row[p + 1])) % 4


def test_fill_in_blank_is_deterministic():
    a = data.fill_in_blank(20, 5, 3, 7)
    b = data.fill_in_blank(20, 5, 3, np.random.default_rng(7))
    c = data.fill_in_blank(20, 5, 3, 8)
    assert all((x == y).all() for x, y in zip(a, b, strict=True))
    assert not (a[0] == c[0]).all()


def _best_accuracy(groups):
    """Accuracy of the best guess per key: sum over keys of the commonest label's count."""
    return sum(max(c.values()) for c in groups.values()) / sum(
        sum(c.values()) for c in groups.values()
    )


def test_fill_in_blank_past_only_bound_exactly():
    # Enumerate the generative model itself (not the generator): every symbol string and
    # every blank position, each equally likely; a reader of x_0 .. x_p (blank included)
    # sees the key (p, prefix). The best it can do is 1 / n_symbols; with x_{p+1} also, 1.
    K, T = 3, 5
    past, both = defaultdict(Counter), defaultdict(Counter)
    for x in itertools.product(range(K), repeat=T):
        for p in range(1, T - 1):
            y = (x[p - 1] + x[p + 1]) % K
            past[(p, x[:p])][y] += 1
            both[(p, x[:p], x[p + 1])][y] += 1
    assert _best_accuracy(past) == pytest.approx(1 / K, abs=1e-12)
    assert _best_accuracy(both) == 1.0


def test_past_only_bound_check_fails_on_a_planted_leak():
    # The same enumeration with a rule that needs no future (label = left neighbour)
    # gives accuracy 1 from the past alone, so the bound check above can fail.
    K, T = 3, 5
    past = defaultdict(Counter)
    for x in itertools.product(range(K), repeat=T):
        for p in range(1, T - 1):
            past[(p, x[:p])][x[p - 1]] += 1
    assert _best_accuracy(past) == 1.0


def test_fill_in_blank_past_only_bound_by_monte_carlo():
    # Fit the best lookup table from the past on one draw, score it on another draw.
    K, T = 3, 5
    train = data.fill_in_blank(60_000, T, K, 1)
    test = data.fill_in_blank(60_000, T, K, 2)

    def keys(tokens, position, future):
        return [
            (int(p), row[: p + 1].tobytes(), int(row[p + 1]) if future else None)
            for row, p in zip(tokens, position, strict=True)
        ]

    for future, expected, tol in ((False, 1 / K, 0.01), (True, 1.0, 0.0)):
        table = defaultdict(Counter)
        for k, y in zip(keys(train[0], train[1], future), train[2], strict=True):
            table[k][int(y)] += 1
        guess = {k: c.most_common(1)[0][0] for k, c in table.items()}
        hits = [
            guess.get(k, 0) == y
            for k, y in zip(keys(test[0], test[1], future), test[2], strict=True)
        ]
        assert abs(np.mean(hits) - expected) <= tol, (future, np.mean(hits))


# ---- expression trees ------------------------------------------------------------------

OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def _evaluate(tree, tokens, n_digits):
    """An evaluator of its own, over the tuples (not the prefix tokens)."""
    if isinstance(tree, int):
        return int(tokens[tree])
    op, (a, b) = tree
    symbol = data.EXPRESSION_OPERATORS[int(tokens[op]) - n_digits]
    return OPS[symbol](_evaluate(a, tokens, n_digits), _evaluate(b, tokens, n_digits)) % n_digits


def _depth(tree):
    return 0 if isinstance(tree, int) else 1 + max(_depth(t) for t in tree[1])


def _infix_string(tree, tokens, n_digits):
    if isinstance(tree, int):
        return str(int(tokens[tree]))
    op, (a, b) = tree
    symbol = data.EXPRESSION_OPERATORS[int(tokens[op]) - n_digits]
    return f"({_infix_string(a, tokens, n_digits)}{symbol}{_infix_string(b, tokens, n_digits)})"


def test_expression_trees_sizes_values_and_depths():
    n_digits = 7
    trees, leaves, values, depths = data.expression_trees(600, 4, 0, n_digits=n_digits)
    assert len(trees) == len(leaves) == values.shape[0] == depths.shape[0] == 600
    assert values.dtype == depths.dtype == np.int64
    for tree, tokens, v, d in zip(trees, leaves, values, depths, strict=True):
        N = recursive.check_tree(tree, arity=2)  # a binary tree the recursive network takes
        assert tokens.shape == (N,) and tokens.dtype == np.int64
        assert _depth(tree) == d
        assert (tokens >= n_digits).sum() == (tokens < n_digits).sum() - 1  # binary operators
        assert v == _evaluate(tree, tokens, n_digits)
        # against Python's own arithmetic on the written-out infix expression
        assert v == eval(_infix_string(tree, tokens, n_digits)) % n_digits
    assert 0 <= values.min() and values.max() < n_digits
    counts = np.bincount(depths, minlength=5)
    assert counts.shape == (5,) and (counts > 600 / 5 * 0.7).all()  # about uniform in 0..4


def test_value_check_fails_on_a_planted_error():
    # An evaluator with the operands of "-" swapped disagrees with the values somewhere,
    # so the comparison with the independent evaluator can fail.
    trees, leaves, values, _ = data.expression_trees(200, 3, 3)

    def swapped(tree, tokens):
        if isinstance(tree, int):
            return int(tokens[tree])
        op, (a, b) = tree
        x, y = swapped(a, tokens), swapped(b, tokens)
        symbol = data.EXPRESSION_OPERATORS[int(tokens[op]) - 10]
        return (y - x if symbol == "-" else OPS[symbol](x, y)) % 10

    planted = [swapped(t, k) for t, k in zip(trees, leaves, strict=True)]
    assert (np.array(planted) != values).any()


def test_depths_reach_max_depth_and_no_further():
    for max_depth in (1, 2, 5):
        _, _, _, depths = data.expression_trees(400, max_depth, max_depth)
        assert depths.min() == 0 and depths.max() == max_depth


def test_expression_trees_feed_the_recursive_network():
    trees, leaves, _, _ = data.expression_trees(3, 3, 1, n_digits=5)
    rng = np.random.default_rng(0)
    params = recursive.init_params(4, rng)
    embed = rng.standard_normal((5 + 3, 4))  # digits and operators
    for tree, tokens in zip(trees, leaves, strict=True):
        h, _ = recursive.forward(tree, embed[tokens][:, None, :], params)
        assert np.isfinite(h).all()


def test_expression_trees_deterministic_and_max_depth_zero():
    a = data.expression_trees(30, 3, 5)
    b = data.expression_trees(30, 3, np.random.default_rng(5))
    assert a[0] == b[0] and all((x == y).all() for x, y in zip(a[1], b[1], strict=True))
    assert (a[2] == b[2]).all() and (a[3] == b[3]).all()
    trees, leaves, values, depths = data.expression_trees(10, 0, 0)
    assert trees == [0] * 10 and (depths == 0).all()
    assert (values == np.concatenate(leaves)).all()


def test_expression_sequences_prefix_and_infix():
    n_digits = 10
    trees, leaves, values, _ = data.expression_trees(200, 3, 2)
    prefix, lengths = data.expression_sequences(trees, leaves, notation="prefix")
    assert prefix.shape == (200, lengths.max()) and prefix.dtype == np.int64
    for row, L, tokens in zip(prefix, lengths, leaves, strict=True):
        assert (row[: len(row) - L] == -1).all() and (row[len(row) - L :] == tokens).all()
    infix, lengths = data.expression_sequences(trees, leaves, notation="infix")
    names = [str(i) for i in range(n_digits)] + list(data.EXPRESSION_OPERATORS) + ["(", ")"]
    for row, L, tree, tokens, v in zip(infix, lengths, trees, leaves, values, strict=True):
        text = "".join(names[t] for t in row[len(row) - L :])
        assert (row[: len(row) - L] == -1).all()
        assert text == _infix_string(tree, tokens, n_digits)
        assert eval(text) % n_digits == v


def test_expression_split_shares_nothing():
    train = data.expression_trees(300, 2, 0, split="train")
    test = data.expression_trees(100, 2, 1, split="test")
    as_tuples = lambda leaves: {tuple(t.tolist()) for t in leaves}  # noqa: E731
    assert not as_tuples(train[1]) & as_tuples(test[1])
    # the split is data.held_out on each prefix sequence, recomputed here row by row
    assert all(data.held_out(t[None, :])[0] for t in test[1])
    assert not any(data.held_out(t[None, :])[0] for t in train[1])
    everything = data.expression_trees(2000, 2, 0)[1]
    share = np.mean([data.held_out(t[None, :])[0] for t in everything])
    assert 0.1 < share < 0.3  # about the default fraction 0.2 of the draws


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.fill_in_blank(0, 5, 3, 0), "n must be an int >= 1, got 0"),
        (lambda: data.fill_in_blank(2, 2, 3, 0), "length must be an int >= 3, got 2"),
        (lambda: data.fill_in_blank(2, 5, 1, 0), "n_symbols must be an int >= 2, got 1"),
        (lambda: data.fill_in_blank(2, 5, 3, "x"), "rng must be a numpy.random.Generator"),
        (lambda: data.expression_trees(2, -1, 0), "max_depth must be an int >= 0, got -1"),
        (lambda: data.expression_trees(2, 2.0, 0), "max_depth must be an int >= 0"),
        (lambda: data.expression_trees(2, 2, 0, n_digits=1), "n_digits must be an int >= 2"),
        (
            lambda: data.expression_trees(2, 2, 0, split="val"),
            "split must be one of (None, 'train', 'test'), got 'val'",
        ),
        (lambda: data.expression_trees(2, 2, 0, fraction=1.0), "fraction must be a number in"),
        (lambda: data.expression_trees(5, 0, 0, split="test", fraction=1e-9), "fewer than n = 5"),
        (
            lambda: data.expression_sequences([0], [np.array([3])], notation="postfix"),
            "notation must be one of ('prefix', 'infix'), got 'postfix'",
        ),
        (lambda: data.expression_sequences([0], []), "of one length, got 1 and 0"),
        (lambda: data.expression_sequences([0], [np.array([12])]), "must index a digit token"),
        (lambda: data.expression_sequences([(0, 1)], [np.array([10, 1])]), "operator node"),
        (lambda: data.expression_sequences([0], [np.array([1.0])]), "must be int arrays"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
