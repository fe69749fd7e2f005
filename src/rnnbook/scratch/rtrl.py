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
params dict. Cells: the SRN (``feedback="hidden"``, any activation) and the
GRU (every ``reset=`` and ``update=`` convention). The forward step is the
cell's own ``step_forward``; only the sensitivities are computed here.

:class:`RTRL` consumes one time step at a time (an endless stream works);
:func:`gradients` runs it over a whole sequence, with the arguments of
:func:`rnnbook.scratch.bptt.full`, whose result it equals to rounding.
"""

import numpy as np

from rnnbook._checks import check_array, check_int, check_option, describe
from rnnbook.scratch import bptt, gru, srn
from rnnbook.scratch._functions import activate_backward

CELLS = ("srn", "gru")


def _layout(params) -> dict:
    """key -> (offset, shape) of each parameter in the flat vector theta."""
    layout, offset = {}, 0
    for key, v in params.items():
        layout[key] = (offset, v.shape)
        offset += v.size
    return layout


def _direct(layout, P, terms, B, H, dtype):
    """d+a/dtheta (B, H, P) for a pre-activation a = sum_k M_k u_k + b (h_{t-1} held fixed).

    ``terms`` lists (key, u): a matrix M (H, N) with its input u (B, N), or a
    bias (H,) with u None. For M_ij the derivative of a_k is delta_ki u_j, (6.15).
    """
    out = np.zeros((B, H, P), dtype=dtype)
    eye = np.eye(H, dtype=dtype)
    for key, u in terms:
        offset, shape = layout[key]
        size = int(np.prod(shape))
        if u is None:
            # da_k/db_i = delta_ki
            out[:, :, offset : offset + size] = eye
        else:
            # da_k/dM_ij = delta_ki u_j   (B, H, H * N)
            out[:, :, offset : offset + size] = np.einsum("ki,bj->bkij", eye, u).reshape(B, H, size)
    return out


def _times(M, S):
    """M S for every example: (H, H) x (B, H, P) -> (B, H, P), one batched matrix product."""
    return M @ S


def _srn_sensitivity(S, x_t, cache, params, layout, opts):
    """(6.27)  S_t = f'(z_t) * (d+z_t/dtheta + U S_{t-1})."""
    h_prev, z, h = cache["core"]
    B, H = h.shape
    P = S.shape[2]
    terms = [("W", x_t), ("U", h_prev), ("b", None)]
    # dz_t/dtheta (B, H, P)
    dZ = _direct(layout, P, terms, B, H, h.dtype) + _times(params["U"], S)
    # f'(z_t) (B, H)
    fprime = activate_backward(opts["activation"], np.ones_like(h), z, h)
    return fprime[:, :, None] * dZ


def _gru_sensitivity(S, x_t, cache, params, layout, opts):
    """S_t = dh_t/dtheta (B, H, P) for the GRU, by the chain rule through each gate.

    Capital letters are sensitivities, each (B, H, P): dZ = dz_t/dtheta,
    dR = dr_t/dtheta, dM = dm_t/dtheta, dU = du_t/dtheta, dA = da_h/dtheta,
    dN = dh~_t/dtheta (h~_t is n here, as in :mod:`rnnbook.scratch.gru`).
    """
    h_prev, z, r, n, extra = cache["core"]
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
        # (6.48)  a_h = W_h x_t + U_h m_t + b_h with m_t = r_t * h_{t-1}   (B, H)
        #   =>  dm_t/dtheta = dr_t/dtheta * h_{t-1} + r_t * S_{t-1},
        #       da_h/dtheta = d+a_h/dtheta + U_h dm_t/dtheta   (B, H, P)
        m = extra
        dM = dR * h_prev[..., None] + r[..., None] * S
        dA = direct(("W_h", x_t), ("U_h", m), ("b_h", None)) + _times(params["U_h"], dM)
    else:
        # a_h = W_h x_t + b_h + r_t * u_t with u_t = U_h h_{t-1} + d_h   (B, H)
        #   =>  du_t/dtheta = d+u_t/dtheta + U_h S_{t-1},
        #       da_h/dtheta = d+a_h/dtheta + dr_t/dtheta * u_t + r_t * du_t/dtheta   (B, H, P)
        u = extra
        dU = direct(("U_h", h_prev), ("d_h", None)) + _times(params["U_h"], S)
        dA = direct(("W_h", x_t), ("b_h", None)) + dR * u[..., None] + r[..., None] * dU
    # h~_t = tanh(a_h)  =>  dh~_t/dtheta = (1 - h~_t^2) * da_h/dtheta   (B, H, P)
    dN = (1 - n * n)[..., None] * dA
    z3 = z[..., None]
    if opts["update"] == "keep":
        # (6.50)  h_t = z_t * h_{t-1} + (1 - z_t) * h~_t
        #   =>  S_t = dz_t/dtheta * (h_{t-1} - h~_t) + z_t * S_{t-1} + (1 - z_t) * dh~_t/dtheta
        return dZ * (h_prev - n)[..., None] + z3 * S + (1 - z3) * dN
    # h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
    #   =>  S_t = dz_t/dtheta * (h~_t - h_{t-1}) + (1 - z_t) * S_{t-1} + z_t * dh~_t/dtheta
    return dZ * (n - h_prev)[..., None] + (1 - z3) * S + z3 * dN


