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

Variable lengths. A padded batch x (T, B, D) whose row b holds a sequence of true length
``lengths[b]`` <= T is run exactly, as if each sequence were run alone, with a mask
m_t = [t < lengths[b]] (B, 1) at each step (t counted from 0):

    state_t = m_t * cell(x_t, state_{t-1}) + (1 - m_t) * state_{t-1}

so a finished sequence's state stops changing (the forward direction's final state is
the state at its own last step), and its outputs beyond the end are zero. The backward
direction reads x reversed in time, so its padding comes FIRST: the mask keeps the state
at its initial value over the padding, and the direction starts at each sequence's true
end. Without the mask it would start on the padding, and every state would differ.
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_array,
    check_cell_inputs,
    check_no_options,
    check_state_grad,
    describe,
)
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


def _check_lengths(lengths, T, B):
    """Check ``lengths``: an int array (B,) with every length in 1..T; return the mask.

    Returns:
        m (T, B, 1) float64, m[t, b] = 1 where t < lengths[b] (a step of the sequence),
        0 on the padding.
    """
    a = np.asarray(lengths) if isinstance(lengths, (list, tuple)) else lengths
    if not (isinstance(a, np.ndarray) and a.dtype.kind in "iu" and a.shape == (B,)):
        got = (
            describe(lengths)
            if not isinstance(a, np.ndarray)
            else (f"dtype {a.dtype} with shape {a.shape}")
        )
        raise ValueError(f"lengths must be None or an int array of shape (B,) = ({B},), got {got}")
    if a.min() < 1 or a.max() > T:
        raise ValueError(f"lengths must lie in 1..T = 1..{T}, got values in [{a.min()}, {a.max()}]")
    return (np.arange(T)[:, None] < a[None, :])[:, :, None].astype(np.float64)  # (T, B, 1)


def _blend(m_t, new, old):
    """state_t = m_t * new + (1 - m_t) * old, for one array or the LSTM's pair (h, c)."""
    if isinstance(new, tuple):
        return tuple(m_t * n + (1 - m_t) * o for n, o in zip(new, old, strict=True))
    return m_t * new + (1 - m_t) * old


def _masked_forward(module, cell, x, s0, p, m, options):
    """One layer in one direction over a padded batch, the state held where m_t = 0.

    Args:
        x: (T, B, D) in the order this direction reads it; m: (T, B, 1) in the same order.
    Returns:
        (outputs (T, B, H), zero where m_t = 0, and the cache :func:`_masked_backward` needs).
    """
    state = check_cell_inputs(cell, x, s0, p, options, sequence=True)  # s0 or zeros
    state0, steps, outputs = state, [], []
    m = m.astype(x.dtype)
    for t in range(len(x)):
        new, step = module.step_forward(x[t], state, p, check=False, **options)
        # state_t = m_t * new + (1 - m_t) * state_{t-1}: held after the sequence's end
        # (forward direction) or before its true end (backward direction)   (B, H)
        state = _blend(m[t], new, state)
        h = state[0] if isinstance(state, tuple) else state
        # the output is zero where there is no step
        outputs.append(m[t] * h)
        steps.append(step)
    outputs = np.stack(outputs)  # (T, B, H)
    cache = dict(kind="masked", steps=steps, mask=m, state0=state0, final=state, outputs=outputs)
    return outputs, cache


