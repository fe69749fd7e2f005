"""experiments/clockwork.py: the chapter 8 comparison reruns and matches its stored CSVs."""

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import clockwork as experiment  # noqa: E402

RESULTS = ROOT / "experiments" / "results"
#: what a rerun must reproduce (the seconds are machine-dependent)
COMPARED = ("model", "hidden", "params", "seed", "step", "train_loss", "nrmse")


def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_quick_run_reproduces_the_stored_quick_csvs(tmp_path):
    out = tmp_path / "quick.csv"
    assert experiment.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    rows, stored = read(out), read(RESULTS / "clockwork_quick.csv")
    assert list(rows[0]) == list(experiment.COLUMNS)
    assert [{k: r[k] for k in COMPARED} for r in rows] == [
        {k: r[k] for k in COMPARED} for r in stored
    ]
    generated = read(tmp_path / "quick_generated.csv")
    assert generated == read(RESULTS / "clockwork_generated_quick.csv")
    assert len(generated) == len(experiment.MODELS + experiment.CONTROLS) * experiment.LENGTH


def test_the_parameter_counts_are_within_two_percent():
    counts = {m: experiment.count_params(experiment.Model(m)) for m in experiment.MODELS}
    assert max(counts.values()) <= 1.02 * min(counts.values())
    # the clockwork count leaves out the masked entries of U: 10 blocks of k x k with 4 modules
    k = experiment.CW_K
    assert counts["cwrnn"] == 10 * k * k + 2 * 4 * k + 4 * k + 1


def test_the_controls_get_the_cw_rnns_tick_pattern():
    """srn_ticks / lstm_ticks read the clock of rnnbook.scratch.clockwork.ticks as input."""
    from rnnbook.scratch import clockwork

    want = clockwork.ticks(experiment.LENGTH, experiment.CW_PERIODS, start=1)
    for name in experiment.CONTROLS:
        x = experiment.inputs(name)
        assert tuple(x.shape) == (experiment.LENGTH, 1, len(experiment.CW_PERIODS))
        assert (x[:, 0].numpy() == want).all()
    assert (experiment.inputs("srn") == 1).all()
    assert not (experiment.inputs("srn_ticks")[:, 0, 1:] == 1).all()  # not the constant
    # the same networks with G - 1 more input columns: 3 H more weights (4 H x 3 for the LSTM)
    counts = {m: experiment.count_params(experiment.Model(m)) for m in ("srn", "srn_ticks")}
    assert counts["srn_ticks"] - counts["srn"] == 3 * experiment.SRN_H
    counts = {m: experiment.count_params(experiment.Model(m)) for m in ("lstm", "lstm_ticks")}
    assert counts["lstm_ticks"] - counts["lstm"] == 4 * 3 * experiment.LSTM_H


def test_the_stored_csv_holds_every_configuration():
    rows = read(RESULTS / "clockwork.csv")
    runs = {(r["model"], int(r["seed"])) for r in rows}
    assert runs == {(c["model"], c["seed"]) for c in experiment.configurations()}
    steps = sorted({int(r["step"]) for r in rows})
    assert steps == list(range(experiment.EVERY, experiment.STEPS + 1, experiment.EVERY))
    generated = read(RESULTS / "clockwork_generated.csv")
    assert {r["model"] for r in generated} == set(experiment.MODELS + experiment.CONTROLS)


@pytest.mark.parametrize("model, seed", [("cwrnn", 0), ("srn", 2), ("lstm", 1)])
def test_a_stored_run_reproduces_its_first_window(model, seed):
    """The first EVERY updates of one run of each model, rerun alone: the stored training
    loss of that window (the final NRMSE needs the whole run, minutes for the CW-RNN)."""
    stored = next(
        r
        for r in read(RESULTS / "clockwork.csv")
        if (r["model"], r["seed"], r["step"]) == (model, str(seed), str(experiment.EVERY))
    )
    config = dict(model=model, seed=seed, steps=experiment.EVERY, every=experiment.EVERY)
    (row,), _ = experiment.run(config)
    assert row["train_loss"] == pytest.approx(float(stored["train_loss"]), rel=1e-3)
    assert row["params"] == int(stored["params"])
    # a planted error: the window of another seed is told apart
    other = next(
        r
        for r in read(RESULTS / "clockwork.csv")
        if (r["model"], r["seed"], r["step"]) == (model, str(seed + 1), str(experiment.EVERY))
    )
    assert float(other["train_loss"]) != pytest.approx(row["train_loss"], rel=1e-3)


def test_a_stored_cwrnn_run_reproduces_its_final_nrmse():
    """One whole CW-RNN run (seed 3, all STEPS updates), rerun alone: every stored window's
    training loss and the final NRMSE that the chapter's comparison asserts on."""
    stored = [
        r for r in read(RESULTS / "clockwork.csv") if (r["model"], r["seed"]) == ("cwrnn", "3")
    ]
    rows, _ = experiment.run(
        dict(model="cwrnn", seed=3, steps=experiment.STEPS, every=experiment.EVERY)
    )
    assert [r["step"] for r in rows] == [int(r["step"]) for r in stored]
    for row, want in zip(rows, stored, strict=True):
        assert row["train_loss"] == pytest.approx(float(want["train_loss"]), rel=1e-3)
    assert rows[-1]["nrmse"] == pytest.approx(float(stored[-1]["nrmse"]), rel=1e-2)
    assert rows[-1]["nrmse"] < 0.1  # what the chapter asserts of every CW-RNN seed


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="model must be one of"):
        experiment.Model("gru")
    with pytest.raises(ValueError, match="--jobs must be an int >= 1"):
        experiment.main(["--quick", "--jobs", "0"])
