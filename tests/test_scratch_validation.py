"""Bad input to the NumPy cells raises ValueError, naming what was expected and what came,
before any arithmetic."""

import numpy as np
import pytest

from rnnbook import _checks
from rnnbook.scratch import gru, lstm, srn

T, B, D, H, O = 3, 2, 4, 5, 2

CELLS = {
    "srn": (srn, {}),
    "jordan": (srn, {"feedback": "output"}),
    "lstm": (lstm, {"variant": "peephole"}),
    "gru": (gru, {"reset": "after"}),
}


def make(cell):
    module, opts = CELLS[cell]
    rng = np.random.default_rng(0)
    extra = {"output_size": O} if cell == "jordan" else {}
    p = module.init_params(D, H, rng, **opts, **extra)
    x = rng.standard_normal((T, B, D))
    S = O if cell == "jordan" else H
    state = (np.zeros((B, H)), np.zeros((B, H))) if cell == "lstm" else np.zeros((B, S))
    return module, opts, x, state, p


def first_key(p):
    return next(iter(p))


def with_nan(a, value=np.nan):
    a = a.copy()
    a.flat[0] = value
    return a


# each case: (name, change(x, state, params, opts) -> (x, state, params, opts), message regex)
CASES = [
    (
        "x rank 2",
        lambda x, s, p, o: (x[0], s, p, o),
        r"x must have rank 3 .*\(T, B, D\).* got rank 2",
    ),
    ("x rank 4", lambda x, s, p, o: (x[None], s, p, o), r"x must have rank 3 .* got rank 4"),
    (
        "x not an array",
        lambda x, s, p, o: (x.tolist(), s, p, o),
        r"x must be a numpy.ndarray .* got list",
    ),
    (
        "x empty",
        lambda x, s, p, o: (x[:0], s, p, o),
        r"x must have every size .* >= 1, got shape \(0, 2, 4\)",
    ),
    (
        "D mismatch",
        lambda x, s, p, o: (np.zeros((T, B, D + 1)), s, p, o),
        r"x has D = 5 features .* where the parameters expect D = 4 "
        r"\(params\['W(_[a-z])?'\] is \(H, D\) = \(5, 4\)\)",
    ),
    (
        "H mismatch",
        lambda x, s, p, o: (
            x,
            s,
            {k: (v[:-1] if k.startswith("U") else v) for k, v in p.items()},
            o,
        ),
        r"params\['U(_[a-z])?'\] must have shape \(H, [HO]\) = \(5, [25]\), got shape \(4, [25]\)",
    ),
    (
        "state shape",
        lambda x, s, p, o: (x, tuple(a[:1] for a in s) if isinstance(s, tuple) else s[:1], p, o),
        r"(h0|c0|yhat0) must have shape \(B, [HO]\) = \(2, [25]\), got shape \(1, [25]\)",
    ),
    (
        "missing key",
        lambda x, s, p, o: (x, s, {k: v for k, v in p.items() if not k.startswith("W")}, o),
        r"params must have exactly the keys \[.*\]; missing \['W.*\], unexpected \[\]",
    ),
    (
        "extra key",
        lambda x, s, p, o: (x, s, {**p, "Q": np.zeros(H)}, o),
        r"params must have exactly the keys \[.*\]; missing \[\], unexpected \['Q'\]",
    ),
    (
        "NaN in x",
        lambda x, s, p, o: (with_nan(x), s, p, o),
        r"x must contain only finite numbers, got NaN or inf",
    ),
    (
        "inf in x",
        lambda x, s, p, o: (with_nan(x, np.inf), s, p, o),
        r"x must contain only finite numbers",
    ),
    (
        "NaN in params",
        lambda x, s, p, o: (
            x,
            s,
            {k: (with_nan(v) if k.startswith("U") else v) for k, v in p.items()},
            o,
        ),
        r"params\['U.*'\] must contain only finite numbers, got NaN or inf",
    ),
    (
        "inf in state",
        lambda x, s, p, o: (
            x,
            (with_nan(s[0], np.inf), s[1]) if isinstance(s, tuple) else with_nan(s, -np.inf),
            p,
            o,
        ),
        r"(h0|yhat0) must contain only finite numbers",
    ),
    (
        "integer x",
        lambda x, s, p, o: (x.astype(np.int64), s, p, o),
        r"x must have a dtype in \('float32', 'float64'\), got int64",
    ),
    (
        "float16 x",
        lambda x, s, p, o: (x.astype(np.float16), s, p, o),
        r"x must have a dtype in \('float32', 'float64'\), got float16",
    ),
    (
        "params float32, x float64",
        lambda x, s, p, o: (x, s, {k: v.astype(np.float32) for k, v in p.items()}, o),
        r"params\['.*'\] must have dtype float64 \(the dtype of the input\), got float32",
    ),
    (
        "state float32, x float64",
        lambda x, s, p, o: (
            x,
            tuple(a.astype(np.float32) for a in s)
            if isinstance(s, tuple)
            else s.astype(np.float32),
            p,
            o,
        ),
        r"(h0|yhat0) must have dtype float64 \(the dtype of the input\), got float32",
    ),
    (
        "params not a dict",
        lambda x, s, p, o: (x, s, list(p.values()), o),
        r"params must be a dict, got list",
    ),
]

