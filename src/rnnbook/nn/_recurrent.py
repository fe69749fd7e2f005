"""What the SRN, LSTM and GRU modules share: layers, directions and the loop over time.

A module holds one ``torch.nn.ParameterDict`` per layer and direction, keyed by
the book's symbols, at ``module.params[layer][direction]`` (direction 0 reads
the sequence forwards, direction 1 backwards). Their names in ``state_dict()``
are ``params.<layer>.<direction>.<symbol>``, e.g. ``params.1.0.U_f``.

A cell subclass says which parameters it has (``param_shapes``), how to stack
them into one matrix per time step (``gate_order``), and what one step does
(``step``). Everything else -- shapes, ``batch_first``, initial states, the
loop over time, the reversed direction, stacking layers -- is written here once.
"""

import abc
import math

import torch

from rnnbook._checks import check_int
from rnnbook.nn._checks import check_float_dtype, check_tensor


class Recurrent(torch.nn.Module, abc.ABC):
    """Base class of ``rnnbook.nn.SRN``, ``LSTM`` and ``GRU``; not used on its own.

    Args:
        input_size: D, the size of each input vector.
        hidden_size: H, the size of the hidden state.
        num_layers: L, recurrent layers stacked; layer l > 0 reads layer l-1's outputs.
        bias: whether the cell has its bias vectors ``b_*``.
        batch_first: inputs and outputs are (B, T, D) instead of (T, B, D).
        bidirectional: add a second direction per layer that reads the sequence backwards;
            the two directions' outputs are concatenated, so layer l > 0 reads 2H features.
        device, dtype: where and in which precision the parameters are created.

    Raises:
        ValueError: when a size is not an int >= 1, a flag is not a bool, or dtype is
            not None or a floating ``torch.dtype``.
    """

    #: how many state tensors the cell carries (1: h; 2: the LSTM's h and c)
    n_states = 1

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_int("input_size", input_size)
        check_int("hidden_size", hidden_size)
        check_int("num_layers", num_layers)
        for name, flag in (
            ("bias", bias),
            ("batch_first", batch_first),
            ("bidirectional", bidirectional),
        ):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be True or False, got {flag!r}")
        check_float_dtype(dtype)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        factory = {"device": device, "dtype": dtype}
        layers = []
        for layer in range(num_layers):
            D = input_size if layer == 0 else hidden_size * self.num_directions
            shapes = self.param_shapes(D, hidden_size)
            directions = [
                torch.nn.ParameterDict(
                    {k: torch.nn.Parameter(torch.empty(s, **factory)) for k, s in shapes.items()}
                )
                for _ in range(self.num_directions)
            ]
            layers.append(torch.nn.ModuleList(directions))
        self.params = torch.nn.ModuleList(layers)
        self.reset_parameters()

    # -- what a cell subclass provides ---------------------------------------------------

    @abc.abstractmethod
    def param_shapes(self, D, H):
        """The book's parameter keys of one layer and direction, with their shapes."""

    @abc.abstractmethod
    def gate_order(self):
        """The gates' names, in the order their rows are stacked for the input product."""

    @abc.abstractmethod
    def prepare(self, p):
        """Tensors ``step`` needs, made once per layer and direction (e.g. stacked U^T)."""

    @abc.abstractmethod
    def step(self, g_x, state, w):
        """One time step: the input part of the gates ``g_x`` (B, G*H) and the previous state
        give the new state (a tuple of ``n_states`` tensors of shape (B, H))."""

    # -- shared machinery -----------------------------------------------------------------

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as torch.nn.LSTM does."""
        k = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-k, k)

    def stacked(self, p, symbol):
        """Stack one symbol's per-gate tensors in ``gate_order``: e.g. W_i, W_f, ... -> (G*H, D).

        Returns None for a bias when the module has ``bias=False``.
        """
        keys = [f"{symbol}_{gate}" if gate else symbol for gate in self.gate_order()]
        if keys[0] not in p:
            return None
        return torch.cat([p[k] for k in keys], dim=0)

    def input_part(self, x, p):
        """W x_t + b for all time steps in one matrix product.

        Args:
            x: (T, B, D) the layer's input.
            p: the ParameterDict of one layer and direction.
        Returns:
            (T, B, G*H), the gates' input parts, G gates stacked in ``gate_order``.
        """
        T, B, D = x.shape
        W = self.stacked(p, "W")  # (G*H, D)
        b = self.stacked(p, "b")  # (G*H,) or None
        x2 = x.reshape(T * B, D)  # (T*B, D)
        g_x = x2 @ W.T if b is None else torch.addmm(b, x2, W.T)  # (T*B, G*H)
        return g_x.view(T, B, -1)

    def scan(self, x, state, p):
        """Run one layer in one direction over the whole sequence.

        Args:
            x: (T, B, D) the layer's input, in the order this direction reads it.
            state: tuple of ``n_states`` initial states, each (B, H).
            p: the ParameterDict of this layer and direction.
        Returns:
            outputs (T, B, H), the hidden states in the order this direction computes
            them, and the final state tuple, each (B, H).
        """
        g_x = self.input_part(x, p)  # (T, B, G*H)
        w = self.prepare(p)
        outputs = []
        # unbind: one backward node for all t (g_x[t] would build a (T, B, G*H) gradient per step)
        for g_x_t in g_x.unbind(0):  # (B, G*H)
            state = self.step(g_x_t, state, w)
            outputs.append(state[0])  # h_t (B, H)
        return torch.stack(outputs), state  # (T, B, H)

    def forward(self, input, hx=None):
        """Run the stacked, possibly bidirectional, recurrence.

        Args:
            input: (T, B, D), or (B, T, D) when ``batch_first``.
            hx: initial state(s), each of shape (L * num_directions, B, H); zeros when None.
                For the LSTM a pair (h_0, c_0); for the others one tensor h_0.
        Returns:
            output: (T, B, num_directions * H) (or batch first): the last layer's h_t.
            the final state(s) in the shape of ``hx``: h_n, or the pair (h_n, c_n).
        Raises:
            ValueError: for an input or state that is not a tensor, or has the wrong
                rank, shape, dtype or device, an empty T or B, or NaN or inf.
        """
        first = next(iter(self.parameters()))
        D = self.input_size
        dims = "(B, T, D)" if self.batch_first else "(T, B, D)"
        check_tensor(input, "input", shape=(None, None, D), dims=dims, like=first)
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, D)
        T, B, _ = x.shape
        if T == 0 or B == 0:
            got = tuple(input.shape)
            raise ValueError(f"input must have at least one time step and one row, got {got}")
        states = self._initial_states(hx, B, first)  # n_states tensors (L*dirs, B, H)
        finals = []
        for layer, directions in enumerate(self.params):
            outs = []
            for d, p in enumerate(directions):
                index = layer * self.num_directions + d
                s0 = tuple(s[index] for s in states)  # each (B, H)
                # (6.54)-(6.55)  direction 1 reads x_T .. x_1: its h_t depends on h_{t+1}
                x_d = x if d == 0 else x.flip(0)
                out, s_T = self.scan(x_d, s0, p)  # (T, B, H)
                outs.append(out if d == 0 else out.flip(0))
                finals.append(s_T)
            # (6.56)  h_t = h_t^(1) (+) h_t^(2), concatenated; (6.53) it is the next layer's input
            x = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)  # (T, B, dirs*H)
        output = x.transpose(0, 1) if self.batch_first else x
        n = tuple(torch.stack([f[k] for f in finals]) for k in range(self.n_states))
        return output, (n[0] if self.n_states == 1 else n)

    def _initial_states(self, hx, B, like):
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        dims = "(num_layers * num_directions, B, H)"
        if hx is None:
            zeros = torch.zeros(shape, dtype=like.dtype, device=like.device)
            return (zeros,) * self.n_states
        if self.n_states == 1:
            check_tensor(hx, "h_0", shape=shape, dims=dims, like=like)
            return (hx,)
        if not isinstance(hx, (tuple, list)) or len(hx) != self.n_states:
            raise ValueError(f"hx must be a pair (h_0, c_0), got {type(hx).__name__}")
        for name, s in zip(("h_0", "c_0"), hx, strict=True):
            check_tensor(s, name, shape=shape, dims=dims, like=like)
        return tuple(hx)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s
