"""experiments/lstm_vs_gru.py: the chapter 7 comparison reruns and matches its stored CSVs."""

import csv
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import lstm_vs_gru  # noqa: E402

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
    # the first window of a stored run, rerun alone: the same training loss
    config = dict(task="copy", cell="lstm", seed=0, steps=lstm_vs_gru.EVERY)
    first = lstm_vs_gru.run({**config, "every": lstm_vs_gru.EVERY})[0]
    stored = next(
        r
        for r in rows
        if (r["task"], r["cell"], r["seed"], r["step"])
        == ("copy", "lstm", "0", str(lstm_vs_gru.EVERY))
    )
    assert first["train_loss"] == pytest.approx(float(stored["train_loss"]), rel=1e-3)


def test_the_mgu_module_computes_its_equations():
    torch.manual_seed(0)
    mgu = lstm_vs_gru.MGU(3, 4)
    x = torch.randn(2, 5, 3)
    out, h = mgu(x)
    assert out.shape == (2, 5, 4) and torch.equal(out[:, -1], h)
    # one step by hand from h_0 = 0: f = sigma(W_f x + b_f), h~ = tanh(W_h x + b_h)
    f = torch.sigmoid(x[:, 0] @ mgu.W_f.T + mgu.b_f)
    h_tilde = torch.tanh(x[:, 0] @ mgu.W_h.T + mgu.b_h)
    torch.testing.assert_close(out[:, 0], f * h_tilde)
    assert sum(p.numel() for p in mgu.parameters()) == 2 * 4 * (4 + 3 + 1)


def test_the_forget_bias_variant_starts_at_one_and_bad_settings_raise():
    model = lstm_vs_gru.Model("lstm_b1", 2, 4, 1)
    b_f = model.rnn.bias_ih_l0[4:8] + model.rnn.bias_hh_l0[4:8]
    assert torch.equal(b_f, torch.ones(4))
    with pytest.raises(ValueError, match="cell must be one of"):
        lstm_vs_gru.Model("rnn", 2, 4, 1)
    with pytest.raises(ValueError, match="--jobs must be an int >= 1"):
        lstm_vs_gru.main(["--quick", "--jobs", "0"])
