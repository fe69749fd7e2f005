"""rnnbook.nn.tree: many trees batched by height give what the scratch code gives tree by tree.

Each module runs once on a batch of differently shaped trees; the scratch functions of
``rnnbook.scratch.recursive`` run on every tree alone, node by node in post-order, on the
same weights (``load_scratch``). Roots, every node's state, the parameter gradients
(summed over the trees) and the leaf inputs' gradients must agree in float64. The number of
batched steps is counted by wrapping the nonlinearities the modules call.
"""

import dataclasses

import numpy as np
import pytest
import torch
from trees import random_tree

from rnnbook import data, nn
from rnnbook.nn import tree as nn_tree
from rnnbook.scratch import recursive as rec

# ---- trees ---------------------------------------------------------------------------------


def random_full_tree(n_internal: int, arity: int, rng):
    """A random tree whose internal nodes all have ``arity`` children: grow by splitting leaves."""
    tree = "leaf"

    def split(node, target):
        # replace the target-th leaf (left to right) by a node of `arity` leaves
        if node == "leaf":
            return (("leaf",) * arity, target - 1) if target == 0 else (node, target - 1)
        out = []
        for child in node:
            child, target = split(child, target)
            out.append(child)
        return tuple(out), target

    for m in range(n_internal):
        n_leaves = 1 + m * (arity - 1)
        tree, _ = split(tree, int(rng.integers(n_leaves)))
    count = iter(range(10**6))

    def number(node):
        return next(count) if node == "leaf" else tuple(number(c) for c in node)

    return number(tree)


#: fixed shapes: one leaf, a pair, balanced, the chain of figure 6.11b, unbalanced ones
BINARY = [0, (0, 1), ((0, 1), (2, 3)), rec.chain(6), (0, ((1, 2), 3)), ((0, (1, 2)), (3, 4))]


def binary_trees(seed, n=30):
    rng = np.random.default_rng(seed)
    return BINARY + [random_tree(int(rng.integers(1, 13)), rng) for _ in range(n)]


def mixed_trees(seed, n=30):
    """Nodes of 1, 2 and 3 children, for the child-sum Tree-LSTM."""
    rng = np.random.default_rng(seed)
    trees = [random_tree(int(rng.integers(1, 13)), rng, max_children=3) for _ in range(n)]
    return [*BINARY, (0,), ((0, 1, 2),), (0, (1, 2, 3), 4), (((0,), 1), 2), *trees]


def full_trees(arity, seed, n=30):
    rng = np.random.default_rng(seed)
    fixed = [random_full_tree(m, arity, rng) for m in range(4)]
    if arity == 2:
        fixed += BINARY
    return fixed + [random_full_tree(int(rng.integers(0, 8)), arity, rng) for _ in range(n)]


def test_batch_trees_numbers_the_nodes_level_by_level():
    b = nn.batch_trees([0, (0, 1), ((0, 1), 2)])
    assert (b.n_trees, b.n_leaves, b.n_nodes, b.height) == (3, 6, 9, 2)
    assert b.heights == [0, 1, 2] and b.leaf_offsets == [0, 1, 3, 6]
    # leaves first (rows 0-5), then height 1: tree 1's root (6), tree 2's (0, 1) (7); then 8
    assert b.rows == [[0], [1, 2, 6], [3, 4, 7, 5, 8]]
    assert b.roots == [0, 6, 8]
    assert [(lv.start, lv.n, lv.arity) for lv in b.levels] == [(6, 2, 2), (8, 1, 2)]
    assert b.levels[0].child.tolist() == [1, 2, 3, 4] and b.levels[1].child.tolist() == [7, 5]
    assert b.levels[0].parent.tolist() == [0, 0, 1, 1]
    assert nn.batch_trees([0, 0]).height == 0
    assert nn.batch_trees([(0, (1, 2, 3))]).levels[1].arity == 2
    assert nn.batch_trees([((0,), (1, 2))]).levels[0].arity is None


@pytest.mark.parametrize("seed", range(3))
def test_every_child_is_computed_before_its_parent(seed):
    trees = mixed_trees(seed)
    b = nn.batch_trees(trees)
    assert b.height == max(b.heights) and b.n_trees == len(trees)
    assert b.n_nodes == sum(len(rec.postorder(t)) for t in trees)
    assert sorted(r for rows in b.rows for r in rows) == list(range(b.n_nodes))
    for level in b.levels:
        assert level.child.max() < level.start
    assert b.levels[-1].start + b.levels[-1].n == b.n_nodes


