"""PyTorch modules of the book's cells, with ``torch.nn.RNN``/``LSTM``/``GRU``'s call.

Each module runs on the device and in the dtype of its parameters. Its parameters
are ``module.params[layer][direction][symbol]`` with the book's symbols as keys
(see ``rnnbook.nn._recurrent``); ``rnnbook.convert`` moves them to and from
PyTorch's own modules and the NumPy dictionaries of ``rnnbook.scratch``.
The tree modules (``rnnbook.nn.tree``: ``batch_trees``, ``RecursiveNet``,
``ChildSumTreeLSTM``, ``NaryTreeLSTM``) name their parameters by the keys of
``rnnbook.scratch.recursive``'s dicts instead, and ``ClockworkRNN`` (``rnnbook.nn.clockwork``)
by those of ``rnnbook.scratch.clockwork`` (``W``, ``U``, ``b``).
"""

from rnnbook.nn.clockwork import ClockworkRNN
from rnnbook.nn.deep import DeepRNN
from rnnbook.nn.gru import GRU
from rnnbook.nn.lstm import LSTM
from rnnbook.nn.srn import SRN
from rnnbook.nn.stacked import StackedRNN
from rnnbook.nn.tree import ChildSumTreeLSTM, NaryTreeLSTM, RecursiveNet, TreeBatch, batch_trees

__all__ = [
    "GRU",
    "LSTM",
    "SRN",
    "DeepRNN",
    "ClockworkRNN",
    "StackedRNN",
    "batch_trees",
    "TreeBatch",
    "RecursiveNet",
    "ChildSumTreeLSTM",
    "NaryTreeLSTM",
]
