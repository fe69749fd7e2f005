"""Bad input to public helpers outside the cells: a ValueError that names what came."""

import numpy as np
import pytest

from rnnbook import data, gradcheck
from rnnbook.scratch import bptt, init, srn


def _bptt_with_wrong_V():
    rng = np.random.default_rng(0)
    p = srn.init_params(3, 4, rng)  # H = 4
    p["V"], p["c"] = np.zeros((2, 5)), np.zeros(2)  # V built for H = 5
    bptt.full("srn", rng.standard_normal((3, 1, 3)), np.zeros((3, 1), dtype=np.int64), p)


CASES = [
    (lambda: data.delayed_echo(2, 5, 3, 6, 0), "delay must be at most length = 5, got 6"),
    (
        lambda: data.pendulum_trajectories(2, 5, 0, max_angle=float("nan")),
        "max_angle must be a finite number >= 0, got nan",
    ),
    (lambda: data.pendulum_trajectories(2, 5, 0, max_speed=-1.0), "max_speed must be"),
    (lambda: data.pendulum_derivative(np.array([np.nan, 1.0])), "only finite numbers"),
    (lambda: data.pendulum_derivative(np.array([1, 2])), "float array, got dtype int64"),
    (
        lambda: init.orthogonal(np.random.default_rng(0), 3, gain=float("inf")),
        "gain must be a finite number",
    ),
    (
        lambda: init.uniform(np.random.default_rng(0), (2,), 2, dtype="foo"),
        "dtype must be float32 or float64, got 'foo'",
    ),
    (
        lambda: gradcheck.relative_error(np.array([1, 2]), np.array([1, 2])),
        "a must be a float array, got dtype int64",
    ),
    (
        lambda: gradcheck.numerical_gradients(lambda p: 0.0, [1.0]),
        "params must be a dict of arrays",
    ),
    (
        lambda: bptt.head_loss(
            np.zeros((1, 2)), np.zeros(1, int), np.zeros((2, 2)), np.zeros(2), "hinge"
        ),
        "loss must be one of",
    ),
    (
        lambda: bptt.head_loss(
            np.zeros((1, 2)), np.array([-1]), np.zeros((2, 2)), np.zeros(2), "cross_entropy"
        ),
        r"y must be class indices in \[0, O\) = \[0, 2\), got values in \[-1, -1\]",
    ),
    (_bptt_with_wrong_V, r"params\['V'\] must have shape \(O, H\) = \(2, 4\), got shape \(2, 5\)"),
]


@pytest.mark.parametrize(("call", "match"), CASES, ids=[c[1][:40] for c in CASES])
def test_bad_input_is_a_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- an option that belongs to another cell, or to none, is a ValueError naming the allowed ----


def _problem():
    rng = np.random.default_rng(0)
    p = srn.init_params(3, 4, rng)
    p["V"], p["c"] = np.zeros((2, 4)), np.zeros(2)
    return rng.standard_normal((3, 1, 3)), np.zeros((3, 1), dtype=np.int64), p


def _cell_calls():
    from rnnbook.scratch import gru, lstm, rtrl, stack

    x, y, p = _problem()
    cell_p = {k: p[k] for k in ("W", "U", "b")}
    rng = np.random.default_rng(1)
    return [
        ("srn", lambda **o: srn.forward(x, None, cell_p, **o)),
        ("srn", lambda **o: srn.step_forward(x[0], None, cell_p, **o)),
        ("srn", lambda **o: srn.init_params(3, 4, rng, **o)),
        ("lstm", lambda **o: lstm.init_params(3, 4, rng, **o)),
        ("gru", lambda **o: gru.init_params(3, 4, rng, **o)),
        ("srn", lambda **o: bptt.full("srn", x, y, p, **o)),
        ("srn", lambda **o: bptt.truncated("srn", x, y, p, k1=1, k2=2, **o)),
        ("srn", lambda **o: rtrl.RTRL("srn", p, batch_size=1, **o)),
        ("srn", lambda **o: rtrl.gradients("srn", x, y, p, **o)),
        ("srn", lambda **o: stack.forward("srn", x, None, [[cell_p]], **o)),
    ]


#: an option of each cell, to be passed to the others
OTHERS = {"srn": {"activation": "tanh"}, "lstm": {"variant": "peephole"}, "gru": {"reset": "after"}}


@pytest.mark.parametrize(
    ("index", "owner"),
    [(i, o) for i, (c, _) in enumerate(_cell_calls()) for o in [*OTHERS, None] if o != c],
)
def test_a_misplaced_option_is_a_value_error_naming_the_allowed(index, owner):
    cell, call = _cell_calls()[index]
    option = OTHERS[owner] if owner else {"colour": 1}
    name = next(iter(option))
    with pytest.raises(
        ValueError, match=rf"the {cell} options are \(.*\), got unknown \['{name}'\]"
    ):
        call(**option)
