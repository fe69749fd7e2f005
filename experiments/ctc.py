"""Chapter 10, section 4: the BiLSTM + CTC digit-string reader over seeds. Writes
experiments/results/ctc.csv, which the section loads and prints.

    python experiments/ctc.py            # the full runs, about six minutes on one core
    python experiments/ctc.py --quick    # short runs, to test the script

Data: ``rnnbook.data.digit_strings(6000, 1000, 0)``: 6,000 training and 1,000 held-out strings
of one to five digits (gaps of zero to three empty columns), the held-out strings made only of
digit images that no training string uses; the same strings for every seed. Model:
``rnnbook.nn.ctc_reader.Reader`` with H = 64 units per direction; seeds 0-2 (``torch.manual_seed``
before the model is made). Training: ``rnnbook.train.fit`` with ``ctc_reader.loss_fn``
(``torch.nn.CTCLoss``, mean over the batch of the loss per label), 2000 Adam steps (lr 5e-3, clip
1) over the training strings in batches of 50, in order, cycled. Evaluation on the held-out
strings: character error (edit distance over reference length, ``rnnbook.metrics.error_rate``)
and string error (``sequence_error_rate``) of best-path decoding (``ctc_decode.greedy``,
columns ``*_best_path``) and of prefix beam search of width 8 (``ctc_decode.prefix_beam_search``,
columns ``*_beam``); ``beam_better`` and ``beam_worse`` count the strings whose edit distance to
the reference the beam makes smaller or larger than the best path's; ``final_loss`` is the mean
training loss of the last 100 steps; ``seconds`` the run's wall-clock time (the only column
that changes from run to run).

The quick version (``--quick``): seed 0, 120 training and 30 held-out strings, H = 8, 20 steps in
batches of 20, a beam of width 4.

The runs are deterministic (one thread each), so they can go to parallel processes
(``--jobs``) without changing a number.
"""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy and PyTorch: one thread each

import _runner  # noqa: E402  (experiments/_runner.py, beside this script)

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "ctc.csv"
OUT_QUICK = HERE / "results" / "ctc_quick.csv"
SEEDS = (0, 1, 2)
DATA_SEED = 0
TRAIN = dict(n_train=6000, n_test=1000, hidden=64, steps=2000, lr=5e-3, batch_size=50, width=8)
QUICK = dict(n_train=120, n_test=30, hidden=8, steps=20, lr=5e-3, batch_size=20, width=4)
LAST = 100  # final_loss: the mean over this many last steps

METRICS = [
    "final_loss",
    "cer_best_path",
    "ser_best_path",
    "cer_beam",
    "ser_beam",
    "beam_better",
    "beam_worse",
]
FIELDS = ["seed", "n_train", "n_test", "hidden", "steps", "width", *METRICS, "seconds"]


def configurations(quick=False):
    """The runs: dicts with the seed and the training options."""
    seeds = SEEDS[:1] if quick else SEEDS
    options = QUICK if quick else TRAIN
    return [dict(seed=s, options=options) for s in seeds]


def run(config):
    """One training run: one row of the CSV."""
    import torch

    from rnnbook import ctc_decode, data, metrics
    from rnnbook.nn import ctc_reader
    from rnnbook.train import fit

    torch.set_num_threads(1)
    start = time.perf_counter()
    o = config["options"]
    strings = data.digit_strings(o["n_train"], o["n_test"], DATA_SEED)
    test = strings["test"]
    torch.manual_seed(config["seed"])
    model = ctc_reader.Reader(o["hidden"])
    train_batches = ctc_reader.batches(strings["train"], o["batch_size"])
    history = fit(model, ctc_reader.loss_fn, train_batches, steps=o["steps"], lr=o["lr"])
    best, _ = ctc_reader.read(model, test, ctc_decode.greedy)
    beam, _ = ctc_reader.read(
        model, test, lambda lp: ctc_decode.prefix_beam_search(lp, o["width"])[0]
    )
    d_best = [metrics.edit_distance(p, r) for p, r in zip(best, test["labels"], strict=True)]
    d_beam = [metrics.edit_distance(p, r) for p, r in zip(beam, test["labels"], strict=True)]
    last = history.loss[-min(LAST, len(history.loss)) :]
    values = {
        "final_loss": sum(last) / len(last),
        "cer_best_path": metrics.error_rate(best, test["labels"]),
        "ser_best_path": metrics.sequence_error_rate(best, test["labels"]),
        "cer_beam": metrics.error_rate(beam, test["labels"]),
        "ser_beam": metrics.sequence_error_rate(beam, test["labels"]),
        "beam_better": sum(a < b for a, b in zip(d_beam, d_best, strict=True)),
        "beam_worse": sum(a > b for a, b in zip(d_beam, d_best, strict=True)),
    }
    row = dict(
        seed=config["seed"], **{k: o[k] for k in ("n_train", "n_test", "hidden", "steps", "width")}
    )
    row.update({k: f"{v:.6g}" for k, v in values.items()})
    row["seconds"] = f"{time.perf_counter() - start:.0f}"
    return row


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "short runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    rows = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, FIELDS, rows)
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
