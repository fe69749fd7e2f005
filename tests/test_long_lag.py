"""experiments/long_lag.py: the chapter 5 benchmark reruns and matches its stored results."""

import csv
import sys
from pathlib import Path

import pytest

from rnnbook import longterm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import long_lag  # noqa: E402

STORED = ROOT / "experiments" / "results" / "long_lag.csv"
STORED_QUICK = ROOT / "experiments" / "results" / "long_lag_quick.csv"


def _read(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_quick_run_reproduces_the_stored_quick_results(tmp_path):
    out = tmp_path / "quick.csv"
    assert long_lag.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    new, old = _read(out), _read(STORED_QUICK)
    assert [r.keys() for r in new] == [r.keys() for r in old]
    key = ("model", "T", "seed", "steps", "update")
    assert [tuple(r[k] for k in key) for r in new] == [tuple(r[k] for k in key) for r in old]
    for a, b in zip(new, old, strict=True):
        assert float(a["test_mse"]) == pytest.approx(float(b["test_mse"]), rel=1e-3)
        assert float(a["max_grad_norm"]) == pytest.approx(float(b["max_grad_norm"]), rel=1e-2)


def test_a_planted_change_of_the_script_is_caught(tmp_path, monkeypatch):
    """The comparison above can fail: another learning rate gives other numbers."""
    original = longterm.train_long_lag
    monkeypatch.setattr(
        longterm, "train_long_lag", lambda *a, **k: original(*a, **{**k, "lr": 0.05})
    )
    out = tmp_path / "quick.csv"
    long_lag.main(["--quick", "--jobs", "1", "--out", str(out)])
    new, old = _read(out), _read(STORED_QUICK)
    assert any(
        float(a["test_mse"]) != pytest.approx(float(b["test_mse"]), rel=1e-3)
        for a, b in zip(new, old, strict=True)
    )


def test_the_stored_grid_is_complete_and_a_run_reproduces():
    rows = _read(STORED)
    configs = long_lag.configurations()
    assert len(configs) == len(long_lag.MODELS) * len(long_lag.LENGTHS) * len(long_lag.SEEDS)
    runs = {(r["model"], int(r["T"]), int(r["seed"])) for r in rows}
    assert runs == {(c["model"], c["T"], c["seed"]) for c in configs}
    for run in runs:
        updates = sorted(
            int(r["update"]) for r in rows if (r["model"], int(r["T"]), int(r["seed"])) == run
        )
        assert updates == list(long_lag.EVALUATE)
    # the runs are deterministic: the first checkpoint of one stored run, recomputed
    stored = next(
        float(r["test_mse"])
        for r in rows
        if (r["model"], r["T"], r["seed"], r["update"]) == ("lstm", "10", "1", "250")
    )
    again = longterm.train_long_lag("lstm", 10, 1, steps=250, evaluate=(250,))["test_mse"][250]
    assert again == pytest.approx(stored, rel=1e-3)


def test_a_full_long_run_reproduces_every_stored_number():
    """One whole T = 80 run (the LSTM that leaves the plateau late): every checkpoint up to
    update 1000, the largest gradient norm and the fraction of updates clipped."""
    rows = [r for r in _read(STORED) if (r["model"], r["T"], r["seed"]) == ("lstm", "80", "0")]
    again = longterm.train_long_lag("lstm", 80, 0)
    assert sorted(again["test_mse"]) == sorted(int(r["update"]) for r in rows)
    for r in rows:
        assert again["test_mse"][int(r["update"])] == pytest.approx(float(r["test_mse"]), rel=1e-3)
    assert again["max_grad_norm"] == pytest.approx(float(rows[0]["max_grad_norm"]), rel=1e-2)
    assert again["clipped"] == pytest.approx(float(rows[0]["clipped"]), abs=1e-3)
