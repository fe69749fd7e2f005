"""rnnbook.data.bracket_depth: the counting task with resets of chapter 6."""

import numpy as np
import pytest

from rnnbook import data


def _replay(tokens, max_depth):
    """The depth after each token, step by step, independently of the generator."""
    depth, out = 0, []
    for tok in tokens:
        depth = {0: depth + 1, 1: depth - 1, 2: 0}[int(tok)]
        assert 0 <= depth <= max_depth
        out.append(depth)
    return out


@pytest.mark.parametrize("p_reset", [0.0, 0.1])
def test_labels_are_the_depth_of_the_tokens(p_reset):
    tokens, depth = data.bracket_depth(50, 40, 3, max_depth=3, p_reset=p_reset)
    assert tokens.shape == depth.shape == (50, 40)
    assert tokens.dtype == depth.dtype == np.int64
    for row, labels in zip(tokens, depth, strict=True):
        assert _replay(row, 3) == labels.tolist()
    assert (2 in tokens) == (p_reset > 0)


def test_bounds_are_reached_and_forced():
    tokens, depth = data.bracket_depth(200, 60, 0, max_depth=2)
    assert depth.min() == 0 and depth.max() == 2
    before = np.concatenate([np.zeros((200, 1), np.int64), depth[:, :-1]], axis=1)
    assert (tokens[before == 0] == 0).all()  # at depth 0 it opens
    assert (tokens[before == 2] == 1).all()  # at the top it closes


def test_same_seed_same_data_and_generator_accepted():
    a = data.bracket_depth(4, 10, 7, p_reset=0.2)
    b = data.bracket_depth(4, 10, np.random.default_rng(7), p_reset=0.2)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0), "n must be an int >= 1"),
        (dict(length=2.5), "length must be an int"),
        (dict(max_depth=0), "max_depth must be an int >= 1"),
        (dict(p_reset=1.0), r"p_reset must be a number in \[0, 1\)"),
        (dict(p_reset=True), "p_reset"),
        (dict(rng="seed"), "rng must be"),
    ],
)
def test_bad_input_is_a_value_error(kwargs, match):
    args = dict(n=2, length=5, rng=0) | kwargs
    with pytest.raises(ValueError, match=match):
        data.bracket_depth(args.pop("n"), args.pop("length"), args.pop("rng"), **args)
