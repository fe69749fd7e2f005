"""Measurements of the long-term dependency problem (chapter 5).

How far back a gradient reaches, and what the remedies change:

- :func:`state_gradient_norms`: ||dL/dh_k|| against the distance t - k for a simple
  recurrent network, by the product of Jacobians (6.29) or by the cell's own BPTT;
- :func:`power_norms`: the spectral radius and the spectral norm of the powers (U^T)^n,
  the two numbers that say how a linear recurrence grows;
- :func:`one_unit` and :func:`descend`: the loss surface of a one-unit network, with its
  cliff, and gradient descent on it with no clipping, norm clipping or value clipping;
- :func:`additive_forward` and :func:`input_influence`: the textbook's additive remedies
  (6.31) and (6.32) as runnable recurrences, and how much each input still moves the state;
- :func:`train_long_lag`: one training run of a PyTorch SRN, LSTM or GRU on the adding
  problem, with the book's initialisations (the engine of experiments/long_lag.py).

Shapes: x (T, B, D), states (T + 1, B, H) with h_0 first, U (H, H).
"""

import numpy as np

from rnnbook._checks import check_array, check_int, check_option, describe
from rnnbook.cells import ACTIVATIONS as _ACTIVATIONS
from rnnbook.scratch._functions import activate

#: The models of the long-lag benchmark: cell, activation, initialisation of U.
MODELS = {
    "srn": ("srn", "tanh", "uniform"),  # PyTorch's default nn.RNN
    "srn_orth": ("srn", "tanh", "orthogonal"),  # Saxe et al. (2014)
    "irnn": ("srn", "relu", "identity"),  # Le et al. (2015)
    "lstm": ("lstm", None, "uniform"),
    "gru": ("gru", None, "uniform"),
}

#: The adding problem's score to beat: predicting the mean 1 has MSE 1/6.
BASELINE_MSE = 1.0 / 6.0
#: A run succeeds when its test MSE is below this fraction of BASELINE_MSE.
SUCCESS_FRACTION = 0.1
#: The seed of the adding problem's test set (the same for every run of one length).
TEST_SEED = 20_150_405


def _fprime(activation, z):
    """f'(z) of the SRN's activations, in forms that stay accurate for large |z|."""
    if activation == "tanh":
        # 4 e / (1 + e)^2 with e = exp(-2|z|): 1 - tanh(z)^2 would round to 0 for large z
        e = np.exp(-2.0 * np.abs(z))
        return 4.0 * e / (1.0 + e) ** 2
    if activation == "sigmoid":
        # e / (1 + e)^2 with e = exp(-|z|): s (1 - s) would round to 0 for large z
        e = np.exp(-np.abs(z))
        return e / (1.0 + e) ** 2
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    return np.ones_like(z)


def _check_srn_params(params, D=None):
    if not isinstance(params, dict) or not {"W", "U", "b"} <= set(params):
        got = sorted(params) if isinstance(params, dict) else describe(params)
        raise ValueError(f"params must be a dict with keys 'W', 'U', 'b', got {got}")
    U = params["U"]
    check_array(U, "params['U']", shape=(None, None), dims="(H, H)", dtypes=("float64",))
    H = U.shape[0]
    if U.shape != (H, H):
        raise ValueError(f"params['U'] must be square (H, H), got shape {U.shape}")
    check_array(params["W"], "params['W']", shape=(H, D), dims="(H, D)", dtypes=("float64",))
    check_array(params["b"], "params['b']", shape=(H,), dims="(H,)", dtypes=("float64",))
    return H, params["W"].shape[1]


def srn_states(params, x, *, activation="tanh", h0=None):
    """Run z_t = U h_{t-1} + W x_t + b, h_t = f(z_t) (6.3)-(6.4), in float64.

    Args:
        params: "W" (H, D), "U" (H, H), "b" (H,), float64.
        x: inputs (T, B, D), float64.  activation: "tanh", "sigmoid", "relu" or "identity".
        h0: the first state (B, H), zeros by default.

    Returns:
        (h, z): the states (T + 1, B, H) with h[0] = h0, and the pre-activations
        (T + 1, B, H) with z[0] unused (zeros).
    """
    check_option("activation", activation, _ACTIVATIONS)
    H, D = _check_srn_params(params)
    check_array(x, "x", shape=(None, None, D), dims="(T, B, D)", dtypes=("float64",))
    T, B, _ = x.shape
    if h0 is None:
        h0 = np.zeros((B, H))
    check_array(h0, "h0", shape=(B, H), dims="(B, H)", dtypes=("float64",))
    h, z = np.zeros((T + 1, B, H)), np.zeros((T + 1, B, H))
    h[0] = h0
    for t in range(1, T + 1):
        # (6.3)  z_t = U h_{t-1} + W x_t + b   (B, H)
        z[t] = h[t - 1] @ params["U"].T + x[t - 1] @ params["W"].T + params["b"]
        # (6.4)  h_t = f(z_t)
        h[t] = activate(activation, z[t])
    return h, z