# ---- the modules against the scratch code, tree by tree --------------------------------------

# name -> (module(D, H, dtype), scratch init(D, H, rng), forward, backward, trees(seed))
MODELS = {
    "recursive": (
        lambda D, H, dt: nn.RecursiveNet(H, dtype=dt),
        lambda D, H, rng: rec.init_params(H, rng),
        rec.forward,
        rec.backward,
        binary_trees,
    ),
    "child_sum": (
        lambda D, H, dt: nn.ChildSumTreeLSTM(D, H, dtype=dt),
        lambda D, H, rng: rec.tree_lstm_init_params(D, H, rng),
        rec.tree_lstm_forward,
        rec.tree_lstm_backward,
        mixed_trees,
    ),
    "nary2": (
        lambda D, H, dt: nn.NaryTreeLSTM(D, H, 2, dtype=dt),
        lambda D, H, rng: rec.nary_tree_lstm_init_params(D, H, 2, rng),
        rec.nary_tree_lstm_forward,
        rec.nary_tree_lstm_backward,
        lambda seed: full_trees(2, seed),
    ),
    "nary3": (
        lambda D, H, dt: nn.NaryTreeLSTM(D, H, 3, dtype=dt),
        lambda D, H, rng: rec.nary_tree_lstm_init_params(D, H, 3, rng),
        rec.nary_tree_lstm_forward,
        rec.nary_tree_lstm_backward,
        lambda seed: full_trees(3, seed),
    ),
}


def _setup(name, seed, dtype=torch.float64, trees=None):
    make, init, _, _, make_trees = MODELS[name]
    rng = np.random.default_rng(seed)
    H = 4
    D = H if name == "recursive" else 3
    p = {k: 2 * v for k, v in init(D, H, rng).items()}  # larger weights: gates away from 1/2
    net = make(D, H, dtype)
    net.load_scratch(p)
    trees = make_trees(seed) if trees is None else trees
    batch = nn.batch_trees(trees)
    x = rng.standard_normal((batch.n_leaves, D))
    d_root = rng.standard_normal((batch.n_trees, H))
    return net, p, trees, batch, x, d_root


def scratch_tree_by_tree(name, p, trees, batch, x, d_root):
    """Roots, node states (rows in batch order), summed parameter grads and dx, tree by tree."""
    _, _, forward, backward, _ = MODELS[name]
    roots, nodes = [], np.zeros((batch.n_nodes, d_root.shape[1]))
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    for k, tree in enumerate(trees):
        lo, hi = batch.leaf_offsets[k], batch.leaf_offsets[k + 1]
        h, cache = forward(tree, x[lo:hi, None, :], p)  # one tree, B = 1
        roots.append(h[0])
        nodes[batch.rows[k]] = np.stack([h_j[0] for h_j in cache["h"]])
        dx_k, g = backward(d_root[k : k + 1], cache)
        dx[lo:hi] = dx_k[:, 0]
        for key in grads:
            grads[key] += g[key]
    return np.stack(roots), nodes, grads, dx


