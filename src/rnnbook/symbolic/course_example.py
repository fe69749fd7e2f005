"""The worked BPTT example of the course report (source 002, section 3.1), checked line by line.

The report's setting, in its own letters (lines 101-142):

    2 inputs, 3 hidden units, 2 outputs, 3 steps, h_0 = 0
    u_t = W_xh x_t + W_hh h_{t-1} + b_h ;  h_t = f(u_t)      (f = tanh, line 58; kept general here)
    v_t = W_0 h_t + b_0 ;  y*_t = softmax(v_t) ;  L_t = -y_t^T ln(y*_t) ;  L = sum_t L_t

Concordance with the book: W_xh = W, W_hh = U, b_h = b, u_t = z_t, W_0 = V,
b_0 = c, v_t = o_t, y*_t = yhat_t. (The report's section 2, line 38, names the
same matrices U (input-to-hidden), W (hidden-to-hidden) and V (output); its
section 5, line 268, uses that W and writes net_i for u_i.)

Every gradient the report writes is coded as it writes it, from its own
recursion ``grad_{u_k} L_t = (W_hh^T grad_{u_{k+1}} L_t) (.) f'(u_k)`` (lines
194, 211, 213) and ``grad_{v_t} L_t = y*_t - y_t`` (line 146), and compared with
SymPy's derivative of the full loss (softmax and logarithm included, ``f``
undefined). The labels are one-hot or probability vectors (they sum to 1),
as a classification label is; see the first item below. The report gives no
numerical values, so there are no numbers to reproduce.

Disagreements with the source
-----------------------------
- Line 146, ``grad_{v_t} L_t = y*_t - y_t``: true only when the label sums to 1
  (one-hot); the report does not say so. For any y it is
  ``(1^T y_t) y*_t - y_t``. Decided by ``softmax_cross_entropy(labels="any")``
  (report's form, holds=False), ``softmax_cross_entropy()`` (labels sum to 1,
  holds=True) and ``softmax_cross_entropy(labels="any", form="general")`` (holds=True).
- Lines 158 and 162: ``grad_{W_0} L_t = sum_{t=1}^3 (y*_t - y_t) h_t^T`` and
  ``grad_{b_0} L_t = sum_t (y*_t - y_t)``: the left side must be the total loss
  L, not L_t. Decided by ``output_total("W_0", target="L_3")`` (holds=False)
  against ``output_total("W_0")`` (holds=True); likewise for ``"b_0"``.
- Lines 170 and 178 write ``(y_1^* = y_1)`` for ``(y_1^* - y_1)`` (a typo; with
  the minus sign the formulas hold: ``report_gradients()``).
- Line 198 writes ``w_{nh}`` for ``w_{xh}`` (a typo).
- Line 215 says grad_{W_hh} L_3 follows "similarly" without writing it; the
  book's form ``sum_k grad_{u_k} L_3 h_{k-1}^T`` is proved in ``report_gradients()``.
- Lines 174 and 202-203 (grad_{W_hh} L_1 = 0, grad_{W_hh} L_2 = grad_{u_2} L_2 h_1^T)
  are right only because h_0 = 0 (line 105): the term grad_{u_1} L_2 h_0^T vanishes.
- Line 268 (the product of Jacobians, in the wrong order): see
  :mod:`rnnbook.symbolic.gradient_bound`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rnnbook.symbolic._proof import (
    Proof,
    apply,
    cached,
    check_choice,
    check_size,
    f,
    fprime,
    gradient,
    matrix,
    prove,
    vector,
)


def softmax(v: sp.MatrixBase) -> sp.ImmutableMatrix:
    """``y* = exp(v) / sum(exp(v))`` (O, 1)."""
    e = v.applyfunc(sp.exp)
    return sp.ImmutableMatrix(e / sum(e))


def cross_entropy(y: sp.MatrixBase, ystar: sp.MatrixBase):
    """Line 142: ``L_t = -y_t^T ln(y*_t)`` (scalar)."""
    return -sum(yi * sp.log(si) for yi, si in zip(y, ystar, strict=True))


def cross_entropy_of_logits(y: sp.MatrixBase, v: sp.MatrixBase):
    """``-y^T ln softmax(v) = -y^T v + (1^T y) ln sum_j exp(v_j)`` (scalar), for real ``v``.

    The same loss as :func:`cross_entropy` (``log_softmax()`` proves it); SymPy
    differentiates this form about ten times faster through the unrolled network.
    """
    return -sum(yi * vi for yi, vi in zip(y, v, strict=True)) + sum(y) * sp.log(
        sum(sp.exp(vi) for vi in v)
    )


def _labels(name: str, size: int, labels: str) -> sp.ImmutableMatrix:
    """Label column (O, 1): free symbols (``"any"``) or summing to 1 (``"sum1"``)."""
    y = vector(name, size)
    if labels == "sum1":
        y = sp.ImmutableMatrix(list(y[:-1]) + [1 - sum(y[:-1])])
    return y


@dataclass(frozen=True)
class CourseNetwork:
    """The report's network unrolled (dicts over t = 1..T; ``h[0] = 0``)."""

    W_xh: sp.ImmutableMatrix  # (H, D)
    W_hh: sp.ImmutableMatrix  # (H, H)
    b_h: sp.ImmutableMatrix  # (H, 1)
    W_0: sp.ImmutableMatrix  # (O, H)
    b_0: sp.ImmutableMatrix  # (O, 1)
    x: dict
    y: dict
    u: dict
    h: dict
    v: dict
    ystar: dict
    L: dict
    T: int


