"""Section 10.4: CTC's forward-backward (NumPy), its decoders, and the digit-string data."""

import numpy as np
import pytest
import torch

from rnnbook import ctc_decode, data
from rnnbook.scratch import ctc

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
