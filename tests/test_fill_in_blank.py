"""experiments/fill_in_blank.py: the chapter 8 comparison reruns and matches its stored CSVs."""

import csv
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import fill_in_blank  # noqa: E402

STORED = ROOT / "experiments" / "results" / "fill_in_blank.csv"
STORED_QUICK = ROOT / "experiments" / "results" / "fill_in_blank_quick.csv"


def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_quick_run_reproduces_the_stored_quick_csv(tmp_path):
    out = tmp_path / "quick.csv"
    assert fill_in_blank.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    rows = read(out)
    assert list(rows[0]) == list(fill_in_blank.COLUMNS)
    assert rows == read(STORED_QUICK)


def test_the_stored_csv_holds_every_configuration():
    rows = read(STORED)
    got = [(r["model"], int(r["seed"]), int(r["steps"])) for r in rows]
    want = [(c["model"], c["seed"], c["steps"]) for c in fill_in_blank.configurations()]
    assert got == want
    assert all(float(r["bound"]) == 1 / fill_in_blank.N_SYMBOLS for r in rows)


@pytest.mark.parametrize("model", ["uni_end", "bi"])
def test_a_full_run_reproduces_its_stored_row(model):
    """seed 0, all STEPS updates: the stored loss and accuracy of two runs that training moves
    away from chance (uni_end / seed 0 ends between chance and 1, bi / seed 0 at 1), so that a
    change to the training would show."""
    stored = next(r for r in read(STORED) if (r["model"], r["seed"]) == (model, "0"))
    assert float(stored["accuracy"]) > 0.5  # far from the chance level 1 / N_SYMBOLS
    row = fill_in_blank.run(dict(model=model, seed=0, steps=fill_in_blank.STEPS))
    assert row["params"] == int(stored["params"])
    if model == "bi":  # a loss near 0: compared on a coarser scale
        assert row["train_loss"] < 1e-3 and float(stored["train_loss"]) < 1e-3
    else:
        assert row["train_loss"] == pytest.approx(float(stored["train_loss"]), rel=1e-3)
    assert row["accuracy"] == pytest.approx(float(stored["accuracy"]), abs=2e-3)


def test_the_models_read_the_right_step_and_bad_names_raise():
    torch.manual_seed(0)
    x, position, label = fill_in_blank.make_batch(8, 0)
    assert x.shape == (fill_in_blank.LENGTH, 8, fill_in_blank.N_SYMBOLS + 1)
    # the blank is the one-hot value N_SYMBOLS at each row's position
    assert torch.equal(x[position, torch.arange(8), fill_in_blank.N_SYMBOLS], torch.ones(8))
    uni = fill_in_blank.Model("uni")
    # the one-way model's answer does not change when the steps after the blank change
    later = x.clone()
    for b in range(8):
        later[position[b] + 1 :, b] = x[position[b] + 1 :, b].flip(0)
    with torch.no_grad():
        torch.testing.assert_close(uni(x, position), uni(later, position))
        bi = fill_in_blank.Model("bi")
        assert (bi(x, position) - bi(later, position)).abs().max() > 1e-6
    with pytest.raises(ValueError, match="model must be one of"):
        fill_in_blank.Model("tri")
