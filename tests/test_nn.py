"""rnnbook.nn: against PyTorch's own modules, against a plain reference, and bad input.

PyTorch's torch.nn.RNN/LSTM/GRU are the reference for what they can represent;
the book's other variants are checked against ``naive_network`` below, a direct
transcription of the equations with one matrix per gate and no stacking.
"""

import itertools

import numpy as np
import pytest
import torch

from rnnbook import cells, convert, nn

F64 = torch.float64
T, B, D, H = 5, 3, 4, 5

# (cell, options of to_torch / to_nn, rnnbook.nn class)
TORCH_CASES = [
    ("srn", {"activation": "tanh"}),
    ("srn", {"activation": "relu"}),
    ("lstm", {}),
    ("gru", {"reset": "after"}),
]


def torch_module(cell, opts, num_layers, bidirectional, batch_first, seed):
    torch.manual_seed(seed)
    extra = {"nonlinearity": opts["activation"]} if cell == "srn" else {}
    cls = convert.TORCH_CLASSES[cell]
    module = cls(
        D, H, num_layers, batch_first=batch_first, bidirectional=bidirectional, dtype=F64, **extra
    )
    with torch.no_grad():  # PyTorch's two biases both non-zero, so the sum is really tested
        for name, p in module.named_parameters():
            if name.startswith("bias_hh"):
                p.uniform_(-0.5, 0.5)
    return module


def run_with_loss(module, x, hx, n_states, seed):
    """Forward, then backward of L = sum of every output and final state times fixed weights."""
    out, final = module(x, hx)
    finals = (final,) if n_states == 1 else final
    g = torch.Generator().manual_seed(seed)
    loss = (out * torch.randn(out.shape, generator=g, dtype=F64)).sum()
    for s in finals:
        loss = loss + (s * torch.randn(s.shape, generator=g, dtype=F64)).sum()
    loss.backward()
    return out.detach(), tuple(s.detach() for s in finals)


def nn_grads(module):
    """The gradients of an rnnbook.nn module, as params[layer][direction] dicts."""
    return [[{k: p.grad.clone() for k, p in d.items()} for d in layer] for layer in module.params]


def torch_grads_as_book(module, cell):
    """The gradients of a PyTorch module, in the book's keys, per layer and direction.

    The book's bias b is PyTorch's bias_ih + bias_hh, so dL/db = dL/dbias_ih, and
    dL/dbias_hh must equal it (checked here), except for the GRU's n gate, whose
    bias_hh is the book's d_h.
    """
    gates = cells.TORCH_GATE_ORDER[cell]
    layers = []
    for l in range(module.num_layers):
        dirs = []
        for d in range(2 if module.bidirectional else 1):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            g = {n: getattr(module, n + sfx).grad for n in ("weight_ih", "weight_hh")}
            g_ih = getattr(module, "bias_ih" + sfx).grad.chunk(len(gates))
            g_hh = getattr(module, "bias_hh" + sfx).grad.chunk(len(gates))
            book = {}
            for k, gate in enumerate(gates):
                key = lambda s, gate=gate: s if gate is None else f"{s}_{gate}"  # noqa: E731
                book[key("W")] = g["weight_ih"].chunk(len(gates))[k]
                book[key("U")] = g["weight_hh"].chunk(len(gates))[k]
                book[key("b")] = g_ih[k]
                if gate == "h":
                    book["d_h"] = g_hh[k]
                else:
                    torch.testing.assert_close(g_hh[k], g_ih[k], rtol=0, atol=1e-12)
            dirs.append(book)
        layers.append(dirs)
    return layers


def assert_dicts_close(got, want, atol=1e-10):
    assert len(got) == len(want)
    for lg, lw in zip(got, want, strict=True):
        assert len(lg) == len(lw)
        for dg, dw in zip(lg, lw, strict=True):
            assert set(dg) == set(dw)
            for k in dw:
                torch.testing.assert_close(dg[k], dw[k], rtol=0, atol=atol, msg=k)


