"""Stacked recurrent networks with connections across their layers: plain, skip, residual.

A stack of L one-directional recurrent layers (the textbook's (6.53)), each a one-layer
``rnnbook.nn`` module of the same cell, and one of three ways to join the layers. With
y^(0)_t = x_t and layer l's recurrence written ``layer_l``:

    "none"      (6.53)   y^(l) = layer_l(y^(l-1));  the output is y^(L)
    "skip"      (STK.1)  y^(l) = layer_l([x; y^(l-1)]) for l >= 2 (layer 1 reads x);
                         the output is [y^(1); ...; y^(L)], every layer's states
    "residual"  (STK.2)  y^(1) = layer_1(x);  y^(l) = layer_l(y^(l-1)) + y^(l-1) for l >= 2;
                         the output is y^(L)

"skip" is the layout of Graves (2013): the input reaches every layer, and a readout of the
output reads every layer, so the first layer is one step from the loss at any depth.
"residual" adds each layer's input to its output, as He et al. (2016) do between
convolutional blocks and Wu et al. (2016) between the LSTM layers of a translation
system: the Jacobian of layer l's output with respect to its input is then I + J_l, with
an identity path through every layer. Layer 1 has no residual, since x has D features and
its states H.
"""

import torch

from rnnbook._checks import check_int, check_option, describe
from rnnbook.nn._checks import check_float_dtype, check_tensor
from rnnbook.nn.gru import GRU
from rnnbook.nn.lstm import LSTM
from rnnbook.nn.srn import SRN

#: the ways to join the layers, in the order of the module docstring
CONNECTIONS = ("none", "skip", "residual")
_MODULES = {"srn": SRN, "lstm": LSTM, "gru": GRU}


class StackedRNN(torch.nn.Module):
    """L recurrent layers of one cell, joined plainly, by skips or by residuals.

    ``output, finals = net(x)``.

    Args:
        cell: "srn", "lstm" or "gru".
        input_size: D.
        hidden_size: H, every layer's state size.
        num_layers: L >= 1.
        connections: one of :data:`CONNECTIONS` (see the module docstring).
        batch_first: inputs and outputs are (B, T, *) instead of (T, B, *).
        device, dtype: where and in which precision the parameters are created.
        **options: the cell's options, passed to every layer (e.g. ``reset="after"``).

    Shapes: input (T, B, D) (or (B, T, D)); output (T, B, H), or (T, B, L * H) for
    "skip" (or batch first). ``finals`` lists each layer's final state as its module
    returns it: h_n (1, B, H), or the LSTM's pair (h_n, c_n). ``states0``, when given, is
    such a list of initial states (a previous call's ``finals`` continues a sequence).

    Attributes:
        layers: a ``torch.nn.ModuleList`` of the L one-layer modules; layer l's input
            size is D for l = 1, D + H for "skip" and H otherwise for l >= 2.
        output_size: H, or L * H for "skip".

    Raises:
        ValueError: for a bad constructor argument, and, when called, for an input that
            is not a tensor of the parameters' dtype and device with shape (T, B, D).
    """

    def __init__(
        self,
        cell,
        input_size,
        hidden_size,
        num_layers,
        *,
        connections="none",
        batch_first=False,
        device=None,
        dtype=None,
        **options,
    ):
        super().__init__()
        check_option("cell", cell, tuple(_MODULES))
        D = check_int("input_size", input_size)
        H = check_int("hidden_size", hidden_size)
        L = check_int("num_layers", num_layers)
        check_option("connections", connections, CONNECTIONS)
        if not isinstance(batch_first, bool):
            raise ValueError(f"batch_first must be True or False, got {batch_first!r}")
        check_float_dtype(dtype)
        self.cell, self.connections, self.batch_first = cell, connections, batch_first
        self.input_size, self.hidden_size, self.num_layers = D, H, L
        self.output_size = L * H if connections == "skip" else H
        sizes = [D] + [D + H if connections == "skip" else H] * (L - 1)
        module = _MODULES[cell]
        self.layers = torch.nn.ModuleList(
            module(n, H, device=device, dtype=dtype, **options) for n in sizes
        )

    def forward(self, input, states0=None):
        """Run the stack over a sequence; returns ``(output, finals)`` (see the class)."""
        like = next(iter(self.parameters()))
        dims = "(B, T, D)" if self.batch_first else "(T, B, D)"
        check_tensor(input, "input", shape=(None, None, self.input_size), dims=dims, like=like)
        if states0 is not None and not (
            isinstance(states0, (list, tuple)) and len(states0) == self.num_layers
        ):
            raise ValueError(
                f"states0 must be None or a list of {self.num_layers} states, one per layer, "
                f"got {describe(states0)}"
            )
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, D)
        outputs, finals, y = [], [], x
        for l, layer in enumerate(self.layers):
            # (STK.1)  a layer above the first reads [x; y^(l-1)]   (T, B, D + H)
            inp = torch.cat([x, y], dim=2) if self.connections == "skip" and l > 0 else y
            out, final = layer(inp, None if states0 is None else states0[l])  # (T, B, H)
            if self.connections == "residual" and l > 0:
                # (STK.2)  y^(l) = layer_l(y^(l-1)) + y^(l-1)   (T, B, H)
                out = out + y
            y = out
            outputs.append(y)
            finals.append(final)
        # (STK.1)  the readout of "skip" sees every layer: [y^(1); ...; y^(L)]   (T, B, L H)
        output = torch.cat(outputs, dim=2) if self.connections == "skip" else y
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, finals

    def extra_repr(self):
        return f"{self.cell!r}, connections={self.connections!r}"
