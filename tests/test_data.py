"""Datasets: reproducible from a seed, right shapes, the documented dynamics."""

import numpy as np
import pytest

from rnnbook import data


def test_narx_system_reproducible_and_shapes():
    x1, y1 = data.narx_system(200, 7)
    x2, y2 = data.narx_system(200, np.random.default_rng(7))
    assert x1.shape == y1.shape == (200, 1)
    assert x1.dtype == y1.dtype == np.float64
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, data.narx_system(200, 8)[0])
    assert np.all(np.abs(x1) <= 2.0)


def test_narx_system_follows_its_equation():
    x, y = data.narx_system(100, 0)
    for t in range(2, 100):
        expected = y[t - 1] * y[t - 2] * (y[t - 1] + 2.5) / (1 + y[t - 1] ** 2 + y[t - 2] ** 2)
        assert y[t, 0] == pytest.approx(expected[0] + x[t - 1, 0], abs=1e-12)
    assert np.all(np.abs(y) < 10)


def test_narx_system_noise():
    x, y = data.narx_system(500, 1)
    xn, yn = data.narx_system(500, 1, noise=0.1)
    np.testing.assert_array_equal(x, xn)
    assert 0.08 < np.std(yn - y) < 0.12


def test_sine_input():
    s = data.sine_input(50, periods=(25.0,), amplitudes=(2.0,))
    assert s.shape == (50, 1)
    assert s[0, 0] == 0.0
    assert s[25, 0] == pytest.approx(0.0, abs=1e-12)
    assert s[25 // 4 + 1, 0] < 2.0 and s.max() == pytest.approx(2 * np.sin(2 * np.pi * 6 / 25))


def test_random_patterns():
    P = data.random_patterns(50, 40, 3)
    assert P.shape == (50, 40) and P.dtype == np.float64
    assert set(np.unique(P)) == {-1.0, 1.0}
    assert abs(P.mean()) < 0.05
    np.testing.assert_array_equal(P, data.random_patterns(50, 40, np.random.default_rng(3)))


def test_letter_bitmaps():
    L = data.letter_bitmaps("HOPE")
    assert L.shape == (4, 7, 5)
    assert set(np.unique(L)) == {-1.0, 1.0}
    # H: both side columns inked, the middle row full
    assert np.all(L[0][:, 0] == 1) and np.all(L[0][:, 4] == 1) and np.all(L[0][3] == 1)
    assert len({L[i].tobytes() for i in range(4)}) == 4
    all_letters = data.letter_bitmaps(data.LETTERS)
    assert len({b.tobytes() for b in all_letters}) == len(data.LETTERS)


@pytest.mark.parametrize(
    "call",
    [
        lambda: data.narx_system(2, 0),
        lambda: data.narx_system(10.0, 0),
        lambda: data.narx_system(10, "seed"),
        lambda: data.narx_system(10, -1),
        lambda: data.narx_system(10, 0, noise=-0.1),
        lambda: data.narx_system(10, 0, noise=float("nan")),
        lambda: data.narx_plant(np.zeros((10, 2))),
        lambda: data.narx_plant(np.zeros((10, 1), dtype=int)),
        lambda: data.narx_plant(np.full((10, 1), np.inf)),
        lambda: data.sine_input(10, periods=(0.0,), amplitudes=(1.0,)),
        lambda: data.sine_input(10, periods=(5.0, 3.0), amplitudes=(1.0,)),
        lambda: data.random_patterns(0, 5, 0),
        lambda: data.random_patterns(3, 5, None),
        lambda: data.letter_bitmaps(""),
        lambda: data.letter_bitmaps("hope"),
        lambda: data.letter_bitmaps(["H"]),
    ],
)
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()