def assert_same_run(ours, ref, cell, run_ours, run_ref):
    """Outputs, final states, input and state gradients and parameter gradients all agree.

    Each run is (output, final states, x, hx) after ``run_with_loss``; hx is None, a
    tensor, or the LSTM's pair.
    """
    (out_ours, fin_ours, x_ours, hx_ours), (out_ref, fin_ref, x_ref, hx_ref) = run_ours, run_ref
    assert out_ours.shape == out_ref.shape
    torch.testing.assert_close(out_ours, out_ref, rtol=0, atol=1e-10)
    for a, b in zip(fin_ours, fin_ref, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=0, atol=1e-10)
    if hx_ref is not None:
        pairs = (
            zip(hx_ours, hx_ref, strict=True) if isinstance(hx_ref, tuple) else [(hx_ours, hx_ref)]
        )
        for a, b in pairs:
            torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-10)
    assert_dicts_close(nn_grads(ours), torch_grads_as_book(ref, cell))


@pytest.mark.parametrize(
    ("cell", "opts", "num_layers", "bidirectional", "batch_first", "with_hx"),
    [
        (cell, opts, L, bi, bf, hx)
        for (cell, opts), L, bi, bf, hx in itertools.product(
            TORCH_CASES, (1, 2), (False, True), (False, True), (False, True)
        )
    ],
)
def test_nn_equals_torch(cell, opts, num_layers, bidirectional, batch_first, with_hx):
    seed = num_layers * 8 + bidirectional * 4 + batch_first * 2 + with_hx
    ref = torch_module(cell, opts, num_layers, bidirectional, batch_first, seed)
    ours = convert.to_nn(convert.from_torch(ref), cell, batch_first=batch_first, **opts)
    assert type(ours).__name__ == {"srn": "SRN", "lstm": "LSTM", "gru": "GRU"}[cell]
    n_states = 2 if cell == "lstm" else 1
    g = torch.Generator().manual_seed(seed)
    shape = (B, T, D) if batch_first else (T, B, D)
    x = torch.randn(shape, generator=g, dtype=F64)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    hx_ref = hx_ours = None
    if with_hx:
        s = (num_layers * (2 if bidirectional else 1), B, H)
        states = [torch.randn(s, generator=g, dtype=F64) for _ in range(n_states)]
        hx_ref = [t.clone().requires_grad_() for t in states]
        hx_ours = [t.clone().requires_grad_() for t in states]
        if n_states == 1:
            hx_ref, hx_ours = hx_ref[0], hx_ours[0]
        else:
            hx_ref, hx_ours = tuple(hx_ref), tuple(hx_ours)
    out_ref, fin_ref = run_with_loss(ref, x_ref, hx_ref, n_states, seed)
    out_ours, fin_ours = run_with_loss(ours, x_ours, hx_ours, n_states, seed)
    assert_same_run(
        ours, ref, cell, (out_ours, fin_ours, x_ours, hx_ours), (out_ref, fin_ref, x_ref, hx_ref)
    )


# ---- the variants PyTorch does not have, against a plain transcription of the equations ----


def sigma(a):
    return torch.sigmoid(a)


