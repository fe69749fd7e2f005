"""Parameters between the book's dictionaries, PyTorch's recurrent modules and ``rnnbook.nn``.

The book keeps one dictionary per layer and direction, keyed by its symbols
(``W``, ``U``, ``b`` for the SRN; ``W_i``, ``U_i``, ``b_i``, ... for the LSTM;
``W_z``, ``U_z``, ``b_z``, ... for the GRU), with NumPy arrays as values: the
layout of ``rnnbook.scratch``, with the keys and shapes of
``rnnbook.cells.param_shapes``. A network of several layers or two directions is

    params[layer][direction]    a list over layers of lists over directions of dicts,

direction 0 reading the sequence forwards and direction 1 backwards; layer
l > 0 has ``W_*`` of shape (H, num_directions * H). One layer in one direction
is the plain dict.

The cell is named by a string, ``cell="srn"``, ``"lstm"`` or ``"gru"``, and its
options are keyword arguments, those of ``rnnbook.cells.OPTIONS[cell]`` (for the SRN
only ``activation`` and ``feedback``: its dict has no output layer); an option of
another cell raises a ``ValueError``. The GRU's ``reset`` is read from the keys
when it is not given: a dict with ``d_h`` is ``reset="after"``, one without it
``reset="before"``.

PyTorch differs in three ways, each reconciled here:

1. gates are stacked in one matrix, in the order ``rnnbook.cells.TORCH_GATE_ORDER``:
   i, f, g (= c~), o for the LSTM and r, z, n (= h~) for the GRU: ``weight_ih_l0``
   is (4H, D) or (3H, D);
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

from rnnbook import cells
from rnnbook._checks import check_array, check_flag, check_params, describe, dtype_name
from rnnbook.nn._checks import check_float_dtype

TORCH_CLASSES = {"srn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TORCH_CELLS = {"srn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}

#: the options of the book's cell that PyTorch's modules compute (the GRU's reset="after")
_TORCH_OPTIONS = {"srn": {}, "lstm": {}, "gru": {"reset": "after"}}


# -- options and checks, shared by to_torch and to_nn -------------------------------------


def _first_dict(params):
    """The dict of layer 0, direction 0, or None when ``params`` has no such dict."""
    if isinstance(params, Mapping):
        return params
    if isinstance(params, (list, tuple)) and params and isinstance(params[0], (list, tuple)):
        if params[0] and isinstance(params[0][0], Mapping):
            return params[0][0]
    return None


def _options(params, cell, given):
    """Check the cell and its options ``given``; fill in the defaults.

    The GRU's ``reset`` not given is read from the keys: ``d_h`` present -> "after",
    absent -> "before". Given, it must agree with them.

    Raises:
        ValueError: for an unknown cell, an option that is not the cell's (naming the
            allowed ones), a value that is not allowed, or a reset the keys contradict.
    """
    # the book's Elman SRN dict has no output layer: its output_activation is not an option here
    only = ("activation", "feedback") if cell == "srn" else None
    opts = cells.options(cell, given, only=only)
    first = _first_dict(params)
    if cell != "gru" or first is None:
        return opts  # a malformed params is reported by _check_network
    from_keys = "after" if "d_h" in first else "before"
    if "reset" not in given:
        opts["reset"] = from_keys
    elif given["reset"] != from_keys:
        has = "has" if from_keys == "after" else "lacks"
        raise ValueError(
            f"reset={given['reset']!r} contradicts the keys: params {has} 'd_h', the bias "
            f"of reset='after', so they are a reset={from_keys!r} GRU (leave reset out to "
            "read it from the keys)"
        )
    return opts


def _require_torch_options(cell, opts):
    """Raise when PyTorch's modules cannot represent the options ``opts`` of ``cell``."""
    if cell == "srn" and opts["feedback"] != "hidden":
        raise ValueError(
            "torch.nn.RNN feeds back the hidden state (feedback='hidden'); "
            f"a Jordan network (feedback={opts['feedback']!r}) has no PyTorch counterpart"
        )
    if cell == "srn" and opts["activation"] not in cells.TORCH_ACTIVATIONS:
        raise ValueError(
            "torch.nn.RNN's nonlinearity is 'tanh' or 'relu', "
            f"got activation={opts['activation']!r}"
        )
    if cell == "lstm" and opts["variant"] != "standard":
        raise ValueError(
            f"torch.nn.LSTM is the variant 'standard'; got variant={opts['variant']!r}, "
            "which it cannot represent"
        )
    if cell == "gru" and opts["reset"] != "after":
        raise ValueError(
            "torch.nn.GRU applies the reset gate after U_h (reset='after', with 'd_h'); "
            f"got reset={opts['reset']!r}, which it cannot represent"
        )
    if cell == "gru" and opts["update"] != "keep":
        raise ValueError(
            "torch.nn.GRU keeps h_{t-1} with weight z_t (update='keep'); "
            f"got update={opts['update']!r}, which it cannot represent"
        )


