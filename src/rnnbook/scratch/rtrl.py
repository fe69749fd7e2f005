"""Real-time recurrent learning (RTRL): exact gradients carried forward in time.

Instead of storing the sequence and going backwards (BPTT), RTRL carries the
sensitivities S_t = dh_t/dtheta, the derivative of the state with respect to
every parameter, forward with the state, textbook (6.24)-(6.28) for the SRN:

    z_t = U h_{t-1} + W x_t + b,   h_t = f(z_t)                              (6.24)
    S_t = f'(z_t) * ( d+z_t/dtheta + U S_{t-1} )                              (6.25)-(6.27)
    dL_t/dtheta = S_t^T dL_t/dh_t                                             (6.28)

where d+z_t/dtheta is the derivative with h_{t-1} held fixed (for U_ij it is
h_{t-1,j} in row i, (6.15)). The gradient of each step's loss is known at that
step, and the memory, S_t (B, H, P) for P parameters, does not grow with T; the
price is O(H^2 P) work per step (P ~ H^2, so H^4), against BPTT's O(H^2).

Here theta is all of a cell's parameters, flattened in the order of the
params dict. Cells: the SRN (``feedback="hidden"``, any activation), the
GRU (every ``reset=`` and ``update=`` convention) and the LSTM (every
``variant=``), whose state is the pair (h_t, c_t): its S_t stacks dh_t/dtheta
on dc_t/dtheta, (B, 2H, P). The forward step is the cell's own
``step_forward``; only the sensitivities are computed here.

Each sensitivity function uses its own cell's letters, as the book does: z is the
SRN's net input in :func:`_srn_sensitivity` and the GRU's update gate in
:func:`_gru_sensitivity`; o and c are the LSTM's output gate and cell in
:func:`_lstm_sensitivity`, while :class:`RTRL`'s output layer is V h_t + c.

:class:`RTRL` consumes one time step at a time (an endless stream works);
:func:`gradients` runs it over a whole sequence, with the arguments of
:func:`rnnbook.scratch.bptt.full`, whose result it equals to rounding.
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import check_array, check_cell_inputs, check_int, check_option, describe
from rnnbook.scratch import bptt, cell_module
from rnnbook.scratch._functions import activate_backward


def _layout(params) -> dict:
    """key -> (offset, shape) of each parameter in the flat vector theta."""
    layout, offset = {}, 0
    for key, v in params.items():
        layout[key] = (offset, v.shape)
        offset += v.size
    return layout


def _add_direct(out, layout, terms):
    """Add d+a/dtheta to out (B, H, P) in place, for a = sum_k M_k u_k + b (h_{t-1} held fixed).

    ``terms`` lists (key, u): a matrix M (H, N) with its input u (B, N), or a
    bias (H,) with u None. For M_ij the derivative of a_k is delta_ki u_j, (6.15):
    only the entries k = i are nonzero, so only those are touched, O(B H N) work.
    """
    H = out.shape[1]
    k = np.arange(H)
    for key, u in terms:
        offset, shape = layout[key]
        if u is None:
            # da_k/db_i = delta_ki: one entry per row k
            out[:, k, offset + k] += 1
        else:
            # da_k/dM_ij = delta_ki u_j: row k holds u in the N columns of M_k1 ... M_kN
            N = shape[1]
            columns = offset + N * k[:, None] + np.arange(N)  # (H, N)
            out[:, k[:, None], columns] += u[:, None, :]  # (B, H, N)
    return out


def _direct(layout, P, terms, B, H, dtype):
    """d+a/dtheta (B, H, P) for a pre-activation a = sum_k M_k u_k + b, as a new array."""
    return _add_direct(np.zeros((B, H, P), dtype=dtype), layout, terms)


def _times(M, S):
    """M S for every example: (H, H) x (B, H, P) -> (B, H, P), one batched matrix product."""
    return M @ S


def _srn_sensitivity(S, x_t, cache, params, layout, opts):
    """(6.27)  S_t = f'(z_t) * (d+z_t/dtheta + U S_{t-1})."""
    h_prev, z, h = cache["s_prev"], cache["z"], cache["h"]
    terms = [("W", x_t), ("U", h_prev), ("b", None)]
    # dz_t/dtheta = U S_{t-1} + d+z_t/dtheta, the immediate term added in place   (B, H, P)
    dZ = _add_direct(_times(params["U"], S), layout, terms)
    # f'(z_t) (B, H)
    fprime = activate_backward(opts["activation"], np.ones_like(h), z, h)
    dZ *= fprime[:, :, None]
    return dZ


