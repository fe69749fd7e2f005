"""Recursive networks over trees, and the child-sum Tree-LSTM, in NumPy.

The recursive network of the textbook (section 6.9, (6.57)-(6.59); Pollack 1990) shares one
composition function over the nodes of a binary tree. Every internal node j with children
l and r combines their states with one matrix W acting on their concatenation:

    h_j = f(W [h_l; h_r] + b)            W (H, 2H), b (H,)               (6.57)-(6.59)

and a leaf's state is its input vector itself, h = x, as in (6.57), where x_1 and x_2 enter
W directly. So one W acts on inputs and on states alike, and D = H. The textbook's W is
one matrix on the concatenation; the split W = [W_1 | W_2], W_1 (H, H) acting on the
left child and W_2 (H, H) on the right, is the same thing written in blocks (exercise
6-4 uses it: see :func:`srn_params_of_chain`).

The child-sum Tree-LSTM (Tai et al. 2015) is the textbook's "tree-structured LSTM". A node
j with children C(j) and input x_j computes

    h~_j  = sum_{k in C(j)} h_k                                            (TL1)
    i_j   = sigma(W_i x_j + U_i h~_j + b_i)                                (TL2)
    f_jk  = sigma(W_f x_j + U_f h_k + b_f)     one forget gate per child k (TL3)
    o_j   = sigma(W_o x_j + U_o h~_j + b_o)                                (TL4)
    u_j   = tanh(W_u x_j + U_u h~_j + b_u)                                 (TL5)
    c_j   = i_j * u_j + sum_{k in C(j)} f_jk * c_k                         (TL6)
    h_j   = o_j * tanh(c_j)                                                (TL7)

(numbered (2)-(8) in Tai et al.; TL1-TL7 here). Here the inputs sit at the leaves only,
as the words of a constituency tree do: a leaf has x_j and no children, so h~_j = 0 and
c_j = i_j * u_j; an internal node has children and no input, x_j = 0. The forget gates
exist only at internal nodes, where W_f x_j = 0, so W_f is left out of the parameters.
(Tai et al.'s dependency trees give every node a word; that case is not covered here.
For constituency trees Tai et al. used the N-ary Tree-LSTM instead, with a matrix U per
child position and forget gates that read all siblings, their eqs (9)-(14):
:func:`nary_tree_lstm_forward` and :func:`nary_tree_lstm_backward`. The child-sum form
ignores the order of the children; the N-ary form needs exactly N of them at every
internal node and tells them apart.)

Trees. A tree is written with nested tuples: a leaf is an int, the index of its input in
``leaf_inputs`` (N, B, D); an internal node is a tuple of its children. ``((0, 1), (2, 3))``
is the balanced tree of figure 6.11a, ``(((0, 1), 2), 3)`` the chain of figure 6.11b
(:func:`chain`), and ``0`` a tree of one leaf. Every leaf index 0..N-1 is used exactly once.
A batch is B trees of the same shape, one per row, as in the sequence cells.

How the code reads. :func:`postorder` numbers the nodes children first, so a forward pass
is one loop over them and the backward pass (backpropagation through structure, Goller and
Kuechler 1996) is the same loop reversed: each node hands its state's gradient to its
children, and the gradients of the shared parameters add up over the nodes.
"""

import numpy as np

from rnnbook import cells
from rnnbook._checks import (
    check_array,
    check_int,
    check_keys,
    check_option,
    check_params,
    check_rng,
    check_state_grad,
    describe,
    dtype_name,
)
from rnnbook.scratch import init as _init
from rnnbook.scratch._functions import activate, activate_backward, sigmoid

# ---- trees ---------------------------------------------------------------------------


