"""Every NumPy cell's step, every option: each parameter's gradient against finite
differences on its own scale, and each variant's own lines shown to matter.

The other test files compare all gradients of a step concatenated, with one floor;
a small gradient (a peephole's, the GRU's d_h) is then checked per key only by
autograd. Here every key is compared with its own finite differences alone.
"""

import itertools

import numpy as np
import pytest

from rnnbook import cells
from rnnbook.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch import cell_module

B, D, H, O = 3, 4, 5, 2
#: finite differences at eps = 1e-6 resolve a gradient of size ~0.1 to about 1e-9
TOL = 1e-6


def _all_options(cell):
    names = list(cells.OPTIONS[cell])
    for values in itertools.product(*cells.OPTIONS[cell].values()):
        opts = dict(zip(names, values, strict=True))
        # the Jordan network's other output activations are tested in test_scratch_srn.py
        if cell == "srn" and opts["output_activation"] not in ("identity", "softmax"):
            continue
        if (
            cell == "srn"
            and opts["feedback"] == "hidden"
            and opts["output_activation"] != "identity"
        ):
            continue
        yield cell, opts


CASES = [case for cell in cells.CELLS for case in _all_options(cell)]
IDS = [f"{c}-" + "-".join(map(str, o.values())) for c, o in CASES]


def make_step(cell, opts, seed):
    """Parameters, an input, a previous state and the gradient arriving at the new state."""
    rng = np.random.default_rng(seed)
    module = cell_module(cell)
    jordan = cell == "srn" and opts["feedback"] == "output"
    extra = {"output_size": O} if jordan else {}
    p = module.init_params(D, H, rng, **opts, **extra)
    x_t = rng.standard_normal((B, D))
    S = O if jordan else H
    if cell == "lstm":
        state = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
        d_state = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
    else:
        state, d_state = rng.standard_normal((B, S)), rng.standard_normal((B, S))
    return module, p, x_t, state, d_state


def step_loss(module, opts, x_t, state, p, d_state):
    """L = <d_state, the new state>, so that dL/d(new state) = d_state."""
    new, _ = module.step_forward(x_t, state, p, **opts)
    if isinstance(new, tuple):
        return sum(np.sum(a * d) for a, d in zip(new, d_state, strict=True))
    return np.sum(new * d_state)


def per_key_errors(cell, opts, seed, plant=None):
    """The relative error of every gradient of one step, each against its own finite differences."""
    module, p, x_t, state, d_state = make_step(cell, opts, seed)
    _, cache = module.step_forward(x_t, state, p, **opts)
    dx, d_prev, grads = module.step_backward(d_state, cache)
    if plant is not None:
        grads[plant] = grads[plant] * 1.001
    assert grads.keys() == p.keys()

    def loss(_=None):
        return step_loss(module, opts, x_t, state, p, d_state)

    errors = {"x_t": relative_error(dx, numerical_gradient(loss, x_t))}
    states = state if isinstance(state, tuple) else (state,)
    d_prevs = d_prev if isinstance(d_prev, tuple) else (d_prev,)
    for k, (s, ds) in enumerate(zip(states, d_prevs, strict=True)):
        errors[f"state[{k}]"] = relative_error(ds, numerical_gradient(loss, s))
    for key in p:
        numeric = numerical_gradient(loss, p[key])
        # the check is on the key's own scale only if its gradient is not ~0
        assert np.abs(numeric).max() > 1e-3, (key, np.abs(numeric).max())
        errors[key] = relative_error(grads[key], numeric)
    return errors


