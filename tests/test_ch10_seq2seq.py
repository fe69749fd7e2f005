"""Section 10.2: the number and date corpora, and the encoder-decoder of rnnbook.nn.seq2seq."""

import csv
import datetime
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnbook import data
from rnnbook.nn import seq2seq

ROOT = Path(__file__).resolve().parents[1]

# ---- the number converters --------------------------------------------------------------

# checked by hand, one rule each
HAND = {
    0: "零",
    1: "一",
    10: "十",
    11: "十一",
    15: "十五",
    20: "二十",
    100: "一百",
    101: "一百零一",
    110: "一百一十",
    111: "一百一十一",
    1001: "一千零一",
    1010: "一千零一十",
    1100: "一千一百",
    2026: "二千零二十六",
    10000: "一万",
    10010: "一万零一十",
    10100: "一万零一百",
    20026: "二万零二十六",
    100000: "十万",
    110000: "十一万",
    100010: "十万零一十",
    100001: "十万零一",
    105000: "十万五千",  # the zero ends the 万 group: not read (每级末尾的0都不读)
    1005000: "一百万五千",
    10001000: "一千万一千",
    10000100: "一千万零一百",  # the zeros begin the lower group: one 零
    89409571: "八千九百四十万九千五百七十一",
    1000001: "一百万零一",
    10100000: "一千零一十万",
    10000000: "一千万",
    12345678: "一千二百三十四万五千六百七十八",
    99999999: "九千九百九十九万九千九百九十九",
}
ENGLISH = {
    0: "zero",
    13: "thirteen",
    40: "forty",
    99: "ninety-nine",
    101: "one hundred one",
    2026: "two thousand twenty-six",
    10010: "ten thousand ten",
    1000001: "one million one",
    12345678: "twelve million three hundred forty-five thousand six hundred seventy-eight",
}


def test_chinese_numerals_match_hand_checked_cases():
    for n, text in HAND.items():
        assert data.chinese_numeral(n) == text, n


def test_english_numbers_match_hand_checked_cases():
    for n, text in ENGLISH.items():
        assert data.english_number(n) == text, n


def test_round_trip_through_the_independent_parser():
    rng = np.random.default_rng(0)
    values = list(range(0, 2100)) + rng.integers(0, data.NUMBER_MAX, 3000).tolist()
    values += [10**k for k in range(8)] + [10**k + 10 for k in range(2, 8)]
    for n in values:
        text = data.chinese_numeral(n)
        assert data.parse_chinese_numeral(text) == n, (n, text)
        assert "零零" not in text and not (text.endswith("零") and n)


def test_the_round_trip_catches_a_planted_error(monkeypatch):
    """A converter that drops the 零 of 2026 still parses back, but the hand cases fail;
    one that drops the 万 fails the round trip."""
    broken = lambda n: data.chinese_numeral(n).replace("万", "")  # noqa: E731
    assert any(data.parse_chinese_numeral(broken(n)) != n for n in HAND if n >= 10000)
    no_zero = lambda n: data.chinese_numeral(n).replace("零", "") if n else "零"  # noqa: E731
    assert any(no_zero(n) != HAND[n] for n in HAND)


