"""Parameters between the book's dictionaries, PyTorch's recurrent modules and ``rnnbook.nn``.

The book keeps one dictionary per layer and direction, keyed by its symbols
(``W``, ``U``, ``b`` for the SRN; ``W_i``, ``U_i``, ``b_i``, ... for the LSTM;
``W_z``, ``U_z``, ``b_z``, ... for the GRU), with NumPy arrays as values: the
layout of ``rnnbook.scratch``. A network of several layers or two directions is

    params[layer][direction]    a list over layers of lists over directions of dicts,

direction 0 reading the sequence forwards and direction 1 backwards; layer
l > 0 has ``W_*`` of shape (H, num_directions * H). One layer in one direction
is the plain dict.

PyTorch differs in three ways, each reconciled here:

1. gates are stacked in one matrix, in the order i, f, g (= c~), o for the LSTM
   and r, z, n (= h~) for the GRU: ``weight_ih_l0`` is (4H, D) or (3H, D);
2. each layer has two bias vectors, ``bias_ih`` and ``bias_hh``; the book has one
   per gate, their sum. ``to_torch`` puts the book's bias in ``bias_ih`` and zeros
   in ``bias_hh``; ``from_torch`` adds the two. The GRU's candidate is the
   exception: PyTorch multiplies ``bias_hh`` of n by the reset gate, which is the
   book's ``d_h`` of ``reset="after"``, so it is kept apart;
3. PyTorch's GRU is the book's ``reset="after"``, ``update="keep"``.

Options PyTorch cannot represent (LSTM ``variant`` other than "standard", GRU
``reset="before"`` or ``update="replace"``, SRN ``activation`` other than tanh
and relu, the Jordan network ``feedback="output"``) raise a ``ValueError``.
"""

from collections.abc import Mapping

import numpy as np
import torch

from rnnbook._checks import check_array, check_option, check_params, describe, dtype_name
from rnnbook.nn._checks import check_float_dtype

KINDS = ("srn", "lstm", "gru")

#: the book's gates in PyTorch's stacking order
TORCH_GATES = {"srn": (None,), "lstm": ("i", "f", "c", "o"), "gru": ("r", "z", "h")}

TORCH_CLASSES = {"srn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TORCH_CELLS = {"srn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}


def _key(symbol, gate):
    return symbol if gate is None else f"{symbol}_{gate}"


def _expected_keys(kind, opts):
    """The book's keys for one layer and direction of ``kind`` with options ``opts``."""
    if kind == "srn":
        return ["W", "U", "b"]
    if kind == "lstm":
        gates = ("i", "o", "c") if opts["variant"] in ("no_forget", "coupled") else "ifoc"
        keys = [f"{s}_{g}" for g in gates for s in ("W", "U", "b")]
        return keys + (["p_i", "p_f", "p_o"] if opts["variant"] == "peephole" else [])
    keys = [f"{s}_{g}" for g in "zrh" for s in ("W", "U", "b")]
    return keys + (["d_h"] if opts["reset"] == "after" else [])


def _options(kind, activation, variant, reset, update, feedback):
    """Check the options of ``kind`` and return those that apply to it."""
    check_option("kind", kind, KINDS)
    if kind == "srn":
        check_option("activation", activation, ("tanh", "relu", "sigmoid", "identity"))
        check_option("feedback", feedback, ("hidden", "output"))
        return {"activation": activation, "feedback": feedback}
    if kind == "lstm":
        check_option("variant", variant, ("standard", "no_forget", "peephole", "coupled"))
        return {"variant": variant}
    check_option("reset", reset, ("before", "after"))
    check_option("update", update, ("keep", "replace"))
    return {"reset": reset, "update": update}


def _require_torch_options(kind, opts):
    """Raise when PyTorch's modules cannot represent the options ``opts`` of ``kind``."""
    if kind == "srn" and opts["feedback"] != "hidden":
        raise ValueError(
            "torch.nn.RNN feeds back the hidden state (feedback='hidden'); "
            f"a Jordan network (feedback={opts['feedback']!r}) has no PyTorch counterpart"
        )
    if kind == "srn" and opts["activation"] not in ("tanh", "relu"):
        raise ValueError(
            "torch.nn.RNN's nonlinearity is 'tanh' or 'relu', "
            f"got activation={opts['activation']!r}"
        )
    if kind == "lstm" and opts["variant"] != "standard":
        raise ValueError(
            f"torch.nn.LSTM is the variant 'standard'; got variant={opts['variant']!r}, "
            "which it cannot represent"
        )
    if kind == "gru" and opts["reset"] != "after":
        raise ValueError(
            "torch.nn.GRU applies the reset gate after U_h (reset='after', with 'd_h'); "
            f"got reset={opts['reset']!r}, which it cannot represent"
        )
    if kind == "gru" and opts["update"] != "keep":
        raise ValueError(
            "torch.nn.GRU keeps h_{t-1} with weight z_t (update='keep'); "
            f"got update={opts['update']!r}, which it cannot represent"
        )


