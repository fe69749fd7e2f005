"""rnnbook.train.fit: it learns, it clips, it repeats, it rejects bad input."""

import math

import numpy as np
import pytest
import torch

from rnnbook import train


def _regression(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=g, dtype=torch.float64)
    w = torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    return x, x @ w


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(3, 1, dtype=torch.float64)


def _mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def test_fit_decreases_the_loss_and_records_history():
    model = _model()
    history = train.fit(model, _mse, [_regression()], steps=200, lr=0.05)
    assert len(history.loss) == len(history.grad_norm) == 200
    assert history.loss[-1] < 1e-3 * history.loss[0]
    assert all(math.isfinite(v) for v in history.loss + history.grad_norm)
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), [1.0, -2.0, 0.5], atol=1e-2)


def test_fit_is_deterministic():
    runs = []
    for _ in range(2):
        model = _model(3)
        h = train.fit(model, _mse, lambda step: _regression(step % 5), steps=30, lr=0.01)
        runs.append((h.loss, model.weight.detach().clone()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


def test_clipping_bounds_the_update():
    # with plain SGD, one clipped step moves the parameters by at most lr * clip
    x, y = _regression()
    y = 1000 * y  # a huge gradient
    model = _model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    h = train.fit(model, _mse, [(x, y)], steps=1, lr=0.1, optimizer="sgd", clip=0.5)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert h.grad_norm[0] > 100  # recorded before clipping
    assert torch.linalg.norm(after - before).item() == pytest.approx(0.1 * 0.5, rel=1e-9)
    # without clipping the step is the full gradient step
    model = _model()
    train.fit(model, _mse, [(x, y)], steps=1, lr=0.1, optimizer="sgd", clip=None)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert torch.linalg.norm(after - before).item() == pytest.approx(0.1 * h.grad_norm[0], rel=1e-9)


def test_list_of_batches_is_cycled():
    seen = []

    def loss(model, batch):
        seen.append(batch)
        return model(torch.ones(1, 3, dtype=torch.float64)).sum() * 0 + batch

    train.fit(_model(), loss, [torch.tensor(1.0), torch.tensor(2.0)], steps=5)
    assert [float(b) for b in seen] == [1.0, 2.0, 1.0, 2.0, 1.0]


def test_history_smoothed():
    h = train.History(loss=[1.0, 3.0, 5.0, 7.0])
    assert h.smoothed(2) == [1.0, 2.0, 4.0, 6.0]
    assert h.smoothed(10) == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match="window"):
        h.smoothed(0)


def test_no_progress_output_by_default(capsys):
    train.fit(_model(), _mse, [_regression()], steps=3)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_range_counts_and_erases_its_bar_in_a_script(capsys):
    assert list(train.progress_range(5, desc="x")) == [0, 1, 2, 3, 4]
    assert list(train.progress_range(3, enabled=False)) == [0, 1, 2]
    assert capsys.readouterr().out == ""  # the bar never writes to stdout


class _FakeHandle:
    def __init__(self):
        self.shown = []

    def update(self, bundle, raw):
        assert raw
        self.shown.append(bundle)


def test_the_notebook_bar_shows_progress_then_leaves_an_empty_display(monkeypatch):
    """In a kernel the bar draws into a display that is emptied when the loop ends."""
    handle = _FakeHandle()
    monkeypatch.setattr(train, "_in_notebook", lambda: True)
    monkeypatch.setattr(
        train._CellDisplay, "__init__", lambda self: setattr(self, "_handle", handle)
    )
    for _ in train.progress_range(4, desc="steps"):
        pass
    texts = [b["text/plain"] for b in handle.shown]
    assert any("steps" in t and "%" in t for t in texts), texts
    assert handle.shown[-1] == {"text/plain": "", "text/html": ""}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"total": -1}, "total"),
        ({"total": 2.0}, "total"),
        ({"desc": 3}, "desc"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_progress_range_bad_arguments(kwargs, match):
    args = {"total": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        train.progress_range(args.pop("total"), **args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model": "not a module"}, "torch.nn.Module"),
        ({"model": torch.nn.ReLU()}, "no parameters"),
        ({"loss_fn": 3}, "loss_fn must be callable"),
        ({"batches": []}, "non-empty list"),
        ({"batches": 5}, "batches must be"),
        ({"steps": 0}, "steps must be"),
        ({"steps": 2.0}, "steps must be"),
        ({"steps": True}, "steps must be"),
        ({"lr": -1.0}, "lr must be"),
        ({"lr": float("nan")}, "lr must be"),
        ({"clip": 0.0}, "clip must be"),
        ({"clip": float("inf")}, "clip must be"),
        ({"optimizer": "rmsprop"}, "optimizer must be"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"progress": "yes"}, "progress"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    args = {"model": _model(), "loss_fn": _mse, "batches": [_regression()], "steps": 2}
    args.update(kwargs)
    model = args.pop("model")
    loss_fn = args.pop("loss_fn")
    batches = args.pop("batches")
    with pytest.raises(ValueError, match=match):
        train.fit(model, loss_fn, batches, **args)


def test_bad_loss_raises_value_error():
    model = _model()
    with pytest.raises(ValueError, match="0-dim"):
        train.fit(model, lambda m, b: m(b[0]), [_regression()], steps=1)
    with pytest.raises(ValueError, match="0-dim"):
        train.fit(model, lambda m, b: 1.0, [_regression()], steps=1)
    with pytest.raises(ValueError, match="not finite"):
        train.fit(model, lambda m, b: _mse(m, b) * float("inf"), [_regression()], steps=1)
