"""The SRN unrolled in time: h_T as one nested function of x_1 .. x_T.

    (6.3)-(6.4)  z_t = U h_{t-1} + W x_t + b ;  h_t = f(z_t)
    unrolled     h_3 = f(U f(U f(U h_0 + W x_1 + b) + W x_2 + b) + W x_3 + b)

Two routes to ``h_T`` are compared entry by entry. One is the nested formula
as the book writes it, as text (:func:`nested_text`), read by SymPy's parser
into matrix symbols with ``f`` applied elementwise; the LaTeX the book displays
(:func:`nested_latex`) is made from that same text, so what is shown is what is
proved. The other is the step-by-step recurrence on explicit matrices
(:mod:`rnnbook.symbolic.model`).
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from rnnbook.symbolic._proof import Proof, cached, check_choice, check_size, f, prove
from rnnbook.symbolic.model import build_srn


def nested_text(steps: int, *, inputs: str = "forward") -> str:
    """``h_T`` written out as one nested formula, e.g. for T = 2
    ``"f(U*f(U*h_0 + W*x_1 + b) + W*x_2 + b)"``.

    Args:
        inputs: ``"forward"`` (x_1 innermost, right) or ``"reversed"`` (x_T innermost, wrong).
    """
    T = check_size("steps", steps)
    check_choice("inputs", inputs, ("forward", "reversed"))
    order = range(1, T + 1) if inputs == "forward" else range(T, 0, -1)
    # T opening "f(U*" around h_0, each closed by the input of its step
    return "f(U*" * T + "h_0" + "".join(f" + W*x_{t} + b)" for t in order)


def nested_expression(hidden_size: int, input_size: int, steps: int, *, inputs: str = "forward"):
    """``h_T`` (H, 1) read from :func:`nested_text` by SymPy's parser, ``f`` elementwise."""
    H = check_size("hidden_size", hidden_size)
    D = check_size("input_size", input_size)
    text = nested_text(steps, inputs=inputs)
    names = {"U": sp.MatrixSymbol("U", H, H), "W": sp.MatrixSymbol("W", H, D)}
    names.update(b=sp.MatrixSymbol("b", H, 1), h_0=sp.MatrixSymbol("h_0", H, 1))
    names.update({f"x_{t}": sp.MatrixSymbol(f"x_{t}", D, 1) for t in range(1, steps + 1)})
    # f acts on every entry of its (H, 1) argument
    names["f"] = lambda a: sp.ImmutableMatrix(a.as_explicit()).applyfunc(f)
    return parse_expr(text, local_dict=names)


def nested_latex(steps: int = 3) -> str:
    """The LaTeX of :func:`nested_text`: ``h_T = f\\left(U f\\left(... + W x_{T} + b\\right)``."""
    T = check_size("steps", steps)
    body = nested_text(T).replace("*", " ").replace("f(", r"f\left(").replace(")", r"\right)")
    body = re.sub(r"x_(\d+)", r"x_{\1}", body)
    return rf"h_{{{T}}} = {body}"


def _to_model_symbols(expr, model):
    """Replace the entries ``U[i, j]`` of the MatrixSymbols by the model's ``U_{ij}`` symbols."""
    mapping = {}
    named = {"U": model.U, "W": model.W, "b": model.b, "h_0": model.h[0]}
    named.update({f"x_{t}": model.x[t] for t in model.x})
    for name, M in named.items():
        S = sp.MatrixSymbol(name, *M.shape)
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                mapping[S[i, j]] = M[i, j]
    return expr.xreplace(mapping)


@cached
def unrolled_state(
    hidden_size: int = 2, input_size: int = 2, steps: int = 3, *, inputs: str = "forward"
) -> Proof:
    """The nested form of ``h_T`` equals the step-by-step recurrence (6.3)-(6.4)."""
    model = build_srn(hidden_size, input_size, steps)
    nested = nested_expression(hidden_size, input_size, steps, inputs=inputs)
    lhs = _to_model_symbols(nested.as_explicit(), model)
    return prove(
        "srn.unrolled" + ("" if inputs == "forward" else "[reversed]"),
        nested_latex(steps),
        lhs,
        model.h[model.T],
        source="003 (6.2)-(6.4); 002 lines 114 and 124 (with h_0 = 0)",
        note=f"H={model.H}, D={model.D}, T={model.T}; h_0 symbolic; f undefined.",
    )


def all_proofs(hidden_size: int = 2, input_size: int = 2, steps: int = 3) -> tuple[Proof, ...]:
    """The unrolling identity at the given sizes."""
    return (unrolled_state(hidden_size, input_size, steps),)
