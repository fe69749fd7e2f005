"""The gated recurrent unit as a PyTorch module, with both reset and update conventions
(textbook (6.48)-(6.52)).

Per layer and direction the parameters are ``W_*`` (H, D), ``U_*`` (H, H), ``b_*`` (H,)
for * in ``rnnbook.cells.gates("gru")`` = z, r, h (h for the candidate h~; no ``b_*``
with ``bias=False``), and with ``reset="after"`` and ``bias=True`` also ``d_h`` (H,),
the bias inside the reset product: ``rnnbook.cells.param_shapes("gru", ...)``. The
gates are stacked in that order, z, r, h, as in ``rnnbook.scratch.gru``.
:meth:`GRU.step` is the one place where a step's equations are written, a line under
its number.
"""

import torch

from rnnbook import cells
from rnnbook.nn._recurrent import Recurrent


class GRU(Recurrent):
    """Gated recurrent unit with ``torch.nn.GRU``'s call: ``output, h_n = gru(x, h_0)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype:
            as for ``torch.nn.GRU`` (see ``rnnbook.nn._recurrent.Recurrent``).
        reset: "before" (default; Cho et al. 2014, (6.48)): r_t multiplies h_{t-1}
            before U_h; "after" (cuDNN, PyTorch): r_t multiplies U_h h_{t-1} + d_h.
        update: "keep" (default; (6.50), PyTorch): z_t weights the old state h_{t-1};
            "replace" (Chung et al. 2014): z_t weights the candidate h~_t.

    Shapes: input (T, B, D) (or (B, T, D) with ``batch_first``), or (T, D) unbatched;
    h_0 and h_n (num_layers * num_directions, B, H), or (num_layers * num_directions, H)
    unbatched; output (T, B, num_directions * H) (or batch first), or
    (T, num_directions * H) unbatched.

    Raises:
        ValueError: for an unknown reset or update, any other option, or a bad
            constructor argument; when called, for an input or state of the wrong type,
            rank, shape, dtype or device, or holding NaN or inf.
    """

    cell = "gru"
    option_names = tuple(cells.OPTIONS["gru"])

    def prepare(self, p):
        if self.reset == "after":
            # [U_z; U_r; U_h]^T (H, 3H), and d_h (H,) (None with bias=False)
            return self.stacked(p, "U").T, None, p.get("d_h")
        # [U_z; U_r]^T (H, 2H) and U_h^T (H, H): U_h multiplies r_t * h_{t-1}, not h_{t-1}
        z, r, h = cells.gates("gru")
        return torch.cat([p[f"U_{z}"], p[f"U_{r}"]]).T, p[f"U_{h}"].T, None

    def step(self, g_x, state, w):
        (h_prev,) = state  # (B, H)
        U_T, U_h_T, d_h = w
        gates = cells.gates("gru")  # z, r, h: the order of g_x's and U_T's column blocks
        # W_* x_t + b_* for every gate   (B, H) each
        xw = dict(zip(gates, g_x.chunk(3, dim=1), strict=True))
        # U_* h_{t-1} for z, r (and h with reset="after")   (B, H) each
        stacked = gates if self.reset == "after" else gates[:2]
        uh = dict(zip(stacked, (h_prev @ U_T).chunk(len(stacked), dim=1), strict=True))

        # (6.51)  z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)   (B, H)
        z_t = torch.sigmoid(xw["z"] + uh["z"])
        # (6.49)  r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)   (B, H)
        r_t = torch.sigmoid(xw["r"] + uh["r"])

        if self.reset == "before":
            # (6.48)  h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)   (B, H)
            h_tilde = torch.tanh(xw["h"] + (r_t * h_prev) @ U_h_T)
        else:
            # after:  h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + d_h))   (B, H)
            u_t = uh["h"] if d_h is None else uh["h"] + d_h
            h_tilde = torch.tanh(xw["h"] + r_t * u_t)

        if self.update == "keep":
            # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t   (B, H)
            h_t = z_t * h_prev + (1 - z_t) * h_tilde
        else:
            # replace (Chung et al. 2014):  h_t = (1 - z_t) * h_{t-1} + z_t * h~_t   (B, H)
            h_t = (1 - z_t) * h_prev + z_t * h_tilde
        return (h_t,)