OPTION_CASES = {
    "srn": [
        ({"activation": "softplus"}, r"activation must be one of \(.*'tanh'.*\), got 'softplus'"),
        ({"feedback": "input"}, r"feedback must be one of \('hidden', 'output'\), got 'input'"),
    ],
    "jordan": [
        ({"output_activation": "relu6"}, r"output_activation must be one of .* got 'relu6'")
    ],
    "lstm": [
        (
            {"variant": "gru"},
            r"variant must be one of \('standard', 'no_forget', 'peephole', 'coupled'\), got 'gru'",
        )
    ],
    "gru": [
        ({"reset": "never"}, r"reset must be one of \('before', 'after'\), got 'never'"),
        ({"update": True}, r"update must be one of \('keep', 'replace'\), got True"),
    ],
}


@pytest.fixture
def no_arithmetic(monkeypatch):
    """Fail the test if a check lets the computation start."""

    # every cell checks all of its arguments in check_cell_inputs, the first thing it
    # calls; the arithmetic follows when that call returns
    real = _checks.check_cell_inputs

    def checked_or_forbidden(*args, **kwargs):
        real(*args, **kwargs)
        raise AssertionError("the computation started before the input was rejected")

    for module in (srn, lstm, gru):
        monkeypatch.setattr(module, "check_cell_inputs", checked_or_forbidden)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("name, change, match", CASES, ids=[c[0] for c in CASES])
def test_forward_rejects(cell, name, change, match, no_arithmetic):
    module, opts, x, state, p = make(cell)
    x, state, p, opts = change(x, state, p, opts)
    with pytest.raises(ValueError, match=match):
        module.forward(x, state, p, **opts)


