"""Time-delay embedding, the TDNN and NARX least-squares fits."""

import numpy as np
import pytest

from rnnbook import delay
from rnnbook.data import narx_plant, narx_system


def test_delay_embed_hand_example():
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])  # T=4, D=2
    E = delay.delay_embed(x, 3)
    expected = np.array(
        [
            [3.0, 30.0, 2.0, 20.0, 1.0, 10.0],  # t = 2: x_2, x_1, x_0
            [4.0, 40.0, 3.0, 30.0, 2.0, 20.0],  # t = 3
        ]
    )
    assert E.shape == (2, 6)
    np.testing.assert_array_equal(E, expected)
    np.testing.assert_array_equal(delay.delay_embed(x, 1), x)


def test_narx_design_hand_example():
    x = np.arange(1.0, 6.0)[:, None]  # x_t = t + 1, T = 5
    y = 10 * np.arange(1.0, 6.0)[:, None]  # y_t = 10 (t + 1)
    Phi, Y = delay.narx_design(x, y, p=1, q=2)
    # rows t = 2, 3, 4: [x_t, x_{t-1}, y_{t-1}, y_{t-2}]
    expected = np.array([[3.0, 2.0, 20.0, 10.0], [4.0, 3.0, 30.0, 20.0], [5.0, 4.0, 40.0, 30.0]])
    np.testing.assert_array_equal(Phi, expected)
    np.testing.assert_array_equal(Y, [[30.0], [40.0], [50.0]])
    Phi0, Y0 = delay.narx_design(x, y, p=0, q=0)
    np.testing.assert_array_equal(Phi0, x)
    np.testing.assert_array_equal(Y0, y)


def test_narx_design_shapes():
    x = np.zeros((50, 3))
    y = np.zeros((50, 2))
    Phi, Y = delay.narx_design(x, y, p=4, q=6)
    assert Phi.shape == (44, 5 * 3 + 6 * 2)
    assert Y.shape == (44, 2)


def _arx_data(T, rng):
    # y_t = 0.5 y_{t-1} - 0.2 y_{t-2} + 1.5 x_t - 0.7 x_{t-1} + 0.3
    x = rng.normal(size=(T, 1))
    y = np.zeros((T, 1))
    for t in range(2, T):
        y[t] = 0.5 * y[t - 1] - 0.2 * y[t - 2] + 1.5 * x[t] - 0.7 * x[t - 1] + 0.3
    return x, y


def test_linear_fit_recovers_arx_coefficients_exactly():
    x, y = _arx_data(300, np.random.default_rng(0))
    params = delay.fit_narx(x, y, p=1, q=2)
    # column order [x_t, x_{t-1}, y_{t-1}, y_{t-2}]
    np.testing.assert_allclose(params["V"], [[1.5, -0.7, 0.5, -0.2]], atol=1e-8)
    np.testing.assert_allclose(params["c"], [0.3], atol=1e-8)
    pred = delay.narx_one_step(params, x, y, 1, 2)
    np.testing.assert_allclose(pred, y[2:], atol=1e-8)
    free = delay.narx_free_run(params, x, y[:2], 1, 2)
    np.testing.assert_allclose(free, y, atol=1e-7)


def test_ridge_shrinks_but_keeps_bias_free():
    x, y = _arx_data(300, np.random.default_rng(1))
    big = delay.fit_narx(x, y, p=1, q=2, ridge=1e6)
    assert np.abs(big["V"]).max() < 0.05
    np.testing.assert_allclose(big["c"], y[2:].mean(axis=0), rtol=0.05)


def test_random_feature_narx_beats_linear_on_the_plant():
    rng = np.random.default_rng(2)
    x, y = narx_system(1000, rng)
    lin = delay.fit_narx(x[:700], y[:700], 1, 2)
    rf = delay.fit_narx(x[:700], y[:700], 1, 2, hidden=100, ridge=1e-6, rng=rng)
    err_lin = np.sqrt(np.mean((delay.narx_one_step(lin, x[700:], y[700:], 1, 2) - y[702:]) ** 2))
    err_rf = np.sqrt(np.mean((delay.narx_one_step(rf, x[700:], y[700:], 1, 2) - y[702:]) ** 2))
    assert err_rf < 0.5 * err_lin
    assert set(rf) == {"W", "b", "V", "c"}
    assert rf["W"].shape == (100, 4) and rf["V"].shape == (1, 100)


