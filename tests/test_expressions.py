"""experiments/expressions.py: the chapter 9 comparison reruns and matches its stored CSVs."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import expressions  # noqa: E402

from rnnbook import data  # noqa: E402

STORED = ROOT / "experiments" / "results" / "expressions.csv"
STORED_QUICK = ROOT / "experiments" / "results" / "expressions_quick.csv"
#: what a rerun must reproduce (the seconds are machine-dependent)
COMPARED = ("model", "seed", "depth", "n_test", "accuracy", "train_loss", "params")


def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def compared(rows):
    return [{k: str(r[k]) for k in COMPARED} for r in rows]


def test_quick_run_reproduces_the_stored_quick_csv(tmp_path):
    out = tmp_path / "quick.csv"
    assert expressions.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    rows, stored = read(out), read(STORED_QUICK)
    assert list(rows[0]) == list(expressions.COLUMNS)
    assert compared(rows) == compared(stored)


def test_the_stored_csv_holds_every_configuration_with_its_parameter_count():
    rows = read(STORED)
    got = {(r["model"], int(r["seed"]), int(r["depth"])) for r in rows}
    want = {
        (c["model"], c["seed"], d)
        for c in expressions.configurations()
        for d in range(1, expressions.TEST_DEPTH + 1)
    }
    assert got == want and len(rows) == len(want)
    for name in expressions.MODELS:
        n = sum(p.numel() for p in expressions.make_model(name).parameters())
        assert {int(r["params"]) for r in rows if r["model"] == name} == {n}
    assert all(0 <= float(r["accuracy"]) <= 1 for r in rows)


@pytest.mark.parametrize("name", ["recursive", "tree_lstm"])
def test_a_full_run_reproduces_its_stored_accuracies(name):
    """seed 0 of the fastest model and of the best one, all STEPS updates, rerun alone."""
    stored = [r for r in read(STORED) if (r["model"], r["seed"]) == (name, "0")]
    config = next(c for c in expressions.configurations() if (c["model"], c["seed"]) == (name, 0))
    rows = expressions.run(config)
    assert [r["depth"] for r in rows] == [int(r["depth"]) for r in stored]
    for got, want in zip(rows, stored, strict=True):
        assert got["n_test"] == int(want["n_test"])
        assert got["accuracy"] == pytest.approx(float(want["accuracy"]), abs=2e-3)
        assert got["train_loss"] == pytest.approx(float(want["train_loss"]), rel=1e-3)


def test_the_test_sets_hold_distinct_expressions_and_all_13_of_depth_1():
    sets = expressions.test_sets()
    counts = {d: int(s["values"].shape[0]) for d, s in sets.items()}
    assert counts == {1: 13, 2: 300, 3: 300, 4: 300, 5: 300}
    for d, s in sets.items():
        split = np.cumsum([0] + [len(t) for t in _leaves_of(s)])
        flat = s["leaf_tokens"].tolist()
        exprs = [tuple(flat[a:b]) for a, b in zip(split[:-1], split[1:], strict=True)]
        assert len(set(exprs)) == len(exprs), f"repeats at depth {d}"
    # depth 1, independently: every (operator, a, b) in prefix form, and which are held out
    n, ops = expressions.N_DIGITS, len(data.EXPRESSION_OPERATORS)
    every = np.array([(n + o, a, b) for o in range(ops) for a in range(n) for b in range(n)])
    held = {tuple(row) for row in every[data.held_out(every)].tolist()}
    depth_one = sets[1]["leaf_tokens"].numpy().reshape(-1, 3)
    assert {tuple(row) for row in depth_one.tolist()} == held and len(held) == 13


def _leaves_of(encoded):
    """The number of leaves of each tree of an encoded set, from its tree batch."""
    offsets = encoded["trees"].leaf_offsets
    return [range(offsets[k + 1] - offsets[k]) for k in range(encoded["trees"].n_trees)]


def _encoded(n, max_depth, seed):
    trees, leaves, values, _ = data.expression_trees(
        n, max_depth, seed, n_digits=expressions.N_DIGITS
    )
    return trees, leaves, values, expressions.encode(trees, leaves, values)


def test_encode_moves_the_infix_tokens_to_the_left_and_keeps_the_leaves():
    trees, leaves, values, batch = _encoded(20, 3, 1)
    seq, lengths = data.expression_sequences(trees, leaves, n_digits=expressions.N_DIGITS)
    assert torch.equal(batch["lengths"], torch.tensor(lengths))
    for i, n in enumerate(lengths):
        assert batch["tokens"][i, :n].tolist() == seq[i, seq.shape[1] - n :].tolist()
    assert batch["leaf_tokens"].tolist() == np.concatenate(leaves).tolist()
    assert batch["trees"].n_trees == 20 and torch.equal(batch["values"], torch.tensor(values))


@pytest.mark.parametrize("name", expressions.MODELS)
def test_a_model_gives_an_expression_the_same_logits_alone_and_in_a_batch(name):
    """Padding is never read and trees do not mix: row 0 of a batch is the expression alone."""
    torch.manual_seed(0)
    model = expressions.make_model(name)
    trees, leaves, values, batch = _encoded(12, 4, 3)
    order = np.argsort([len(t) for t in leaves])  # the shortest expression first
    trees = [trees[k] for k in order]
    leaves = [leaves[k] for k in order]
    values = values[order]
    with torch.no_grad():
        together = model(expressions.encode(trees, leaves, values))
        alone = model(expressions.encode(trees[:1], leaves[:1], values[:1]))
    assert together.shape == (12, expressions.N_DIGITS)
    torch.testing.assert_close(together[:1], alone, rtol=1e-5, atol=1e-6)
    if name.startswith("lstm"):
        # the check can fail: an LSTM that reads the padding too gives another row 0
        enc = expressions.encode(trees, leaves, values)
        with torch.no_grad():
            x = model.embed(enc["tokens"][:1])  # the padded row, read to its end
            _, (h_n, _) = model.lstm(x)
        assert (model.readout(h_n[0]) - alone).abs().max() > 1e-4


def test_bad_settings_are_value_errors():
    with pytest.raises(ValueError, match="model must be one of"):
        expressions.make_model("gru")
    with pytest.raises(ValueError, match="kind must be"):
        expressions.TreeModel("lstm")
    with pytest.raises(ValueError, match="--jobs must be an int >= 1"):
        expressions.main(["--quick", "--jobs", "0"])
