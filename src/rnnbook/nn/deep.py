"""Deep recurrent networks of Pascanu et al. (2014): depth inside one time step.

The textbook's stacked network (6.53) adds recurrent layers. Pascanu et al. add depth to
the three maps of one Elman step instead, each an MLP of layers of width H:

    (DRNN.1)  deep input-to-hidden:   x'_t = g_K(... g_1(x_t)),  g_k(v) = f(A_k v + a_k)
    (DRNN.2)  deep transition, layer 1 (the SRN's (6.3)-(6.4) on x'_t):
              h_t^1 = f(W x'_t + U h_{t-1} + b)
    (DRNN.3)  deep transition, layer l = 2..L:
              h_t^l = f(V_l h_t^{l-1} + c_l [+ S h_{t-1} if l = L and shortcut]),  h_t = h_t^L
    (DRNN.4)  deep hidden-to-output:  o_t = q_M(... q_1(h_t)),  q_m(v) = f(C_m v + d_m)

With ``shortcut=True`` (their DT(S)-RNN) the last transition layer also reads h_{t-1}
through S, so a path of one layer joins h_{t-1} to h_t. With K = M = 0 and L = 1 the
module is ``rnnbook.nn.SRN`` with one layer. Only the state h_t = h_t^L is fed back; the
readout y_t = V o_t of the paper is left to a ``torch.nn.Linear`` after the module.

Parameters (``module.params``, keyed by the book's symbols): ``A_k`` (H, D or H),
``a_k`` (H,), ``W`` (H, D or H), ``U`` (H, H), ``b`` (H,), ``V_l``, ``c_l`` for l >= 2,
``S`` (H, H), ``C_m`` (H, H), ``d_m`` (H,); k, l, m count from 1.
"""

import math

import torch

from rnnbook import cells
from rnnbook._checks import check_int, check_option
from rnnbook.nn._checks import check_float_dtype, check_tensor
from rnnbook.nn.srn import ACTIVATIONS


def _flag(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


class DeepRNN(torch.nn.Module):
    """Elman network with deep input, transition and output maps: ``o, h_n = net(x, h_0)``.

    Args:
        input_size: D.
        hidden_size: H, the width of the state and of every MLP layer.
        input_layers: K >= 0, layers of the input MLP (DRNN.1); 0 feeds x_t to W.
        transition_layers: L >= 1, layers of the transition (DRNN.2)-(DRNN.3).
        output_layers: M >= 0, layers of the output MLP (DRNN.4); 0 returns h_t.
        shortcut: the DT(S)-RNN's S h_{t-1} in the last transition layer (needs L >= 2).
        activation: f of every layer, one of ``rnnbook.cells.ACTIVATIONS`` ("tanh" default).
        batch_first: inputs and outputs are (B, T, *) instead of (T, B, *).
        device, dtype: where and in which precision the parameters are created.

    Shapes: input (T, B, D) (or (B, T, D)); h_0 and h_n (1, B, H), as ``torch.nn.RNN``'s
    with one layer; output o (T, B, H) (or (B, T, H)).

    Raises:
        ValueError: for a bad constructor argument, and, when called, for an input or h_0
            of the wrong type, rank, shape, dtype or device, or holding NaN or inf.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        *,
        input_layers=0,
        transition_layers=1,
        output_layers=0,
        shortcut=False,
        activation="tanh",
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        D = check_int("input_size", input_size)
        H = check_int("hidden_size", hidden_size)
        K = check_int("input_layers", input_layers, minimum=0)
        L = check_int("transition_layers", transition_layers)
        M = check_int("output_layers", output_layers, minimum=0)
        _flag("shortcut", shortcut)
        _flag("batch_first", batch_first)
        if shortcut and L < 2:
            raise ValueError(f"shortcut=True needs transition_layers >= 2, got {L}")
        check_option("activation", activation, cells.ACTIVATIONS)
        check_float_dtype(dtype)
        self.input_size, self.hidden_size = D, H
        self.input_layers, self.transition_layers, self.output_layers = K, L, M
        self.shortcut, self.activation, self.batch_first = shortcut, activation, batch_first
        shapes = {}
        for k in range(1, K + 1):
            shapes[f"A_{k}"], shapes[f"a_{k}"] = (H, D if k == 1 else H), (H,)
        shapes["W"], shapes["U"], shapes["b"] = (H, H if K else D), (H, H), (H,)
        for ell in range(2, L + 1):
            shapes[f"V_{ell}"], shapes[f"c_{ell}"] = (H, H), (H,)
        if shortcut:
            shapes["S"] = (H, H)
        for m in range(1, M + 1):
            shapes[f"C_{m}"], shapes[f"d_{m}"] = (H, H), (H,)
        factory = {"device": device, "dtype": dtype}
        self.params = torch.nn.ParameterDict(
            {k: torch.nn.Parameter(torch.empty(s, **factory)) for k, s in shapes.items()}
        )
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as torch.nn.RNN does."""
        k = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-k, k)

    def _mlp(self, v, weight, bias, n):
        """n layers v <- f(weight_i v + bias_i), i = 1..n, on v (..., H or D)."""
        p, f = self.params, ACTIVATIONS[self.activation]
        for i in range(1, n + 1):
            v = f(v @ p[f"{weight}_{i}"].T + p[f"{bias}_{i}"])  # (..., H)
        return v

    def transition(self, xp_t, h_prev):
        """One deep transition (DRNN.2)-(DRNN.3): x'_t (B, D or H), h_{t-1} (B, H) -> h_t (B, H)."""
        p, f = self.params, ACTIVATIONS[self.activation]
        # (DRNN.2)  h_t^1 = f(W x'_t + U h_{t-1} + b)
        h = f(xp_t @ p["W"].T + h_prev @ p["U"].T + p["b"])  # (B, H)
        for ell in range(2, self.transition_layers + 1):
            # (DRNN.3)  h_t^l = f(V_l h_t^{l-1} + c_l [+ S h_{t-1} at l = L])
            z = h @ p[f"V_{ell}"].T + p[f"c_{ell}"]  # (B, H)
            if self.shortcut and ell == self.transition_layers:
                z = z + h_prev @ p["S"].T
            h = f(z)  # (B, H)
        return h

    def forward(self, input, h_0=None):
        """Run the network over a sequence; returns ``(output, h_n)`` (see the class)."""
        like = self.params["W"]
        dims = "(B, T, D)" if self.batch_first else "(T, B, D)"
        check_tensor(input, "input", shape=(None, None, self.input_size), dims=dims, like=like)
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, D)
        T, B, _ = x.shape
        if h_0 is None:
            h = x.new_zeros(B, self.hidden_size)  # (B, H)
        else:
            check_tensor(h_0, "h_0", shape=(1, B, self.hidden_size), dims="(1, B, H)", like=like)
            h = h_0[0]  # (B, H)
        # (DRNN.1)  x'_t = g_K(... g_1(x_t)), for all t at once   (T, B, D or H)
        xp = self._mlp(x, "A", "a", self.input_layers)
        states = []
        for t in range(T):
            h = self.transition(xp[t], h)  # (B, H)
            states.append(h)
        hs = torch.stack(states)  # (T, B, H)
        # (DRNN.4)  o_t = q_M(... q_1(h_t)), for all t at once   (T, B, H)
        o = self._mlp(hs, "C", "d", self.output_layers)
        if self.batch_first:
            o = o.transpose(0, 1)  # (B, T, H)
        return o, h.unsqueeze(0)  # (T, B, H), (1, B, H)
