"""Schmidhuber's (1992) fixed-size storage hybrid of BPTT and RTRL, for the SRN.

RTRL (:mod:`rnnbook.scratch.rtrl`) updates the sensitivities S_t = dh_t/dtheta at
every step, O(H^2 n) work for n ~ H^2 weights. The hybrid updates them only every
``block`` = K steps, and gets everything in between by backpropagation over the
block, whose states it keeps. For a block from t0 to t1 = t0 + K:

    h_t1 = F(h_t0, theta)           the block's K steps of the SRN (6.24)

    dL_blk/dtheta = dbar L_blk/dtheta + (dL_blk/dh_t0)^T S_t0          (a), (b)
    S_t1          = dbar h_t1/dtheta  + (dh_t1/dh_t0) S_t0              (c)

where L_blk is the sum of the block's losses and dbar means "with h_t0 held fixed"
(the per-step d+ of (6.15) holds h_{t-1} fixed instead).
(a) is one BPTT pass over the block (the cell's own ``step_backward``), which also
gives dL_blk/dh_t0; (b) adds the effect of theta on h_t0, which S_t0 carries. (c)
needs the whole Jacobian of h_t1: H more backward passes over the block, one from
each component [h_t1]_k, which give row k of J = dh_t1/dh_t0 (H, H) and row k of
dbar h_t1/dtheta (H, n). They are run together, as one pass with H cotangents, and
their immediate terms, summed over the block's steps, are one matrix product.

Work per block, for one stream, with n = H^2 + HD + H: the H passes cost H n + H^3
multiply-adds per step of the block, J S_t0 costs H^2 n once, and the BPTT pass
O(H^2 + HD) per step. Per step on average that is

    H n + H^3 + H^2 n / K  (+ BPTT's O(H^2 + HD))

which for K = H is about 3 H^3, against RTRL's H^2 n ~ H^4. The memory is S_t0
(H n numbers, as for RTRL), the K steps of the block (O(K H)) and, while the block
is closed, the passes' cotangents (K H^2) and dbar h_t1/dtheta (another H n): independent
of the sequence's length.
The gradient is exact, equal to BPTT's and RTRL's; the price against RTRL is that
the gradient of a step's loss is known only at the end of its block.

:class:`Hybrid` consumes one step at a time; :func:`gradients` runs it over a whole
sequence with the arguments of :func:`rnnbook.scratch.bptt.full` (plus ``block``).
"""

import numpy as np

from rnnbook._checks import check_int, check_option
from rnnbook.scratch import bptt, srn
from rnnbook.scratch._functions import activate_backward
from rnnbook.scratch.rtrl import RTRL, run_sequence


