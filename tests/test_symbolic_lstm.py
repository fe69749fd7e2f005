"""rnnbook.symbolic.lstm: the LSTM's backward pass proved, its planted slips refuted, and the
proved formulas equal to the package's NumPy cell at numbers."""

import numpy as np
import pytest
import sympy as sp

from rnnbook import symbolic
from rnnbook.scratch import lstm as scratch_lstm
from rnnbook.symbolic import lstm


def test_every_one_step_identity_holds_and_is_registered():
    proofs = lstm.all_proofs()
    assert [p.name for p in proofs if not p.holds] == []
    assert len(proofs) == 29
    assert all(p.method.startswith("expand") for p in proofs)
    names = {p.name for p in symbolic.all_proofs()}
    assert {p.name for p in proofs} <= names


@pytest.mark.parametrize("index", range(6))
def test_each_planted_slip_is_refuted_by_a_counterexample(index):
    proof = lstm.planted_errors()[index]
    assert proof.holds is False, proof.name
    assert proof.method.startswith("counterexample"), proof.method
    assert "planted error" in proof.note


def test_the_whole_sweep_over_two_steps_holds():
    assert lstm.state_gradients("standard").holds
    assert lstm.parameter_gradient("U", "coupled").holds


def test_the_cell_path_alone_is_not_the_derivative_over_two_steps():
    proof = lstm.cell_path_only()
    assert proof.holds is False and proof.method.startswith("counterexample")
    # over one step it is: the direct block is the whole derivative of c_1 by c_0
    assert lstm.cell_jacobian("standard").holds


def test_the_counterexample_names_every_function_it_replaced():
    method = lstm.cell_path_only().method
    for name in (r"\sigma(z)", "g(z)", r"\phi(z)"):
        assert name in method, method
    assert "quadratic loss" not in method


@pytest.mark.parametrize("variant", lstm.VARIANTS)
def test_each_variant_states_its_own_cell_to_state_block(variant):
    """The displayed d c_t / d h_{t-1} is the proved rhs: U_f only where there is a forget
    gate, and the coupled gate's second term through U_i with a minus sign."""
    tex = lstm.cell_jacobian(variant, block="ch").latex()
    has_forget = "f" in lstm._gates(variant)
    assert ("U_f" in tex) == has_forget
    assert (r"- \operatorname{diag}(c_{t-1} \odot \sigma'(a_i)) U_i" in tex) == (
        variant == "coupled"
    )


def test_the_state_statements_use_the_chapter_notation():
    """dL/dc_{t-1} is written with bar-delta c_t (what reaches c_t plus the path through h_t)."""
    for variant in lstm.VARIANTS:
        for proof in (lstm.step_gradients(variant), lstm.state_gradients(variant)):
            assert r"\bar{\delta} c_t" in proof.latex(), proof.name


def test_a_subset_of_the_sequence_proofs_holds():
    """Part of sequence_proofs (T = 2 steps) for the variants whose derivations differ most from
    the standard cell's; the whole set takes some 35 s, too long for the suite."""
    assert lstm.state_gradients("peephole").holds
    assert lstm.parameter_gradient("p", "peephole").holds
    assert lstm.state_gradients("coupled").holds
    assert lstm.parameter_gradient("b", "no_forget").holds


