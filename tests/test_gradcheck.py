"""rnnbook.gradcheck: centred differences and the relative error."""

import numpy as np
import pytest

from rnnbook.gradcheck import (
    check_gradients,
    numerical_gradient,
    numerical_gradients,
    relative_error,
)


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4))
    x = rng.standard_normal((4, 2))
    x_before = x.copy()

    # f(x) = sum(sin(A x)),  df/dx = A^T cos(A x)
    def f(v):
        return np.sum(np.sin(A @ v))

    g = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, x_before)  # restored
    assert relative_error(g, A.T @ np.cos(A @ x)) < 1e-9


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.arange(3.0)

    def f(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, np.arange(3.0))


def test_relative_error_formula():
    a = np.array([1.0, -2.0, 0.0])
    b = np.array([1.0, -2.5, 1e-12])
    # max |a-b| = 0.5 ; max(|a|+|b|) = 4.5
    assert relative_error(a, b) == pytest.approx(0.5 / 4.5)
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.ones(2), -np.ones(2)) == 1.0
    # an entry that is 0 in one and 1e-12 in the other is not a large error
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) < 1e-11


def test_check_gradients_finds_a_wrong_gradient():
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal(3), "M": rng.standard_normal((2, 3))}

    def loss(p):
        return np.sum(np.tanh(p["M"] @ p["w"]))

    s = 1 - np.tanh(params["M"] @ params["w"]) ** 2
    grads = {"w": params["M"].T @ s, "M": np.outer(s, params["w"])}
    errors = check_gradients(loss, params, grads)
    assert max(errors.values()) < 1e-9
    num = numerical_gradients(loss, params)
    assert num.keys() == params.keys()
    grads["M"] = grads["M"] * 1.001
    assert check_gradients(loss, params, grads)["M"] > 1e-4


@pytest.mark.parametrize(
    "bad, match",
    [
        ([1.0, 2.0], "numpy.ndarray"),
        (np.arange(3), r"dtype in \('float32', 'float64'\), got int64"),
        (np.array([1.0, np.nan]), "finite"),
    ],
)
def test_numerical_gradient_rejects_bad_x(bad, match):
    with pytest.raises(ValueError, match=match):
        numerical_gradient(lambda v: 0.0, bad)


def test_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: 0.0, np.ones(2), eps=0.0)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        relative_error(np.ones(2), np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="missing"):
        check_gradients(lambda p: 0.0, {"a": np.ones(1)}, {})


def test_relative_error_floor():
    a, b = np.array([1e-7, 0.0]), np.array([1.1e-7, 0.0])
    assert relative_error(a, b) == pytest.approx(0.1 / 2.1)
    # with a floor, differences far below it count as small
    assert relative_error(a, b, floor=1e-2) == pytest.approx(1e-8 / 1e-2)
    # above the floor, the floor changes nothing
    assert relative_error(np.ones(2), np.ones(2) * 1.5, floor=1e-2) == pytest.approx(0.5 / 2.5)
    with pytest.raises(ValueError, match="floor"):
        relative_error(a, b, floor=-1.0)
