"""Chapter 10, section 1: character-level language models over seeds. Writes
experiments/results/char_lm.csv, which the section loads and prints.

    python experiments/char_lm.py            # the full runs, about three minutes on two idle cores
    python experiments/char_lm.py --quick    # short runs, to test the script

Data: ``rnnbook.data.python_docs_corpus(0)`` (the Python documentation's help topics; its
size depends on the Python version). Models: ``rnnbook.nn.language_model.CharLM`` with H = D
= 128, cells "srn", "lstm" and "gru" untied, the LSTM with weight tying ("lstm_tied"), and
the LSTM with its state reset to zeros at every window instead of carried ("lstm_nocarry");
seeds 0-2 (the seed sets the initial weights; the data and the order of the windows are the
same in every run). Training: ``language_model.train``, 400 Adam steps (lr 3e-3, clip 1) of
B = 32 rows and windows of k = 64 characters. Every 100 steps the training bpc of the last 100
steps (a running mean taken while the model learns) and the held-out bpc (state carried over
the held-out stream) are stored (metrics ``train_bpc`` and ``test_bpc``, with ``step``); after
the last step, the final model's bpc on the first training characters, as many as the
held-out stream has, read in the same way (``train_eval_bpc``).

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
OUT = HERE / "results" / "char_lm.csv"
OUT_QUICK = HERE / "results" / "char_lm_quick.csv"
MODELS = {
    "srn": dict(cell="srn", tie=False, carry=True),
    "lstm": dict(cell="lstm", tie=False, carry=True),
    "gru": dict(cell="gru", tie=False, carry=True),
    "lstm_tied": dict(cell="lstm", tie=True, carry=True),
    "lstm_nocarry": dict(cell="lstm", tie=False, carry=False),
}
SEEDS = (0, 1, 2)
TRAIN = dict(steps=400, eval_every=100, hidden=128, batch_size=32, window=64, lr=3e-3)
QUICK = dict(steps=20, eval_every=10, hidden=16, batch_size=8, window=16, lr=3e-3)

FIELDS = ["model", "seed", "step", "metric", "value"]


def configurations(quick=False):
    """The runs: dicts with the model's name, the seed and the training options."""
    seeds = SEEDS[:1] if quick else SEEDS
    options = QUICK if quick else TRAIN
    return [dict(model=m, seed=s, options=options) for m in MODELS for s in seeds]


def run(config):
    """One training run: rows of the CSV, two per evaluation and one at the end."""
    import torch

    from rnnbook import data
    from rnnbook.nn import language_model as lm

    torch.set_num_threads(1)
    o, m = config["options"], MODELS[config["model"]]
    corpus = data.python_docs_corpus(0)
    torch.manual_seed(config["seed"])
    model = lm.CharLM(len(corpus["vocab"]), o["hidden"], cell=m["cell"], tie=m["tie"])
    _, curve = lm.train(
        model,
        corpus["train"],
        batch_size=o["batch_size"],
        window=o["window"],
        steps=o["steps"],
        lr=o["lr"],
        carry=m["carry"],
        eval_ids=corpus["test"],
        eval_every=o["eval_every"],
    )
    base = dict(model=config["model"], seed=config["seed"])
    rows = [
        dict(base, step=step, metric=k, value=f"{v:.6g}")
        for step, train_bpc, test_bpc in curve
        for k, v in (("train_bpc", train_bpc), ("test_bpc", test_bpc))
    ]
    seen = lm.bits_per_char(model, corpus["train"][: len(corpus["test"])])
    rows.append(dict(base, step=o["steps"], metric="train_eval_bpc", value=f"{seen:.6g}"))
    return rows


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "short runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    results = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, FIELDS, [row for rows in results for row in rows])
    print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
