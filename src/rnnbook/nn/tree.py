"""Recursive networks and Tree-LSTMs in PyTorch, over many trees of different shapes at once.

:mod:`rnnbook.scratch.recursive` walks one tree node by node. Here a batch holds trees of
any shapes, and the nodes of all of them are grouped by height: a leaf has height 0, an
internal node 1 + the largest height of its children. Every child of a node of height t
has a height below t, so all the nodes of height t can be computed together as soon as
heights 0..t-1 are done: a forward pass is one batched operation for the leaves and then
``batch.height`` batched steps (the tallest tree's height), not one step per node. This is
the idea of the "dynamic batching" of Looks et al. (2017), in its simplest form.

The rows of a batch. :func:`batch_trees` numbers the nodes of all the trees level by
level: rows 0..n_leaves-1 are the leaves, tree 0's first (in its leaf-index order), then
tree 1's, ..., so the leaf rows are the rows of the leaf input matrix; then come the nodes
of height 1, of height 2, and so on. A level's node reads its children's rows from the
states computed so far.

The modules and their equations (inputs at the leaves only, as in the scratch code):

- :class:`RecursiveNet`: (6.57)-(6.59), binary nodes, h_leaf = x, h_j = f(W [h_l; h_r] + b);
- :class:`ChildSumTreeLSTM`: (TL1)-(TL7), any number of children per node, order ignored;
- :class:`NaryTreeLSTM`: Tai et al. (2015) eqs (9)-(14), exactly ``arity`` children per
  node, a matrix per child position.

Each module's parameters carry the keys of its scratch dict (``net.W``, ``net.U_f``, ...);
``net.load_scratch(params)`` copies a scratch dict in, ``net.scratch_params()`` copies one
out, so a module and :mod:`rnnbook.scratch.recursive` can be run on the same weights.

In use, with the trees and leaf tokens of ``rnnbook.data.expression_trees`` and an
embedding ``emb`` of the tokens (tree i's tokens are rows leaf_offsets[i] .. of the
concatenation, as its leaves are)::

    batch = batch_trees(trees, [len(t) for t in leaf_tokens])
    net = NaryTreeLSTM(D, H)
    h_root, c_root = net(batch, emb(torch.tensor(np.concatenate(leaf_tokens))))
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from rnnbook import cells
from rnnbook._checks import check_array, check_int, check_keys, check_option, describe
from rnnbook.nn._checks import check_float_dtype, check_tensor
from rnnbook.nn.srn import ACTIVATIONS
from rnnbook.scratch import recursive as _rec

# ---- the batch --------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """The nodes of one height t >= 1 of a :class:`TreeBatch`.

    Attributes:
        start: the row of the level's first node; its nodes are rows start .. start + n - 1.
        n: the number of nodes of this height (over all trees).
        child: (E,) int64, the row of each child, node by node, children in order.
        parent: (E,) int64, for each entry of ``child`` the position 0..n-1 of its parent.
        arity: the number of children every node of the level has, or None if it varies.
    """

    start: int
    n: int
    child: torch.Tensor
    parent: torch.Tensor
    arity: int | None


@dataclass(frozen=True)
class TreeBatch:
    """Many trees of different shapes, their nodes numbered level by level (module docstring).

    Built by :func:`batch_trees`; the modules of this file read it.

    Attributes:
        trees: the trees, as given.
        n_trees: their number.
        n_leaves: the total number of leaves (rows of the leaf input matrix).
        n_nodes: the total number of nodes, leaves included.
        height: the largest height of a tree (0 when every tree is a single leaf): the
            number of batched steps of a forward pass after the leaves.
        heights: the height of each tree.
        leaf_offsets: n_trees + 1 ints; tree i's leaves are the rows leaf_offsets[i] ..
            leaf_offsets[i+1] - 1 of the leaf input matrix, in that tree's leaf-index order.
        roots: the row of each tree's root.
        rows: for each tree, the rows of its nodes in the order of
            :func:`rnnbook.scratch.recursive.postorder` (so ``node_states[rows[i]]`` lines
            up with the scratch code's ``cache["h"]`` for tree i; its last entry is
            ``roots[i]``).
        levels: the :class:`Level` of each height 1..height.
    """

    trees: list
    n_trees: int
    n_leaves: int
    n_nodes: int
    height: int
    heights: list
    leaf_offsets: list
    roots: list
    rows: list
    levels: list = field(repr=False)

    def check_arity(self, arity: int, who: str) -> None:
        """Raise a ValueError unless every internal node of every tree has ``arity`` children.

        ``who`` names what needs it in the message (e.g. ``"RecursiveNet"``).
        """
        if all(level.arity == arity for level in self.levels):
            return
        for k, tree in enumerate(self.trees):
            try:
                _rec.check_tree(tree, arity=arity)
            except ValueError as error:
                message = f"{who} needs {arity} children per node: trees[{k}]: {error}"
                raise ValueError(message) from None


def batch_trees(trees, n_leaves=None) -> TreeBatch:
    """Batch trees of any shapes, numbering their nodes by height (see the module docstring).

    Args:
        trees: a non-empty list of trees of nested tuples (:mod:`rnnbook.scratch.recursive`):
            a leaf is an int indexing that tree's leaf inputs, an internal node a tuple of its
            children. A list, not a tuple: a tuple of trees is itself a tree.
        n_leaves: None, or a list with the number of leaf inputs of each tree (e.g. the
            lengths of ``rnnbook.data.expression_trees``'s leaf tokens), checked against the
            trees.

    Returns:
        a :class:`TreeBatch`.

    Raises:
        ValueError: for trees that are not a non-empty list, a malformed tree (as
            :func:`rnnbook.scratch.recursive.check_tree`, naming the tree), or a tree whose
            number of leaves differs from ``n_leaves``.
    """
    if not isinstance(trees, list) or len(trees) == 0:
        raise ValueError(
            "trees must be a non-empty list of trees (a tuple is itself a tree), "
            f"got {describe(trees)}"
        )
    if n_leaves is not None:
        if not isinstance(n_leaves, (list, tuple, np.ndarray)) or len(n_leaves) != len(trees):
            raise ValueError(
                f"n_leaves must be None or a list of {len(trees)} ints (one per tree), "
                f"got {describe(n_leaves)}"
            )
        n_leaves = [check_int(f"n_leaves[{k}]", n) for k, n in enumerate(n_leaves)]
    # every tree in post-order, with each node's height; leaves first take their rows
    orders, node_heights, leaf_offsets = [], [], [0]
    for k, tree in enumerate(trees):
        try:
            N = _rec.check_tree(tree, None if n_leaves is None else n_leaves[k])
        except ValueError as error:
            raise ValueError(f"trees[{k}]: {error}") from None
        nodes = _rec.postorder(tree)
        heights = []
        for kind, arg in nodes:
            heights.append(0 if kind == "leaf" else 1 + max(heights[c] for c in arg))
        orders.append(nodes)
        node_heights.append(heights)
        leaf_offsets.append(leaf_offsets[-1] + N)
    tree_heights = [hs[-1] for hs in node_heights]
    height = max(tree_heights)
    # the rows: leaves at leaf_offsets[k] + leaf index; then level by level, tree by tree
    rows = [[None] * len(nodes) for nodes in orders]
    by_height = [[] for _ in range(height + 1)]  # internal nodes: tree by tree, in post-order
    for k, nodes in enumerate(orders):
        for j, (kind, arg) in enumerate(nodes):
            if kind == "leaf":
                rows[k][j] = leaf_offsets[k] + arg
            else:
                by_height[node_heights[k][j]].append((k, j))
    levels, next_row = [], leaf_offsets[-1]
    for t in range(1, height + 1):
        start, child, parent, counts = next_row, [], [], set()
        for k, j in by_height[t]:
            children = orders[k][j][1]
            rows[k][j] = next_row
            child.extend(rows[k][c] for c in children)  # lower heights: rows already set
            parent.extend([next_row - start] * len(children))
            counts.add(len(children))
            next_row += 1
        levels.append(
            Level(
                start=start,
                n=next_row - start,
                child=torch.tensor(child, dtype=torch.int64),
                parent=torch.tensor(parent, dtype=torch.int64),
                arity=counts.pop() if len(counts) == 1 else None,
            )
        )
    return TreeBatch(
        trees=list(trees),
        n_trees=len(trees),
        n_leaves=leaf_offsets[-1],
        n_nodes=next_row,
        height=height,
        heights=tree_heights,
        leaf_offsets=leaf_offsets,
        roots=[r[-1] for r in rows],
        rows=rows,
        levels=levels,
    )


# ---- what the three modules share ---------------------------------------------------------


class _TreeModule(torch.nn.Module):
    """Parameters keyed as a scratch dict, the call's checks, and the loop over the levels."""

    def _make_params(self, shapes: dict, device, dtype) -> None:
        check_float_dtype(dtype)
        self._shapes = shapes
        for key, (shape, _) in shapes.items():
            p = torch.empty(shape, device=device, dtype=dtype)
            self.register_parameter(key, torch.nn.Parameter(p))
        self.reset_parameters()
        #: the number of batched steps over internal nodes in the last forward pass
        self.last_steps = 0

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as the scratch code does."""
        k = 1.0 / self.hidden_size**0.5
        with torch.no_grad():
            for key in self._shapes:
                getattr(self, key).uniform_(-k, k)

    def load_scratch(self, params) -> None:
        """Copy a scratch parameter dict into the module (in the module's dtype and device).

        Args:
            params: a dict of NumPy arrays (or tensors) with the keys and shapes of this
                module's scratch counterpart's ``*init_params``.

        Raises:
            ValueError: for missing or unexpected keys, or an array of the wrong shape or
                holding NaN or inf.
        """
        check_keys(params, self._shapes)
        for key, (shape, dims) in self._shapes.items():
            check_array(params[key], f"params[{key!r}]", shape=shape, dims=dims)
        with torch.no_grad():
            for key in self._shapes:
                target = getattr(self, key)
                value = params[key]
                value = value.detach() if isinstance(value, torch.Tensor) else np.asarray(value)
                target.copy_(torch.as_tensor(value).to(target))

    def scratch_params(self) -> dict:
        """The parameters as a scratch dict of NumPy arrays (copies, in the module's dtype)."""
        return {key: getattr(self, key).detach().cpu().numpy().copy() for key in self._shapes}

    def _check_call(self, batch, leaf_inputs, input_size: int) -> None:
        if not isinstance(batch, TreeBatch):
            raise ValueError(
                f"batch must be a TreeBatch from rnnbook.nn.batch_trees, got {describe(batch)}"
            )
        check_tensor(
            leaf_inputs,
            "leaf_inputs",
            shape=(batch.n_leaves, input_size),
            dims="(n_leaves, D)",
            like=next(self.parameters()),
        )

    def _run(self, batch, leaf_state, level_step):
        """Leaf states, then one ``level_step`` per height; every node's states, in row order.

        ``leaf_state`` is a tuple of (n_leaves, H) tensors (h, or h and c).
        ``level_step(level, child, parent, states)`` gets the level, its ``child`` and
        ``parent`` indices on the states' device, and the states of every row so far (a
        tuple of (rows, H) tensors); it returns the level's tuple of (level.n, H) tensors.
        Returns a tuple of (n_nodes, H) tensors; counts the steps in ``last_steps``.
        """
        levels = [leaf_state]
        self.last_steps = 0
        for level in batch.levels:
            states = tuple(torch.cat(parts) for parts in zip(*levels, strict=True))
            device = states[0].device
            new = level_step(level, level.child.to(device), level.parent.to(device), states)
            levels.append(new)
            self.last_steps += 1
        return tuple(torch.cat(parts) for parts in zip(*levels, strict=True))


# ---- the recursive network, (6.57)-(6.59) ------------------------------------------------


class RecursiveNet(_TreeModule):
    """The recursive network of (6.57)-(6.59) over a batch of binary trees.

    ``h_root = net(batch, leaf_inputs)``: h_leaf = x, and every internal node j with
    children l, r computes h_j = f(W [h_l; h_r] + b), as
    :func:`rnnbook.scratch.recursive.forward` does one tree at a time.

    Args:
        hidden_size: H, also the size of the leaf inputs (D = H).
        activation: f, one of ``rnnbook.cells.ACTIVATIONS`` ("tanh" by default).
        device, dtype: where and in which precision the parameters are created.

    Parameters: ``W`` (H, 2H), ``b`` (H,), the keys of
    :func:`rnnbook.scratch.recursive.init_params`.

    Shapes: batch a :class:`TreeBatch` of binary trees; leaf_inputs (batch.n_leaves, H);
    the result (batch.n_trees, H), row i the root of tree i.

    Attributes:
        last_steps: the number of batched steps over internal nodes the last call took,
            ``batch.height`` (at the leaves h = x: nothing to compute).

    Raises:
        ValueError: for a bad constructor argument; when called, for a batch that is not a
            TreeBatch or holds a node without exactly two children, or leaf_inputs that are
            not a tensor of the parameters' dtype and device with shape (n_leaves, H), or
            that hold NaN or inf.
    """

    def __init__(self, hidden_size, *, activation="tanh", device=None, dtype=None):
        super().__init__()
        H = check_int("hidden_size", hidden_size)
        check_option("activation", activation, cells.ACTIVATIONS)
        self.hidden_size, self.input_size, self.activation = H, H, activation
        self._make_params({"W": ((H, 2 * H), "(H, 2H)"), "b": ((H,), "(H,)")}, device, dtype)

    def node_states(self, batch, leaf_inputs):
        """Every node's state h, (batch.n_nodes, H), in the batch's row order."""
        self._check_call(batch, leaf_inputs, self.hidden_size)
        batch.check_arity(2, "RecursiveNet")
        f, H = ACTIVATIONS[self.activation], self.hidden_size

        def level_step(level, child, parent, states):
            (h,) = states
            # [h_l; h_r] of every node of the level: its two children's rows side by side
            h_cat = h[child].reshape(level.n, 2 * H)  # (n, 2H)
            # (6.57)-(6.59)  h_j = f(W [h_l; h_r] + b)   (n, H)
            return (f(torch.addmm(self.b, h_cat, self.W.T)),)

        # a leaf's state is its input, h = x, as x_1, x_2 in (6.57)   (n_leaves, H)
        (h,) = self._run(batch, (leaf_inputs,), level_step)
        return h

    def forward(self, batch, leaf_inputs):
        """The roots' states (batch.n_trees, H)."""
        return self.node_states(batch, leaf_inputs)[batch.roots]


# ---- the child-sum Tree-LSTM, (TL1)-(TL7) ------------------------------------------------


def _leaf_cell(module, x):
    """A leaf of either Tree-LSTM: no children, so c = i * u and h = o * tanh(c)."""
    # W_* x_j + b_* for i, o, u, in one product   (n_leaves, 3H)
    W = torch.cat([module.W_i, module.W_o, module.W_u])  # (3H, D)
    b = torch.cat([module.b_i, module.b_o, module.b_u])  # (3H,)
    a_i, a_o, a_u = torch.addmm(b, x, W.T).chunk(3, dim=1)
    # (TL6), (13) at a leaf: c_j = i_j * u_j;  (TL7), (14): h_j = o_j * tanh(c_j)
    c = torch.sigmoid(a_i) * torch.tanh(a_u)
    return torch.sigmoid(a_o) * torch.tanh(c), c


class ChildSumTreeLSTM(_TreeModule):
    """The child-sum Tree-LSTM (TL1)-(TL7) over a batch of trees, inputs at the leaves.

    ``h_root, c_root = net(batch, leaf_inputs)``, as
    :func:`rnnbook.scratch.recursive.tree_lstm_forward` computes one tree at a time. A node
    may have any number of children; their order does not matter.

    Args:
        input_size: D.  hidden_size: H.
        device, dtype: where and in which precision the parameters are created.

    Parameters: ``W_i``, ``W_o``, ``W_u`` (H, D); ``U_i``, ``U_f``, ``U_o``, ``U_u`` (H, H);
    ``b_i``, ``b_f``, ``b_o``, ``b_u`` (H,), the keys of
    :func:`rnnbook.scratch.recursive.tree_lstm_init_params`.

    Shapes: leaf_inputs (batch.n_leaves, D); h_root and c_root (batch.n_trees, H).

    Attributes:
        last_steps: the number of batched steps over internal nodes the last call took,
            ``batch.height`` (the leaves take one batched operation before them).

    Raises:
        ValueError: for a bad constructor argument; when called, for a batch that is not a
            TreeBatch, or leaf_inputs that are not a tensor of the parameters' dtype and
            device with shape (n_leaves, D), or that hold NaN or inf.
    """

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        D, H = check_int("input_size", input_size), check_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size = D, H
        self._make_params(_rec._tree_lstm_shapes(D, H), device, dtype)

    def node_states(self, batch, leaf_inputs):
        """Every node's (h, c), each (batch.n_nodes, H), in the batch's row order."""
        self._check_call(batch, leaf_inputs, self.input_size)
        U = torch.cat([self.U_i, self.U_o, self.U_u])  # (3H, H)
        b = torch.cat([self.b_i, self.b_o, self.b_u])  # (3H,)
        H = self.hidden_size

        def level_step(level, child, parent, states):
            h, c = states
            # (TL1)  h~_j = sum_k h_k: each child's row added into its parent's   (n, H)
            zeros = h.new_zeros(level.n, H)
            h_sum = zeros.index_add(0, parent, h[child])
            # (TL2), (TL4), (TL5): U_* h~_j + b_* for i, o, u, in one product   (n, 3H)
            a_i, a_o, a_u = torch.addmm(b, h_sum, U.T).chunk(3, dim=1)
            # (TL3)  f_jk = sigma(U_f h_k + b_f), one per child, i.e. per edge   (E, H)
            f = torch.sigmoid(torch.addmm(self.b_f, h[child], self.U_f.T))
            # (TL6)  c_j = i_j * u_j + sum_k f_jk * c_k   (n, H)
            c_j = torch.sigmoid(a_i) * torch.tanh(a_u) + zeros.index_add(0, parent, f * c[child])
            # (TL7)  h_j = o_j * tanh(c_j)   (n, H)
            return torch.sigmoid(a_o) * torch.tanh(c_j), c_j

        return self._run(batch, _leaf_cell(self, leaf_inputs), level_step)

    def forward(self, batch, leaf_inputs):
        """The roots' (h, c), each (batch.n_trees, H)."""
        h, c = self.node_states(batch, leaf_inputs)
        return h[batch.roots], c[batch.roots]


# ---- the N-ary Tree-LSTM, Tai et al. (2015) eqs (9)-(14) ---------------------------------


class NaryTreeLSTM(_TreeModule):
    """The N-ary Tree-LSTM, Tai et al. (2015) eqs (9)-(14), over a batch of trees.

    ``h_root, c_root = net(batch, leaf_inputs)``, as
    :func:`rnnbook.scratch.recursive.nary_tree_lstm_forward` computes one tree at a time
    (its docstring has the equations). Every internal node has exactly ``arity`` children,
    and each child position has its own matrices, so the order of the children matters.

    Args:
        input_size: D.  hidden_size: H.  arity: A, the children per internal node
            (the paper's N; 2 by default, for binarised trees).
        device, dtype: where and in which precision the parameters are created.

    Parameters: ``W_i``, ``W_o``, ``W_u`` (H, D); ``U_i``, ``U_o``, ``U_u`` (A, H, H),
    ``U_*[l]`` for child position l; ``U_f`` (A, A, H, H), ``U_f[k, l]`` from child l to
    child k's forget gate; ``b_i``, ``b_f``, ``b_o``, ``b_u`` (H,): the keys of
    :func:`rnnbook.scratch.recursive.nary_tree_lstm_init_params`.

    Shapes: leaf_inputs (batch.n_leaves, D); h_root and c_root (batch.n_trees, H).

    Attributes:
        last_steps: the number of batched steps over internal nodes the last call took,
            ``batch.height`` (the leaves take one batched operation before them).

    Raises:
        ValueError: for a bad constructor argument; when called, for a batch that is not a
            TreeBatch or holds a node without exactly ``arity`` children, or leaf_inputs
            that are not a tensor of the parameters' dtype and device with shape
            (n_leaves, D), or that hold NaN or inf.
    """

    def __init__(self, input_size, hidden_size, arity=2, *, device=None, dtype=None):
        super().__init__()
        D, H = check_int("input_size", input_size), check_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.arity = D, H, check_int("arity", arity)
        self._make_params(_rec._nary_shapes(D, H, self.arity), device, dtype)

    def node_states(self, batch, leaf_inputs):
        """Every node's (h, c), each (batch.n_nodes, H), in the batch's row order."""
        self._check_call(batch, leaf_inputs, self.input_size)
        batch.check_arity(self.arity, "NaryTreeLSTM")
        A, H = self.arity, self.hidden_size
        # One matrix M (A H, (3 + A) H) so that [h_j1; ...; h_jA] M holds, for i, o, u,
        # sum_l U_l^(*) h_jl, and for each k, sum_l U_kl^(f) h_jl:
        # the block of rows l and columns * is U_l^(*)^T, of rows l and columns f_k U_kl^(f)^T
        M_iou = [U.permute(0, 2, 1).reshape(A * H, H) for U in (self.U_i, self.U_o, self.U_u)]
        M_f = self.U_f.permute(1, 3, 0, 2).reshape(A * H, A * H)
        M = torch.cat([*M_iou, M_f], dim=1)  # (A H, (3 + A) H)
        b = torch.cat([self.b_i, self.b_o, self.b_u, self.b_f.repeat(A)])  # ((3 + A) H,)

        def level_step(level, child, parent, states):
            h, c = states
            # the children's states in order, side by side: [h_j1; ...; h_jA]   (n, A H)
            h_kids = h[child].reshape(level.n, A * H)
            a = torch.addmm(b, h_kids, M)  # (n, (3 + A) H)
            # (9)  i_j = sigma(sum_l U_l^(i) h_jl + b_i)   (n, H)
            i = torch.sigmoid(a[:, :H])
            # (11)  o_j = sigma(sum_l U_l^(o) h_jl + b_o)   (n, H)
            o = torch.sigmoid(a[:, H : 2 * H])
            # (12)  u_j = tanh(sum_l U_l^(u) h_jl + b_u)   (n, H)
            u = torch.tanh(a[:, 2 * H : 3 * H])
            # (10)  f_jk = sigma(sum_l U_kl^(f) h_jl + b_f), k = 1..A   (n, A, H)
            f = torch.sigmoid(a[:, 3 * H :].reshape(level.n, A, H))
            # (13)  c_j = i_j * u_j + sum_l f_jl * c_jl   (n, H)
            c_j = i * u + (f * c[child].reshape(level.n, A, H)).sum(dim=1)
            # (14)  h_j = o_j * tanh(c_j)   (n, H)
            return o * torch.tanh(c_j), c_j

        return self._run(batch, _leaf_cell(self, leaf_inputs), level_step)

    def forward(self, batch, leaf_inputs):
        """The roots' (h, c), each (batch.n_trees, H)."""
        h, c = self.node_states(batch, leaf_inputs)
        return h[batch.roots], c[batch.roots]
