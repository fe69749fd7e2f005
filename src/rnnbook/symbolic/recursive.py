"""Exercise 6-4: on a chain, the recursive network is a simple recurrent network.

    recursive (6.57)-(6.59)   h_j = f(W [h_l; h_r] + b),   a leaf h = x,   W = [W_1 | W_2]
    chain (figure 6.11b)      (((x_1, x_2), x_3), ..., x_n)
    SRN (6.3)-(6.4)           h_t = f(U h_{t-1} + W x_t + b)

Two routes to the root's state are compared entry by entry. One composes the recursive
network's (6.57)-(6.59) over the nested tuples of the chain, with its one matrix on the
concatenation of the children; the other is the SRN's recurrence as
:mod:`rnnbook.symbolic.model` unrolls it, with its own symbols U, W, b, h_0, x_1..x_T.
They are tied by the reading of the exercise: the recursive network's matrix is
[U | W] (its left block acts on the state, its right block on the new input), and its
leaves are h_0, x_1, ..., x_T: the first leaf is the SRN's initial state
(``start="first_leaf"``, which holds). The other reading, an SRN from h_0 = 0 over all n
leaves as inputs (``start="zero"``), does not hold: the chain has one composition fewer
than the SRN has steps, and its first leaf enters as a state, not through W.

The proof holds for every differentiable f (f is undefined) at the stated sizes, with
D = H, since a leaf's state is its input. :func:`chain_step_any_size` proves the one step
on which an induction over the chain rests for every H at once, with matrix symbols of a
symbolic size (it is not registered in ``all_proofs``, whose checks work entry by entry).
"""

from __future__ import annotations

import sympy as sp

from rnnbook.symbolic._proof import Proof, apply, cached, check_choice, check_size, f, prove
from rnnbook.symbolic.model import build_srn


def compose(tree, leaves: dict, W, b):
    """The state of ``tree`` by (6.57)-(6.59): a leaf i is ``leaves[i]``, a pair is
    f(W [h_l; h_r] + b) with f elementwise."""
    if isinstance(tree, tuple):
        left, right = (compose(child, leaves, W, b) for child in tree)
        return apply(f, W * left.col_join(right) + b)
    return leaves[tree]


def _chain(n: int):
    tree = 0
    for i in range(1, n):
        tree = (tree, i)
    return tree


@cached
def chain_is_srn(hidden_size: int = 2, leaves: int = 4, *, start: str = "first_leaf") -> Proof:
    """The root of the chain of ``leaves`` leaves equals the SRN's last state h_T.

    Args:
        hidden_size: H = D.  leaves: n >= 2.
        start: ``"first_leaf"`` (h_0 = x_1, inputs x_2..x_n: holds) or ``"zero"``
            (h_0 = 0, inputs x_1..x_n: does not hold).
    """
    H = check_size("hidden_size", hidden_size)
    n = check_size("leaves", leaves, minimum=2)
    check_choice("start", start, ("first_leaf", "zero"))
    if start == "first_leaf":
        model = build_srn(H, H, n - 1)
        # the leaves are h_0, x_1, ..., x_{n-1} of the SRN
        inputs = {0: model.h[0], **{t: model.x[t] for t in range(1, n)}}
    else:
        model = build_srn(H, H, n, h0="zero")
        inputs = {i: model.x[i + 1] for i in range(n)}
    W = model.U.row_join(model.W)  # the recursive network's W = [U | W], (H, 2H)
    root = compose(_chain(n), inputs, W, model.b)
    return prove(
        f"recursive.chain_is_srn[{start}]",
        r"f\left(W_{\mathrm{rec}} \begin{bmatrix} \cdots f\left(W_{\mathrm{rec}}"
        r" \begin{bmatrix} x_1 \\ x_2 \end{bmatrix} + b\right) \cdots \\ x_n \end{bmatrix}"
        r" + b\right) = h_{n-1}"
        r"\ \text{of (6.3)-(6.4) with } W_{\mathrm{rec}} = [U \mid W],\ h_0 = x_1",
        root,
        model.h[model.T],
        source="003 exercise 6-4 (line 560), (6.57)-(6.59) (lines 511-515), (6.3)-(6.4)",
        note=f"H = D = {H}, n = {n} leaves; f undefined; start = {start}.",
    )


def chain_step_any_size(*, blocks: str = "[U | W]") -> Proof:
    """One composition of the chain is one SRN step, for every size H (matrix symbols).

    The recursive network's pre-activation at a chain node is its matrix, the block row
    ``blocks``, times the block column [h; x] of the previous state and the new leaf, plus b;
    SymPy's ``block_collapse`` multiplies the blocks out, and the result must be the SRN's
    U h + W x + b, with U, W (H, H), h, x, b (H, 1) matrix symbols of a symbolic H. The
    verdict is that lhs - rhs reduces to the zero matrix. Equal pre-activations give equal
    states f(.) for every f, and with h_0 = x_1 an induction over the nodes gives exercise
    6-4 for every H and every number of leaves.

    Args:
        blocks: ``"[U | W]"`` (the tie of the exercise: holds) or ``"[W | U]"`` (the blocks
            exchanged, a planted error: does not hold).
    """
    check_choice("blocks", blocks, ("[U | W]", "[W | U]"))
    H = sp.Symbol("H", integer=True, positive=True)
    U, W = sp.MatrixSymbol("U", H, H), sp.MatrixSymbol("W", H, H)
    h, x, b = (sp.MatrixSymbol(name, H, 1) for name in ("h", "x", "b"))
    row = sp.BlockMatrix([[U, W]] if blocks == "[U | W]" else [[W, U]])
    lhs = sp.block_collapse(row * sp.BlockMatrix([[h], [x]])) + b
    rhs = U * h + W * x + b
    diff = (lhs - rhs).doit()
    holds = diff == 0 or isinstance(diff, sp.ZeroMatrix)
    method = (
        "block_collapse: lhs - rhs reduces to the zero matrix, for a symbolic size H"
        if holds
        else f"block_collapse: lhs - rhs reduces to {diff}, not the zero matrix"
    )
    return Proof(
        f"recursive.chain_step_any_size[{blocks}]",
        rf"{sp.latex(row)} \begin{{bmatrix}} h \\ x \end{{bmatrix}} + b = U h + W x + b"
        r"\ \text{for every } H",
        lhs,
        rhs,
        holds,
        method,
        source="003 exercise 6-4 (line 560), (6.57)-(6.59), (6.3)-(6.4)",
        note="U, W (H, H); h, x, b (H, 1); H a symbol.",
    )


def all_proofs(hidden_size: int = 2, leaves: int = 4) -> tuple[Proof, ...]:
    """Exercise 6-4 at the given sizes (holds)."""
    return (chain_is_srn(hidden_size, leaves),)


def disagreements(hidden_size: int = 2, leaves: int = 4) -> tuple[Proof, ...]:
    """The reading of exercise 6-4 with an SRN from h_0 = 0 over every leaf (does not hold)."""
    return (chain_is_srn(hidden_size, leaves, start="zero"),)