_MODULES = {"srn": srn, "gru": gru}
_SENSITIVITY = {"srn": _srn_sensitivity, "gru": _gru_sensitivity}


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
        cell: "srn" (feedback="hidden") or "gru".
        params: the cell's parameters plus "V" (O, H) and "c" (O,).
        batch_size: B, the number of streams run side by side.
        h0: the initial state (B, H), or None for zeros.
        loss: "cross_entropy" or "squared".
        **options: the cell's options (activation= for the SRN, reset=, update= for the GRU).

    Attributes:
        h: the current state (B, H).  S: the sensitivities dh/dtheta (B, H, P).
        grads: the summed gradients, keyed like params.  t: the steps taken.

    Raises:
        ValueError: for an unknown cell, loss or option, the Jordan network, a missing
            or extra key, mismatched shapes, a non-float or mixed dtype, NaN or inf;
            ``step`` likewise for x_t and y_t.
    """

    def __init__(self, cell, params, *, batch_size, h0=None, loss="cross_entropy", **options):
        check_option("cell", cell, CELLS)
        check_option("loss", loss, bptt.LOSSES)
        check_int("batch_size", batch_size)
        allowed = {"srn": ("activation", "feedback"), "gru": ("reset", "update")}[cell]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f"the {cell} options are {allowed}, got unknown {unknown}")
        if cell == "srn":
            check_option("feedback", options.get("feedback", "hidden"), ("hidden",))
            opts = srn._options(options.get("activation", "tanh"), "hidden", "identity")
        else:
            opts = gru._options(options.get("reset", "before"), options.get("update", "keep"))
        if not isinstance(params, dict) or not {"V", "c"} <= params.keys():
            raise ValueError(
                f"params must be a dict with the output layer's 'V' and 'c', got {describe(params)}"
            )
        cell_params = {k: v for k, v in params.items() if k not in ("V", "c")}
        # the cell checks its params and h0 against each other (with a zero input: only
        # its shape and dtype are used); then the output layer is checked against H
        w_key = "W" if cell == "srn" else "W_z"
        if w_key not in params:
            raise ValueError(f"params must have the key {w_key!r}, got keys {sorted(params)}")
        check_array(params[w_key], f"params[{w_key!r}]", shape=(None, None), dims="(H, D)")
        dtype = params[w_key].dtype
        probe = np.zeros((batch_size, params[w_key].shape[1]), dtype=dtype)
        h = _MODULES[cell]._check(probe, h0, cell_params, opts, sequence=False)
        H = h.shape[1]
        check_array(params["c"], "params['c']", shape=(None,), dims="(O,)", dtype=dtype.name)
        O = params["c"].shape[0]
        check_array(params["V"], "params['V']", shape=(O, H), dims="(O, H)", dtype=dtype.name)
        self.cell, self.loss, self.options = cell, loss, opts
        self.params, self.cell_params = params, cell_params
        self.h = h.copy()
        self.layout = _layout(self.cell_params)
        P = sum(v.size for v in self.cell_params.values())
        self.S = np.zeros((batch_size, H, P), dtype=dtype)
        self.t = 0
        self.reset_grads()

    def reset_grads(self) -> None:
        """Set the summed gradients ``self.grads`` to zero."""
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _unflatten(self, g):
        return {k: g[o : o + int(np.prod(s))].reshape(s) for k, (o, s) in self.layout.items()}

    def step(self, x_t, y_t=None):
        """Advance one step with input x_t (B, D); with a target y_t, return its loss and gradient.

        Args:
            x_t: input (B, D).
            y_t: target of this step (int (B,) or float (B, O)), or None for no loss here.

        Returns:
            (L_t, grads_t), the loss of this step and dL_t/d params keyed like params;
            (None, None) when y_t is None.
        """
        module = _MODULES[self.cell]
        B = self.h.shape[0]
        D = self.cell_params["W" if self.cell == "srn" else "W_z"].shape[1]
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
        # the cell's own step; it checks x_t against params and the state
        h, cache = module.step_forward(x_t, self.h, self.cell_params, **self.options)
        self.S = _SENSITIVITY[self.cell](
            self.S, x_t, cache, self.cell_params, self.layout, self.options
        )
        self.h = h
        self.t += 1
        if y_t is None:
            return None, None
        L, dh, dV, dc = bptt.head_loss(h, y_t, self.params["V"], self.params["c"], self.loss)
        # (6.28)  dL_t/dtheta = S_t^T dL_t/dh_t, summed over the batch   (P,)
        g = self._unflatten(np.einsum("bk,bkp->p", dh, self.S))
        g.update(V=dV, c=dc)
        for k in self.grads:
            self.grads[k] += g[k]
        return L, g


def gradients(cell, x, targets, params, *, h0=None, loss="cross_entropy", on="every", **options):
    """The loss and its gradient over a whole sequence, by RTRL.

    Arguments and result as in :func:`rnnbook.scratch.bptt.full` (cell "srn" or "gru"):
    x (T, B, D); targets int (T, B) or float (T, B, O) (``on="last"``: (B,) or (B, O));
    params the cell's plus "V" (O, H) and "c" (O,); h0 (B, H) or None.
    Returns (L, grads), grads keyed like params.

    Raises:
        ValueError: as :func:`rnnbook.scratch.bptt.full` and :class:`RTRL`.
    """
    check_option("cell", cell, CELLS)
    bptt.check_problem(cell, x, targets, params, loss, on, options)
    T, B = x.shape[:2]
    learner = RTRL(cell, params, batch_size=B, h0=h0, loss=loss, **options)
    total = 0.0
    for t in range(T):
        if on == "every":
            y = targets[t]
        else:
            y = targets if t == T - 1 else None
        L, _ = learner.step(x[t], y)
        total += L or 0.0
    return total, learner.grads
