"""The echo state network (Jaeger 2001), in NumPy: a fixed random reservoir, a trained readout.

Letters as in Jaeger's report (the book's x is the input elsewhere; here, as in the
reservoir literature, u is the input and x the reservoir's state):

    u_t (D,) input,  x_t (N,) reservoir state,  y_t (O,) output.

The update and the readout, from given x_0 and y_0 (zeros by default):

    (ESN.1)  x_t = f(W_in u_t + W x_{t-1} + W_back y_{t-1}),     f = tanh
    (ESN.2)  y_t = W_out [u_t; x_t; y_{t-1}] + b_out

The input u_t enters the state of the same step t, and the output fed back is the one
of the step before (Jaeger writes x(n+1) = f(W_in u(n+1) + W x(n) + W_back y(n))). The
term W_back y_{t-1} is present only when the reservoir is made with ``feedback=O``; the
part y_{t-1} of the readout's features only when the readout is fitted with
``output_feedback=True``. The readout is linear (Jaeger allows an output function f_out;
the book uses the identity).

Only W_out and b_out are trained. W (N, N) is sparse and random: a share
``connectivity`` of its N^2 entries is nonzero, drawn from U(-1, 1), and the whole matrix
is then scaled so that its spectral radius, max |eigenvalue| computed with
``numpy.linalg.eigvals``, equals ``spectral_radius``. W_in (N, D) and W_back (N, O) are
dense, U(-input_scale, input_scale) and U(-feedback_scale, feedback_scale).

Training (teacher forcing): :func:`run_reservoir` drives the reservoir with the inputs
and, when there is feedback, with the teacher's outputs in place of y_{t-1};
:func:`fit_readout` drops the first ``washout`` states (they still remember x_0) and
solves ridge regression for [W_out b_out]. :func:`predict` applies the readout to
states; :func:`generate` runs the trained network freely, its own outputs fed back.

The textbook (003) has no echo state network; the Q&A chapter (004 lines 433-450) names
W, W_in, W_back, W_out and the output bias but writes no equation, so the labels ESN.1 and
ESN.2 are this module's (see the notes on the sources, note-esn-passage). There is no
backward pass: the readout is one linear solve. :func:`ridge_loss` gives the objective it
minimises and its gradient, so the solve can be checked as a stationary point.

Shapes: one sequence at a time, time first: u (T, D), states (T, N), y (T, O).
"""

import numpy as np

from rnnbook._checks import check_array, check_int, check_keys, check_rng, describe


