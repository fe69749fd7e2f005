"""Section 10.4: CTC's forward-backward (NumPy), its decoders, the digit-string data, the
BiLSTM reader and its experiment script."""

import csv
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnbook import ctc_decode, data
from rnnbook.nn import ctc_reader
from rnnbook.scratch import ctc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import ctc as experiment  # noqa: E402  (experiments/ctc.py, not rnnbook.scratch.ctc)

CASES = [
    (1, 2, []),
    (1, 2, [1]),
    (3, 3, [1, 1]),
    (5, 3, [2, 1, 2]),
    (6, 4, [1, 2, 2, 3]),
    (7, 3, []),
    (30, 11, [3, 4, 4, 5, 1, 2, 2, 2]),
]


def torch_ctc(u, target, blank=0):
    """Loss and logits gradient from torch.nn.CTCLoss on log_softmax(u), float64."""
    ut = torch.tensor(u, requires_grad=True)
    lp = torch.log_softmax(ut, -1)[:, None]  # (T, 1, K)
    loss = torch.nn.CTCLoss(blank=blank, reduction="sum")(
        lp,
        torch.tensor([list(target)], dtype=torch.long).reshape(1, -1),
        torch.tensor([u.shape[0]]),
        torch.tensor([len(target)]),
    )
    loss.backward()
    return loss.item(), ut.grad.numpy()


@pytest.mark.parametrize("T,K,target", CASES)
def test_loss_and_gradient_match_torch(T, K, target):
    u = np.random.default_rng(T * K).standard_normal((T, K))
    loss, grad = ctc.ctc_loss(u, target)
    ref_loss, ref_grad = torch_ctc(u, target)
    assert abs(loss - ref_loss) < 1e-8
    assert np.abs(grad - ref_grad).max() < 1e-8


def test_nonzero_blank_matches_torch():
    u = np.random.default_rng(3).standard_normal((8, 4))
    loss, grad = ctc.ctc_loss(u, [0, 1, 1], blank=3)
    ref_loss, ref_grad = torch_ctc(u, [0, 1, 1], blank=3)
    assert abs(loss - ref_loss) < 1e-8 and np.abs(grad - ref_grad).max() < 1e-8


@pytest.mark.parametrize("T,K,target", [c for c in CASES if c[1] ** c[0] <= 5000])
def test_loss_matches_enumeration_of_all_paths(T, K, target):
    lp = ctc.log_softmax(np.random.default_rng(T + K).standard_normal((T, K)))
    _, _, log_p = ctc.forward_backward(lp, target)
    assert abs(log_p - ctc.brute_force_log_p(lp, target)) < 1e-12


def test_alpha_beta_give_p_at_every_frame():
    lp = ctc.log_softmax(np.random.default_rng(0).standard_normal((9, 4)))
    a, b, log_p = ctc.forward_backward(lp, [1, 2, 2])
    per_frame = np.log(np.exp(a + b).sum(1))
    assert np.abs(per_frame - log_p).max() < 1e-12


def test_gradient_matches_finite_differences():
    g = np.random.default_rng(5)
    u = g.standard_normal((6, 3))
    _, grad = ctc.ctc_loss(u, [1, 1, 2])
    lp = ctc.log_softmax(u)
    _, grad_lp = ctc.ctc_loss(lp, [1, 1, 2], wrt="log_probs")
    eps = 1e-6
    for t, k in [(0, 0), (2, 1), (5, 2), (3, 0)]:
        d = np.zeros_like(u)
        d[t, k] = eps
        fd = (ctc.ctc_loss(u + d, [1, 1, 2])[0] - ctc.ctc_loss(u - d, [1, 1, 2])[0]) / (2 * eps)
        assert abs(fd - grad[t, k]) < 1e-7
        # log-probabilities as free inputs: -log p is a function of them without the softmax
        f = lambda x: -ctc.forward_backward(x, [1, 1, 2])[2]  # noqa: E731
        fd_lp = (f(lp + d) - f(lp - d)) / (2 * eps)
        assert abs(fd_lp - grad_lp[t, k]) < 1e-7