def check_tree(tree, n_leaves: int | None = None, *, arity: int | None = None) -> int:
    """Check a tree of nested tuples; return its number of leaves N.

    Args:
        tree: an int (a leaf, the index of its input) or a non-empty tuple of trees.
        n_leaves: the number of leaf inputs the tree must use (each once), or None.
        arity: the number of children every internal node must have (2 for the
            recursive network of (6.57)-(6.59)), or None for any number >= 1.

    Returns:
        N, the number of leaves; their indices are exactly 0..N-1.

    Raises:
        ValueError: for a node that is neither an int >= 0 nor a non-empty tuple, an
            internal node with the wrong number of children, a leaf index used twice or
            missing, or N different from ``n_leaves``.
    """
    if arity is not None:
        arity = check_int("arity", arity)
    leaves = []

    def visit(node, where):
        if isinstance(node, tuple):
            if len(node) == 0 or (arity is not None and len(node) != arity):
                want = "at least one child" if arity is None else f"exactly {arity} children"
                raise ValueError(f"tree{where} must have {want}, got a tuple of {len(node)}")
            for k, child in enumerate(node):
                visit(child, f"{where}[{k}]")
        elif isinstance(node, (int, np.integer)) and not isinstance(node, bool) and node >= 0:
            leaves.append(int(node))
        else:
            raise ValueError(
                f"tree{where} must be a leaf index (an int >= 0) or a tuple of children, "
                f"got {describe(node)}"
            )

    visit(tree, "")
    N = len(leaves)
    if sorted(leaves) != list(range(N)):
        raise ValueError(
            f"a tree with {N} leaves must use each leaf index 0..{N - 1} once, got {leaves}"
        )
    if n_leaves is not None and N != n_leaves:
        raise ValueError(f"the tree must have N = {n_leaves} leaves (leaf_inputs), got {N}")
    return N


def postorder(tree) -> list:
    """The nodes of ``tree``, children before parents; the root is last.

    Returns:
        a list with an entry per node: ``("leaf", i)`` for the leaf of input i, and
        ``("node", (k_1, ..., k_m))`` for an internal node whose children are the
        entries k_1..k_m of the list (earlier positions).

    Raises:
        ValueError: as :func:`check_tree`.
    """
    check_tree(tree)
    nodes = []

    def visit(node):
        if isinstance(node, tuple):
            children = tuple(visit(child) for child in node)
            nodes.append(("node", children))
        else:
            nodes.append(("leaf", int(node)))
        return len(nodes) - 1

    visit(tree)
    return nodes


def chain(n: int):
    """The left-branching chain (((0, 1), 2), ..., n-1) of figure 6.11b; ``chain(1)`` is ``0``."""
    n = check_int("n", n)
    tree = 0
    for i in range(1, n):
        tree = (tree, i)
    return tree


def _check_inputs(tree, leaf_inputs, arity):
    """Check the tree against leaf_inputs (N, B, D); return the nodes in post-order."""
    check_array(leaf_inputs, "leaf_inputs", shape=(None, None, None), dims="(N, B, D)")
    N, B, _ = leaf_inputs.shape
    if N < 1 or B < 1:
        raise ValueError(f"leaf_inputs (N, B, D) must have N >= 1 and B >= 1, got {(N, B)}")
    check_tree(tree, N, arity=arity)
    return postorder(tree)


def _check_cache(cache, kind: str):
    if not (isinstance(cache, dict) and cache.get("kind") == kind):
        raise ValueError(f"cache must be the cache of {kind} forward, got {describe(cache)}")


# ---- the recursive network of the textbook, (6.57)-(6.59) ----------------------------


def init_params(hidden_size: int, rng: np.random.Generator, *, dtype=np.float64) -> dict:
    """Draw the parameters of the recursive network from U(-1/sqrt(H), 1/sqrt(H)).

    Args:
        hidden_size: H, which is also the size D of the leaf inputs (h = x at a leaf).
        rng: the generator to draw from.  dtype: float64 (default) or float32.

    Returns:
        dict with "W" (H, 2H) and "b" (H,).

    Raises:
        ValueError: for a size that is not an int >= 1, or a bad rng or dtype.
    """
    H = check_int("hidden_size", hidden_size)
    check_rng(rng)
    return {
        "W": _init.uniform(rng, (H, 2 * H), H, dtype=dtype),
        "b": _init.uniform(rng, (H,), H, dtype=dtype),
    }


def _check_leaf_size(leaf_inputs, params):
    """A W of a well-formed (H, 2H) shape whose H is not the inputs' size D: say so."""
    W = params.get("W") if isinstance(params, dict) else None
    if not isinstance(W, np.ndarray) or W.ndim != 2 or W.shape[1] != 2 * W.shape[0]:
        return  # check_params reports anything else
    D, H = leaf_inputs.shape[2], W.shape[0]
    if D != H:
        raise ValueError(
            f"leaf_inputs have size D = {D} but params['W'] has H = {H}: a leaf's state is its "
            f"input, so D must equal H (W of shape (H, 2H) = ({D}, {2 * D}), got {W.shape})"
        )