def _group_reading(n):
    # a second converter, written from the school rule group by group: read each 4-digit
    # group on its own (leading zeros of the lower group become one 零 only when the group
    # is below 1000), join with 万; no 零 for zeros that end the 万 group
    def group(k, leading):
        text, pending = "", False
        for unit, d in zip("千百十", (k // 1000, k // 100 % 10, k // 10 % 10), strict=True):
            if d == 0:
                pending = bool(text)
            else:
                text += (
                    ("零" if pending else "")
                    + (
                        ""
                        if (d, unit, text, leading) == (1, "十", "", True)
                        else "一二三四五六七八九"[d - 1]
                    )
                    + unit
                )
                pending = False
        if k % 10:
            text += (
                "零" if pending or (text and k // 10 % 10 == 0) else ""
            ) + "一二三四五六七八九"[k % 10 - 1]
        return text

    if n == 0:
        return "零"
    high, low = divmod(n, 10_000)
    if not high:
        return group(low, True)
    return group(high, True) + "万" + ("零" if 0 < low < 1000 else "") + group(low, False)


def _numbers_to_compare():
    rng = np.random.default_rng(1)
    values = list(range(0, 120_000)) + rng.integers(0, data.NUMBER_MAX, 20_000).tolist()
    # every place pattern of zeros around the 万 boundary
    values += [
        a * 10**7 + b * 10**4 + c * 10**3 + d
        for a in (0, 1)
        for b in (0, 10, 100)
        for c in (0, 5)
        for d in (0, 1, 10, 100)
    ]
    return values


def test_chinese_numerals_agree_with_a_groupwise_implementation():
    for n in _numbers_to_compare():
        assert data.chinese_numeral(n) == _group_reading(n), n


def test_the_groupwise_comparison_catches_a_spurious_zero():
    """The old converter read a 零 after a 万 group ending in 0 (十万零五千): the comparison
    fails on it, while the round trip through the parser (which ignores 零) does not."""

    def old(n):
        text = data.chinese_numeral(n)
        high, low = divmod(n, 10_000)
        if high % 10 == 0 and high and low >= 1000:
            text = text.replace("万", "万零")
        return text

    assert data.parse_chinese_numeral(old(105000)) == 105000
    assert any(old(n) != _group_reading(n) for n in _numbers_to_compare())


def test_parser_accepts_the_plain_forms():
    assert data.parse_chinese_numeral("十") == 10
    assert data.parse_chinese_numeral("一十") == 10
    assert data.parse_chinese_numeral("二千二十六") == 2026


def test_converters_reject_bad_input():
    for bad in (-1, 10**8, 2.0, True, "5"):
        with pytest.raises(ValueError, match="n must be an int"):
            data.chinese_numeral(bad)
        with pytest.raises(ValueError, match="n must be an int"):
            data.english_number(bad)
    with pytest.raises(ValueError, match="only 零一二"):
        data.parse_chinese_numeral("二千X")
    with pytest.raises(ValueError, match="non-empty"):
        data.parse_chinese_numeral("")


# ---- the corpora ------------------------------------------------------------------------


def test_number_pairs_sizes_lengths_and_no_overlap():
    c = data.number_pairs(3000, 500, 1)
    assert len(c["train"]["source"]) == 3000 and len(c["test"]["target"]) == 500
    assert not set(c["train"]["value"].tolist()) & set(c["test"]["value"].tolist())
    assert len(set(c["train"]["value"].tolist())) == 3000
    for part in c.values():
        for v, s, t, d in zip(
            part["value"], part["source"], part["target"], part["digits"], strict=True
        ):
            assert s == data.english_number(int(v)) and t == data.chinese_numeral(int(v))
            assert d == len(str(int(v)))
    counts = np.bincount(c["test"]["digits"], minlength=9)
    # the length control: every digit count 3..8 is well represented (there are only 10 numbers
    # of one digit and 90 of two, which the draw runs out of)
    assert counts[3:].min() > 40


def test_number_pairs_are_deterministic():
    a, b, c = (data.number_pairs(100, 50, s) for s in (5, 5, 6))
    assert a["train"]["source"] == b["train"]["source"]
    assert a["train"]["source"] != c["train"]["source"]


def test_number_pairs_reject_bad_input():
    with pytest.raises(ValueError, match="max_digits"):
        data.number_pairs(10, 10, 0, max_digits=9)
    with pytest.raises(ValueError, match="at most 100"):
        data.number_pairs(90, 20, 0, max_digits=2)
    with pytest.raises(ValueError, match="n_test"):
        data.number_pairs(10, 0, 0)


def test_date_pairs_formats_targets_and_no_overlap():
    c = data.date_pairs(2000, 300, 3)
    assert not set(c["train"]["target"]) & set(c["test"]["target"])
    assert set(c["train"]["style"]) == set(data.DATE_FORMATS)
    for part in c.values():
        for s, t, style in zip(part["source"], part["target"], part["style"], strict=True):
            d = datetime.date.fromisoformat(t)
            assert s == data.format_date(d.year, d.month, d.day, style)
    assert data.format_date(2026, 12, 2, "day month year") == "2 December 2026"
    assert data.format_date(2026, 12, 2, "mm/dd/yyyy") == "12/02/2026"
    assert data.format_date(2026, 12, 2, "dd.mm.yyyy") == "02.12.2026"
    assert data.format_date(2026, 12, 2, "month day, year") == "December 2, 2026"
    a, b = data.date_pairs(50, 10, 3), data.date_pairs(50, 10, 4)
    assert a["train"]["source"] == data.date_pairs(50, 10, 3)["train"]["source"]
    assert a["train"]["source"] != b["train"]["source"]


def test_date_functions_reject_bad_input():
    with pytest.raises(ValueError, match="not a date"):
        data.format_date(2026, 2, 30, "short")
    with pytest.raises(ValueError, match="style"):
        data.format_date(2026, 2, 3, "iso")
    with pytest.raises(ValueError, match="last_year"):
        data.date_pairs(5, 5, 0, first_year=2000, last_year=1999)


# ---- the model --------------------------------------------------------------------------


def _tiny(attention, bidirectional=True, seed=0):
    torch.manual_seed(seed)
    return seq2seq.Seq2Seq(
        9, 7, hidden=5, embed=4, attention=attention, bidirectional=bidirectional
    ).double()


def _batch():
    x = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [4, 0, 0, 0]])
    return x, torch.tensor([4, 2, 1]), torch.tensor([[3, 4, 2], [5, 2, 0], [6, 3, 2]])


@pytest.mark.parametrize("attention", seq2seq.ATTENTIONS)
def test_padding_does_not_change_a_sentence(attention):
    """A sentence decoded in a padded batch gives the logits it gives alone."""
    model = _tiny(attention)
    x, lengths, y = _batch()
    batch = model(x, lengths, y)  # (3, 3, 7)
    for b in range(3):
        alone = model(x[b : b + 1, : lengths[b]], lengths[b : b + 1], y[b : b + 1])
        torch.testing.assert_close(alone[0], batch[b], rtol=0, atol=1e-12)


def test_additive_and_multiplicative_scores_by_hand():
    x, lengths, _ = _batch()
    for attention in ("additive", "multiplicative"):
        model = _tiny(attention)
        memory = model.encode(x, lengths)
        s = torch.randn(3, 5, dtype=torch.float64)
        c, alpha = model.context(s, memory)
        for b in range(3):
            h = memory["h"][b, : lengths[b]]  # (S_b, He)
            if attention == "additive":
                e = torch.stack(
                    [
                        model.v.weight[0]
                        @ torch.tanh(model.W_a.weight @ s[b] + model.U_a.weight @ hj)
                        for hj in h
                    ]
                )
            else:
                e = torch.stack([s[b] @ (model.W_a.weight @ hj) for hj in h])
            a = torch.softmax(e, 0)
            torch.testing.assert_close(alpha[b, : lengths[b]], a, rtol=0, atol=1e-12)
            assert float(alpha[b, lengths[b] :].detach().abs().sum()) == 0.0  # no weight on padding
            torch.testing.assert_close(c[b], a @ h, rtol=0, atol=1e-12)


def test_without_attention_the_context_is_the_final_encoder_state():
    """(S2S.1) with c fixed: the context is [forward final; backward final], the same at every
    step; the decoder's update reads its own previous state s_{t-1} (h'_{t-1}), not h_{t-1}."""
    model = _tiny("none")
    x, lengths, _ = _batch()
    memory = model.encode(x, lengths)
    for b in range(3):
        out, _ = model.encoder(model.source_embedding(x[b : b + 1, : lengths[b]]))
        H = model.H
        torch.testing.assert_close(memory["c"][b, :H], out[0, -1, :H], rtol=0, atol=1e-12)
        torch.testing.assert_close(memory["c"][b, H:], out[0, 0, H:], rtol=0, atol=1e-12)
    c1, _ = model.context(torch.zeros(3, 5, dtype=torch.float64), memory)
    c2, _ = model.context(torch.ones(3, 5, dtype=torch.float64), memory)
    assert torch.equal(c1, c2)


def test_the_gradient_matches_finite_differences():
    """Autograd's gradient of the loss against centred differences along random directions."""
    model = _tiny("additive")
    x, lengths, y = _batch()
    params = [p for p in model.parameters() if p.requires_grad]
    seq2seq.loss(model, x, lengths, y).backward()
    grads = [p.grad.clone() for p in params]
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        d = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
        with torch.no_grad():
            values = []
            for sign in (1, -1):
                for p, dp in zip(params, d, strict=True):
                    p.add_(sign * 1e-6 * dp)
                values.append(float(seq2seq.loss(model, x, lengths, y)))
                for p, dp in zip(params, d, strict=True):
                    p.sub_(sign * 1e-6 * dp)
        numeric = (values[0] - values[1]) / 2e-6
        analytic = float(sum((g * dp).sum() for g, dp in zip(grads, d, strict=True)))
        assert abs(numeric - analytic) < 1e-6 * max(1.0, abs(analytic))


def test_free_running_feeds_the_models_own_tokens():
    model = _tiny("additive")
    x, lengths, y = _batch()
    forced = model(x, lengths, y)
    free = model(x, lengths, y, teacher_forcing=0.0)
    torch.testing.assert_close(forced[:, 0], free[:, 0])  # the first input is BOS in both
    # free running equals teacher forcing on the model's own greedy output
    ids, _ = seq2seq.greedy_decode(model, x, lengths, max_len=3)
    ids = torch.where(ids == seq2seq.PAD, seq2seq.EOS, ids)  # greedy pads after EOS
    torch.testing.assert_close(model(x, lengths, ids[:, :3])[:, :2], free[:, :2])


def test_greedy_decode_equals_beam_width_one():
    from rnnbook import decode

    model = _tiny("multiplicative").float()
    x, lengths, _ = _batch()
    ids, _ = seq2seq.greedy_decode(model, x, lengths, max_len=6)
    for b in range(3):
        step, state = seq2seq.step_function(model, x[b : b + 1, : lengths[b]], lengths[b : b + 1])
        tokens, _ = decode.beam_search(
            step, state, bos=seq2seq.BOS, eos=seq2seq.EOS, width=1, max_len=6
        )
        row = ids[b].tolist()
        assert tokens == row[: len(tokens)]


def test_vocabulary_and_encoding():
    vocab = seq2seq.build_vocab([["b", "a"], ["c"]])
    assert vocab == ["<pad>", "<bos>", "<eos>", "a", "b", "c"]
    ids, lengths = seq2seq.encode([["b", "a"], ["c"]], vocab, add_eos=True)
    assert ids.tolist() == [[4, 3, 2], [5, 2, 0]] and lengths.tolist() == [3, 2]
    assert seq2seq.decode_ids(ids[0], vocab) == ["b", "a"]
    assert seq2seq.tokenize("twenty-six", "word") == ["twenty", "six"]
    assert seq2seq.tokenize("二十", "char") == ["二", "十"]


def test_bad_input_raises():
    model = _tiny("none")
    x, lengths, y = _batch()
    with pytest.raises(ValueError, match="attention"):
        seq2seq.Seq2Seq(9, 7, attention="dot")
    with pytest.raises(ValueError, match="int64"):
        model(x.float(), lengths, y)
    with pytest.raises(ValueError, match="ids in"):
        model(x + 20, lengths, y)
    with pytest.raises(ValueError, match="lengths"):
        model(x, torch.tensor([4, 2, 9]), y)
    with pytest.raises(ValueError, match="teacher_forcing"):
        model(x, lengths, y, teacher_forcing=1.5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        seq2seq.encode([["zz"]], ["<pad>", "<bos>", "<eos>", "a"])
    with pytest.raises(ValueError, match="unit"):
        seq2seq.tokenize("a", "byte")


# ---- the experiment ---------------------------------------------------------------------

sys.path.insert(0, str(ROOT / "experiments"))
import translation  # noqa: E402


def _read(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_quick_run_reproduces_the_stored_quick_results(tmp_path):
    out = tmp_path / "quick.csv"
    assert translation.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    new, old = _read(out), _read(ROOT / "experiments" / "results" / "translation_quick.csv")
    assert [tuple(r.values())[:8] for r in new] == [tuple(r.values())[:8] for r in old]
    for a, b in zip(new, old, strict=True):
        assert float(a["accuracy"]) == pytest.approx(float(b["accuracy"]), abs=0.011)
        assert float(a["bleu"]) == pytest.approx(float(b["bleu"]), abs=1.0)


def test_the_stored_results_are_complete():
    rows = _read(ROOT / "experiments" / "results" / "translation.csv")
    runs = {
        (r["group"], r["attention"], r["bidirectional"], r["teacher_forcing"], r["seed"])
        for r in rows
    }
    configs = translation.configurations()
    assert runs == {
        (
            c["group"],
            c["attention"],
            str(c["bidirectional"]),
            str(c["teacher_forcing"]),
            str(c["seed"]),
        )
        for c in configs
    }
    assert all(int(r["steps"]) == translation.STEPS for r in rows)