def _require_nn_options(cell, opts):
    """Raise when ``rnnbook.nn``'s modules cannot represent the options ``opts`` of ``cell``."""
    if cell == "srn" and opts["feedback"] != "hidden":
        raise ValueError(
            "rnnbook.nn.SRN is the Elman network (feedback='hidden'), "
            f"got feedback={opts['feedback']!r}"
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


def _check_network(params, cell, opts):
    """Check a network's dictionaries; return (layers, plain, D, H, dtype name).

    Every dict must have exactly the keys of ``cells.param_shapes(cell, D_l, H, **opts)``
    with those shapes -- W_* (H, D_l), U_* (H, H), b_*, d_h, p_* (H,), where D_l = D
    for layer 0 and num_directions * H above -- all in one floating dtype, all finite.
    """
    layers, plain = _layers(params)
    first = layers[0][0]
    where = "params" if plain else "params[0][0]"
    if not isinstance(first, Mapping):
        raise ValueError(f"{where} must be a dict, got {describe(first)}")
    keys = list(cells.param_shapes(cell, 1, 1, **opts))  # the keys, whatever the sizes
    gate = cells.gates(cell, **opts)[0]
    W0, U0 = cells.key("W", gate), cells.key("U", gate)  # the first gate's W and U
    for k in (W0, U0):
        if k not in first:
            raise ValueError(f"{where} must have the keys {keys}; missing {k!r}")
        check_array(first[k], f"{where}[{k!r}]", shape=(None, None), dims="(H, *)")
    H, D = first[U0].shape[0], first[W0].shape[1]
    dtype = dtype_name(first[W0])
    dirs = len(layers[0])
    for l, directions in enumerate(layers):
        D_l = D if l == 0 else dirs * H
        expected = {
            # above layer 0 the input is the directions' outputs, concatenated
            k: (shape, "(H, num_directions * H)" if l > 0 and text == "(H, D)" else text)
            for k, (shape, text) in cells.param_shapes(cell, D_l, H, **opts).items()
        }
        for d, p in enumerate(directions):
            name = "params" if plain else f"params[{l}][{d}]"
            check_params(p, expected, dtype=dtype, name=name)
    return layers, plain, D, H, dtype


def _prepare(params, cell, given, dtype, require):
    """What ``to_torch`` and ``to_nn`` check before they build a module.

    Args:
        params, cell: as for :func:`to_torch`.
        given: the options passed.
        dtype: the ``dtype`` argument (None or a floating ``torch.dtype``).
        require: raises for the options the target modules cannot represent.
    Returns:
        (opts, layers, plain, D, H, the arrays' torch dtype): the options with defaults,
        the dicts as ``layers[layer][direction]``, whether ``params`` was one dict, the
        input and hidden sizes.
    """
    opts = _options(params, cell, given)
    require(cell, opts)
    check_float_dtype(dtype)
    layers, plain, D, H, dtype_str = _check_network(params, cell, opts)
    return opts, layers, plain, D, H, getattr(torch, dtype_str)


def _moved(module, device, dtype):
    """The module on ``device`` in ``dtype``, where they are given."""
    if device is not None or dtype is not None:
        module = module.to(device=device, dtype=dtype)
    return module


def _tensor(a):
    """A fresh torch tensor holding a NumPy array's (or a tensor's) values."""
    if isinstance(a, torch.Tensor):
        return a.detach().clone()
    return torch.from_numpy(np.array(a, copy=True))


def _numpy(t):
    return t.detach().cpu().numpy().copy()


# -- the book <-> PyTorch ----------------------------------------------------------------


def _book_to_torch(p, cell):
    """One layer and direction: the book's dict -> PyTorch's four tensors, in PyTorch order."""
    gates = cells.TORCH_GATE_ORDER[cell]
    weight_ih = torch.cat([_tensor(p[cells.key("W", g)]) for g in gates])  # (G*H, D)
    weight_hh = torch.cat([_tensor(p[cells.key("U", g)]) for g in gates])  # (G*H, H)
    bias_ih = torch.cat([_tensor(p[cells.key("b", g)]) for g in gates])  # (G*H,)
    bias_hh = torch.zeros_like(bias_ih)  # (G*H,)
    if cell == "gru":
        # n's recurrent bias sits inside the reset product: the book's d_h
        bias_hh.view(len(gates), -1)[gates.index("h")] = _tensor(p["d_h"])
    return {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}


def _torch_to_book(t, cell):
    """One layer and direction: PyTorch's tensors (bias_* None when bias=False) -> the book's."""
    gates = cells.TORCH_GATE_ORDER[cell]
    G = len(gates)
    W = t["weight_ih"].chunk(G)  # G of (H, D)
    U = t["weight_hh"].chunk(G)  # G of (H, H)
    zero = torch.zeros_like(t["weight_hh"][:, 0])  # (G*H,)
    b_ih = (zero if t["bias_ih"] is None else t["bias_ih"]).chunk(G)
    b_hh = (zero if t["bias_hh"] is None else t["bias_hh"]).chunk(G)
    p = {}
    for k, g in enumerate(gates):
        p[cells.key("W", g)] = _numpy(W[k])
        p[cells.key("U", g)] = _numpy(U[k])
        # the book's one bias is the sum of PyTorch's two, except inside GRU's reset product
        b = b_ih[k] if (cell, g) == ("gru", "h") else b_ih[k] + b_hh[k]
        p[cells.key("b", g)] = _numpy(b)
    if cell == "gru":
        p["d_h"] = _numpy(b_hh[gates.index("h")])
    H, D = U[0].shape[0], W[0].shape[1]
    return {k: p[k] for k in cells.param_shapes(cell, D, H, **_TORCH_OPTIONS[cell])}


def to_torch(
    params,
    cell,
    *,
    torch_cell=False,
    batch_first=False,
    device=None,
    dtype=None,
    **options,
):
    """Build a PyTorch module that computes what the book's parameters compute.

    Args:
        params: one dict (one layer, one direction) or ``params[layer][direction]`` dicts,
            with the book's keys for ``cell`` (see the module docstring): W_* (H, D_l),
            U_* (H, H), b_* (H,), and the GRU's d_h (H,).
        cell: "srn", "lstm" or "gru".
        torch_cell: build ``torch.nn.RNNCell``/``LSTMCell``/``GRUCell`` (needs one plain dict).
        batch_first: passed to ``torch.nn.RNN``/``LSTM``/``GRU``.
        device: where to put the module.
        dtype: its dtype; by default the dtype of the arrays.
        **options: the cell's options (``rnnbook.cells.OPTIONS[cell]``; for the SRN only
            ``activation`` and ``feedback``), those PyTorch
            represents: the SRN's ``activation`` "tanh" or "relu" and ``feedback``
            "hidden"; the LSTM's ``variant`` "standard"; the GRU's ``reset`` "after"
            (read from the keys when not given: it needs ``d_h``) and ``update`` "keep".
    Returns:
        ``torch.nn.RNN``, ``LSTM`` or ``GRU`` (or the ``*Cell``) with bias=True.

    Raises:
        ValueError: for an unknown cell, an option that is not the cell's (naming the
            allowed ones) or an unknown value, an option PyTorch cannot represent, a
            GRU ``reset`` the keys contradict, a missing or extra key, a wrong shape,
            mixed or non-float dtypes, NaN or inf, or ``torch_cell=True`` with more than
            one layer or direction or with ``batch_first=True``.
    """
    opts, layers, plain, D, H, arrays_dtype = _prepare(
        params, cell, options, dtype, _require_torch_options
    )
    check_flag("torch_cell", torch_cell)
    check_flag("batch_first", batch_first)
    extra = {"nonlinearity": opts["activation"]} if cell == "srn" else {}
    if torch_cell:
        if batch_first:
            raise ValueError("a torch.nn.*Cell takes one step (B, D): batch_first does not apply")
        if not plain:
            raise ValueError(
                f"a torch.nn.*Cell has one layer and one direction: params must be one dict, "
                f"got {len(layers)} layer(s) with {len(layers[0])} direction(s)"
            )
        module = TORCH_CELLS[cell](D, H, bias=True, **extra)
    else:
        module = TORCH_CLASSES[cell](
            D,
            H,
            num_layers=len(layers),
            bias=True,
            batch_first=batch_first,
            bidirectional=len(layers[0]) == 2,
            **extra,
        )
    module = module.to(dtype=arrays_dtype)
    with torch.no_grad():
        for l, directions in enumerate(layers):
            for d, p in enumerate(directions):
                suffix = "" if torch_cell else f"_l{l}" + ("_reverse" if d == 1 else "")
                for name, value in _book_to_torch(p, cell).items():
                    getattr(module, name + suffix).copy_(value)
    return _moved(module, device, dtype)


def _torch_cell_name(module):
    """The book's cell of a PyTorch module (the class or its *Cell), or None."""
    for cell in cells.CELLS:
        if isinstance(module, (TORCH_CLASSES[cell], TORCH_CELLS[cell])):
            return cell
    return None


def from_torch(module):
    """The book's parameters of a PyTorch or ``rnnbook.nn`` recurrent module.

    Args:
        module: ``torch.nn.RNN``, ``LSTM``, ``GRU``, ``RNNCell``, ``LSTMCell``, ``GRUCell``,
            or ``rnnbook.nn.SRN``, ``LSTM``, ``GRU``.
    Returns:
        One dict of NumPy arrays (in the module's dtype) for one layer in one direction
        (and for a cell), else ``params[layer][direction]``: W_* (H, D_l), U_* (H, H),
        b_* (H,), ... as ``rnnbook.cells.param_shapes``. A module without bias gives
        zero biases. For PyTorch's GRU the dicts are the book's ``reset="after"`` GRU
        (with ``d_h``); for an ``rnnbook.nn`` module they belong to the module's own options.

    Raises:
        ValueError: for any other module, or an LSTM with projections (``proj_size > 0``).
    """
    import rnnbook.nn

    if isinstance(module, rnnbook.nn.SRN | rnnbook.nn.LSTM | rnnbook.nn.GRU):
        return _from_nn(module)
    cell = _torch_cell_name(module)
    if cell is None:
        raise ValueError(
            "module must be torch.nn.RNN/LSTM/GRU, a *Cell, or rnnbook.nn.SRN/LSTM/GRU, "
            f"got {type(module).__name__}"
        )
    if isinstance(module, TORCH_CELLS[cell]):
        t = {n: getattr(module, n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        return _torch_to_book(t, cell)
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
            directions.append(_torch_to_book(t, cell))
        layers.append(directions)
    return layers[0][0] if module.num_layers == 1 and dirs == 1 else layers


# -- the book <-> rnnbook.nn -------------------------------------------------------------


def _from_nn(module):
    """The book's dicts of an ``rnnbook.nn`` module; zeros for the biases of bias=False."""
    H = module.hidden_size
    layers = []
    for l, directions in enumerate(module.params):
        D_l = module.input_size if l == 0 else module.num_directions * H
        shapes = cells.param_shapes(module.cell, D_l, H, **module.options)  # with biases
        dicts = []
        for p in directions:
            like = next(iter(p.values()))
            dicts.append(
                {
                    k: _numpy(p[k]) if k in p else _numpy(torch.zeros(shape, dtype=like.dtype))
                    for k, (shape, _) in shapes.items()
                }
            )
        layers.append(dicts)
    return layers[0][0] if len(layers) == 1 and len(layers[0]) == 1 else layers


def to_nn(params, cell, *, batch_first=False, device=None, dtype=None, **options):
    """Build an ``rnnbook.nn`` module holding the book's parameters.

    Args:
        params, cell, batch_first, device, dtype: as for :func:`to_torch`.
        **options: the cell's options (``rnnbook.cells.OPTIONS[cell]``; for the SRN only
            ``activation`` and ``feedback``), all of their values supported except
            ``feedback="output"``: ``rnnbook.nn.SRN`` is the
            Elman network. The GRU's ``reset`` is read from the keys when not given.
    Returns:
        ``rnnbook.nn.SRN``, ``LSTM`` or ``GRU`` with bias=True and the options (those
        the module has: the SRN's ``activation``).

    Raises:
        ValueError: as :func:`to_torch`, and for ``feedback="output"``.
    """
    import rnnbook.nn

    opts, layers, _, D, H, arrays_dtype = _prepare(
        params, cell, options, dtype, _require_nn_options
    )
    cls = {"srn": rnnbook.nn.SRN, "lstm": rnnbook.nn.LSTM, "gru": rnnbook.nn.GRU}[cell]
    module = cls(
        D,
        H,
        len(layers),
        batch_first=batch_first,
        bidirectional=len(layers[0]) == 2,
        dtype=arrays_dtype,
        **{k: opts[k] for k in cls.option_names},
    )
    with torch.no_grad():
        for l, directions in enumerate(layers):
            for d, p in enumerate(directions):
                for k, target in module.params[l][d].items():
                    target.copy_(_tensor(p[k]))
    return _moved(module, device, dtype)