def forward(tree, leaf_inputs, params, *, activation: str = "tanh"):
    """The recursive network over a binary tree, (6.57)-(6.59), node by node.

    Args:
        tree: a binary tree of nested tuples (see the module's docstring).
        leaf_inputs: x (N, B, H), the inputs of the N leaves; a leaf's state is h = x.
        params: "W" (H, 2H), "b" (H,).
        activation: f, one of ``rnnbook.cells.ACTIVATIONS`` ("tanh" by default).

    Returns:
        (h_root (B, H), cache); ``cache["h"]`` holds every node's state in post-order.

    Raises:
        ValueError: for a malformed or non-binary tree, a tree whose leaves do not match
            N, a bad leaf_inputs, params of the wrong keys, shapes or dtype, or an
            unknown activation.
    """
    check_option("activation", activation, cells.ACTIVATIONS)
    nodes = _check_inputs(tree, leaf_inputs, arity=2)
    H = leaf_inputs.shape[2]
    _check_leaf_size(leaf_inputs, params)  # D = H: a leaf's state is its input
    check_params(
        params,
        {"W": ((H, 2 * H), "(H, 2H)"), "b": ((H,), "(H,)")},
        dtype=dtype_name(leaf_inputs),
    )
    W, b = params["W"], params["b"]
    x = leaf_inputs
    h, hcat, z = [], {}, {}
    for j, (kind, arg) in enumerate(nodes):
        if kind == "leaf":
            # a leaf: h_j = x_i, the leaf's input itself, as x_1, x_2 in (6.57)   (B, H)
            h.append(x[arg])
            continue
        l, r = arg
        # the children's states stacked, [h_l; h_r]   (B, 2H)
        hcat[j] = np.concatenate([h[l], h[r]], axis=1)
        # (6.57)-(6.59)  z_j = W [h_l; h_r] + b   (B, H)
        z[j] = hcat[j] @ W.T + b
        # (6.57)-(6.59)  h_j = f(z_j)   (B, H)
        h.append(activate(activation, z[j]))
    cache = dict(kind="recursive", nodes=nodes, h=h, hcat=hcat, z=z, x=x)
    cache.update(params=params, activation=activation)
    return h[-1], cache


def backward(d_root, cache):
    """Backpropagation through structure for :func:`forward`.

    Args:
        d_root: dL/dh_root (B, H), the gradient arriving at the root's state.
        cache: from :func:`forward`.

    Returns:
        (d_leaf_inputs (N, B, H), grads with "W" (H, 2H) and "b" (H,)).

    Raises:
        ValueError: when ``cache`` is not from :func:`forward`, or ``d_root`` does not
            match the root state's shape and dtype.
    """
    _check_cache(cache, "recursive")
    nodes, h, x = cache["nodes"], cache["h"], cache["x"]
    check_state_grad(d_root, h[-1], "d_root")
    W, H = cache["params"]["W"], x.shape[2]
    # dh[j] = dL/dh_j, filled in as the node's parent is reached (the root's comes in)
    dh = [np.zeros_like(h_j) for h_j in h]
    dh[-1] = d_root
    dW, db, dx = np.zeros_like(W), np.zeros_like(cache["params"]["b"]), np.zeros_like(x)
    for j in reversed(range(len(nodes))):
        kind, arg = nodes[j]
        if kind == "leaf":
            # h_j = x_i:  dx_i = dh_j   (B, H)
            dx[arg] = dh[j]
            continue
        l, r = arg
        # h_j = f(z_j):  dz_j = dh_j * f'(z_j)   (B, H)
        dz = activate_backward(cache["activation"], dh[j], cache["z"][j], h[j])
        # z_j = W [h_l; h_r] + b:  dW += dz_j^T [h_l; h_r] (H, 2H),  db += sum_B dz_j (H,)
        dW += dz.T @ cache["hcat"][j]
        db += dz.sum(axis=0)
        # d[h_l; h_r] = dz_j W   (B, 2H): its first H columns go to the left child, the rest
        # to the right (each child has one parent, so = would do; += reads as the chain rule)
        dcat = dz @ W
        dh[l] += dcat[:, :H]
        dh[r] += dcat[:, H:]
    return dx, {"W": dW, "b": db}


