"""Section 10.2: beam search (rnnbook.decode) against exhaustive search and greedy decoding."""

import inspect

import numpy as np
import pytest

from rnnbook import decode

BOS, EOS = 0, 1


def random_model(V, seed, hidden=4):
    """A tiny random recurrent model: a step function over a vocabulary of V tokens.

    state (K, hidden); h_t = tanh(A h_{t-1} + B[y_{t-1}]), log p(. | prefix) = log_softmax(C h_t).
    """
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((hidden, hidden))
    Bm = rng.standard_normal((V, hidden)) * 2
    C = rng.standard_normal((V, hidden)) * 2

    def step(last, state):
        h = np.tanh(state @ A.T + Bm[last])  # (K, hidden)
        z = h @ C.T  # (K, V)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True)), h

    return step, np.zeros((1, hidden))


def sequence_log_prob(step, state, tokens):
    last, total = [BOS], 0.0
    for v in tokens:
        lp, state = step(np.array(last), state)
        total += lp[0, v]
        last = [v]
    return total


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_wide_beam_finds_the_exhaustive_argmax(alpha):
    V, L = 3, 5
    for seed in range(20):
        step, s0 = random_model(V, seed)
        best, score = decode.exhaustive_search(
            step, s0, bos=BOS, eos=EOS, vocab_size=V, max_len=L, alpha=alpha
        )
        found, found_score = decode.beam_search(
            step, s0, bos=BOS, eos=EOS, width=V**L, max_len=L, alpha=alpha
        )
        assert found == best and found_score == pytest.approx(score, abs=1e-12)
        # the score is the sequence's log-probability over its length ** alpha (DEC.1)
        assert score == pytest.approx(sequence_log_prob(step, s0, best) / len(best) ** alpha)


def test_beam_width_one_is_greedy_and_wider_beams_never_score_lower_than_greedy_often():
    V, L = 4, 6
    better = 0
    for seed in range(30):
        step, s0 = random_model(V, seed)
        g = decode.greedy(step, s0, bos=BOS, eos=EOS, max_len=L)
        assert decode.beam_search(step, s0, bos=BOS, eos=EOS, width=1, max_len=L) == g
        b5 = decode.beam_search(step, s0, bos=BOS, eos=EOS, width=5, max_len=L)
        ex = decode.exhaustive_search(step, s0, bos=BOS, eos=EOS, vocab_size=V, max_len=L)
        assert b5[1] <= ex[1] + 1e-12 and g[1] <= ex[1] + 1e-12
        better += b5[1] > g[1] + 1e-9
    assert better > 0  # the search is not trivial: a beam of 5 beats greedy on some models


def _planted(old, new):
    """A copy of decode.beam_search with one line changed."""
    source = inspect.getsource(decode.beam_search)
    assert source.count(old) == 1
    namespace = dict(vars(decode))
    exec(source.replace(old, new), namespace)
    return namespace["beam_search"]


def test_the_exhaustive_check_catches_a_planted_error():
    """Leaving out the log-probability of EOS from a finished sequence's score (a common slip)
    makes the widest beam disagree with the exhaustive search."""
    old = "finished.append((tokens, float(total[r, v])))"
    buggy = _planted(
        old, "finished.append((tokens, float(total[r, v] - log_probs[r, v] * (v == eos))))"
    )
    V, L = 3, 5
    wrong = 0
    for seed in range(20):
        step, s0 = random_model(V, seed)
        best, _ = decode.exhaustive_search(step, s0, bos=BOS, eos=EOS, vocab_size=V, max_len=L)
        assert decode.beam_search(step, s0, bos=BOS, eos=EOS, width=V**L, max_len=L)[0] == best
        wrong += buggy(step, s0, bos=BOS, eos=EOS, width=V**L, max_len=L)[0] != best
    assert wrong > 0


def test_state_as_a_dict_and_tuple():
    step, s0 = random_model(3, 0)

    def step_dict(last, state):
        lp, h = step(last, state["pair"][0])
        return lp, {"pair": (h, h * 2)}

    a = decode.beam_search(step, s0, bos=BOS, eos=EOS, width=4, max_len=4)
    b = decode.beam_search(step_dict, {"pair": (s0, s0)}, bos=BOS, eos=EOS, width=4, max_len=4)
    assert a == b


def test_bad_input_raises():
    step, s0 = random_model(3, 0)
    with pytest.raises(ValueError, match="width"):
        decode.beam_search(step, s0, bos=BOS, eos=EOS, width=0, max_len=3)
    with pytest.raises(ValueError, match="alpha"):
        decode.beam_search(step, s0, bos=BOS, eos=EOS, width=2, max_len=3, alpha=-1.0)
    with pytest.raises(ValueError, match="step must be callable"):
        decode.greedy(None, s0, bos=BOS, eos=EOS, max_len=3)
    with pytest.raises(ValueError, match="log-probabilities"):
        decode.greedy(lambda last, s: (np.ones((1, 3)), s), s0, bos=BOS, eos=EOS, max_len=3)
    with pytest.raises(ValueError, match="shape"):
        decode.greedy(lambda last, s: (np.zeros(3), s), s0, bos=BOS, eos=EOS, max_len=3)
    with pytest.raises(ValueError, match="at most 200000"):
        decode.exhaustive_search(step, s0, bos=BOS, eos=EOS, vocab_size=10, max_len=8)
