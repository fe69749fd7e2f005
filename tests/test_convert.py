"""rnnbook.convert: round trips, the NumPy cells against PyTorch, and bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import cells, convert, nn
from rnnbook.scratch import cell_module, stack

F64 = torch.float64
T, B, D, H = 6, 3, 4, 5


def book_params(cell, opts, num_layers=1, dirs=1, seed=0, dtype=np.float64):
    """Random book dicts of ``cell``: one plain dict, or params[layer][direction]."""
    rng = np.random.default_rng(seed)
    opts = {"reset": "after", **opts} if cell == "gru" else opts  # the GRU PyTorch has
    layers = []
    for l in range(num_layers):
        D_l = D if l == 0 else dirs * H
        row = []
        for _ in range(dirs):
            p = {}
            for k, (shape, _) in cells.param_shapes(cell, D_l, H, **opts).items():
                p[k] = rng.uniform(-0.6, 0.6, shape).astype(dtype)
            row.append(p)
        layers.append(row)
    return layers[0][0] if num_layers == 1 and dirs == 1 else layers


def assert_same_params(got, want):
    if isinstance(want, dict):
        got, want = [[got]], [[want]]
    assert len(got) == len(want)
    for lg, lw in zip(got, want, strict=True):
        for dg, dw in zip(lg, lw, strict=True):
            assert list(dg) == list(dw)
            for k in dw:
                assert dg[k].dtype == dw[k].dtype
                np.testing.assert_array_equal(dg[k], dw[k], err_msg=k)


TORCH_OPTS = {"srn": {}, "lstm": {}, "gru": {"reset": "after"}}


@pytest.mark.parametrize("cell", ["srn", "lstm", "gru"])
@pytest.mark.parametrize(("num_layers", "dirs"), [(1, 1), (1, 2), (2, 1), (3, 2)])
def test_round_trip_through_torch(cell, num_layers, dirs):
    p = book_params(cell, TORCH_OPTS[cell], num_layers, dirs)
    module = convert.to_torch(p, cell, **TORCH_OPTS[cell])
    assert isinstance(module, convert.TORCH_CLASSES[cell])
    assert (module.num_layers, module.bidirectional) == (num_layers, dirs == 2)
    assert module.weight_ih_l0.dtype == F64
    assert_same_params(convert.from_torch(module), p)


@pytest.mark.parametrize("cell", ["srn", "lstm", "gru"])
def test_round_trip_through_torch_cell(cell):
    p = book_params(cell, TORCH_OPTS[cell], dtype=np.float32)
    module = convert.to_torch(p, cell, torch_cell=True, **TORCH_OPTS[cell])
    assert isinstance(module, convert.TORCH_CELLS[cell])
    assert module.weight_hh.dtype == torch.float32
    assert_same_params(convert.from_torch(module), p)


def test_torch_gate_order_and_biases():
    p = book_params("lstm", {})
    m = convert.to_torch(p, "lstm")
    # PyTorch's rows are i, f, g (= c~), o; the book's bias goes to bias_ih, zeros to bias_hh
    np.testing.assert_array_equal(m.weight_ih_l0[2 * H : 3 * H].detach().numpy(), p["W_c"])
    np.testing.assert_array_equal(m.weight_hh_l0[3 * H :].detach().numpy(), p["U_o"])
    np.testing.assert_array_equal(m.bias_ih_l0[H : 2 * H].detach().numpy(), p["b_f"])
    assert not m.bias_hh_l0.any()
    g = convert.to_torch(book_params("gru", {"reset": "after"}), "gru", reset="after")
    assert not g.bias_hh_l0[: 2 * H].any() and g.bias_hh_l0[2 * H :].all()


@pytest.mark.parametrize("cell", ["srn", "lstm", "gru"])
@pytest.mark.parametrize("torch_cell", [False, True])
def test_from_torch_then_to_torch_computes_the_same(cell, torch_cell):
    torch.manual_seed(2)
    if torch_cell:
        ref = convert.TORCH_CELLS[cell](D, H, dtype=F64)
        x = torch.randn(B, D, dtype=F64)
    else:
        ref = convert.TORCH_CLASSES[cell](D, H, 2, bidirectional=True, dtype=F64)
        x = torch.randn(T, B, D, dtype=F64)
    back = convert.to_torch(
        convert.from_torch(ref), cell, torch_cell=torch_cell, **TORCH_OPTS[cell]
    )
    a, b = ref(x), back(x)
    a, b = (a[0], b[0]) if cell == "lstm" or not torch_cell else (a, b)
    a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
    torch.testing.assert_close(b, a, rtol=0, atol=1e-12)


def test_torch_rnn_relu_and_bias_false():
    torch.manual_seed(4)
    ref = torch.nn.RNN(D, H, nonlinearity="relu", bias=False, dtype=F64)
    p = convert.from_torch(ref)
    assert np.all(p["b"] == 0)
    back = convert.to_torch(p, "srn", activation="relu")
    assert back.nonlinearity == "relu"
    x = torch.randn(T, B, D, dtype=F64)
    torch.testing.assert_close(back(x)[0], ref(x)[0], rtol=0, atol=1e-12)


NN_CASES = [
    ("srn", {"activation": "sigmoid"}),
    ("lstm", {"variant": "peephole"}),
    ("lstm", {"variant": "no_forget"}),
    ("lstm", {"variant": "coupled"}),
    ("gru", {"reset": "before", "update": "replace"}),
    ("gru", {"reset": "after", "update": "keep"}),
]


@pytest.mark.parametrize(("cell", "opts"), NN_CASES)
@pytest.mark.parametrize(("num_layers", "dirs"), [(1, 1), (2, 2)])
def test_round_trip_through_nn(cell, opts, num_layers, dirs):
    p = book_params(cell, opts, num_layers, dirs)
    module = convert.to_nn(p, cell, device="cpu", **opts)
    assert isinstance(module, {"srn": nn.SRN, "lstm": nn.LSTM, "gru": nn.GRU}[cell])
    for k, v in opts.items():
        assert getattr(module, k) == v
    assert_same_params(convert.from_torch(module), p)


def test_to_torch_and_to_nn_dtype_argument():
    p = book_params("gru", {"reset": "after"})
    assert convert.to_torch(p, "gru", reset="after", dtype=torch.float32).weight_ih_l0.dtype == (
        torch.float32
    )
    m = convert.to_nn(p, "gru", reset="after", dtype=torch.float32, batch_first=True)
    assert m.batch_first and m.params[0][0]["W_z"].dtype == torch.float32


# ---- options PyTorch cannot represent ----


@pytest.mark.parametrize(
    ("cell", "opts", "match"),
    [
        ("lstm", {"variant": "peephole"}, "torch.nn.LSTM is the variant 'standard'.*'peephole'"),
        ("lstm", {"variant": "no_forget"}, "cannot represent"),
        ("lstm", {"variant": "coupled"}, "cannot represent"),
        ("gru", {"reset": "before"}, r"reset='after'.*got reset='before'"),
        ("gru", {"reset": "after", "update": "replace"}, "got update='replace'"),
        ("srn", {"activation": "sigmoid"}, "'tanh' or 'relu', got activation='sigmoid'"),
        ("srn", {"feedback": "output"}, "Jordan network"),
    ],
)
def test_unrepresentable_options(cell, opts, match):
    p = book_params(cell, {k: v for k, v in opts.items() if k == "reset"})
    with pytest.raises(ValueError, match=match):
        convert.to_torch(p, cell, **opts)


def test_gru_default_needs_reset_after():
    # the book's default GRU (reset="before") has no d_h and no PyTorch counterpart
    with pytest.raises(ValueError, match="reset='before'"):
        convert.to_torch(book_params("gru", {"reset": "before"}), "gru")


def test_to_nn_rejects_jordan():
    with pytest.raises(ValueError, match="Elman network"):
        convert.to_nn(book_params("srn", {}), "srn", feedback="output")


# ---- options belong to their cell; the GRU's reset is read from the keys ----


@pytest.mark.parametrize(
    ("cell", "opts", "match"),
    [
        (
            "lstm",
            {"reset": "after"},
            r"the lstm options are \('variant',\), got unknown \['reset'\]",
        ),
        ("gru", {"variant": "standard"}, r"the gru options are \('reset', 'update'\), .*'variant'"),
        ("gru", {"activation": "tanh"}, r"the gru options are .* got unknown \['activation'\]"),
        ("srn", {"update": "keep"}, r"the srn options are \('activation', 'feedback'\), "),
        ("srn", {"nonlinearity": "relu"}, r"got unknown \['nonlinearity'\]"),
    ],
)
@pytest.mark.parametrize("fn", [convert.to_torch, convert.to_nn])
def test_option_of_another_cell_is_refused(fn, cell, opts, match):
    with pytest.raises(ValueError, match=match):
        fn(book_params(cell, {}), cell, **opts)


@pytest.mark.parametrize("reset", cells.OPTIONS["gru"]["reset"])
def test_gru_reset_read_from_the_keys(reset):
    """d_h present -> reset="after", absent -> "before"; checked against the NumPy stack."""
    p = book_params("gru", {"reset": reset}, 2, 2, seed=4)
    assert ("d_h" in p[0][0]) == (reset == "after")
    module = convert.to_nn(p, "gru")
    assert module.reset == reset
    rng = np.random.default_rng(8)
    x = rng.standard_normal((T, B, D))
    want, _ = stack.forward("gru", x, None, p, reset=reset)
    got, _ = module(torch.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=0, atol=1e-12)
    if reset == "after":  # the GRU PyTorch has, with no reset= needed
        ref = convert.to_torch(p, "gru")
        assert isinstance(ref, torch.nn.GRU)
        np.testing.assert_allclose(ref(torch.tensor(x))[0].detach().numpy(), want, atol=1e-12)
        assert_same_params(convert.from_torch(ref), p)
    else:
        with pytest.raises(ValueError, match="got reset='before', which it cannot represent"):
            convert.to_torch(p, "gru")


@pytest.mark.parametrize(
    ("keys_of", "reset", "match"),
    [
        ("after", "before", r"reset='before' contradicts the keys: params has 'd_h'"),
        ("before", "after", r"reset='after' contradicts the keys: params lacks 'd_h'"),
    ],
)
@pytest.mark.parametrize("fn", [convert.to_torch, convert.to_nn])
@pytest.mark.parametrize(("num_layers", "dirs"), [(1, 1), (2, 2)])
def test_gru_reset_contradicting_the_keys(fn, keys_of, reset, match, num_layers, dirs):
    p = book_params("gru", {"reset": keys_of}, num_layers, dirs)
    with pytest.raises(ValueError, match=match):
        fn(p, "gru", reset=reset)


# ---- bad input ----


def _without(p, key):
    return {k: v for k, v in p.items() if k != key}


def _with(p, key, value):
    return {**p, key: value}


P = book_params("lstm", {})
BAD_PARAMS = [
    (_without(P, "U_f"), r"missing \['U_f'\]"),
    (_with(P, "V", P["U_i"]), r"unexpected \['V'\]"),
    (_with(P, "U_o", np.zeros((H, H + 1))), r"params\['U_o'\] must have shape \(H, H\) = \(5, 5\)"),
    (_with(P, "W_c", np.zeros((H, D + 1))), r"params\['W_c'\] must have shape \(H, D\) = \(5, 4\)"),
    (_with(P, "b_o", np.zeros((H, 1))), r"params\['b_o'\] must have rank 1"),
    (_with(P, "b_f", np.full(H, np.nan)), "must contain only finite numbers"),
    (_with(P, "W_i", np.ones((H, D), dtype=np.int64)), r"W_i'\] must have .*dtype.*got int64"),
    (_with(P, "U_c", P["U_c"].astype(np.float32)), "must have dtype float64 .* got float32"),
    (_with(P, "W_i", np.zeros((H, D, 1))), r"params\['W_i'\] must have rank 2"),
    (_without(P, "W_i"), "missing 'W_i'"),
    ("weights", "params must be a dict .* or a non-empty list"),
    ([], "non-empty list"),
    ([P], r"params\[0\] must be a list of 1 or 2 dicts"),
    ([[P, P, P]], r"params\[0\] must be a list of 1 or 2 dicts"),
    ([[P, P], [P]], r"every layer must have 2 direction\(s\)"),
    ([[P], [P]], r"params\[1\]\[0\]\['W_i'\] must have shape \(H, num_directions \* H\)"),
]


@pytest.mark.parametrize(("params", "match"), BAD_PARAMS)
@pytest.mark.parametrize("fn", [convert.to_torch, convert.to_nn])
def test_bad_params(fn, params, match):
    with pytest.raises(ValueError, match=match):
        fn(params, "lstm")


def test_bad_params_mismatched_H_between_directions():
    p2 = book_params("srn", {}, 1, 1, seed=1)
    p2 = {k: np.zeros(v.shape[:-1] + (v.shape[-1],)) for k, v in p2.items()}
    p2["U"] = np.zeros((H + 1, H + 1))
    with pytest.raises(ValueError, match=r"params\[0\]\[1\]\['U'\] must have shape"):
        convert.to_torch([[book_params("srn", {}), p2]], "srn")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cell": "rnn"}, "cell must be one of .* got 'rnn'"),
        ({"cell": "lstm", "variant": "big"}, "variant must be one of .* got 'big'"),
        ({"cell": "gru", "reset": "later"}, "reset must be one of"),
        ({"cell": "gru", "update": 1}, "update must be one of"),
        ({"cell": "srn", "activation": "gelu"}, "activation must be one of"),
        ({"cell": "srn", "feedback": "input"}, "feedback must be one of"),
    ],
)
@pytest.mark.parametrize("fn", [convert.to_torch, convert.to_nn])
def test_unknown_kind_or_option(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(book_params("srn", {}), **kwargs)


def test_cell_needs_one_dict():
    with pytest.raises(ValueError, match=r"params must be one dict, got 2 layer\(s\)"):
        convert.to_torch(book_params("srn", {}, 2, 1), "srn", torch_cell=True)
    with pytest.raises(ValueError, match="torch_cell must be True or False"):
        convert.to_torch(book_params("srn", {}), "srn", torch_cell="yes")


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (torch.nn.Linear(3, 4), "module must be torch.nn.RNN/LSTM/GRU.* got Linear"),
        ({"W": np.zeros((2, 2))}, "got dict"),
        (torch.nn.LSTM(3, 4, proj_size=2), "projections"),
    ],
)
def test_from_torch_bad_module(module, match):
    with pytest.raises(ValueError, match=match):
        convert.from_torch(module)


# ---- the NumPy cells of rnnbook.scratch against PyTorch, through convert ----


def scratch_network(cell, opts, x, hx, layers, d_out, d_finals):
    """rnnbook.scratch.stack forward and backward, returned as one tuple."""
    outputs, cache = stack.forward(cell, x, hx, layers, **opts)
    dx, d_states, grads = stack.backward(d_out, cache, d_finals)
    return outputs, cache["final"], dx, d_states, grads


def torch_grads_as_book(module, cell):
    """dL/d(book parameter) from a PyTorch module's gradients (dL/db = dL/dbias_ih)."""
    gates = cells.TORCH_GATE_ORDER[cell]
    G = len(gates)
    out = []
    for l in range(module.num_layers):
        row = []
        for d in range(2 if module.bidirectional else 1):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            W, U, b_ih, b_hh = (
                getattr(module, n + sfx).grad.chunk(G)
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
            g = {}
            for k, gate in enumerate(gates):
                sym = "" if gate is None else f"_{gate}"
                g.update({f"W{sym}": W[k], f"U{sym}": U[k], f"b{sym}": b_ih[k]})
            if cell == "gru":
                g["d_h"] = b_hh[2]
            row.append({k: v.numpy() for k, v in g.items()})
        out.append(row)
    return out


SCRATCH_CASES = [
    ("srn", {"activation": "tanh"}),
    ("srn", {"activation": "relu"}),
    ("lstm", {"variant": "standard"}),
    ("gru", {"reset": "after", "update": "keep"}),
]


def run_both_ways(cell, opts, layers, module, rng):
    """The scratch stack and a PyTorch module on the same data; compares all but parameters.

    With L = sum(out * d_out) + sum(final states * d_fin), asserts that outputs, final
    states, dL/dx and dL/d(initial states) agree to 1e-10, and returns the scratch
    parameter gradients ``grads[layer][direction]`` for the caller to compare.
    """
    n_states = 2 if cell == "lstm" else 1
    n = len(layers) * len(layers[0])
    x = rng.standard_normal((T, B, D))
    hx = [tuple(rng.standard_normal((B, H)) for _ in range(n_states)) for _ in range(n)]
    d_out = rng.standard_normal((T, B, len(layers[0]) * H))
    d_fin = [tuple(rng.standard_normal((B, H)) for _ in range(n_states)) for _ in range(n)]
    unpack = (lambda s: s) if n_states == 2 else (lambda s: s[0])  # noqa: E731
    outputs, finals, dx, d_states, grads = scratch_network(
        cell, opts, x, [unpack(s) for s in hx], layers, d_out, [unpack(s) for s in d_fin]
    )
    xt = torch.tensor(x, requires_grad=True)
    hxt = [torch.tensor(np.stack([s[k] for s in hx]), requires_grad=True) for k in range(n_states)]
    out, fin = module(xt, tuple(hxt) if n_states == 2 else hxt[0])
    fin = fin if n_states == 2 else (fin,)
    loss = (out * torch.tensor(d_out)).sum()
    for k in range(n_states):
        loss = loss + (fin[k] * torch.tensor(np.stack([s[k] for s in d_fin]))).sum()
    loss.backward()
    np.testing.assert_allclose(outputs, out.detach().numpy(), rtol=0, atol=1e-10)
    for k in range(n_states):
        got = np.stack([f if n_states == 1 else f[k] for f in finals])
        np.testing.assert_allclose(got, fin[k].detach().numpy(), rtol=0, atol=1e-10)
        got_d = np.stack([s if n_states == 1 else s[k] for s in d_states])
        np.testing.assert_allclose(got_d, hxt[k].grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    return grads


@pytest.mark.parametrize(("cell", "opts"), SCRATCH_CASES)
@pytest.mark.parametrize(("num_layers", "dirs"), [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_scratch_equals_torch(cell, opts, num_layers, dirs):
    p = book_params(cell, opts, num_layers, dirs, seed=7)
    layers = [[p]] if isinstance(p, dict) else p
    ref = convert.to_torch(p, cell, **opts)
    rng = np.random.default_rng(num_layers * 2 + dirs)
    grads = run_both_ways(cell, opts, layers, ref, rng)
    want = torch_grads_as_book(ref, cell)
    for l in range(num_layers):
        for d in range(dirs):
            assert set(grads[l][d]) == set(want[l][d])
            for k, v in want[l][d].items():
                np.testing.assert_allclose(grads[l][d][k], v, rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.parametrize(("cell", "opts"), SCRATCH_CASES)
def test_scratch_step_equals_torch_cell(cell, opts):
    module = cell_module(cell)
    rng = np.random.default_rng(11)
    p = book_params(cell, opts, seed=3)
    ref = convert.to_torch(p, cell, torch_cell=True, **opts)
    x = rng.standard_normal((B, D))
    if cell == "lstm":
        state = (rng.standard_normal((B, H)), rng.standard_normal((B, H)))
        (h, c), _ = module.step_forward(x, state, p, **opts)
        h_ref, c_ref = ref(torch.tensor(x), tuple(torch.tensor(s) for s in state))
        np.testing.assert_allclose(c, c_ref.detach().numpy(), rtol=0, atol=1e-12)
    else:
        state = rng.standard_normal((B, H))
        h, _ = module.step_forward(x, state, p, **opts)
        h_ref = ref(torch.tensor(x), torch.tensor(state))
    np.testing.assert_allclose(h, h_ref.detach().numpy(), rtol=0, atol=1e-12)


NN_VARIANTS = [
    ("srn", {"activation": "sigmoid"}),
    ("srn", {"activation": "identity"}),
    ("lstm", {"variant": "no_forget"}),
    ("lstm", {"variant": "peephole"}),
    ("lstm", {"variant": "coupled"}),
    ("gru", {"reset": "before", "update": "keep"}),
    ("gru", {"reset": "before", "update": "replace"}),
    ("gru", {"reset": "after", "update": "replace"}),
]


@pytest.mark.parametrize(("cell", "opts"), NN_VARIANTS)
def test_scratch_equals_nn_variants(cell, opts):
    """The variants PyTorch lacks: rnnbook.nn (autograd) against the NumPy cells (by hand)."""
    p = book_params(cell, opts, 2, 2, seed=9)
    module = convert.to_nn(p, cell, **opts)
    grads = run_both_ways(cell, opts, p, module, np.random.default_rng(5))
    for l in range(2):
        for d in range(2):
            want = {k: v.grad.numpy() for k, v in module.params[l][d].items()}
            assert set(grads[l][d]) == set(want)
            for k, v in want.items():
                np.testing.assert_allclose(grads[l][d][k], v, rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("fn", [convert.to_torch, convert.to_nn])
def test_bad_dtype_argument(fn):
    with pytest.raises(ValueError, match="dtype must be None or a floating torch.dtype, got"):
        fn(book_params("srn", {}), "srn", dtype=torch.int32)


@settings(max_examples=25, deadline=None)
@given(
    cell=st.sampled_from(["srn", "lstm", "gru"]),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    num_layers=st.integers(1, 3),
    dirs=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_round_trips_any_size(cell, sizes, num_layers, dirs, seed):
    rng = np.random.default_rng(seed)
    D_, H_ = sizes
    layers = [
        [
            {
                k: rng.standard_normal(shape)
                for k, (shape, _) in cells.param_shapes(
                    cell, D_ if l == 0 else dirs * H_, H_, **TORCH_OPTS[cell]
                ).items()
            }
            for _ in range(dirs)
        ]
        for l in range(num_layers)
    ]
    p = layers[0][0] if num_layers == 1 and dirs == 1 else layers
    opts = TORCH_OPTS[cell]
    assert_same_params(convert.from_torch(convert.to_torch(p, cell, **opts)), p)
    assert_same_params(convert.from_torch(convert.to_nn(p, cell, **opts)), p)


def test_a_torch_cell_refuses_batch_first():
    with pytest.raises(ValueError, match="batch_first does not apply"):
        convert.to_torch(book_params("lstm", {}), "lstm", torch_cell=True, batch_first=True)