def _layers(params):
    """The structure ``params[layer][direction]`` as lists, and whether it was one plain dict."""
    if isinstance(params, Mapping):
        return [[params]], True
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise ValueError(
            "params must be a dict (one layer, one direction) or a non-empty list over layers "
            f"of lists over directions of dicts, got {describe(params)}"
        )
    layers = []
    for l, directions in enumerate(params):
        if not isinstance(directions, (list, tuple)) or len(directions) not in (1, 2):
            raise ValueError(
                f"params[{l}] must be a list of 1 or 2 dicts (one per direction), "
                f"got {describe(directions)}"
            )
        if len(directions) != len(params[0]):
            raise ValueError(
                f"every layer must have {len(params[0])} direction(s) like layer 0, "
                f"got {len(directions)} in params[{l}]"
            )
        layers.append(list(directions))
    return layers, False


def _check_network(params, kind, opts):
    """Check a network's dictionaries; return (layers, plain, D, H, dtype name).

    Every dict must have exactly the keys of ``kind`` with ``opts``, with shapes
    W_* (H, D_l), U_* (H, H), b_*, d_h, p_* (H,), where D_l = D for layer 0 and
    num_directions * H above, all in one floating dtype, all finite.
    """
    layers, plain = _layers(params)
    keys = _expected_keys(kind, opts)
    first = layers[0][0]
    where = "params" if plain else "params[0][0]"
    if not isinstance(first, Mapping):
        raise ValueError(f"{where} must be a dict, got {describe(first)}")
    W0, U0 = keys[0], keys[1]  # the first gate's W and U
    for k in (W0, U0):
        if k not in first:
            raise ValueError(f"{where} must have the keys {keys}; missing {k!r}")
        check_array(first[k], f"{where}[{k!r}]", shape=(None, None), dims="(H, *)")
    H, D = first[U0].shape[0], first[W0].shape[1]
    dtype = dtype_name(first[W0])
    dirs = len(layers[0])
    for l, directions in enumerate(layers):
        D_l = D if l == 0 else dirs * H
        expected = {}
        for k in keys:
            if k.startswith("W"):
                expected[k] = ((H, D_l), "(H, D)" if l == 0 else "(H, num_directions * H)")
            elif k.startswith("U"):
                expected[k] = ((H, H), "(H, H)")
            else:
                expected[k] = ((H,), "(H,)")
        for d, p in enumerate(directions):
            name = "params" if plain else f"params[{l}][{d}]"
            check_params(p, expected, dtype=dtype, name=name)
    return layers, plain, D, H, dtype


def _tensor(a):
    """A fresh torch tensor holding a NumPy array's (or a tensor's) values."""
    if isinstance(a, torch.Tensor):
        return a.detach().clone()
    return torch.from_numpy(np.array(a, copy=True))


def _numpy(t):
    return t.detach().cpu().numpy().copy()


# -- the book <-> PyTorch ----------------------------------------------------------------


def _book_to_torch(p, kind):
    """One layer and direction: the book's dict -> PyTorch's four tensors, in PyTorch order."""
    gates = TORCH_GATES[kind]
    weight_ih = torch.cat([_tensor(p[_key("W", g)]) for g in gates])  # (G*H, D)
    weight_hh = torch.cat([_tensor(p[_key("U", g)]) for g in gates])  # (G*H, H)
    bias_ih = torch.cat([_tensor(p[_key("b", g)]) for g in gates])  # (G*H,)
    bias_hh = torch.zeros_like(bias_ih)  # (G*H,)
    if kind == "gru":
        H = weight_hh.shape[1]
        bias_hh[2 * H :] = _tensor(p["d_h"])  # n's recurrent bias sits inside the reset product
    return {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}


