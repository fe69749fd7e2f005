"""Chapter 3's training grid: test accuracy on the delayed echo against the lag d and the
truncation, over several seeds. Writes experiments/results/truncated_bptt.json, which the
chapter loads and prints.

    python experiments/truncated_bptt.py            # the full grid, about 3 minutes on two cores
    python experiments/truncated_bptt.py --quick    # a few small runs, to test the script

Every run is ``rnnbook.truncation.train_echo`` with its defaults (T = 20, B = 32, H = 24,
S = 4 symbols, lr 0.3, momentum 0.9), a seed and, except in the group "unclipped", the
gradient's global norm clipped to ``CLIP`` = 5; it is deterministic, so the runs can go to
parallel processes (``--jobs``) without changing a number. Each run stores its test
accuracies (rounded to 4 decimals), the accuracy on the first d steps at the end
("first_steps"), the largest global norm of the gradient before clipping ("max_grad_norm",
3 significant digits) and the fraction of updates that were clipped ("clipped"). Groups:

- "grid": d = 1..4, k1 = 1, k2 = 1..5 and full BPTT, seeds 0-4, 400 updates;
- "long": d = 3, k2 = 2 and 3, seeds 0-4, 2000 updates;
- "blocks": d = 3, BPTT(k; k) for k = 2, 4 and BPTT(4; 1), seeds 0-4, 400 updates,
  measured early and often (the exercise ex-bptt-k1);
- "random": d = 3, cuts with probability c = 0.25 and 0.5, with and without the
  compensation factor, seeds 0-4, 400 updates;
- "unclipped": without clipping, d = 4 with full BPTT and with k2 = 5, and d = 3 with the
  reweighted random cuts (c = 0.25, 0.5), seeds 0-4, 400 updates.
"""

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy: one thread per process

import _runner  # noqa: E402  (experiments/_runner.py, beside this script)

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "truncated_bptt.json"
SEEDS = range(5)
#: the global norm to which every run's gradient is clipped, except in the group "unclipped"
CLIP = 5.0


def configurations(quick=False):
    """The runs, each a dict of group, train_echo's arguments and the evaluation points."""
    if quick:
        return [
            dict(
                group="grid",
                clip=CLIP,
                d=1,
                gradient="truncated",
                k1=1,
                k2=1,
                seed=0,
                steps=20,
                evaluate=[10, 20],
            ),
            dict(
                group="random",
                clip=CLIP,
                d=2,
                gradient="randomized",
                c=0.5,
                reweight=True,
                seed=0,
                steps=20,
                evaluate=[10, 20],
            ),
        ]
    runs, every = [], [100, 200, 400]
    for d in (1, 2, 3, 4):
        for seed in SEEDS:
            for k2 in (1, 2, 3, 4, 5):
                runs.append(
                    dict(
                        group="grid",
                        clip=CLIP,
                        d=d,
                        gradient="truncated",
                        k1=1,
                        k2=k2,
                        seed=seed,
                        steps=400,
                        evaluate=every,
                    )
                )
            runs.append(
                dict(
                    group="grid",
                    clip=CLIP,
                    d=d,
                    gradient="full",
                    seed=seed,
                    steps=400,
                    evaluate=every,
                )
            )
    for seed in SEEDS:
        for k2 in (2, 3):
            runs.append(
                dict(
                    group="long",
                    clip=CLIP,
                    d=3,
                    gradient="truncated",
                    k1=1,
                    k2=k2,
                    seed=seed,
                    steps=2000,
                    evaluate=[400, 1000, 2000],
                )
            )
        for k1, k2 in ((2, 2), (4, 4), (1, 4)):
            runs.append(
                dict(
                    group="blocks",
                    clip=CLIP,
                    d=3,
                    gradient="truncated",
                    k1=k1,
                    k2=k2,
                    seed=seed,
                    steps=400,
                    evaluate=[10, 25, 50, 100, 200, 400],
                )
            )
        for c in (0.25, 0.5):
            for reweight in (True, False):
                runs.append(
                    dict(
                        group="random",
                        clip=CLIP,
                        d=3,
                        gradient="randomized",
                        c=c,
                        reweight=reweight,
                        seed=seed,
                        steps=400,
                        evaluate=every,
                    )
                )
    for seed in SEEDS:
        for how in (dict(gradient="full"), dict(gradient="truncated", k1=1, k2=5)):
            runs.append(
                dict(group="unclipped", clip=None, d=4, **how, seed=seed, steps=400, evaluate=every)
            )
        for c in (0.25, 0.5):
            runs.append(
                dict(
                    group="unclipped",
                    clip=None,
                    d=3,
                    gradient="randomized",
                    c=c,
                    reweight=True,
                    seed=seed,
                    steps=400,
                    evaluate=every,
                )
            )
    return runs


def run(config):
    """One training run: the configuration with its measurements added."""
    from rnnbook.truncation import accuracy, train_echo

    args = {k: v for k, v in config.items() if k != "group"}
    norms = []
    p, _, accuracies = train_echo(**args, norms=norms)
    first = accuracy(p, T=20, S=4, d=config["d"], steps="first")
    clip = config["clip"]
    return {
        **config,
        "accuracy": {str(n): round(a, 4) for n, a in accuracies.items()},
        "first_steps": round(first, 4),
        "max_grad_norm": float(f"{max(norms):.3g}"),
        "clipped": round(sum(n > clip for n in norms) / len(norms) if clip else 0.0, 4),
    }


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "a few small runs only")
    args.out = args.out or OUT
    configs = configurations(args.quick)
    start = time.perf_counter()
    results = _runner.run_all(run, configs, args.jobs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "script": "experiments/truncated_bptt.py" + (" --quick" if args.quick else ""),
        "train_echo_defaults": dict(T=20, B=32, H=24, S=4, lr=0.3, momentum=0.9),
        "clip": f"global norm of dL/d(params) clipped to {CLIP} (group 'unclipped': none)",
        "test": "accuracy on 256 test sequences (rnnbook.truncation.TEST_SEED), steps t >= d",
        "runs": results,
    }
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