@pytest.mark.parametrize(("cell", "opts"), CASES, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_key_of_a_step_matches_its_finite_differences(cell, opts, seed):
    errors = per_key_errors(cell, opts, seed)
    bad = {k: e for k, e in errors.items() if not e < TOL}
    assert not bad, bad


@pytest.mark.parametrize(
    ("cell", "opts", "key"),
    [
        ("lstm", {"variant": "peephole"}, "p_o"),
        ("gru", {"reset": "after", "update": "keep"}, "d_h"),
        ("srn", {"feedback": "output", "output_activation": "softmax"}, "c"),
    ],
)
def test_the_per_key_check_catches_a_planted_error_of_a_tenth_of_a_percent(cell, opts, key):
    opts = cells.options(cell, opts)
    errors = per_key_errors(cell, opts, 0, plant=key)
    assert errors[key] > 10 * TOL
    assert all(e < TOL for k, e in errors.items() if k != key)


def _shared_lstm_params(seed):
    """One set of LSTM weights that every variant can read (a variant ignores keys it lacks)."""
    rng = np.random.default_rng(seed)
    return cell_module("lstm").init_params(D, H, rng, variant="peephole")


def _lstm_step(variant, p, x_t, state):
    keys = cells.param_shapes("lstm", D, H, variant=variant)
    return cell_module("lstm").step_forward(x_t, state, {k: p[k] for k in keys}, variant=variant)


def test_each_lstm_variant_changes_exactly_its_equations():
    """Read off the step's cache: each variant changes the equations it names, no others."""
    p = _shared_lstm_params(0)
    rng = np.random.default_rng(1)
    x_t = rng.standard_normal((B, D))
    state = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))  # h_{t-1}, c_{t-1}
    _, std = _lstm_step("standard", p, x_t, state)
    _, nof = _lstm_step("no_forget", p, x_t, state)
    _, pee = _lstm_step("peephole", p, x_t, state)
    _, cpl = _lstm_step("coupled", p, x_t, state)
    same = np.testing.assert_allclose
    # (6.42) no forget gate: i, o, c~ as in the standard cell; c_t = c_{t-1} + i_t * c~_t
    for k in ("i", "o", "c_tilde"):
        same(nof[k], std[k], rtol=1e-15)
    same(nof["c"], state[1] + std["i"] * std["c_tilde"], rtol=1e-14)
    assert nof["f"] is None
    # (6.46) coupled: f_t = 1 - i_t, the rest of the standard equations
    same(cpl["f"], 1 - std["i"], rtol=1e-15)
    same(cpl["c"], cpl["f"] * state[1] + std["i"] * std["c_tilde"], rtol=1e-14)
    # (6.43)-(6.45) peephole: every sigmoid gate moves; the candidate does not
    same(pee["c_tilde"], std["c_tilde"], rtol=1e-15)
    for k in ("i", "f", "o"):
        assert np.abs(pee[k] - std[k]).max() > 1e-3, k
    # (6.45) the output gate looks at the new c_t: recompute it from the cache alone
    a_o = x_t @ p["W_o"].T + state[0] @ p["U_o"].T + p["b_o"] + p["p_o"] * pee["c"]
    same(pee["o"], 1 / (1 + np.exp(-a_o)), rtol=1e-13)


def test_each_gru_convention_changes_exactly_its_equation():
    rng = np.random.default_rng(2)
    p = cell_module("gru").init_params(D, H, rng, reset="after")
    x_t, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    before = {k: v for k, v in p.items() if k != "d_h"}
    step = cell_module("gru").step_forward
    _, keep = step(x_t, h, before, reset="before", update="keep")
    _, repl = step(x_t, h, before, reset="before", update="replace")
    _, after = step(x_t, h, p, reset="after", update="keep")
    # the update convention changes (6.50) only
    for k in ("z", "r", "h_tilde"):
        np.testing.assert_allclose(repl[k], keep[k], rtol=1e-15)
    np.testing.assert_allclose(keep["h"], keep["z"] * h + (1 - keep["z"]) * keep["h_tilde"])
    np.testing.assert_allclose(repl["h"], (1 - repl["z"]) * h + repl["z"] * repl["h_tilde"])
    # the reset convention changes (6.48) only: each candidate recomputed from its formula
    for k in ("z", "r"):
        np.testing.assert_allclose(after[k], keep[k], rtol=1e-15)
    r = keep["r"]
    a_before = x_t @ p["W_h"].T + (r * h) @ p["U_h"].T + p["b_h"]
    a_after = x_t @ p["W_h"].T + p["b_h"] + r * (h @ p["U_h"].T + p["d_h"])
    np.testing.assert_allclose(keep["h_tilde"], np.tanh(a_before), rtol=1e-13)
    np.testing.assert_allclose(after["h_tilde"], np.tanh(a_after), rtol=1e-13)
    assert np.abs(after["h_tilde"] - keep["h_tilde"]).max() > 1e-3