def _torch_to_book(t, kind):
    """One layer and direction: PyTorch's tensors (bias_* None when bias=False) -> the book's."""
    gates = TORCH_GATES[kind]
    G = len(gates)
    W = t["weight_ih"].chunk(G)  # G of (H, D)
    U = t["weight_hh"].chunk(G)  # G of (H, H)
    zero = torch.zeros_like(t["weight_hh"][:, 0])  # (G*H,)
    b_ih = (zero if t["bias_ih"] is None else t["bias_ih"]).chunk(G)
    b_hh = (zero if t["bias_hh"] is None else t["bias_hh"]).chunk(G)
    p = {}
    for k, g in enumerate(gates):
        p[_key("W", g)] = _numpy(W[k])
        p[_key("U", g)] = _numpy(U[k])
        # the book's one bias is the sum of PyTorch's two, except inside GRU's reset product
        b = b_ih[k] if g == "h" else b_ih[k] + b_hh[k]
        p[_key("b", g)] = _numpy(b)
    if kind == "gru":
        p["d_h"] = _numpy(b_hh[2])
    return {k: p[k] for k in _expected_keys(kind, {"variant": "standard", "reset": "after"})}


def to_torch(
    params,
    kind,
    *,
    cell=False,
    batch_first=False,
    activation="tanh",
    variant="standard",
    reset="before",
    update="keep",
    feedback="hidden",
    device=None,
    dtype=None,
):
    """Build a PyTorch module that computes what the book's parameters compute.

    Args:
        params: one dict (one layer, one direction) or ``params[layer][direction]`` dicts,
            with the book's keys for ``kind`` (see the module docstring).
        kind: "srn", "lstm" or "gru".
        cell: build ``torch.nn.RNNCell``/``LSTMCell``/``GRUCell`` (needs one plain dict).
        batch_first: passed to ``torch.nn.RNN``/``LSTM``/``GRU``.
        activation, feedback: the SRN's options; PyTorch has "tanh" and "relu", and "hidden".
        variant: the LSTM's option; PyTorch has only "standard".
        reset, update: the GRU's options; PyTorch has only reset="after", update="keep"
            (the book's defaults are "before" and "keep", so a GRU needs ``reset="after"``).
        device: where to put the module.
        dtype: its dtype; by default the dtype of the arrays.
    Returns:
        ``torch.nn.RNN``, ``LSTM`` or ``GRU`` (or the ``*Cell``) with bias=True.

    Raises:
        ValueError: for an unknown kind or option, an option PyTorch cannot represent,
            a missing or extra key, a wrong shape, mixed or non-float dtypes, NaN or inf,
            or ``cell=True`` with more than one layer or direction.
    """
    opts = _options(kind, activation, variant, reset, update, feedback)
    _require_torch_options(kind, opts)
    check_float_dtype(dtype)
    layers, plain, D, H, dtype_str = _check_network(params, kind, opts)
    if not isinstance(cell, bool):
        raise ValueError(f"cell must be True or False, got {cell!r}")
    extra = {"nonlinearity": opts["activation"]} if kind == "srn" else {}
    if cell:
        if not plain:
            raise ValueError(
                f"a cell has one layer and one direction: params must be one dict, "
                f"got {len(layers)} layer(s) with {len(layers[0])} direction(s)"
            )
        module = TORCH_CELLS[kind](D, H, bias=True, **extra)
    else:
        module = TORCH_CLASSES[kind](
            D,
            H,
            num_layers=len(layers),
            bias=True,
            batch_first=batch_first,
            bidirectional=len(layers[0]) == 2,
            **extra,
        )
    module = module.to(dtype=getattr(torch, dtype_str))
    with torch.no_grad():
        for l, directions in enumerate(layers):
            for d, p in enumerate(directions):
                suffix = "" if cell else f"_l{l}" + ("_reverse" if d == 1 else "")
                for name, value in _book_to_torch(p, kind).items():
                    getattr(module, name + suffix).copy_(value)
    if device is not None or dtype is not None:
        module = module.to(device=device, dtype=dtype)
    return module


def _torch_kind(module):
    for kind in KINDS:
        if isinstance(module, (TORCH_CLASSES[kind], TORCH_CELLS[kind])):
            return kind
    return None