@cached
def build_course_network(
    inputs: int = 2, hidden: int = 3, outputs: int = 2, steps: int = 3, *, labels: str = "sum1"
) -> CourseNetwork:
    """The report's network with symbolic entries (defaults: its sizes, lines 101-103)."""
    D = check_size("inputs", inputs)
    H = check_size("hidden", hidden)
    O = check_size("outputs", outputs, minimum=2)
    T = check_size("steps", steps)
    check_choice("labels", labels, ("sum1", "any"))
    W_xh, W_hh, b_h = matrix("W^{xh}", H, D), matrix("W^{hh}", H, H), vector("b^h", H)
    W_0, b_0 = matrix("W^0", O, H), vector("b^0", O)
    x = {t: vector(f"x_{t}", D) for t in range(1, T + 1)}
    y = {t: _labels(f"y_{t}", O, labels) for t in range(1, T + 1)}
    u, h, v, ystar, L = {}, {0: sp.zeros(H, 1)}, {}, {}, {}
    for t in range(1, T + 1):
        # lines 107, 114, 124:  u_t = W_xh x_t + W_hh h_{t-1} + b_h        (H, 1)
        u[t] = W_xh * x[t] + W_hh * h[t - 1] + b_h
        # h_t = f(u_t)                                                       (H, 1)
        h[t] = apply(f, u[t])
        # v_t = W_0 h_t + b_0                                                (O, 1)
        v[t] = W_0 * h[t] + b_0
        # y*_t = softmax(v_t)                                                (O, 1)
        ystar[t] = softmax(v[t])
        # line 142:  L_t = -y_t^T ln(y*_t), written through the logits (log_softmax())
        L[t] = cross_entropy_of_logits(y[t], v[t])
    return CourseNetwork(W_xh, W_hh, b_h, W_0, b_0, x, y, u, h, v, ystar, L, T)


@cached
def loss_gradient(loss, param: str) -> sp.ImmutableMatrix:
    """SymPy's derivative of ``L_t`` (``loss`` = t, an int) or of ``L`` (``"L"``) by a parameter.

    The report's sizes. ``L = sum_t L_t`` is differentiated term by term (as
    ``sympy.diff`` does for any sum); each term's derivative is computed once.
    """
    check_choice("param", param, ("W_xh", "W_hh", "b_h", "W_0", "b_0"))
    net = build_course_network()
    if loss in ("L", "L_3"):
        if loss == "L_3":
            return loss_gradient(net.T, param)
        return sp.ImmutableMatrix(
            sum((loss_gradient(t, param) for t in net.L), sp.zeros(*getattr(net, param).shape))
        )
    check_choice("loss", loss, tuple(net.L))
    return gradient(net.L[loss], getattr(net, param))