def test_brute_force_reports_p_zero_and_the_recursion_agrees_below_the_minimum_frames():
    """T_min = U + r found by listing paths; below it both sides give p = 0 on their own."""
    for target in [(1,), (1, 1), (1, 2), (1, 1, 2), (1, 1, 1), (2, 1, 2), (1, 2, 2, 1)]:
        r = sum(a == b for a, b in zip(target, target[1:], strict=False))
        flat = ctc.log_softmax(np.zeros((len(target) + r, 3)))
        assert ctc.brute_force_log_p(flat, target) > -np.inf
        if len(flat) > 1:
            short = flat[:-1]
            assert ctc.brute_force_log_p(short, target) == -np.inf
            assert ctc.forward_backward(short, target, _check_frames=False)[2] == -np.inf
            with pytest.raises(ValueError, match="frames"):
                ctc.forward_backward(short, target)


def test_occupancy_matches_an_enumeration_of_all_paths():
    lp = ctc.log_softmax(np.random.default_rng(4).standard_normal((6, 3)))
    y, frames = np.exp(lp), np.arange(6)
    for target in [(1, 1), (1, 2), (2,)]:
        gamma = np.zeros((6, 3))
        for path in itertools.product(range(3), repeat=6):
            if tuple(k for k, _ in itertools.groupby(path) if k != 0) == target:
                gamma[frames, path] += np.prod(y[frames, path])
        gamma /= gamma[0].sum()
        _, grad_free = ctc.ctc_loss(lp, target, wrt="log_probs")
        _, grad = ctc.ctc_loss(lp, target)
        assert np.abs(-grad_free - gamma).max() < 1e-12
        assert np.abs(grad - (y - gamma)).max() < 1e-12


def test_torch_gradient_at_its_log_prob_input_is_y_minus_gamma():
    u = np.random.default_rng(6).standard_normal((7, 4))
    lp_t = torch.log_softmax(torch.tensor(u, requires_grad=True), -1)
    lp_t.retain_grad()
    torch.nn.CTCLoss(blank=0, reduction="sum")(
        lp_t[:, None], torch.tensor([[1, 2, 2]]), torch.tensor([7]), torch.tensor([3])
    ).backward()
    _, grad = ctc.ctc_loss(u, [1, 2, 2])  # y - gamma
    _, grad_free = ctc.ctc_loss(ctc.log_softmax(u), [1, 2, 2], wrt="log_probs")  # -gamma
    assert np.abs(lp_t.grad.numpy() - grad).max() < 1e-8
    assert np.abs(lp_t.grad.numpy() - grad_free).max() > 0.1


def test_planted_error_skipping_the_repeat_rule_fails_brute_force():
    lp = ctc.log_softmax(np.random.default_rng(1).standard_normal((5, 3)))
    right = ctc.forward_backward(lp, [1, 1])[2]
    wrong = ctc.forward_backward(lp, [1, 1], _repeat_rule=False)[2]
    brute = ctc.brute_force_log_p(lp, [1, 1])
    assert abs(right - brute) < 1e-12
    assert abs(wrong - brute) > 1e-2
    # without repeats, the rule changes nothing
    assert (
        abs(
            ctc.forward_backward(lp, [1, 2], _repeat_rule=False)[2]
            - ctc.brute_force_log_p(lp, [1, 2])
        )
        < 1e-12
    )


