"""The simple recurrent (Elman) network as a PyTorch module (textbook (6.3)-(6.5)).

Per layer and direction the parameters are ``W`` (H, D), ``U`` (H, H) and ``b`` (H,)
(no ``b`` with ``bias=False``); layer l > 0 has ``W`` (H, num_directions * H). The
keys and shapes are ``rnnbook.cells.param_shapes("srn", ...)``'s.
"""

import torch

from rnnbook.nn._recurrent import Recurrent

#: the activation f of (6.4), by name; the names are ``rnnbook.cells.ACTIVATIONS``
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
        activation: f in (6.4), one of ``rnnbook.cells.ACTIVATIONS``: "tanh" (default),
            "relu", "sigmoid" or "identity". It is the only option: this is the Elman
            network (the SRN's ``feedback="hidden"``), with no output layer.

    Shapes: input (T, B, D) (or (B, T, D) with ``batch_first``), or (T, D) unbatched;
    h_0 and h_n (num_layers * num_directions, B, H), or (num_layers * num_directions, H)
    unbatched; output (T, B, num_directions * H) (or batch first), or
    (T, num_directions * H) unbatched.

    Raises:
        ValueError: for an unknown activation, any other option (e.g. ``feedback``), or a
            bad constructor argument; when called, for an input or state of the wrong
            type, rank, shape, dtype or device, or holding NaN or inf.
    """

    cell = "srn"
    option_names = ("activation",)

    def prepare(self, p):
        return p["U"].T, ACTIVATIONS[self.activation]  # (H, H), f

    def step(self, g_x, state, w):
        (h_prev,) = state  # (B, H)
        U_T, f = w
        # (6.3)  z_t = U h_{t-1} + W x_t + b   (W x_t + b is g_x, computed for all t at once)
        z = torch.addmm(g_x, h_prev, U_T)  # (B, H)
        # (6.4)  h_t = f(z_t)   (B, H)
        return (f(z),)
