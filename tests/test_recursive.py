"""The recursive network (6.57)-(6.59) and the child-sum Tree-LSTM: trees, gradients, 6-4.

Each backward pass is checked per parameter key (and for the leaf inputs) against centred
finite differences and against torch autograd of the same network written again in
PyTorch by plain recursion over the nested tuples (not through ``postorder``).
"""

import numpy as np
import pytest
import torch
from trees import random_tree

from rnnbook import gradcheck
from rnnbook.scratch import recursive as rec
from rnnbook.scratch import srn

#: binary trees: one leaf, a pair, figure 6.11a, the chain of figure 6.11b, unbalanced ones
BINARY = [0, (0, 1), ((0, 1), (2, 3)), rec.chain(4), (0, ((1, 2), 3)), ((0, (1, 2)), (3, 4))]
#: trees with any number of children: the binary ones and nodes of 1 and 3 children
NARY = [*BINARY, (0,), ((0, 1, 2),), (0, (1, 2, 3), 4), (((0,), 1), 2)]


def _n_leaves(tree):
    return rec.check_tree(tree)


# ---- trees ---------------------------------------------------------------------------


def test_trees_and_their_postorder():
    assert rec.chain(1) == 0
    assert rec.chain(4) == (((0, 1), 2), 3)
    assert rec.check_tree(((0, 1), (2, 3)), 4, arity=2) == 4
    assert rec.postorder(((0, 1), 2)) == [
        ("leaf", 0),
        ("leaf", 1),
        ("node", (0, 1)),
        ("leaf", 2),
        ("node", (2, 3)),
    ]
    assert rec.postorder(0) == [("leaf", 0)]
    rng = np.random.default_rng(0)
    for n in range(1, 9):
        assert rec.check_tree(random_tree(n, rng), arity=2) == n
        assert rec.check_tree(random_tree(n, rng, 3)) == n


BAD_TREES = [
    ((), None, None, "must have at least one child, got a tuple of 0"),
    ((0, (1, 2, 3)), None, 2, r"tree\[1\] must have exactly 2 children, got a tuple of 3"),
    ((0,), None, 2, "must have exactly 2 children, got a tuple of 1"),
    ((0, -1), None, None, r"tree\[1\] must be a leaf index \(an int >= 0\)"),
    ((0, 1.0), None, None, r"tree\[1\] must be a leaf index .*got float 1.0"),
    ([0, 1], None, None, "must be a leaf index .*got list"),
    ((0, True), None, None, "got bool True"),
    ((0, 0), None, None, r"must use each leaf index 0..1 once, got \[0, 0\]"),
    ((0, 2), None, None, r"0..1 once, got \[0, 2\]"),
    ((0, 1), 3, None, "must have N = 3 leaves"),
]


@pytest.mark.parametrize(("tree", "n", "arity", "match"), BAD_TREES)
def test_a_malformed_tree_is_a_value_error(tree, n, arity, match):
    with pytest.raises(ValueError, match=match):
        rec.check_tree(tree, n, arity=arity)


# ---- the recursive network: a PyTorch reference, by recursion over the tuples --------


def torch_recursive(tree, x, p, activation="tanh"):
    f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}.get(
        activation, lambda z: z
    )
    if isinstance(tree, int):
        return x[tree]
    left, right = (torch_recursive(t, x, p, activation) for t in tree)
    return f(torch.cat([left, right], dim=1) @ p["W"].T + p["b"])


def torch_tree_lstm(tree, x, p):
    """Returns (h, c) of the node ``tree``; a leaf reads x, an internal node its children."""
    s = torch.sigmoid
    if isinstance(tree, int):
        i = s(x[tree] @ p["W_i"].T + p["b_i"])
        o = s(x[tree] @ p["W_o"].T + p["b_o"])
        u = torch.tanh(x[tree] @ p["W_u"].T + p["b_u"])
        c = i * u
        return o * torch.tanh(c), c
    kids = [torch_tree_lstm(t, x, p) for t in tree]
    h_sum = sum(h for h, _ in kids)
    i = s(h_sum @ p["U_i"].T + p["b_i"])
    o = s(h_sum @ p["U_o"].T + p["b_o"])
    u = torch.tanh(h_sum @ p["U_u"].T + p["b_u"])
    c = i * u + sum(s(h_k @ p["U_f"].T + p["b_f"]) * c_k for h_k, c_k in kids)
    return o * torch.tanh(c), c


