"""rnnbook.scratch.init and the cells' init_params."""

import numpy as np
import pytest

from rnnbook.scratch import gru, init, lstm, srn


def test_uniform_range_and_reproducibility():
    a = init.uniform(np.random.default_rng(0), (200, 50), 16)
    b = init.uniform(np.random.default_rng(0), (200, 50), 16)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64
    assert np.abs(a).max() <= 0.25  # 1/sqrt(16)
    assert np.abs(a).max() > 0.24  # the whole range is used
    assert init.uniform(np.random.default_rng(0), (3,), 4, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7)])
def test_orthogonal(shape):
    Q = init.orthogonal(np.random.default_rng(1), *shape)
    assert Q.shape == shape
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    # every singular value is 1
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), np.ones(small), atol=1e-12)


def test_identity_and_forget_bias():
    np.testing.assert_array_equal(init.identity(3), np.eye(3))
    np.testing.assert_array_equal(init.forget_bias(4, 2.0), np.full(4, 2.0))


def test_srn_identity_init_is_le_et_al():
    p = srn.init_params(3, 5, np.random.default_rng(2), activation="relu", init="identity")
    np.testing.assert_array_equal(p["U"], np.eye(5))
    np.testing.assert_array_equal(p["b"], np.zeros(5))
    # with U = I, b = 0 and no input, a ReLU network keeps a non-negative state
    h0 = np.abs(np.random.default_rng(3).standard_normal((2, 5)))
    out, _ = srn.forward(np.zeros((4, 2, 3)), h0, p, activation="relu")
    np.testing.assert_array_equal(out[-1], h0)


@pytest.mark.parametrize(
    "module, kwargs, keys",
    [
        (srn, {}, ["W", "U", "b"]),
        (srn, {"feedback": "output", "output_size": 2}, ["W", "U", "b", "V", "c"]),
        (lstm, {}, [f"{m}_{g}" for g in "ifoc" for m in "WUb"]),
        (lstm, {"variant": "coupled"}, [f"{m}_{g}" for g in "ioc" for m in "WUb"]),
        (
            lstm,
            {"variant": "peephole"},
            [f"{m}_{g}" for g in "ifoc" for m in "WUb"] + ["p_i", "p_f", "p_o"],
        ),
        (gru, {}, [f"{m}_{g}" for g in "zrh" for m in "WUb"]),
        (gru, {"reset": "after"}, [f"{m}_{g}" for g in "zrh" for m in "WUb"] + ["d_h"]),
    ],
)
def test_init_params_keys_shapes_and_orthogonal(module, kwargs, keys):
    p = module.init_params(3, 4, np.random.default_rng(4), **kwargs)
    assert sorted(p) == sorted(keys)
    assert all(v.dtype == np.float64 for v in p.values())
    assert all(np.abs(v).max() <= 0.5 for v in p.values())  # 1/sqrt(4)
    q = module.init_params(3, 4, np.random.default_rng(4), init="orthogonal", **kwargs)
    for k, U in q.items():
        if k.startswith("U") and U.shape[0] == U.shape[1]:
            np.testing.assert_allclose(U @ U.T, np.eye(4), atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: init.uniform(np.random.default_rng(0), (2,), 0), "hidden_size"),
        (lambda: init.uniform(None, (2,), 3), "numpy.random.Generator"),
        (lambda: init.orthogonal(np.random.default_rng(0), 3, dtype=np.int64), "dtype"),
        (lambda: srn.init_params(2, 3, 42), "numpy.random.Generator"),
        (
            lambda: srn.init_params(2, 3, np.random.default_rng(0), init="zeros"),
            "init must be one of",
        ),
        (lambda: srn.init_params(2, 3, np.random.default_rng(0), feedback="output"), "output_size"),
        (
            lambda: srn.init_params(
                2, 3, np.random.default_rng(0), feedback="output", output_size=2, init="identity"
            ),
            "square",
        ),
        (
            lambda: lstm.init_params(2, 3, np.random.default_rng(0), init="identity"),
            "init must be one of",
        ),
        (lambda: gru.init_params(2.0, 3, np.random.default_rng(0)), "input_size"),
    ],
)
def test_bad_init_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_numbers_and_shapes_are_checked():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="value must be a finite number, got None"):
        init.forget_bias(3, None)
    with pytest.raises(ValueError, match="scale must be a finite number"):
        init.identity(3, "a")
    assert init.orthogonal(rng, 3, gain=np.float32(2)).shape == (3, 3)
    with pytest.raises(ValueError, match="forget_bias must be a finite number"):
        lstm.init_params(2, 3, rng, forget_bias=float("nan"))
    assert lstm.init_params(2, 3, rng, forget_bias=np.float32(1))["b_f"][0] == 1
    with pytest.raises(ValueError, match=r"init='identity' needs a square U, got shape \(3, 2\)"):
        init.draw_params("srn", 2, 3, rng, init="identity", O=2, feedback="output")
