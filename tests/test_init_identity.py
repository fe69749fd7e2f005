"""init="identity" for the SRN (Le et al. 2015, IRNN): U = I, b = 0, a state copied forward."""

import numpy as np
import pytest
import torch

from rnnbook import convert, longterm
from rnnbook.scratch import init, srn


def test_irnn_starts_as_a_copy_of_its_state():
    p = srn.init_params(3, 5, np.random.default_rng(0), init="identity", activation="relu")
    np.testing.assert_array_equal(p["U"], np.eye(5))
    np.testing.assert_array_equal(p["b"], np.zeros(5))
    h0 = np.abs(np.random.default_rng(1).standard_normal((2, 5)))  # a state >= 0
    out, _ = srn.forward(np.zeros((7, 2, 3)), h0, p, activation="relu")
    for h_t in out:  # no input: h_t = relu(h_{t-1}) = h_{t-1}
        np.testing.assert_array_equal(h_t, h0)


def test_irnn_gradient_norm_is_kept_while_the_units_are_on():
    p = srn.init_params(2, 4, np.random.default_rng(2), init="identity", activation="relu")
    p["W"] = np.abs(p["W"])  # x >= 0 and W >= 0 keep every unit on
    x = np.abs(np.random.default_rng(3).standard_normal((30, 1, 2)))
    v = np.random.default_rng(4).standard_normal((1, 4))
    n = longterm.state_gradient_norms(p, x, v, activation="relu")
    np.testing.assert_allclose(n, np.linalg.norm(v), rtol=1e-13)
    # with the default uniform U the same network loses its gradient
    q = dict(p, U=srn.init_params(2, 4, np.random.default_rng(2))["U"])
    assert longterm.state_gradient_norms(q, x, v, activation="relu")[-1, 0] < np.linalg.norm(v)


def test_irnn_in_torch_computes_the_same():
    p = srn.init_params(2, 4, np.random.default_rng(5), init="identity", activation="relu")
    x = np.random.default_rng(6).standard_normal((9, 3, 2))
    out, _ = srn.forward(x, None, p, activation="relu")
    module = convert.to_torch(p, "srn", activation="relu")
    ref, _ = module(torch.tensor(x))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_identity_is_refused_where_it_does_not_apply():
    with pytest.raises(ValueError, match="init must be one of"):
        init.draw_params("lstm", 2, 3, np.random.default_rng(0), init="identity")
    with pytest.raises(ValueError, match="scale must be a finite number"):
        init.identity(3, float("nan"))