def state_gradient_norms(params, x, v, *, activation="tanh", h0=None, method="jacobian"):
    """||dL/dh_k||_2 for a loss L = v . h_T read at the last step, for every k = T .. 0.

    ``method="jacobian"`` applies the transposed Jacobians of (6.29) one at a time,
    dL/dh_{k-1} = U^T diag(f'(z_k)) dL/dh_k; ``method="bptt"`` runs the SRN's own
    backward pass (``rnnbook.scratch.srn``) from each state h_k to the end and reads its
    gradient with respect to the starting state. The two are computed independently.

    Args:
        params: "W" (H, D), "U" (H, H), "b" (H,), float64.
        x: inputs (T, B, D), float64.  v: dL/dh_T (B, H), float64.
        activation: f, "tanh", "sigmoid", "relu" or "identity" (the SRN cell's activations).
        h0: the first state (B, H), zeros by default.
        method: "jacobian" or "bptt".

    Returns:
        norms (T + 1, B): row n is ||dL/dh_{T-n}|| (the distance t - k = n; row 0 is ||v||).
    """
    check_option("method", method, ("jacobian", "bptt"))
    h, z = srn_states(params, x, activation=activation, h0=h0)
    T, B, H = x.shape[0], x.shape[1], h.shape[2]
    check_array(v, "v", shape=(B, H), dims="(B, H)", dtypes=("float64",))
    norms = np.zeros((T + 1, B))
    if method == "jacobian":
        g = v.copy()  # dL/dh_T   (B, H)
        norms[0] = np.linalg.norm(g, axis=1)
        for k in range(T, 0, -1):
            # dL/dh_{k-1} = U^T diag(f'(z_k)) dL/dh_k   (B, H)
            g = (g * _fprime(activation, z[k])) @ params["U"]
            norms[T - k + 1] = np.linalg.norm(g, axis=1)
        return norms
    from rnnbook.scratch import srn

    for k in range(T, -1, -1):
        if k == T:
            norms[0] = np.linalg.norm(v, axis=1)
            continue
        d_out = np.zeros((T - k, B, H))
        d_out[-1] = v  # the loss reads only the last state
        _, cache = srn.forward(x[k:], h[k].copy(), params, activation=activation)
        _, dh_k, _ = srn.backward(d_out, cache)
        norms[T - k] = np.linalg.norm(dh_k, axis=1)
    return norms


def decay_rate(norms, start=1):
    """The mean factor per step of a gradient norm: exp of the slope of log ||.|| against n.

    Args:
        norms: (N,) or (N, B) positive norms against the distance n = 0 .. N - 1.
        start: the first distance used in the fit (an int >= 0).

    Returns:
        the geometric mean of ||dL/dh_{T-n-1}|| / ||dL/dh_{T-n}||, per column (float or (B,)).
    """
    norms = np.asarray(norms, dtype=np.float64)
    start = check_int("start", start, minimum=0)
    if norms.ndim not in (1, 2) or norms.shape[0] < start + 2:
        raise ValueError(f"norms must be (N,) or (N, B) with N >= start + 2, got {norms.shape}")
    if not np.all(norms[start:] > 0) or not np.all(np.isfinite(norms[start:])):
        raise ValueError("norms must be positive and finite from the start on")
    logs = np.log(norms[start:])
    return np.exp((logs[-1] - logs[0]) / (logs.shape[0] - 1))


def power_norms(U, n_max):
    """Spectral radius and spectral norm of (U^T)^n for n = 1 .. n_max.

    Gelfand's formula: ||(U^T)^n||_2^(1/n) -> rho(U) as n grows, whatever ||U||_2.

    Args:
        U: a square float64 matrix (H, H).  n_max: the largest power, an int >= 1.

    Returns:
        dict of arrays (n_max,): "n", "radius" (rho(U)^n, the largest |eigenvalue| of the
        power), "norm" (its largest singular value) and "smallest" (its smallest one).
    """
    check_array(U, "U", shape=(None, None), dims="(H, H)", dtypes=("float64",))
    if U.shape[0] != U.shape[1]:
        raise ValueError(f"U must be square (H, H), got shape {U.shape}")
    n_max = check_int("n_max", n_max)
    P = np.eye(U.shape[0])
    out = {"n": np.arange(1, n_max + 1), "radius": [], "norm": [], "smallest": []}
    for _ in range(n_max):
        P = U.T @ P  # (U^T)^n   (H, H)
        s = np.linalg.svd(P, compute_uv=False)
        out["radius"].append(np.abs(np.linalg.eigvals(P)).max())
        out["norm"].append(s[0])
        out["smallest"].append(s[-1])
    return {k: np.asarray(v) for k, v in out.items()}


