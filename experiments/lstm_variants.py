"""Chapter 6's comparison of LSTM variants, a small version of Greff et al. (2017), "LSTM: a
search space odyssey": the book's four cells and three initialisations of the forget gate's
bias, trained on the same two tasks over the same seeds. Writes
experiments/results/lstm_variants.csv, which the chapter loads, plots and prints.

    python experiments/lstm_variants.py            # the full grid, about 3 minutes on two cores
    python experiments/lstm_variants.py --quick    # a few small runs, to test the script

Models (``CONFIGS``): ``rnnbook.nn.LSTM`` with H = 16 units of each variant ("standard",
"no_forget" (6.42), "peephole" (6.43)-(6.45), "coupled" (6.46)-(6.47)), its parameters drawn
by ``rnnbook.scratch.lstm.init_params`` (PyTorch's uniform bound 1/sqrt(H) for every weight,
one bias vector per gate drawn with the same bound, b_f like the others), and the standard
cell with b_f set to 0, 1 and 2 ("standard_bf0", ...).
A linear read-out on h_t. Adam, lr 0.01, batch 32, the gradient's global norm clipped to
``CLIP`` = 1 (``rnnbook.train.fit``), float32, one thread per process, seeds 0-4.

Tasks:

- "adding": ``rnnbook.data.adding_problem`` with T = ``ADDING_T`` steps, the squared error
  of the read-out after the last step; measured: the test MSE on 1,000 fresh sequences
  (predicting 1 scores 1/6).
- "brackets": ``rnnbook.data.bracket_depth`` (max depth ``MAX_DEPTH`` = 6, a reset with
  probability 0.05 at each step), trained on sequences of 40 steps that each start from the
  zero state, the cross-entropy of the depth at every step; measured: the accuracy on 256
  fresh sequences of 40 steps ("test_acc"), and on 16 continual streams of ``STREAM`` steps
  whose state is never reset ("stream_acc"), with the largest |c| over the streams: over the
  last 100 steps ("c_max_end"), and from the first step up to step 100 and up to step 1000
  ("c_max_100", "c_max_1000").

Every run is deterministic, so they can go to parallel processes (``--jobs``) without
changing a number; numbers are rounded to 4 significant digits.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy and torch: one thread each

import _runner  # noqa: E402  (experiments/_runner.py, beside this script)

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "lstm_variants.csv"
SEEDS = range(5)
CLIP = 1.0
H = 16
ADDING_T = 40
STREAM = 2000
MAX_DEPTH = 6
STEPS = {"adding": 800, "brackets": 400}
#: name -> (variant, forget_bias)
CONFIGS = {
    "standard": ("standard", None),
    "no_forget": ("no_forget", None),
    "peephole": ("peephole", None),
    "coupled": ("coupled", None),
    "standard_bf0": ("standard", 0.0),
    "standard_bf1": ("standard", 1.0),
    "standard_bf2": ("standard", 2.0),
}
FIELDS = [
    "task",
    "config",
    "variant",
    "forget_bias",
    "seed",
    "steps",
    "train_loss",
    "test_mse",
    "test_acc",
    "stream_acc",
    "c_max_100",
    "c_max_1000",
    "c_max_end",
]


def configurations(quick=False):
    """The runs: task, configuration name, seed and number of updates."""
    if quick:
        return [
            dict(task="adding", config="standard", seed=0, steps=20),
            dict(task="brackets", config="no_forget", seed=0, steps=20),
        ]
    return [
        dict(task=task, config=name, seed=seed, steps=STEPS[task])
        for task in ("adding", "brackets")
        for name in CONFIGS
        for seed in SEEDS
    ]


def _sig(v):
    return float(f"{v:.4g}")


def build(config, seed, input_size, output_size):
    """The LSTM of a configuration and its read-out, drawn from the seed."""
    import numpy as np
    import torch

    from rnnbook import convert
    from rnnbook.scratch import lstm

    variant, forget_bias = CONFIGS[config]
    rng = np.random.default_rng(seed)
    params = lstm.init_params(input_size, H, rng, variant=variant, forget_bias=forget_bias)
    cell = convert.to_nn(params, "lstm", variant=variant, dtype=torch.float32)
    torch.manual_seed(seed)
    readout = torch.nn.Linear(H, output_size)
    return cell, readout


def run(config):
    """One training run: the configuration with its measurements added."""
    import numpy as np
    import torch

    from rnnbook import data, train
    from rnnbook.scratch import lstm

    torch.set_num_threads(1)
    task, seed, steps = config["task"], config["seed"], config["steps"]
    variant, forget_bias = CONFIGS[config["config"]]
    row = dict(config, variant=variant, forget_bias="drawn" if forget_bias is None else forget_bias)
    if task == "adding":
        cell, readout = build(config["config"], seed, 2, 1)
        model = torch.nn.ModuleDict(dict(cell=cell, readout=readout))
        train_rng = np.random.default_rng(1000 + seed)

        def batch(step):
            x, y = data.adding_problem(32, ADDING_T, train_rng)
            return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

        def loss_fn(m, b):
            x, y = b
            out, _ = m["cell"](x.transpose(0, 1))  # (T, B, H)
            return torch.mean((m["readout"](out[-1])[:, 0] - y) ** 2)

        history = train.fit(model, loss_fn, batch, steps=steps, lr=0.01, clip=CLIP)
        x, y = data.adding_problem(1000, ADDING_T, 77)
        with torch.no_grad():
            mse = loss_fn(model, (torch.tensor(x, dtype=torch.float32), torch.tensor(y)))
        row.update(test_mse=_sig(float(mse)))
    else:
        n_classes = MAX_DEPTH + 1
        cell, readout = build(config["config"], seed, 3, n_classes)
        model = torch.nn.ModuleDict(dict(cell=cell, readout=readout))
        train_rng = np.random.default_rng(2000 + seed)
        eye = torch.eye(3)

        def batch(step):
            tok, depth = data.bracket_depth(32, 40, train_rng, max_depth=MAX_DEPTH, p_reset=0.05)
            return eye[torch.tensor(tok)], torch.tensor(depth)

        def logits_of(m, x, state=None):
            out, state = m["cell"](x.transpose(0, 1), state)  # (T, B, H)
            return m["readout"](out), state  # (T, B, classes)

        def loss_fn(m, b):
            x, y = b
            logits, _ = logits_of(m, x)
            return torch.nn.functional.cross_entropy(
                logits.reshape(-1, n_classes), y.transpose(0, 1).reshape(-1)
            )

        history = train.fit(model, loss_fn, batch, steps=steps, lr=0.01, clip=CLIP)
        with torch.no_grad():
            tok, depth = data.bracket_depth(256, 40, 78, max_depth=MAX_DEPTH, p_reset=0.05)
            logits, _ = logits_of(model, eye[torch.tensor(tok)])
            acc = (logits.argmax(-1) == torch.tensor(depth).T).double().mean()
            # continual streams: one long sequence each, the state never reset
            tok, depth = data.bracket_depth(16, STREAM, 79, max_depth=MAX_DEPTH, p_reset=0.05)
            logits, _ = logits_of(model, eye[torch.tensor(tok)])
            stream_acc = (logits.argmax(-1) == torch.tensor(depth).T).double().mean()
        # the cell state along the streams, by the NumPy cell with the trained weights
        from rnnbook import convert

        p = convert.from_torch(model["cell"])
        p64 = {k: v.astype(np.float64) for k, v in p.items()}
        x = np.eye(3)[tok].transpose(1, 0, 2)  # (T, B, 3)
        _, cache = lstm.forward(x, None, p64, variant=variant)
        c_abs = np.abs(np.stack([s[1] for s in cache["states"]]))  # (T, B, H)
        row.update(
            test_acc=_sig(float(acc)),
            stream_acc=_sig(float(stream_acc)),
            c_max_100=_sig(c_abs[:100].max()),
            c_max_1000=_sig(c_abs[:1000].max()),
            c_max_end=_sig(c_abs[-100:].max()),
        )
    row["train_loss"] = _sig(sum(history.loss[-50:]) / len(history.loss[-50:]))
    return {k: row.get(k, "") for k in FIELDS}


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "a few small runs only")
    out = args.out or (OUT.with_name("lstm_variants_quick.csv") if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    rows = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, FIELDS, rows)
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
