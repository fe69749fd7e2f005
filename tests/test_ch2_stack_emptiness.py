"""Chapter 2's emptiness test of the stack network: sigma(4 q) is 1 exactly on non-empty stacks."""

from fractions import Fraction

import numpy as np
import pytest

from rnnbook import automata


def _nonempty(q):
    return min(max(4 * q, 0), 1)  # the saturated-linear sigma(4 q)


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
    qs, _ = automata.stack_srn_run(program)
    assert all(isinstance(q, Fraction) for q in qs)
    assert [_nonempty(q) for q in qs] == [int(d > 0) for d in depths]


def test_the_top_unit_is_no_emptiness_test():
    """Planted error: the top bit in place of the emptiness unit fails on a stack with 0 on top."""
    qs, tops = automata.stack_srn_run([0, 2, 0])  # push 0, pop, push 0
    assert [int(t) for t in tops] == [0, 0, 0]  # the top reads 0 for [0], [] and [0]
    assert [_nonempty(q) for q in qs] == [1, 0, 1]
