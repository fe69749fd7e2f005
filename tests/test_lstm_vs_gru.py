"""experiments/lstm_vs_gru.py: the chapter 7 comparison reruns and matches its stored CSVs."""

import csv
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import lstm_vs_gru  # noqa: E402

from rnnbook import nn as book_nn  # noqa: E402

STORED = ROOT / "experiments" / "results" / "lstm_vs_gru.csv"
STORED_QUICK = ROOT / "experiments" / "results" / "lstm_vs_gru_quick.csv"
#: what a rerun must reproduce (the seconds are machine-dependent)
COMPARED = ("task", "cell", "impl", "hidden", "seed", "step", "train_loss", "score", "params")


def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def compared(rows):
    return [{k: r[k] for k in COMPARED} for r in rows]


def test_quick_run_reproduces_the_stored_quick_csv(tmp_path):
    out = tmp_path / "quick.csv"
    assert lstm_vs_gru.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    rows, stored = read(out), read(STORED_QUICK)
    assert list(rows[0]) == list(lstm_vs_gru.COLUMNS)
    trained = [r for r in rows if r["task"] != "timing"]
    assert compared(trained) == compared([r for r in stored if r["task"] != "timing"])
    timed = [r for r in rows if r["task"] == "timing"]
    assert compared(timed) == compared([r for r in stored if r["task"] == "timing"])
    assert all(float(r["seconds"]) > 0 for r in rows)


def test_the_stored_csv_holds_every_configuration_and_a_run_reproduces():
    rows = read(STORED)
    runs = {(r["task"], r["cell"], int(r["seed"])) for r in rows if r["task"] != "timing"}
    wanted = {(c["task"], c["cell"], c["seed"]) for c in lstm_vs_gru.configurations()}
    assert runs == wanted
    steps = sorted({int(r["step"]) for r in rows if r["task"] != "timing"})
    assert steps == list(range(lstm_vs_gru.EVERY, lstm_vs_gru.STEPS + 1, lstm_vs_gru.EVERY))
    timed = {(r["cell"], r["impl"], int(r["hidden"])) for r in rows if r["task"] == "timing"}
    assert len(timed) == 5 * len(lstm_vs_gru.TIMING_SIZES)


def _stored_rows(rows, task, cell, seed):
    return [r for r in rows if (r["task"], r["cell"], r["seed"]) == (task, cell, str(seed))]


@pytest.mark.parametrize("cell", lstm_vs_gru.CELLS)
def test_the_first_window_of_each_cell_reproduces(cell):
    """The first EVERY updates of copy/seed 1, rerun alone: the stored training loss."""
    stored = _stored_rows(read(STORED), "copy", cell, 1)[0]
    assert int(stored["step"]) == lstm_vs_gru.EVERY
    config = dict(task="copy", cell=cell, seed=1, steps=lstm_vs_gru.EVERY)
    first = lstm_vs_gru.run({**config, "every": lstm_vs_gru.EVERY})[0]
    assert first["train_loss"] == pytest.approx(float(stored["train_loss"]), rel=1e-3)
    assert first["params"] == int(stored["params"])


def test_a_full_run_reproduces_its_stored_curve_and_score():
    """copy/lstm_b1/seed 0 (the fastest configuration), all STEPS updates: every window's
    training loss and the final test score, as stored."""
    stored = _stored_rows(read(STORED), "copy", "lstm_b1", 0)
    config = dict(task="copy", cell="lstm_b1", seed=0, steps=lstm_vs_gru.STEPS)
    rows = lstm_vs_gru.run({**config, "every": lstm_vs_gru.EVERY})
    assert [r["step"] for r in rows] == [int(r["step"]) for r in stored]
    for got, want in zip(rows, stored, strict=True):
        assert got["train_loss"] == pytest.approx(float(want["train_loss"]), rel=1e-3)
    assert rows[-1]["score"] == pytest.approx(float(stored[-1]["score"]), abs=2e-3)


def test_the_mgu_module_is_a_gru_with_tied_gates():
    """The MGU is rnnbook.nn.GRU(reset="before", update="replace") with W_r, U_r, b_r set to
    W_z, U_z, b_z: compared over 6 steps, so U_f, U_h and the carry of the state all act."""
    torch.manual_seed(0)
    mgu = lstm_vs_gru.MGU(3, 4)
    x = torch.randn(2, 6, 3)
    out, h = mgu(x)
    assert out.shape == (2, 6, 4) and torch.equal(out[:, -1], h)
    assert sum(p.numel() for p in mgu.parameters()) == 2 * 4 * (4 + 3 + 1)
    outputs = {}
    for update in ("replace", "keep"):
        gru = book_nn.GRU(3, 4, batch_first=True, reset="before", update=update)
        named = {k.split(".")[-1]: v for k, v in gru.named_parameters()}
        assert set(named) == {f"{s}_{g}" for s in "WUb" for g in "zrh"}
        with torch.no_grad():
            for s in "WUb":
                named[f"{s}_z"].copy_(getattr(mgu, f"{s}_f"))
                named[f"{s}_r"].copy_(getattr(mgu, f"{s}_f"))
                named[f"{s}_h"].copy_(getattr(mgu, f"{s}_h"))
            outputs[update] = gru(x)[0]
    with torch.no_grad():
        torch.testing.assert_close(out, outputs["replace"], rtol=1e-5, atol=1e-6)
        # the same parameters with the other update convention are another cell
        assert (out - outputs["keep"]).abs().max() > 1e-2
        # and a planted error in the recurrent part is seen: U_h dropped after the first step
        saved = mgu.U_h.clone()
        mgu.U_h.zero_()
        assert (mgu(x)[0][:, 1:] - outputs["replace"][:, 1:]).abs().max() > 1e-3
        mgu.U_h.copy_(saved)


def test_the_forget_bias_variant_starts_at_one_and_bad_settings_raise():
    model = lstm_vs_gru.Model("lstm_b1", 2, 4, 1)
    b_f = model.rnn.bias_ih_l0[4:8] + model.rnn.bias_hh_l0[4:8]
    assert torch.equal(b_f, torch.ones(4))
    with pytest.raises(ValueError, match="cell must be one of"):
        lstm_vs_gru.Model("rnn", 2, 4, 1)
    with pytest.raises(ValueError, match="--jobs must be an int >= 1"):
        lstm_vs_gru.main(["--quick", "--jobs", "0"])