def _gru_sensitivity(S, x_t, cache, params, layout, opts):
    """S_t = dh_t/dtheta (B, H, P) for the GRU, by the chain rule through each gate.

    Capital letters are sensitivities, each (B, H, P): dZ = dz_t/dtheta,
    dR = dr_t/dtheta, dR_h = d(r_t * h_{t-1})/dtheta, du = du_t/dtheta,
    dA = da_h/dtheta, dH_tilde = dh~_t/dtheta; r_h, u and h_tilde are the names of
    :mod:`rnnbook.scratch.gru`'s cache.
    """
    h_prev, z, r, h_tilde = cache["h_prev"], cache["z"], cache["r"], cache["h_tilde"]
    B, H = h_prev.shape
    P = S.shape[2]

    def direct(*terms):
        return _direct(layout, P, terms, B, H, h_prev.dtype)

    # (6.51)  z_t = sigma(W_z x_t + U_z h_{t-1} + b_z)
    #   =>  dz_t/dtheta = z_t (1 - z_t) * (d+a_z/dtheta + U_z S_{t-1})   (B, H, P)
    dZ = (z * (1 - z))[..., None] * (
        direct(("W_z", x_t), ("U_z", h_prev), ("b_z", None)) + _times(params["U_z"], S)
    )
    # (6.49)  r_t = sigma(W_r x_t + U_r h_{t-1} + b_r)
    #   =>  dr_t/dtheta = r_t (1 - r_t) * (d+a_r/dtheta + U_r S_{t-1})   (B, H, P)
    dR = (r * (1 - r))[..., None] * (
        direct(("W_r", x_t), ("U_r", h_prev), ("b_r", None)) + _times(params["U_r"], S)
    )
    if opts["reset"] == "before":
        # (6.48)  a_h = W_h x_t + U_h (r_t * h_{t-1}) + b_h
        #   =>  d(r_t * h_{t-1})/dtheta = dr_t/dtheta * h_{t-1} + r_t * S_{t-1},
        #       da_h/dtheta = d+a_h/dtheta + U_h d(r_t * h_{t-1})/dtheta   (B, H, P)
        r_h = cache["r_h"]
        dR_h = dR * h_prev[..., None] + r[..., None] * S
        dA = direct(("W_h", x_t), ("U_h", r_h), ("b_h", None)) + _times(params["U_h"], dR_h)
    else:
        # a_h = W_h x_t + b_h + r_t * u_t with u_t = U_h h_{t-1} + d_h   (B, H)
        #   =>  du_t/dtheta = d+u_t/dtheta + U_h S_{t-1},
        #       da_h/dtheta = d+a_h/dtheta + dr_t/dtheta * u_t + r_t * du_t/dtheta   (B, H, P)
        u = cache["u"]
        du = direct(("U_h", h_prev), ("d_h", None)) + _times(params["U_h"], S)
        dA = direct(("W_h", x_t), ("b_h", None)) + dR * u[..., None] + r[..., None] * du
    # h~_t = tanh(a_h)  =>  dh~_t/dtheta = (1 - h~_t^2) * da_h/dtheta   (B, H, P)
    dH_tilde = (1 - h_tilde * h_tilde)[..., None] * dA
    z3 = z[..., None]
    if opts["update"] == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
        #   =>  S_t = dz_t/dtheta * (h_{t-1} - h~_t) + z_t * S_{t-1} + (1 - z_t) * dh~_t/dtheta
        return dZ * (h_prev - h_tilde)[..., None] + z3 * S + (1 - z3) * dH_tilde
    # h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
    #   =>  S_t = dz_t/dtheta * (h~_t - h_{t-1}) + (1 - z_t) * S_{t-1} + z_t * dh~_t/dtheta
    return dZ * (h_tilde - h_prev)[..., None] + (1 - z3) * S + z3 * dH_tilde


def _diagonal(layout, P, key, u, B, H, dtype):
    """d+a/dp (B, H, P) for a term p * u of a pre-activation, p (H,) a diagonal weight.

    The peepholes: a_k = ... + p_k u_k, so da_k/dp_j = delta_kj u_j; zero elsewhere.
    """
    out = np.zeros((B, H, P), dtype=dtype)
    offset = layout[key][0]
    k = np.arange(H)
    out[:, k, offset + k] = u  # (B, H)
    return out


