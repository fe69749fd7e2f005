"""rnnbook.nn.deep.DeepRNN: the deep input, transition and output maps of Pascanu et al."""

import numpy as np
import pytest
import torch

from rnnbook.nn import SRN
from rnnbook.nn.deep import DeepRNN

D, H, T, B = 3, 4, 5, 2


def _x(seed=0, shape=(T, B, D)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _net(**kw):
    torch.manual_seed(1)
    return DeepRNN(D, H, dtype=torch.float64, **kw)


def test_depth_one_is_torch_rnn_and_the_book_srn():
    net = _net()
    p = net.params
    ref = torch.nn.RNN(D, H, dtype=torch.float64)
    srn = SRN(D, H, dtype=torch.float64)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(p["W"])
        ref.weight_hh_l0.copy_(p["U"])
        ref.bias_ih_l0.copy_(p["b"])
        ref.bias_hh_l0.zero_()
        for k in ("W", "U", "b"):
            srn.params[0][0][k].copy_(p[k])
    x, h_0 = _x(), _x(1, (1, B, H))
    o, h_n = net(x, h_0)
    for other in (ref, srn):
        o_ref, h_ref = other(x, h_0)
        torch.testing.assert_close(o, o_ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(h_n, h_ref, rtol=1e-12, atol=1e-12)


def test_batch_first_transposes_input_and_output():
    net = _net(transition_layers=2)
    x = _x()
    o, h_n = net(x)
    net.batch_first = True
    o_bf, h_bf = net(x.transpose(0, 1).contiguous())
    torch.testing.assert_close(o_bf, o.transpose(0, 1))
    torch.testing.assert_close(h_bf, h_n)


def _one_step_by_hand(P, x, h, L, shortcut, skip=None):
    """h_1 of a deep transition written out in NumPy, layer by layer (skip: a planted error)."""
    P = {k: v.detach().numpy() for k, v in P.items()}
    z = P["W"] @ x + P["U"] @ h + P["b"]
    v = np.tanh(z)
    for ell in range(2, L + 1):
        if ell == skip:
            continue
        z = P[f"V_{ell}"] @ v + P[f"c_{ell}"]
        if shortcut and ell == L:
            z = z + P["S"] @ h
        v = np.tanh(z)
    return v


@pytest.mark.parametrize("shortcut", [False, True])
def test_one_deep_transition_step_by_hand(shortcut):
    net = _net(transition_layers=3, shortcut=shortcut)
    x, h_0 = _x(2, (1, 1, D)), _x(3, (1, 1, H))
    _, h_n = net(x, h_0)
    want = _one_step_by_hand(net.params, x[0, 0].numpy(), h_0[0, 0].numpy(), 3, shortcut)
    np.testing.assert_allclose(h_n[0, 0].detach().numpy(), want, rtol=1e-12, atol=1e-12)
    # the planted error: skipping the middle layer is caught by the same comparison
    bad = _one_step_by_hand(net.params, x[0, 0].numpy(), h_0[0, 0].numpy(), 3, shortcut, skip=2)
    assert not np.allclose(h_n[0, 0].detach().numpy(), bad, rtol=1e-6, atol=1e-6)


def test_input_and_output_mlps_by_hand():
    net = _net(input_layers=2, output_layers=2)
    P = {k: v.detach().numpy() for k, v in net.params.items()}
    x = _x(4)
    o, _ = net(x)
    h = np.zeros((B, H))
    for t in range(T):
        v = np.tanh(np.tanh(x[t].numpy() @ P["A_1"].T + P["a_1"]) @ P["A_2"].T + P["a_2"])
        h = np.tanh(v @ P["W"].T + h @ P["U"].T + P["b"])
        y = np.tanh(np.tanh(h @ P["C_1"].T + P["d_1"]) @ P["C_2"].T + P["d_2"])
        np.testing.assert_allclose(o[t].detach().numpy(), y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"input_layers": 2},
        {"transition_layers": 3},
        {"transition_layers": 2, "shortcut": True},
        {"output_layers": 2},
        {"input_layers": 1, "transition_layers": 2, "output_layers": 1},
    ],
)
def test_parameter_count(kw):
    K, L, M = kw.get("input_layers", 0), kw.get("transition_layers", 1), kw.get("output_layers", 0)
    S = kw.get("shortcut", False)
    n_in = (H * D + H) + (K - 1) * (H * H + H) if K else 0
    n_trans = H * (H if K else D) + H * H + H + (L - 1) * (H * H + H) + (H * H if S else 0)
    n_out = M * (H * H + H)
    net = _net(**kw)
    assert sum(p.numel() for p in net.parameters()) == n_in + n_trans + n_out


def test_gradients_flow_gradcheck():
    torch.manual_seed(0)
    net = DeepRNN(
        2, 2, input_layers=1, transition_layers=2, output_layers=1, shortcut=True,
        dtype=torch.float64,
    )  # fmt: skip
    x = _x(5, (3, 1, 2)).requires_grad_()
    h_0 = _x(6, (1, 1, 2)).requires_grad_()
    names = list(net.params.keys())
    params = [net.params[k] for k in names]

    def f(x, h_0, *ps):
        out = torch.func.functional_call(
            net, dict(zip([f"params.{k}" for k in names], ps, strict=True)), (x, h_0)
        )
        return out[0].sum() + out[1].sum()

    assert torch.autograd.gradcheck(f, (x, h_0, *params))
    f(x, h_0, *params).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"input_layers": -1}, "input_layers must be an int >= 0"),
        ({"transition_layers": 0}, "transition_layers must be an int >= 1"),
        ({"output_layers": 1.5}, "output_layers must be an int >= 0"),
        ({"shortcut": True}, "shortcut=True needs transition_layers >= 2, got 1"),
        ({"shortcut": 1}, "shortcut must be True or False"),
        ({"activation": "softmax"}, "activation must be one of"),
        ({"dtype": torch.int32}, "dtype must be None or a floating"),
    ],
)
def test_bad_constructor_argument(kw, match):
    with pytest.raises(ValueError, match=match):
        DeepRNN(D, H, **kw)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros((T, B, D)),), "input must be a torch.Tensor"),
        ((torch.zeros(T, B, D + 1, dtype=torch.float64),), r"\(\*, \*, 3\), got shape \(5, 2, 4\)"),
        ((torch.zeros(T, B, D),), "dtype float64, got float32"),
        ((_x(), torch.zeros(2, B, H, dtype=torch.float64)), r"h_0 must have shape \(1, B, H\)"),
        (
            (torch.full((T, B, D), float("nan"), dtype=torch.float64),),
            "input must contain only finite",
        ),
    ],
)
def test_bad_call_input(args, match):
    with pytest.raises(ValueError, match=match):
        _net()(*args)
