"""Deliberately wrong variants of each derivation are detected as not holding."""

import sympy as sp

from rnnbook.symbolic import bptt, chain_rule, course_example, gradient_bound, rtrl, srn_unrolled


def test_srn_unrolled_with_inputs_reversed_fails():
    assert not srn_unrolled.unrolled_state(inputs="reversed").holds


def test_bptt_with_U_instead_of_U_transpose_fails():
    assert not bptt.error_recursion(recurrent="U").holds
    assert not bptt.parameter_gradient("W", recurrent="U").holds


def test_bptt_with_h_k_instead_of_h_k_minus_1_fails():
    # the textbook's (6.20)-(6.21) as printed
    p = bptt.parameter_gradient("U", state_index="k")
    assert not p.holds and "003 (6.21)" in p.source


def test_rtrl_with_the_current_state_in_the_immediate_term_fails():
    assert not rtrl.sensitivity_recursion("U", immediate="h_t").holds


def test_products_in_the_wrong_order_fail():
    assert not gradient_bound.jacobian_product(order="ascending").holds
    assert not gradient_bound.delta_product(order="descending").holds
    assert not gradient_bound.course_report_product("ascending").holds
    assert not chain_rule.chain_rule("W", order="ascending").holds
    # with one step there is one factor: both readings agree
    assert gradient_bound.jacobian_product(2, 2, 1, order="ascending").holds


def test_textbook_630_equality_fails_but_its_bound_holds():
    p = gradient_bound.textbook_equality_630()
    assert not p.holds and "holds: True" in p.note


def test_spectral_comparison_is_exact_and_can_fail():
    U = sp.Matrix([[2, 0], [0, sp.Rational(1, 2)]])  # ||U||_2^2 = 4
    assert gradient_bound._spectral_sq_at_least(U, 4)
    assert not gradient_bound._spectral_sq_at_least(U, 4 + sp.Rational(1, 10**30))
    assert gradient_bound._spectral_sq_at_least(U, 16, power=2)
    assert not gradient_bound._spectral_sq_at_least(U, 16 + sp.Rational(1, 10**30), power=2)


def test_course_report_with_W_hh_untransposed_fails():
    wrong = course_example.report_gradients(recurrent="W_hh", only=("Wxh_L2", "Wxh_L1"))
    verdict = {p.name: p.holds for p in wrong}
    # L_1 does not go through W_hh, L_2 does
    assert verdict == {"course.Wxh_L1[W_hh]": True, "course.Wxh_L2[W_hh]": False}


def test_course_report_as_printed():
    assert not course_example.softmax_cross_entropy(labels="any").holds
    assert course_example.softmax_cross_entropy(labels="any", form="general").holds
    assert not course_example.output_total("W_0", target="L_3").holds