def _lstm_sensitivity(S, x_t, cache, params, layout, opts):
    """S_t = [dh_t/dtheta; dc_t/dtheta] (B, 2H, P) for the LSTM, every variant.

    S holds S^h_{t-1} = dh_{t-1}/dtheta in its first H rows and S^c_{t-1} =
    dc_{t-1}/dtheta in the last H. Capital letters are sensitivities of the gates'
    values, each (B, H, P): dI = di_t/dtheta, dF, dO, and dC_tilde = dc~_t/dtheta.
    """
    h_prev, c_prev, i, f, o = (cache[k] for k in ("h_prev", "c_prev", "i", "f", "o"))
    c_tilde, c, tanh_c = cache["c_tilde"], cache["c"], cache["tanh_c"]  # (B, H) each
    variant = opts["variant"]
    B, H = h_prev.shape
    P = S.shape[2]
    Sh, Sc = S[:, :H], S[:, H:]  # (B, H, P) each

    def pre(gate):
        # d a_gate/dtheta through W_gate x_t + U_gate h_{t-1} + b_gate   (B, H, P)
        terms = ((f"W_{gate}", x_t), (f"U_{gate}", h_prev), (f"b_{gate}", None))
        return _direct(layout, P, terms, B, H, h_prev.dtype) + _times(params[f"U_{gate}"], Sh)

    def peephole(key, u, Su):
        # (6.43)-(6.45)  a_gate also holds p * u with u = c_{t-1} or c_t:  d(p * u)/dtheta
        diagonal = _diagonal(layout, P, key, u, B, H, h_prev.dtype)
        return diagonal + params[key][:, None] * Su

    def sigma_prime(value):
        return (value * (1 - value))[..., None]  # (B, H, 1)

    # (6.36), (6.43)  i_t = sigma(a_i)  =>  di_t/dtheta = i_t (1 - i_t) * da_i/dtheta
    dA_i = pre("i") + (peephole("p_i", c_prev, Sc) if variant == "peephole" else 0)
    dI = sigma_prime(i) * dA_i
    # (6.35)  c~_t = tanh(a_c)  =>  dc~_t/dtheta = (1 - c~_t^2) * da_c/dtheta
    dC_tilde = (1 - c_tilde * c_tilde)[..., None] * pre("c")
    # (6.40)  c_t = f_t * c_{t-1} + i_t * c~_t
    #   =>  S^c_t = df_t/dtheta * c_{t-1} + f_t * S^c_{t-1} + di_t/dtheta * c~_t
    #               + i_t * dc~_t/dtheta
    new_Sc = dI * c_tilde[..., None] + i[..., None] * dC_tilde
    if variant == "no_forget":
        # (6.42)  f_t = 1 and has no parameters
        new_Sc += Sc
    else:
        if variant == "coupled":
            # (6.46)  f_t = 1 - i_t  =>  df_t/dtheta = -di_t/dtheta
            dF = -dI
        else:
            # (6.37), (6.44)  f_t = sigma(a_f)
            dA_f = pre("f") + (peephole("p_f", c_prev, Sc) if variant == "peephole" else 0)
            dF = sigma_prime(f) * dA_f
        new_Sc += dF * c_prev[..., None] + f[..., None] * Sc
    # (6.38), (6.45)  o_t = sigma(a_o); the peephole variant's o_t looks at c_t itself
    dA_o = pre("o") + (peephole("p_o", c, new_Sc) if variant == "peephole" else 0)
    dO = sigma_prime(o) * dA_o
    # (6.41)  h_t = o_t * tanh(c_t)
    #   =>  S^h_t = do_t/dtheta * tanh(c_t) + o_t (1 - tanh^2 c_t) * S^c_t
    new_Sh = dO * tanh_c[..., None] + (o * (1 - tanh_c * tanh_c))[..., None] * new_Sc
    return np.concatenate([new_Sh, new_Sc], axis=1)


_SENSITIVITY = {"srn": _srn_sensitivity, "gru": _gru_sensitivity, "lstm": _lstm_sensitivity}


