"""rnnbook.symbolic.gru: the GRU's conventions and backward pass, each proof able to fail."""

import numpy as np
import pytest
import sympy as sp
import torch

from rnnbook import cells, convert
from rnnbook.scratch import gru as scratch_gru
from rnnbook.symbolic import gru
from rnnbook.symbolic._proof import decide


def test_every_gru_proof_holds_and_every_disagreement_fails():
    for p in gru.all_proofs():
        assert p.holds, (p.name, p.method)
    for p in gru.disagreements():
        assert not p.holds and p.method.startswith("counterexample"), (p.name, p.method)
        assert p.source


@pytest.mark.parametrize("reset", gru.RESETS)
@pytest.mark.parametrize("planted", gru.PLANTED)
def test_a_planted_error_in_the_sweep_fails(reset, planted):
    """Exercise 6-3's checks see a dropped U_h^T and a swapped z / 1 - z."""
    model = gru.build_gru(reset=reset)
    verdicts = {k: gru.gradient(k, reset=reset, planted=planted) for k in (*model.p, "h_0")}
    failed = [k for k, p in verdicts.items() if not p.holds]
    assert all(verdicts[k].method.startswith("counterexample") for k in failed)
    # dL/dh_0 carries every error back, so it sees both
    assert "h_0" in failed
    if planted == "z_swapped":
        assert {"W_h", "U_h", "b_h"} <= set(failed)
    elif reset == "before":
        assert {"W_r", "U_r", "b_r"} <= set(failed)


@pytest.mark.parametrize("reset", gru.RESETS)
def test_the_sweep_holds_for_update_replace(reset):
    model = gru.build_gru(reset=reset, update="replace")
    for k in (*model.p, "h_0"):
        assert gru.gradient(k, reset=reset, update="replace").holds, k


def test_the_input_gradient_holds_over_two_steps_and_fails_on_a_planted_error():
    """dL/dx_t = W_z^T delta_z + W_r^T delta_r + W_h^T delta_h, each step of a T = 2 unroll."""
    for reset in gru.RESETS:
        for key in ("x_1", "x_2"):
            assert gru.gradient(key, steps=2, reset=reset).holds, (reset, key)
    assert not gru.gradient("x_1", planted="z_swapped").holds
    assert not gru.gradient("x_1", planted="no_U_h_T").holds


def test_the_gate_limits_run_the_step_and_a_wrong_limit_fails():
    limits = gru.gate_limits()
    assert {"r0", "r1", "z0r1", "z0r0", "z1", "qa_r1"} == set(limits)
    # z = 0, r = 1 is the SRN step, which depends on h_{t-1}: it is not the z = 0, r = 0 case
    p = gru.symbolic_params(2, 1, "after")
    x, h = gru.vector("x", 1), gru.vector("h", 2)
    const = {v: (lambda a, v=v: sp.Integer(v)) for v in (0, 1)}
    z0r1 = gru.step(p, x, h, gate_z=const[0], gate_r=const[1])["h"]
    assert sp.expand(z0r1 - limits["z0r0"].rhs[:2, :]) != sp.zeros(2, 1)


def test_the_sweep_over_two_steps_and_a_planted_error_there():
    for p in gru.sequence_proofs(("h_0", "U_h")):
        assert p.holds, (p.name, p.method)
    assert not gru.gradient("h_0", steps=2, planted="z_swapped").holds


def test_keep_and_replace_differ_without_the_negated_gate():
    """The reparametrisation needs the sign change: the same parameters give another cell."""
    p = gru.symbolic_params(2, 2)
    x, h = gru.vector("x", 2), gru.vector("h", 2)
    keep = gru.step(p, x, h, update="keep", gate_z=gru.logistic)["h"]
    replace = gru.step(p, x, h, update="replace", gate_z=gru.logistic)["h"]
    holds, method = decide(keep, replace, rational=True)
    assert not holds and method.startswith("counterexample")


