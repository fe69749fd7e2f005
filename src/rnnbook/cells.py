"""The schema of the book's cells: their names, gates, options and parameter shapes.

This module is the one place where the cells' gate letters and option values are
spelled out. ``rnnbook.scratch``, ``rnnbook.nn``, ``rnnbook.convert``, ``bptt``,
``rtrl``, ``stack`` and the tests read them from here.

A cell is named by a string everywhere in the package: ``cell="srn"``,
``"lstm"`` or ``"gru"``. Its options are keyword arguments with the values
below; the first value of each is its default. ``mu`` is the one option whose
value is a number, not a name (:data:`NUMBER_OPTIONS`).

========  =====================  ==================================================
cell      option                 values (default first)
========  =====================  ==================================================
srn       ``activation``         "tanh", "relu", "sigmoid", "identity"   f in (6.4)
srn       ``feedback``           "hidden" (Elman), "output" (Jordan)
srn       ``output_activation``  "identity", "tanh", "relu", "sigmoid", "softmax"
srn       ``mu``                 a finite real number, 0.0 by default: the Jordan
                                 network's self-connection of its state units,
                                 s_t = mu s_{t-1} + yhat_t; ``feedback="output"`` only
lstm      ``variant``            "standard", "no_forget", "peephole", "coupled"
gru       ``reset``              "before" (Cho et al. 2014), "after" (PyTorch)
gru       ``update``             "keep" (Cho et al., PyTorch), "replace" (Chung et al.)
========  =====================  ==================================================

The parameters are a dict keyed by the book's symbols: ``W``, ``U``, ``b`` for the
SRN, and ``W_*``, ``U_*``, ``b_*`` for each gate ``*`` of the LSTM and the GRU,
with the extra keys of some options (the peepholes ``p_i``, ``p_f``, ``p_o``; the
GRU's ``d_h``; the Jordan network's output layer ``V``, ``c``).
"""

import numpy as np

from rnnbook._checks import check_option, describe

#: The cells, by the name every public function takes.
CELLS = ("srn", "lstm", "gru")

#: The activations usable inside a recurrence (elementwise): f in (6.4).
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
#: The activations of an output layer (softmax acts on the last axis).
OUTPUT_ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid", "softmax")

#: Each cell's options and their allowed values; the first value is the default.
OPTIONS = {
    "srn": {
        "activation": ACTIVATIONS,
        "feedback": ("hidden", "output"),
        "output_activation": OUTPUT_ACTIVATIONS,
    },
    "lstm": {"variant": ("standard", "no_forget", "peephole", "coupled")},
    "gru": {"reset": ("before", "after"), "update": ("keep", "replace")},
}

#: Each cell's options whose value is a finite real number, with its default. The
#: Jordan network's ``mu`` (Jordan 1986): its state units keep a decaying sum of the
#: outputs, s_t = mu s_{t-1} + yhat_t; mu = 0 feeds back yhat_t alone. Any other value
#: than 0 needs ``feedback="output"`` (the Elman network has no state units).
NUMBER_OPTIONS = {"srn": {"mu": 0.0}}

#: The gates of PyTorch's stacked matrices, in PyTorch's order (``weight_ih_l0`` is
#: (G*H, D)): i, f, g (the book's c~), o for the LSTM, r, z, n (the book's h~) for
#: the GRU; the SRN has one block and no gate letter.
#: The LSTM gates that look at the cell in the "peephole" variant (keys "p_i", "p_f", "p_o").
PEEPHOLES = ("i", "f", "o")

TORCH_GATE_ORDER = {"srn": (None,), "lstm": ("i", "f", "c", "o"), "gru": ("r", "z", "h")}

#: The SRN activations ``torch.nn.RNN`` has (its ``nonlinearity``).
TORCH_ACTIVATIONS = ("tanh", "relu")


def check_cell(cell) -> str:
    """Check a cell's name: one of :data:`CELLS`. Returns it."""
    check_option("cell", cell, CELLS)
    return cell


def _check_number(name: str, value) -> float:
    """Check a number-valued option: a finite real number (not a bool). Returns it as a float."""
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not real or not np.isfinite(value):
        got = repr(value) if isinstance(value, (int, float, str)) else describe(value)
        raise ValueError(f"{name} must be a finite real number, got {got}")
    return float(value)


