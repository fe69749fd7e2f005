"""benchmarks/run.py: every timed function runs, and the tables are written from the rows."""

import functools
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # a small size, and results written to a temporary folder, not over the stored ones
    monkeypatch.setattr(module, "LSTM_SIZE", {"B": 3, "T": 4, "D": 2, "H": 5})
    monkeypatch.setattr(module, "HERE", tmp_path)
    quick = functools.partial(module.interleaved, rounds=2, warmup=1, settle=0.0)
    monkeypatch.setattr(module, "interleaved", quick)
    return module


def test_every_lstm_function_runs_on_the_cpu(run):
    fns = run.lstm_functions("cpu")
    assert set(fns) == {
        "rnnbook.scratch.lstm (NumPy)",
        "rnnbook.nn.LSTM",
        "torch.nn.LSTM",
        "torch.nn.LSTM, oneDNN off",
        "matrix products only (torch.mm)",
    }
    for f in fns.values():
        f()


def test_rows_and_tables(run):
    rows = run.bench_lstm("cpu", 1)
    assert {r["implementation"] for r in rows} >= {"torch.nn.LSTM", "rnnbook.nn.LSTM"}
    torch_row = next(r for r in rows if r["implementation"] == "torch.nn.LSTM")
    assert torch_row["ratio_to_torch"] == 1.0
    assert all(r["median_ms"] > 0 and r["min_ms"] <= r["median_ms"] for r in rows)
    text = run.write(rows, {"cpu": "test"})
    assert "| rnnbook.nn.LSTM | cpu | 1 |" in text
    assert (run.HERE / "results.csv").read_text().count("\n") == len(rows) + 1
