"""The course report's gradients, derived by SymPy, evaluated at numbers, equal scratch BPTT's."""

import numpy as np
import pytest
import sympy as sp

from rnnbook.symbolic import course_example
from rnnbook.symbolic._proof import f, fprime

bptt = pytest.importorskip("rnnbook.scratch.bptt")

# the report's letters -> the book's keys
KEYS = {"W_xh": "W", "W_hh": "U", "b_h": "b", "W_0": "V", "b_0": "c"}


def test_symbolic_course_gradients_match_scratch_bptt():
    rng = np.random.default_rng(7)
    D, H, O, T = 2, 3, 2, 3
    params = {
        "W": rng.normal(size=(H, D)),
        "U": rng.normal(size=(H, H)) * 0.5,
        "b": rng.normal(size=H),
        "V": rng.normal(size=(O, H)),
        "c": rng.normal(size=O),
    }
    x = rng.normal(size=(T, 1, D))
    classes = np.array([[0], [1], [1]])  # one-hot labels, (T, B=1)
    _, grads = bptt.full("srn", x, classes, params, loss="cross_entropy", on="every")

    net = course_example.build_course_network()
    values = {}
    for name, key in KEYS.items():
        M = getattr(net, name)
        P = params[key].reshape(M.shape)
        values.update({M[i, j]: P[i, j] for i in range(M.shape[0]) for j in range(M.shape[1])})
    for t in range(1, T + 1):
        values.update({s: x[t - 1, 0, j] for j, s in enumerate(net.x[t])})
        # y_t = (y_{t,1}, 1 - y_{t,1}): y_{t,1} = 1 for class 0
        values[net.y[t][0]] = 1.0 if classes[t - 1, 0] == 0 else 0.0
    z = sp.Dummy("z")
    for name, key in KEYS.items():
        G = course_example.loss_gradient("L", name)
        # numbers in first (the sums collapse), then f = tanh as the report chooses
        # (line 58) and f' = 1 - tanh^2, evaluated in 30-digit floats
        G = G.xreplace({s: sp.Float(v, 30) for s, v in values.items()})
        G = G.replace(fprime, sp.Lambda(z, 1 - sp.tanh(z) ** 2)).replace(f, sp.tanh)
        numeric = np.array(G.evalf(30), dtype=float)
        np.testing.assert_allclose(
            numeric.reshape(grads[key].shape), grads[key], rtol=1e-10, atol=1e-12, err_msg=name
        )
