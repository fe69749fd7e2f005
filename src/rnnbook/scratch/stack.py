"""Deep and bidirectional networks built from any NumPy cell (textbook (6.53)-(6.56)).

A stack of L layers, each read in one direction or in both:

    (6.53)  layer l reads the outputs of layer l - 1 (layer 1 reads x)
    (6.54)  the forward direction:   h_t^(1) = cell(x_t, h_{t-1}^(1))
    (6.55)  the backward direction:  h_t^(2) = cell(x_t, h_{t+1}^(2)), i.e. the cell run on
            x reversed in time, its outputs reversed back
    (6.56)  the layer's output is [h_t^(1); h_t^(2)], the two concatenated

The parameters are ``params[layer][direction]``, the layout of ``rnnbook.convert``,
and the states are listed in PyTorch's order, index ``layer * directions + direction``,
so that a stack here and a ``torch.nn.LSTM(num_layers=L, bidirectional=...)`` with the
same weights compute the same numbers (tests/test_convert.py checks it).
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import check_array, check_no_options, describe
from rnnbook.scratch import cell_module


def _check_layout(cell, params, states, name):
    """Check the cell's name, the params[layer][direction] layout and a list of states."""
    cells.check_cell(cell)
    if not (isinstance(params, (list, tuple)) and params):
        raise ValueError(
            f"params must be a non-empty list over layers of lists over directions, "
            f"got {describe(params)}"
        )
    dirs = len(params[0]) if isinstance(params[0], (list, tuple)) else 0
    for l, row in enumerate(params):
        if not (isinstance(row, (list, tuple)) and len(row) == dirs and dirs in (1, 2)):
            raise ValueError(
                f"params[{l}] must list 1 or 2 directions, as many as params[0] ({dirs}), "
                f"got {describe(row)}"
            )
    n = len(params) * dirs
    if states is not None and not (isinstance(states, (list, tuple)) and len(states) == n):
        raise ValueError(
            f"{name} must be None or a list of {n} states (layers * directions), "
            f"got {describe(states)}"
        )
    return dirs


def forward(cell, x, states0, params, **options):
    """Run a stack of layers, each in one or both directions, over a sequence.

    Args:
        cell: the cell's name, "srn", "lstm" or "gru".
        x: inputs (T, B, D).
        states0: None (zeros everywhere) or a list of initial states, one per layer and
            direction in the order ``layer * directions + direction``; each as the cell
            takes it ((B, H), the pair (h0, c0) for the LSTM, or None).
        params: ``params[layer][direction]``, each a dict of the cell's parameters; the
            first layer's have input size D, the others' directions * H.
        **options: the cell's options (``variant=``, ``reset=``, ...), for every layer.

    Returns:
        (outputs, cache): outputs (T, B, directions * H) of the last layer;
        ``cache["final"]`` lists the final states in the order of ``states0``.
    """
    dirs = _check_layout(cell, params, states0, "states0")
    cells.options(cell, options)
    module = cell_module(cell)
    check_array(x, "x", shape=(None, None, None), dims="(T, B, D)")
    caches, finals, inp = [], [], x
    for l, row in enumerate(params):
        outs, layer_caches = [], []
        for d, p in enumerate(row):
            s0 = None if states0 is None else states0[l * dirs + d]
            # (6.55)  the backward direction reads x_T .. x_1
            x_d = inp if d == 0 else np.ascontiguousarray(inp[::-1])
            try:
                o, cache = module.forward(x_d, s0, p, **options)  # (T, B, H)
            except ValueError as error:
                where = f"params[{l}][{d}]" + (
                    "" if states0 is None else f", states0[{l * dirs + d}]"
                )
                raise ValueError(f"layer {l}, direction {d} ({where}): {error}") from None
            outs.append(o if d == 0 else o[::-1])
            layer_caches.append(cache)
            finals.append(cache["final"])
        caches.append(layer_caches)
        # (6.56)  [h_t^(1); h_t^(2)]   (T, B, dirs * H); (6.53) the next layer's input
        inp = np.concatenate(outs, axis=2)
    return inp, {
        "cell": cell,
        "kind": "stack",
        "layers": caches,
        "directions": dirs,
        "final": finals,
    }


def backward(d_outputs, cache, d_finals=None, **options):
    """Backpropagation through time for :func:`forward`, through every layer and direction.

    Args:
        d_outputs: dL/d(outputs) (T, B, directions * H).
        cache: from :func:`forward`.
        d_finals: None, or a list (in the order of ``states0``) of the gradients arriving
            at each final state from outside, each as the cell's ``backward`` takes it.

    Returns:
        (dx (T, B, D), d_states0 as a list in the order of ``states0``,
        grads as ``grads[layer][direction]`` dicts keyed like the params).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, the gradients do not fit
            it, or an option is passed (the options are read from the cache).
    """
    check_no_options("stack.backward", options)
    if not (isinstance(cache, dict) and cache.get("kind") == "stack"):
        raise ValueError(
            f"cache must be the cache returned by stack.forward, got {describe(cache)}"
        )
    cell, layers, dirs = cache["cell"], cache["layers"], cache["directions"]
    module = cell_module(cell)
    n = len(layers) * dirs
    if d_finals is not None and not (isinstance(d_finals, (list, tuple)) and len(d_finals) == n):
        raise ValueError(
            f"d_finals must be None or a list of {n} gradients (layers * directions), "
            f"got {describe(d_finals)}"
        )
    T, B, H = layers[-1][0]["outputs"].shape  # the last layer's outputs of one direction
    check_array(d_outputs, "d_outputs", shape=(T, B, dirs * H), dims="(T, B, directions * H)")
    grads = [[None] * dirs for _ in layers]
    d_states = [None] * n
    d_out = d_outputs
    for l in reversed(range(len(layers))):
        parts = np.split(d_out, dirs, axis=2)  # each (T, B, H)
        d_in = 0
        for d, layer_cache in enumerate(layers[l]):
            # the backward direction saw time reversed: reverse its gradients the same way
            g = parts[d] if d == 0 else np.ascontiguousarray(parts[d][::-1])
            d_final = None if d_finals is None else d_finals[l * dirs + d]
            dx, ds0, grads[l][d] = module.backward(g, layer_cache, d_final)
            d_in = d_in + (dx if d == 0 else dx[::-1])
            d_states[l * dirs + d] = ds0
        d_out = d_in  # dL/d(this layer's input) = dL/d(the previous layer's outputs)
    return d_out, d_states, grads
