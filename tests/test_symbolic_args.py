"""Bad arguments raise ValueError naming what was expected and what came."""

import pytest

from rnnbook.symbolic import bptt, chain_rule, course_example, gradient_bound, rtrl, srn_unrolled
from rnnbook.symbolic.model import build_srn

BAD_SIZES = [0, -1, 2.0, "2", True, None]


@pytest.mark.parametrize("bad", BAD_SIZES)
@pytest.mark.parametrize(
    "call",
    [
        lambda v: build_srn(v, 2, 3),
        lambda v: build_srn(2, v, 3),
        lambda v: build_srn(2, 2, v),
        lambda v: srn_unrolled.unrolled_state(v),
        lambda v: srn_unrolled.nested_latex(v),
        lambda v: bptt.error_recursion(2, 2, v),
        lambda v: bptt.parameter_gradient("U", v),
        lambda v: rtrl.sensitivity_recursion("W", 2, v),
        lambda v: gradient_bound.jacobian_product(v),
        lambda v: chain_rule.chain_rule("U", 2, 2, v),
        lambda v: gradient_bound.diagonal_step_bound(v),
        lambda v: gradient_bound.step_bound_instances(count=v),
        lambda v: course_example.build_course_network(hidden=v),
        lambda v: course_example.softmax_cross_entropy(v),
    ],
)
def test_bad_sizes(call, bad):
    with pytest.raises(ValueError, match="expected.*got"):
        call(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bptt.error_recursion(recurrent="V"),
        lambda: bptt.parameter_gradient("V"),
        lambda: bptt.parameter_gradient("U", state_index="k+1"),
        lambda: rtrl.sensitivity_recursion("c"),
        lambda: rtrl.sensitivity_recursion("U", immediate="h_k"),
        lambda: srn_unrolled.unrolled_state(inputs="sideways"),
        lambda: gradient_bound.jacobian_product(order="random"),
        lambda: chain_rule.chain_rule("b"),
        lambda: chain_rule.chain_rule(order="mixed"),
        lambda: gradient_bound.course_report_product("up"),
        lambda: gradient_bound.step_bound_instances(beta_f=0.25),
        lambda: gradient_bound.step_bound_instances(beta_f=-1),
        lambda: gradient_bound.multi_step_bound_instances(steps=1),
        lambda: course_example.softmax_cross_entropy(1),
        lambda: course_example.softmax_cross_entropy(form="other"),
        lambda: course_example.output_total("V"),
        lambda: course_example.output_total("W_0", target="L_2"),
        lambda: course_example.report_gradients(only=("nope",)),
        lambda: course_example.report_gradients(only="Wxh_L1"),
        lambda: course_example.loss_gradient(4, "W_xh"),
        lambda: bptt.error_recursion([2]),
        lambda: build_srn(2, 2, 3, h0="ones"),
    ],
)
def test_bad_options(call):
    with pytest.raises(ValueError, match="expected.*got"):
        call()
