"""Chapter 5's long-lag benchmark: the adding problem at growing lengths, five models, five
seeds. Writes experiments/results/long_lag.csv, which the chapter loads and prints.

    python experiments/long_lag.py            # the full grid, a few minutes on two cores
    python experiments/long_lag.py --quick    # two short runs, to test the script

Every run is ``rnnbook.longterm.train_long_lag`` with its defaults: H = 32 hidden units,
batches of 64 fresh sequences, 1000 Adam updates with learning rate 0.01, the gradient's
global norm clipped to 1, test MSE on 1000 sequences measured after 250, 500, 750 and 1000
updates. The models (``rnnbook.longterm.MODELS``): "srn" (tanh, PyTorch's uniform
initialisation), "srn_orth" (tanh, orthogonal U), "irnn" (ReLU, U = I, b = 0), "lstm" and
"gru" (uniform). Lengths T = 10, 20, 40, 80; seeds 0-4. A run succeeds when its final test
MSE is below 0.1 x 1/6, a tenth of the score of always answering 1.

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
OUT = HERE / "results" / "long_lag.csv"
OUT_QUICK = HERE / "results" / "long_lag_quick.csv"
MODELS = ("srn", "srn_orth", "irnn", "lstm", "gru")
LENGTHS = (10, 20, 40, 80)
SEEDS = range(5)
STEPS = 1000
EVALUATE = (250, 500, 750, 1000)
QUICK = dict(models=("srn", "lstm"), lengths=(10,), seeds=(0,), steps=40, evaluate=(20, 40))

FIELDS = ["model", "T", "seed", "steps", "update", "test_mse", "max_grad_norm", "clipped"]


def configurations(quick=False):
    """The runs, each a dict of train_long_lag's arguments."""
    if quick:
        q = QUICK
        return [
            dict(model=m, T=T, seed=s, steps=q["steps"], evaluate=q["evaluate"])
            for T in q["lengths"]
            for m in q["models"]
            for s in q["seeds"]
        ]
    return [
        dict(model=m, T=T, seed=s, steps=STEPS, evaluate=EVALUATE)
        for T in LENGTHS
        for m in MODELS
        for s in SEEDS
    ]


def run(config):
    """One training run: rows of the CSV, one per evaluation point."""
    from rnnbook.longterm import train_long_lag

    result = train_long_lag(**config)
    rows = []
    for update, mse in result["test_mse"].items():
        rows.append(
            dict(
                model=config["model"],
                T=config["T"],
                seed=config["seed"],
                steps=config["steps"],
                update=update,
                test_mse=f"{mse:.4g}",
                max_grad_norm=f"{result['max_grad_norm']:.3g}",
                clipped=f"{result['clipped']:.3f}",
            )
        )
    return rows


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "two short runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    results = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, FIELDS, [row for rows in results for row in rows])
    print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