def spectral_radius(U):
    """rho(U): the largest absolute value of an eigenvalue of the square matrix U."""
    check_array(U, "U", shape=(None, None), dims="(H, H)", dtypes=("float64",))
    if U.shape[0] != U.shape[1]:
        raise ValueError(f"U must be square (H, H), got shape {U.shape}")
    return float(np.abs(np.linalg.eigvals(U)).max())


def with_radius(U, radius):
    """U rescaled to the spectral radius ``radius`` (a positive number)."""
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not radius > 0:
        raise ValueError(f"radius must be a positive number, got {radius!r}")
    return U * (radius / spectral_radius(U))


# ---- the one-unit network and its cliff ----------------------------------------------


def _as_float_array(name, value):
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite number or array, got {value!r}")
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a finite number or array, got {describe(value)}"
        ) from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return a


def one_unit(w, b, *, T=50, h0=0.5, target=0.7):
    """Pascanu et al.'s (2013) one-unit network: h_t = w sigma(h_{t-1}) + b, no input.

    The loss is L = (h_T - target)^2 / 2; its gradient is carried forward with the state
    (the network has two weights, so forward mode is cheapest):
    dh_t/dw = sigma(h_{t-1}) + w sigma'(h_{t-1}) dh_{t-1}/dw, and likewise for b.

    Args:
        w, b: the recurrent weight and the bias, numbers or arrays of one shape (a grid).
        T: steps (an int >= 1).  h0: the first state.  target: what h_T should be.

    Returns:
        (loss, dL/dw, dL/db), arrays of the shape of w and b.
    """
    w, b = np.broadcast_arrays(_as_float_array("w", w), _as_float_array("b", b))
    T = check_int("T", T)
    h = np.full(w.shape, float(_as_float_array("h0", h0)))
    target = float(_as_float_array("target", target))
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for _ in range(T):
        s = 1.0 / (1.0 + np.exp(-h))
        ds = s * (1.0 - s)
        # the derivatives first: they read h_{t-1}
        dw, db = s + w * ds * dw, 1.0 + w * ds * db
        h = w * s + b
    err = h - target
    return 0.5 * err**2, err * dw, err * db