def naive_step(cell, opts, x, state, p):
    """One step written gate by gate from the book's equations (no stacking, no fusing)."""

    def lin(gate):
        return x @ p[f"W_{gate}"].T + state[0] @ p[f"U_{gate}"].T + p[f"b_{gate}"]

    if cell == "srn":
        f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": sigma, "identity": lambda z: z}
        return (f[opts["activation"]](x @ p["W"].T + state[0] @ p["U"].T + p["b"]),)
    if cell == "lstm":
        h, c = state
        v = opts["variant"]
        peep_i = p["p_i"] * c if v == "peephole" else 0
        i = sigma(lin("i") + peep_i)
        c_tilde = torch.tanh(lin("c"))
        if v == "no_forget":
            c_new = c + i * c_tilde
        elif v == "coupled":
            c_new = (1 - i) * c + i * c_tilde
        else:
            peep_f = p["p_f"] * c if v == "peephole" else 0
            c_new = sigma(lin("f") + peep_f) * c + i * c_tilde
        o = sigma(lin("o") + (p["p_o"] * c_new if v == "peephole" else 0))
        return o * torch.tanh(c_new), c_new
    (h,) = state
    z, r = sigma(lin("z")), sigma(lin("r"))
    if opts["reset"] == "before":
        h_tilde = torch.tanh(x @ p["W_h"].T + (r * h) @ p["U_h"].T + p["b_h"])
    else:
        h_tilde = torch.tanh(x @ p["W_h"].T + p["b_h"] + r * (h @ p["U_h"].T + p["d_h"]))
    if opts["update"] == "keep":
        return (z * h + (1 - z) * h_tilde,)
    return ((1 - z) * h + z * h_tilde,)


def naive_network(cell, opts, x, hx, layers):
    """Stacked, bidirectional network from naive_step; x (T, B, D), hx per state (L*dirs, B, H)."""
    finals = []
    for l, dirs in enumerate(layers):
        outs = []
        for d, p in enumerate(dirs):
            state = tuple(s[l * len(dirs) + d] for s in hx)
            ts = range(x.shape[0]) if d == 0 else reversed(range(x.shape[0]))
            out = [None] * x.shape[0]
            for t in ts:
                state = naive_step(cell, opts, x[t], state, p)
                out[t] = state[0]
            outs.append(torch.stack(out))
            finals.append(state)
        x = torch.cat(outs, dim=2)
    return x, tuple(torch.stack([f[k] for f in finals]) for k in range(len(hx)))


VARIANTS = [
    ("srn", {"activation": "sigmoid"}),
    ("srn", {"activation": "identity"}),
    ("lstm", {"variant": "standard"}),
    ("lstm", {"variant": "no_forget"}),
    ("lstm", {"variant": "peephole"}),
    ("lstm", {"variant": "coupled"}),
    ("gru", {"reset": "before", "update": "keep"}),
    ("gru", {"reset": "before", "update": "replace"}),
    ("gru", {"reset": "after", "update": "keep"}),
    ("gru", {"reset": "after", "update": "replace"}),
]
CLASSES = {"srn": nn.SRN, "lstm": nn.LSTM, "gru": nn.GRU}


