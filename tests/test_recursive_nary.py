"""The N-ary Tree-LSTM of Tai et al. (2015), eqs (9)-(14), in NumPy: gradients and special cases.

The backward pass is checked per parameter key (and for the leaf inputs) against centred
finite differences, and against torch autograd of the network written again from the
paper's equations by plain recursion over the nested tuples, with the matrices indexed
as the paper indexes them (U_l for child position l, U_kl^(f) from child l to child k's
forget gate), not through ``postorder``.
"""

import numpy as np
import pytest
import torch

from rnnbook import gradcheck
from rnnbook.scratch import recursive as rec

#: arity -> trees whose internal nodes all have that many children
TREES = {
    1: [0, (0,), (((0,),),)],
    2: [0, (0, 1), ((0, 1), (2, 3)), rec.chain(5), (0, ((1, 2), 3)), ((0, (1, 2)), (3, 4))],
    3: [(0, 1, 2), ((0, 1, 2), 3, (4, 5, 6)), (0, 1, (2, 3, (4, 5, 6)))],
}
CASES = [(tree, a) for a, trees in TREES.items() for tree in trees]


def _problem(tree, arity, seed, B=2, D=2, H=3):
    rng = np.random.default_rng(seed)
    N = rec.check_tree(tree)
    p = rec.nary_tree_lstm_init_params(D, H, arity, rng)
    p = {k: 2 * v for k, v in p.items()}  # larger weights: gates away from 1/2
    return rng.standard_normal((N, B, D)), p, rng.standard_normal((B, H))


def _loss(tree, x, d_root):
    return lambda params: float((rec.nary_tree_lstm_forward(tree, x, params)[0] * d_root).sum())


def _check_fd(tree, x, p, d_root, grads, dx):
    errors = gradcheck.check_gradients(_loss(tree, x, d_root), p, grads)
    dx_num = gradcheck.numerical_gradient(lambda _: _loss(tree, x, d_root)(p), x)
    errors["x"] = gradcheck.relative_error(dx, dx_num)
    return errors


# ---- the paper's equations, again, in PyTorch ----------------------------------------------


def torch_nary(tree, x, p):
    """(h, c) of the node ``tree``, from Tai et al.'s (9)-(14) with inputs at the leaves only."""
    s = torch.sigmoid
    if isinstance(tree, int):
        i = s(x[tree] @ p["W_i"].T + p["b_i"])
        o = s(x[tree] @ p["W_o"].T + p["b_o"])
        u = torch.tanh(x[tree] @ p["W_u"].T + p["b_u"])
        c = i * u
        return o * torch.tanh(c), c
    kids = [torch_nary(t, x, p) for t in tree]
    hs, cs = [h for h, _ in kids], [c for _, c in kids]
    N = len(kids)

    def position_sum(U):
        # sum_{l=1}^{N} U_l h_jl
        return sum(hs[l] @ U[l].T for l in range(N))

    i = s(position_sum(p["U_i"]) + p["b_i"])  # (9)
    f = [s(position_sum(p["U_f"][k]) + p["b_f"]) for k in range(N)]  # (10): U_f[k][l] = U_kl
    o = s(position_sum(p["U_o"]) + p["b_o"])  # (11)
    u = torch.tanh(position_sum(p["U_u"]) + p["b_u"])  # (12)
    c = i * u + sum(f[l] * cs[l] for l in range(N))  # (13)
    return o * torch.tanh(c), c  # (14)


def _autograd(tree, x, p, d_root):
    tx = torch.tensor(x, requires_grad=True)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    h, _ = torch_nary(tree, tx, tp)
    (h * torch.tensor(d_root)).sum().backward()
    grads = {k: np.zeros_like(p[k]) if v.grad is None else v.grad.numpy() for k, v in tp.items()}
    return h.detach().numpy(), tx.grad.numpy(), grads


# ---- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize(("tree", "arity"), CASES, ids=[f"{a}:{t}" for t, a in CASES])
def test_backward_matches_finite_differences_per_key(tree, arity):
    x, p, d_root = _problem(tree, arity, seed=arity + len(str(tree)))
    h, cache = rec.nary_tree_lstm_forward(tree, x, p)
    dx, grads = rec.nary_tree_lstm_backward(d_root, cache)
    assert set(grads) == set(p) and "W_f" not in grads
    assert grads["U_f"].shape == (arity, arity, 3, 3)
    errors = _check_fd(tree, x, p, d_root, grads, dx)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(("tree", "arity"), CASES, ids=[f"{a}:{t}" for t, a in CASES])
