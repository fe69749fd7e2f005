"""data.mackey_glass: the delay equation integrated by RK4, checked by an independent Euler."""

import numpy as np
import pytest

from rnnbook.data import mackey_glass


def _euler(t_end, h, *, tau=17.0, beta=0.2, gamma=0.1, n=10, x0=1.2, every=1.0):
    """Forward Euler with step h from a constant history; samples every ``every``."""
    d, steps, stride = round(tau / h), round(t_end / h), round(every / h)
    xs = [x0] * (d + 1)  # x(-tau), ..., x(0)
    for _ in range(steps):
        x, late = xs[-1], xs[-1 - d]
        xs.append(x + h * (beta * late / (1 + late**n) - gamma * x))
    return np.array(xs[d::stride])


def test_agrees_with_a_fine_euler_integration():
    rk4 = mackey_glass(101)  # t = 0 .. 100, h = 0.1
    euler = _euler(100.0, 1e-3)
    assert rk4.shape == euler.shape == (101,)
    assert np.abs(rk4 - euler).max() < 5e-4
    # Euler is first order: halving its step halves its distance to the RK4 solution
    coarse = np.abs(rk4 - _euler(100.0, 2e-3)).max()
    assert 1.6 < coarse / np.abs(rk4 - euler).max() < 2.4


def test_the_method_is_fourth_order():
    fine = mackey_glass(201, substeps=80)
    e10 = np.abs(mackey_glass(201, substeps=10) - fine).max()
    e20 = np.abs(mackey_glass(201, substeps=20) - fine).max()
    assert 10 < e10 / e20 < 22  # 2^4 = 16 for fourth order (2^2 = 4 for second)


def test_other_parameters_and_sampling_agree_with_euler():
    rk4 = mackey_glass(41, tau=6, beta=0.25, gamma=0.12, n=8, dt=0.5, substeps=5)
    euler = _euler(20.0, 1e-3, tau=6.0, beta=0.25, gamma=0.12, n=8, every=0.5)
    assert np.abs(rk4 - euler).max() < 5e-4


def test_a_history_array_equal_to_a_constant_gives_the_same_series():
    a = mackey_glass(60, history=0.9)
    b = mackey_glass(60, history=np.full(171, 0.9))
    np.testing.assert_allclose(a, b, rtol=0, atol=0)
    c = mackey_glass(60, history=np.linspace(0.5, 0.9, 171))
    assert c[0] == 0.9 and np.abs(c - a).max() > 1e-2


def test_deterministic_shape_and_range():
    a, b = mackey_glass(1500), mackey_glass(1500)
    assert a.shape == (1500,) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert a[0] == 1.2 and 0.2 < a.min() < a.max() < 1.5  # the attractor's range for tau = 17
    assert mackey_glass(1).shape == (1,)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n_steps": 0}, "n_steps must be an int >= 1"),
        ({"n_steps": 2.0}, "n_steps must be an int"),
        ({"substeps": 0}, "substeps must be an int >= 1"),
        ({"tau": -1}, "tau must be a finite number > 0, got -1"),
        ({"beta": float("nan")}, "beta must be a finite number > 0"),
        ({"gamma": True}, "gamma must be a finite number > 0"),
        ({"n": 0}, "n must be a finite number > 0"),
        ({"dt": 0.0}, "dt must be a finite number > 0"),
        ({"tau": 17.05}, r"must divide tau = 17.05 into an integer"),
        ({"history": -1.0}, "history must be a finite number > 0"),
        ({"history": np.ones(10)}, r"history must be a number or a float array \(d \+ 1,\)"),
        ({"history": np.ones(171, dtype=int)}, "history must be a number or a float array"),
        ({"history": np.full(171, np.inf)}, "history must hold finite numbers > 0"),
        ({"history": "1.2"}, "history must be a number or a float array"),
    ],
)
def test_bad_input_is_a_value_error(kw, match):
    kw = {"n_steps": 10, **kw}
    with pytest.raises(ValueError, match=match):
        mackey_glass(**kw)