def srn_params_of_chain(params) -> dict:
    """The SRN parameters that make :func:`forward` on :func:`chain` an SRN (exercise 6-4).

    On the chain (((x_1, x_2), x_3), ...), h_j = f(W_1 h_{j-1} + W_2 x_{j+1} + b) with
    W = [W_1 | W_2]: the SRN's (6.3)-(6.4) with U = W_1, W = W_2, the same b, the initial
    state h_0 = x_1 and the inputs x_2, ..., x_N.

    Args:
        params: "W" (H, 2H), "b" (H,) of the recursive network.

    Returns:
        dict for :mod:`rnnbook.scratch.srn`: "W" (H, H) = W_2, "U" (H, H) = W_1, "b" (H,).

    Raises:
        ValueError: for params of the wrong keys or shapes.
    """
    check_keys(params, ["W", "b"])
    check_array(params["W"], "params['W']", shape=(None, None), dims="(H, 2H)")
    H = params["W"].shape[0]
    check_params(
        params, {"W": ((H, 2 * H), "(H, 2H)"), "b": ((H,), "(H,)")}, dtype=dtype_name(params["W"])
    )
    return {"W": params["W"][:, H:].copy(), "U": params["W"][:, :H].copy(), "b": params["b"]}


# ---- the child-sum Tree-LSTM (Tai et al. 2015) ----------------------------------------


def _tree_lstm_shapes(D: int, H: int) -> dict:
    """key -> (shape, dims): W_* (H, D) for i, o, u; U_* (H, H) and b_* (H,) for i, f, o, u."""
    shapes = {f"W_{g}": ((H, D), "(H, D)") for g in "iou"}
    shapes.update({f"U_{g}": ((H, H), "(H, H)") for g in "ifou"})
    shapes.update({f"b_{g}": ((H,), "(H,)") for g in "ifou"})
    return shapes


def tree_lstm_init_params(
    input_size: int, hidden_size: int, rng: np.random.Generator, *, dtype=np.float64
) -> dict:
    """Draw the parameters of the child-sum Tree-LSTM from U(-1/sqrt(H), 1/sqrt(H)).

    Args:
        input_size: D.  hidden_size: H.  rng: the generator.  dtype: float64 or float32.

    Returns:
        dict with "W_i", "W_o", "W_u" (H, D); "U_i", "U_f", "U_o", "U_u" (H, H);
        "b_i", "b_f", "b_o", "b_u" (H,). (No W_f: inputs sit at the leaves only.)

    Raises:
        ValueError: for a size that is not an int >= 1, or a bad rng or dtype.
    """
    D, H = check_int("input_size", input_size), check_int("hidden_size", hidden_size)
    check_rng(rng)
    return {
        k: _init.uniform(rng, shape, H, dtype=dtype)
        for k, (shape, _) in _tree_lstm_shapes(D, H).items()
    }


