"""Chapter 5's long-lag datasets: the documented layout, reproducible, bad input refused."""

import numpy as np
import pytest

from rnnbook import data


def test_adding_problem_layout_and_target():
    inputs, targets = data.adding_problem(500, 20, 3)
    assert inputs.shape == (500, 20, 2) and targets.shape == (500,)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    # the target computed independently: a loop over each sequence's marked steps
    for i in range(0, 500, 37):
        marked = [t for t in range(20) if markers[i, t] == 1]
        assert targets[i] == pytest.approx(values[i, marked[0]] + values[i, marked[1]])
    # the baseline of the docstring: predicting 1 has mean squared error near 1/6
    _, big = data.adding_problem(200_000, 10, 0)
    assert np.mean((big - 1.0) ** 2) == pytest.approx(1 / 6, abs=3e-3)
    again = data.adding_problem(500, 20, np.random.default_rng(3))
    assert np.array_equal(inputs, again[0]) and np.array_equal(targets, again[1])
    assert not np.array_equal(inputs, data.adding_problem(500, 20, 4)[0])


def test_copy_task_layout():
    tokens, labels = data.copy_task(50, 3, 7, 5, 1)
    assert tokens.shape == labels.shape == (50, 2 * 3 + 7 + 1)
    assert np.all((tokens[:, :3] >= 1) & (tokens[:, :3] <= 5))
    assert np.all(tokens[:, 3:10] == 0) and np.all(tokens[:, 10] == 6)
    assert np.all(tokens[:, 11:] == 0)
    assert np.all(labels[:, :11] == -1)
    assert np.array_equal(labels[:, 11:], tokens[:, :3] - 1)
    assert np.array_equal(tokens, data.copy_task(50, 3, 7, 5, 1)[0])
    zero_lag, _ = data.copy_task(4, 2, 0, 3, 0)
    assert zero_lag.shape == (4, 5) and np.all(zero_lag[:, 2] == 4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.adding_problem(5, 1, 0), "length must be an int >= 2, got 1"),
        (lambda: data.adding_problem(0, 10, 0), "n must be an int >= 1"),
        (lambda: data.adding_problem(5, 10, "x"), "rng must be"),
        (lambda: data.copy_task(5, 0, 3, 4, 0), "n_copy must be an int >= 1"),
        (lambda: data.copy_task(5, 2, -1, 4, 0), "lag must be an int >= 0"),
        (lambda: data.copy_task(5, 2, 3, 1, 0), "n_symbols must be an int >= 2"),
        (lambda: data.copy_task(5, 2, 3.0, 4, 0), "lag must be an int >= 0, got float"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
