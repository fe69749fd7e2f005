"""What the SRN, LSTM and GRU modules share: options, layers, directions and the loop over time.

A module holds one ``torch.nn.ParameterDict`` per layer and direction, keyed by
the book's symbols, at ``module.params[layer][direction]`` (direction 0 reads
the sequence forwards, direction 1 backwards). Their names in ``state_dict()``
are ``params.<layer>.<direction>.<symbol>``, e.g. ``params.1.0.U_f``.

A cell subclass names its cell (``cell``, a name of ``rnnbook.cells.CELLS``) and
the options it supports (``option_names``), and says what one step does
(``prepare`` and ``step``). The parameters' keys and shapes and the gates' stacking
order come from ``rnnbook.cells`` (``cells.param_shapes``, ``cells.gates``).
Everything else -- the options, shapes, ``batch_first``, unbatched input, initial
states, the loop over time, the reversed direction, stacking layers -- is written
here once.

Variable lengths: ``forward`` accepts a ``torch.nn.utils.rnn.PackedSequence``, as
``torch.nn.LSTM`` does, and returns one. Rather than run on the packed rows (whose
batch shrinks from step to step), the module pads it back to (T, B, D) and runs the
same loop with a mask m_t = [t < length] (B, 1) per step,

    state_t = m_t * step(x_t, state_{t-1}) + (1 - m_t) * state_{t-1},

so each sequence's state stops at its own end, and the backward direction, reading the
padding first, keeps its initial state until each sequence's true end.
"""

import abc
import math

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnbook import cells
from rnnbook._checks import check_int
from rnnbook.nn._checks import check_float_dtype, check_tensor