def tree_lstm_forward(tree, leaf_inputs, params):
    """The child-sum Tree-LSTM over a tree, (TL1)-(TL7), node by node.

    Args:
        tree: a tree of nested tuples, any number >= 1 of children per node.
        leaf_inputs: x (N, B, D), the inputs of the N leaves.
        params: as from :func:`tree_lstm_init_params`.

    Returns:
        (h_root (B, H), cache); ``cache["h"]``, ``cache["c"]`` hold every node's h and c.

    Raises:
        ValueError: for a malformed tree, a tree whose leaves do not match N, a bad
            leaf_inputs, or params of the wrong keys, shapes or dtype.
    """
    nodes = _check_inputs(tree, leaf_inputs, arity=None)
    D = leaf_inputs.shape[2]
    # H is read from U_i, then every array is checked against (D, H)
    check_keys(params, _tree_lstm_shapes(D, 1))
    check_array(params["U_i"], "params['U_i']", shape=(None, None), dims="(H, H)")
    H = params["U_i"].shape[0]
    if H < 1:
        raise ValueError(f"params['U_i'] (H, H) must have H >= 1, got shape {(H, H)}")
    check_params(params, _tree_lstm_shapes(D, H), dtype=dtype_name(leaf_inputs))
    p, x = params, leaf_inputs
    h, c, steps = [], [], []
    for kind, arg in nodes:
        if kind == "leaf":
            # a leaf has the input x_j and no children: h~_j = 0, no forget gates
            x_j = x[arg]  # (B, D)
            a_i = x_j @ p["W_i"].T + p["b_i"]
            a_o = x_j @ p["W_o"].T + p["b_o"]
            a_u = x_j @ p["W_u"].T + p["b_u"]
            children = ()
        else:
            # an internal node has children and no input (x_j = 0)
            children = arg
            # (TL1)  h~_j = sum_k h_k   (B, H)
            h_sum = sum(h[k] for k in children)
            a_i = h_sum @ p["U_i"].T + p["b_i"]
            a_o = h_sum @ p["U_o"].T + p["b_o"]
            a_u = h_sum @ p["U_u"].T + p["b_u"]
        # (TL2)  i_j = sigma(W_i x_j + U_i h~_j + b_i)   (B, H)
        i = sigmoid(a_i)
        # (TL4)  o_j = sigma(W_o x_j + U_o h~_j + b_o)   (B, H)
        o = sigmoid(a_o)
        # (TL5)  u_j = tanh(W_u x_j + U_u h~_j + b_u)   (B, H)
        u = np.tanh(a_u)
        # (TL3)  f_jk = sigma(U_f h_k + b_f), one per child k (W_f x_j = 0)   each (B, H)
        f = [sigmoid(h[k] @ p["U_f"].T + p["b_f"]) for k in children]
        # (TL6)  c_j = i_j * u_j + sum_k f_jk * c_k   (B, H)
        c_j = i * u + sum((f_k * c[k] for f_k, k in zip(f, children, strict=True)), 0.0)
        # (TL7)  h_j = o_j * tanh(c_j)   (B, H)
        tanh_c = np.tanh(c_j)
        h.append(o * tanh_c)
        c.append(c_j)
        steps.append(dict(kind=kind, arg=arg, i=i, o=o, u=u, f=f, tanh_c=tanh_c))
    cache = dict(kind="tree_lstm", nodes=nodes, h=h, c=c, steps=steps, x=x, params=params)
    return h[-1], cache


def tree_lstm_backward(d_root, cache):
    """Backpropagation through structure for :func:`tree_lstm_forward`.

    Args:
        d_root: dL/dh_root (B, H).
        cache: from :func:`tree_lstm_forward`.

    Returns:
        (d_leaf_inputs (N, B, D), grads keyed like the params).

    Raises:
        ValueError: when ``cache`` is not from :func:`tree_lstm_forward`, or ``d_root``
            does not match the root state's shape and dtype.
    """
    _check_cache(cache, "tree_lstm")
    nodes, h, c, x, p = cache["nodes"], cache["h"], cache["c"], cache["x"], cache["params"]
    check_state_grad(d_root, h[-1], "d_root")
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    # dh[j], dc[j]: dL/dh_j and dL/dc_j, filled in from the node's parent
    dh = [np.zeros_like(h_j) for h_j in h]
    dc = [np.zeros_like(c_j) for c_j in c]
    dh[-1] = d_root
    for j in reversed(range(len(nodes))):
        s = cache["steps"][j]
        i, o, u, f, tanh_c = s["i"], s["o"], s["u"], s["f"], s["tanh_c"]
        # (TL7)  h_j = o_j * tanh(c_j):  do_j = dh_j * tanh(c_j),
        # dc_j += dh_j * o_j * (1 - tanh(c_j)^2)   (B, H)
        do = dh[j] * tanh_c
        dc_j = dc[j] + dh[j] * o * (1 - tanh_c**2)
        # (TL6)  c_j = i_j * u_j + sum_k f_jk * c_k:  di_j = dc_j * u_j,  du_j = dc_j * i_j
        di, du = dc_j * u, dc_j * i
        # the pre-activations: sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2   (B, H)
        da_i, da_o, da_u = di * i * (1 - i), do * o * (1 - o), du * (1 - u**2)
        for gate, da in zip("iou", (da_i, da_o, da_u), strict=True):
            # (TL2), (TL4), (TL5): db_* += sum_B da_*   (H,)
            g[f"b_{gate}"] += da.sum(axis=0)
        if s["kind"] == "leaf":
            x_j = x[s["arg"]]
            for gate, da in zip("iou", (da_i, da_o, da_u), strict=True):
                # (TL2), (TL4), (TL5) at a leaf: dW_* += da_*^T x_j   (H, D)
                g[f"W_{gate}"] += da.T @ x_j
            # dx_j = sum over the gates of da_* W_*   (B, D)
            dx[s["arg"]] = da_i @ p["W_i"] + da_o @ p["W_o"] + da_u @ p["W_u"]
            continue
        children = s["arg"]
        # (TL1)  h~_j = sum_k h_k, at an internal node
        h_sum = sum(h[k] for k in children)
        for gate, da in zip("iou", (da_i, da_o, da_u), strict=True):
            # (TL2), (TL4), (TL5): dU_* += da_*^T h~_j   (H, H)
            g[f"U_{gate}"] += da.T @ h_sum
        # dh~_j = sum over the gates of da_* U_*; it reaches every child, (TL1)   (B, H)
        dh_sum = da_i @ p["U_i"] + da_o @ p["U_o"] + da_u @ p["U_u"]
        for f_k, k in zip(f, children, strict=True):
            # (TL6)  dc_k += dc_j * f_jk,  df_jk = dc_j * c_k   (B, H)
            dc[k] += dc_j * f_k
            df = dc_j * c[k]
            # (TL3)  f_jk = sigma(U_f h_k + b_f):  da_f = df_jk f_jk (1 - f_jk)   (B, H)
            da_f = df * f_k * (1 - f_k)
            # dU_f += da_f^T h_k (H, H),  db_f += sum_B da_f (H,)
            g["U_f"] += da_f.T @ h[k]
            g["b_f"] += da_f.sum(axis=0)
            # dh_k: through h~_j (TL1) and through its own forget gate (TL3)   (B, H)
            dh[k] += dh_sum + da_f @ p["U_f"]
    return dx, g