class RTRL:
    """Exact online gradients for a cell with an output layer, one step at a time.

    The model and the loss are those of :mod:`rnnbook.scratch.bptt`: o_t = V h_t + c,
    L_t = (1/B) sum_b loss(o_t, y_t). After ``step(x_t, y_t)``, the returned
    gradient is dL_t/dtheta through the whole past, and ``self.grads`` holds the
    sum over the steps since the last :meth:`reset_grads`.

    The arrays of ``params`` are read at every step, so they may be changed in
    place between steps (online learning, e.g. ``params["W"] -= lr * g["W"]``);
    the sensitivities are then those of the changing parameters, as in
    Williams & Zipser's (1989) online RTRL. (Replacing one of the cell's arrays in
    the dict by a new array is not seen; V and c are read from the dict each step.)

    Args:
        cell: "srn" (feedback="hidden"), "gru" or "lstm".
        params: the cell's parameters plus "V" (O, H) and "c" (O,).
        batch_size: B, the number of streams run side by side.
        h0: the initial state (B, H) (for the LSTM the pair (h0, c0)), or None for zeros.
        loss: "cross_entropy" or "squared".
        **options: the cell's options (activation= for the SRN, reset=, update= for the
            GRU, variant= for the LSTM).

    Attributes:
        state: the cell's current state, h (B, H) or the LSTM's pair (h, c).
        h: the current hidden state (B, H).
        S: the sensitivities dh/dtheta (B, H, P); for the LSTM [dh/dtheta; dc/dtheta]
            (B, 2H, P).
        grads: the summed gradients, keyed like params.  t: the steps taken.
        input_size: D, the size of x_t.

    Raises:
        ValueError: for an unknown cell, loss or option, the Jordan network, a missing
            or extra key, mismatched shapes, a non-float or mixed dtype, NaN or inf;
            ``step`` likewise for x_t and y_t.
    """

    def __init__(self, cell, params, *, batch_size, h0=None, loss="cross_entropy", **options):
        cells.check_cell(cell)
        check_option("loss", loss, bptt.LOSSES)
        check_int("batch_size", batch_size)
        if cell == "srn":
            # the Elman network only: RTRL here differentiates h_t, not a fed-back output
            opts = cells.options("srn", options, only=("activation", "feedback"))
            check_option("feedback", opts["feedback"], ("hidden",))
            opts = cells.options("srn", opts)
        else:
            opts = cells.options(cell, options)
        if not isinstance(params, dict) or not {"V", "c"} <= params.keys():
            raise ValueError(
                f"params must be a dict with the output layer's 'V' and 'c', got {describe(params)}"
            )
        cell_params = {k: v for k, v in params.items() if k not in ("V", "c")}
        # the cell's params and h0 are checked against each other (with a zero input: only
        # its shape and dtype are used); then the output layer is checked against H
        w_key = cells.key("W", cells.gates(cell, **opts)[0])  # its shape gives (H, D)
        if w_key not in params:
            raise ValueError(f"params must have the key {w_key!r}, got keys {sorted(params)}")
        check_array(params[w_key], f"params[{w_key!r}]", shape=(None, None), dims="(H, D)")
        dtype = params[w_key].dtype
        probe = np.zeros((batch_size, params[w_key].shape[1]), dtype=dtype)
        state = check_cell_inputs(cell, probe, h0, cell_params, opts, sequence=False)
        H = params[w_key].shape[0]
        check_array(params["c"], "params['c']", shape=(None,), dims="(O,)", dtype=dtype.name)
        O = params["c"].shape[0]
        check_array(params["V"], "params['V']", shape=(O, H), dims="(O, H)", dtype=dtype.name)
        self.cell, self.loss, self.options = cell, loss, opts
        self.input_size = params[w_key].shape[1]  # D
        self.params, self.cell_params = params, cell_params
        self.state = tuple(s.copy() for s in state) if cell == "lstm" else state.copy()
        self.layout = _layout(self.cell_params)
        P = sum(v.size for v in self.cell_params.values())
        rows = 2 * H if cell == "lstm" else H  # the LSTM carries dc/dtheta as well
        self.S = np.zeros((batch_size, rows, P), dtype=dtype)
        self.t = 0
        self.reset_grads()

    @property
    def h(self) -> np.ndarray:
        """The current hidden state h_t (B, H)."""
        return self.state[0] if self.cell == "lstm" else self.state

    def reset_grads(self) -> None:
        """Set the summed gradients ``self.grads`` to zero."""
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _unflatten(self, g):
        return {k: g[o : o + int(np.prod(s))].reshape(s) for k, (o, s) in self.layout.items()}

    def check_step(self, x_t, y_t=None) -> None:
        """Check a step's input x_t (B, D) and target y_t (or None), before any arithmetic.

        Raises:
            ValueError: for x_t not a float array (B, D) of the learner's dtype, or a
                target of the wrong shape or dtype, or class indices outside [0, O).
        """
        B = self.h.shape[0]
        D = self.input_size
        if not isinstance(x_t, np.ndarray):
            raise ValueError(f"x_t must be a numpy.ndarray (B, D), got {describe(x_t)}")
        check_array(x_t, "x_t", shape=(B, D), dims="(B, D)", dtype=self.h.dtype.name)
        if y_t is not None:
            O = self.params["c"].shape[0]
            if self.loss == "cross_entropy":
                check_array(y_t, "y_t", shape=(B,), dims="(B,)", dtypes=("int32", "int64"))
                if y_t.min() < 0 or y_t.max() >= O:
                    raise ValueError(f"y_t must be class indices in [0, {O}), got {y_t}")
            else:
                check_array(y_t, "y_t", shape=(B, O), dims="(B, O)", dtype=self.h.dtype.name)

    def step(self, x_t, y_t=None):
        """Advance one step with input x_t (B, D); with a target y_t, return its loss and gradient.

        Args:
            x_t: input (B, D).
            y_t: target of this step (int (B,) or float (B, O)), or None for no loss here.

        Returns:
            (L_t, grads_t), the loss of this step and dL_t/d params keyed like params;
            (None, None) when y_t is None.
        """
        module = cell_module(self.cell)
        H = self.h.shape[1]
        self.check_step(x_t, y_t)
        # the cell's own step; it checks x_t against params and the state
        state, cache = module.step_forward(x_t, self.state, self.cell_params, **self.options)
        self.S = _SENSITIVITY[self.cell](
            self.S, x_t, cache, self.cell_params, self.layout, self.options
        )
        self.state = state
        self.t += 1
        if y_t is None:
            return None, None
        V, c = self.params["V"], self.params["c"]
        L, dh, dV, dc = bptt.head_loss(self.h, y_t, V, c, self.loss)
        # (6.28)  dL_t/dtheta = S_t^T dL_t/dh_t, summed over the batch   (P,)
        # (the rows of dh_t/dtheta: all of S, or the first H of the LSTM's)
        g = self._unflatten(np.einsum("bk,bkp->p", dh, self.S[:, :H]))
        g.update(V=dV, c=dc)
        for k in self.grads:
            self.grads[k] += g[k]
        return L, g