def module_run(net, batch, x, d_root):
    tx = torch.tensor(x, dtype=next(net.parameters()).dtype)
    tx.requires_grad_(True)
    out = net(batch, tx)
    h = out[0] if isinstance(out, tuple) else out
    (h * torch.tensor(d_root).to(h)).sum().backward()
    grads = {k: getattr(net, k).grad.double().numpy() for k in net.scratch_params()}
    return h.detach().double().numpy(), grads, tx.grad.double().numpy()


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", list(MODELS))
def test_a_batch_gives_the_scratch_roots_states_and_gradients(name, seed):
    net, p, trees, batch, x, d_root = _setup(name, seed)
    roots, nodes, grads, dx = scratch_tree_by_tree(name, p, trees, batch, x, d_root)
    h, g, dx_net = module_run(net, batch, x, d_root)
    np.testing.assert_allclose(h, roots, rtol=1e-12, atol=1e-14)
    states = net.node_states(batch, torch.tensor(x))
    states = states[0] if isinstance(states, tuple) else states
    np.testing.assert_allclose(states.detach().numpy(), nodes, rtol=1e-12, atol=1e-14)
    assert set(g) == set(p)
    for key in p:
        np.testing.assert_allclose(g[key], grads[key], rtol=1e-10, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(dx_net, dx, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", ["recursive", "nary2"])
def test_the_chapters_expression_trees_give_the_scratch_roots(name):
    rng = np.random.default_rng(5)
    trees, tokens, _, _ = data.expression_trees(40, 4, rng)
    assert nn.batch_trees(trees, [len(t) for t in tokens]).n_leaves == sum(map(len, tokens))
    net, p, trees, batch, x, d_root = _setup(name, 5, trees=trees)
    roots, _, grads, dx = scratch_tree_by_tree(name, p, trees, batch, x, d_root)
    h, g, dx_net = module_run(net, batch, x, d_root)
    np.testing.assert_allclose(h, roots, rtol=1e-12, atol=1e-14)
    for key in p:
        np.testing.assert_allclose(g[key], grads[key], rtol=1e-10, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(dx_net, dx, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", list(MODELS))
def test_the_comparison_fails_on_planted_errors(name):
    """A wrong weight, or a batch whose level reads its children in another order, is seen."""
    net, p, trees, batch, x, d_root = _setup(name, 0)
    roots, *_ = scratch_tree_by_tree(name, p, trees, batch, x, d_root)
    # 1. one matrix that only internal nodes use, perturbed in the module
    key = "W" if name == "recursive" else "U_i"
    wrong = dict(p, **{key: p[key] * 1.1})
    net.load_scratch(wrong)
    assert np.abs(module_run(net, batch, x, d_root)[0] - roots).max() > 1e-3
    net.load_scratch(p)
    assert np.abs(module_run(net, batch, x, d_root)[0] - roots).max() < 1e-12
    if name == "child_sum":
        return  # the child-sum form ignores the order of the children (tested below)
    # 2. the children of the last level read in reverse order
    last = batch.levels[-1]
    flipped = dataclasses.replace(last, child=last.child.reshape(last.n, -1).flip(1).reshape(-1))
    bad = dataclasses.replace(batch, levels=[*batch.levels[:-1], flipped])
    assert np.abs(module_run(net, bad, x, d_root)[0] - roots).max() > 1e-3


def test_load_scratch_and_scratch_params_round_trip():
    rng = np.random.default_rng(0)
    for net, p in [
        (nn.RecursiveNet(3, dtype=torch.float64), rec.init_params(3, rng)),
        (nn.ChildSumTreeLSTM(2, 3, dtype=torch.float64), rec.tree_lstm_init_params(2, 3, rng)),
        (
            nn.NaryTreeLSTM(2, 3, 3, dtype=torch.float64),
            rec.nary_tree_lstm_init_params(2, 3, 3, rng),
        ),
    ]:
        net.load_scratch(p)
        q = net.scratch_params()
        assert set(q) == set(p) == {name for name, _ in net.named_parameters()}
        for k in p:
            np.testing.assert_array_equal(q[k], p[k])


# ---- order of the children -------------------------------------------------------------------


def test_the_nary_tree_lstm_tells_the_children_apart_and_the_child_sum_does_not():
    """(0, 1) and (1, 0) over the same two leaf vectors: the same root only for child-sum."""
    rng = np.random.default_rng(3)
    batch = nn.batch_trees([(0, 1), (1, 0), ((0, 1), 2), (2, (1, 0))])
    pair = rng.standard_normal((2, 3))
    triple = rng.standard_normal((3, 3))
    x = torch.tensor(np.concatenate([pair, pair, triple, triple]))
    nary = nn.NaryTreeLSTM(3, 4, dtype=torch.float64)
    nary.load_scratch(rec.nary_tree_lstm_init_params(3, 4, 2, rng))
    child_sum = nn.ChildSumTreeLSTM(3, 4, dtype=torch.float64)
    child_sum.load_scratch(rec.tree_lstm_init_params(3, 4, rng))
    recursive = nn.RecursiveNet(3, dtype=torch.float64)
    recursive.load_scratch(rec.init_params(3, rng))
    h_sum, c_sum = child_sum(batch, x)
    torch.testing.assert_close(h_sum[0], h_sum[1], rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(c_sum[0], c_sum[1], rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(h_sum[2], h_sum[3], rtol=1e-14, atol=1e-15)
    h_nary, _ = nary(batch, x)
    h_rec = recursive(batch, x)
    for h in (h_nary, h_rec):
        assert (h[0] - h[1]).abs().max() > 1e-3
        assert (h[2] - h[3]).abs().max() > 1e-3


# ---- the cost is the height, in batched steps ------------------------------------------------


#: a tree of height 4 for each model
TALL = {
    "recursive": rec.chain(5),
    "child_sum": ((((0,), 1, 2), 3), 4),
    "nary2": (0, ((1, 2), (3, (4, 5)))),
    "nary3": ((((0, 1, 2), 3, 4), 5, 6), 7, 8),
}


def _count_calls(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("n_trees", [1, 40])
def test_a_forward_pass_takes_height_batched_steps(monkeypatch, name, n_trees):
    """Counted independently: each level calls its nonlinearities once, whatever the trees."""
    trees = [TALL[name], *MODELS[name][4](1)][:n_trees]
    net, _, trees, batch, x, _ = _setup(name, 1, trees=trees)
    assert batch.height == max(batch.heights) >= 4
    if name == "recursive":
        calls = _count_calls(monkeypatch, torch, "tanh")
        monkeypatch.setitem(nn_tree.ACTIVATIONS, "tanh", torch.tanh)
        per_leaf_pass, per_level = 0, 1  # h = x at the leaves; f once per level
    else:
        calls = _count_calls(monkeypatch, torch, "sigmoid")
        per_leaf_pass, per_level = 2, 3  # i, o at the leaves; i, o, f per level
    net(batch, torch.tensor(x))
    assert net.last_steps == batch.height
    assert len(calls) == per_leaf_pass + per_level * batch.height


# ---- float32 and the GPU ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_float32_is_close_to_the_float64_scratch(name):
    net, p, trees, batch, x, d_root = _setup(name, 2, dtype=torch.float32)
    assert next(net.parameters()).dtype == torch.float32
    roots, _, grads, _ = scratch_tree_by_tree(name, p, trees, batch, x, d_root)
    h, g, _ = module_run(net, batch, x, d_root)
    np.testing.assert_allclose(h, roots, rtol=1e-4, atol=1e-5)
    for key in p:
        np.testing.assert_allclose(g[key], grads[key], rtol=1e-3, atol=1e-4, err_msg=key)


def test_the_default_dtype_is_torchs_default():
    assert nn.NaryTreeLSTM(2, 3).U_f.dtype == torch.get_default_dtype()
    assert nn.NaryTreeLSTM(2, 3).U_f.shape == (2, 2, 3, 3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", list(MODELS))
def test_cuda_gives_what_the_cpu_gives(name, dtype):
    net, p, trees, batch, x, d_root = _setup(name, 3, dtype=dtype)
    gpu = MODELS[name][0](net.input_size, net.hidden_size, dtype)
    gpu = gpu.to("cuda")
    gpu.load_scratch(p)
    assert next(gpu.parameters()).is_cuda
    h_cpu = net(batch, torch.tensor(x, dtype=dtype))
    h_gpu = gpu(batch, torch.tensor(x, dtype=dtype, device="cuda"))
    h_cpu = h_cpu[0] if isinstance(h_cpu, tuple) else h_cpu
    h_gpu = h_gpu[0] if isinstance(h_gpu, tuple) else h_gpu
    assert h_gpu.is_cuda
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(h_gpu.cpu(), h_cpu, rtol=tol, atol=tol)
    (h_gpu * torch.tensor(d_root, dtype=dtype, device="cuda")).sum().backward()
    (h_cpu * torch.tensor(d_root, dtype=dtype)).sum().backward()
    for (key, a), b in zip(gpu.named_parameters(), net.parameters(), strict=True):
        torch.testing.assert_close(a.grad.cpu(), b.grad, rtol=tol, atol=tol, msg=key)


# ---- bad input -------------------------------------------------------------------------------


def _bad_calls():
    f64 = torch.float64
    b2 = nn.batch_trees([(0, 1), ((0, 1), 2)])
    b3 = nn.batch_trees([(0, 1), (0, 1, 2)])
    b1 = nn.batch_trees([((0,), 1)])
    rn = nn.RecursiveNet(3, dtype=f64)
    cs = nn.ChildSumTreeLSTM(2, 3, dtype=f64)
    na = nn.NaryTreeLSTM(2, 3, dtype=f64)
    x3, x2 = torch.zeros(5, 3, dtype=f64), torch.zeros(5, 2, dtype=f64)
    nan = x2.clone()
    nan[1, 0] = float("nan")
    rng = np.random.default_rng(0)
    p = rec.init_params(3, rng)
    return [
        (lambda: nn.batch_trees(((0, 1), (0, 1))), "trees must be a non-empty list"),
        (lambda: nn.batch_trees([]), "trees must be a non-empty list"),
        (lambda: nn.batch_trees([(0, 1), (0, 2)]), r"trees\[1\]: .*leaf index 0..1 once"),
        (lambda: nn.batch_trees([(0, 1), (0, 5)]), r"trees\[1\]: .*got \[0, 5\]"),
        (lambda: nn.batch_trees([(0, ())]), r"trees\[0\]: tree\[1\] must have at least one"),
        (lambda: nn.batch_trees([(0, "a")]), r"must be a leaf index \(an int >= 0\)"),
        (lambda: nn.batch_trees([(0, 1, 2)], [2]), r"trees\[0\]: .*must have N = 2 leaves"),
        (lambda: nn.batch_trees([(0, 1)], [2, 3]), "n_leaves must be None or a list of 1"),
        (lambda: nn.batch_trees([(0, 1)], [1.5]), r"n_leaves\[0\] must be an int >= 1"),
        (lambda: rn(b2, torch.zeros(4, 3, dtype=f64)), r"shape \(n_leaves, D\) = \(5, 3\)"),
        (lambda: cs(b2, x3), r"leaf_inputs must have shape \(n_leaves, D\) = \(5, 2\)"),
        (lambda: cs(b2, x2[0]), "leaf_inputs must have rank 2"),
        (lambda: na(b2, nan), "leaf_inputs must contain only finite numbers"),
        (lambda: na(b2, x2.float()), "the parameters' dtype float64, got float32"),
        (lambda: rn(b2, x3.numpy()), "leaf_inputs must be a torch.Tensor, got ndarray"),
        (lambda: rn([(0, 1)], x3), "batch must be a TreeBatch from rnnbook.nn.batch_trees"),
        (
            lambda: rn(b3, x3),
            r"RecursiveNet needs 2 children per node: trees\[1\]: tree must have exactly 2 "
            "children, got a tuple of 3",
        ),
        (lambda: na(b3, x2), r"NaryTreeLSTM needs 2 children per node: trees\[1\]"),
        (lambda: na(b1, x2[:2]), r"trees\[0\]: tree\[0\] must have exactly 2 children"),
        (
            lambda: nn.NaryTreeLSTM(2, 3, 3, dtype=f64)(b2, x2),
            r"NaryTreeLSTM needs 3 children per node: trees\[0\]",
        ),
        (lambda: nn.RecursiveNet(0), "hidden_size must be an int >= 1, got 0"),
        (lambda: nn.RecursiveNet(3, activation="softmax"), "activation must be one of"),
        (lambda: nn.RecursiveNet(3, dtype=torch.int64), "dtype must be None or a floating"),
        (lambda: nn.ChildSumTreeLSTM(2.0, 3), "input_size must be an int >= 1"),
        (lambda: nn.NaryTreeLSTM(2, 3, arity=0), "arity must be an int >= 1, got 0"),
        (lambda: rn.load_scratch({"W": p["W"]}), r"missing \['b'\]"),
        (
            lambda: rn.load_scratch({"W": p["W"].T, "b": p["b"]}),
            r"params\['W'\] must have shape \(H, 2H\) = \(3, 6\), got shape \(6, 3\)",
        ),
        (
            lambda: cs.load_scratch(rec.nary_tree_lstm_init_params(2, 3, 2, rng)),
            r"params\['U_i'\] must have rank 2 with shape \(H, H\) = \(3, 3\), got rank 3",
        ),
        (
            lambda: na.load_scratch(rec.tree_lstm_init_params(2, 3, rng)),
            r"params\['U_i'\] must have rank 3 with shape \(A, H, H\) = \(2, 3, 3\)",
        ),
    ]


@pytest.mark.parametrize("index", range(len(_bad_calls())))
def test_bad_input_is_a_value_error(index):
    call, match = _bad_calls()[index]
    with pytest.raises(ValueError, match=match):
        call()