# ---- the N-ary Tree-LSTM (Tai et al. 2015, section 3.2) --------------------------------


def _nary_shapes(D: int, H: int, A: int) -> dict:
    """key -> (shape, dims) of the N-ary Tree-LSTM with arity A (the paper's N)."""
    shapes = {f"W_{g}": ((H, D), "(H, D)") for g in "iou"}
    shapes.update({f"U_{g}": ((A, H, H), "(A, H, H)") for g in "iou"})
    shapes["U_f"] = ((A, A, H, H), "(A, A, H, H)")
    shapes.update({f"b_{g}": ((H,), "(H,)") for g in "ifou"})
    return shapes


def nary_tree_lstm_init_params(
    input_size: int, hidden_size: int, arity: int, rng: np.random.Generator, *, dtype=np.float64
) -> dict:
    """Draw the parameters of the N-ary Tree-LSTM from U(-1/sqrt(H), 1/sqrt(H)).

    Args:
        input_size: D.  hidden_size: H.  arity: A, the number of children of every
            internal node (Tai et al.'s N; 2 for binarised constituency trees).
        rng: the generator.  dtype: float64 (default) or float32.

    Returns:
        dict with "W_i", "W_o", "W_u" (H, D); "U_i", "U_o", "U_u" (A, H, H), where
        ``U_i[l]`` is the paper's U_l^(i) acting on the child in position l (0-based);
        "U_f" (A, A, H, H), where ``U_f[k, l]`` is U_kl^(f), the matrix through which
        child l's state reaches child k's forget gate; "b_i", "b_f", "b_o", "b_u" (H,)
        (one b_f shared by the A forget gates, as in the paper). No W_f: inputs sit at
        the leaves only, where there is no forget gate.

    Raises:
        ValueError: for a size or arity that is not an int >= 1, or a bad rng or dtype.
    """
    D, H = check_int("input_size", input_size), check_int("hidden_size", hidden_size)
    A = check_int("arity", arity)
    check_rng(rng)
    return {
        k: _init.uniform(rng, shape, H, dtype=dtype)
        for k, (shape, _) in _nary_shapes(D, H, A).items()
    }