def options(cell: str, given: dict | None = None, *, only: tuple | None = None) -> dict:
    """Check a cell's options and fill in the defaults.

    Args:
        cell: one of :data:`CELLS`.
        given: the options passed, e.g. ``{"variant": "peephole"}``.
        only: the options the caller supports (default: all of the cell's); any
            other raises, even one that belongs to the cell.

    Returns:
        a dict of every supported option of the cell, the given ones and the defaults.

    Raises:
        ValueError: for an unknown cell, an option that is not the cell's (or not in
            ``only``), naming the allowed ones, a value that is not allowed, a number
            option that is not a finite real number, or ``mu`` != 0 without
            ``feedback="output"``.
    """
    check_cell(cell)
    given = {} if given is None else given
    numbers = NUMBER_OPTIONS.get(cell, {})
    allowed = tuple(OPTIONS[cell]) + tuple(numbers) if only is None else only
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"the {cell} options are {allowed}, got unknown {unknown}")
    opts = {}
    for name in allowed:
        if name in numbers:
            opts[name] = _check_number(name, given.get(name, numbers[name]))
            continue
        values = OPTIONS[cell][name]
        value = given.get(name, values[0])
        check_option(name, value, values)
        opts[name] = value
    if opts.get("mu", 0.0) != 0.0 and opts.get("feedback", "hidden") != "output":
        raise ValueError(
            "mu is the self-connection of the Jordan network's state units and needs "
            f"feedback='output', got mu = {opts['mu']!r} with feedback={opts.get('feedback')!r}"
        )
    return opts


def gates(cell: str, **opts) -> tuple:
    """The gates with their own parameters, in the order the package stacks them.

    ``(None,)`` for the SRN (its keys have no suffix); ``("i", "f", "o", "c")`` for
    the LSTM (``("i", "o", "c")`` for the variants without a forget gate, where c
    stands for the candidate c~); ``("z", "r", "h")`` for the GRU (h for h~).
    """
    opts = options(cell, opts)
    if cell == "srn":
        return (None,)
    if cell == "lstm":
        no_f = opts["variant"] in ("no_forget", "coupled")
        return ("i", "o", "c") if no_f else ("i", "f", "o", "c")
    return ("z", "r", "h")


def key(symbol: str, gate) -> str:
    """The parameter key of a symbol and a gate: "W_i" for ("W", "i"), "W" for ("W", None)."""
    return symbol if gate is None else f"{symbol}_{gate}"


def param_shapes(cell: str, D: int, H: int, *, O=None, bias: bool = True, **opts) -> dict:
    """The keys of a cell's parameter dict, each with its shape and its shape in symbols.

    Args:
        cell: one of :data:`CELLS`.
        D, H: the input and hidden sizes.
        O: the output size, for the Jordan network (``feedback="output"``) only.
        bias: False leaves out the biases ``b*`` and ``d_h`` (``torch.nn``'s ``bias=False``).
        **opts: the cell's options.

    Returns:
        dict key -> (shape, text), e.g. ``{"W_i": ((H, D), "(H, D)"), ...}``, in the
        order the package stacks the gates.
    """
    opts = options(cell, opts)
    jordan = cell == "srn" and opts["feedback"] == "output"
    if jordan and O is None:
        raise ValueError("the Jordan network (feedback='output') needs its output size O")
    shapes = {}
    for g in gates(cell, **opts):
        shapes[key("W", g)] = ((H, D), "(H, D)")
        shapes[key("U", g)] = ((H, O), "(H, O)") if jordan else ((H, H), "(H, H)")
        if bias:
            shapes[key("b", g)] = ((H,), "(H,)")
    if jordan:
        shapes.update(V=((O, H), "(O, H)"), c=((O,), "(O,)"))
    if cell == "lstm" and opts["variant"] == "peephole":
        shapes.update({key("p", g): ((H,), "(H,)") for g in PEEPHOLES})
    if cell == "gru" and opts["reset"] == "after" and bias:
        shapes["d_h"] = ((H,), "(H,)")
    return shapes


def state_names(cell: str, *, sequence: bool, **opts) -> tuple:
    """The names of the arrays of a cell's state, as error messages call them.

    ``("h_prev",)`` for one step and ``("h0",)`` for a sequence; the LSTM's pair
    ``("h_prev", "c_prev")`` / ``("h0", "c0")``; the Jordan network's ``yhat``.
    """
    opts = options(cell, opts)
    suffix = "0" if sequence else "_prev"
    if cell == "lstm":
        return ("h" + suffix, "c" + suffix)
    if cell == "srn" and opts["feedback"] == "output":
        return ("yhat" + suffix,)
    return ("h" + suffix,)
