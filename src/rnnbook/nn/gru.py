"""The gated recurrent unit as a PyTorch module, with both reset and update conventions
(textbook (6.48)-(6.52)).

Per layer and direction the parameters are ``W_*`` (H, D), ``U_*`` (H, H), ``b_*`` (H,)
for * in r, z, h (no ``b_*`` with ``bias=False``), and with ``reset="after"`` and
``bias=True`` also ``d_h`` (H,), the bias inside the reset product. ``gru_step`` below
is the one place where a step's equations are written.
"""

import torch

from rnnbook._checks import check_option
from rnnbook.nn._recurrent import Recurrent

RESETS = ("before", "after")
UPDATES = ("keep", "replace")


def gru_step(g_x, h_prev, U_rz_T, U_h_T, d_h, reset, update):
    """One GRU step.

    Args:
        g_x: (B, 3H) W_* x_t + b_* for the gates r, z, h, stacked in that order.
        h_prev: (B, H) the state h_{t-1}.
        U_rz_T: (H, 2H) [U_r; U_z]^T, or with ``reset="after"`` (H, 3H) [U_r; U_z; U_h]^T.
        U_h_T: (H, H) U_h^T, used only with ``reset="before"``.
        d_h: (H,) the bias inside the reset product (``reset="after"``), or None.
        reset, update: the conventions (see ``GRU``).
    Returns:
        h_t (B, H).
    """
    H = h_prev.shape[1]
    g_rz, g_h = g_x.split([2 * H, H], dim=1)  # (B, 2H), (B, H)
    u = h_prev @ U_rz_T  # (B, 2H) or (B, 3H): U_* h_{t-1}
    # (6.49), (6.51)  r_t = sigma(W_r x_t + U_r h_{t-1} + b_r), z_t likewise with W_z, U_z, b_z
    r, z = torch.sigmoid(g_rz + u[:, : 2 * H]).chunk(2, dim=1)  # each (B, H)
    if reset == "before":
        # (6.48)  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)   (B, H)
        h_tilde = torch.tanh(torch.addmm(g_h, r * h_prev, U_h_T))  # (B, H)
    else:
        u_h = u[:, 2 * H :] if d_h is None else u[:, 2 * H :] + d_h  # (B, H)
        # reset after U_h:  h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + d_h))   (B, H)
        h_tilde = torch.tanh(torch.addcmul(g_h, r, u_h))  # (B, H)
    if update == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t   (B, H)
        return torch.addcmul(h_tilde, z, h_prev - h_tilde)
    # "replace" (Chung et al. 2014):  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t   (B, H)
    return torch.addcmul(h_prev, z, h_tilde - h_prev)


class GRU(Recurrent):
    """Gated recurrent unit with ``torch.nn.GRU``'s call: ``output, h_n = gru(x, h_0)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype:
            as for ``torch.nn.GRU`` (see ``rnnbook.nn._recurrent.Recurrent``).
        reset: "before" (Cho et al. 2014, (6.48)): r_t multiplies h_{t-1} before U_h;
            "after" (cuDNN, PyTorch): r_t multiplies U_h h_{t-1} + d_h.
        update: "keep" ((6.50), PyTorch): z_t weights the old state h_{t-1};
            "replace" (Chung et al. 2014): z_t weights the candidate h~_t.

    Shapes: input (T, B, D) (or (B, T, D) with ``batch_first``); h_0 and h_n
    (num_layers * num_directions, B, H); output (T, B, num_directions * H).

    Raises:
        ValueError: for an unknown reset or update or bad constructor argument; when
            called, for an input or state of the wrong type, rank, shape, dtype or
            device, or holding NaN or inf.
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
        reset="before",
        update="keep",
        device=None,
        dtype=None,
    ):
        check_option("reset", reset, RESETS)
        check_option("update", update, UPDATES)
        self.reset = reset
        self.update = update
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype
        )

    def gate_order(self):
        return ("r", "z", "h")

    def param_shapes(self, D, H):
        shapes = {}
        for gate in self.gate_order():
            shapes[f"W_{gate}"] = (H, D)
            shapes[f"U_{gate}"] = (H, H)
            if self.bias:
                shapes[f"b_{gate}"] = (H,)
        if self.bias and self.reset == "after":
            shapes["d_h"] = (H,)
        return shapes

    def prepare(self, p):
        if self.reset == "after":
            return self.stacked(p, "U").T, None, p.get("d_h")  # (H, 3H)
        U_rz_T = torch.cat([p["U_r"], p["U_z"]]).T  # (H, 2H)
        return U_rz_T, p["U_h"].T, None

    def step(self, g_x, state, w):
        (h_prev,) = state
        return (gru_step(g_x, h_prev, *w, self.reset, self.update),)

    def extra_repr(self):
        return super().extra_repr() + f", reset={self.reset!r}, update={self.update!r}"