def nary_tree_lstm_forward(tree, leaf_inputs, params):
    """The N-ary Tree-LSTM over a tree whose nodes all have A children, node by node.

    With A the arity (the paper's N) and h_jl, c_jl the states of node j's child in
    position l = 1..A, Tai et al. (2015) write

        i_j  = sigma(W_i x_j + sum_l U_l^(i) h_jl + b_i)                      (9)
        f_jk = sigma(W_f x_j + sum_l U_kl^(f) h_jl + b_f),   k = 1..A         (10)
        o_j  = sigma(W_o x_j + sum_l U_l^(o) h_jl + b_o)                      (11)
        u_j  = tanh(W_u x_j + sum_l U_l^(u) h_jl + b_u)                       (12)
        c_j  = i_j * u_j + sum_l f_jl * c_jl                                  (13)
        h_j  = o_j * tanh(c_j)                                                (14)

    Unlike the child-sum form (TL1)-(TL7), each child position l has its own matrices
    U_l^(i), U_l^(o), U_l^(u), so the order of the children matters, and child k's forget
    gate reads every sibling's state through U_kl^(f), l = 1..A (A^2 matrices), not only
    its own. As in :func:`tree_lstm_forward`, inputs sit at the leaves only: a leaf has
    x_j and no children, so the sums over l vanish and c_j = i_j * u_j; an internal node
    has A children and x_j = 0, so W_i, W_o, W_u act at the leaves only and W_f x_j
    (which would act only where there are forget gates, at internal nodes) is left out.
    Dropped with it: a word at an internal node (a dependency tree's head word), which
    Tai et al.'s equations allow and constituency trees do not have.

    Args:
        tree: a tree of nested tuples whose internal nodes all have A children.
        leaf_inputs: x (N, B, D), the inputs of the N leaves.
        params: as from :func:`nary_tree_lstm_init_params`; A is read from "U_i".

    Returns:
        (h_root (B, H), cache); ``cache["h"]``, ``cache["c"]`` hold every node's h and c
        in post-order (:func:`postorder`).

    Raises:
        ValueError: for a malformed tree, an internal node without exactly A children, a
            tree whose leaves do not match N, a bad leaf_inputs, or params of the wrong
            keys, shapes or dtype.
    """
    check_array(leaf_inputs, "leaf_inputs", shape=(None, None, None), dims="(N, B, D)")
    D = leaf_inputs.shape[2]
    # A and H are read from U_i (A, H, H), then every array is checked against (D, H, A)
    check_keys(params, _nary_shapes(D, 1, 1))
    check_array(params["U_i"], "params['U_i']", shape=(None, None, None), dims="(A, H, H)")
    A, H = params["U_i"].shape[:2]
    if A < 1 or H < 1:
        raise ValueError(f"params['U_i'] (A, H, H) must have A, H >= 1, got shape {(A, H, H)}")
    nodes = _check_inputs(tree, leaf_inputs, arity=A)
    check_params(params, _nary_shapes(D, H, A), dtype=dtype_name(leaf_inputs))
    p, x = params, leaf_inputs
    h, c, steps = [], [], []
    for kind, arg in nodes:
        if kind == "leaf":
            # a leaf has the input x_j and no children: the sums over l are 0
            x_j = x[arg]  # (B, D)
            a_i = x_j @ p["W_i"].T + p["b_i"]
            a_o = x_j @ p["W_o"].T + p["b_o"]
            a_u = x_j @ p["W_u"].T + p["b_u"]
            f = []
        else:
            # an internal node: A children in order, no input (x_j = 0)
            kids = arg
            a_i = sum(h[kids[l]] @ p["U_i"][l].T for l in range(A)) + p["b_i"]
            a_o = sum(h[kids[l]] @ p["U_o"][l].T for l in range(A)) + p["b_o"]
            a_u = sum(h[kids[l]] @ p["U_u"][l].T for l in range(A)) + p["b_u"]
            # (10)  f_jk = sigma(sum_l U_kl^(f) h_jl + b_f), one per child k   each (B, H)
            f = [
                sigmoid(sum(h[kids[l]] @ p["U_f"][k, l].T for l in range(A)) + p["b_f"])
                for k in range(A)
            ]
        # (9)  i_j = sigma(W_i x_j + sum_l U_l^(i) h_jl + b_i)   (B, H)
        i = sigmoid(a_i)
        # (11)  o_j = sigma(W_o x_j + sum_l U_l^(o) h_jl + b_o)   (B, H)
        o = sigmoid(a_o)
        # (12)  u_j = tanh(W_u x_j + sum_l U_l^(u) h_jl + b_u)   (B, H)
        u = np.tanh(a_u)
        # (13)  c_j = i_j * u_j + sum_l f_jl * c_jl   (B, H)
        c_j = i * u
        if kind == "node":
            c_j = c_j + sum(f[l] * c[arg[l]] for l in range(A))
        # (14)  h_j = o_j * tanh(c_j)   (B, H)
        tanh_c = np.tanh(c_j)
        h.append(o * tanh_c)
        c.append(c_j)
        steps.append(dict(kind=kind, arg=arg, i=i, o=o, u=u, f=f, tanh_c=tanh_c))
    cache = dict(kind="nary_tree_lstm", nodes=nodes, h=h, c=c, steps=steps, x=x, params=params)
    return h[-1], cache