def autograd(run, tree, x, params, d_root):
    tx = torch.tensor(x, requires_grad=True)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    out = run(tree, tx, tp)
    out = out[0] if isinstance(out, tuple) else out
    (out * torch.tensor(d_root)).sum().backward()
    # a parameter no node uses (U_* in a one-leaf tree) gets no .grad: its gradient is 0
    grads = {
        k: np.zeros_like(params[k]) if v.grad is None else v.grad.numpy() for k, v in tp.items()
    }
    return out.detach().numpy(), tx.grad.numpy(), grads


def _problem(tree, B, D, H, seed, lstm):
    rng = np.random.default_rng(seed)
    N = _n_leaves(tree)
    if lstm:
        p = rec.tree_lstm_init_params(D, H, rng)
        p = {k: 2 * v for k, v in p.items()}  # larger weights: gates away from 1/2
    else:
        p = rec.init_params(H, rng)
        p = {k: 2 * v for k, v in p.items()}
        D = H
    x = rng.standard_normal((N, B, D))
    return x, p, rng.standard_normal((B, H))


def _loss(forward, tree, x, d_root):
    return lambda params: float((forward(tree, x, params)[0] * d_root).sum())


def _check_fd(forward, backward, tree, x, p, d_root):
    h, cache = forward(tree, x, p)
    dx, grads = backward(d_root, cache)
    errors = gradcheck.check_gradients(_loss(forward, tree, x, d_root), p, grads)
    dx_num = gradcheck.numerical_gradient(lambda _: _loss(forward, tree, x, d_root)(p), x)
    errors["x"] = gradcheck.relative_error(dx, dx_num)
    return errors


def _recursive_tanh(tree, x, p):
    return rec.forward(tree, x, p)


CASES = [(t, 2, 3, 3, s) for s, t in enumerate(BINARY)]