def test_bad_input_is_refused():
    u = np.zeros((4, 3))
    with pytest.raises(ValueError, match="float64"):
        ctc.ctc_loss(u.astype(np.float32), [1])
    with pytest.raises(ValueError, match=r"\(T, K\)"):
        ctc.ctc_loss(np.zeros(4), [1])
    with pytest.raises(ValueError, match="differ from blank"):
        ctc.ctc_loss(u, [0, 1])
    with pytest.raises(ValueError, match="differ from blank"):
        ctc.ctc_loss(u, [3])
    with pytest.raises(ValueError, match="at least 4 frames"):
        ctc.ctc_loss(np.zeros((3, 3)), [1, 1, 2])
    with pytest.raises(ValueError, match="blank"):
        ctc.ctc_loss(u, [1], blank=3)
    with pytest.raises(ValueError, match="wrt"):
        ctc.ctc_loss(u, [1], wrt="probs")
    with pytest.raises(ValueError, match="log-probabilities"):
        ctc.ctc_loss(u, [1], wrt="log_probs")
    with pytest.raises(ValueError, match="finite"):
        ctc.ctc_loss(np.full((4, 3), np.nan), [1])
    with pytest.raises(ValueError, match="1-D sequence of ints"):
        ctc.ctc_loss(u, [1.5])


# ---- decoding --------------------------------------------------------------------------


def small_problems(n, seed):
    g = np.random.default_rng(seed)
    for _ in range(n):
        T, K = int(g.integers(1, 7)), int(g.integers(2, 4))
        yield ctc.log_softmax(g.standard_normal((T, K)) * 1.5)


def test_prefix_beam_with_large_width_equals_exhaustive_search():
    for lp in small_problems(150, 0):
        best, log_p = ctc_decode.exhaustive_labelling(lp)
        beam, beam_log_p = ctc_decode.prefix_beam_search(lp, width=10**6)
        assert beam == best and abs(beam_log_p - log_p) < 1e-10


def test_labelling_probabilities_sum_to_one_and_match_ctc():
    lp = ctc.log_softmax(np.random.default_rng(2).standard_normal((5, 3)))
    totals = ctc_decode.labelling_log_probs(lp)
    assert abs(sum(np.exp(v) for v in totals.values()) - 1) < 1e-12
    for label, v in totals.items():
        assert abs(v - ctc.forward_backward(lp, list(label))[2]) < 1e-12


def test_greedy_can_miss_the_most_probable_labelling():
    # two frames, y = (blank 0.6, "1" 0.4): best path is blank-blank (0.36) -> (), but
    # the labelling (1,) has paths 1-1, 1-blank, blank-1 with 0.16 + 0.24 + 0.24 = 0.64
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert ctc_decode.greedy(lp) == ()
    assert ctc_decode.exhaustive_labelling(lp)[0] == (1,)
    assert ctc_decode.prefix_beam_search(lp, width=2)[0] == (1,)


def test_planted_error_narrow_beam_differs_from_exhaustive_somewhere():
    misses = sum(
        ctc_decode.prefix_beam_search(lp, width=1)[0] != ctc_decode.exhaustive_labelling(lp)[0]
        for lp in small_problems(150, 0)
    )
    assert misses > 0


def test_greedy_merges_repeats_and_drops_blanks():
    path = [0, 1, 1, 0, 1, 2, 2, 0]
    lp = np.log(np.full((8, 3), 0.1))
    lp[np.arange(8), path] = np.log(0.8)
    assert ctc_decode.greedy(lp) == (1, 1, 2)
    assert ctc.collapse(path) == (1, 1, 2)


def test_decoders_refuse_bad_input():
    with pytest.raises(ValueError, match="width"):
        ctc_decode.prefix_beam_search(np.zeros((2, 3)), width=0)
    with pytest.raises(ValueError, match="blank"):
        ctc_decode.greedy(np.zeros((2, 3)), blank=5)
    with pytest.raises(ValueError, match=r"\(T, K\)"):
        ctc_decode.greedy(np.zeros(3))
    with pytest.raises(ValueError, match="too many"):
        ctc_decode.exhaustive_labelling(np.zeros((30, 3)))


# ---- data ------------------------------------------------------------------------------