@pytest.mark.parametrize(("cell", "opts"), VARIANTS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_variants_equal_naive_reference(cell, opts, bidirectional):
    torch.manual_seed(3)
    module = CLASSES[cell](D, H, 2, bidirectional=bidirectional, dtype=F64, **opts)
    n_states = 2 if cell == "lstm" else 1
    dirs = 2 if bidirectional else 1
    x = torch.randn(T, B, D, dtype=F64)
    hx = tuple(torch.randn(2 * dirs, B, H, dtype=F64) for _ in range(n_states))
    # the same weights, as independent leaf tensors for the reference
    leaves = [
        [{k: v.detach().clone().requires_grad_() for k, v in d.items()} for d in layer]
        for layer in module.params
    ]
    out, fin = module(x, hx[0] if n_states == 1 else hx)
    fin = (fin,) if n_states == 1 else fin
    out_ref, fin_ref = naive_network(cell, opts, x, hx, leaves)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-10)
    for a, b in zip(fin, fin_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    R = torch.randn(out.shape, dtype=F64)
    Rs = [torch.randn(s.shape, dtype=F64) for s in fin]
    loss = (out * R).sum() + sum((s * r).sum() for s, r in zip(fin, Rs, strict=True))
    loss_ref = (out_ref * R).sum() + sum((s * r).sum() for s, r in zip(fin_ref, Rs, strict=True))
    loss.backward()
    loss_ref.backward()
    want = [[{k: v.grad for k, v in d.items()} for d in layer] for layer in leaves]
    assert_dicts_close(nn_grads(module), want)


def test_bias_false_is_zero_bias():
    torch.manual_seed(0)
    for cls, opts in [
        (nn.SRN, {}),
        (nn.LSTM, {"variant": "peephole"}),
        (nn.GRU, {"reset": "after"}),
    ]:
        m = cls(D, H, 2, bias=False, bidirectional=True, dtype=F64, **opts)
        assert not any(k.startswith(("b_", "d_")) or k == "b" for d in m.params[0] for k in d)
        cell = {nn.SRN: "srn", nn.LSTM: "lstm", nn.GRU: "gru"}[cls]
        params = convert.from_torch(m)  # zero biases filled in
        assert all(
            np.all(p["b" if cell == "srn" else "b_h" if cell == "gru" else "b_i"] == 0)
            for layer in params
            for p in layer
        )
        full = convert.to_nn(params, cell, **opts)
        x = torch.randn(T, B, D, dtype=F64)
        torch.testing.assert_close(m(x)[0], full(x)[0], rtol=0, atol=1e-12)


def test_matches_torch_bias_false():
    torch.manual_seed(1)
    ref = torch.nn.LSTM(D, H, 2, bias=False, dtype=F64)
    ours = convert.to_nn(convert.from_torch(ref), "lstm")
    x = torch.randn(T, B, D, dtype=F64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=0, atol=1e-10)


def test_positional_arguments_like_torch():
    m = nn.GRU(D, H, 2, False, True, True)  # num_layers, bias, batch_first, bidirectional
    assert (m.num_layers, m.bias, m.batch_first, m.bidirectional) == (2, False, True, True)
    with pytest.raises(TypeError):
        nn.GRU(D, H, 2, False, True, True, "after")  # the cell's options are keyword-only


def test_float32_and_parameter_names():
    m = nn.LSTM(D, H, 2, bidirectional=True)
    assert m.params[1][1]["W_i"].shape == (H, 2 * H)
    assert "params.1.1.U_f" in dict(m.named_parameters())
    out, (h, c) = m(torch.randn(T, B, D))
    assert out.dtype == torch.float32 and out.shape == (T, B, 2 * H)
    assert h.shape == c.shape == (4, B, H)
    m64 = m.to(F64)
    assert m64(torch.randn(T, B, D, dtype=F64))[0].dtype == F64


def test_parameters_start_like_torch():
    torch.manual_seed(0)
    m = nn.GRU(D, 16, reset="after")
    k = 1 / 16**0.5
    for p in m.parameters():
        assert p.abs().max() <= k
    assert m.params[0][0]["U_z"].std() > k / 4  # drawn, not left at zero


# ---- bad input ----


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0, H), {}, "input_size must be an int >= 1, got 0"),
        ((D, 2.5), {}, "hidden_size must be an int >= 1"),
        ((D, H, 0), {}, "num_layers must be an int >= 1, got 0"),
        ((D, H), {"bidirectional": 1}, "bidirectional must be True or False, got 1"),
        ((D, H), {"batch_first": "yes"}, "batch_first must be True or False"),
        ((D, H), {"bias": None}, "bias must be True or False"),
    ],
)
@pytest.mark.parametrize("cls", [nn.SRN, nn.LSTM, nn.GRU])
def test_bad_constructor_arguments(cls, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(*args, **kwargs)


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (nn.SRN, {"activation": "softplus"}, "activation must be one of .* got 'softplus'"),
        (nn.LSTM, {"variant": "gated"}, "variant must be one of .* got 'gated'"),
        (nn.GRU, {"reset": "never"}, "reset must be one of .* got 'never'"),
        (nn.GRU, {"update": "swap"}, "update must be one of .* got 'swap'"),
    ],
)
def test_unknown_option(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(D, H, **kwargs)


BAD_INPUTS = [
    # a rank-2 input (T, D) is one unbatched sequence, as for torch.nn.LSTM (tested below)
    (torch.randn(D), r"input must have rank 3 .* or rank 2 .*\(T, D\).* got rank 1"),
    (torch.randn(T, D + 1), r"input must have shape \(T, D\) = \(\*, 4\), got shape \(5, 5\)"),
    (torch.randn(T, B, D, 1), "input must have rank 3 .* got rank 4"),
    (torch.randn(T, B, D + 1), r"input must have shape \(T, B, D\) = \(\*, \*, 4\), got shape"),
    (torch.randn(T, B, D, dtype=F64), "input must have the parameters' dtype float32, got float64"),
    (torch.ones(T, B, D, dtype=torch.int64), "dtype float32, got int64"),
    (torch.full((T, B, D), float("nan")), "input must contain only finite numbers, got NaN"),
    (torch.full((T, B, D), float("inf")), "input must contain only finite numbers"),
    (np.zeros((T, B, D), dtype=np.float32), "input must be a torch.Tensor, got ndarray"),
    (torch.randn(0, B, D), "at least one time step"),
]


@pytest.mark.parametrize(("x", "match"), BAD_INPUTS)
@pytest.mark.parametrize("cls", [nn.SRN, nn.LSTM, nn.GRU])
def test_bad_input(cls, x, match):
    with pytest.raises(ValueError, match=match):
        cls(D, H)(x)


def test_bad_input_batch_first_names_its_shape():
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        nn.GRU(D, H, batch_first=True)(torch.randn(B, T, D + 1))


@pytest.mark.parametrize(
    ("hx", "match"),
    [
        (torch.zeros(B, H), r"h_0 must have rank 3 .*\(2, 3, 5\).* got rank 2"),
        (torch.zeros(2, B, H + 1), r"h_0 must have shape .*\(2, 3, 5\), got shape \(2, 3, 6\)"),
        (torch.zeros(1, B, H), r"h_0 must have shape .*, got shape \(1, 3, 5\)"),
        (torch.zeros(2, B + 1, H), r"h_0 must have shape .*, got shape \(2, 4, 5\)"),
        (torch.zeros(2, B, H, dtype=F64), "h_0 must have the parameters' dtype float32"),
        (torch.full((2, B, H), float("nan")), "h_0 must contain only finite numbers"),
    ],
)
@pytest.mark.parametrize("cls", [nn.SRN, nn.GRU])
def test_bad_state(cls, hx, match):
    with pytest.raises(ValueError, match=match):
        cls(D, H, 2)(torch.randn(T, B, D), hx)


@pytest.mark.parametrize(
    ("hx", "match"),
    [
        (torch.zeros(1, B, H), "hx must be a pair .*, got Tensor"),
        ((torch.zeros(1, B, H),), "hx must be a pair"),
        ((torch.zeros(1, B, H), torch.zeros(1, B, H + 1)), r"c_0 must have shape .*\(1, 3, 5\)"),
        ((torch.zeros(1, B, H, dtype=F64), torch.zeros(1, B, H)), "h_0 must have the param"),
        ((torch.zeros(1, B, H), torch.full((1, B, H), float("inf"))), "c_0 must contain only"),
    ],
)
def test_bad_lstm_state(hx, match):
    with pytest.raises(ValueError, match=match):
        nn.LSTM(D, H)(torch.randn(T, B, D), hx)


@pytest.mark.parametrize("dtype", [torch.int64, "float64", np.float64])
def test_bad_dtype_argument(dtype):
    with pytest.raises(ValueError, match="dtype must be None or a floating torch.dtype, got"):
        nn.LSTM(D, H, dtype=dtype)


# ---- options and parameters come from rnnbook.cells ----


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (
            nn.LSTM,
            {"reset": "after"},
            r"the lstm options are \('variant',\), got unknown \['reset'\]",
        ),
        (
            nn.GRU,
            {"variant": "peephole"},
            r"the gru options are \('reset', 'update'\), .*'variant'",
        ),
        (
            nn.GRU,
            {"nonlinearity": "tanh"},
            r"the gru options are .* got unknown \['nonlinearity'\]",
        ),
        # rnnbook.nn.SRN is the Elman network: the SRN's other options are not its own
        (nn.SRN, {"feedback": "hidden"}, r"the srn options are \('activation',\), .*'feedback'"),
        (nn.SRN, {"output_activation": "tanh"}, r"\('activation',\), .*'output_activation'"),
        (nn.SRN, {"variant": "standard"}, r"\('activation',\), got unknown \['variant'\]"),
    ],
)
def test_unknown_or_misplaced_option_names_the_allowed(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(D, H, **kwargs)


def test_srn_activations_are_the_cells():
    assert tuple(nn.srn.ACTIVATIONS) == cells.ACTIVATIONS


@pytest.mark.parametrize(("cell", "opts"), VARIANTS)
@pytest.mark.parametrize("bias", [True, False])
def test_parameters_are_cells_param_shapes(cell, opts, bias):
    m = CLASSES[cell](D, H, 2, bias=bias, bidirectional=True, **opts)
    for l, layer in enumerate(m.params):
        want = cells.param_shapes(cell, D if l == 0 else 2 * H, H, bias=bias, **opts)
        for p in layer:  # (a ParameterDict built from a dict sorts its keys)
            assert {k: tuple(v.shape) for k, v in p.items()} == {k: s for k, (s, _) in want.items()}
    for k, v in opts.items():
        assert getattr(m, k) == v
    assert m.options == cells.options(cell, opts, only=CLASSES[cell].option_names)


def test_extra_repr_names_the_options():
    gru = nn.GRU(D, H, bias=False, reset="after")
    assert gru.extra_repr() == "4, 5, num_layers=1, bias=False, reset='after', update='keep'"
    lstm = nn.LSTM(D, H, 2, bidirectional=True, variant="peephole")
    assert lstm.extra_repr() == "4, 5, num_layers=2, bidirectional=True, variant='peephole'"
    assert nn.SRN(D, H).extra_repr() == "4, 5, num_layers=1, activation='tanh'"


def test_gru_stacks_z_r_h():
    m = nn.GRU(D, H, reset="after")
    p = m.params[0][0]
    assert cells.gates("gru") == ("z", "r", "h")
    torch.testing.assert_close(m.stacked(p, "W"), torch.cat([p["W_z"], p["W_r"], p["W_h"]]))
    torch.testing.assert_close(m.stacked(p, "U"), torch.cat([p["U_z"], p["U_r"], p["U_h"]]))


# ---- unbatched input (T, D), as torch.nn.RNN/LSTM/GRU take it since PyTorch 1.11 ----


@pytest.mark.parametrize(("cell", "opts"), TORCH_CASES)
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_equals_torch(cell, opts, num_layers, bidirectional, batch_first, with_hx):
    seed = 40 + num_layers * 4 + batch_first * 2 + with_hx
    ref = torch_module(cell, opts, num_layers, bidirectional, batch_first, seed)
    ours = convert.to_nn(convert.from_torch(ref), cell, batch_first=batch_first, **opts)
    n_states = 2 if cell == "lstm" else 1
    dirs = 2 if bidirectional else 1
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, D, generator=g, dtype=F64)  # batch_first is ignored: (T, D) either way
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    hx_ref = hx_ours = None
    if with_hx:
        states = [torch.randn(num_layers * dirs, H, generator=g, dtype=F64) for _ in "hc"]
        hx_ref = tuple(t.clone().requires_grad_() for t in states[:n_states])
        hx_ours = tuple(t.clone().requires_grad_() for t in states[:n_states])
        if n_states == 1:
            hx_ref, hx_ours = hx_ref[0], hx_ours[0]
    out_ref, fin_ref = run_with_loss(ref, x_ref, hx_ref, n_states, seed)
    out_ours, fin_ours = run_with_loss(ours, x_ours, hx_ours, n_states, seed)
    assert out_ref.shape == (T, dirs * H)
    for b in fin_ref:
        assert b.shape == (num_layers * dirs, H)
    assert_same_run(
        ours, ref, cell, (out_ours, fin_ours, x_ours, hx_ours), (out_ref, fin_ref, x_ref, hx_ref)
    )