def test_backward_matches_autograd_of_the_papers_equations(tree, arity):
    x, p, d_root = _problem(tree, arity, seed=10 + arity, B=3)
    h, cache = rec.nary_tree_lstm_forward(tree, x, p)
    dx, grads = rec.nary_tree_lstm_backward(d_root, cache)
    h_ref, dx_ref, g_ref = _autograd(tree, x, p, d_root)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-13)
    for k in p:
        np.testing.assert_allclose(grads[k], g_ref[k], rtol=1e-10, atol=1e-13, err_msg=k)


def test_the_cell_states_are_cached_in_postorder():
    tree = ((0, 1), (2, 3))
    x, p, _ = _problem(tree, 2, 0)
    h, cache = rec.nary_tree_lstm_forward(tree, x, p)
    h_ref, c_ref = torch_nary(tree, torch.tensor(x), {k: torch.tensor(v) for k, v in p.items()})
    np.testing.assert_allclose(cache["c"][-1], c_ref.numpy(), rtol=1e-12)
    assert len(cache["h"]) == len(rec.postorder(tree)) == 7
    np.testing.assert_array_equal(cache["h"][-1], h)


# ---- planted errors: the checks can fail ----------------------------------------------------


def test_a_swapped_child_position_matrix_in_the_backward_is_caught():
    """The backward reads U_2^(i) for child 1 and U_1^(i) for child 2: finite differences see it."""
    tree = (0, ((1, 2), 3))
    x, p, d_root = _problem(tree, 2, 4)
    h, cache = rec.nary_tree_lstm_forward(tree, x, p)
    dx, grads = rec.nary_tree_lstm_backward(d_root, cache)
    assert max(_check_fd(tree, x, p, d_root, grads, dx).values()) < 1e-7
    cache["params"] = dict(p, U_i=p["U_i"][::-1].copy())  # the planted swap
    dx, grads = rec.nary_tree_lstm_backward(d_root, cache)
    errors = _check_fd(tree, x, p, d_root, grads, dx)
    assert min(errors[k] for k in ("W_i", "W_o", "x")) > 1e-3, errors


def test_a_transposed_forget_index_is_caught():
    """Reading U_lk^(f) where (10) has U_kl^(f) changes the forward: the reference sees it."""
    tree = ((0, 1), (2, 3))
    x, p, d_root = _problem(tree, 2, 5)
    h, _ = rec.nary_tree_lstm_forward(tree, x, p)
    transposed = dict(p, U_f=p["U_f"].transpose(1, 0, 2, 3).copy())
    h_wrong, _ = rec.nary_tree_lstm_forward(tree, x, transposed)
    h_ref, _, _ = _autograd(tree, x, p, d_root)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12)
    assert np.abs(h_wrong - h_ref).max() > 1e-3


# ---- special cases ------------------------------------------------------------------------------


def _child_sum_params_as_nary(q, arity):
    """N-ary params with U_l^(*) = U_* for every l and U_kl^(f) = U_f if k = l, else 0."""
    H = q["U_i"].shape[0]
    p = {k: q[k] for k in q if k.startswith(("W_", "b_"))}
    for gate in "iou":
        p[f"U_{gate}"] = np.stack([q[f"U_{gate}"]] * arity)
    p["U_f"] = np.zeros((arity, arity, H, H))
    for k in range(arity):
        p["U_f"][k, k] = q["U_f"]
    return p


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_tied_positions_and_own_forget_matrices_give_the_child_sum_tree_lstm(arity):
    """With U_l = U for all l and U_kl^(f) = 0 for k != l, (9)-(14) is (TL1)-(TL7)."""
    rng = np.random.default_rng(arity)
    q = {k: 2 * v for k, v in rec.tree_lstm_init_params(2, 3, rng).items()}
    p = _child_sum_params_as_nary(q, arity)
    for tree in TREES[arity]:
        x = rng.standard_normal((rec.check_tree(tree), 2, 2))
        h, _ = rec.nary_tree_lstm_forward(tree, x, p)
        h_cs, _ = rec.tree_lstm_forward(tree, x, q)
        np.testing.assert_allclose(h, h_cs, rtol=1e-12, atol=1e-14)
    # untied, the two differ (the check can fail)
    p["U_f"][0, -1] += 0.5
    p["U_i"][0] += 0.5
    tree = TREES[arity][-1]
    x = rng.standard_normal((rec.check_tree(tree), 2, 2))
    assert (
        np.abs(
            rec.nary_tree_lstm_forward(tree, x, p)[0] - rec.tree_lstm_forward(tree, x, q)[0]
        ).max()
        > 1e-3
    )


