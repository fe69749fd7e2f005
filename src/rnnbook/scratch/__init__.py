"""Recurrent networks from scratch in NumPy: forward and backward written by hand.

One module per idea, imported on demand (``from rnnbook.scratch import lstm``):

- ``srn``, ``lstm``, ``gru``: the cells, each with ``init_params``, ``step_forward``,
  ``step_backward``, ``forward`` and ``backward``;
- ``bptt``: full and truncated backpropagation through time with an output layer;
- ``rtrl``: real-time recurrent learning, exact gradients carried forward;
- ``hybrid``: Schmidhuber's fixed-size storage hybrid of RTRL and BPTT, exact in bounded memory;
- ``init``: the initialisations of the parameters;
- ``stack``: deep and bidirectional networks built from any of the cells;
- ``clockwork``: the clockwork RNN (Koutnik et al. 2014), modules updated on their own clocks;
- ``recursive``: recursive networks, the child-sum and the N-ary Tree-LSTM over trees.

Each cell's module holds its whole computation: the step forward and backward and
the loops over time. The activation functions live in ``_functions``; the cells'
gates, options and parameter shapes in :mod:`rnnbook.cells`.
"""

import importlib


def cell_module(cell: str):
    """The module of a cell named by its string: ``cell_module("lstm")`` is ``scratch.lstm``.

    Raises:
        ValueError: for a name that is not one of ``rnnbook.cells.CELLS``.
    """
    from rnnbook import cells

    return importlib.import_module(f"rnnbook.scratch.{cells.check_cell(cell)}")
