"""Chapter 8's comparison: a clockwork RNN, an SRN and an LSTM of (nearly) equal parameter
counts learn to generate a sum of two sines of very different periods, over several seeds.
Writes experiments/results/clockwork.csv (or clockwork_quick.csv with --quick), which the
chapter loads and prints.

    python experiments/clockwork.py            # the full grid, a few minutes on two cores
    python experiments/clockwork.py --quick    # five short runs, to test the script

The task is generation, as in Koutnik et al. (2014), section 4.1: the network gets no
information about the signal, only a constant input 1 at every step, and must produce

    y_t = 0.5 sin(2 pi t / FAST) + 0.5 sin(2 pi t / SLOW),   t = 1..LENGTH

from its own dynamics, read out linearly from its state at every step. The score is the
normalised root-mean-square error (``rnnbook.esn.nrmse``) over the whole sequence after
training; 1 is the error of outputting the mean. Training and scoring use the same one
sequence (the task is to learn to produce it), so the seeds vary only the initial weights.

Models, each a recurrent layer and a ``torch.nn.Linear`` readout of its states:

- "cwrnn": ``rnnbook.nn.ClockworkRNN`` with ``CW_K`` units in each of the modules of
  periods ``CW_PERIODS``; its parameters counted are the recurrent weights inside the mask
  (the others are fixed at zero and get no gradient), W, b and the readout;
- "srn": ``torch.nn.RNN`` (tanh) with ``SRN_H`` units;
- "lstm": ``torch.nn.LSTM`` with ``LSTM_H`` units.

Controls (``CONTROLS``), since only the CW-RNN gets a signal that varies in time, its own
pattern of ticks: "srn_ticks" and "lstm_ticks" are the same SRN and LSTM fed, in place of
the constant 1, the CW-RNN's tick pattern as input, x_t = (1[t mod T_g = 0])_g, one bit per
module (the period-1 bit is the constant 1). Their extra input weights put their counts
above the 2 % band; the ``params`` column gives them.

The sizes are chosen so that the counts are within 2 % of each other (``params`` column).
Every run trains with Adam (lr ``LR``) through ``rnnbook.train.fit`` with the gradient's
global norm clipped to ``CLIP``, for ``STEPS`` updates on the one sequence, with one thread
(``torch.set_num_threads(1)``): the runs are deterministic, so ``--jobs`` changes no number.

Columns, one row per run and window of ``EVERY`` updates: model, hidden (H), params, seed,
step (the window's last update), train_loss (the mean squared error averaged over the window,
4 significant digits), nrmse (the run's NRMSE after its last update, 4 significant digits),
seconds (the run's training time; machine-dependent, not compared).

A second file, clockwork_generated.csv (clockwork_generated_quick.csv with --quick), holds the
sequence each model of seed 0 produces after training: columns model, t, y (4 significant
digits), for the chapter's figure.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch: one thread per process

import _runner  # noqa: E402  (experiments/_runner.py, beside this script)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnbook import esn, seed_everything, train  # noqa: E402
from rnnbook import nn as book_nn  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "clockwork.csv"
OUT_QUICK = HERE / "results" / "clockwork_quick.csv"
GENERATED = HERE / "results" / "clockwork_generated.csv"
GENERATED_QUICK = HERE / "results" / "clockwork_generated_quick.csv"
MODELS = ("cwrnn", "srn", "lstm")
CONTROLS = ("srn_ticks", "lstm_ticks")
SEEDS = range(5)
FAST, SLOW, LENGTH = 5, 80, 320
CW_K, CW_PERIODS = 8, (1, 2, 4, 8)
SRN_H, LSTM_H = 25, 12
LR = 3e-3
CLIP = 1.0
STEPS = 1500
EVERY = 250
COLUMNS = ("model", "hidden", "params", "seed", "step", "train_loss", "nrmse", "seconds")
GENERATED_COLUMNS = ("model", "t", "y")


def target(length=LENGTH):
    """The signal y_1..y_T, (T,) float64."""
    t = np.arange(1, length + 1)
    return 0.5 * np.sin(2 * np.pi * t / FAST) + 0.5 * np.sin(2 * np.pi * t / SLOW)


def inputs(name, length=LENGTH):
    """The model's input (T, 1, D): the constant 1, or for the controls the tick bits (D = G)."""
    if name in CONTROLS:
        t = np.arange(1, length + 1)  # the clock of the CW-RNN, started at t = 1
        bits = (t[:, None] % np.array(CW_PERIODS)[None, :] == 0).astype(np.float32)
        return torch.tensor(bits)[:, None, :]
    return torch.ones(length, 1, 1)