def test_the_order_of_the_children_matters():
    rng = np.random.default_rng(7)
    p = rec.nary_tree_lstm_init_params(2, 3, 2, rng)
    x = rng.standard_normal((2, 1, 2))
    h01, _ = rec.nary_tree_lstm_forward((0, 1), x, p)
    h10, _ = rec.nary_tree_lstm_forward((1, 0), x, p)
    assert np.abs(h01 - h10).max() > 1e-3


def test_a_leaf_is_the_child_sum_leaf():
    rng = np.random.default_rng(1)
    p = rec.nary_tree_lstm_init_params(2, 3, 2, rng)
    q = {k: p[k] if p[k].ndim < 3 else p[k][0] for k in p}
    q["U_f"] = p["U_f"][0, 0]
    x = rng.standard_normal((1, 2, 2))
    np.testing.assert_array_equal(
        rec.nary_tree_lstm_forward(0, x, p)[0], rec.tree_lstm_forward(0, x, q)[0]
    )


# ---- bad input -------------------------------------------------------------------------------


def _bad_calls():
    rng = np.random.default_rng(0)
    p = rec.nary_tree_lstm_init_params(2, 3, 2, rng)
    x = np.zeros((3, 1, 2))
    _, cache = rec.nary_tree_lstm_forward((0, (1, 2)), x, p)
    _, other = rec.tree_lstm_forward((0, (1, 2)), x, rec.tree_lstm_init_params(2, 3, rng))
    no_uf = {k: v for k, v in p.items() if k != "U_f"}
    return [
        (
            lambda: rec.nary_tree_lstm_forward((0, 1, 2), x, p),
            "exactly 2 children, got a tuple of 3",
        ),
        (
            lambda: rec.nary_tree_lstm_forward(((0,), (1, 2)), x, p),
            r"tree\[0\] must have exactly 2",
        ),
        (lambda: rec.nary_tree_lstm_forward((0, 1), x, p), "must have N = 3 leaves"),
        (lambda: rec.nary_tree_lstm_forward((0, 3), x[:2], p), r"each leaf index 0..1 once"),
        (
            lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x[0], p),
            r"rank 3 with shape \(N, B, D\)",
        ),
        (lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x.astype(np.float32), p), "float64"),
        (lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x + np.nan, p), "only finite numbers"),
        (lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x, no_uf), r"missing \['U_f'\]"),
        (
            lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x, dict(p, U_f=p["U_f"][0])),
            r"params\['U_f'\] must have rank 4 with shape \(A, A, H, H\) = \(2, 2, 3, 3\)",
        ),
        (
            lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x, dict(p, U_i=p["U_i"][0])),
            r"params\['U_i'\] must have rank 3 with shape \(A, H, H\)",
        ),
        (
            lambda: rec.nary_tree_lstm_forward((0, (1, 2)), np.zeros((3, 1, 4)), p),
            r"params\['W_i'\] must have shape \(H, D\) = \(3, 4\)",
        ),
        (lambda: rec.nary_tree_lstm_forward((0, (1, 2)), x, [1]), "params must be a dict"),
        (lambda: rec.nary_tree_lstm_backward(np.zeros((1, 3)), other), "cache of nary_tree_lstm"),
        (lambda: rec.nary_tree_lstm_backward(np.zeros((2, 3)), cache), "d_root must have shape"),
        (lambda: rec.nary_tree_lstm_init_params(2, 3, 0, rng), "arity must be an int >= 1, got 0"),
        (lambda: rec.nary_tree_lstm_init_params(2, 3, 2.0, rng), "arity must be an int >= 1"),
        (lambda: rec.nary_tree_lstm_init_params(0, 3, 2, rng), "input_size must be an int >= 1"),
        (
            lambda: rec.nary_tree_lstm_init_params(2, 3, 2, 0),
            "rng must be a numpy.random.Generator",
        ),
    ]


@pytest.mark.parametrize("index", range(len(_bad_calls())))
def test_bad_input_is_a_value_error(index):
    call, match = _bad_calls()[index]
    with pytest.raises(ValueError, match=match):
        call()