def test_digit_strings_sizes_widths_and_determinism():
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0
    d = data.digit_strings(40, 10, 0, min_len=2, max_len=4, max_gap=2)
    again = data.digit_strings(40, 10, np.random.default_rng(0), min_len=2, max_len=4, max_gap=2)
    other = data.digit_strings(40, 10, 1, min_len=2, max_len=4, max_gap=2)
    for split, n in (("train", 40), ("test", 10)):
        s = d[split]
        assert s["x"].shape[0] == n and s["x"].shape[2] == 8 and s["x"].dtype == np.float32
        assert len(s["labels"]) == n == len(s["image_ids"]) == len(s["widths"])
        assert s["x"].shape[1] == s["widths"].max()
        for x, w, lab, ids in zip(s["x"], s["widths"], s["labels"], s["image_ids"], strict=True):
            assert 2 <= len(lab) <= 4 and len(ids) == len(lab)
            assert 8 * len(lab) <= w <= 8 * len(lab) + 2 * (len(lab) + 1)
            assert not x[w:].any()
            # every digit image appears, column by column, inside the string
            cols = x[:w]
            for i in ids:
                block = images[i].T.astype(np.float32)
                assert any(np.array_equal(cols[j : j + 8], block) for j in range(w - 7))
        for x, w, ids, spans in zip(s["x"], s["widths"], s["image_ids"], s["spans"], strict=True):
            assert len(spans) == len(ids)
            assert all(b == a + 8 for a, b in spans) and spans[-1][1] <= w
            assert all(spans[k][1] <= spans[k + 1][0] for k in range(len(spans) - 1))
            for (a, b), i in zip(spans, ids, strict=True):
                assert np.array_equal(x[a:b], images[i].T.astype(np.float32))
            # the columns outside the spans are the empty gaps
            outside = np.ones(w, bool)
            for a, b in spans:
                outside[a:b] = False
            assert not x[:w][outside].any()
        assert np.array_equal(s["x"], again[split]["x"]) and s["labels"] == again[split]["labels"]
    assert d["train"]["labels"] != other["train"]["labels"]


def test_digit_strings_share_no_image_between_splits():
    d = data.digit_strings(500, 300, 3)
    train = {i for ids in d["train"]["image_ids"] for i in ids}
    test = {i for ids in d["test"]["image_ids"] for i in ids}
    assert not train & test


def test_digit_strings_refuse_bad_input():
    with pytest.raises(ValueError, match="max_len"):
        data.digit_strings(5, 5, 0, min_len=3, max_len=2)
    with pytest.raises(ValueError, match="test_share"):
        data.digit_strings(5, 5, 0, test_share=1.5)
    with pytest.raises(ValueError, match="rng"):
        data.digit_strings(5, 5, "seed")
    with pytest.raises(ValueError, match="n_train"):
        data.digit_strings(0, 5, 0)


# ---- the reader -------------------------------------------------------------------------


def _strings():
    return data.digit_strings(12, 4, 0, min_len=1, max_len=3)


def test_reader_gives_log_probabilities_and_ignores_the_padding():
    torch.manual_seed(0)
    model = ctc_reader.Reader(6)
    split = _strings()["train"]
    x, w = torch.tensor(split["x"]), torch.tensor(split["widths"])
    lp = model(x, w)
    assert lp.shape == (12, x.shape[1], ctc_reader.N_SYMBOLS)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(12, x.shape[1]))
    # each string read alone, without padding, gives the same frames
    for n in range(12):
        alone = model(x[n : n + 1, : w[n]], w[n : n + 1])
        assert torch.allclose(alone[0], lp[n, : w[n]], atol=1e-6)
    # planted error: the same LSTM run over the padding (no packing) changes the backward half
    shortest = int(w.argmin())
    h, _ = model.lstm(x[shortest : shortest + 1])
    unpacked = torch.log_softmax(model.out(h), -1)[0, : w[shortest]]
    assert not torch.allclose(unpacked, lp[shortest, : w[shortest]], atol=1e-4)


