"""rnnbook.scratch.stack: layers and directions composed from the NumPy cells.

Its equality with torch.nn.RNN/LSTM/GRU (2 layers, bidirectional) is tested in
tests/test_convert.py; here: the one-layer case, finite differences, bad input.
"""

import numpy as np
import pytest

from rnnbook.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch import gru, lstm, srn, stack

CELLS = [("srn", {}), ("lstm", {"variant": "peephole"}), ("gru", {"reset": "after"})]
MODULES = {"srn": srn, "lstm": lstm, "gru": gru}
IDS = ["srn", "lstm", "gru"]


def _params(cell, opts, rng, D=3, H=4, layers=2, dirs=2):
    return [
        [MODULES[cell].init_params(D if l == 0 else dirs * H, H, rng, **opts) for _ in range(dirs)]
        for l in range(layers)
    ]


@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_one_layer_one_direction_is_the_cell_itself(cell, opts):
    rng = np.random.default_rng(0)
    p = MODULES[cell].init_params(3, 4, rng, **opts)
    x = rng.standard_normal((5, 2, 3))
    d_out = rng.standard_normal((5, 2, 4))
    out, cache = stack.forward(cell, x, None, [[p]], **opts)
    want, want_cache = MODULES[cell].forward(x, None, p, **opts)
    np.testing.assert_array_equal(out, want)
    dx, _, grads = stack.backward(d_out, cache)
    want_dx, _, want_grads = MODULES[cell].backward(d_out, want_cache)
    np.testing.assert_array_equal(dx, want_dx)
    for k in p:
        np.testing.assert_array_equal(grads[0][0][k], want_grads[k])


@pytest.mark.parametrize(("cell", "opts"), CELLS, ids=IDS)
def test_two_layers_bidirectional_against_finite_differences(cell, opts):
    rng = np.random.default_rng(1)
    p = _params(cell, opts, rng)
    x = rng.standard_normal((4, 2, 3))
    d_out = rng.standard_normal((4, 2, 8))

    def loss():
        return np.sum(stack.forward(cell, x, None, p, **opts)[0] * d_out)

    _, cache = stack.forward(cell, x, None, p, **opts)
    dx, _, grads = stack.backward(d_out, cache)
    assert relative_error(dx, numerical_gradient(lambda _: loss(), x)) < 1e-7
    for l in range(2):
        for d in range(2):
            for k in ("W" if cell == "srn" else "W_z" if cell == "gru" else "W_i", "b_r", "p_f"):
                if k in p[l][d]:
                    numeric = numerical_gradient(lambda _: loss(), p[l][d][k])
                    assert relative_error(grads[l][d][k], numeric) < 1e-7, (l, d, k)


def test_directions_see_time_in_opposite_orders():
    """Reversing the input swaps what the two directions of a symmetric stack compute."""
    rng = np.random.default_rng(2)
    p = srn.init_params(3, 4, rng)
    x = rng.standard_normal((6, 1, 3))
    out, _ = stack.forward("srn", x, None, [[p, p]])
    out_rev, _ = stack.forward("srn", x[::-1].copy(), None, [[p, p]])
    np.testing.assert_allclose(out[:, :, :4], out_rev[::-1, :, 4:], rtol=0, atol=1e-15)


def _case():
    rng = np.random.default_rng(3)
    return _params("srn", {}, rng), rng.standard_normal((4, 2, 3))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p, x: ("srn", x, None, {}), "params must be a non-empty list"),
        (lambda p, x: ("srn", x, None, []), "params must be a non-empty list"),
        (lambda p, x: ("srn", x, None, [p[0], p[1][:1]]), r"params\[1\] must list 1 or 2"),
        (lambda p, x: ("srn", x, None, [p[0] * 2, p[1]]), r"params\[0\] must list 1 or 2"),
        (lambda p, x: ("srn", x, [None] * 3, p), "states0 must be None or a list of 4"),
        (lambda p, x: (srn, x, None, p), "cell must be one of"),
        (lambda p, x: ("srn", x[0], None, p), "x must have rank 3"),
        (lambda p, x: ("srn", x * np.nan, None, p), "x must contain only finite numbers"),
    ],
)
def test_forward_rejects_bad_input(change, match):
    p, x = _case()
    cell, x, states0, params = change(p, x)
    with pytest.raises(ValueError, match=match):
        stack.forward(cell, x, states0, params)


def test_backward_rejects_bad_gradients():
    p, x = _case()
    _, cache = stack.forward("srn", x, None, p)
    with pytest.raises(ValueError, match=r"d_outputs must have shape .* = \(4, 2, 8\)"):
        stack.backward(np.zeros((4, 2, 4)), cache)
    with pytest.raises(ValueError, match="d_finals must be None or a list of 4"):
        stack.backward(np.zeros((4, 2, 8)), cache, [None])


def test_forward_rejects_options_of_another_cell():
    p, x = _case()
    with pytest.raises(ValueError, match=r"the srn options are \(.*\), got unknown \['variant'\]"):
        stack.forward("srn", x, None, p, variant="peephole")


def test_errors_say_which_layer_and_direction_and_the_cache_is_checked():
    p, x = _case()
    bad = [p[0], [p[1][0], {**p[1][1], "b": np.zeros(5)}]]
    with pytest.raises(
        ValueError, match=r"layer 1, direction 1 \(params\[1\]\[1\]\): params\['b'\]"
    ):
        stack.forward("srn", x, None, bad)
    _, cell_cache = srn.forward(x, None, p[0][0])
    with pytest.raises(ValueError, match=r"cache must be the cache returned by stack.forward"):
        stack.backward(np.zeros((4, 2, 8)), cell_cache)
    _, cache = stack.forward("srn", x, None, p)
    with pytest.raises(ValueError, match=r"stack.backward takes no options"):
        stack.backward(np.zeros((4, 2, 8)), cache, activation="tanh")