# a sequence of rank 4 or with no steps has no single-step counterpart
STEP_CASES = [c for c in CASES if c[0] not in ("x rank 4", "x empty")]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("name, change, match", STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_step_forward_rejects(cell, name, change, match, no_arithmetic):
    module, opts, x, state, p = make(cell)
    x, state, p, opts = change(x, state, p, opts)
    x_t = x[0]  # one step of the changed input (rank 1 in the "x rank 2" case)
    # the same messages, with the names of a step's arguments
    if match.startswith("x "):
        match = "x_t " + match[2:].replace("rank 3", "rank 2").replace("got rank 2", "got rank 1")
    names = {"h0": "h_prev", "c0": "c_prev", "yhat0": "yhat_prev", r"\(T, B, D\)": r"\(B, D\)"}
    for a, b in names.items():
        match = match.replace(a, b)
    with pytest.raises(ValueError, match=match):
        module.step_forward(x_t, state, p, **opts)


@pytest.mark.parametrize(
    "cell, option, match", [(c, o, m) for c, cases in OPTION_CASES.items() for o, m in cases]
)
def test_unknown_option_values(cell, option, match, no_arithmetic):
    module, opts, x, state, p = make(cell)
    with pytest.raises(ValueError, match=match):
        module.forward(x, state, p, **{**opts, **option})
    with pytest.raises(ValueError, match=match):
        module.step_forward(x[0], state, p, **{**opts, **option})


@pytest.mark.parametrize("cell", CELLS)
def test_float32_everywhere_is_accepted(cell):
    module, opts, x, state, p = make(cell)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    s32 = (
        tuple(a.astype(np.float32) for a in state)
        if isinstance(state, tuple)
        else state.astype(np.float32)
    )
    out, _ = module.forward(x.astype(np.float32), s32, p32, **opts)
    assert out.dtype == np.float32


@pytest.mark.parametrize("cell", CELLS)
def test_backward_rejects_bad_gradients(cell):
    module, opts, x, state, p = make(cell)
    out, cache = module.forward(x, state, p, **opts)
    S = out.shape[2]
    expected = rf"\(T, B, [HO]\) = \(3, 2, {S}\)"
    with pytest.raises(
        ValueError,
        match=rf"d_outputs must have shape {expected}, got shape \(3, 2, {S + 1}\)",
    ):
        module.backward(np.zeros((T, B, S + 1)), cache)
    with pytest.raises(ValueError, match=r"d_outputs must contain only finite numbers"):
        module.backward(with_nan(np.zeros_like(out)), cache)
    with pytest.raises(ValueError, match=r"d_outputs must have dtype float64 .* got float32"):
        module.backward(np.zeros_like(out, dtype=np.float32), cache)
    bad_final = (np.zeros((B, H)), np.zeros((B, H + 1))) if cell == "lstm" else np.zeros((B, S + 1))
    with pytest.raises(
        ValueError, match=r"d_final(\[1\])? must have shape \(2, \d\), got shape \(2, \d\)"
    ):
        module.backward(np.zeros_like(out), cache, bad_final)
    if cell == "lstm":
        with pytest.raises(ValueError, match=r"d_final must be a pair \(dh, dc\)"):
            module.backward(np.zeros_like(out), cache, np.zeros((B, H)))
    with pytest.raises(
        ValueError,
        match=rf"cache must be the cache returned by {module.__name__.split('.')[-1]}\.forward",
    ):
        module.backward(np.zeros_like(out), {"x": x})
    _, step_cache = module.step_forward(x[0], state, p, **opts)
    with pytest.raises(ValueError, match=r"cache must be the cache returned by .*step_forward"):
        module.step_backward(np.zeros_like(out[0]), cache)
    bad_step = (np.zeros((B, H + 1)), np.zeros((B, H))) if cell == "lstm" else np.zeros((B, S + 1))
    with pytest.raises(ValueError, match=r"(d_state|dh_t)(\[0\])? must have shape"):
        module.step_backward(bad_step, step_cache)


# ---- rnnbook._checks works on PyTorch tensors as on NumPy arrays ----


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_check_array_on_numpy_and_torch(lib):
    import torch

    from rnnbook._checks import check_array, check_keys, check_params, dtype_name

    def make_array(a, dtype="float64"):
        return (
            np.asarray(a, dtype=dtype)
            if lib == "numpy"
            else torch.tensor(a, dtype=getattr(torch, dtype))
        )

    a = make_array(np.zeros((2, 3)))
    assert dtype_name(a) == "float64"
    check_array(a, "a", shape=(2, None), dims="(B, H)", dtype="float64")
    with pytest.raises(
        ValueError, match=r"a must have shape \(B, H\) = \(2, 4\), got shape \(2, 3\)"
    ):
        check_array(a, "a", shape=(2, 4), dims="(B, H)")
    with pytest.raises(
        ValueError, match=r"a must have rank 3 with shape \(\*, \*, \*\), got rank 2"
    ):
        check_array(a, "a", shape=(None, None, None))
    with pytest.raises(
        ValueError, match=r"a must have dtype float32 \(the dtype of the input\), got float64"
    ):
        check_array(a, "a", dtype="float32")
    with pytest.raises(
        ValueError, match=r"a must have a dtype in \('float32', 'float64'\), got int64"
    ):
        check_array(make_array([1, 2], "int64"), "a")
    with pytest.raises(ValueError, match="a must contain only finite numbers, got NaN or inf"):
        check_array(make_array([1.0, np.inf]), "a")
    check_array(make_array([1.0, np.nan]), "a", finite=False)
    with pytest.raises(ValueError, match=r"a must be an array with .shape and .dtype, got list"):
        check_array([1.0], "a")
    check_params({"W": a}, {"W": ((2, 3), "(H, D)")}, dtype="float64")
    with pytest.raises(ValueError, match=r"missing \['U'\], unexpected \['V'\]"):
        check_keys({"W": a, "V": a}, ["W", "U"])


def test_check_option_and_int():
    from rnnbook._checks import check_int, check_option

    check_option("mode", "a", ("a", "b"))
    with pytest.raises(ValueError, match=r"mode must be one of \('a', 'b'\), got 'c'"):
        check_option("mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match=r"mode must be one of \(0, 1\), got True"):
        check_option("mode", True, (0, 1))
    check_int("k", 3)
    with pytest.raises(ValueError, match=r"k must be an int >= 1, got 0"):
        check_int("k", 0)
    with pytest.raises(ValueError, match=r"k must be an int >= 1, got float 2.0"):
        check_int("k", 2.0)


def test_lstm_state_must_be_a_pair(no_arithmetic):
    module, opts, x, state, p = make("lstm")
    with pytest.raises(ValueError, match=r"the LSTM state must be a pair \(h0, c0\), got ndarray"):
        module.forward(x, state[0], p, **opts)
    with pytest.raises(ValueError, match=r"the LSTM state must be a pair \(h_prev, c_prev\)"):
        module.step_forward(x[0], (state[0],), p, **opts)


# ---- the blame goes to the argument that is wrong ----


def test_a_parameter_that_is_the_odd_one_out_is_the_one_blamed():
    _, opts, x, state, p = make("lstm")
    wide = {**p, "W_i": np.zeros((H, D + 1))}  # only W_i has the wrong D
    with pytest.raises(ValueError, match=r"params\['W_i'\] must have shape \(H, D\) = \(5, 4\)"):
        lstm.forward(x, state, wide, **opts)
    tall = {**p, "W_f": np.zeros((H + 1, D))}  # only W_f has the wrong H
    with pytest.raises(ValueError, match=r"params\['W_f'\] must have shape \(H, D\) = \(5, 4\)"):
        lstm.forward(x, state, tall, **opts)
    short = {**p, "b_o": np.zeros(H - 1)}
    with pytest.raises(ValueError, match=r"params\['b_o'\] must have shape \(H,\) = \(5,\)"):
        lstm.forward(x, state, short, **opts)


def test_jordan_output_size_is_read_from_most_parameters():
    _, opts, x, state, p = make("jordan")
    with pytest.raises(ValueError, match=r"params\['c'\] must have shape \(O,\) = \(2,\)"):
        srn.forward(x, state, {**p, "c": np.zeros(O + 1)}, **opts)


def test_a_batch_first_input_blames_the_input_through_the_batch_size():
    _, opts, x, state, p = make("lstm")
    batch_first = np.ascontiguousarray(x.transpose(1, 0, 2))  # (B, T, D) = (2, 3, 4)
    with pytest.raises(ValueError, match=r"h0 must have shape .* \(B = 3 read from x \(T, B, D\)"):
        lstm.forward(batch_first, state, p, **opts)


def test_an_lstm_state_given_as_a_list_is_accepted():
    _, opts, x, state, p = make("lstm")
    out, _ = lstm.forward(x, list(state), p, **opts)
    np.testing.assert_array_equal(out, lstm.forward(x, state, p, **opts)[0])


def test_parameters_must_be_numpy_arrays_with_sizes_of_at_least_one():
    torch = pytest.importorskip("torch")
    _, opts, x, state, p = make("gru")
    with pytest.raises(ValueError, match=r"params\['W_z'\] must be a numpy.ndarray"):
        gru.forward(x, state, {**p, "W_z": torch.tensor(p["W_z"])}, **opts)
    empty = gru.init_params(D, 1, np.random.default_rng(0), **opts)
    empty = {k: v[:0] for k, v in empty.items()}
    with pytest.raises(ValueError, match=r"sizes H, D \(and O\) >= 1, got H = 0"):
        gru.forward(x, None, empty, **opts)


@pytest.mark.parametrize("cell", CELLS)
def test_options_of_another_cell_and_flags_are_value_errors(cell):
    module, opts, x, state, p = make(cell)
    other = {"srn": {"variant": "peephole"}, "jordan": {"reset": "after"}}.get(
        cell, {"activation": "tanh"}
    )
    name = "srn" if cell == "jordan" else cell
    for call in (
        lambda: module.forward(x, state, p, **opts, **other),
        lambda: module.step_forward(x[0], state, p, **opts, **other),
    ):
        with pytest.raises(ValueError, match=rf"the {name} options are .* got unknown"):
            call()
    out, cache = module.forward(x, state, p, **opts)
    with pytest.raises(ValueError, match=r"takes no options: it reads them from the cache"):
        module.backward(np.zeros_like(out), cache, **opts or {"variant": "standard"})
    _, step = module.step_forward(x[0], state, p, **opts)
    d_state = tuple(np.zeros_like(s) for s in state) if cell == "lstm" else np.zeros_like(out[0])
    with pytest.raises(ValueError, match=r"takes no options"):
        module.step_backward(d_state, step, **opts or {"variant": "standard"})
    with pytest.raises(ValueError, match=r"check must be True or False, got str 'no'"):
        module.step_forward(x[0], state, p, check="no", **opts)
    with pytest.raises(ValueError, match=r"check must be True or False"):
        module.step_backward(d_state, step, check=0)


def test_the_input_parts_handed_to_an_lstm_step_are_checked():
    _, opts, x, state, p = make("lstm")
    xw = {g: np.zeros((B, H)) for g in ("i", "f", "o", "c")}
    lstm.step_forward(x[0], state, p, xw_t=xw, **opts)  # accepted
    with pytest.raises(ValueError, match=r"xw_t must be None or a dict with the keys"):
        lstm.step_forward(x[0], state, p, xw_t={"i": xw["i"]}, **opts)
    with pytest.raises(ValueError, match=r"xw_t\['o'\] must have shape \(B, H\) = \(2, 5\)"):
        lstm.step_forward(x[0], state, p, xw_t={**xw, "o": np.zeros((B, H + 1))}, **opts)
    with pytest.raises(ValueError, match=r"weights must be True or False"):
        _, step = lstm.step_forward(x[0], state, p, **opts)
        lstm.step_backward(state, step, weights="no")
