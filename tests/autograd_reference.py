"""PyTorch's autograd as the reference for the hand-written backward passes.

Shared by the tests of every NumPy cell: the cell is written once more, gate by
gate, in PyTorch (in its test file), and autograd differentiates it.
"""

import torch
from hypothesis import strategies as st

#: the sizes every cell's gradients are checked over, drawn by hypothesis (one seed per case)
SIZES = dict(
    seed=st.integers(0, 2**31),
    T=st.integers(1, 6),
    B=st.integers(1, 3),
    D=st.integers(1, 4),
    H=st.integers(1, 5),
)


def _leaf(a):
    return torch.tensor(a, requires_grad=True)


def autograd_sequence(run, x, state0, params, d_out, d_final):
    """Gradients of L = sum(out * d_out) + sum(final * d_final) by torch.autograd.

    Args:
        run: ``run(x, state0, params) -> (out, final)`` in PyTorch; the state is one
            tensor (B, S) or a tuple of them (the LSTM's (h, c)).
        x: (T, B, D) NumPy.  state0: (B, S) or a tuple of them.  params: dict of arrays.
        d_out: (T, B, S) the gradient arriving at the outputs.
        d_final: like state0, the gradient arriving at the final state, or None.

    Returns:
        (out, dx, dstate0, grads) as NumPy, dstate0 shaped like state0.
    """
    pair = isinstance(state0, tuple)
    tp = {k: _leaf(v) for k, v in params.items()}
    tx = _leaf(x)
    ts0 = tuple(_leaf(s) for s in state0) if pair else _leaf(state0)
    out, final = run(tx, ts0, tp)
    loss = (out * torch.tensor(d_out)).sum()
    if d_final is not None:
        finals, d_finals = (final, d_final) if pair else ((final,), (d_final,))
        for f, d in zip(finals, d_finals, strict=True):
            loss = loss + (f * torch.tensor(d)).sum()
    loss.backward()
    dstate0 = tuple(s.grad.numpy() for s in ts0) if pair else ts0.grad.numpy()
    grads = {k: v.grad.numpy() for k, v in tp.items()}
    return out.detach().numpy(), tx.grad.numpy(), dstate0, grads