def report_grad_u(net: CourseNetwork, *, recurrent: str = "W_hh^T") -> dict:
    """``grad_{u_k} L_t`` (H, 1) as the report computes it; keys (t, k), k <= t.

    Args:
        recurrent: ``"W_hh^T"`` (the report's lines 194, 211, 213) or
            ``"W_hh"`` (a wrong variant, for tests).
    """
    check_choice("recurrent", recurrent, ("W_hh^T", "W_hh"))
    R = net.W_hh.T if recurrent == "W_hh^T" else net.W_hh
    g = {}
    for t in range(1, net.T + 1):
        # line 146:  grad_{v_t} L_t = y*_t - y_t                              (O, 1)
        g_v = net.ystar[t] - net.y[t]
        # line 168:  grad_{u_t} L_t = (W_0^T grad_{v_t} L_t) (.) f'(u_t)       (H, 1)
        g[t, t] = (net.W_0.T * g_v).multiply_elementwise(apply(fprime, net.u[t]))
        for k in range(t - 1, 0, -1):
            # lines 194, 211, 213:  grad_{u_k} L_t = (W_hh^T grad_{u_{k+1}} L_t) (.) f'(u_k)
            g[t, k] = (R * g[t, k + 1]).multiply_elementwise(apply(fprime, net.u[k]))
    return g


@cached
def softmax_cross_entropy(outputs: int = 2, *, labels: str = "sum1", form: str = "report") -> Proof:
    """Line 146: ``grad_{v} L = y* - y`` for ``L = -y^T ln softmax(v)``, differentiated by SymPy.

    Args:
        labels: ``"sum1"`` (one-hot or probability labels) or ``"any"``.
        form: ``"report"`` (y* - y) or ``"general"`` ((1^T y) y* - y).
    """
    O = check_size("outputs", outputs, minimum=2)
    check_choice("form", form, ("report", "general"))
    v = vector("v", O)
    y = _labels("y", O, labels)
    ystar = softmax(v)
    lhs = gradient(cross_entropy(y, ystar), v)
    rhs = ystar - y if form == "report" else sum(y) * ystar - y
    statement = (
        r"\nabla_{v_t} L_t = y_t^* - y_t"
        if form == "report"
        else (
            r"\nabla_{v_t} L_t ="
            r" (\mathbf{1}^{\top}y_t)\,y_t^* - y_t"
        )
    )
    cond = "labels sum to 1" if labels == "sum1" else "labels arbitrary"
    return prove(
        f"course.softmax_ce[{labels},{form}]",
        statement,
        lhs,
        rhs,
        rational=True,
        source="002 lines 140-146",
        note=f"O={O}; {cond}.",
    )


@cached
def log_softmax(outputs: int = 2) -> Proof:
    """``-y^T ln softmax(v) = -y^T v + (1^T y) ln sum_j exp(v_j)`` for real symbols ``v``."""
    O = check_size("outputs", outputs, minimum=2)
    v = sp.ImmutableMatrix(sp.symbols(f"v_1:{O + 1}", real=True))
    y = vector("y", O)
    return prove(
        "course.log_softmax",
        r"-y^{\top}\ln \operatorname{softmax}(v) = -y^{\top}v"
        r" + (\mathbf{1}^{\top}y) \ln \sum_j e^{v_j}",
        cross_entropy(y, softmax(v)),
        cross_entropy_of_logits(y, v),
        source="002 line 142",
        note=f"O={O}; v real (SymPy splits the logarithm only under that assumption).",
    )


@cached
def output_total(param: str = "W_0", *, target: str = "L") -> Proof:
    """Lines 150-162: the output-layer gradients, summed over t.

    ``grad_{W_0} = sum_t (y*_t - y_t) h_t^T``, ``grad_{b_0} = sum_t (y*_t - y_t)``
    against SymPy's derivative of ``L`` (right) or of ``L_3`` (the left side as printed).
    """
    check_choice("param", param, ("W_0", "b_0"))
    check_choice("target", target, ("L", "L_3"))
    net = build_course_network()
    P = net.W_0 if param == "W_0" else net.b_0
    lhs = loss_gradient(target, param)
    rhs = sp.zeros(*P.shape)
    for t in range(1, net.T + 1):
        # lines 150, 154:  (y*_t - y_t) h_t^T  and  (y*_t - y_t)
        rhs += (net.ystar[t] - net.y[t]) * (net.h[t].T if param == "W_0" else sp.ones(1, 1))
    sym = "W_0" if param == "W_0" else "b_0"
    factor = r"h_t^{\top}" if param == "W_0" else ""
    left = "L" if target == "L" else "L_3"
    return prove(
        f"course.output_total_{param}" + ("" if target == "L" else "[L_3]"),
        rf"\nabla_{{{sym}}} {left} = \sum_{{t=1}}^{{3}}"
        rf" (y_t^* - y_t){factor}",
        lhs,
        rhs,
        rational=True,
        source="002 lines 150-162",
        note="labels sum to 1.",
    )