class Recurrent(torch.nn.Module, abc.ABC):
    """Base class of ``rnnbook.nn.SRN``, ``LSTM`` and ``GRU``; not used on its own.

    Args:
        input_size: D, the size of each input vector.
        hidden_size: H, the size of the hidden state.
        num_layers: L, recurrent layers stacked; layer l > 0 reads layer l-1's outputs.
        bias: whether the cell has its bias vectors ``b_*`` (and the GRU's ``d_h``).
        batch_first: batched inputs and outputs are (B, T, *) instead of (T, B, *).
        bidirectional: add a second direction per layer that reads the sequence backwards;
            the two directions' outputs are concatenated, so layer l > 0 reads 2H features.
        device, dtype: where and in which precision the parameters are created.
        **options: the cell's options (keyword only), those of ``option_names``; each is
            also an attribute, e.g. ``module.variant``, and all are in ``module.options``.

    Raises:
        ValueError: when a size is not an int >= 1, a flag is not a bool, dtype is not
            None or a floating ``torch.dtype``, an option is not one of ``option_names``
            (the message names them) or has a value that is not allowed.
    """

    #: the cell's name in ``rnnbook.cells``: "srn", "lstm" or "gru"
    cell: str
    #: the options of the cell this module supports, by name
    option_names: tuple
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
        *,
        device=None,
        dtype=None,
        **options,
    ):
        options = cells.options(self.cell, options, only=self.option_names)
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
        self.options = options
        for name, value in options.items():
            setattr(self, name, value)  # module.variant, module.reset, ...
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
            shapes = cells.param_shapes(self.cell, D, hidden_size, bias=bias, **options)
            directions = [
                torch.nn.ParameterDict(
                    {
                        k: torch.nn.Parameter(torch.empty(shape, **factory))
                        for k, (shape, _) in shapes.items()
                    }
                )
                for _ in range(self.num_directions)
            ]
            layers.append(torch.nn.ModuleList(directions))
        self.params = torch.nn.ModuleList(layers)
        self.reset_parameters()

    # -- what a cell subclass provides ---------------------------------------------------

    @abc.abstractmethod
    def prepare(self, p):
        """Tensors ``step`` needs, made once per layer and direction (e.g. stacked U^T)."""

    @abc.abstractmethod
    def step(self, g_x, state, w):
        """One time step: the input part of the gates ``g_x`` (B, G*H), stacked in the order
        of ``cells.gates``, and the previous state give the new state (a tuple of
        ``n_states`` tensors of shape (B, H)); ``w`` is what ``prepare`` returned."""

    # -- shared machinery -----------------------------------------------------------------

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as torch.nn.LSTM does."""
        k = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-k, k)

    def stacked(self, p, symbol):
        """Stack one symbol's per-gate tensors in the order of ``cells.gates``.

        E.g. W_i, W_f, W_o, W_c (H, D) each -> (G*H, D). Returns None for a bias when
        the module has ``bias=False``.
        """
        keys = [cells.key(symbol, g) for g in cells.gates(self.cell, **self.options)]
        if keys[0] not in p:
            return None
        return torch.cat([p[k] for k in keys], dim=0)

    def input_part(self, x, p):
        """W x_t + b for all time steps in one matrix product.

        Args:
            x: (T, B, D) the layer's input.
            p: the ParameterDict of one layer and direction.
        Returns:
            (T, B, G*H), the gates' input parts, G gates stacked in ``cells.gates`` order.
        """
        T, B, D = x.shape
        W = self.stacked(p, "W")  # (G*H, D)
        b = self.stacked(p, "b")  # (G*H,) or None
        x2 = x.reshape(T * B, D)  # (T*B, D)
        g_x = x2 @ W.T if b is None else torch.addmm(b, x2, W.T)  # (T*B, G*H)
        return g_x.view(T, B, -1)

    def scan(self, x, state, p, mask=None):
        """Run one layer in one direction over the whole sequence.

        Args:
            x: (T, B, D) the layer's input, in the order this direction reads it.
            state: tuple of ``n_states`` initial states, each (B, H).
            p: the ParameterDict of this layer and direction.
            mask: None, or (T, B, 1) in the same order as x: 1 at a sequence's steps,
                0 on its padding (a packed input).
        Returns:
            outputs (T, B, H), the hidden states in the order this direction computes
            them (zero on the padding), and the final state tuple, each (B, H).
        """
        g_x = self.input_part(x, p)  # (T, B, G*H)
        w = self.prepare(p)
        outputs = []
        # unbind: one backward node for all t (g_x[t] would build a (T, B, G*H) gradient per step)
        for t, g_x_t in enumerate(g_x.unbind(0)):  # (B, G*H)
            new = self.step(g_x_t, state, w)
            if mask is None:
                state = new
                outputs.append(state[0])  # h_t (B, H)
            else:
                m_t = mask[t]  # (B, 1)
                # state_t = m_t * new + (1 - m_t) * state_{t-1}: held on the padding
                state = tuple(m_t * n + (1 - m_t) * s for n, s in zip(new, state, strict=True))
                outputs.append(m_t * state[0])  # h_t, zero on the padding (B, H)
        return torch.stack(outputs), state  # (T, B, H)

    def forward(self, input, hx=None):
        """Run the stacked, possibly bidirectional, recurrence.

        Args:
            input: (T, B, D), or (B, T, D) when ``batch_first``; or one unbatched
                sequence (T, D), as ``torch.nn.LSTM`` takes it (``batch_first`` is ignored);
                or a ``PackedSequence`` of B sequences of different lengths (made by
                ``pack_padded_sequence``, sorted or not; ``batch_first`` is ignored).
            hx: initial state(s), each (L * num_directions, B, H), or (L * num_directions, H)
                for an unbatched input; zeros when None. For the LSTM a pair (h_0, c_0);
                for the others one tensor h_0.
        Returns:
            output: (T, B, num_directions * H) (or batch first), or (T, num_directions * H)
                for an unbatched input: the last layer's h_t; a ``PackedSequence`` for a
                packed input.
            the final state(s) in the shape of ``hx``: h_n, or the pair (h_n, c_n), each
                (L * num_directions, B, H), or (L * num_directions, H) unbatched; for a
                packed input, in the order of the sequences before packing, and each
                forward direction's at its sequence's own last step.
        Raises:
            ValueError: for an input or state that is not a tensor, or has the wrong
                rank, shape, dtype or device, an empty T or B, or NaN or inf; for a
                PackedSequence whose sequences are not (T_b, D).
        """
        first = next(iter(self.parameters()))
        D = self.input_size
        packed = input if isinstance(input, PackedSequence) else None
        mask = None  # (T, B, 1) for a packed input: 1 at a sequence's steps, 0 on the padding
        if packed is not None:
            # pad back to (T, B, D), the sequences in their order before packing
            input, lengths = pad_packed_sequence(packed)  # (T, B, D), (B,)
            if input.dim() != 3:
                raise ValueError(
                    f"a PackedSequence input must hold sequences of shape (T_b, D) = (*, {D}),"
                    f" got packed data of shape {tuple(packed.data.shape)}"
                )
            T = input.shape[0]
            steps = torch.arange(T)[:, None] < lengths[None, :]  # (T, B)
            mask = steps.unsqueeze(2).to(dtype=first.dtype, device=first.device)  # (T, B, 1)
        dims = "(B, T, D)" if self.batch_first and packed is None else "(T, B, D)"
        unbatched = isinstance(input, torch.Tensor) and input.dim() == 2
        if isinstance(input, torch.Tensor) and input.dim() not in (2, 3):
            raise ValueError(
                f"input must have rank 3 with shape {dims} = (*, *, {D}), or rank 2 with "
                f"shape (T, D) = (*, {D}) unbatched, got rank {input.dim()} with shape "
                f"{tuple(input.shape)}"
            )
        if unbatched:
            check_tensor(input, "input", shape=(None, D), dims="(T, D)", like=first)
            x = input.unsqueeze(1)  # (T, 1, D): one sequence is a batch of one
        else:
            check_tensor(input, "input", shape=(None, None, D), dims=dims, like=first)
            flip = self.batch_first and packed is None
            x = input.transpose(0, 1) if flip else input  # (T, B, D)
        T, B, _ = x.shape
        if T == 0 or B == 0:
            got = tuple(input.shape)
            raise ValueError(f"input must have at least one time step and one row, got {got}")
        states = self._initial_states(hx, B, first, unbatched)  # n_states of (L*dirs, B, H)
        finals = []
        for layer, directions in enumerate(self.params):
            outs = []
            for d, p in enumerate(directions):
                index = layer * self.num_directions + d
                s0 = tuple(s[index] for s in states)  # each (B, H)
                # (6.54)-(6.55)  direction 1 reads x_T .. x_1: its h_t depends on h_{t+1}
                x_d = x if d == 0 else x.flip(0)
                # a packed input's mask is flipped with it: direction 1 meets the padding first
                m_d = mask if mask is None or d == 0 else mask.flip(0)
                out, s_T = self.scan(x_d, s0, p, m_d)  # (T, B, H)
                outs.append(out if d == 0 else out.flip(0))
                finals.append(s_T)
            # (6.56)  h_t = h_t^(1) (+) h_t^(2), concatenated; (6.53) it is the next layer's input
            x = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)  # (T, B, dirs*H)
        n = tuple(torch.stack([f[k] for f in finals]) for k in range(self.n_states))
        if packed is not None:
            output = self._packed_like(x, lengths, packed)
        elif unbatched:
            output = x.squeeze(1)  # (T, dirs*H)
            n = tuple(s.squeeze(1) for s in n)  # each (L*dirs, H)
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        return output, (n[0] if self.n_states == 1 else n)

    @staticmethod
    def _packed_like(x, lengths, packed):
        """The padded output x (T, B, *) packed as ``packed`` was (same batch order)."""
        order = packed.sorted_indices
        if order is not None:  # pack rows in the order the input's were packed
            x, lengths = x[:, order.to(x.device)], lengths[order.cpu()]
        data = pack_padded_sequence(x, lengths, enforce_sorted=True).data
        return packed._replace(data=data)

    def _initial_states(self, hx, B, like, unbatched):
        """The initial states, checked, each (L * num_directions, B, H) (B = 1 unbatched)."""
        L = self.num_layers * self.num_directions
        if unbatched:
            shape, dims = (L, self.hidden_size), "(num_layers * num_directions, H)"
        else:
            shape, dims = (L, B, self.hidden_size), "(num_layers * num_directions, B, H)"
        if hx is None:
            zeros = torch.zeros((L, B, self.hidden_size), dtype=like.dtype, device=like.device)
            return (zeros,) * self.n_states
        if self.n_states == 1:
            check_tensor(hx, "h_0", shape=shape, dims=dims, like=like)
            hx = (hx,)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != self.n_states:
                raise ValueError(f"hx must be a pair (h_0, c_0), got {type(hx).__name__}")
            for name, s in zip(("h_0", "c_0"), hx, strict=True):
                check_tensor(s, name, shape=shape, dims=dims, like=like)
        return tuple(s.unsqueeze(1) if unbatched else s for s in hx)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s + "".join(f", {k}={v!r}" for k, v in self.options.items())
