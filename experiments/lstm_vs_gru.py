"""Chapter 7's comparison: the LSTM, the GRU and the minimal gated unit on two long-lag tasks,
over several seeds, with the training time of each run. Writes
experiments/results/lstm_vs_gru.csv (or lstm_vs_gru_quick.csv with --quick), which the chapter
loads and prints.

    python experiments/lstm_vs_gru.py            # the full grid, about 4 minutes on two cores
    python experiments/lstm_vs_gru.py --quick    # two short runs, to test the script

Tasks (``rnnbook.data``):

- "adding": the adding problem with T = ``ADDING_T`` steps; a linear readout of the last state
  predicts the sum; the score is the test mean squared error (predicting 1 scores 1/6).
- "copy": the copy task, ``COPY_N`` symbols out of ``COPY_S``, ``COPY_LAG`` blanks, then the cue;
  the input is one-hot, a linear readout of each state gives the logits; the score is the test
  accuracy on the answer steps (guessing scores 1 / COPY_S).

Cells, each with H = ``HIDDEN`` units: "lstm" (``torch.nn.LSTM`` as PyTorch initialises
it), "lstm_b1" (the same with the forget gate's bias set to 1 at the start), "gru"
(``torch.nn.GRU``), and "mgu", the minimal gated unit of Zhou et al. (2016), one gate f_t
that both resets and updates, written below as a small module (a Python loop over the
steps):

    f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)
    h~_t = tanh(W_h x_t + U_h (f_t * h_{t-1}) + b_h)
    h_t = (1 - f_t) * h_{t-1} + f_t * h~_t

Every run trains with Adam (lr ``LR``) through ``rnnbook.train.fit`` with the gradient's global
norm clipped to ``CLIP``, on a fresh batch of ``BATCH`` sequences per update drawn from the
run's seed, for ``STEPS`` updates, and is scored on a fixed test set of ``N_TEST`` sequences
every ``EVERY`` updates. It runs with one thread (``torch.set_num_threads(1)``) and is
deterministic, so runs can go to parallel processes (``--jobs``) without changing a score.

Columns of the CSV, one row per run and window of ``EVERY`` updates: task, cell, impl
("torch.nn" or "loop"), hidden (H), seed, step (the window's last update), train_loss (the
mean training loss over the window, 4 significant digits), score (the run's test score
after its last update), params (the number of trainable numbers, readout included),
seconds (the run's training wall-clock time). Rows with task "timing" hold the seconds per
update of :func:`timing`, for each cell and implementation at each H of ``TIMING_SIZES``
(step: the number of repeats). Times are machine-dependent and, with ``--jobs 2``, taken
while another run shares the machine; the chapter does not read them, and measures its own
timing with repeats instead.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch: one thread per process

import _runner  # noqa: E402  (experiments/_runner.py, beside this script)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnbook import data, measure, seed_everything, train  # noqa: E402
from rnnbook import nn as book_nn  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "lstm_vs_gru.csv"
OUT_QUICK = HERE / "results" / "lstm_vs_gru_quick.csv"
TASKS = ("adding", "copy")
CELLS = ("lstm", "lstm_b1", "gru", "mgu")
SEEDS = range(5)
HIDDEN = 32
BATCH = 32
LR = 1e-2
CLIP = 1.0
STEPS = 1500
EVERY = 250
N_TEST = 500
ADDING_T = 50
COPY_N, COPY_LAG, COPY_S = 5, 15, 4
TIMING_REPEAT = 20
#: the hidden sizes timed: the book's H, and one where the matrix products dominate
TIMING_SIZES = (HIDDEN, 256)
COLUMNS = (
    "task",
    "cell",
    "impl",
    "hidden",
    "seed",
    "step",
    "train_loss",
    "score",
    "params",
    "seconds",
)


class MGU(torch.nn.Module):
    """The minimal gated unit (Zhou et al. 2016), batch first: (B, T, D) -> (B, T, H)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        k = hidden_size**-0.5
        # W_* (H, D), U_* (H, H), b_* (H,) for * in f, h; uniform(-1/sqrt(H), 1/sqrt(H))
        shapes = {"W": (input_size,), "U": (hidden_size,)}
        for g in ("f", "h"):
            for s, tail in shapes.items():
                w = torch.empty(hidden_size, *tail).uniform_(-k, k)
                self.register_parameter(f"{s}_{g}", torch.nn.Parameter(w))
            self.register_parameter(
                f"b_{g}", torch.nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
            )
        self.hidden_size = hidden_size

    def forward(self, x):
        B, T, _ = x.shape
        h = x.new_zeros(B, self.hidden_size)  # (B, H)
        # W_f x_t + b_f and W_h x_t + b_h for every step at once   (B, T, H) each
        xf = x @ self.W_f.T + self.b_f
        xh = x @ self.W_h.T + self.b_h
        outs = []
        for t in range(T):
            # f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)   (B, H)
            f = torch.sigmoid(xf[:, t] + h @ self.U_f.T)
            # h~_t = tanh(W_h x_t + U_h (f_t * h_{t-1}) + b_h)   (B, H)
            h_tilde = torch.tanh(xh[:, t] + (f * h) @ self.U_h.T)
            # h_t = (1 - f_t) * h_{t-1} + f_t * h~_t   (B, H)
            h = (1 - f) * h + f * h_tilde
            outs.append(h)
        return torch.stack(outs, dim=1), h


