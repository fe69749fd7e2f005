"""Section 10.2: numbers from English words to Chinese numerals, with and without attention.

Every run trains one ``rnnbook.nn.seq2seq.Seq2Seq`` (GRU encoder and decoder, H = 64,
embeddings of 32) on the same corpus, ``rnnbook.data.number_pairs(6000, 1000, seed=2026)``
(integers of 1 to 8 digits, the digit count uniform; train and test disjoint), by Adam
(lr 3e-3, batches of 64, gradient norm clipped to 1) for ``STEPS`` updates, and scores greedy
translations of the 1,000 test numbers: exact-match accuracy and character BLEU, overall and
by the number of digits. The runs:

- ``attention``: a bidirectional encoder with the fixed context vector ("none"), additive
  attention and multiplicative attention, teacher forcing, seeds 0, 1, 2;
- ``encoder``: the same with a one-way encoder (none and additive), seeds 0, 1, 2, against
  the bidirectional ones above: does reading both ways do what attention does?
- ``forcing``: additive attention trained free running (teacher_forcing 0, the decoder fed
  its own previous output) and half and half (0.5), seeds 0, 1, 2, against teacher forcing.

Writes ``results/translation.csv`` (one row per run and digit count, digits 0 = all) and
``results/translation_curves.csv`` (the training loss, averaged over every 25 updates).
``--quick`` trains two runs for 40 updates on 500 numbers (for the test).

    python experiments/translation.py            # about 5 minutes on one core
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _runner  # noqa: E402  (first: it imports rnnbook, which NumPy must follow)
import numpy as np  # noqa: E402
import torch  # noqa: E402

import rnnbook  # noqa: E402
from rnnbook import data, metrics  # noqa: E402
from rnnbook.nn import seq2seq  # noqa: E402

STEPS = 600
SEEDS = (0, 1, 2)
FIELDS = (
    "group",
    "attention",
    "bidirectional",
    "teacher_forcing",
    "seed",
    "steps",
    "digits",
    "n",
    "accuracy",
    "bleu",
)
CURVE_FIELDS = ("group", "attention", "bidirectional", "teacher_forcing", "seed", "update", "loss")
RESULTS = Path(__file__).resolve().parent / "results"


def configurations(quick=False):
    if quick:
        base = {
            "steps": 40,
            "n_train": 500,
            "n_test": 200,
            "seed": 0,
            "bidirectional": True,
            "teacher_forcing": 1.0,
        }
        return [{**base, "group": "attention", "attention": a} for a in ("none", "additive")]
    configs = []
    base = {"steps": STEPS, "n_train": 6000, "n_test": 1000}
    for seed in SEEDS:
        for a in seq2seq.ATTENTIONS:
            configs.append(
                {
                    **base,
                    "group": "attention",
                    "attention": a,
                    "bidirectional": True,
                    "teacher_forcing": 1.0,
                    "seed": seed,
                }
            )
        for a in ("none", "additive"):
            configs.append(
                {
                    **base,
                    "group": "encoder",
                    "attention": a,
                    "bidirectional": False,
                    "teacher_forcing": 1.0,
                    "seed": seed,
                }
            )
        for tf in (0.0, 0.5):
            configs.append(
                {
                    **base,
                    "group": "forcing",
                    "attention": "additive",
                    "bidirectional": True,
                    "teacher_forcing": tf,
                    "seed": seed,
                }
            )
    return configs


def corpus_tensors(n_train, n_test):
    """The corpus, its vocabularies and its id tensors (the same in every run)."""
    corpus = data.number_pairs(n_train, n_test, 2026)
    src = {k: [seq2seq.tokenize(s, "word") for s in corpus[k]["source"]] for k in corpus}
    tgt = {k: [seq2seq.tokenize(s, "char") for s in corpus[k]["target"]] for k in corpus}
    src_vocab, tgt_vocab = seq2seq.build_vocab(src["train"]), seq2seq.build_vocab(tgt["train"])
    x, lengths = seq2seq.encode(src["train"], src_vocab)
    y, _ = seq2seq.encode(tgt["train"], tgt_vocab, add_eos=True)
    x_test, lengths_test = seq2seq.encode(src["test"], src_vocab)
    return corpus, src_vocab, tgt_vocab, (x, lengths, y), (x_test, lengths_test)


def run(config):
    torch.set_num_threads(1)
    corpus, src_vocab, tgt_vocab, (x, lengths, y), (x_test, lengths_test) = corpus_tensors(
        config["n_train"], config["n_test"]
    )
    rng = rnnbook.seed_everything(config["seed"])
    model = seq2seq.Seq2Seq(
        len(src_vocab),
        len(tgt_vocab),
        hidden=64,
        embed=32,
        attention=config["attention"],
        bidirectional=config["bidirectional"],
    )
    history = seq2seq.train(
        model,
        x,
        lengths,
        y,
        steps=config["steps"],
        rng=rng,
        teacher_forcing=config["teacher_forcing"],
        progress=False,
    )
    hyp = seq2seq.translate(model, x_test, lengths_test, tgt_vocab, max_len=16)
    ref, digits = corpus["test"]["target"], corpus["test"]["digits"]
    keys = {
        k: config[k] for k in ("group", "attention", "bidirectional", "teacher_forcing", "seed")
    }
    rows = []
    for d in [0] + sorted(set(digits.tolist())):
        sel = np.flatnonzero(digits == d) if d else np.arange(len(ref))
        h, r = [hyp[i] for i in sel], [ref[i] for i in sel]
        rows.append(
            {
                **keys,
                "steps": config["steps"],
                "digits": d,
                "n": len(sel),
                "accuracy": f"{np.mean([a == b for a, b in zip(h, r, strict=True)]):.4f}",
                "bleu": f"{metrics.corpus_bleu(h, r, tokenize='char'):.3f}",
            }
        )
    curve = [
        {**keys, "update": u + 25, "loss": f"{np.mean(history[u : u + 25]):.5f}"}
        for u in range(0, len(history), 25)
    ]
    return rows, curve


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "two runs of 40 updates, for the test")
    results = _runner.run_all(run, configurations(args.quick), args.jobs)
    rows = [r for rs, _ in results for r in rs]
    curves = [c for _, cs in results for c in cs]
    name = "translation_quick" if args.quick else "translation"
    out = args.out or RESULTS / f"{name}.csv"
    _runner.write_csv(out, FIELDS, rows)
    if not args.quick:
        _runner.write_csv(out.with_name(out.stem + "_curves.csv"), CURVE_FIELDS, curves)
    print(f"wrote {out} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
