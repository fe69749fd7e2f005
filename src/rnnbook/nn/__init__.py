"""PyTorch modules of the book's cells, with ``torch.nn.RNN``/``LSTM``/``GRU``'s call.

Each module runs on the device and in the dtype of its parameters. Its parameters
are ``module.params[layer][direction][symbol]`` with the book's symbols as keys
(see ``rnnbook.nn._recurrent``); ``rnnbook.convert`` moves them to and from
PyTorch's own modules and the NumPy dictionaries of ``rnnbook.scratch``.
"""

from rnnbook.nn.deep import DeepRNN
from rnnbook.nn.gru import GRU
from rnnbook.nn.lstm import LSTM
from rnnbook.nn.srn import SRN

__all__ = ["GRU", "LSTM", "SRN", "DeepRNN"]
