"""rnnbook.nn on CUDA gives what it gives on the CPU (skipped where there is no GPU)."""

import pytest
import torch

from rnnbook import convert, nn

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

CASES = [
    (nn.SRN, {"activation": "relu"}),
    (nn.LSTM, {"variant": "standard"}),
    (nn.LSTM, {"variant": "peephole"}),
    (nn.GRU, {"reset": "before", "update": "replace"}),
    (nn.GRU, {"reset": "after", "update": "keep"}),
]


@pytest.mark.parametrize(("cls", "opts"), CASES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cuda_equals_cpu(cls, opts, dtype):
    torch.manual_seed(0)
    cpu = cls(4, 6, 2, bidirectional=True, batch_first=True, dtype=dtype, **opts)
    gpu = convert.to_nn(
        convert.from_torch(cpu),
        {nn.SRN: "srn", nn.LSTM: "lstm", nn.GRU: "gru"}[cls],
        batch_first=True,
        device="cuda",
        dtype=dtype,
        **opts,
    )
    assert next(gpu.parameters()).is_cuda
    x = torch.randn(3, 7, 4, dtype=dtype)
    out_c, fin_c = cpu(x)
    out_g, fin_g = gpu(x.cuda())
    assert out_g.is_cuda
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(out_g.cpu(), out_c, rtol=0, atol=tol)
    fin_c = fin_c if isinstance(fin_c, tuple) else (fin_c,)
    fin_g = fin_g if isinstance(fin_g, tuple) else (fin_g,)
    for a, b in zip(fin_g, fin_c, strict=True):
        torch.testing.assert_close(a.cpu(), b, rtol=0, atol=tol)
    out_c.square().sum().backward()
    out_g.square().sum().backward()
    for (name, pc), pg in zip(cpu.named_parameters(), gpu.parameters(), strict=True):
        torch.testing.assert_close(pg.grad.cpu(), pc.grad, rtol=0, atol=10 * tol, msg=name)


def test_cuda_equals_torch_lstm():
    torch.manual_seed(1)
    ref = torch.nn.LSTM(4, 6, 2, dtype=torch.float64).cuda()
    ours = convert.to_nn(convert.from_torch(ref), "lstm", device="cuda")
    x = torch.randn(5, 3, 4, dtype=torch.float64, device="cuda")
    torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=0, atol=1e-10)


def test_cpu_input_to_cuda_module_is_refused():
    m = nn.SRN(4, 6, device="cuda")
    with pytest.raises(ValueError, match="must be on the parameters' device cuda"):
        m(torch.randn(5, 3, 4))


def test_cuda_unbatched_equals_cpu():
    torch.manual_seed(2)
    cpu = nn.GRU(4, 6, 2, bidirectional=True, reset="after", dtype=torch.float64)
    gpu = convert.to_nn(convert.from_torch(cpu), "gru", device="cuda")
    x = torch.randn(7, 4, dtype=torch.float64)  # one sequence (T, D)
    h0 = torch.randn(4, 6, dtype=torch.float64)  # (num_layers * num_directions, H)
    out_c, h_c = cpu(x, h0)
    out_g, h_g = gpu(x.cuda(), h0.cuda())
    assert out_g.shape == (7, 12) and h_g.shape == (4, 6)
    torch.testing.assert_close(out_g.cpu(), out_c, rtol=0, atol=1e-10)
    torch.testing.assert_close(h_g.cpu(), h_c, rtol=0, atol=1e-10)
