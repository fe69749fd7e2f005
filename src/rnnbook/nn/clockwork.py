"""The clockwork RNN (Koutnik et al. 2014) as a PyTorch module, for training.

The same network as :mod:`rnnbook.scratch.clockwork` (read its docstring for the clock
and the mask): G modules of k units, periods T_1 <= ... <= T_G, module g updated only at
the steps t with t mod T_g = 0, the recurrent matrix masked to the block-upper-triangular
M * U (slower modules feed faster ones). The first input is at t = ``start`` (1 by
default, so only the period-1 modules tick at the first step).

To keep the autograd graph simple every step computes all H rows and then keeps the idle ones,

    z_t = (M * U) h_{t-1} + W x_t + b                  (B, H)
    h_t = a_t * f(z_t) + (1 - a_t) * h_{t-1}           a_t the 0/1 active units

which gives the same h_t as the scratch version's active rows only (and the same
gradients: an idle unit's z_t gets zero gradient), but does not save the work of the idle
rows, so it is no faster than an SRN of H units (and slower than ``torch.nn.RNN``, whose
loop runs in compiled code); the savings are counted in
``rnnbook.scratch.clockwork.connection_counts``.

Parameters ``W`` (H, D), ``U`` (H, H) (entries outside the mask have no effect and get
zero gradient), ``b`` (H,), drawn as :func:`rnnbook.scratch.clockwork.init_params` draws
them: U(-1/sqrt(H), 1/sqrt(H)), then U = M * U.
"""

import torch

from rnnbook._checks import check_int, check_option, describe
from rnnbook.nn._checks import check_tensor
from rnnbook.scratch import clockwork as _scratch

#: the activation f, by name (a subset of ``rnnbook.cells.ACTIVATIONS``)
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


class ClockworkRNN(torch.nn.Module):
    """``output, h_T = cw(x, h_0)``, x (T, B, D) (or (B, T, D) with ``batch_first``).

    Args:
        input_size: D.  module_size: k.  periods: T_1..T_G, ints >= 1, non-decreasing.
        start: the time t of the first input (int >= 0; 1 by default).
        activation: "tanh" (default), "relu" or "sigmoid".
        batch_first: inputs and outputs (B, T, ...) instead of (T, B, ...).
        dtype: the parameters' dtype (torch.float32 by default).

    Shapes: output (T, B, H) (or (B, T, H)), h_0 and h_T (B, H), H = G k.

    Raises:
        ValueError: for a bad size, period, start or activation; when called, for an input
            or state of the wrong type, rank, shape or dtype.
    """

    def __init__(
        self,
        input_size,
        module_size,
        periods,
        *,
        start=1,
        activation="tanh",
        batch_first=False,
        dtype=torch.float32,
    ):
        super().__init__()
        D = check_int("input_size", input_size)
        k = check_int("module_size", module_size)
        self.periods = _scratch.check_periods(periods)
        self.start = check_int("start", start, minimum=0)
        check_option("activation", activation, ACTIVATIONS)
        if not isinstance(batch_first, bool):
            raise ValueError(f"batch_first must be True or False, got {describe(batch_first)}")
        self.activation, self.batch_first = activation, batch_first
        self.input_size, self.module_size = D, k
        self.hidden_size = H = k * len(self.periods)
        M = _scratch.recurrent_mask(k, self.periods)  # (H, H) float64 0/1
        self.register_buffer("M", torch.tensor(M, dtype=dtype))
        units_period = torch.tensor(self.periods).repeat_interleave(k)  # (H,)
        self.register_buffer("unit_period", units_period)
        bound = H**-0.5
        self.W = torch.nn.Parameter(torch.empty(H, D, dtype=dtype).uniform_(-bound, bound))
        self.U = torch.nn.Parameter(torch.empty(H, H, dtype=dtype).uniform_(-bound, bound))
        self.b = torch.nn.Parameter(torch.empty(H, dtype=dtype).uniform_(-bound, bound))
        with torch.no_grad():
            self.U.mul_(self.M)

    def active(self, t: int) -> torch.Tensor:
        """The 0/1 active units a_t (H,) at time t: those of the modules with t mod T_g = 0."""
        return (t % self.unit_period == 0).to(self.M.dtype)

    def forward(self, x, h0=None):
        if not isinstance(x, torch.Tensor) or x.dim() != 3:
            raise ValueError(f"x must be a 3-d tensor (T, B, D), got {describe(x)}")
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, D)
        T, B, _ = x.shape
        H = self.hidden_size
        check_tensor(x, "x", shape=(T, B, self.input_size), dims="(T, B, D)", like=self.W)
        if h0 is None:
            h0 = x.new_zeros(B, H)
        check_tensor(h0, "h0", shape=(B, H), dims="(B, H)", like=self.W)
        f = ACTIVATIONS[self.activation]
        U_m = self.M * self.U  # (H, H), block-upper-triangular
        # W x_t + b for every step at once   (T, B, H)
        g_x = x @ self.W.T + self.b
        h, outs = h0, []
        for s in range(T):
            a = self.active(self.start + s)  # (H,)
            # z_t = (M * U) h_{t-1} + W x_t + b   (B, H)
            z = torch.addmm(g_x[s], h, U_m.T)
            # h_t = f(z_t) on the active units, h_{t-1} on the idle ones   (B, H)
            h = a * f(z) + (1 - a) * h
            outs.append(h)
        out = torch.stack(outs)  # (T, B, H)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, h

    def to_scratch(self) -> dict:
        """The parameters as the float64 NumPy dict of :mod:`rnnbook.scratch.clockwork`."""
        return {k: getattr(self, k).detach().cpu().double().numpy().copy() for k in "WUb"}
