"""rnnbook.nn.StackedRNN: stacked layers joined plainly, by skips (Graves 2013) or residuals."""

import pytest
import torch

from rnnbook import convert
from rnnbook.nn import StackedRNN
from rnnbook.nn.stacked import CONNECTIONS

D, H, T, B = 3, 4, 6, 2


def _x(seed=0, shape=(T, B, D)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _net(cell="srn", L=3, **kw):
    torch.manual_seed(1)
    return StackedRNN(cell, D, H, L, dtype=torch.float64, **kw)


@pytest.mark.parametrize("cell", ["srn", "lstm", "gru"])
def test_plain_stack_is_torch_nn_with_num_layers(cell):
    torch.manual_seed(2)
    torch_cls = {"srn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    ref = torch_cls(D, H, num_layers=3, dtype=torch.float64)
    p = convert.from_torch(ref)  # params[layer][direction]
    opts = {"reset": "after"} if cell == "gru" else {}
    net = _net(cell, 3, **opts)
    with torch.no_grad():
        for l, layer in enumerate(net.layers):
            for k, v in p[l][0].items():
                layer.params[0][0][k].copy_(torch.tensor(v))
    x = _x()
    want, _ = ref(x)
    got, finals = net(x)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    assert len(finals) == 3
    if cell == "lstm":
        assert all(isinstance(f, tuple) and f[0].shape == (1, B, H) for f in finals)
    # a planted error: the top layer's bias changed, and the outputs differ
    with torch.no_grad():
        net.layers[2].params[0][0][next(k for k in p[2][0] if k.startswith("b"))].add_(0.1)
    assert (net(x)[0] - want).abs().max() > 1e-3


def test_residual_adds_each_layers_input_from_layer_two_on():
    net = _net(connections="residual")
    x = _x()
    y1, _ = net.layers[0](x)
    y2 = net.layers[1](y1)[0] + y1
    y3 = net.layers[2](y2)[0] + y2
    got, _ = net(x)
    torch.testing.assert_close(got, y3, rtol=0, atol=1e-14)
    plain = net.layers[2](net.layers[1](y1)[0])[0]
    assert (got - plain).abs().max() > 1e-2
    assert [layer.input_size for layer in net.layers] == [D, H, H]


def test_skip_feeds_the_input_to_every_layer_and_every_layer_to_the_output():
    net = _net(connections="skip")
    assert [layer.input_size for layer in net.layers] == [D, D + H, D + H]
    assert net.output_size == 3 * H
    x = _x()
    y1, _ = net.layers[0](x)
    y2, _ = net.layers[1](torch.cat([x, y1], dim=2))
    y3, _ = net.layers[2](torch.cat([x, y2], dim=2))
    got, _ = net(x)
    assert got.shape == (T, B, 3 * H)
    torch.testing.assert_close(got, torch.cat([y1, y2, y3], dim=2), rtol=0, atol=1e-14)


def test_batch_first_and_one_layer():
    net = _net(L=2, connections="residual")
    x = _x()
    net.batch_first = True
    o_bf, _ = net(x.transpose(0, 1).contiguous())
    net.batch_first = False
    torch.testing.assert_close(o_bf, net(x)[0].transpose(0, 1))
    for c in CONNECTIONS:  # with one layer the three are the same network
        one = _net(L=1, connections=c)
        torch.testing.assert_close(one(x)[0], one.layers[0](x)[0])


@pytest.mark.parametrize("cell", ["srn", "lstm"])
def test_states0_continues_a_sequence(cell):
    net = _net(cell, connections="residual")
    x = _x()
    whole, finals = net(x)
    first, mid = net(x[:2])
    second, finals2 = net(x[2:], mid)
    torch.testing.assert_close(torch.cat([first, second]), whole, rtol=0, atol=1e-14)
    for a, b in zip(finals, finals2, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-14)
    # without the states the second half starts from zeros: another result
    assert (net(x[2:])[0] - second).abs().max() > 1e-3


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="connections must be one of"):
        StackedRNN("srn", D, H, 2, connections="dense")
    with pytest.raises(ValueError, match="cell must be one of"):
        StackedRNN("rnn", D, H, 2)
    with pytest.raises(ValueError, match="num_layers"):
        StackedRNN("srn", D, H, 0)
    with pytest.raises(ValueError, match="batch_first must be True or False"):
        StackedRNN("srn", D, H, 2, batch_first=1)
    with pytest.raises(ValueError, match="dtype"):
        StackedRNN("srn", D, H, 2, dtype=torch.int64)
    net = _net()
    with pytest.raises(ValueError, match="input"):
        net(_x(shape=(T, B, D + 1)))
    with pytest.raises(ValueError, match="input"):
        net(_x().float())
    with pytest.raises(ValueError, match="input must be a torch.Tensor"):
        net([[1.0]])
    with pytest.raises(ValueError, match="states0 must be None or a list of 3 states"):
        net(_x(), [None])
    with pytest.raises(ValueError, match="h_0"):
        net(_x(), [torch.zeros(1, B, H + 1, dtype=torch.float64)] * 3)
