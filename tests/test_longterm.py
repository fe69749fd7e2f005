"""rnnbook.longterm: the measurements of chapter 5, each against an independent computation."""

import numpy as np
import pytest
import torch

from rnnbook import longterm


def _problem(seed=0, H=5, D=3, T=12, B=2, radius=1.2):
    g = np.random.default_rng(seed)
    U = longterm.with_radius(g.standard_normal((H, H)) / np.sqrt(H), radius)
    params = dict(W=g.standard_normal((H, D)) / np.sqrt(D), U=U, b=0.1 * g.standard_normal(H))
    return params, g.standard_normal((T, B, D)), g.standard_normal((B, H))


def _autograd_norms(params, x, v, activation):
    """||dL/dh_k|| with L = sum(v * h_T), from PyTorch's autograd on the unrolled network."""
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    W, U, b = (torch.tensor(params[k]) for k in ("W", "U", "b"))
    h = torch.zeros(x.shape[1], U.shape[0], dtype=torch.float64, requires_grad=True)
    states = [h]
    for x_t in torch.tensor(x):
        h = f(h @ U.T + x_t @ W.T + b)
        h.retain_grad()
        states.append(h)
    (h * torch.tensor(v)).sum().backward()
    return np.array([s.grad.norm(dim=1).numpy() for s in reversed(states)])  # (T+1, B)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_gradient_norms_by_jacobians_by_bptt_and_by_autograd_agree(activation):
    params, x, v = _problem()
    jac = longterm.state_gradient_norms(params, x, v, activation=activation)
    bptt = longterm.state_gradient_norms(params, x, v, activation=activation, method="bptt")
    ref = _autograd_norms(params, x, v, activation)
    assert jac.shape == (x.shape[0] + 1, x.shape[1])
    np.testing.assert_allclose(jac, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(bptt, ref, rtol=1e-12, atol=1e-300)


def test_the_comparison_catches_a_transposed_recurrent_matrix():
    """The check can fail: U in place of U^T (the wrong product order) gives other norms."""
    params, x, v = _problem(seed=1)
    ref = _autograd_norms(params, x, v, "tanh")
    # a planted error: run the recursion with U^T, i.e. dL/dh_{k-1} = U diag(f') dL/dh_k
    wrong = dict(params, U=params["U"].T.copy())
    h, z = longterm.srn_states(params, x, activation="tanh")
    g, norms = v.copy(), [np.linalg.norm(v, axis=1)]
    for k in range(x.shape[0], 0, -1):
        g = (g * (1 - np.tanh(z[k]) ** 2)) @ wrong["U"]
        norms.append(np.linalg.norm(g, axis=1))
    assert not np.allclose(np.array(norms), ref, rtol=1e-6)


def test_the_norms_obey_the_bound_with_the_spectral_norm():
    params, x, v = _problem(seed=2, radius=0.9)
    for activation, beta in (("tanh", 1.0), ("sigmoid", 0.25)):
        n = longterm.state_gradient_norms(params, x, v, activation=activation)
        bound = (beta * np.linalg.norm(params["U"], 2)) ** np.arange(n.shape[0])
        assert np.all(n <= bound[:, None] * n[0] * (1 + 1e-12))


def test_decay_rate_of_a_geometric_sequence_and_bad_input():
    n = 3.0 * 0.7 ** np.arange(20)
    assert longterm.decay_rate(n) == pytest.approx(0.7, rel=1e-12)
    both = np.stack([n, 2.0 ** np.arange(20)], axis=1)
    np.testing.assert_allclose(longterm.decay_rate(both, start=3), [0.7, 2.0], rtol=1e-12)
    with pytest.raises(ValueError, match="positive and finite"):
        longterm.decay_rate(np.array([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="N >= start"):
        longterm.decay_rate(np.ones(3), start=2)


def test_power_norms_radius_norm_and_gelfand():
    s = longterm.power_norms(np.diag([2.0, 0.5]), 5)
    np.testing.assert_allclose(s["radius"], 2.0 ** s["n"])
    np.testing.assert_allclose(s["norm"], 2.0 ** s["n"])
    np.testing.assert_allclose(s["smallest"], 0.5 ** s["n"])
    # not normal: radius 0.8 and norm above 2, growth first, then the radius's rate
    N = np.array([[0.8, 2.0], [0.0, 0.8]])
    s = longterm.power_norms(N, 400)
    assert s["norm"][0] > 2 and s["norm"].max() > 1.5 * s["norm"][0]
    assert s["norm"][-1] ** (1 / 400) == pytest.approx(0.8, rel=0.02)
    np.testing.assert_allclose(s["radius"], 0.8 ** s["n"], rtol=1e-6)
    with pytest.raises(ValueError, match="square"):
        longterm.power_norms(np.ones((2, 3)), 3)
    with pytest.raises(ValueError, match="n_max"):
        longterm.power_norms(N, 0)


def test_with_radius_and_spectral_radius():
    U = np.random.default_rng(3).standard_normal((6, 6))
    assert longterm.spectral_radius(longterm.with_radius(U, 1.1)) == pytest.approx(1.1)
    with pytest.raises(ValueError, match="radius must be a positive number"):
        longterm.with_radius(U, 0)
    with pytest.raises(ValueError, match="square"):
        longterm.spectral_radius(np.ones((2, 3)))


def test_one_unit_gradient_matches_finite_differences():
    w = np.array([4.0, 5.0, 6.5])
    b = np.array([-2.0, -2.7, -1.5])
    _, gw, gb = longterm.one_unit(w, b)
    eps = 1e-6
    num_w = (longterm.one_unit(w + eps, b)[0] - longterm.one_unit(w - eps, b)[0]) / (2 * eps)
    num_b = (longterm.one_unit(w, b + eps)[0] - longterm.one_unit(w, b - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(gw, num_w, rtol=1e-5)
    np.testing.assert_allclose(gb, num_b, rtol=1e-5)
    with pytest.raises(ValueError, match="w must be finite"):
        longterm.one_unit(np.nan, 0.0)
    with pytest.raises(ValueError, match="T must be an int"):
        longterm.one_unit(1.0, 0.0, T=0)


def test_descend_plain_and_clipped():
    plain = longterm.descend((5.5, -1.75), 3, 0.01)
    # plain gradient descent: each step is -lr times the gradient
    _, gw, gb = longterm.one_unit(5.5, -1.75)
    assert plain["w"][1] == pytest.approx(5.5 - 0.01 * gw)
    assert plain["b"][1] == pytest.approx(-1.75 - 0.01 * gb)
    normed = longterm.descend((5.5, -1.75), 200, 0.01, clip="norm", threshold=1.0)
    steps = np.hypot(np.diff(normed["w"]), np.diff(normed["b"]))
    assert steps.max() <= 0.01 * (1 + 1e-12)
    valued = longterm.descend((5.5, -1.75), 200, 0.01, clip="value", threshold=1.0)
    assert np.abs(np.diff(valued["w"])).max() <= 0.01 * (1 + 1e-12)
    assert np.abs(np.diff(valued["b"])).max() <= 0.01 * (1 + 1e-12)
    with pytest.raises(ValueError, match="clip must be one of"):
        longterm.descend((5.5, -1.75), 3, 0.01, clip="global")
    with pytest.raises(ValueError, match="lr must be a positive number"):
        longterm.descend((5.5, -1.75), 3, -0.01)
    with pytest.raises(ValueError, match=r"start must be a pair \(w, b\)"):
        longterm.descend((5.5, -1.75, 0.0), 3, 0.01)


def test_additive_recurrences():
    g = np.random.default_rng(4)
    p = dict(W=g.standard_normal((3, 2)), U=np.eye(3), b=np.zeros(3))
    x = g.standard_normal((30, 4, 2))
    h31, _ = longterm.additive_forward(p, x, reads_state=False)
    increments = 1 / (1 + np.exp(-(x @ p["W"].T)))  # sigma(W x_t), whatever the state
    np.testing.assert_allclose(np.diff(h31, axis=0), increments, rtol=1e-12)
    # (6.32) with U = 0 is (6.31)
    h32, _ = longterm.additive_forward(dict(p, U=np.zeros((3, 3))), x, reads_state=True)
    np.testing.assert_allclose(h32, h31, rtol=1e-12)
    with pytest.raises(ValueError, match="reads_state must be True or False"):
        longterm.additive_forward(p, x, reads_state=1)


@pytest.mark.parametrize("reads_state", [False, True])
def test_input_influence_matches_autograd(reads_state):
    g = np.random.default_rng(5)
    H, D, T, B = 3, 2, 8, 2
    p = dict(W=g.standard_normal((H, D)), U=0.5 * g.standard_normal((H, H)), b=np.zeros(H))
    x = g.standard_normal((T, B, D))
    got = longterm.input_influence(p, x, reads_state=reads_state)

    def h_T(xs):  # (T, D) -> (H,) for one example
        W, U, b = (torch.tensor(p[k]) for k in ("W", "U", "b"))
        h = torch.zeros(H, dtype=torch.float64)
        for x_t in xs:
            h = h + torch.sigmoid(W @ x_t + (U @ h if reads_state else 0) + b)
        return h

    for i in range(B):
        J = torch.autograd.functional.jacobian(h_T, torch.tensor(x[:, i]))  # (H, T, D)
        ref = [np.linalg.norm(J[:, t].numpy(), 2) for t in range(T)]
        np.testing.assert_allclose(got[:, i], ref, rtol=1e-10)


def test_state_gradient_norms_bad_input():
    params, x, v = _problem()
    with pytest.raises(ValueError, match="method must be one of"):
        longterm.state_gradient_norms(params, x, v, method="rtrl")
    with pytest.raises(ValueError, match="v"):
        longterm.state_gradient_norms(params, x, v[:, :2])
    with pytest.raises(ValueError, match="keys 'W', 'U', 'b'"):
        longterm.state_gradient_norms({"U": params["U"]}, x, v)
    with pytest.raises(ValueError, match="float64"):
        longterm.state_gradient_norms(params, x.astype(np.float32), v)
    with pytest.raises(ValueError, match="activation must be one of"):
        longterm.state_gradient_norms(params, x, v, activation="gelu")


def test_build_model_uses_the_books_initialisations():
    rnn, head = longterm.build_model("irnn", 6, 0)
    assert rnn.nonlinearity == "relu"
    np.testing.assert_array_equal(rnn.weight_hh_l0.detach().numpy(), np.eye(6))
    assert float((rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().abs().max()) == 0.0
    rnn, _ = longterm.build_model("srn_orth", 6, 0)
    U = rnn.weight_hh_l0.detach().double().numpy()
    np.testing.assert_allclose(U @ U.T, np.eye(6), atol=1e-6)
    rnn, _ = longterm.build_model("gru", 6, 0)
    assert isinstance(rnn, torch.nn.GRU) and head.out_features == 1
    with pytest.raises(ValueError, match="model must be one of"):
        longterm.build_model("transformer", 6, 0)


def test_train_long_lag_is_deterministic_and_checks_its_arguments():
    a = longterm.train_long_lag("srn", 6, 0, steps=5, evaluate=(2,), n_test=50)
    b = longterm.train_long_lag("srn", 6, 0, steps=5, evaluate=(2,), n_test=50)
    assert a == b and sorted(a["test_mse"]) == [2, 5]
    assert 0 <= a["clipped"] <= 1 and a["max_grad_norm"] > 0
    with pytest.raises(ValueError, match="evaluate must lie"):
        longterm.train_long_lag("srn", 6, 0, steps=5, evaluate=(10,))
    with pytest.raises(ValueError, match="T must be an int >= 2"):
        longterm.train_long_lag("srn", 1, 0, steps=5)


def test_success_threshold():
    assert longterm.succeeded(0.0166) and not longterm.succeeded(1 / 60 + 1e-9)


def test_train_long_lag_clipping_options():
    kw = dict(steps=4, evaluate=(4,), n_test=20, optimizer="sgd", lr=0.01)
    none = longterm.train_long_lag("irnn", 8, 0, clip=None, **kw)
    normed = longterm.train_long_lag("irnn", 8, 0, clip=1.0, **kw)
    valued = longterm.train_long_lag("irnn", 8, 0, clip=1.0, clip_kind="value", **kw)
    # the first gradient is the same in all three (same weights, same batch)
    assert none["grad_norm"][0] == normed["grad_norm"][0] == valued["grad_norm"][0] > 1.0
    assert none["clipped"] == 0.0 and normed["clipped"] > 0 and valued["clipped"] > 0
    # the first loss is the same, the second differs: the first step was clipped
    assert none["loss"][0] == normed["loss"][0] and none["loss"][1] != normed["loss"][1]
    with pytest.raises(ValueError, match="clip_kind must be one of"):
        longterm.train_long_lag("irnn", 8, 0, clip_kind="global", **kw)
    with pytest.raises(ValueError, match="clip must be a positive number or None"):
        longterm.train_long_lag("irnn", 8, 0, clip=0.0, **kw)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        longterm.train_long_lag("irnn", 8, 0, optimizer="rmsprop")


def test_srn_states_are_the_cells_states():
    from rnnbook.scratch import srn

    params, x, _ = _problem(seed=6)
    for activation in ("tanh", "sigmoid", "relu", "identity"):
        h, z = longterm.srn_states(params, x, activation=activation)
        out, _ = srn.forward(x, None, params, activation=activation)
        np.testing.assert_allclose(h[1:], out, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(h[0], 0.0)
    with pytest.raises(ValueError, match="h0"):
        longterm.srn_states(params, x, h0=np.zeros((1, 5)))