@pytest.mark.parametrize(("tree", "B", "D", "H", "seed"), CASES, ids=[str(c[0]) for c in CASES])
def test_recursive_backward_matches_finite_differences_per_key(tree, B, D, H, seed):
    x, p, d_root = _problem(tree, B, D, H, seed, lstm=False)
    errors = _check_fd(rec.forward, rec.backward, tree, x, p, d_root)
    assert set(errors) == {"W", "b", "x"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("seed", range(4))
def test_recursive_backward_matches_autograd_on_random_trees(activation, seed):
    rng = np.random.default_rng(100 + seed)
    tree = random_tree(int(rng.integers(1, 9)), rng)
    x, p, d_root = _problem(tree, 2, 4, 4, seed, lstm=False)
    h, cache = rec.forward(tree, x, p, activation=activation)
    dx, grads = rec.backward(d_root, cache)
    out, dx_ref, g_ref = autograd(
        lambda t, tx, tp: torch_recursive(t, tx, tp, activation), tree, x, p, d_root
    )
    np.testing.assert_allclose(h, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    for k in p:
        np.testing.assert_allclose(grads[k], g_ref[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_a_single_leaf_passes_its_input_and_gradient_through():
    x, p, d_root = _problem(0, 2, 3, 3, 0, lstm=False)
    h, cache = rec.forward(0, x, p)
    np.testing.assert_array_equal(h, x[0])
    dx, grads = rec.backward(d_root, cache)
    np.testing.assert_array_equal(dx[0], d_root)
    assert not grads["W"].any() and not grads["b"].any()


def test_the_gradient_check_fails_on_a_planted_error(monkeypatch):
    """A backward pass that drops f'(z) (dz = dh) is caught, key by key."""
    tree = (0, ((1, 2), 3))
    x, p, d_root = _problem(tree, 2, 3, 3, 1, lstm=False)
    assert max(_check_fd(rec.forward, rec.backward, tree, x, p, d_root).values()) < 1e-7
    monkeypatch.setattr(rec, "activate_backward", lambda name, dy, z, y: dy)
    errors = _check_fd(rec.forward, rec.backward, tree, x, p, d_root)
    assert min(errors[k] for k in ("W", "b", "x")) > 1e-2, errors


# ---- the Tree-LSTM --------------------------------------------------------------------

LSTM_CASES = [(t, 2, 2, 3, s) for s, t in enumerate(NARY)]


@pytest.mark.parametrize(
    ("tree", "B", "D", "H", "seed"), LSTM_CASES, ids=[str(c[0]) for c in LSTM_CASES]
)
def test_tree_lstm_backward_matches_finite_differences_per_key(tree, B, D, H, seed):
    x, p, d_root = _problem(tree, B, D, H, seed, lstm=True)
    errors = _check_fd(rec.tree_lstm_forward, rec.tree_lstm_backward, tree, x, p, d_root)
    assert set(errors) == {*p, "x"} and "W_f" not in errors
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("seed", range(6))
def test_tree_lstm_backward_matches_autograd_on_random_trees(seed):
    rng = np.random.default_rng(200 + seed)
    tree = random_tree(int(rng.integers(1, 9)), rng, max_children=3)
    x, p, d_root = _problem(tree, 3, 2, 4, seed, lstm=True)
    h, cache = rec.tree_lstm_forward(tree, x, p)
    dx, grads = rec.tree_lstm_backward(d_root, cache)
    out, dx_ref, g_ref = autograd(torch_tree_lstm, tree, x, p, d_root)
    np.testing.assert_allclose(h, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    for k in p:
        np.testing.assert_allclose(grads[k], g_ref[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_the_tree_lstm_gradient_check_fails_on_a_planted_error():
    """A backward pass that reads a wrong forget gate at the root is caught."""
    tree = (0, (1, 2, 3), 4)
    x, p, d_root = _problem(tree, 2, 2, 3, 3, lstm=True)
    h, cache = rec.tree_lstm_forward(tree, x, p)
    cache["steps"][-1]["f"] = [0.5 * f for f in cache["steps"][-1]["f"]]
    dx, grads = rec.tree_lstm_backward(d_root, cache)
    errors = gradcheck.check_gradients(_loss(rec.tree_lstm_forward, tree, x, d_root), p, grads)
    assert errors["U_f"] > 1e-2 and errors["W_i"] > 1e-2, errors


def test_a_tree_lstm_leaf_is_an_lstm_step_from_a_zero_state():
    """One leaf: c = i * u, h = o * tanh(c), the LSTM's (6.40)-(6.41) with c_{t-1} = 0."""
    x, p, _ = _problem(0, 2, 3, 4, 0, lstm=True)
    h, cache = rec.tree_lstm_forward(0, x, p)
    s = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    i, o = s(x[0] @ p["W_i"].T + p["b_i"]), s(x[0] @ p["W_o"].T + p["b_o"])
    np.testing.assert_allclose(h, o * np.tanh(i * np.tanh(x[0] @ p["W_u"].T + p["b_u"])))


# ---- exercise 6-4: on a chain the recursive network is an SRN ----------------------------


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("n", [2, 4, 7])
def test_on_a_chain_the_recursive_network_is_an_srn(activation, n):
    """h_j = f(W_1 h_{j-1} + W_2 x_{j+1} + b) is (6.3)-(6.4) with U = W_1, W = W_2, h_0 = x_1."""
    tree = rec.chain(n)
    x, p, d_root = _problem(tree, 3, 4, 4, n, lstm=False)
    h_root, cache = rec.forward(tree, x, p, activation=activation)
    q = rec.srn_params_of_chain(p)
    states, s_cache = srn.forward(x[1:], x[0], q, activation=activation)
    # every internal node's state equals the SRN's state at the same step
    inner = [cache["h"][j] for j, (kind, _) in enumerate(cache["nodes"]) if kind == "node"]
    np.testing.assert_allclose(np.stack(inner), states, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h_root, s_cache["final"], rtol=1e-13, atol=1e-15)
    # and so are the gradients: dx_1 is the SRN's dh_0, dW is [dU | dW]
    dx, grads = rec.backward(d_root, cache)
    dx_s, dh0, g_s = srn.backward(np.zeros_like(states), s_cache, d_final=d_root)
    np.testing.assert_allclose(dx[0], dh0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx[1:], dx_s, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads["W"], np.hstack([g_s["U"], g_s["W"]]), rtol=1e-12)
    np.testing.assert_allclose(grads["b"], g_s["b"], rtol=1e-12)


def test_the_chain_is_not_an_srn_started_from_zero_over_all_leaves():
    """The equivalence needs h_0 = x_1: from h_0 = 0 over x_1..x_n the states differ."""
    tree = rec.chain(4)
    x, p, _ = _problem(tree, 2, 3, 3, 0, lstm=False)
    h_root, _ = rec.forward(tree, x, p)
    _, s_cache = srn.forward(x, None, rec.srn_params_of_chain(p))
    assert np.abs(h_root - s_cache["final"]).max() > 1e-3


# ---- bad input ---------------------------------------------------------------------------


def _bad_calls():
    rng = np.random.default_rng(0)
    p = rec.init_params(3, rng)
    q = rec.tree_lstm_init_params(2, 3, rng)
    x3, x2 = np.zeros((2, 1, 3)), np.zeros((2, 1, 2))
    _, cache = rec.forward((0, 1), x3, p)
    _, lcache = rec.tree_lstm_forward((0, 1), x2, q)
    no_wu = {k: v for k, v in q.items() if k != "W_u"}
    return [
        (lambda: rec.forward((0, 1), x3, p, activation="softmax"), "activation must be one of"),
        (lambda: rec.forward((0, 1, 2), np.zeros((3, 1, 3)), p), "exactly 2 children"),
        (lambda: rec.forward((0, 1), np.zeros((3, 1, 3)), p), "must have N = 3 leaves"),
        (lambda: rec.forward((0, 1), np.zeros((2, 3)), p), r"rank 3 with shape \(N, B, D\)"),
        (lambda: rec.forward((0, 1), x3.astype(int), p), "leaf_inputs must have a dtype in"),
        (lambda: rec.forward((0, 1), np.zeros((2, 1, 2)), p), r"\(H, 2H\) = \(2, 4\)"),
        (lambda: rec.forward((0, 1), x3, {"W": p["W"]}), r"missing \['b'\]"),
        (lambda: rec.forward((0, 1), np.zeros((2, 0, 3)), p), "B >= 1"),
        (lambda: rec.backward(np.zeros((1, 2)), cache), r"d_root must have shape \(1, 3\)"),
        (lambda: rec.backward(np.zeros((1, 3)), lcache), "cache of recursive forward"),
        (lambda: rec.backward(np.zeros((1, 3)), {}), "cache of recursive forward"),
        (lambda: rec.init_params(0, rng), "hidden_size must be an int >= 1"),
        (lambda: rec.init_params(3, "seed"), "rng must be a numpy.random.Generator"),
        (lambda: rec.srn_params_of_chain({"W": np.zeros((3, 5)), "b": np.zeros(3)}), "(H, 2H)"),
        (lambda: rec.chain(0), "n must be an int >= 1, got 0"),
        (lambda: rec.postorder("tree"), "must be a leaf index"),
        (lambda: rec.check_tree((0, 1), arity=0), "arity must be an int >= 1"),
        (lambda: rec.tree_lstm_forward((0, 1), x3, q), r"params\['W_i'\] must have shape"),
        (lambda: rec.tree_lstm_forward((0, 1), x2, no_wu), r"missing \['W_u'\]"),
        (lambda: rec.tree_lstm_forward((0, 1), x2, [1]), "params must be a dict"),
        (lambda: rec.tree_lstm_forward(((), 1), x2, q), "at least one child"),
        (lambda: rec.tree_lstm_backward(np.zeros((1, 3)), cache), "cache of tree_lstm"),
        (lambda: rec.tree_lstm_backward(np.zeros((2, 3)), lcache), "d_root must have shape"),
        (lambda: rec.tree_lstm_init_params(2, 1.5, rng), "hidden_size must be an int"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_calls())))
def test_bad_input_is_a_value_error(index):
    call, match = _bad_calls()[index]
    with pytest.raises(ValueError, match=match):
        call()


# ---- exercise 6-4 in SymPy ----------------------------------------------------------------


@pytest.mark.parametrize(("H", "n"), [(1, 2), (2, 4), (3, 3)])
def test_the_symbolic_chain_is_an_srn_and_the_zero_start_is_not(H, n):
    from rnnbook.symbolic import recursive as srec

    assert srec.chain_is_srn(H, n).holds
    wrong = srec.chain_is_srn(H, n, start="zero")
    assert not wrong.holds and wrong.method.startswith("counterexample")
    assert all(p.holds for p in srec.all_proofs(H, n))
    assert not any(p.holds for p in srec.disagreements(H, n))


def test_the_symbolic_check_fails_with_the_blocks_of_w_swapped():
    """A planted error: W = [W | U] (the input's block on the state) is refuted."""
    from rnnbook.symbolic import recursive as srec
    from rnnbook.symbolic._proof import prove
    from rnnbook.symbolic.model import build_srn

    model = build_srn(2, 2, 3)
    leaves = {0: model.h[0], **{t: model.x[t] for t in range(1, 4)}}
    root = srec.compose(rec.chain(4), leaves, model.W.row_join(model.U), model.b)
    assert not prove("planted", "", root, model.h[3]).holds


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(leaves=1), "leaves: expected an int >= 2, got 1"),
        (dict(hidden_size=0), "hidden_size: expected an int >= 1"),
        (dict(start="last_leaf"), "start: expected one of"),
    ],
)
def test_bad_symbolic_arguments_are_value_errors(kwargs, match):
    from rnnbook.symbolic import recursive as srec

    with pytest.raises(ValueError, match=match):
        srec.chain_is_srn(**kwargs)