def from_torch(module):
    """The book's parameters of a PyTorch or ``rnnbook.nn`` recurrent module.

    Args:
        module: ``torch.nn.RNN``, ``LSTM``, ``GRU``, ``RNNCell``, ``LSTMCell``, ``GRUCell``,
            or ``rnnbook.nn.SRN``, ``LSTM``, ``GRU``.
    Returns:
        One dict of NumPy arrays (in the module's dtype) for one layer in one direction
        (and for a cell), else ``params[layer][direction]``. A module without bias gives
        zero biases. For PyTorch's GRU the dicts are the book's ``reset="after"`` GRU
        (with ``d_h``); for an ``rnnbook.nn`` module they belong to the module's own options.

    Raises:
        ValueError: for any other module, or an LSTM with projections (``proj_size > 0``).
    """
    import rnnbook.nn

    if isinstance(module, rnnbook.nn.SRN | rnnbook.nn.LSTM | rnnbook.nn.GRU):
        return _from_nn(module)
    kind = _torch_kind(module)
    if kind is None:
        raise ValueError(
            "module must be torch.nn.RNN/LSTM/GRU, a *Cell, or rnnbook.nn.SRN/LSTM/GRU, "
            f"got {type(module).__name__}"
        )
    if isinstance(module, TORCH_CELLS[kind]):
        t = {n: getattr(module, n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        return _torch_to_book(t, kind)
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError(f"an LSTM with projections has no book counterpart, got {module}")
    dirs = 2 if module.bidirectional else 1
    layers = []
    for l in range(module.num_layers):
        directions = []
        for d in range(dirs):
            suffix = f"_l{l}" + ("_reverse" if d == 1 else "")
            names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            t = {n: getattr(module, n + suffix, None) for n in names}
            directions.append(_torch_to_book(t, kind))
        layers.append(directions)
    return layers[0][0] if module.num_layers == 1 and dirs == 1 else layers


# -- the book <-> rnnbook.nn -------------------------------------------------------------


def _nn_kind(module):
    import rnnbook.nn

    return {rnnbook.nn.SRN: "srn", rnnbook.nn.LSTM: "lstm", rnnbook.nn.GRU: "gru"}[type(module)]


def _nn_options(module):
    kind = _nn_kind(module)
    if kind == "srn":
        return kind, {"activation": module.activation, "feedback": "hidden"}
    if kind == "lstm":
        return kind, {"variant": module.variant}
    return kind, {"reset": module.reset, "update": module.update}


def _from_nn(module):
    kind, opts = _nn_options(module)
    keys = _expected_keys(kind, opts)
    layers = []
    for directions in module.params:
        dicts = []
        for p in directions:
            zero = _numpy(torch.zeros_like(p[keys[1]][:, 0]))  # (H,), keys[1] is a U
            dicts.append({k: _numpy(p[k]) if k in p else zero.copy() for k in keys})
        layers.append(dicts)
    return layers[0][0] if len(layers) == 1 and len(layers[0]) == 1 else layers


def to_nn(
    params,
    kind,
    *,
    batch_first=False,
    activation="tanh",
    variant="standard",
    reset="before",
    update="keep",
    feedback="hidden",
    device=None,
    dtype=None,
):
    """Build an ``rnnbook.nn`` module holding the book's parameters.

    Args:
        params, kind, batch_first, device, dtype: as for ``to_torch``.
        activation, variant, reset, update: the cell's options, all of them supported.
        feedback: must be "hidden": ``rnnbook.nn.SRN`` is the Elman network.
    Returns:
        ``rnnbook.nn.SRN``, ``LSTM`` or ``GRU`` with bias=True.

    Raises:
        ValueError: as :func:`to_torch`, and for ``feedback="output"``.
    """
    import rnnbook.nn

    opts = _options(kind, activation, variant, reset, update, feedback)
    check_float_dtype(dtype)
    if kind == "srn" and feedback != "hidden":
        raise ValueError(
            f"rnnbook.nn.SRN is the Elman network (feedback='hidden'), got feedback={feedback!r}"
        )
    layers, _, D, H, dtype_str = _check_network(params, kind, opts)
    options = {k: v for k, v in opts.items() if k != "feedback"}
    cls = {"srn": rnnbook.nn.SRN, "lstm": rnnbook.nn.LSTM, "gru": rnnbook.nn.GRU}[kind]
    module = cls(
        D,
        H,
        len(layers),
        batch_first=batch_first,
        bidirectional=len(layers[0]) == 2,
        dtype=getattr(torch, dtype_str),
        **options,
    )
    with torch.no_grad():
        for l, directions in enumerate(layers):
            for d, p in enumerate(directions):
                for k, target in module.params[l][d].items():
                    target.copy_(_tensor(p[k]))
    if device is not None or dtype is not None:
        module = module.to(device=device, dtype=dtype)
    return module
