"""Finite automata, and the hand-set SRN that runs them exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnbook import automata

SETTINGS = settings(max_examples=30, deadline=None)


def _bits(max_len=200):
    return st.integers(1, max_len).flatmap(
        lambda n: arrays(np.int64, (1, n), elements=st.integers(0, 1))
    )


@SETTINGS
@given(_bits())
def test_divisibility_by_3_matches_integer_arithmetic_and_srn(bits):
    dfa = automata.divisibility(3)
    expected = [int("".join(map(str, bits[0, : t + 1])), 2) % 3 == 0 for t in range(bits.shape[1])]
    accepted = automata.accepts(dfa, bits)
    assert accepted[0].tolist() == expected
    srn_out = automata.srn_accepts(dfa, bits)
    # exact: the readout is exactly 1.0 or 0.0, equal to the automaton's decision
    assert np.array_equal(srn_out, accepted.astype(np.float64))


@SETTINGS
@given(_bits())
def test_parity_srn_is_exact(bits):
    dfa = automata.parity()
    even = (np.cumsum(bits[0]) % 2 == 0).tolist()
    assert automata.accepts(dfa, bits)[0].tolist() == even
    assert np.array_equal(automata.srn_accepts(dfa, bits), automata.accepts(dfa, bits) * 1.0)


@st.composite
def _automaton_and_strings(draw):
    n = draw(st.integers(1, 5))
    k = draw(st.integers(1, 4))
    delta = draw(arrays(np.int64, (n, k), elements=st.integers(0, n - 1)))
    start = draw(st.integers(0, n - 1))
    accepting = draw(st.sets(st.integers(0, n - 1)))
    strings = draw(
        st.integers(1, 200).flatmap(
            lambda T: arrays(np.int64, (3, T), elements=st.integers(0, k - 1))
        )
    )
    return automata.DFA(delta, start, tuple(sorted(accepting))), strings


@SETTINGS
@given(_automaton_and_strings())
def test_any_automaton_is_run_exactly(case):
    dfa, strings = case
    params, h0 = automata.srn_params(dfa)
    H = dfa.n_states * dfa.n_symbols + 1
    assert params["U"].shape == (H, H) and params["W"].shape == (H, dfa.n_symbols)
    assert np.array_equal(
        automata.srn_accepts(dfa, strings, params, h0), automata.accepts(dfa, strings) * 1.0
    )


def test_run_states_by_hand():
    dfa = automata.divisibility(3)
    # 1, 11 = 3, 110 = 6, 1101 = 13, 11010 = 26 (mod 3: 1, 0, 0, 1, 2)
    assert automata.run(dfa, np.array([[1, 1, 0, 1, 0]])).tolist() == [[1, 0, 0, 1, 2]]
    assert automata.divisibility(5).delta.tolist() == [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]]


def test_hidden_state_is_one_hot_on_the_pair():
    from rnnbook.scratch import srn

    dfa = automata.divisibility(3)
    params, h0 = automata.srn_params(dfa)
    strings = np.array([[1, 0, 1, 1, 0, 0, 1]])
    hs, _ = srn.forward(
        automata.one_hot(strings, 2), h0[None], {k: params[k] for k in "WUb"}, activation="relu"
    )
    states = automata.run(dfa, strings)[0]
    before = [dfa.start, *states[:-1]]
    for t in range(strings.shape[1]):
        expected = np.zeros(params["U"].shape[0])
        expected[automata.pair_index(before[t], strings[0, t], 2)] = 1.0
        assert np.array_equal(hs[t, 0], expected)


def test_one_hot_layout():
    x = automata.one_hot(np.array([[0, 1, 1], [1, 0, 0]]), 2)
    assert x.shape == (3, 2, 2)
    assert x[:, 0, 1].tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: automata.DFA(np.array([0, 1]), 0, ()), "n_states, n_symbols"),
        (lambda: automata.DFA(np.array([[0.0, 1.0]]), 0, ()), "ints"),
        (lambda: automata.DFA(np.array([[0, 2], [1, 0]]), 0, ()), "states 0..1"),
        (lambda: automata.DFA(np.array([[0, 1], [1, 0]]), 2, ()), "start"),
        (lambda: automata.DFA(np.array([[0, 1], [1, 0]]), True, ()), "start"),
        (lambda: automata.DFA(np.array([[0, 1], [1, 0]]), 0, (3,)), "accepting"),
        (lambda: automata.divisibility(0), "k must be"),
        (lambda: automata.run(automata.parity(), np.array([0, 1])), r"\(B, T\)"),
        (lambda: automata.run(automata.parity(), np.array([[0.0, 1.0]])), "int symbols"),
        (lambda: automata.run(automata.parity(), np.array([[0, 2]])), "symbols must be"),
        (lambda: automata.run("parity", np.array([[0, 1]])), "must be a DFA"),
        (lambda: automata.srn_params("parity"), "must be a DFA"),
        (lambda: automata.srn_accepts(automata.parity(), np.array([[0, 3]])), "symbols"),
        (lambda: automata.one_hot(np.array([[0, 3]]), 2), "symbols"),
    ],
)
def test_bad_input_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---- the stack network (Siegelmann and Sontag 1995), in exact arithmetic -------------


def _random_ops(seed, n):
    """Random operations that never pop the empty stack, and the stack after each."""
    rng = np.random.default_rng(seed)
    stack, ops, stacks = [], [], []
    for _ in range(n):
        op = int(rng.integers(0, 4)) if stack else int(rng.choice([0, 1, 3]))
        if op == 2:
            stack.pop(0)
        elif op < 2:
            stack.insert(0, op)
        ops.append(op)
        stacks.append(list(stack))
    return ops, stacks


@pytest.mark.parametrize("seed", range(5))
def test_stack_network_runs_a_stack_exactly(seed):
    from fractions import Fraction

    ops, stacks = _random_ops(seed, 120)
    qs, tops = automata.stack_srn_run(ops)
    for q, top, stack in zip(qs, tops, stacks, strict=True):
        assert isinstance(q, Fraction)
        assert automata.stack_decode(q) == stack
        assert top == (stack[0] if stack else 0)


def test_stack_encode_decode_roundtrip_and_values():
    from fractions import Fraction

    assert automata.stack_encode([]) == 0
    assert automata.stack_encode([1]) == Fraction(3, 4)
    assert automata.stack_encode([0, 1]) == Fraction(1, 4) + Fraction(3, 16)
    for bits in ([0], [1, 0, 1, 1], [0] * 40):
        assert automata.stack_decode(automata.stack_encode(bits)) == bits


def test_float64_loses_a_deep_stack_and_fractions_do_not():
    """The check can fail: float64 keeps two bits per symbol for 53 bits, about 26 symbols."""
    ops = [1, 0] * 20 + [2] * 40  # push 40 symbols, then pop them all
    _, exact = automata.stack_srn_run(ops)
    _, floating = automata.stack_srn_run(ops, number=float)
    pops = slice(40, 80)
    assert [int(t) for t in exact[pops]][:-1] == [1 - k % 2 for k in range(39)]
    assert [int(t) for t in floating[pops]] != [int(t) for t in exact[pops]]


def test_float64_stack_limit_is_the_gate_rounding():
    """25 symbols survive in float64; 26 ones round q/4 + 4 up to 4.25, so q becomes 1.0."""
    for bits in ([1] * 25, [0] * 25, [k % 2 for k in range(25)]):
        qs, _ = automata.stack_srn_run(bits[::-1], number=float)  # push bottom first
        assert automata.stack_decode(qs[-1]) == bits
    qs, tops = automata.stack_srn_run([1] * 26 + [2] * 26, number=float)
    assert qs[25] == 1.0  # outside [0, 1): no stack
    assert tops[-1] == 1  # the empty stack reads top 1
    _, exact = automata.stack_srn_run([1] * 26 + [2] * 26)
    assert exact[-1] == 0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: automata.stack_srn_run([2]), "operation 0 pops the empty stack"),
        (lambda: automata.stack_srn_run([4]), r"ops must be indices 0..3"),
        (lambda: automata.stack_srn_run([0], number=int), "number must be fractions.Fraction"),
        (lambda: automata.stack_encode([2]), "bits must be 0s and 1s, got \\[2\\]"),
        (lambda: automata.stack_decode(1.5), r"must be in \[0, 1\), got 1.5"),
        (lambda: automata.stack_decode(0.5), "is not the number of a stack"),
    ],
)
def test_stack_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
