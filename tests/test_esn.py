"""The echo state network (rnnbook.esn): reservoir, echo state property, ridge readout.

The ESN has no backward pass: only the readout is trained, by a linear solve. Its
checks are therefore a second, independent solve (numpy.linalg.lstsq on the stacked
least-squares system), a check that the comparison fails on a planted error, and
behaviour: the spectral radius and the share of nonzero entries asked for, states that
forget where they started (radius 0.9) or do not (radius 3), and Mackey-Glass
prediction. The numbers are for the fixed seeds here, not claims for every reservoir.
"""

import numpy as np
import pytest

from rnnbook import esn, gradcheck
from rnnbook.data import mackey_glass


def _reservoir(seed=0, **kw):
    kw = {"spectral_radius": 0.9, "connectivity": 0.05, **kw}
    return esn.make_reservoir(100, 1, np.random.default_rng(seed), **kw)


# ---- the reservoir ------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.25, 3.0])
def test_the_reservoir_has_the_spectral_radius_asked_for(rho):
    W = _reservoir(spectral_radius=rho)["W"]
    # an independent computation: the largest |eigenvalue| from numpy.linalg.eig
    assert np.max(np.abs(np.linalg.eig(W)[0])) == pytest.approx(rho, rel=1e-10)
    assert esn.spectral_radius(W) == pytest.approx(rho, rel=1e-10)


@pytest.mark.parametrize(("N", "share"), [(100, 0.01), (200, 0.02), (150, 0.05)])
def test_the_share_of_nonzero_entries_is_the_connectivity(N, share):
    p = esn.make_reservoir(N, 2, np.random.default_rng(1), connectivity=share)
    assert np.count_nonzero(p["W"]) == round(share * N * N)
    assert p["W"].shape == (N, N) and p["W_in"].shape == (N, 2) and "W_back" not in p


def test_input_and_feedback_matrices_have_their_scales():
    p = esn.make_reservoir(
        50, 3, np.random.default_rng(2), input_scale=0.3, feedback=2, feedback_scale=0.1
    )
    assert p["W_in"].shape == (50, 3) and np.abs(p["W_in"]).max() <= 0.3
    assert p["W_back"].shape == (50, 2) and np.abs(p["W_back"]).max() <= 0.1
    assert np.abs(p["W_in"]).max() > 0.25  # the whole range is used


