"""A bidirectional LSTM that reads digit strings column by column, trained with CTC.

The images come from ``rnnbook.data.digit_strings``: a string is a sequence of W columns,
each a vector of 8 grey levels, zero-padded to the batch's widest string. The reader is

    h_t = [LSTM_fwd(x_1..x_t) ; LSTM_bwd(x_t..x_W)]          (B, W, 2H)
    y_t = softmax(W_y h_t + b_y)                              (B, W, K)

with K = 11 symbols: the blank is symbol 0 and digit d is symbol d + 1. The columns are
packed (``pack_padded_sequence``), so that the backward direction starts at each string's
own last column and not in the padding. The model returns log y, which is what
``torch.nn.CTCLoss`` and ``rnnbook.ctc_decode`` take.

- :class:`Reader`: the model.
- :func:`batches`: a split of ``digit_strings`` cut into batches for ``rnnbook.train.fit``.
- :func:`loss_fn`: ``torch.nn.CTCLoss`` (mean over the batch of the loss divided by the
  target length) on one batch.
- :func:`read`: decode every string of a split with a decoder of ``rnnbook.ctc_decode``.
"""

import numpy as np
import torch
from torch import nn

from rnnbook._checks import check_int
from rnnbook.nn._checks import check_tensor

N_SYMBOLS = 11  # the blank and the ten digits
COLUMN = 8  # grey levels per column


class Reader(nn.Module):
    """A BiLSTM with H units per direction and a linear layer to the 11 CTC symbols.

    Args:
        hidden: units per direction H.
    """

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.hidden = check_int("hidden", hidden)
        self.lstm = nn.LSTM(COLUMN, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, N_SYMBOLS)

    def forward(self, x, widths):
        """x: (B, W, 8) columns, widths: (B,) int64 -> log-probabilities (B, W, 11).

        Frames beyond a string's width hold the log-softmax of the output layer's bias on
        a zero state; CTC and the decoders read only the first ``widths[n]`` frames.
        """
        check_tensor(x, "x", shape=(None, None, COLUMN), dims="(B, W, 8)", like=self.out.weight)
        B, W = x.shape[:2]
        if not isinstance(widths, torch.Tensor) or widths.dtype != torch.int64:
            got = widths.dtype if isinstance(widths, torch.Tensor) else type(widths).__name__
            raise ValueError(f"widths must be an int64 tensor (B,), got {got}")
        if widths.shape != (B,):
            raise ValueError(f"widths must have shape (B,) = ({B},), got {tuple(widths.shape)}")
        if B and (widths.min() < 1 or widths.max() > W):
            raise ValueError(
                f"widths must lie in [1, W] = [1, {W}], got {widths.min()} to {widths.max()}"
            )
        packed = nn.utils.rnn.pack_padded_sequence(
            x, widths.cpu(), batch_first=True, enforce_sorted=False
        )
        h, _ = nn.utils.rnn.pad_packed_sequence(
            self.lstm(packed)[0], batch_first=True, total_length=W
        )  # (B, W, 2H), zero beyond each width
        return torch.log_softmax(self.out(h), -1)  # (B, W, 11)


def batches(split, size: int = 50) -> list:
    """Cut a split of ``digit_strings`` into batches ``(x, widths, targets, lengths)``.

    ``x`` is (B, W_b, 8) float32 with W_b the batch's widest string; ``targets`` holds
    every string's symbols (digit + 1) one after the other, ``lengths`` (B,) their counts,
    the concatenated form that ``torch.nn.CTCLoss`` takes.
    """
    size = check_int("size", size)
    if not isinstance(split, dict) or not {"x", "widths", "labels"} <= set(split):
        raise ValueError("split must be a dict with 'x', 'widths' and 'labels' (digit_strings)")
    out = []
    for i in range(0, len(split["labels"]), size):
        w = torch.tensor(split["widths"][i : i + size])
        x = torch.tensor(split["x"][i : i + size, : int(w.max())])
        labels = split["labels"][i : i + size]
        targets = torch.tensor([d + 1 for lab in labels for d in lab], dtype=torch.int64)
        lengths = torch.tensor([len(lab) for lab in labels], dtype=torch.int64)
        out.append((x, w, targets, lengths))
    return out


_CTC = nn.CTCLoss(blank=0)


def loss_fn(model, batch):
    """The CTC loss of one batch, per label and averaged over the strings (a 0-dim tensor)."""
    x, w, targets, lengths = batch
    log_probs = model(x, w).transpose(0, 1)  # CTCLoss wants (W, B, K)
    return _CTC(log_probs, targets, w, lengths)


def read(model, split, decoder) -> tuple[list, np.ndarray]:
    """Decode every string of ``split``: ``(predictions, log_probs)``.

    ``decoder(log_probs (W_n, 11)) -> symbols`` is e.g. ``rnnbook.ctc_decode.greedy``;
    the predictions are tuples of digits (symbol - 1), and ``log_probs`` is the model's
    output (N, W_max, 11) in float64.
    """
    if not callable(decoder):
        raise ValueError(f"decoder must be callable, got {type(decoder).__name__}")
    with torch.no_grad():
        lp = model(torch.tensor(split["x"]), torch.tensor(split["widths"])).double().numpy()
    predictions = [tuple(k - 1 for k in decoder(lp[n, :w])) for n, w in enumerate(split["widths"])]
    return predictions, lp