def _masked_backward(module, d_outputs, cache, d_final, where):
    """Backward of :func:`_masked_forward`: (dx (T, B, D), d_state0, grads keyed like params).

    The state is one array, or the LSTM's pair (h, c); ``d`` is dL/d state_t in that form.
    """
    m, steps, final = cache["mask"], cache["steps"], cache["final"]
    pair = isinstance(final, tuple)
    if d_final is not None:
        check_state_grad(d_final, final, where)
    d = _zero_like(final) if d_final is None else tuple(d_final) if pair else d_final
    dx, grads = [None] * len(steps), None
    for t in reversed(range(len(steps))):
        # the output m_t * h_t: its gradient reaches h_t only where m_t = 1   (B, H)
        d_h = m[t] * d_outputs[t]
        d = (d[0] + d_h, *d[1:]) if pair else d + d_h
        # state_t = m_t * new + (1 - m_t) * state_{t-1}: the step's new state receives
        # m_t * d state_t, and state_{t-1} receives (1 - m_t) * d state_t past the step
        d_new = _blend(m[t], d, _zero_like(d))
        d_held = _blend(m[t], _zero_like(d), d)
        dx[t], d_prev, g = module.step_backward(d_new, steps[t], check=False)
        d = tuple(a + b for a, b in zip(d_prev, d_held, strict=True)) if pair else d_prev + d_held
        # the parameters are shared by every step: their gradients add up over t
        grads = g if grads is None else {k: grads[k] + g[k] for k in grads}
    return np.stack(dx), d, grads


def _zero_like(state):
    """Zeros shaped like a state: one array or the LSTM's pair."""
    if isinstance(state, tuple):
        return tuple(np.zeros_like(a) for a in state)
    return np.zeros_like(state)


def forward(cell, x, states0, params, *, lengths=None, **options):
    """Run a stack of layers, each in one or both directions, over a sequence.

    Args:
        cell: the cell's name, "srn", "lstm" or "gru".
        x: inputs (T, B, D).
        states0: None (zeros everywhere) or a list of initial states, one per layer and
            direction in the order ``layer * directions + direction``; each as the cell
            takes it ((B, H), the pair (h0, c0) for the LSTM, or None).
        params: ``params[layer][direction]``, each a dict of the cell's parameters; the
            first layer's have input size D, the others' directions * H.
        lengths: None (every sequence has length T), or an int array (B,) of the true
            lengths, each in 1..T, of a padded batch (see the module's docstring); not
            for the Jordan network (``feedback="output"``).
        **options: the cell's options (``variant=``, ``reset=``, ...), for every layer.

    Returns:
        (outputs, cache): outputs (T, B, directions * H) of the last layer (zero beyond
        each sequence's end when ``lengths`` is given); ``cache["final"]`` lists the
        final states in the order of ``states0``.
    """
    dirs = _check_layout(cell, params, states0, "states0")
    opts = cells.options(cell, options)
    module = cell_module(cell)
    check_array(x, "x", shape=(None, None, None), dims="(T, B, D)")
    mask = None
    if lengths is not None:
        mask = _check_lengths(lengths, x.shape[0], x.shape[1])  # (T, B, 1)
        if opts.get("feedback") == "output":
            raise ValueError(
                "lengths needs the Elman network, feedback='hidden', got feedback='output'"
            )
    caches, finals, inp = [], [], x
    for l, row in enumerate(params):
        outs, layer_caches = [], []
        for d, p in enumerate(row):
            s0 = None if states0 is None else states0[l * dirs + d]
            # (6.55)  the backward direction reads x_T .. x_1
            x_d = inp if d == 0 else np.ascontiguousarray(inp[::-1])
            try:
                if mask is None:
                    o, cache = module.forward(x_d, s0, p, **options)  # (T, B, H)
                else:
                    # the backward direction's mask is reversed with its input
                    m_d = mask if d == 0 else mask[::-1]
                    o, cache = _masked_forward(module, cell, x_d, s0, p, m_d, opts)
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
        "lengths": None if lengths is None else np.asarray(lengths).copy(),
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
        grads as ``grads[layer][direction]`` dicts keyed like the params). When
        :func:`forward` had ``lengths``, the gradients of the padded positions of
        ``d_outputs`` are ignored and dx there is zero.

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
            if cache.get("lengths") is None:
                dx, ds0, grads[l][d] = module.backward(g, layer_cache, d_final)
            else:
                where = f"d_finals[{l * dirs + d}]"
                dx, ds0, grads[l][d] = _masked_backward(module, g, layer_cache, d_final, where)
            d_in = d_in + (dx if d == 0 else dx[::-1])
            d_states[l * dirs + d] = ds0
        d_out = d_in  # dL/d(this layer's input) = dL/d(the previous layer's outputs)
    return d_out, d_states, grads