@pytest.mark.parametrize("variant", lstm.VARIANTS)
def test_the_proved_step_is_the_package_step_at_numbers(variant):
    rng = np.random.default_rng(3)
    p = scratch_lstm.init_params(2, 2, rng, variant=variant)
    x, h, c = (rng.standard_normal((1, 2)) for _ in range(3))
    _, cache = scratch_lstm.step_forward(x, (h, c), p, variant=variant)
    dh, dc = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    dx, (dh_prev, dc_prev), grads = scratch_lstm.step_backward((dh, dc), cache)
    model = lstm.build_lstm(2, 2, 1, variant)
    back = lstm.closed_step(model, 1, sp.Matrix(dh[0]), sp.Matrix(dc[0]))
    values = lstm.numbers(model, p, x[0], h[0], c[0])

    def value(expr):
        return np.array(lstm.with_book_functions(expr).xreplace(values).evalf(20), dtype=float)

    np.testing.assert_allclose(value(back["h_prev"]).ravel(), dh_prev[0], atol=1e-13)
    np.testing.assert_allclose(value(back["c_prev"]).ravel(), dc_prev[0], atol=1e-13)
    np.testing.assert_allclose(value(back["x"]).ravel(), dx[0], atol=1e-13)
    for key, grad in grads.items():
        np.testing.assert_allclose(value(back[key]).reshape(grad.shape), grad, atol=1e-13)
    # and a planted slip gives other numbers where the variant has the term
    if variant in ("coupled", "peephole"):
        error = "coupled_sign" if variant == "coupled" else "peephole_prev"
        wrong = lstm.closed_step(model, 1, sp.Matrix(dh[0]), sp.Matrix(dc[0]), error=error)
        assert np.abs(value(wrong["c_prev"]).ravel() - dc_prev[0]).max() > 1e-6 or (
            np.abs(value(wrong["h_prev"]).ravel() - dh_prev[0]).max() > 1e-6
        )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: lstm.step_gradients("gru"), "variant: expected one of"),
        (lambda: lstm.step_gradients("standard", error="coupled_sign"), "slip in the derivation"),
        (lambda: lstm.step_gradients("standard", wrt="p"), "needs variant 'peephole'"),
        (lambda: lstm.step_gradients("standard", wrt="V"), "wrt: expected one of"),
        (lambda: lstm.step_gradients("standard", 0), "hidden_size: expected an int >= 1"),
        (lambda: lstm.parameter_gradient("p", "coupled"), "needs variant 'peephole'"),
        (lambda: lstm.cell_jacobian("standard", block="hh"), "block: expected one of"),
        (lambda: lstm.build_lstm(2, 2, 0), "steps: expected an int >= 1"),
        (lambda: lstm.step_gradients("standard", [2]), "hidden_size: expected an int >= 1"),
        (lambda: lstm.step_gradients("standard", wrt=["W"]), "expected ints and strings"),
    ],
)
def test_bad_arguments_are_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True, None])
@pytest.mark.parametrize(
    "call",
    [
        lambda v: lstm.build_lstm(v),
        lambda v: lstm.build_lstm(2, v),
        lambda v: lstm.state_gradients("standard", 2, 2, v),
        lambda v: lstm.step_gradients("peephole", 2, v),
        lambda v: lstm.cell_jacobian("coupled", v),
        lambda v: lstm.cell_path_only(v),
    ],
)
def test_bad_sizes(call, bad):
    with pytest.raises(ValueError, match="expected.*got"):
        call(bad)


def test_bad_arguments_of_the_helpers_are_value_errors():
    model = lstm.build_lstm(2, 2, 1, "standard")
    col = sp.zeros(2, 1)
    with pytest.raises(ValueError, match="expected a SymbolicLSTM"):
        lstm.closed_step("model", 1, col, col)
    with pytest.raises(ValueError, match=r"t: expected an int in 1..1"):
        lstm.closed_step(model, 2, col, col)
    with pytest.raises(ValueError, match=r"dc: expected a SymPy column of shape \(2, 1\)"):
        lstm.closed_step(model, 1, col, sp.zeros(3, 1))
    with pytest.raises(ValueError, match=r"t: expected an int in 0..1"):
        lstm.sympy_state_gradient(model, 5)
    with pytest.raises(ValueError, match="expected a SymPy expression"):
        lstm.with_book_functions(object())
    p = scratch_lstm.init_params(2, 2, np.random.default_rng(0))
    z2 = np.zeros(2)
    with pytest.raises(ValueError, match="params: expected the keys"):
        lstm.numbers(model, {"W_i": p["W_i"]}, z2, z2, z2)
    with pytest.raises(ValueError, match=r"params\['U_f'\]: expected shape \(2, 2\)"):
        lstm.numbers(model, p | {"U_f": np.zeros((2, 3))}, z2, z2, z2)
    with pytest.raises(ValueError, match=r"c_prev: expected shape \(2,\)"):
        lstm.numbers(model, p, z2, z2, np.zeros(3))