@pytest.mark.parametrize(("cell", "opts"), VARIANTS)
def test_unbatched_variants_equal_naive_reference(cell, opts):
    torch.manual_seed(5)
    module = CLASSES[cell](D, H, 2, bidirectional=True, dtype=F64, **opts)
    n_states = 2 if cell == "lstm" else 1
    x = torch.randn(T, D, dtype=F64)
    hx = tuple(torch.randn(4, H, dtype=F64) for _ in range(n_states))
    params = [[{k: v.detach() for k, v in d.items()} for d in layer] for layer in module.params]
    out, fin = module(x, hx[0] if n_states == 1 else hx)
    fin = (fin,) if n_states == 1 else fin
    # the reference on a batch of one
    out_ref, fin_ref = naive_network(
        cell, opts, x.unsqueeze(1), tuple(s.unsqueeze(1) for s in hx), params
    )
    assert out.shape == (T, 2 * H)
    torch.testing.assert_close(out, out_ref.squeeze(1), rtol=0, atol=1e-10)
    for a, b in zip(fin, fin_ref, strict=True):
        assert a.shape == (4, H)
        torch.testing.assert_close(a, b.squeeze(1), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("hx", "match"),
    [
        (
            torch.zeros(2, 1, H),
            r"h_0 must have rank 2 with shape \(num_layers \* num_directions, H\)",
        ),
        (torch.zeros(2, H + 1), r"h_0 must have shape .*= \(2, 5\), got shape \(2, 6\)"),
        (torch.zeros(1, H), r"h_0 must have shape .*, got shape \(1, 5\)"),
        (torch.zeros(2, H, dtype=F64), "h_0 must have the parameters' dtype float32"),
    ],
)
@pytest.mark.parametrize("cls", [nn.SRN, nn.GRU])
def test_bad_unbatched_state(cls, hx, match):
    with pytest.raises(ValueError, match=match):
        cls(D, H, 2)(torch.randn(T, D), hx)


@pytest.mark.parametrize(
    ("hx", "match"),
    [
        ((torch.zeros(1, B, H), torch.zeros(1, B, H)), r"h_0 must have rank 2 .*\(1, 5\)"),
        ((torch.zeros(1, H), torch.zeros(1, 1, H)), r"c_0 must have rank 2 .*\(1, 5\)"),
        ((torch.zeros(1, H), torch.zeros(1, H + 1)), r"c_0 must have shape .*\(1, 5\)"),
        (torch.zeros(1, H), "hx must be a pair"),
    ],
)
def test_bad_unbatched_lstm_state(hx, match):
    with pytest.raises(ValueError, match=match):
        nn.LSTM(D, H)(torch.randn(T, D), hx)


def test_batched_state_with_unbatched_input_torch_refuses_too():
    # the same mistake torch.nn.GRU refuses (with a RuntimeError): a batched h_0 for one sequence
    ref = torch.nn.GRU(D, H)
    with pytest.raises(RuntimeError):
        ref(torch.randn(T, D), torch.zeros(1, 1, H))
    with pytest.raises(ValueError, match="h_0 must have rank 2"):
        convert.to_nn(convert.from_torch(ref), "gru")(torch.randn(T, D), torch.zeros(1, 1, H))
