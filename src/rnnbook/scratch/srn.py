"""The simple recurrent network (Elman), and Jordan's variant, in NumPy.

Elman network, textbook (6.3)-(6.5), ``feedback="hidden"`` (default):

    z_t = U h_{t-1} + W x_t + b,    h_t = f(z_t)

Jordan network, ``feedback="output"``: the previous *output* is fed back,

    z_t = U yhat_{t-1} + W x_t + b,    h_t = f(z_t),    yhat_t = g(V h_t + c)

so the state carried from step to step is yhat (B, O), ``U`` is (H, O), and the
output layer ``V`` (O, H), ``c`` (O,) belongs to the cell.

In code a batch is rows: ``z = x_t @ W.T + h @ U.T + b``. Shapes: x (T, B, D),
h (B, H). The state of a step is h (Elman) or yhat (Jordan); the outputs of
:func:`forward` are the states of all steps.
"""

import numpy as np

from rnnbook._checks import check_array, check_int, check_option, check_params, check_rng
from rnnbook.scratch import _sequence
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    activate,
    activate_backward,
)

FEEDBACKS = ("hidden", "output")


def _options(activation, feedback, output_activation) -> dict:
    check_option("activation", activation, ACTIVATIONS)
    check_option("feedback", feedback, FEEDBACKS)
    check_option("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    return {"activation": activation, "feedback": feedback, "output_activation": output_activation}


def param_shapes(D: int, H: int, O: int | None = None, feedback: str = "hidden") -> dict:
    """The keys of the parameter dict, each with its shape and its shape in symbols.

    Args:
        D, H: input and hidden sizes.  O: output size (Jordan network only).
        feedback: "hidden" (keys W, U, b) or "output" (also V, c; U is (H, O)).

    Returns:
        dict key -> (shape, text), e.g. ``{"W": ((H, D), "(H, D)"), ...}``.
    """
    if feedback == "hidden":
        return {"W": ((H, D), "(H, D)"), "U": ((H, H), "(H, H)"), "b": ((H,), "(H,)")}
    return {
        "W": ((H, D), "(H, D)"),
        "U": ((H, O), "(H, O)"),
        "b": ((H,), "(H,)"),
        "V": ((O, H), "(O, H)"),
        "c": ((O,), "(O,)"),
    }


def init_params(
    input_size: int,
    hidden_size: int,
    rng: np.random.Generator,
    *,
    feedback: str = "hidden",
    output_size: int | None = None,
    activation: str = "tanh",
    output_activation: str = "identity",
    init: str = "uniform",
    dtype=np.float64,
) -> dict:
    """Draw the parameters of an SRN.

    Every array is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except:
    ``init="orthogonal"`` draws U orthogonal (Saxe et al. 2014) and
    ``init="identity"`` sets U = I and b = 0 (Le et al. 2015, for
    ``activation="relu"``; with ``feedback="output"`` it needs O = H).

    Args:
        input_size: D.  hidden_size: H.  rng: the generator to draw from.
        feedback: ``"hidden"`` (Elman) or ``"output"`` (Jordan, needs ``output_size``).
        output_size: O, for the Jordan network's output layer V (O, H), c (O,).
        activation, output_activation: accepted so the same options can be
            passed here and to :func:`forward`; checked, not used.
        init: one of ``"uniform"``, ``"orthogonal"``, ``"identity"``.
        dtype: float64 (default) or float32.

    Returns:
        dict with "W" (H, D), "U" (H, H), "b" (H,); Jordan: "U" (H, O), "V" (O, H), "c" (O,).

    Raises:
        ValueError: for an unknown option, a size that is not an int >= 1, a missing or
            extra ``output_size``, ``init="identity"`` with O != H, or a bad rng or dtype.
    """
    _options(activation, feedback, output_activation)
    check_rng(rng)
    check_int("input_size", input_size)
    check_int("hidden_size", hidden_size)
    check_option("init", init, _init.RECURRENT_INITS)
    D, H = input_size, hidden_size
    if feedback == "output":
        check_int("output_size", output_size)
    elif output_size is not None:
        raise ValueError(f"output_size is only used with feedback='output', got {output_size!r}")
    O = H if feedback == "hidden" else output_size
    if init == "identity" and O != H:
        raise ValueError(f"init='identity' needs a square U (H, O) with O = H = {H}, got O = {O}")
    params = {"W": _init.uniform(rng, (H, D), H, dtype)}
    if init == "orthogonal":
        params["U"] = _init.orthogonal(rng, H, O, dtype=dtype)
    elif init == "identity":
        params["U"] = _init.identity(H, dtype=dtype)
    else:
        params["U"] = _init.uniform(rng, (H, O), H, dtype)
    b = _init.uniform(rng, (H,), H, dtype)
    params["b"] = np.zeros_like(b) if init == "identity" else b
    if feedback == "output":
        params["V"] = _init.uniform(rng, (O, H), H, dtype)
        params["c"] = _init.uniform(rng, (O,), H, dtype)
    return params


def _check(x, state, params, opts, sequence: bool):
    """Check x, the state and params against each other before any arithmetic.

    Returns the state, zeros (B, H) or (B, O) when ``state`` is None.
    """
    dtype = _sequence.check_x(x, sequence)
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, got {type(params).__name__}")
    # H from b, O from c (Jordan); then every shape is checked against D, H, O
    for key in ("b", "c") if opts["feedback"] == "output" else ("b",):
        if key not in params:
            raise ValueError(f"params must have the key {key!r}, got keys {sorted(params)}")
        check_array(params[key], f"params[{key!r}]", shape=(None,), dtype=dtype)
    D, B = x.shape[-1], x.shape[-2]
    H = params["b"].shape[0]
    O = params["c"].shape[0] if opts["feedback"] == "output" else H
    check_params(params, param_shapes(D, H, O, opts["feedback"]), dtype=dtype)
    if opts["feedback"] == "hidden":
        return _sequence.check_state(
            state, "h_prev" if not sequence else "h0", (B, H), "(B, H)", dtype
        )
    name = "yhat_prev" if not sequence else "yhat0"
    return _sequence.check_state(state, name, (B, O), "(B, O)", dtype)


# ---- the cell: stacked weights, recurrent core, and their backward ----


def _prepare(params, opts):
    # the SRN has a single "gate": W (1, H, D), b (1, 1, H), U (1, H, S)
    P = _sequence.stack([params["W"]], [params["b"]], [params["U"]])
    if opts["feedback"] == "output":
        P.update(V=params["V"], c=params["c"])
    return P


def _core_forward(a_t, s_prev, P, opts):
    """a_t (1, B, H) holds W x_t + b; s_prev is h_{t-1} (B, H) or yhat_{t-1} (B, O)."""
    # (6.3)  z_t = U h_{t-1} + W x_t + b   (Jordan: U yhat_{t-1})   (B, H)
    z = a_t[0] + s_prev @ P["UT"][0]
    # (6.4)  h_t = f(z_t)   (B, H)
    h = activate(opts["activation"], z)
    if opts["feedback"] == "hidden":
        return h, (s_prev, z, h)
    # Jordan output layer, cf. (6.6): o_t = V h_t + c (B, O);  yhat_t = g(o_t) (B, O)
    o = h @ P["V"].T + P["c"]
    y = activate(opts["output_activation"], o)
    return y, (s_prev, z, h, o, y)


def _core_backward(d_state, core, P, opts, da):
    """Fills da (1, B, H) with dL/dz_t; returns (da, ds_{t-1}, grads of V and c)."""
    rec = {}
    if opts["feedback"] == "hidden":
        s_prev, z, h = core
        dh = d_state
    else:
        s_prev, z, h, o, y = core
        # yhat_t = g(o_t),  o_t = V h_t + c
        do = activate_backward(opts["output_activation"], d_state, o, y)  # (B, O)
        rec["V"] = do.T @ h  # (O, H)
        rec["c"] = do.sum(axis=0)  # (O,)
        dh = do @ P["V"]  # (B, H)
    # h_t = f(z_t)  =>  dz_t = dh_t * f'(z_t)   (B, H)
    da[0] = activate_backward(opts["activation"], dh, z, h)
    # z_t = U s_{t-1} + a_t  =>  ds_{t-1} = dz_t U   (dU = dz_t^T s_{t-1} is summed by the loop)
    ds_prev = da[0] @ P["U"][0]
    return da, ds_prev, rec


def _unstack(dW, db, dU, rec, opts):
    return {"W": dW[0], "U": dU[0], "b": db[0], **rec}


CELL = _sequence.Cell("srn", _prepare, _core_forward, _core_backward, _unstack)


# ---- public API ----


def step_forward(
    x_t, h_prev, params, *, activation="tanh", feedback="hidden", output_activation="identity"
):
    """One step of the SRN.

    Args:
        x_t: input (B, D).
        h_prev: previous state h_{t-1} (B, H); Jordan: yhat_{t-1} (B, O); None for zeros.
        params: "W" (H, D), "U" (H, H), "b" (H,); Jordan: "U" (H, O), "V" (O, H), "c" (O,).
        activation: f, one of "tanh", "relu", "sigmoid", "identity".
        feedback: "hidden" (Elman) or "output" (Jordan).
        output_activation: g of the Jordan output layer (also "softmax").

    Returns:
        (h_t, cache): the new state h_t (B, H) (Jordan: yhat_t (B, O)) and what
        :func:`step_backward` needs.

    Raises:
        ValueError: before any arithmetic, for an unknown option, a missing or extra key,
            a wrong rank or shape, mismatched D, H or O, a non-float or mixed dtype, NaN or inf.
    """
    opts = _options(activation, feedback, output_activation)
    h_prev = _check(x_t, h_prev, params, opts, sequence=False)
    return _sequence.step_forward(CELL, x_t, h_prev, params, opts)


def step_backward(dh_t, cache):
    """Backward of :func:`step_forward`.

    Args:
        dh_t: dL/dh_t (B, H) (Jordan: dL/dyhat_t (B, O)).
        cache: from :func:`step_forward`.

    Returns:
        (dx_t (B, D), dh_prev (B, H) (Jordan: (B, O)), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`step_forward` or ``dh_t`` does not
            match the state's shape and dtype.
    """
    return _sequence.step_backward(CELL, dh_t, cache)


def forward(x, h0, params, *, activation="tanh", feedback="hidden", output_activation="identity"):
    """Run the SRN over a sequence.

    Args:
        x: inputs (T, B, D).
        h0: initial state (B, H) (Jordan: yhat_0 (B, O)), or None for zeros.
        params, activation, feedback, output_activation: as in :func:`step_forward`.

    Returns:
        (outputs, cache): outputs (T, B, H) are h_1..h_T (Jordan: yhat_1..yhat_T
        (T, B, O)); ``cache["final"]`` is the last state.

    Raises:
        ValueError: as :func:`step_forward`, for x, h0 and params.
    """
    opts = _options(activation, feedback, output_activation)
    h0 = _check(x, h0, params, opts, sequence=True)
    return _sequence.forward(CELL, x, h0, params, opts)


def backward(d_outputs, cache, d_final=None):
    """Backpropagation through time for :func:`forward`.

    Args:
        d_outputs: dL/d outputs (T, B, H) (Jordan: (T, B, O)).
        cache: from :func:`forward`.
        d_final: gradient arriving at the final state from outside, (B, H)
            (Jordan: (B, O)), or None.

    Returns:
        (dx (T, B, D), dh0 (B, H) (Jordan: dyhat_0 (B, O)), grads keyed like params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_outputs`` or
            ``d_final`` does not match the outputs' or the final state's shape and dtype.
    """
    return _sequence.backward(CELL, d_outputs, cache, d_final)