def gradients(cell, x, targets, params, *, h0=None, loss="cross_entropy", on="every", **options):
    """The loss and its gradient over a whole sequence, by RTRL.

    Arguments and result as in :func:`rnnbook.scratch.bptt.full` (cell "srn", "gru" or
    "lstm"): x (T, B, D); targets int (T, B) or float (T, B, O) (``on="last"``: (B,) or
    (B, O)); params the cell's plus "V" (O, H) and "c" (O,); h0 (B, H), for the LSTM the
    pair (h0, c0), or None.
    Returns (L, grads), grads keyed like params.

    Raises:
        ValueError: as :func:`rnnbook.scratch.bptt.full` and :class:`RTRL`.
    """
    cells.check_cell(cell)
    bptt.check_problem(cell, x, targets, params, loss, on, options)
    B = x.shape[1]
    learner = RTRL(cell, params, batch_size=B, h0=h0, loss=loss, **options)
    return run_sequence(learner, x, targets, on), learner.grads


def run_sequence(learner, x, targets, on) -> float:
    """Feed a whole sequence to an online learner, one step at a time; return the total loss.

    ``learner.step(x_t, y_t)`` is called at every step, with the step's target for
    ``on="every"``, and only at the last step for ``on="last"`` (None before it).
    """
    T = x.shape[0]
    total = 0.0
    for t in range(T):
        if on == "every":
            y = targets[t]
        else:
            y = targets if t == T - 1 else None
        L, _ = learner.step(x[t], y)
        total += L or 0.0
    return total