@pytest.mark.parametrize(("H", "with_d_h"), [(2, False), (1, True), (3, False)])
def test_reset_placements_differ_beyond_one_unit_or_with_d_h(H, with_d_h):
    assert gru.reset_placement(1).holds
    p = gru.reset_placement(H, with_d_h=with_d_h)
    assert not p.holds and p.method.startswith("counterexample"), p.method


def test_the_symbolic_step_matches_the_scratch_step_at_numbers():
    """The SymPy cell is rnnbook.scratch.gru's: the same numbers out for the same numbers in."""
    rng = np.random.default_rng(3)
    for reset in gru.RESETS:
        for update in gru.UPDATES:
            params = scratch_gru.init_params(2, 3, rng, reset=reset)
            x, h0 = rng.standard_normal((1, 2)), rng.standard_normal((1, 3))
            want, _ = scratch_gru.step_forward(x, h0, params, reset=reset, update=update)
            p = {k: sp.Matrix(v.reshape(v.shape[0], -1)) for k, v in params.items()}
            s = gru.step(p, sp.Matrix(x.T), sp.Matrix(h0.T), reset=reset, update=update)
            f = {gru.sigma: lambda a: 1 / (1 + sp.exp(-a)), gru.tanh: sp.tanh}
            got = s["h"].replace(gru.sigma, f[gru.sigma]).replace(gru.tanh, f[gru.tanh])
            got = np.array([float(v) for v in got.evalf()])
            np.testing.assert_allclose(got, want[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", cells.CELLS)
def test_parameter_counts_match_torch_at_several_sizes(cell):
    D_, H_ = gru.D_, gru.H_
    for D, H in ((1, 1), (3, 5), (7, 2), (16, 64)):
        module = convert.TORCH_CLASSES[cell](D, H)
        numel = sum(p.numel() for p in module.parameters())
        assert numel == gru.TORCH_COUNT_FORMULAS[cell].subs({D_: D, H_: H})
        book = gru.COUNT_FORMULAS[(cell, "after" if cell == "gru" else "standard")]
        extra = {"srn": H, "lstm": 4 * H, "gru": 2 * H}[cell]  # bias_hh beyond the book's
        assert numel == book.subs({D_: D, H_: H}) + extra
        assert isinstance(module, torch.nn.Module)


def test_a_wrong_count_formula_fails():
    p = gru.parameter_count("gru", "before")
    holds, method = decide(p.lhs, 3 * gru.H_ * (gru.H_ + gru.D_))
    assert not holds and method.startswith("counterexample")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gru.gradient("W_x"), "key: expected one of"),
        (lambda: gru.gradient("d_h", reset="before"), "key: expected one of"),
        (lambda: gru.gradient("W_z", reset="middle"), "reset: expected one of"),
        (lambda: gru.gradient("W_z", planted="typo"), "planted: expected one of"),
        (lambda: gru.build_gru(0), "hidden_size: expected an int >= 1"),
        (lambda: gru.update_reparametrisation("sideways"), "reset: expected one of"),
        (lambda: gru.reset_placement(2, with_d_h="yes"), "with_d_h: expected True or False"),
        (lambda: gru.parameter_count("rnn"), "cell"),
        (lambda: gru.parameter_count("gru", "standard"), "variant: expected one of"),
        (lambda: gru.review_concatenation(1.5), "expected an int"),
        (lambda: gru.step({}, None, sp.zeros(1, 1), update="maybe"), "update: expected one of"),
        (lambda: gru.step({}, None, sp.zeros(1, 1)), "p: expected the keys"),
        (
            lambda: gru.step(gru.symbolic_params(1, 1), None, sp.zeros(1, 1)),
            "expected SymPy columns",
        ),
        (lambda: gru.symbolic_params(1, 1, bias="no"), "bias: expected True or False"),
        (lambda: gru.symbolic_params(0, 1), "H: expected an int >= 1"),
        (lambda: gru.sweep("model"), "model: expected a SymbolicGRU"),
        (lambda: gru.gradient("W_z", None), "hidden_size: expected an int"),
    ],
)
def test_bad_arguments_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