def _report_formulas(net: CourseNetwork, g: dict) -> list[tuple[str, str, object, object]]:
    """(label, LaTeX, parameter, formula) for each per-step gradient the report writes."""
    zero = sp.zeros(*net.W_hh.shape)
    out = [
        (
            "output_W0_L1",
            r"\nabla_{W_0} L_1 = (y_1^*-y_1)h_1^{\top}",
            (1, "W_0"),
            (net.ystar[1] - net.y[1]) * net.h[1].T,
        ),
        (
            "output_b0_L1",
            r"\nabla_{b_0} L_1 = y_1^*-y_1",
            (1, "b_0"),
            net.ystar[1] - net.y[1],
        ),
        # line 170
        (
            "Wxh_L1",
            r"\nabla_{W_{xh}} L_1 = ((W_0^{\top}(y_1^*-y_1))"
            r"\odot f'(u_1))x_1^{\top}",
            (1, "W_xh"),
            g[1, 1] * net.x[1].T,
        ),
        # line 174
        ("Whh_L1", r"\nabla_{W_{hh}} L_1 = 0", (1, "W_hh"), zero),
        # line 178
        (
            "bh_L1",
            r"\nabla_{b_h} L_1 = (W_0^{\top}(y_1^*-y_1))\odot f'(u_1)",
            (1, "b_h"),
            g[1, 1],
        ),
        # lines 186, 194, 198
        (
            "Wxh_L2",
            r"\nabla_{W_{xh}} L_2 = (\nabla_{u_2}L_2)x_2^{\top}"
            r" + (\nabla_{u_1}L_2)x_1^{\top}",
            (2, "W_xh"),
            g[2, 2] * net.x[2].T + g[2, 1] * net.x[1].T,
        ),
        # lines 202-203
        (
            "Whh_L2",
            r"\nabla_{W_{hh}} L_2 = (\nabla_{u_2}L_2)h_1^{\top}",
            (2, "W_hh"),
            g[2, 2] * net.h[1].T,
        ),
        # lines 209-213
        (
            "Wxh_L3",
            r"\nabla_{W_{xh}} L_3 = \sum_{k=1}^{3}(\nabla_{u_k}L_3)x_k^{\top}",
            (3, "W_xh"),
            sum((g[3, k] * net.x[k].T for k in (1, 2, 3)), sp.zeros(*net.W_xh.shape)),
        ),
        # line 215 ("similarly"): the book's completion
        (
            "Whh_L3",
            r"\nabla_{W_{hh}} L_3 ="
            r" \sum_{k=1}^{3}(\nabla_{u_k}L_3)h_{k-1}^{\top}",
            (3, "W_hh"),
            sum((g[3, k] * net.h[k - 1].T for k in (1, 2, 3)), zero),
        ),
    ]
    for t in (2, 3):
        # not written by the report: grad_{b_h} L_t = sum_k grad_{u_k} L_t
        out.append(
            (
                f"bh_L{t}",
                rf"\nabla_{{b_h}} L_{t} = \sum_{{k=1}}^{{{t}}}\nabla_{{u_k}}L_{t}",
                (t, "b_h"),
                sum((g[t, k] for k in range(1, t + 1)), sp.zeros(*net.b_h.shape)),
            )
        )
    return out


