"""Chapter 9's comparison: does a network that follows an expression's tree evaluate it better
than one that reads the expression as a sequence? Writes experiments/results/expressions.csv
(or expressions_quick.csv with --quick), which the chapter loads, plots and prints.

    python experiments/expressions.py            # the full grid, about 5 minutes on two cores
    python experiments/expressions.py --quick    # two tiny runs, to test the script

Task (``rnnbook.data.expression_trees``): an arithmetic expression over the digits
0..``N_DIGITS`` - 1 with the operators +, -, *, its value taken modulo ``N_DIGITS`` (= 5), so
the answer is one of 5 classes (guessing scores about 1/5). Training expressions have depth
0..``TRAIN_DEPTH`` and come from the "train" part of the space of expressions; the test
expressions come from the held-out "test" part (so no test expression is ever trained on),
up to ``N_TEST`` distinct ones of each depth 1..``TEST_DEPTH`` (the held-out part has only 13
expressions of depth 1, so that set is all 13); depths above ``TRAIN_DEPTH`` are deeper than
anything seen in training.

Models, each a token embedding, a network, and a linear readout of one state of size
``HIDDEN`` to the 5 values:

- "recursive": ``rnnbook.nn.RecursiveNet``, (6.57)-(6.59), tanh, over the expression's tree
  (a node (operator, (a, b)): the operator is a leaf of its own), embedding size = H;
- "child_sum": ``rnnbook.nn.ChildSumTreeLSTM`` over the same tree, embedding size ``EMBED``,
  the readout on the root's h; it sums its children, so it cannot tell (a, b) from (b, a);
- "tree_lstm": ``rnnbook.nn.NaryTreeLSTM`` with arity 2 (Tai et al. 2015), likewise;
- "lstm": ``torch.nn.LSTM`` over the infix sequence ``( a o b )`` with brackets
  (``rnnbook.data.expression_sequences``), embedding size ``EMBED``, the readout on the
  last state (the padded batch is packed, so padding is never read): the same state size H
  as the tree models;
- "lstm_wide": the same with ``WIDE`` units, about the N-ary Tree-LSTM's parameter count.

Every run: Adam (lr ``LR``) through ``rnnbook.train.fit`` with the gradient's global norm
clipped to ``CLIP``, ``STEPS`` updates on ``POOL`` batches of ``BATCH`` expressions drawn
from the run's seed and used in turn, one thread, float32. Deterministic, so runs may go to
parallel processes (``--jobs``) without changing a number.

Columns, one row per run and test depth: model, seed, depth (of the test expressions),
n_test (the number of distinct held-out expressions of that depth), accuracy (on them, 4
digits), train_loss (the mean cross-entropy over the last ``WINDOW`` updates, 4 significant
digits), params (the number of trainable numbers, embedding and readout included), seconds
(the run's training time; machine-dependent, not compared).
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
OUT = HERE / "results" / "expressions.csv"
OUT_QUICK = HERE / "results" / "expressions_quick.csv"
MODELS = ("recursive", "child_sum", "tree_lstm", "lstm", "lstm_wide")
SEEDS = range(5)
N_DIGITS = 5
TRAIN_DEPTH = 3
TEST_DEPTH = 5
HIDDEN = 32
EMBED = 16
WIDE = 46
BATCH = 64
LR = 1e-2
CLIP = 1.0
STEPS = 1500
#: distinct training batches drawn per run, used in turn
POOL = 500
WINDOW = 100
N_TEST = 300
#: the leaf tokens of the trees: the digits and 3 operators
TREE_TOKENS = N_DIGITS + len(data.EXPRESSION_OPERATORS)
#: the infix tokens: the same and two brackets
INFIX_TOKENS = TREE_TOKENS + 2
COLUMNS = ("model", "seed", "depth", "n_test", "accuracy", "train_loss", "params", "seconds")


class TreeModel(torch.nn.Module):
    """Embedded leaf tokens, a tree network, a linear readout of the root's state."""

    def __init__(self, kind, hidden=HIDDEN, embed=EMBED):
        super().__init__()
        if kind == "recursive":
            self.embed = torch.nn.Embedding(TREE_TOKENS, hidden)  # D = H: h_leaf = x
            self.net = book_nn.RecursiveNet(hidden)
        elif kind == "child_sum":
            self.embed = torch.nn.Embedding(TREE_TOKENS, embed)
            self.net = book_nn.ChildSumTreeLSTM(embed, hidden)
        elif kind == "tree_lstm":
            self.embed = torch.nn.Embedding(TREE_TOKENS, embed)
            self.net = book_nn.NaryTreeLSTM(embed, hidden, arity=2)
        else:
            raise ValueError(f"kind must be 'recursive', 'child_sum' or 'tree_lstm', got {kind!r}")
        self.kind = kind
        self.readout = torch.nn.Linear(hidden, N_DIGITS)

    def forward(self, batch):
        tree_batch, leaf_tokens = batch["trees"], batch["leaf_tokens"]
        x = self.embed(leaf_tokens)  # (n_leaves, D), tree by tree in leaf order
        root = self.net(tree_batch, x)
        h = root if self.kind == "recursive" else root[0]  # (n_trees, H)
        return self.readout(h)  # (n_trees, N_DIGITS)