def _check_number(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """A finite real number in the given range (bounds optional); return it as float."""
    real = (int, float, np.integer, np.floating)
    ok = not isinstance(value, bool) and isinstance(value, real) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
        rng_text = " and ".join(t for t in (lo, hi) if t)
        raise ValueError(
            f"{name} must be a finite number{' ' + rng_text if rng_text else ''}, "
            f"got {describe(value)}"
        )
    return float(value)


def spectral_radius(W) -> float:
    """max |lambda| over the eigenvalues of the square matrix W, by ``numpy.linalg.eigvals``."""
    check_array(W, "W", shape=(None, None), dims="(N, N)", dtypes=("float64",))
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (N, N), got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def make_reservoir(
    N: int,
    D: int,
    rng: np.random.Generator,
    *,
    spectral_radius: float = 0.9,
    connectivity: float = 0.02,
    input_scale: float = 1.0,
    feedback: int | None = None,
    feedback_scale: float = 1.0,
) -> dict:
    """Draw a reservoir: the fixed matrices W, W_in and (with ``feedback``) W_back.

    Args:
        N: reservoir size.  D: input size.  rng: the generator to draw from.
        spectral_radius: the spectral radius W is scaled to (> 0).
        connectivity: the share of nonzero entries of W, in (0, 1]; exactly
            round(connectivity * N^2) entries (at least one) are drawn, at distinct places.
        input_scale: W_in is drawn from U(-input_scale, input_scale) (>= 0).
        feedback: None (no output feedback) or the output size O, for W_back (N, O).
        feedback_scale: W_back is drawn from U(-feedback_scale, feedback_scale) (>= 0).

    Returns:
        dict of float64 arrays: "W" (N, N), "W_in" (N, D) and, with feedback, "W_back" (N, O).

    Raises:
        ValueError: for a size that is not an int >= 1, a number outside its range, a bad
            rng, or a drawn W whose eigenvalues are all 0 (it cannot be scaled; raise
            the connectivity).
    """
    N = check_int("N", N)
    D = check_int("D", D)
    check_rng(rng)
    rho = _check_number("spectral_radius", spectral_radius, low=0, low_open=True)
    share = _check_number("connectivity", connectivity, low=0, high=1, low_open=True)
    input_scale = _check_number("input_scale", input_scale, low=0)
    feedback_scale = _check_number("feedback_scale", feedback_scale, low=0)
    O = None if feedback is None else check_int("feedback", feedback)

    n_nonzero = max(1, round(share * N * N))
    places = rng.choice(N * N, size=n_nonzero, replace=False)
    W = np.zeros(N * N)
    W[places] = rng.uniform(-1.0, 1.0, size=n_nonzero)
    W = W.reshape(N, N)  # (N, N)
    radius = float(np.max(np.abs(np.linalg.eigvals(W))))
    if radius < 1e-12:
        raise ValueError(
            f"the drawn W (N = {N}, connectivity = {share}) has spectral radius {radius:.3g}: "
            "all its eigenvalues are 0 and it cannot be scaled; use a larger connectivity"
        )
    params = {
        "W": W * (rho / radius),  # (N, N), spectral radius rho
        "W_in": rng.uniform(-input_scale, input_scale, size=(N, D)),  # (N, D)
    }
    if O is not None:
        params["W_back"] = rng.uniform(-feedback_scale, feedback_scale, size=(N, O))  # (N, O)
    return params


def _check_reservoir(params):
    """Check a reservoir dict; return (N, D, O) with O None when there is no feedback."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict from make_reservoir, got {describe(params)}")
    keys = ["W", "W_in", "W_back"] if "W_back" in params else ["W", "W_in"]
    check_keys(params, keys)
    W = params["W"]
    check_array(W, "params['W']", shape=(None, None), dims="(N, N)", dtypes=("float64",))
    N = W.shape[0]
    check_array(W, "params['W']", shape=(N, N), dims="(N, N)", dtypes=("float64",))
    check_array(
        params["W_in"], "params['W_in']", shape=(N, None), dims="(N, D)", dtypes=("float64",)
    )
    D = params["W_in"].shape[1]
    O = None
    if "W_back" in params:
        check_array(
            params["W_back"],
            "params['W_back']",
            shape=(N, None),
            dims="(N, O)",
            dtypes=("float64",),
        )
        O = params["W_back"].shape[1]
    return N, D, O


def _check_sequence(a, name, dims, size=None, T=None):
    check_array(a, name, shape=(T, size), dims=dims, dtypes=("float64",))
    if a.shape[0] < 1:
        raise ValueError(f"{name} must have at least one step, got shape {a.shape}")


def run_reservoir(params, u, *, x0=None, y_teacher=None, y0=None):
    """Drive the reservoir with the inputs u (and the teacher's outputs); return the states.

    Args:
        params: a reservoir from :func:`make_reservoir`.
        u: inputs (T, D), float64.
        x0: the state before the first step (N,); zeros by default.
        y_teacher: the teacher's outputs (T, O), needed exactly when the reservoir has
            W_back: step t is fed y_{t-1} = y_teacher[t - 1], and step 1 is fed y0.
        y0: the output before the first step (O,), with feedback only; zeros by default.

    Returns:
        states (T, N): x_1, ..., x_T of (ESN.1).

    Raises:
        ValueError: for a bad reservoir, input or state, or a ``y_teacher`` missing with
            feedback or given without it.
    """
    N, D, O = _check_reservoir(params)
    _check_sequence(u, "u", "(T, D)", D)
    T = u.shape[0]
    if x0 is None:
        x0 = np.zeros(N)
    check_array(x0, "x0", shape=(N,), dims="(N,)", dtypes=("float64",))
    if O is None and (y_teacher is not None or y0 is not None):
        raise ValueError("y_teacher or y0 is given but the reservoir has no W_back (feedback=None)")
    if O is not None:
        if y_teacher is None:
            raise ValueError(f"the reservoir feeds back O = {O} outputs: y_teacher (T, O) needed")
        _check_sequence(y_teacher, "y_teacher", "(T, O)", O, T)
        if y0 is None:
            y0 = np.zeros(O)
        check_array(y0, "y0", shape=(O,), dims="(O,)", dtypes=("float64",))
    W, W_in = params["W"], params["W_in"]
    x = x0  # (N,)
    y_prev = y0  # (O,), the output before the first step
    states = np.empty((T, N))
    for t in range(T):
        z = W_in @ u[t] + W @ x  # (N,)
        if O is not None:
            z = z + params["W_back"] @ y_prev
            y_prev = y_teacher[t]  # the teacher's y_t, fed to step t + 1
        # (ESN.1)  x_t = f(W_in u_t + W x_{t-1} + W_back y_{t-1})
        x = np.tanh(z)  # (N,)
        states[t] = x
    return states


def features(states, inputs, previous_outputs=None):
    """The readout's features z_t = [u_t; x_t; (y_{t-1})], one row per step.

    Args:
        states: (T, N).  inputs: (T, D).
        previous_outputs: (T, O), row t holding y_{t-1}; None leaves y out.

    Returns:
        (T, D + N) or (T, D + N + O).
    """
    _check_sequence(states, "states", "(T, N)")
    T = states.shape[0]
    _check_sequence(inputs, "inputs", "(T, D)", None, T)
    parts = [inputs, states]
    if previous_outputs is not None:
        _check_sequence(previous_outputs, "previous_outputs", "(T, O)", None, T)
        parts.append(previous_outputs)
    return np.concatenate(parts, axis=1)


def shift_outputs(y):
    """The outputs one step late: row t holds y_{t-1}, row 0 holds y_0 = 0. (T, O) -> (T, O)."""
    _check_sequence(y, "y", "(T, O)")
    return np.concatenate([np.zeros((1, y.shape[1])), y[:-1]], axis=0)


def fit_readout(states, inputs, targets, *, ridge=1e-6, washout=100, output_feedback=False):
    """Fit W_out and b_out of (ESN.2) by ridge regression on the states after the washout.

    With Z the features of steps washout+1 .. T (rows z_t) and Y the targets, it minimises

        sum_t ||W_out z_t + b_out - y_t||^2 + ridge ||W_out||_F^2     (b_out not penalised)

    by solving the normal equations (A^T A + ridge P) [W_out b_out]^T = A^T Y with
    A = [Z 1] and P = diag(1, ..., 1, 0).

    Args:
        states: (T, N) from :func:`run_reservoir`.  inputs: (T, D).  targets: (T, O).
        ridge: the penalty (>= 0).  washout: steps dropped from the start (int >= 0, < T).
        output_feedback: include y_{t-1} (the targets shifted by one step) in the features.

    Returns:
        dict "W_out" (O, F), "b_out" (O,), F = D + N (+ O with output feedback), and
        "output_feedback" (bool).

    Raises:
        ValueError: for arrays of wrong or mismatched shapes, a bad ridge or washout.
    """
    _check_sequence(targets, "targets", "(T, O)")
    T = targets.shape[0]
    _check_sequence(states, "states", "(T, N)", None, T)
    ridge = _check_number("ridge", ridge, low=0)
    washout = check_int("washout", washout, minimum=0)
    if washout >= T:
        raise ValueError(f"washout must be < T = {T} (some steps must remain), got {washout}")
    if not isinstance(output_feedback, bool):
        raise ValueError(f"output_feedback must be True or False, got {describe(output_feedback)}")
    previous = shift_outputs(targets) if output_feedback else None
    Z = features(states, inputs, previous)[washout:]  # (T', F)
    Y = targets[washout:]  # (T', O)
    A = np.concatenate([Z, np.ones((Z.shape[0], 1))], axis=1)  # (T', F + 1)
    P = np.eye(A.shape[1])
    P[-1, -1] = 0.0  # the bias is not penalised
    w = np.linalg.solve(A.T @ A + ridge * P, A.T @ Y)  # (F + 1, O)
    return {"W_out": w[:-1].T.copy(), "b_out": w[-1].copy(), "output_feedback": output_feedback}


def _check_readout(readout):
    if not isinstance(readout, dict):
        raise ValueError(f"readout must be a dict from fit_readout, got {describe(readout)}")
    check_keys(readout, ["W_out", "b_out", "output_feedback"], "readout")
    W_out = readout["W_out"]
    check_array(W_out, "readout['W_out']", shape=(None, None), dims="(O, F)", dtypes=("float64",))
    O = W_out.shape[0]
    check_array(readout["b_out"], "readout['b_out']", shape=(O,), dims="(O,)", dtypes=("float64",))
    return W_out.shape


def predict(readout, states, inputs, previous_outputs=None):
    """Apply the readout (ESN.2) to given states: y_t = W_out [u_t; x_t; (y_{t-1})] + b_out.

    Args:
        readout: from :func:`fit_readout`.  states (T, N).  inputs (T, D).
        previous_outputs: (T, O) with row t = y_{t-1} (e.g. ``shift_outputs(y_teacher)``),
            required exactly when the readout was fitted with ``output_feedback=True``.

    Returns:
        (T, O).
    """
    O, F = _check_readout(readout)
    if readout["output_feedback"] != (previous_outputs is not None):
        raise ValueError(
            "previous_outputs must be given exactly when the readout has output_feedback; "
            f"output_feedback is {readout['output_feedback']}, previous_outputs is "
            f"{describe(previous_outputs)}"
        )
    Z = features(states, inputs, previous_outputs)  # (T, F)
    if Z.shape[1] != F:
        raise ValueError(f"the features have size {Z.shape[1]}, the readout expects F = {F}")
    # (ESN.2)  y_t = W_out z_t + b_out
    return Z @ readout["W_out"].T + readout["b_out"]  # (T, O)


def generate(params, readout, u, *, x0, y0):
    """Run the trained network freely: each output is fed back as the next y_{t-1}.

    Needs a reservoir with W_back, or a readout with output feedback (or both); the
    output O of the readout must match W_back's.

    Args:
        params: the reservoir.  readout: from :func:`fit_readout`.
        u: the inputs of the steps to generate (T, D).
        x0: the state before the first step (N,), e.g. the last training state.
        y0: the output before the first step (O,), e.g. the last teacher output.

    Returns:
        (outputs (T, O), states (T, N)).
    """
    N, D, O_back = _check_reservoir(params)
    O, F = _check_readout(readout)
    if O_back is None and not readout["output_feedback"]:
        raise ValueError("generate needs output feedback: W_back or an output_feedback readout")
    if O_back is not None and O_back != O:
        raise ValueError(f"W_back feeds back O = {O_back} outputs, the readout has O = {O}")
    expected_F = D + N + (O if readout["output_feedback"] else 0)
    if F != expected_F:
        raise ValueError(f"the readout has F = {F} features, the reservoir gives {expected_F}")
    _check_sequence(u, "u", "(T, D)", D)
    check_array(x0, "x0", shape=(N,), dims="(N,)", dtypes=("float64",))
    check_array(y0, "y0", shape=(O,), dims="(O,)", dtypes=("float64",))
    W, W_in, W_out, b_out = params["W"], params["W_in"], readout["W_out"], readout["b_out"]
    T = u.shape[0]
    x, y = x0, y0
    outputs, states = np.empty((T, O)), np.empty((T, N))
    for t in range(T):
        z = W_in @ u[t] + W @ x  # (N,)
        if O_back is not None:
            z = z + params["W_back"] @ y
        # (ESN.1)  x_t = f(W_in u_t + W x_{t-1} + W_back y_{t-1})
        x = np.tanh(z)  # (N,)
        parts = [u[t], x, y] if readout["output_feedback"] else [u[t], x]
        # (ESN.2)  y_t = W_out [u_t; x_t; (y_{t-1})] + b_out
        y = W_out @ np.concatenate(parts) + b_out  # (O,)
        outputs[t], states[t] = y, x
    return outputs, states


def nrmse(prediction, target):
    """Normalised root-mean-square error sqrt(mean((p - y)^2) / var(y)), over all entries.

    1 is the error of predicting the target's mean; 0 is a perfect prediction.
    """
    check_array(prediction, "prediction", dtypes=("float64",))
    check_array(target, "target", shape=prediction.shape, dtypes=("float64",))
    var = float(np.var(target))
    if prediction.size < 2 or var == 0.0:
        raise ValueError("target must have at least two entries and a nonzero variance")
    return float(np.sqrt(np.mean((prediction - target) ** 2) / var))


def ridge_loss(readout, states, inputs, targets, *, ridge=1e-6, washout=100):
    """The objective :func:`fit_readout` minimises, and its gradient by hand.

        L = sum_{t > washout} ||W_out z_t + b_out - y_t||^2 + ridge ||W_out||_F^2
        dL/dW_out = 2 E^T Z + 2 ridge W_out,    dL/db_out = 2 sum_t e_t

    with e_t = W_out z_t + b_out - y_t the rows of E (T', O) and z_t those of Z (T', F).
    The previous outputs in z_t (with ``output_feedback``) are the targets shifted by one.

    Returns:
        (L, grads) with grads "W_out" (O, F) and "b_out" (O,).
    """
    _check_readout(readout)
    _check_sequence(targets, "targets", "(T, O)")
    T = targets.shape[0]
    ridge = _check_number("ridge", ridge, low=0)
    washout = check_int("washout", washout, minimum=0)
    if washout >= T:
        raise ValueError(f"washout must be < T = {T} (some steps must remain), got {washout}")
    previous = shift_outputs(targets) if readout["output_feedback"] else None
    W_out, b_out = readout["W_out"], readout["b_out"]
    Z = features(states, inputs, previous)[washout:]  # (T', F)
    if Z.shape[1] != W_out.shape[1] or targets.shape[1] != W_out.shape[0]:
        raise ValueError(
            f"the readout (O, F) = {W_out.shape} does not fit features of size "
            f"{Z.shape[1]} and targets of size {targets.shape[1]}"
        )
    E = Z @ W_out.T + b_out - targets[washout:]  # (T', O)
    loss = float(np.sum(E**2) + ridge * np.sum(W_out**2))
    grads = {"W_out": 2.0 * E.T @ Z + 2.0 * ridge * W_out, "b_out": 2.0 * E.sum(axis=0)}
    return loss, grads
