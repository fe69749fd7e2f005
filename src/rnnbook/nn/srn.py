"""The simple recurrent (Elman) network as a PyTorch module (textbook (6.3)-(6.5)).

Per layer and direction the parameters are ``W`` (H, D), ``U`` (H, H) and ``b`` (H,)
(no ``b`` with ``bias=False``); layer l > 0 has ``W`` (H, num_directions * H).
"""

import torch

from rnnbook._checks import check_option
from rnnbook.nn._recurrent import Recurrent

#: the activation f of (6.4), by name
ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
}


class SRN(Recurrent):
    """Elman network with ``torch.nn.RNN``'s call: ``output, h_n = srn(x, h_0)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype:
            as for ``torch.nn.RNN`` (see ``rnnbook.nn._recurrent.Recurrent``).
        activation: f in (6.4): "tanh" (default), "relu", "sigmoid" or "identity".

    Shapes: input (T, B, D) (or (B, T, D) with ``batch_first``); h_0 and h_n
    (num_layers * num_directions, B, H); output (T, B, num_directions * H).

    Raises:
        ValueError: for an unknown activation or bad constructor argument; when called,
            for an input or state of the wrong type, rank, shape, dtype or device, or
            holding NaN or inf.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        bidirectional=False,
        *,
        activation="tanh",
        device=None,
        dtype=None,
    ):
        check_option("activation", activation, tuple(ACTIVATIONS))
        self.activation = activation
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype
        )

    def gate_order(self):
        return (None,)  # one "gate": the keys are W, U, b without a suffix

    def param_shapes(self, D, H):
        shapes = {"W": (H, D), "U": (H, H)}
        if self.bias:
            shapes["b"] = (H,)
        return shapes

    def prepare(self, p):
        return p["U"].T, ACTIVATIONS[self.activation]  # (H, H)

    def step(self, g_x, state, w):
        (h_prev,) = state  # (B, H)
        U_T, f = w
        # (6.3)  z_t = U h_{t-1} + W x_t + b   (W x_t + b is g_x, computed for all t at once)
        z = torch.addmm(g_x, h_prev, U_T)  # (B, H)
        # (6.4)  h_t = f(z_t)   (B, H)
        return (f(z),)

    def extra_repr(self):
        return super().extra_repr() + f", activation={self.activation!r}"
