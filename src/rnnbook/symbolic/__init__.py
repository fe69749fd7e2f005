"""SymPy derivations of the book: each module states equations and proves them.

Modules (one derivation each):

- :mod:`~rnnbook.symbolic.model`: the simple recurrent network with symbolic entries, unrolled.
- :mod:`~rnnbook.symbolic.srn_unrolled`: h_T as one nested function of x_1 .. x_T.
- :mod:`~rnnbook.symbolic.bptt`: the error recursion (6.18) and the gradients (6.21)-(6.23).
- :mod:`~rnnbook.symbolic.rtrl`: the forward sensitivities (6.27) and (6.28) = BPTT.
- :mod:`~rnnbook.symbolic.chain_rule`: the chain rule over time as a sum over paths.
- :mod:`~rnnbook.symbolic.gradient_bound`: products of Jacobians and the bound
  ``||delta_{t,k}|| <= (beta_W beta_f)^(t-k) ||delta_{t,t}||``.
- :mod:`~rnnbook.symbolic.course_example`: the worked example of the course report.
- :mod:`~rnnbook.symbolic.lstm`: the LSTM's backward pass for its four variants (one step,
  any loss of the new state; the whole sweep in ``lstm.sequence_proofs``) and the blocks
  of its one-step Jacobian.
- :mod:`~rnnbook.symbolic.gru`: the GRU's conventions (which are one model under a change of
  parameters, which are not) and its backward pass for both reset placements (one step, any
  loss of the new state; two steps in ``gru.sequence_proofs``); parameter counts.
- :mod:`~rnnbook.symbolic.recursive`: a recursive network over a left-branching chain is a simple
  recurrent network (the textbook's exercise 6-4).

Every function returns a :class:`Proof` (or a tuple of them) whose ``holds``
is computed, never typed in. :func:`all_proofs` gathers the book's statements
(each holds); :func:`disagreements` gathers the sources' statements as printed
where they are wrong (each does not hold), with the source and line in
``Proof.source``.

Example::

    from IPython.display import Math, display
    from rnnbook.symbolic import bptt
    proof = bptt.error_recursion()
    display(Math(proof.latex()))
"""

from __future__ import annotations

from functools import lru_cache

from rnnbook.symbolic._proof import Proof


@lru_cache(maxsize=1)
def all_proofs() -> tuple[Proof, ...]:
    """Every statement the book makes and proves here, at the default sizes (each holds)."""
    from rnnbook.symbolic import (
        bptt,
        chain_rule,
        course_example,
        gradient_bound,
        gru,
        lstm,
        recursive,
        rtrl,
        srn_unrolled,
    )

    return (
        srn_unrolled.all_proofs()
        + bptt.all_proofs()
        + rtrl.all_proofs()
        + chain_rule.all_proofs()
        + gradient_bound.all_proofs()
        + course_example.all_proofs()
        + lstm.all_proofs()
        + gru.all_proofs()
        + recursive.all_proofs()
    )


@lru_cache(maxsize=1)
def disagreements() -> tuple[Proof, ...]:
    """The sources' equations as printed where a check shows them wrong (each does not hold)."""
    from rnnbook.symbolic import bptt, chain_rule, course_example, gradient_bound, gru, rtrl

    return (
        bptt.disagreements()
        + rtrl.disagreements()
        + chain_rule.disagreements()
        + gradient_bound.disagreements()
        + course_example.disagreements()
        + gru.disagreements()
    )


__all__ = ["Proof", "all_proofs", "disagreements"]