class Hybrid(RTRL):
    """The FP/BPTT hybrid for the SRN: exact gradients, every ``block`` steps.

    Args:
        cell: "srn" (``feedback="hidden"``, any activation); the only cell it covers.
        params: "W" (H, D), "U" (H, H), "b" (H,) plus the output layer "V" (O, H), "c" (O,).
        batch_size: B, the number of streams run side by side.
        block: K, the number of steps between two updates of the sensitivities (>= 1).
        h0: the initial state (B, H), or None for zeros.
        loss: "cross_entropy" or "squared".
        **options: ``activation=`` of the SRN.

    Attributes (besides those of :class:`rnnbook.scratch.rtrl.RTRL`):
        S: dh_t0/dtheta (B, H, n) at the start of the current block (not at every step).
        block: K.  steps: the caches of ``srn.step_forward`` for the block's steps so far.
        d_h: dL_t/dh_t (B, H) from the output layer for each of those steps (zero where
            a step has no target).

    Raises:
        ValueError: for ``block`` not an int >= 1, a cell other than "srn", and as
            :class:`rnnbook.scratch.rtrl.RTRL`.
    """

    def __init__(
        self, cell, params, *, batch_size, block, h0=None, loss="cross_entropy", **options
    ):
        check_option("cell", cell, ("srn",))
        check_int("block", block)
        super().__init__(cell, params, batch_size=batch_size, h0=h0, loss=loss, **options)
        self.block = block
        self.steps, self.d_h = [], []
        self._dV, self._dc = np.zeros_like(params["V"]), np.zeros_like(params["c"])

    def step(self, x_t, y_t=None):
        """Advance one step with input x_t (B, D) and target y_t (or None).

        Returns:
            (L_t, grads): the loss of this step (None without a target) and, at the last
            step of a block, the gradient of the block's losses keyed like params
            (:meth:`end_block`); None at the other steps.
        """
        self.check_step(x_t, y_t)
        h, cache = srn.step_forward(x_t, self.state, self.cell_params, **self.options)
        self.state = h
        self.t += 1
        self.steps.append(cache)
        L, dh = None, np.zeros_like(h)
        if y_t is not None:
            L, dh, dV, dc = bptt.head_loss(h, y_t, self.params["V"], self.params["c"], self.loss)
            # the output layer acts on h_t at step t only: its gradient is complete now
            self._dV += dV
            self._dc += dc
        self.d_h.append(dh)
        if len(self.steps) == self.block:
            return L, self.end_block()
        return L, None

    def end_block(self):
        """Close the block: the gradient of its losses, and S carried to its end.

        Called by :meth:`step` after ``block`` steps; call it yourself after the last
        step of a sequence whose length is not a multiple of ``block``.

        Returns:
            the gradient of the block's losses keyed like params (zeros for an empty
            block), also added to ``self.grads``.
        """
        B, H = self.h.shape
        # (a) BPTT over the block, h_t0 held fixed (dbar): the cell's step_backward, newest first
        dh = np.zeros((B, H), dtype=self.h.dtype)  # dL_blk/dh_t, then dL_blk/dh_t0
        g = {k: np.zeros_like(v) for k, v in self.cell_params.items()}
        for cache, d_own in zip(reversed(self.steps), reversed(self.d_h), strict=True):
            # dL_blk/dh_t: the step's own loss plus what flows back from step t + 1
            _, dh, g_t = srn.step_backward(dh + d_own, cache, check=False)
            g = {k: g[k] + g_t[k] for k in g}
        # (b) the path through h_t0:  (dL_blk/dh_t0)^T S_t0, summed over the batch   (n,)
        through_h0 = self._unflatten(np.einsum("bk,bkp->p", dh, self.S))
        grads = {k: g[k] + through_h0[k] for k in g}
        grads.update(V=self._dV, c=self._dc)
        # (c) S_t1 = dbar h_t1/dtheta + J S_t0, from H backward passes over the block
        if self.steps:
            J, S_bar = self.block_jacobians()
            # (B, H, H) x (B, H, n): one matrix product per example
            S_bar += J @ self.S
            self.S = S_bar
        for k in self.grads:
            self.grads[k] += grads[k]
        self.steps, self.d_h = [], []
        self._dV, self._dc = np.zeros_like(self._dV), np.zeros_like(self._dc)
        return grads

    def block_jacobians(self):
        """The Jacobians of h_t1, the block's last state: H backward passes run as one.

        Returns:
            (J, S_bar): J = dh_t1/dh_t0 (B, H, H) and S_bar = dbar h_t1/dtheta (B, H, n),
            the derivative with h_t0 held fixed, in the layout of ``self.S``. Row k of
            both is what backpropagating the unit vector e_k from [h_t1]_k gives.
        """
        B, H = self.h.shape
        U, activation = self.cell_params["U"], self.options["activation"]
        steps = self.steps[::-1]  # newest first, the order of the passes
        # G[b, k] = d[h_t1]_k / dh_t for the step being passed; at t = t1 the identity   (B, H, H)
        G = np.broadcast_to(np.eye(H, dtype=self.h.dtype), (B, H, H)).copy()
        dz = []
        for cache in steps:
            # (6.24)  h_t = f(z_t):  dz_t[b, k] = d[h_t1]_k / dz_t = G[b, k] * f'(z_t)   (B, H, H)
            dz.append(
                activate_backward(activation, G, cache["z"][:, None, :], cache["h"][:, None, :])
            )
            # one step back: d[h_t1]_k / dh_{t-1} = dz_t U   (B, H, H)
            G = dz[-1] @ U
        # (6.24)  z_t = U h_{t-1} + W x_t + b, so with h_{t-1} held fixed (6.15), summed over
        # the block:  dbar[h_t1]_k/dM_ij = sum_t dz_t[b, k, i] [u_t]_j  with u_t = x_t for W
        # and h_{t-1} for U: one matrix product (H*H, K) x (K, N) per example   (B, H, H, N)
        dz = np.stack(dz, axis=1)  # (B, K, H, H)
        dz_t = dz.reshape(B, len(steps), H * H).transpose(0, 2, 1)  # (B, H*H, K)
        S_bar = np.zeros_like(self.S)
        for key, u in (("W", "x_t"), ("U", "s_prev")):
            offset, shape = self.layout[key]
            u_t = np.stack([cache[u] for cache in steps], axis=1)  # (B, K, N)
            S_bar[:, :, offset : offset + H * shape[1]] = (dz_t @ u_t).reshape(B, H, -1)
        # dbar[h_t1]_k/db_i = sum_t dz_t[b, k, i]   (B, H, H)
        offset, _ = self.layout["b"]
        S_bar[:, :, offset : offset + H] = dz.sum(axis=1)
        return G, S_bar


def gradients(
    cell, x, targets, params, *, block, h0=None, loss="cross_entropy", on="every", **options
):
    """The loss and its gradient over a whole sequence, by the FP/BPTT hybrid.

    Arguments and result as in :func:`rnnbook.scratch.bptt.full` for cell "srn", plus
    ``block`` (K >= 1): x (T, B, D); targets int (T, B) or float (T, B, O)
    (``on="last"``: (B,) or (B, O)); params "W", "U", "b", "V", "c"; h0 (B, H) or None.
    Returns (L, grads), grads keyed like params.

    Raises:
        ValueError: as :func:`rnnbook.scratch.bptt.full` and :class:`Hybrid`.
    """
    check_option("cell", cell, ("srn",))
    bptt.check_problem(cell, x, targets, params, loss, on, options)
    B = x.shape[1]
    learner = Hybrid(cell, params, batch_size=B, block=block, h0=h0, loss=loss, **options)
    total = run_sequence(learner, x, targets, on)
    if learner.steps:
        learner.end_block()
    return total, learner.grads
