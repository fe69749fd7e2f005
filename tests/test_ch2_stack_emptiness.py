"""Chapter 2's emptiness test of the stack network: a seventh unit sigma(4 q_{t-1}), run in it."""

from fractions import Fraction

import numpy as np
import pytest

from rnnbook import automata


def _random_program(n, seed):
    """Operations that pop as often as they push (never from the empty stack), and depths."""
    rng = np.random.default_rng(seed)
    program, depths, depth = [], [], 0
    for _ in range(n):
        op = int(rng.choice([0, 1, 2, 2, 3])) if depth else int(rng.choice([0, 1, 3]))
        depth += 1 if op < 2 else -1 if op == 2 else 0
        program.append(op)
        depths.append(depth)
    return program, depths


@pytest.mark.parametrize("seed", range(5))
def test_emptiness_unit_is_exact_in_fraction_arithmetic(seed):
    program, depths = _random_program(300, seed)
    assert depths.count(0) > 5  # the stack empties several times
    qs, tops, nonempty = automata.stack_emptiness_run(program)
    assert all(isinstance(q, Fraction) for q in qs)  # exact arithmetic throughout
    # the unit reads the stack before each operation (depth 0 at the start)
    before = [0] + depths[:-1]
    assert nonempty == [int(d > 0) for d in before]
    # the first six units are the stack network unchanged
    assert (qs, tops) == automata.stack_srn_run(program)


def test_emptiness_unit_with_a_starting_stack_and_in_float():
    qs, tops, nonempty = automata.stack_emptiness_run([2, 2, 0, 3], bits0=[1, 0], number=float)
    assert nonempty == [1.0, 1.0, 0.0, 1.0]  # before: [1, 0], [0], [], [0]
    assert qs[1] == 0.0 and tops[0] == 0.0


def test_the_top_unit_is_no_emptiness_test():
    """Planted error: the top bit in place of the emptiness unit fails on a stack with 0 on top."""
    qs, tops, nonempty = automata.stack_emptiness_run([0, 2, 0, 3])  # push 0, pop, push 0, no-op
    assert [int(t) for t in tops] == [0, 0, 0, 0]  # the top reads 0 for [0], [], [0], [0]
    assert nonempty == [0, 1, 0, 1]  # before each: [], [0], [], [0]
    assert nonempty[1:] != [int(t) for t in tops[:-1]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ops": [2]}, "operation 0 pops the empty stack"),
        ({"ops": [4]}, "ops must be indices 0..3"),
        ({"ops": [0], "number": int}, "number must be fractions.Fraction or float"),
    ],
)
def test_emptiness_run_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        automata.stack_emptiness_run(**kwargs)