class Model(torch.nn.Module):
    """A recurrent cell and a linear readout of its states."""

    def __init__(self, cell, input_size, hidden_size, output_size):
        super().__init__()
        if cell in ("lstm", "lstm_b1"):
            self.rnn = torch.nn.LSTM(input_size, hidden_size, batch_first=True)
            if cell == "lstm_b1":
                # the forget gate's bias starts at 1 (Gers et al. 2000; Jozefowicz et al.
                # 2015): rows H..2H of PyTorch's i, f, g, o blocks; b_f = bias_ih + bias_hh
                with torch.no_grad():
                    self.rnn.bias_ih_l0[hidden_size : 2 * hidden_size] = 1.0
                    self.rnn.bias_hh_l0[hidden_size : 2 * hidden_size] = 0.0
        elif cell == "gru":
            self.rnn = torch.nn.GRU(input_size, hidden_size, batch_first=True)
        elif cell == "mgu":
            self.rnn = MGU(input_size, hidden_size)
        else:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        self.readout = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x):
        states, _ = self.rnn(x)  # (B, T, H)
        return self.readout(states)  # (B, T, O)


def make_batch(task, n, rng):
    """(inputs (B, T, D) float32 tensor, targets) of a task, drawn from ``rng``."""
    if task == "adding":
        x, y = data.adding_problem(n, ADDING_T, rng)
        return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    tokens, labels = data.copy_task(n, COPY_N, COPY_LAG, COPY_S, rng)
    x = torch.nn.functional.one_hot(torch.tensor(tokens), COPY_S + 2).float()
    return x, torch.tensor(labels)


def loss_and_score(task, model, batch):
    """The training loss and the task's score (MSE for "adding", accuracy for "copy")."""
    x, y = batch
    out = model(x)
    if task == "adding":
        pred = out[:, -1, 0]  # the readout after the last step   (B,)
        loss = torch.mean((pred - y) ** 2)
        return loss, float(loss.detach())
    logits = out.reshape(-1, out.shape[-1])  # (B T, S)
    labels = y.reshape(-1)
    loss = torch.nn.functional.cross_entropy(logits, labels, ignore_index=-1)
    answer = labels >= 0
    acc = (logits[answer].argmax(dim=1) == labels[answer]).float().mean()
    return loss, float(acc)


