"""The LSTM as a PyTorch module, with the book's four variants (textbook (6.33)-(6.47)).

Per layer and direction the parameters are ``W_*`` (H, D), ``U_*`` (H, H), ``b_*`` (H,)
for each gate * (i, f, o, c; the variants "no_forget" and "coupled" have no f; no
``b_*`` with ``bias=False``), plus the diagonal peepholes ``p_i``, ``p_f``, ``p_o`` (H,)
for "peephole". ``lstm_step`` below is the one place where a step's equations are
written; every variant goes through it.
"""

import torch

from rnnbook._checks import check_option
from rnnbook.nn._recurrent import Recurrent

VARIANTS = ("standard", "no_forget", "peephole", "coupled")


def gates_of(variant):
    """The gates of a variant in stacking order: sigmoid gates first, then c (tanh).

    ("i", "f", "o", "c"), or ("i", "o", "c") for "no_forget" and "coupled".
    """
    return ("i", "o", "c") if variant in ("no_forget", "coupled") else ("i", "f", "o", "c")


def lstm_step(g, c_prev, variant, peep=None):
    """One LSTM step from its stacked pre-activations.

    Args:
        g: (B, G*H) W x_t + U h_{t-1} + b for the gates in ``gates_of(variant)`` order.
        c_prev: (B, H) the cell state c_{t-1}.
        variant: one of VARIANTS.
        peep: for "peephole" the tuple (p_i, p_f, p_o), each (H,); otherwise None.
    Returns:
        h_t (B, H), c_t (B, H).
    """
    H = c_prev.shape[1]
    g_sig, g_c = g.split([g.shape[1] - H, H], dim=1)  # (B, (G-1)*H), (B, H)
    # (6.35)  c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)
    c_tilde = torch.tanh(g_c)  # (B, H)
    if variant == "peephole":
        p_i, p_f, p_o = peep
        g_i, g_f, g_o = g_sig.chunk(3, dim=1)  # each (B, H)
        # (6.43)  i_t = sigma(W_i x_t + U_i h_{t-1} + p_i * c_{t-1} + b_i)   (B, H)
        i = torch.sigmoid(torch.addcmul(g_i, p_i, c_prev))
        # (6.44)  f_t = sigma(W_f x_t + U_f h_{t-1} + p_f * c_{t-1} + b_f)   (B, H)
        f = torch.sigmoid(torch.addcmul(g_f, p_f, c_prev))
        # (6.40)  c_t = f_t * c_{t-1} + i_t * c~_t   (B, H)
        c = torch.addcmul(f * c_prev, i, c_tilde)
        # (6.45)  o_t = sigma(W_o x_t + U_o h_{t-1} + p_o * c_t + b_o)   (B, H)
        o = torch.sigmoid(torch.addcmul(g_o, p_o, c))
    elif variant == "standard":
        # (6.36)-(6.38)  i_t, f_t, o_t = sigma(W_* x_t + U_* h_{t-1} + b_*), one call for all three
        i, f, o = torch.sigmoid(g_sig).chunk(3, dim=1)  # each (B, H)
        # (6.40)  c_t = f_t * c_{t-1} + i_t * c~_t   (B, H)
        c = torch.addcmul(f * c_prev, i, c_tilde)
    else:
        i, o = torch.sigmoid(g_sig).chunk(2, dim=1)  # each (B, H)
        if variant == "no_forget":
            # (6.42)  c_t = c_{t-1} + i_t * c~_t   (B, H)
            c = torch.addcmul(c_prev, i, c_tilde)
        else:
            # (6.46)-(6.47)  f_t = 1 - i_t:  c_t = (1 - i_t) * c_{t-1} + i_t * c~_t   (B, H)
            c = torch.addcmul(c_prev, i, c_tilde - c_prev)
    # (6.41)  h_t = o_t * tanh(c_t)   (B, H)
    h = o * torch.tanh(c)
    return h, c


class LSTM(Recurrent):
    """Long short-term memory with ``torch.nn.LSTM``'s call: ``output, (h_n, c_n) = lstm(x, hx)``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype:
            as for ``torch.nn.LSTM`` (see ``rnnbook.nn._recurrent.Recurrent``).
        variant: "standard" (6.33)-(6.41), "no_forget" (6.42), "peephole" (6.43)-(6.45)
            or "coupled" (6.46)-(6.47).

    Shapes: input (T, B, D) (or (B, T, D) with ``batch_first``); h_0, c_0, h_n, c_n
    (num_layers * num_directions, B, H); output (T, B, num_directions * H).

    Raises:
        ValueError: for an unknown variant or bad constructor argument; when called,
            for an input or state of the wrong type, rank, shape, dtype or device, or
            holding NaN or inf.
    """

    n_states = 2

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        bidirectional=False,
        *,
        variant="standard",
        device=None,
        dtype=None,
    ):
        check_option("variant", variant, VARIANTS)
        self.variant = variant
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, bidirectional, device, dtype
        )

    def gate_order(self):
        return gates_of(self.variant)

    def param_shapes(self, D, H):
        shapes = {}
        for gate in self.gate_order():
            shapes[f"W_{gate}"] = (H, D)
            shapes[f"U_{gate}"] = (H, H)
            if self.bias:
                shapes[f"b_{gate}"] = (H,)
        if self.variant == "peephole":
            shapes.update({"p_i": (H,), "p_f": (H,), "p_o": (H,)})
        return shapes

    def prepare(self, p):
        U_T = self.stacked(p, "U").T  # (H, G*H)
        peep = (p["p_i"], p["p_f"], p["p_o"]) if self.variant == "peephole" else None
        return U_T, peep

    def step(self, g_x, state, w):
        h_prev, c_prev = state  # (B, H) each
        U_T, peep = w
        g = torch.addmm(g_x, h_prev, U_T)  # (B, G*H)  W x_t + b + U h_{t-1}
        return lstm_step(g, c_prev, self.variant, peep)

    def extra_repr(self):
        return super().extra_repr() + f", variant={self.variant!r}"
