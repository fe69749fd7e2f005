"""Chapter 8's comparison: one-way and bidirectional LSTMs on the fill-in-the-blank task, over
several seeds. Writes experiments/results/fill_in_blank.csv (or fill_in_blank_quick.csv with
--quick), which the chapter loads and prints.

    python experiments/fill_in_blank.py            # the full grid, about a minute on two cores
    python experiments/fill_in_blank.py --quick    # three short runs, to test the script

The task is ``rnnbook.data.fill_in_blank``: sequences of ``LENGTH`` symbols out of
``N_SYMBOLS``, one of them replaced by a blank, the label (left + right neighbour) mod
N_SYMBOLS. Inputs are one-hot (N_SYMBOLS + 1 values, the blank included). Models, each an
``rnnbook.nn.LSTM`` with H = ``HIDDEN`` units per direction and the same readout, an MLP
(a hidden layer of ``READOUT`` ReLU units, then N_SYMBOLS logits) applied to the state at
one step:

- "uni": one direction, the answer read at the blank's own step (it has read the blank and
  everything before it: accuracy at most 1 / N_SYMBOLS, the bound of the data's docstring);
- "bi": two directions (``bidirectional=True``), the answer read at the blank's step from
  [forward h_t; backward h_t];
- "uni_end": one direction, the answer read after the last step (it has read both neighbours,
  so the bound does not apply, but it must hold them and find the blank).

The readout is an MLP and not one linear map: a linear map of [h^(1); h^(2)] gives each label
a score a(left) + b(right), and no such sum puts its maximum at (left + right) mod n for every
pair (for n = 2, the exclusive or).

Every run trains with Adam (lr ``LR``) through ``rnnbook.train.fit``, the gradient's global
norm clipped to ``CLIP``, on a fresh batch of ``BATCH`` sequences per update drawn from the
run's seed, for ``STEPS`` updates, and is scored on a fixed test set of ``N_TEST`` sequences.
One thread per run; deterministic, so runs can go to parallel processes (``--jobs``).

Columns of the CSV, one row per run: model, seed, steps, params (trainable numbers, readout
included), train_loss (mean over the last ``WINDOW`` updates, 4 significant digits),
accuracy (on the test set), bound (1 / N_SYMBOLS).
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch: one thread per process

import _runner  # noqa: E402  (experiments/_runner.py, beside this script)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnbook import data, seed_everything, train  # noqa: E402
from rnnbook import nn as book_nn  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "fill_in_blank.csv"
OUT_QUICK = HERE / "results" / "fill_in_blank_quick.csv"
MODELS = ("uni", "bi", "uni_end")
SEEDS = range(5)
LENGTH = 12
N_SYMBOLS = 4
HIDDEN = 32
READOUT = 64
BATCH = 64
LR = 1e-2
CLIP = 1.0
STEPS = 1000
WINDOW = 50
N_TEST = 1000
COLUMNS = ("model", "seed", "steps", "params", "train_loss", "accuracy", "bound")


class Model(torch.nn.Module):
    """An ``rnnbook.nn.LSTM`` (one or two directions) and an MLP readout at one step."""

    def __init__(self, model):
        super().__init__()
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {model!r}")
        self.model = model
        bi = model == "bi"
        self.rnn = book_nn.LSTM(N_SYMBOLS + 1, HIDDEN, bidirectional=bi)
        width = (2 if bi else 1) * HIDDEN
        self.readout = torch.nn.Sequential(
            torch.nn.Linear(width, READOUT), torch.nn.ReLU(), torch.nn.Linear(READOUT, N_SYMBOLS)
        )

    def forward(self, x, position):
        """Logits (B, N_SYMBOLS) from x (T, B, N_SYMBOLS + 1) and the blank's position (B,)."""
        states, _ = self.rnn(x)  # (T, B, dirs H)
        rows = torch.arange(x.shape[1])
        at = torch.full_like(position, x.shape[0] - 1) if self.model == "uni_end" else position
        return self.readout(states[at, rows])  # (B, N_SYMBOLS)


def make_batch(n, rng):
    """(one-hot inputs (T, B, N_SYMBOLS + 1), positions (B,), labels (B,)) drawn from rng."""
    tokens, position, label = data.fill_in_blank(n, LENGTH, N_SYMBOLS, rng)
    x = torch.nn.functional.one_hot(torch.tensor(tokens).T, N_SYMBOLS + 1).float()
    return x, torch.tensor(position), torch.tensor(label)


def loss_fn(model, batch):
    x, position, label = batch
    return torch.nn.functional.cross_entropy(model(x, position), label)


def accuracy(model, batch):
    x, position, label = batch
    with torch.no_grad():
        return float((model(x, position).argmax(dim=1) == label).float().mean())


def configurations(quick=False):
    """The runs, each a dict (model, seed, steps)."""
    if quick:
        return [dict(model=m, seed=0, steps=5) for m in MODELS]
    return [dict(model=m, seed=s, steps=STEPS) for m in MODELS for s in SEEDS]


def run(config):
    """Train one model; returns its row."""
    torch.set_num_threads(1)
    seed_everything(config["seed"])
    model = Model(config["model"])
    train_rng = np.random.default_rng(config["seed"])
    batches = [make_batch(BATCH, train_rng) for _ in range(config["steps"])]
    history = train.fit(model, loss_fn, batches, steps=config["steps"], lr=LR, clip=CLIP)
    test = make_batch(N_TEST, np.random.default_rng(10_000 + config["seed"]))
    return dict(
        model=config["model"],
        seed=config["seed"],
        steps=config["steps"],
        params=sum(p.numel() for p in model.parameters()),
        train_loss=float(f"{np.mean(history.loss[-WINDOW:]):.4g}"),
        accuracy=float(f"{accuracy(model, test):.4g}"),
        bound=1 / N_SYMBOLS,
    )


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "three short runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    rows = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, COLUMNS, rows)
    print(f"{len(configs)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