def test_free_run_equals_one_step_when_model_is_exact():
    # the plant's own output fed back is what the model predicts: free run == data
    x, y = _arx_data(60, np.random.default_rng(3))
    params = delay.fit_narx(x, y, 1, 2)
    assert np.abs(delay.narx_free_run(params, x, y[:2], 1, 2) - y).max() < 1e-7


def test_tdnn_forward_matches_loop_and_is_a_convolution():
    rng = np.random.default_rng(4)
    D, K, H, O, T = 2, 3, 5, 1, 9
    params = delay.tdnn_init(D, K, H, O, rng)
    x = rng.normal(size=(T, D))
    out = delay.tdnn_forward(x, params)
    assert out.shape == (T - K + 1, O)
    for t in range(K - 1, T):
        window = np.concatenate([x[t - k] for k in range(K)])
        h = np.tanh(params["W"] @ window + params["b"])
        np.testing.assert_allclose(out[t - K + 1], params["V"] @ h + params["c"], atol=1e-12)
    # shifting the input in time shifts the output: weights are shared across time
    shifted = delay.tdnn_forward(x[1:], params)
    np.testing.assert_allclose(shifted, out[1:], atol=1e-12)
    # an input older than K steps has no effect
    x2 = x.copy()
    x2[0] += 100.0
    np.testing.assert_array_equal(delay.tdnn_forward(x2, params)[1:], out[1:])


@pytest.mark.parametrize(
    ("x", "K"),
    [
        (np.zeros(5), 2),
        (np.zeros((5, 1), dtype=int), 2),
        (np.full((5, 1), np.nan), 2),
        (np.zeros((5, 1)), 0),
        (np.zeros((5, 1)), 6),
        (np.zeros((5, 1)), 2.0),
        ([[0.0], [1.0]], 1),
    ],
)
def test_delay_embed_bad_input(x, K):
    with pytest.raises(ValueError):
        delay.delay_embed(x, K)


def test_narx_bad_input():
    x = np.zeros((10, 1))
    y = np.zeros((10, 1))
    with pytest.raises(ValueError, match="same length"):
        delay.narx_design(x, np.zeros((9, 1)), 1, 1)
    with pytest.raises(ValueError, match="p must be"):
        delay.narx_design(x, y, -1, 1)
    with pytest.raises(ValueError, match="max"):
        delay.narx_design(x, y, 10, 1)
    with pytest.raises(ValueError, match="ridge"):
        delay.fit_narx(x, y, 1, 1, ridge=-1.0)
    with pytest.raises(ValueError, match="rng"):
        delay.fit_narx(x, y, 1, 1, hidden=5)
    params = delay.fit_narx(x + np.arange(10.0)[:, None], y, 1, 1)
    with pytest.raises(ValueError, match="y_init"):
        delay.narx_free_run(params, x, np.zeros((2, 1)), 1, 1)
    with pytest.raises(ValueError, match="keys"):
        delay.narx_one_step({"V": params["V"]}, x, y, 1, 1)
    with pytest.raises(ValueError, match="features"):
        delay.narx_one_step(params, x, y, 2, 1)


def test_tdnn_bad_input():
    rng = np.random.default_rng(0)
    params = delay.tdnn_init(2, 3, 4, 1, rng)
    x = np.zeros((6, 2))
    with pytest.raises(ValueError, match="W"):
        delay.tdnn_forward(np.zeros((6, 4)), params)  # K*D = 6 is not a multiple of D = 4
    with pytest.raises(ValueError, match="keys"):
        delay.tdnn_forward(x, {k: v for k, v in params.items() if k != "c"})
    with pytest.raises(ValueError, match="activation"):
        delay.tdnn_forward(x, params, activation="softmax")
    bad = dict(params, b=np.zeros(3))
    with pytest.raises(ValueError, match=r"params\['b'\]"):
        delay.tdnn_forward(x, bad)
    with pytest.raises(ValueError, match="rng"):
        delay.tdnn_init(2, 3, 4, 1, 0)
    with pytest.raises(ValueError, match="K"):
        delay.tdnn_init(2, 0, 4, 1, rng)


def test_plant_is_narx_with_p1_q2():
    # y_t depends on x_{t-1}, y_{t-1}, y_{t-2} only: changing x_t leaves y_t alone
    x = np.random.default_rng(5).uniform(-2, 2, size=(20, 1))
    y = narx_plant(x)
    x2 = x.copy()
    x2[10] += 1.0
    y2 = narx_plant(x2)
    np.testing.assert_array_equal(y2[:11], y[:11])
    assert y2[11, 0] == pytest.approx(y[11, 0] + 1.0)