def configurations(quick=False):
    """The runs, each a dict (task, cell, seed, steps, every)."""
    if quick:
        return [
            dict(task=task, cell=cell, seed=0, steps=10, every=5)
            for task, cell in (("adding", "gru"), ("copy", "mgu"))
        ]
    return [
        dict(task=task, cell=cell, seed=seed, steps=STEPS, every=EVERY)
        for task in TASKS
        for cell in CELLS
        for seed in SEEDS
    ]


def run(config):
    """Train one model; returns its rows, one per window of ``every`` updates."""
    torch.set_num_threads(1)
    task, cell, seed = config["task"], config["cell"], config["seed"]
    seed_everything(seed)
    sizes = {"adding": (2, 1), "copy": (COPY_S + 2, COPY_S)}[task]
    model = Model(cell, sizes[0], HIDDEN, sizes[1])
    n_params = sum(p.numel() for p in model.parameters())
    test = make_batch(task, N_TEST, np.random.default_rng(10_000 + seed))
    train_rng = np.random.default_rng(seed)
    batches = [make_batch(task, BATCH, train_rng) for _ in range(config["steps"])]

    def loss_fn(m, batch):
        return loss_and_score(task, m, batch)[0]

    start = time.perf_counter()
    history = train.fit(model, loss_fn, batches, steps=config["steps"], lr=LR, clip=CLIP)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        score = loss_and_score(task, model, test)[1]
    every, rows = config["every"], []
    for end in range(every, config["steps"] + 1, every):
        window = history.loss[end - every : end]
        rows.append(
            dict(
                task=task,
                cell=cell,
                impl="loop" if cell == "mgu" else "torch.nn",
                hidden=HIDDEN,
                seed=seed,
                step=end,
                train_loss=float(f"{np.mean(window):.4g}"),
                score=float(f"{score:.4g}"),
                params=n_params,
                seconds=round(seconds, 3),
            )
        )
    return rows


def timing(repeat=TIMING_REPEAT, sizes=TIMING_SIZES):
    """Seconds per update (forward, backward, no optimiser) of each cell and implementation.

    One batch of the adding problem (B = BATCH, T = ADDING_T, D = 2) for each hidden size H
    in ``sizes``, one thread; the median of ``repeat`` runs after one warm-up.
    Implementations: "torch.nn" (PyTorch's own LSTM and GRU), "rnnbook.nn" (the book's
    modules, one Python step per time step) and "loop" (the MGU above, also a Python step
    per time step).
    """
    torch.set_num_threads(1)
    seed_everything(0)
    x, _ = make_batch("adding", BATCH, np.random.default_rng(0))
    rows = []
    for H in sizes:
        rows += _timing_rows(x, H, repeat)
    return rows


def _timing_rows(x, H, repeat):
    modules = {
        ("lstm", "torch.nn"): torch.nn.LSTM(2, H, batch_first=True),
        ("gru", "torch.nn"): torch.nn.GRU(2, H, batch_first=True),
        ("lstm", "rnnbook.nn"): book_nn.LSTM(2, H, batch_first=True),
        ("gru", "rnnbook.nn"): book_nn.GRU(2, H, batch_first=True, reset="after"),
        ("mgu", "loop"): MGU(2, H),
    }
    rows = []
    for (cell, impl), module in modules.items():

        def update(module=module):
            module.zero_grad()
            module(x)[0].sum().backward()

        update()
        seconds = measure.time_call(update, repeat=repeat)
        n_params = sum(p.numel() for p in module.parameters())
        rows.append(
            dict(
                task="timing",
                cell=cell,
                impl=impl,
                hidden=H,
                seed="",
                step=repeat,
                train_loss="",
                score="",
                params=n_params,
                seconds=f"{seconds:.3g}",
            )
        )
    return rows


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "two short runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    results = _runner.run_all(run, configs, args.jobs)
    # timed after the training runs, alone, so that no other run competes for the cores
    results.append(timing(2, (8,)) if args.quick else timing())
    _runner.write_csv(out, COLUMNS, [row for rows in results for row in rows])
    print(f"{len(configs)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
