"""rnnbook.truncation and experiments/truncated_bptt.py: the chapter 3 training grid."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnbook import truncation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import truncated_bptt  # noqa: E402

STORED = ROOT / "experiments" / "results" / "truncated_bptt.json"


def test_quick_run_of_the_script_writes_its_json(tmp_path):
    out = tmp_path / "grid.json"
    assert truncated_bptt.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["script"].endswith("--quick")
    assert [r["group"] for r in record["runs"]] == ["grid", "random"]
    for r in record["runs"]:
        assert sorted(r["accuracy"]) == ["10", "20"]
        assert all(0 <= a <= 1 for a in r["accuracy"].values())
        assert r["clip"] == truncated_bptt.CLIP and 0 <= r["clipped"] <= 1
        assert 0 <= r["first_steps"] <= 1 and r["max_grad_norm"] > 0


def test_the_stored_grid_is_complete_and_reproduces():
    """Every configuration of the full grid is stored, and a stored run, rerun for its first
    100 updates, gives the stored accuracy (the runs are deterministic)."""
    runs = json.loads(STORED.read_text())["runs"]
    measured = ("accuracy", "first_steps", "max_grad_norm", "clipped")
    settings = [{k: v for k, v in r.items() if k not in measured} for r in runs]
    assert settings == truncated_bptt.configurations()
    stored = next(
        r
        for r in runs
        if r["group"] == "grid" and r["d"] == 1 and r.get("k2") == 1 and r["seed"] == 0
    )
    assert stored["clip"] == truncated_bptt.CLIP
    _, _, acc = truncation.train_echo(
        1, gradient="truncated", k1=1, k2=1, seed=0, steps=100, clip=truncated_bptt.CLIP
    )
    assert round(acc[100], 4) == pytest.approx(stored["accuracy"]["100"], abs=2e-3)


def test_train_echo_records_the_asked_accuracies_and_refuses_bad_settings():
    _, losses, acc = truncation.train_echo(2, gradient="full", steps=6, evaluate=(3,))
    assert len(losses) == 6 and sorted(acc) == [3, 6]
    with pytest.raises(ValueError, match="needs k2"):
        truncation.train_echo(2, gradient="truncated")
    with pytest.raises(ValueError, match="needs c"):
        truncation.train_echo(2, gradient="randomized")
    with pytest.raises(ValueError, match="gradient must be one of"):
        truncation.train_echo(2, gradient="exact")


def test_clipping_bounds_the_update_and_leaves_small_gradients_alone():
    norms, clipped_norms = [], []
    p0, _, _ = truncation.train_echo(3, gradient="full", steps=3, norms=norms)
    p1, _, _ = truncation.train_echo(3, gradient="full", steps=3, clip=1e9, norms=clipped_norms)
    # a bound no gradient reaches changes nothing, to the bit
    assert norms == clipped_norms
    for k in p0:
        assert (p0[k] == p1[k]).all()
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = truncation.clip_global_norm(g, 1.0)
    assert norm == 5.0
    assert np.sqrt(sum((v**2).sum() for v in clipped.values())) == pytest.approx(1.0)
    assert clipped["a"][0] == pytest.approx(0.6)  # all arrays scaled together
    with pytest.raises(ValueError, match="clip must be"):
        truncation.train_echo(2, clip=0)
    with pytest.raises(ValueError, match="steps must be one of"):
        truncation.accuracy(p0, T=20, S=4, d=3, steps="all")