@cached
def report_gradients(
    *, recurrent: str = "W_hh^T", only: tuple[str, ...] | None = None
) -> tuple[Proof, ...]:
    """Each per-step gradient of lines 150-215, against SymPy's derivative of ``L_t``.

    Args:
        recurrent: passed to :func:`report_grad_u`.
        only: labels to keep (e.g. ``("Wxh_L2",)``); default all.
    """
    net = build_course_network()
    g = report_grad_u(net, recurrent=recurrent)
    formulas = _report_formulas(net, g)
    labels = [item[0] for item in formulas]
    if only is not None and (not isinstance(only, tuple) or not set(only) <= set(labels)):
        raise ValueError(f"only: expected a tuple of labels from {labels}, got {only!r}")
    proofs = []
    for label, statement, (t, name), formula in formulas:
        if only is not None and label not in only:
            continue
        proofs.append(
            prove(
                f"course.{label}" + ("" if recurrent == "W_hh^T" else "[W_hh]"),
                statement,
                loss_gradient(t, name),
                formula,
                rational=True,
                source="002 lines 148-215",
                note="labels sum to 1; h_0 = 0; f undefined.",
            )
        )
    return tuple(proofs)


@cached
def total_gradients() -> Proof:
    """Lines 217-219: ``grad L = sum_t grad L_t`` for W_xh and W_hh (report's per-step forms).

    The left side is SymPy's derivative of the total loss ``L = L_1 + L_2 + L_3`` itself,
    taken as one expression; the right side sums the report's per-step gradients.
    """
    net = build_course_network()
    g = report_grad_u(net)
    total = sum(net.L.values())
    lhs = sp.Matrix.hstack(gradient(total, net.W_xh), gradient(total, net.W_hh))
    gx = sp.zeros(*net.W_xh.shape)
    gh = sp.zeros(*net.W_hh.shape)
    for t in range(1, net.T + 1):
        for k in range(1, t + 1):
            gx += g[t, k] * net.x[k].T
            gh += g[t, k] * net.h[k - 1].T
    return prove(
        "course.total_gradients",
        r"\nabla_{W_{xh}} L = \sum_{t=1}^{3}\nabla_{W_{xh}} L_t,\quad"
        r"\nabla_{W_{hh}} L = \sum_{t=1}^{3}\nabla_{W_{hh}} L_t",
        lhs,
        sp.Matrix.hstack(gx, gh),
        rational=True,
        source="002 lines 217-219",
        note="per-step forms as in report_gradients().",
    )


@cached
def unrolled_inputs() -> Proof:
    """Lines 114 and 124: the nested u_2, u_3 equal the recurrence's (h_0 = 0)."""
    net = build_course_network()
    W_xh, W_hh, b_h, x = net.W_xh, net.W_hh, net.b_h, net.x
    # line 114:  u_2 = W_xh x_2 + W_hh f(W_xh x_1 + b_h) + b_h
    u2 = W_xh * x[2] + W_hh * apply(f, W_xh * x[1] + b_h) + b_h
    # line 124:  u_3 = W_xh x_3 + W_hh f(W_xh x_2 + W_hh f(W_xh x_1 + b_h) + b_h) + b_h
    u3 = W_xh * x[3] + W_hh * apply(f, W_xh * x[2] + W_hh * apply(f, W_xh * x[1] + b_h) + b_h) + b_h
    return prove(
        "course.unrolled",
        r"u_3 = W_{xh}x_3 + W_{hh}"
        r" f(W_{xh}x_2 + W_{hh} f(W_{xh}x_1"
        r" + b_h) + b_h) + b_h",
        sp.Matrix.hstack(u2, u3),
        sp.Matrix.hstack(net.u[2], net.u[3]),
        source="002 lines 107-124",
    )


def all_proofs() -> tuple[Proof, ...]:
    """The report's example, corrected where needed (each should hold)."""
    return (
        unrolled_inputs(),
        softmax_cross_entropy(),
        softmax_cross_entropy(labels="any", form="general"),
        output_total("W_0"),
        output_total("b_0"),
        *report_gradients(),
        total_gradients(),
    )


def disagreements() -> tuple[Proof, ...]:
    """The report's statements as printed where they do not hold."""
    return (
        softmax_cross_entropy(labels="any"),
        output_total("W_0", target="L_3"),
        output_total("b_0", target="L_3"),
    )