def test_the_same_seed_gives_the_same_reservoir():
    a, b = _reservoir(seed=3), _reservoir(seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W"], _reservoir(seed=4)["W"])


# ---- the update (ESN.1), written out once more by hand --------------------------------


def test_run_reservoir_follows_the_update_with_the_teacher_one_step_late():
    rng = np.random.default_rng(5)
    p = esn.make_reservoir(20, 2, rng, connectivity=0.2, feedback=3)
    u, y, x0 = rng.standard_normal((6, 2)), rng.standard_normal((6, 3)), rng.uniform(-1, 1, 20)
    states = esn.run_reservoir(p, u, x0=x0, y_teacher=y)
    x, y_prev = x0, np.zeros(3)
    for t in range(6):
        x = np.tanh(p["W_in"] @ u[t] + p["W"] @ x + p["W_back"] @ y_prev)
        np.testing.assert_allclose(states[t], x, rtol=0, atol=1e-14)
        y_prev = y[t]
    # a planted error: the teacher of the same step instead of the step before
    wrong = np.tanh(p["W_in"] @ u[0] + p["W"] @ x0 + p["W_back"] @ y[0])
    assert np.abs(states[0] - wrong).max() > 1e-3


# ---- the echo state property ----------------------------------------------------------
# A spectral radius below 1 is neither necessary nor sufficient for the echo state property
# in general (Jaeger 2001: a largest singular value below 1 suffices; a radius above 1 rules
# it out for zero input only). These tests show what happens at the fixed seeds, not a theorem.


def _distance_after(rho, steps=200, seed=0):
    p = _reservoir(seed=seed, spectral_radius=rho)
    drive = np.random.default_rng(10 + seed).uniform(-1, 1, (steps, 1))
    starts = np.random.default_rng(20 + seed).uniform(-1, 1, (2, 100))
    a = esn.run_reservoir(p, drive, x0=starts[0])
    b = esn.run_reservoir(p, drive, x0=starts[1])
    return np.linalg.norm(a[0] - b[0]), np.linalg.norm(a[-1] - b[-1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_starts_converge_at_radius_0_9(seed):
    first, last = _distance_after(0.9, seed=seed)
    assert first > 1.0 and last < 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_starts_do_not_converge_at_radius_3(seed):
    first, last = _distance_after(3.0, seed=seed)
    assert last > 1.0  # the states still differ by more than a unit after 200 steps


# ---- the ridge readout ------------------------------------------------------------------


def _lstsq_readout(Z, Y, ridge):
    """Ridge regression as plain least squares on [Z 1; sqrt(ridge) I 0] w = [Y; 0]."""
    T, F = Z.shape
    A = np.block([[Z, np.ones((T, 1))], [np.sqrt(ridge) * np.eye(F), np.zeros((F, 1))]])
    B = np.vstack([Y, np.zeros((F, Y.shape[1]))])
    w = np.linalg.lstsq(A, B, rcond=None)[0]  # (F + 1, O)
    return w[:-1].T, w[-1]


@pytest.mark.parametrize("output_feedback", [False, True])
@pytest.mark.parametrize("ridge", [0.0, 1e-3, 1.0])
def test_the_readout_is_the_least_squares_solution(ridge, output_feedback):
    rng = np.random.default_rng(6)
    T, N, D, O, washout = 40, 8, 2, 3, 5
    states, u, y = rng.standard_normal((T, N)), rng.standard_normal((T, D)), rng.random((T, O))
    r = esn.fit_readout(states, u, y, ridge=ridge, washout=washout, output_feedback=output_feedback)
    previous = np.vstack([np.zeros((1, O)), y[:-1]])  # y_{t-1}, built here again
    parts = [u, states, previous] if output_feedback else [u, states]
    Z = np.hstack(parts)[washout:]
    W_out, b_out = _lstsq_readout(Z, y[washout:], ridge)
    np.testing.assert_allclose(r["W_out"], W_out, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(r["b_out"], b_out, rtol=1e-8, atol=1e-10)
    prev = esn.shift_outputs(y) if output_feedback else None
    np.testing.assert_allclose(
        esn.predict(r, states, u, prev), _prediction(parts, W_out, b_out), atol=1e-10
    )


def _prediction(parts, W_out, b_out):
    return np.hstack(parts) @ W_out.T + b_out


def test_the_readout_check_fails_on_a_planted_error():
    """Penalising the bias too, or forgetting the washout, is caught by the same comparison."""
    rng = np.random.default_rng(7)
    states, u, y = rng.standard_normal((30, 6)), rng.standard_normal((30, 1)), rng.random((30, 2))
    y = y + 3.0  # a mean far from 0, so a penalised bias shows
    r = esn.fit_readout(states, u, y, ridge=1.0, washout=4)
    Z = np.hstack([u, states])[4:]
    A = np.hstack([Z, np.ones((26, 1))])
    wrong = np.linalg.solve(A.T @ A + 1.0 * np.eye(8), A.T @ y[4:])  # the bias penalised
    assert np.abs(r["b_out"] - wrong[-1]).max() > 1e-2
    W_all, _ = _lstsq_readout(np.hstack([u, states]), y, 1.0)  # no washout
    assert np.abs(r["W_out"] - W_all).max() > 1e-3


# ---- the ridge objective's gradient: by hand, by differences, by autograd -----------------


def _readout_problem(seed=8, output_feedback=True):
    rng = np.random.default_rng(seed)
    T, N, D, O = 25, 6, 2, 2
    states, u, y = rng.standard_normal((T, N)), rng.standard_normal((T, D)), rng.random((T, O))
    F = D + N + (O if output_feedback else 0)
    readout = {
        "W_out": rng.standard_normal((O, F)),
        "b_out": rng.standard_normal(O),
        "output_feedback": output_feedback,
    }
    return readout, states, u, y


@pytest.mark.parametrize("output_feedback", [False, True])
def test_the_ridge_gradient_matches_centred_differences_per_key(output_feedback):
    readout, states, u, y = _readout_problem(output_feedback=output_feedback)
    _, grads = esn.ridge_loss(readout, states, u, y, ridge=0.3, washout=3)
    arrays = {k: readout[k] for k in ("W_out", "b_out")}

    def loss(p):
        return esn.ridge_loss({**readout, **p}, states, u, y, ridge=0.3, washout=3)[0]

    errors = gradcheck.check_gradients(loss, arrays, grads)
    assert set(errors) == {"W_out", "b_out"} and max(errors.values()) < 1e-8


def test_the_ridge_gradient_matches_autograd():
    torch = pytest.importorskip("torch")
    readout, states, u, y = _readout_problem()
    _, grads = esn.ridge_loss(readout, states, u, y, ridge=0.3, washout=3)
    W = torch.tensor(readout["W_out"], requires_grad=True)
    b = torch.tensor(readout["b_out"], requires_grad=True)
    previous = np.vstack([np.zeros((1, 2)), y[:-1]])
    Z = torch.tensor(np.hstack([u, states, previous])[3:])
    loss = ((Z @ W.T + b - torch.tensor(y[3:])) ** 2).sum() + 0.3 * (W**2).sum()
    loss.backward()
    assert gradcheck.relative_error(grads["W_out"], W.grad.numpy()) < 1e-12
    assert gradcheck.relative_error(grads["b_out"], b.grad.numpy()) < 1e-12


def test_the_gradient_check_fails_on_a_planted_error():
    """The hand gradient with the ridge term dropped is caught, on W_out only."""
    readout, states, u, y = _readout_problem()
    _, grads = esn.ridge_loss(readout, states, u, y, ridge=0.3, washout=3)
    planted = {"W_out": grads["W_out"] - 2 * 0.3 * readout["W_out"], "b_out": grads["b_out"]}
    arrays = {k: readout[k] for k in ("W_out", "b_out")}

    def loss(p):
        return esn.ridge_loss({**readout, **p}, states, u, y, ridge=0.3, washout=3)[0]

    errors = gradcheck.check_gradients(loss, arrays, planted)
    assert errors["W_out"] > 1e-3 and errors["b_out"] < 1e-8


def test_the_fitted_readout_is_a_stationary_point_of_the_objective():
    _, states, u, y = _readout_problem()
    fitted = esn.fit_readout(states, u, y, ridge=0.3, washout=3, output_feedback=True)
    _, grads = esn.ridge_loss(fitted, states, u, y, ridge=0.3, washout=3)
    assert max(np.abs(g).max() for g in grads.values()) < 1e-10
    moved = {**fitted, "b_out": fitted["b_out"] + 1e-3}
    assert (
        np.abs(esn.ridge_loss(moved, states, u, y, ridge=0.3, washout=3)[1]["b_out"]).max() > 1e-3
    )


# ---- Mackey-Glass: one-step prediction and free running ---------------------------------


@pytest.fixture(scope="module")
def series():
    return mackey_glass(2301) - 1.0  # tau = 17, centred near 0


def test_one_step_prediction_of_mackey_glass(series):
    u, y = series[:-1, None], series[1:, None]  # predict x(t + 1) from x(t)
    p = esn.make_reservoir(200, 1, np.random.default_rng(0), connectivity=0.02)
    states = esn.run_reservoir(p, u)
    train = 1500
    r = esn.fit_readout(states[:train], u[:train], y[:train], ridge=1e-6, washout=100)
    error = esn.nrmse(esn.predict(r, states[train:], u[train:]), y[train:])
    persistence = esn.nrmse(u[train:], y[train:])  # predict x(t + 1) = x(t)
    assert error < 0.05 and error < persistence / 10


def test_free_running_generator_continues_mackey_glass(series):
    y = np.tanh(series)[:, None]
    u = np.ones_like(y)  # a constant input, which acts as a bias of the reservoir
    p = esn.make_reservoir(
        200, 1, np.random.default_rng(0), input_scale=0.2, feedback=1, feedback_scale=0.5
    )
    train = 2000
    states = esn.run_reservoir(p, u[:train], y_teacher=y[:train])
    r = esn.fit_readout(states, u[:train], y[:train], ridge=1e-8, washout=100)
    out, gen_states = esn.generate(p, r, u[train:], x0=states[-1], y0=y[train - 1])
    assert esn.nrmse(out[:50], y[train : train + 50]) < 0.1
    # self-consistency: teacher-forcing with the generated outputs gives the same states
    again = esn.run_reservoir(p, u[train:], x0=states[-1], y_teacher=out, y0=y[train - 1])
    np.testing.assert_allclose(again, gen_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(esn.predict(r, gen_states, u[train:]), out, atol=1e-12)


def test_nrmse():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert esn.nrmse(y, y) == 0.0
    assert esn.nrmse(np.full(4, y.mean()), y) == pytest.approx(1.0)


# ---- bad input ------------------------------------------------------------------------


def _good():
    rng = np.random.default_rng(0)
    p = esn.make_reservoir(10, 2, rng, connectivity=0.3)
    return p, rng.standard_normal((5, 2)), rng.standard_normal((5, 10)), rng.random((5, 1))


BAD = [
    (lambda p, u, s, y: esn.make_reservoir(0, 1, np.random.default_rng(0)), "N must be an int"),
    (lambda p, u, s, y: esn.make_reservoir(5, 1.5, np.random.default_rng(0)), "D must be an int"),
    (lambda p, u, s, y: esn.make_reservoir(5, 1, 0), "rng must be a numpy.random.Generator"),
    (
        lambda p, u, s, y: esn.make_reservoir(5, 1, np.random.default_rng(0), spectral_radius=0),
        "spectral_radius must be a finite number > 0",
    ),
    (
        lambda p, u, s, y: esn.make_reservoir(5, 1, np.random.default_rng(0), connectivity=1.5),
        r"connectivity must be a finite number > 0 and <= 1, got float 1.5",
    ),
    (
        lambda p, u, s, y: esn.make_reservoir(5, 1, np.random.default_rng(0), feedback=0),
        "feedback must be an int >= 1",
    ),
    (
        lambda p, u, s, y: esn.make_reservoir(40, 1, np.random.default_rng(0), connectivity=1e-4),
        "cannot be scaled",
    ),
    (lambda p, u, s, y: esn.spectral_radius(np.zeros((2, 3))), r"W must be square"),
    (lambda p, u, s, y: esn.run_reservoir(p, u[:, :1]), r"u must have shape \(T, D\) = \(\*, 2\)"),
    (lambda p, u, s, y: esn.run_reservoir(p, u.astype(np.float32)), "dtype"),
    (lambda p, u, s, y: esn.run_reservoir(p, u, x0=np.zeros(3)), r"x0 must have shape \(N,\)"),
    (lambda p, u, s, y: esn.run_reservoir(p, u, y_teacher=y), "has no W_back"),
    (
        lambda p, u, s, y: esn.run_reservoir(
            esn.make_reservoir(10, 2, np.random.default_rng(0), connectivity=0.3, feedback=1), u
        ),
        r"y_teacher \(T, O\) needed",
    ),
    (lambda p, u, s, y: esn.run_reservoir({"W": p["W"]}, u), "missing \\['W_in'\\]"),
    (lambda p, u, s, y: esn.run_reservoir(p, np.zeros((0, 2))), "at least one step"),
    (lambda p, u, s, y: esn.fit_readout(s, u, y, washout=5), "washout must be < T = 5"),
    (lambda p, u, s, y: esn.fit_readout(s, u, y, washout=1, ridge=-1.0), "ridge must be"),
    (lambda p, u, s, y: esn.fit_readout(s[:4], u, y, washout=1), r"states must have shape"),
    (
        lambda p, u, s, y: esn.fit_readout(s, u, y, washout=1, output_feedback=1),
        "output_feedback must be True or False",
    ),
    (
        lambda p, u, s, y: esn.predict(esn.fit_readout(s, u, y, washout=1), s, u, y),
        "previous_outputs must be given exactly when",
    ),
    (
        lambda p, u, s, y: esn.predict(esn.fit_readout(s, u, y, washout=1), s[:, :3], u),
        "the readout expects F = 12",
    ),
    (
        lambda p, u, s, y: esn.generate(
            p, esn.fit_readout(s, u, y, washout=1), u, x0=np.zeros(10), y0=np.zeros(1)
        ),
        "generate needs output feedback",
    ),
    (lambda p, u, s, y: esn.nrmse(np.zeros(3), np.ones(3)), "nonzero variance"),
    (
        lambda p, u, s, y: esn.ridge_loss(
            esn.fit_readout(s, u, y, washout=1), s, u, np.hstack([y, y]), washout=1
        ),
        r"the readout \(O, F\) = \(1, 12\) does not fit",
    ),
    (lambda p, u, s, y: esn.nrmse(np.zeros(3), np.ones(4)), "target must have shape"),
]


@pytest.mark.parametrize(("call", "match"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_is_a_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(*_good())
