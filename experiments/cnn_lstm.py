"""Chapter 10, section 6: CNN + LSTM over seeds. Writes experiments/results/cnn_lstm.csv,
which the section loads and prints.

    python experiments/cnn_lstm.py            # the full runs, about 12 minutes with --jobs 2
    python experiments/cnn_lstm.py --quick    # short runs, to test the script

Action recognition: ``rnnbook.nn.cnn_lstm.video_run`` for the pools "lstm" (a CNN on every
frame, then an LSTM), "mean" (the mean of the frame features) and "frame" (the middle frame
only), seeds 0-2, 300 Adam steps of 32 clips; held-out accuracy on 600 clips. The two
order-free baselines are also trained for 1500 steps (rows with steps 1500), to show where
their loss flattens. Every video run stores its training loss in windows of 100 steps
(``loss_0100`` is the mean loss of steps 1-100, and so on; windows of 10 in the quick runs).
Captioning: ``caption_run``, seeds 0-2, 1000 steps of 32 scenes; exact-match accuracy and
corpus BLEU of greedy decoding on 300 new scenes of training descriptions ("seen") and 300
scenes of held-out descriptions ("unseen").

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
OUT = HERE / "results" / "cnn_lstm.csv"
OUT_QUICK = HERE / "results" / "cnn_lstm_quick.csv"
POOLS = ("lstm", "mean", "frame")
SEEDS = (0, 1, 2)
VIDEO = dict(steps=300)
VIDEO_LONG = dict(steps=1500)
BASELINES = ("mean", "frame")
CAPTION = dict(steps=1000)
QUICK_VIDEO = dict(steps=20, n_train=120, n_test=60)
QUICK_CAPTION = dict(steps=20, n_train=120, n_test=30)
QUICK_VIDEO_LONG = dict(steps=40, n_train=120, n_test=60)

FIELDS = ["task", "model", "seed", "steps", "metric", "value"]


def configurations(quick=False):
    """The runs: dicts with the task, the model (pool) and the seed, and the run's options."""
    video, caption = (QUICK_VIDEO, QUICK_CAPTION) if quick else (VIDEO, CAPTION)
    long = QUICK_VIDEO_LONG if quick else VIDEO_LONG
    seeds = SEEDS[:1] if quick else SEEDS
    return (
        [dict(task="video", model=p, seed=s, options=video) for p in POOLS for s in seeds]
        + [dict(task="caption", model="cnn_lstm", seed=s, options=caption) for s in seeds]
        + [dict(task="video", model=p, seed=s, options=long) for p in BASELINES for s in seeds]
    )


def run(config):
    """One training run: rows of the CSV, one per metric."""
    import torch

    from rnnbook.nn import cnn_lstm

    torch.set_num_threads(1)
    base = dict(task=config["task"], model=config["model"], seed=config["seed"])
    base["steps"] = config["options"]["steps"]
    if config["task"] == "video":
        r = cnn_lstm.video_run(config["model"], config["seed"], **config["options"])
        loss = r["history"].loss
        metrics = {"accuracy": r["accuracy"], "final_loss": sum(loss[-20:]) / 20}
        window = 100 if len(loss) >= 100 else 10  # the training loss in windows
        for end in range(window, len(loss) + 1, window):
            metrics[f"loss_{end:04d}"] = sum(loss[end - window : end]) / window
    else:
        r = cnn_lstm.caption_run(config["seed"], **config["options"])
        metrics = {
            f"{k}_{split}": r[split][k] for split in ("seen", "unseen") for k in ("exact", "bleu")
        }
        metrics["final_loss"] = sum(r["history"].loss[-20:]) / 20
    return [dict(base, metric=k, value=f"{v:.6g}") for k, v in metrics.items()]


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
