"""The book's symbolic derivations: every stated identity holds, every source slip is caught."""

import pytest
import sympy as sp

from rnnbook import symbolic
from rnnbook.symbolic import bptt, course_example, gradient_bound, rtrl, srn_unrolled
from rnnbook.symbolic._proof import Proof, decide, f, fprime, name_derivatives


def test_every_book_proof_holds():
    proofs = symbolic.all_proofs()
    assert len(proofs) >= 30
    failed = [(p.name, p.method) for p in proofs if not p.holds]
    assert failed == []
    assert len({p.name for p in proofs}) == len(proofs), "proof names are unique"


def test_every_recorded_disagreement_fails_with_a_computed_reason():
    proofs = symbolic.disagreements()
    assert len(proofs) >= 8
    for p in proofs:
        assert p.holds is False, p.name
        assert p.method.startswith("counterexample"), (p.name, p.method)
        assert p.source, p.name


@pytest.mark.parametrize("which", ["all", "disagreements"])
def test_latex_is_nonempty_and_marks_the_verdict(which):
    proofs = symbolic.all_proofs() if which == "all" else symbolic.disagreements()
    for p in proofs:
        assert isinstance(p, Proof)
        text = p.latex()
        assert len(p.statement) > 5 and text.startswith(p.statement)
        assert all(ord(ch) >= 32 for ch in text), f"control character in {p.name}"
        assert text.count("{") == text.count("}"), p.name
        assert ("checkmark" in text) == p.holds
        assert p._repr_latex_().startswith("$$")


def test_verdicts_are_computed_not_stored():
    # Re-deciding lhs == rhs for identity proofs gives the recorded verdict.
    for p in symbolic.all_proofs():
        if p.method.startswith("expand") and p.name.startswith(("srn.", "bptt.", "rtrl.")):
            assert decide(p.lhs, p.rhs)[0] is True
    # and changing one entry of the rhs breaks it
    p = bptt.parameter_gradient("b")
    rhs = sp.Matrix(p.rhs)
    rhs[0] += sp.Symbol("b_1")
    assert decide(p.lhs, rhs)[0] is False


def test_decide_proves_refutes_and_admits_undecided():
    x, y = sp.symbols("x y")
    assert decide(f(x) + f(x), 2 * f(x))[0]
    holds, method = decide(f(x) * y, f(y) * x)
    assert not holds and method.startswith("counterexample")
    # a true identity that expand cannot see is not claimed either way
    holds, method = decide(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1))
    assert not holds and method.startswith("undecided")
    holds, method = decide(sp.Matrix([x]), sp.Matrix([x, x]))
    assert not holds and "shapes differ" in method


def test_name_derivatives_makes_chain_rule_atoms():
    x, y = sp.symbols("x y")
    d = name_derivatives(sp.diff(f(f(x * y) + x), x))
    assert d == (y * fprime(x * y) + 1) * fprime(f(x * y) + x)
    assert not d.has(sp.Subs, sp.Derivative)


def test_sizes_other_than_the_default():
    assert srn_unrolled.unrolled_state(1, 3, 4).holds
    assert bptt.error_recursion(3, 1, 2).holds
    assert bptt.parameter_gradient("W", 1, 2, 3).holds
    assert rtrl.rtrl_equals_bptt("U", 3, 1, 2).holds
    assert gradient_bound.jacobian_product(1, 1, 4).holds
    assert course_example.softmax_cross_entropy(3).holds
    assert gradient_bound.diagonal_step_bound(5).holds


def test_unrolled_latex_is_nested():
    text = srn_unrolled.nested_latex(3)
    assert text.count("f\\left(") == 3
    assert text.index("x_{1}") < text.index("x_{2}") < text.index("x_{3}")


def _planted(rhs):
    """rhs with one entry changed by a small constant: an error every check must see."""
    if isinstance(rhs, sp.MatrixBase):
        wrong = sp.Matrix(rhs)
        wrong[0, 0] += sp.Rational(1, 7)
        return sp.ImmutableMatrix(wrong)
    return rhs + sp.Rational(1, 7)


@pytest.mark.parametrize("index", range(len(symbolic.all_proofs())))
def test_every_check_fails_on_a_planted_error(index):
    proof = symbolic.all_proofs()[index]
    assert proof.holds, proof.name
    holds, method = decide(proof.lhs, _planted(proof.rhs), rational=True)
    assert not holds, (proof.name, method)
    assert "counterexample" in method, (proof.name, method)