def descend(start, steps, lr, *, clip=None, threshold=1.0, **unit):
    """Gradient descent on :func:`one_unit`'s loss, with optional gradient clipping.

    Args:
        start: (w, b).  steps: an int >= 1.  lr: the learning rate (positive).
        clip: None (no clipping), "norm" (rescale g to norm ``threshold`` when longer,
            Pascanu et al. 2013) or "value" (clip each component to [-threshold, threshold]).
        threshold: the clipping threshold (positive).  **unit: T, h0, target of one_unit.

    Returns:
        dict of arrays (steps + 1,): "w", "b", "loss", and "grad_norm" (before clipping;
        the last entry is the gradient at the end point).
    """
    steps = check_int("steps", steps)
    check_option("clip", clip, (None, "norm", "value"))
    for name, value in (("lr", lr), ("threshold", threshold)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if isinstance(start, (str, bytes)) or not hasattr(start, "__len__") or len(start) != 2:
        raise ValueError(f"start must be a pair (w, b), got {describe(start)}")
    w, b = (float(_as_float_array("start", s)) for s in start)
    out = {"w": [], "b": [], "loss": [], "grad_norm": []}
    for step in range(steps + 1):
        loss, gw, gb = one_unit(w, b, **unit)
        norm = float(np.hypot(gw, gb))
        for k, val in zip(out, (w, b, float(loss), norm), strict=True):
            out[k].append(val)
        if step == steps:
            break
        if clip == "norm" and norm > threshold:
            gw, gb = gw * threshold / norm, gb * threshold / norm
        elif clip == "value":
            gw, gb = np.clip(gw, -threshold, threshold), np.clip(gb, -threshold, threshold)
        w, b = w - lr * float(gw), b - lr * float(gb)
    return {k: np.asarray(v) for k, v in out.items()}


# ---- the textbook's additive remedies (6.31)-(6.32) -----------------------------------


def additive_forward(params, x, *, reads_state, activation="sigmoid", h0=None):
    """The additive recurrences of the textbook, with g a one-layer network.

    (6.31), ``reads_state=False``: h_t = h_{t-1} + g(x_t),        g(x) = f(W x + b);
    (6.32), ``reads_state=True``:  h_t = h_{t-1} + g(x_t, h_{t-1}), g = f(W x + U h + b).

    Args:
        params: "W" (H, D), "U" (H, H), "b" (H,), float64 (U unused by (6.31)).
        x: inputs (T, B, D).  reads_state: (6.32) if True, (6.31) if False.
        activation: f.  h0: (B, H), zeros by default.

    Returns:
        (h, a): the states (T + 1, B, H) with h[0] = h0, and g's pre-activations a_t
        (T + 1, B, H) (a[0] zeros).
    """
    if not isinstance(reads_state, bool):
        raise ValueError(f"reads_state must be True or False, got {reads_state!r}")
    check_option("activation", activation, _ACTIVATIONS)
    H, D = _check_srn_params(params)
    check_array(x, "x", shape=(None, None, D), dims="(T, B, D)", dtypes=("float64",))
    T, B, _ = x.shape
    h0 = np.zeros((B, H)) if h0 is None else h0
    check_array(h0, "h0", shape=(B, H), dims="(B, H)", dtypes=("float64",))
    h, a = np.zeros((T + 1, B, H)), np.zeros((T + 1, B, H))
    h[0] = h0
    for t in range(1, T + 1):
        a[t] = x[t - 1] @ params["W"].T + params["b"]  # (B, H)
        if reads_state:
            a[t] += h[t - 1] @ params["U"].T
        # (6.31) / (6.32)  h_t = h_{t-1} + g(...)
        h[t] = h[t - 1] + activate(activation, a[t])
    return h, a


def input_influence(params, x, *, reads_state, activation="sigmoid", h0=None):
    """||dh_T/dx_t||_2 (spectral norm, per example) for every step t of an additive run.

    dh_T/dx_t = J_T ... J_{t+1} diag(f'(a_t)) W, with J_j = I for (6.31) and
    J_j = I + diag(f'(a_j)) U for (6.32): how much the last state still depends on the
    input of step t.

    Returns:
        (T, B): row t - 1 for step t = 1 .. T.
    """
    h, a = additive_forward(params, x, reads_state=reads_state, activation=activation, h0=h0)
    T, B, H = x.shape[0], x.shape[1], h.shape[2]
    out = np.zeros((T, B))
    M = np.broadcast_to(np.eye(H), (B, H, H)).copy()  # dh_T/dh_t, starting at t = T
    for t in range(T, 0, -1):
        d = _fprime(activation, a[t])  # (B, H)
        # dh_T/dx_t = (dh_T/dh_t) diag(f'(a_t)) W   (B, H, D)
        J_x = M @ (d[:, :, None] * params["W"])
        out[t - 1] = np.linalg.norm(J_x, ord=2, axis=(1, 2))
        if reads_state:
            # dh_T/dh_{t-1} = (dh_T/dh_t) (I + diag(f'(a_t)) U)
            M = M + M @ (d[:, :, None] * params["U"])
    return out


# ---- the long-lag benchmark -----------------------------------------------------------


def build_model(model, hidden_size, seed, input_size=2):
    """A PyTorch recurrent layer with the book's initialisation, and a linear read-out.

    The recurrent weights are drawn by the book's ``init_params`` (with ``init`` of
    :data:`MODELS`) and loaded into ``torch.nn.RNN``/``LSTM``/``GRU`` by
    ``rnnbook.convert.to_torch``, in float32; the read-out is ``torch.nn.Linear(H, 1)``
    drawn by PyTorch after ``torch.manual_seed(seed)``.

    Returns:
        (rnn, head).
    """
    import torch

    from rnnbook import convert
    from rnnbook.scratch import gru, lstm, srn

    check_option("model", model, tuple(MODELS))
    H = check_int("hidden_size", hidden_size)
    seed = check_int("seed", seed, minimum=0)
    cell, activation, init = MODELS[model]
    opts = {"activation": activation} if cell == "srn" else {}
    if cell == "gru":
        opts["reset"] = "after"  # PyTorch's GRU
    module = {"srn": srn, "lstm": lstm, "gru": gru}[cell]
    p = module.init_params(
        input_size, H, np.random.default_rng(seed), init=init, dtype=np.float32, **opts
    )
    rnn = convert.to_torch(p, cell, batch_first=True, **opts)
    torch.manual_seed(seed)
    head = torch.nn.Linear(H, 1)
    return rnn, head


def train_long_lag(
    model,
    T,
    seed,
    *,
    steps=1000,
    hidden_size=32,
    batch_size=64,
    lr=1e-2,
    clip=1.0,
    clip_kind="norm",
    optimizer="adam",
    evaluate=(250, 500, 750, 1000),
    n_test=1000,
):
    """Train one model on the adding problem of length T; return its test scores.

    Adam (or plain SGD) with learning rate ``lr``, a fresh batch of
    ``rnnbook.data.adding_problem`` at every update (drawn from
    ``numpy.random.default_rng([seed, 1])``, a stream independent of the one that draws the
    weights, ``default_rng(seed)``), the gradient clipped, loss the mean squared error of the
    read-out of the last state. One thread, so the numbers repeat
    (``torch.set_num_threads(1)``).

    Args:
        model: a key of :data:`MODELS`.  T: the sequence length (>= 2).  seed: an int >= 0.
        steps, hidden_size, batch_size, lr: the updates, H, B and Adam's learning rate.
        clip: the threshold (positive), or None for no clipping.
        clip_kind: "norm" (rescale the gradient to global norm ``clip`` when longer) or
            "value" (clip each component to [-clip, clip]).
        evaluate: the updates after which the test MSE is measured (``steps`` always is).
        optimizer: "adam" (default) or "sgd" (plain gradient descent).
        n_test: the number of test sequences.

    Returns:
        dict: "test_mse" {update: MSE on the n_test test sequences of seed
        :data:`TEST_SEED`}, "max_grad_norm" (the largest global norm before clipping),
        "clipped" (the fraction of updates whose gradient clipping changed), and per update
        "loss" (the batch's loss) and "grad_norm" (before clipping).
    """
    import torch

    from rnnbook import data

    T = check_int("T", T, minimum=2)
    steps = check_int("steps", steps)
    evaluate = sorted({check_int("evaluate", e) for e in evaluate} | {steps})
    if evaluate[-1] > steps:
        raise ValueError(f"evaluate must lie in 1 .. steps = {steps}, got {evaluate}")
    check_option("clip_kind", clip_kind, ("norm", "value"))
    check_option("optimizer", optimizer, ("adam", "sgd"))
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float))):
        raise ValueError(f"clip must be a positive number or None, got {clip!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be a positive number or None, got {clip!r}")
    # norm clipping rescales to `clip`; otherwise the norm is only measured (an infinite bound)
    max_norm = clip if clip is not None and clip_kind == "norm" else float("inf")
    torch.set_num_threads(1)
    rnn, head = build_model(model, hidden_size, seed)
    params = [*rnn.parameters(), *head.parameters()]
    opt = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer](params, lr=lr)
    rng = np.random.default_rng([seed, 1])  # the batches: a stream apart from the weights'
    x_test, y_test = (
        torch.tensor(a, dtype=torch.float32) for a in data.adding_problem(n_test, T, TEST_SEED)
    )

    def predict(x):  # (B, T, 2) -> (B,)
        out, _ = rnn(x)
        return head(out[:, -1]).squeeze(-1)

    scores, norms, losses, changed = {}, [], [], 0
    for step in range(1, steps + 1):
        x, y = (
            torch.tensor(a, dtype=torch.float32) for a in data.adding_problem(batch_size, T, rng)
        )
        opt.zero_grad(set_to_none=True)
        loss = ((predict(x) - y) ** 2).mean()
        loss.backward()
        # the global norm before clipping; then rescale it to `clip` ("norm") or clip each
        # component to [-clip, clip] ("value"); clip=None leaves the gradient alone
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, max_norm)))
        if clip is not None and clip_kind == "value":
            largest = max(float(p.grad.abs().max()) for p in params)
            changed += largest > clip
            torch.nn.utils.clip_grad_value_(params, clip)
        elif clip is not None:
            changed += norms[-1] > clip
        opt.step()
        losses.append(float(loss.detach()))
        if step in evaluate:
            with torch.no_grad():
                scores[step] = float(((predict(x_test) - y_test) ** 2).mean())
    return {
        "test_mse": scores,
        "max_grad_norm": max(norms),
        "clipped": changed / steps,
        "loss": losses,
        "grad_norm": norms,
    }


def succeeded(test_mse):
    """True when a test MSE is below SUCCESS_FRACTION * BASELINE_MSE (= 1/60)."""
    return bool(test_mse < SUCCESS_FRACTION * BASELINE_MSE)
