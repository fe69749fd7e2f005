"""experiments/lstm_variants.py: chapter 6's comparison of LSTM variants."""

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import lstm_variants  # noqa: E402

RESULTS = ROOT / "experiments" / "results"
SETTINGS = ("task", "config", "variant", "forget_bias", "seed", "steps")


def _read(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_quick_run_reproduces_the_stored_quick_csv(tmp_path):
    out = tmp_path / "quick.csv"
    assert lstm_variants.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    new, stored = _read(out), _read(RESULTS / "lstm_variants_quick.csv")
    assert len(new) == len(stored) == 2
    for a, b in zip(new, stored, strict=True):
        assert {k: a[k] for k in SETTINGS} == {k: b[k] for k in SETTINGS}
        for k in lstm_variants.FIELDS:
            if k in SETTINGS:
                continue
            assert (a[k] == "") == (b[k] == ""), k
            if a[k]:
                assert float(a[k]) == pytest.approx(float(b[k]), rel=1e-2, abs=1e-4), k


def test_the_stored_full_grid_is_complete():
    rows = _read(RESULTS / "lstm_variants.csv")
    configs = lstm_variants.configurations()
    assert [(r["task"], r["config"], int(r["seed"]), int(r["steps"])) for r in rows] == [
        (c["task"], c["config"], c["seed"], c["steps"]) for c in configs
    ]
    for r in rows:
        variant, forget_bias = lstm_variants.CONFIGS[r["config"]]
        assert r["variant"] == variant
        assert r["forget_bias"] == ("drawn" if forget_bias is None else str(forget_bias))
        if r["task"] == "adding":
            assert 0 < float(r["test_mse"]) < 1
        else:
            assert 0 <= float(r["test_acc"]) <= 1 and 0 <= float(r["stream_acc"]) <= 1
            assert 0 < float(r["c_max_100"]) <= float(r["c_max_1000"])


def test_every_configuration_builds_its_variant():
    for name, (variant, forget_bias) in lstm_variants.CONFIGS.items():
        cell, readout = lstm_variants.build(name, 0, 2, 1)
        assert cell.variant == variant
        if forget_bias is not None:
            assert float(cell.params[0][0]["b_f"].detach().mean()) == forget_bias


def test_a_stored_full_run_reproduces():
    """One run of the full grid, rerun: the same numbers (the runs are deterministic).

    The run is one whose score is sensitive to every detail (adding problem, standard cell,
    seed 2: a test MSE well inside (0, 1), not at a bound like the brackets runs' accuracy 1).
    """
    stored = next(
        r
        for r in _read(RESULTS / "lstm_variants.csv")
        if (r["task"], r["config"], r["seed"]) == ("adding", "standard", "2")
    )
    config = dict(task="adding", config="standard", seed=2, steps=int(stored["steps"]))
    new = lstm_variants.run(config)
    for k in lstm_variants.FIELDS:
        if k in SETTINGS or stored[k] == "":
            continue
        assert float(new[k]) == pytest.approx(float(stored[k]), rel=1e-2, abs=1e-4), k
