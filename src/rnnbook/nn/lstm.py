"""The LSTM as a PyTorch module, with the book's four variants (textbook (6.33)-(6.47)).

Per layer and direction the parameters are ``W_*`` (H, D), ``U_*`` (H, H), ``b_*`` (H,)
for each gate * of ``rnnbook.cells.gates("lstm", variant=...)`` (i, f, o, c, where c
stands for the candidate c~; the variants "no_forget" and "coupled" have no f; no
``b_*`` with ``bias=False``), plus the diagonal peepholes ``p_i``, ``p_f``, ``p_o`` (H,)
for "peephole": ``rnnbook.cells.param_shapes("lstm", ...)``. :meth:`LSTM.step` is the
one place where a step's equations are written, a line under its number as in
``rnnbook.scratch.lstm``; every variant goes through it.
"""

import torch

from rnnbook import cells
from rnnbook.nn._recurrent import Recurrent


class LSTM(Recurrent):
    """Long short-term memory with ``torch.nn.LSTM``'s call: ``output, (h_n, c_n) = lstm(x, hx)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype:
            as for ``torch.nn.LSTM`` (see ``rnnbook.nn._recurrent.Recurrent``).
        variant: "standard" (default) (6.33)-(6.41), "no_forget" (6.42), "peephole"
            (6.43)-(6.45) or "coupled" (6.46)-(6.47); the only option.

    Shapes: input (T, B, D) (or (B, T, D) with ``batch_first``), or (T, D) unbatched;
    h_0, c_0, h_n, c_n (num_layers * num_directions, B, H), or
    (num_layers * num_directions, H) unbatched; output (T, B, num_directions * H)
    (or batch first), or (T, num_directions * H) unbatched.

    Raises:
        ValueError: for an unknown variant, any other option, or a bad constructor
            argument; when called, for an input or state of the wrong type, rank,
            shape, dtype or device, or holding NaN or inf.
    """

    cell = "lstm"
    option_names = tuple(cells.OPTIONS["lstm"])
    n_states = 2

    def prepare(self, p):
        U_T = self.stacked(p, "U").T  # (H, G*H)
        gates = cells.gates("lstm", variant=self.variant)
        peep = {k: v for k, v in p.items() if k.startswith("p_")}  # p_i, p_f, p_o (H,) or none
        return U_T, gates, peep

    def step(self, g_x, state, w):
        h_prev, c_prev = state  # (B, H) each
        U_T, gates, peep = w
        variant = self.variant
        # W_* x_t + U_* h_{t-1} + b_* for every gate *, one product   (B, H) each
        a = dict(zip(gates, torch.addmm(g_x, h_prev, U_T).chunk(len(gates), dim=1), strict=True))

        # (6.36)  i_t = sigma(W_i x_t + U_i h_{t-1} + b_i)   (B, H)
        a_i = a["i"]
        if variant == "peephole":
            # (6.43)  the input gate also looks at c_{t-1}
            a_i = a_i + peep["p_i"] * c_prev
        i_t = torch.sigmoid(a_i)

        if variant == "no_forget":
            # (6.42)  no forget gate: f_t = 1
            f_t = None
        elif variant == "coupled":
            # (6.46)  f_t = 1 - i_t
            f_t = 1 - i_t
        else:
            # (6.37)  f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)   (B, H)
            a_f = a["f"]
            if variant == "peephole":
                # (6.44)  the forget gate also looks at c_{t-1}
                a_f = a_f + peep["p_f"] * c_prev
            f_t = torch.sigmoid(a_f)

        # (6.35)  c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)   (B, H)
        c_tilde = torch.tanh(a["c"])

        if variant == "no_forget":
            # (6.42)  c_t = c_{t-1} + i_t * c~_t   (B, H)
            c_t = c_prev + i_t * c_tilde
        else:
            # (6.40), coupled (6.47)  c_t = f_t * c_{t-1} + i_t * c~_t   (B, H)
            c_t = f_t * c_prev + i_t * c_tilde

        # (6.38)  o_t = sigma(W_o x_t + U_o h_{t-1} + b_o)   (B, H)
        a_o = a["o"]
        if variant == "peephole":
            # (6.45)  the output gate looks at the new cell c_t
            a_o = a_o + peep["p_o"] * c_t
        o_t = torch.sigmoid(a_o)

        # (6.41)  h_t = o_t * tanh(c_t)   (B, H)
        h_t = o_t * torch.tanh(c_t)
        return h_t, c_t