class Model(torch.nn.Module):
    """A recurrent layer and a linear readout; input (T, 1, D), output (T, 1)."""

    def __init__(self, name):
        super().__init__()
        D = len(CW_PERIODS) if name in CONTROLS else 1
        if name == "cwrnn":
            self.rnn = book_nn.ClockworkRNN(1, CW_K, CW_PERIODS)
            H = self.rnn.hidden_size
        elif name in ("srn", "srn_ticks"):
            self.rnn = torch.nn.RNN(D, SRN_H)
            H = SRN_H
        elif name in ("lstm", "lstm_ticks"):
            self.rnn = torch.nn.LSTM(D, LSTM_H)
            H = LSTM_H
        else:
            raise ValueError(f"model must be one of {MODELS + CONTROLS}, got {name!r}")
        self.name, self.hidden = name, H
        self.readout = torch.nn.Linear(H, 1)

    def forward(self, x):
        states, _ = self.rnn(x)  # (T, 1, H)
        return self.readout(states)[:, 0]  # (T, 1)


def count_params(model) -> int:
    """The trainable numbers; for the clockwork RNN only U's entries inside the mask."""
    n = sum(p.numel() for p in model.parameters())
    if model.name == "cwrnn":
        n -= int((model.rnn.M == 0).sum())
    return n


def configurations(quick=False):
    """The runs, each a dict (model, seed, steps, every)."""
    if quick:
        return [dict(model=m, seed=0, steps=6, every=3) for m in MODELS + CONTROLS]
    return [
        dict(model=m, seed=s, steps=STEPS, every=EVERY) for m in MODELS + CONTROLS for s in SEEDS
    ]


def run(config):
    """Train one model; returns (its rows, one per window of ``every`` updates, and the
    rows of its generated sequence, for seed 0 only)."""
    torch.set_num_threads(1)
    seed_everything(config["seed"])
    model = Model(config["model"])
    x = inputs(config["model"])  # the constant input (T, B = 1, D = 1), or the tick bits
    y = torch.tensor(target(), dtype=torch.float32)[:, None]  # (T, 1)

    def loss_fn(m, batch):
        return torch.mean((m(batch[0]) - batch[1]) ** 2)

    start = time.perf_counter()
    history = train.fit(model, loss_fn, [(x, y)], steps=config["steps"], lr=LR, clip=CLIP)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        out = model(x).double().numpy()
    score = esn.nrmse(out, y.double().numpy())
    rows, every = [], config["every"]
    for end in range(every, config["steps"] + 1, every):
        rows.append(
            dict(
                model=model.name,
                hidden=model.hidden,
                params=count_params(model),
                seed=config["seed"],
                step=end,
                train_loss=float(f"{np.mean(history.loss[end - every : end]):.4g}"),
                nrmse=float(f"{score:.4g}"),
                seconds=round(seconds, 3),
            )
        )
    sequence = []
    if config["seed"] == 0:
        sequence = [
            dict(model=model.name, t=t, y=float(f"{v:.4g}"))
            for t, v in enumerate(out[:, 0], start=1)
        ]
    return rows, sequence


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "five short runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    if args.out:  # beside the file asked for
        generated = args.out.with_name(args.out.stem + "_generated.csv")
    else:
        generated = GENERATED_QUICK if args.quick else GENERATED
    configs = configurations(args.quick)
    start = time.perf_counter()
    results = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, COLUMNS, [row for rows, _ in results for row in rows])
    _runner.write_csv(generated, GENERATED_COLUMNS, [r for _, seq in results for r in seq])
    print(f"{len(configs)} runs in {time.perf_counter() - start:.0f} s -> {out}, {generated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
