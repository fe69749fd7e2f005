"""Recurrent networks from scratch in NumPy: forward and backward written by hand.

One module per idea, imported on demand (``from rnnbook.scratch import lstm``):

- ``srn``, ``lstm``, ``gru``: the cells, each with ``init_params``, ``step_forward``,
  ``step_backward``, ``forward`` and ``backward``;
- ``bptt``: full and truncated backpropagation through time with an output layer;
- ``rtrl``: real-time recurrent learning, exact gradients carried forward;
- ``init``: the initialisations of the parameters;
- ``stack``: deep and bidirectional networks built from any of the cells.

The loops over time shared by all cells live in ``_sequence``, the activation
functions in ``_functions``.
"""