class SequenceModel(torch.nn.Module):
    """Embedded infix tokens, an LSTM over the packed sequences, a readout of the last h."""

    def __init__(self, hidden=HIDDEN, embed=EMBED):
        super().__init__()
        self.embed = torch.nn.Embedding(INFIX_TOKENS, embed)
        self.lstm = torch.nn.LSTM(embed, hidden, batch_first=True)
        self.readout = torch.nn.Linear(hidden, N_DIGITS)

    def forward(self, batch):
        tokens, lengths = batch["tokens"], batch["lengths"]  # (B, T) right-padded, (B,)
        x = self.embed(tokens)  # (B, T, D)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)  # h_n (1, B, H): each sequence's own last step
        return self.readout(h_n[0])


def make_model(name):
    if name in ("recursive", "child_sum", "tree_lstm"):
        return TreeModel(name)
    if name == "lstm":
        return SequenceModel(HIDDEN)
    if name == "lstm_wide":
        return SequenceModel(WIDE)
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")


def encode(trees, leaf_tokens, values):
    """The inputs of both kinds of model for one set of expressions, and the targets."""
    seq, lengths = data.expression_sequences(trees, leaf_tokens, n_digits=N_DIGITS)
    # expression_sequences pads on the left with -1; move each row's tokens to the left
    right = np.zeros_like(seq)
    for i, n in enumerate(lengths):
        right[i, :n] = seq[i, seq.shape[1] - n :]
    return {
        "trees": book_nn.batch_trees(list(trees)),
        "leaf_tokens": torch.tensor(np.concatenate(leaf_tokens)),
        "tokens": torch.tensor(right),
        "lengths": torch.tensor(lengths),
        "values": torch.tensor(values),
    }


def test_sets(n_test=N_TEST, test_depth=TEST_DEPTH):
    """depth -> encoded held-out expressions of exactly that depth (the same for every run).

    The expressions of a set are distinct: up to ``n_test`` of them, fewer where the held-out
    part of the space has fewer expressions of that depth (depth 1 has 13 of its 75). Rounds
    of ``4 * n_test`` draws add the ones not seen yet; a round that adds none ends the set.
    """
    rng = np.random.default_rng(12345)
    sets = {}
    for depth in range(1, test_depth + 1):
        kept, seen = ([], [], []), set()
        while len(kept[0]) < n_test:
            trees, leaves, values, depths = data.expression_trees(
                4 * n_test, depth, rng, n_digits=N_DIGITS, split="test"
            )
            added = 0
            for k in np.flatnonzero(depths == depth):
                key = tuple(leaves[k].tolist())  # the prefix tokens name the expression
                if key in seen or len(kept[0]) == n_test:
                    continue
                seen.add(key)
                kept[0].append(trees[k])
                kept[1].append(leaves[k])
                kept[2].append(values[k])
                added += 1
            if added == 0:
                break
        sets[depth] = encode(kept[0], kept[1], np.array(kept[2]))
    return sets


def configurations(quick=False):
    """The runs, each a dict (model, seed, steps)."""
    if quick:
        return [
            dict(model=m, seed=0, steps=4, n_test=8, test_depth=3) for m in ("tree_lstm", "lstm")
        ]
    return [
        dict(model=m, seed=s, steps=STEPS, n_test=N_TEST, test_depth=TEST_DEPTH)
        for m in MODELS
        for s in SEEDS
    ]


def loss_fn(model, batch):
    return torch.nn.functional.cross_entropy(model(batch), batch["values"])


def run(config):
    """Train one model; returns its rows, one per test depth."""
    torch.set_num_threads(1)
    name, seed, steps = config["model"], config["seed"], config["steps"]
    seed_everything(seed)
    model = make_model(name)
    n_params = sum(p.numel() for p in model.parameters())
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(min(steps, POOL)):
        trees, leaves, values, _ = data.expression_trees(
            BATCH, TRAIN_DEPTH, rng, n_digits=N_DIGITS, split="train"
        )
        batches.append(encode(trees, leaves, values))
    start = time.perf_counter()
    history = train.fit(model, loss_fn, batches, steps=steps, lr=LR, clip=CLIP)
    seconds = time.perf_counter() - start
    window = history.loss[-min(WINDOW, steps) :]
    rows = []
    with torch.no_grad():
        for depth, test in test_sets(config["n_test"], config["test_depth"]).items():
            acc = float((model(test).argmax(dim=1) == test["values"]).float().mean())
            rows.append(
                dict(
                    model=name,
                    seed=seed,
                    depth=depth,
                    n_test=int(test["values"].shape[0]),
                    accuracy=round(acc, 4),
                    train_loss=float(f"{np.mean(window):.4g}"),
                    params=n_params,
                    seconds=round(seconds, 2),
                )
            )
    return rows


def main(argv=None):
    args = _runner.parse_args(argv, __doc__, "two tiny runs only")
    out = args.out or (OUT_QUICK if args.quick else OUT)
    configs = configurations(args.quick)
    start = time.perf_counter()
    results = _runner.run_all(run, configs, args.jobs)
    _runner.write_csv(out, COLUMNS, [row for rows in results for row in rows])
    print(f"{len(configs)} runs in {time.perf_counter() - start:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