def test_reader_loss_is_ctc_per_label_averaged_over_the_batch():
    torch.manual_seed(1)
    model = ctc_reader.Reader(4).double()
    split = _strings()["train"]
    split = dict(split, x=split["x"].astype(np.float64))
    (batch,) = ctc_reader.batches(split, size=12)
    x, w, targets, lengths = batch
    with torch.no_grad():
        lp = model(x, w).numpy()
    per_label = [
        ctc.ctc_loss(lp[n, : w[n]], [d + 1 for d in lab], wrt="log_probs")[0] / len(lab)
        for n, lab in enumerate(split["labels"])
    ]
    assert ctc_reader.loss_fn(model, batch).item() == pytest.approx(np.mean(per_label), rel=1e-9)
    assert targets.tolist() == [d + 1 for lab in split["labels"] for d in lab]
    assert lengths.tolist() == [len(lab) for lab in split["labels"]]


def test_read_decodes_digits_not_symbols():
    torch.manual_seed(0)
    model = ctc_reader.Reader(4)
    split = _strings()["test"]
    predictions, lp = ctc_reader.read(model, split, ctc_decode.greedy)
    assert lp.dtype == np.float64 and lp.shape[:2] == split["x"].shape[:2]
    for n, w in enumerate(split["widths"]):
        assert predictions[n] == tuple(k - 1 for k in ctc_decode.greedy(lp[n, :w]))
        assert all(0 <= d <= 9 for d in predictions[n])


def test_reader_rejects_bad_input():
    model = ctc_reader.Reader(4)
    x, w = torch.zeros(2, 5, 8), torch.tensor([5, 3])
    with pytest.raises(ValueError, match="hidden"):
        ctc_reader.Reader(0)
    with pytest.raises(ValueError, match=r"\(B, W, 8\)"):
        model(torch.zeros(2, 5, 7), w)
    with pytest.raises(ValueError, match="dtype"):
        model(x.double(), w)
    with pytest.raises(ValueError, match="torch.Tensor"):
        model(np.zeros((2, 5, 8), np.float32), w)
    with pytest.raises(ValueError, match="int64"):
        model(x, torch.tensor([5.0, 3.0]))
    with pytest.raises(ValueError, match=r"shape \(B,\)"):
        model(x, torch.tensor([5, 3, 2]))
    with pytest.raises(ValueError, match=r"\[1, W\]"):
        model(x, torch.tensor([6, 3]))
    with pytest.raises(ValueError, match=r"\[1, W\]"):
        model(x, torch.tensor([5, 0]))
    with pytest.raises(ValueError, match="split"):
        ctc_reader.batches({"x": x}, 2)
    with pytest.raises(ValueError, match="decoder"):
        ctc_reader.read(model, _strings()["test"], "greedy")


# ---- the experiment script ----------------------------------------------------------------


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_quick_run_reproduces_the_stored_quick_results(tmp_path):
    out = tmp_path / "quick.csv"
    assert experiment.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    new, old = _read(out), _read(experiment.OUT_QUICK)
    assert len(new) == len(old) and list(new[0]) == list(old[0]) == experiment.FIELDS
    for a, b in zip(new, old, strict=True):
        for k in experiment.FIELDS:
            if k != "seconds":  # wall-clock time, the only column that may differ
                assert float(a[k]) == pytest.approx(float(b[k]), rel=1e-3, abs=1e-3), k


def test_a_planted_change_of_the_script_is_caught(monkeypatch):
    """The comparison above can fail: another learning rate gives other numbers."""
    monkeypatch.setitem(experiment.QUICK, "lr", 0.05)
    new = experiment.run(experiment.configurations(quick=True)[0])
    old = _read(experiment.OUT_QUICK)[0]
    assert float(new["final_loss"]) != pytest.approx(float(old["final_loss"]), rel=1e-3)


def test_the_stored_results_are_complete():
    rows = _read(experiment.OUT)
    assert [int(r["seed"]) for r in rows] == [c["seed"] for c in experiment.configurations()]
    for r in rows:
        assert int(r["steps"]) == experiment.TRAIN["steps"]
        assert int(r["hidden"]) == experiment.TRAIN["hidden"]
        assert int(r["n_test"]) == experiment.TRAIN["n_test"]