def nary_tree_lstm_backward(d_root, cache):
    """Backpropagation through structure for :func:`nary_tree_lstm_forward`.

    Args:
        d_root: dL/dh_root (B, H).
        cache: from :func:`nary_tree_lstm_forward`.

    Returns:
        (d_leaf_inputs (N, B, D), grads keyed like the params).

    Raises:
        ValueError: when ``cache`` is not from :func:`nary_tree_lstm_forward`, or
            ``d_root`` does not match the root state's shape and dtype.
    """
    _check_cache(cache, "nary_tree_lstm")
    nodes, h, c, x, p = cache["nodes"], cache["h"], cache["c"], cache["x"], cache["params"]
    check_state_grad(d_root, h[-1], "d_root")
    A = p["U_i"].shape[0]
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    # dh[j], dc[j]: dL/dh_j and dL/dc_j, filled in from the node's parent
    dh = [np.zeros_like(h_j) for h_j in h]
    dc = [np.zeros_like(c_j) for c_j in c]
    dh[-1] = d_root
    for j in reversed(range(len(nodes))):
        s = cache["steps"][j]
        i, o, u, f, tanh_c = s["i"], s["o"], s["u"], s["f"], s["tanh_c"]
        # (14)  h_j = o_j * tanh(c_j):  do_j = dh_j * tanh(c_j),
        # dc_j += dh_j * o_j * (1 - tanh(c_j)^2)   (B, H)
        do = dh[j] * tanh_c
        dc_j = dc[j] + dh[j] * o * (1 - tanh_c**2)
        # (13)  c_j = i_j * u_j + sum_l f_jl * c_jl:  di_j = dc_j * u_j,  du_j = dc_j * i_j
        di, du = dc_j * u, dc_j * i
        # (9), (11), (12): sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2   (B, H)
        da = {"i": di * i * (1 - i), "o": do * o * (1 - o), "u": du * (1 - u**2)}
        for gate in "iou":
            # db_* += sum_B da_*   (H,)
            g[f"b_{gate}"] += da[gate].sum(axis=0)
        if s["kind"] == "leaf":
            x_j = x[s["arg"]]
            for gate in "iou":
                # (9), (11), (12) at a leaf: dW_* += da_*^T x_j   (H, D)
                g[f"W_{gate}"] += da[gate].T @ x_j
            # dx_j = sum over the gates of da_* W_*   (B, D)
            dx[s["arg"]] = sum(da[gate] @ p[f"W_{gate}"] for gate in "iou")
            continue
        kids = s["arg"]
        # (10)  f_jk = sigma(a_fk):  da_fk = dc_j * c_jk * f_jk (1 - f_jk)   (B, H)
        da_f = [dc_j * c[kids[k]] * f[k] * (1 - f[k]) for k in range(A)]
        for k in range(A):
            # (13)  dc_jk += dc_j * f_jk   (B, H)
            dc[kids[k]] += dc_j * f[k]
            g["b_f"] += da_f[k].sum(axis=0)
        for l in range(A):
            h_l = h[kids[l]]
            for gate in "iou":
                # (9), (11), (12): dU_l^(*) += da_*^T h_jl (H, H);  dh_jl += da_* U_l^(*)
                g[f"U_{gate}"][l] += da[gate].T @ h_l
                dh[kids[l]] += da[gate] @ p[f"U_{gate}"][l]
            for k in range(A):
                # (10): dU_kl^(f) += da_fk^T h_jl (H, H);  dh_jl += da_fk U_kl^(f)   (B, H)
                g["U_f"][k, l] += da_f[k].T @ h_l
                dh[kids[l]] += da_f[k] @ p["U_f"][k, l]
    return dx, g
