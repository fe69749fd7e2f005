"""Chapter 10, section 6: the generated videos and scenes, the CNN + LSTM models, the script."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnbook import data
from rnnbook.nn import cnn_lstm
from rnnbook.nn.cnn_lstm import CaptionModel, VideoClassifier, Vocabulary, caption_loss

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
import cnn_lstm as experiment  # noqa: E402

torch.set_num_threads(1)


# ---- the videos ----------------------------------------------------------------------


def test_moving_shapes_sizes_classes_and_determinism():
    x, y = data.moving_shapes(60, 0)
    assert x.shape == (60, 11, 1, 16, 16) and x.dtype == np.float32
    assert y.shape == (60,) and y.dtype == np.int64
    assert np.bincount(y, minlength=6).tolist() == [10] * 6  # balanced
    x2, y2 = data.moving_shapes(60, 0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, _ = data.moving_shapes(60, 1)
    assert not np.array_equal(x, x3)
    x4, _ = data.moving_shapes(12, np.random.default_rng(0), frames=4, size=20, noise=0.0)
    assert x4.shape == (12, 4, 1, 20, 20) and x4.min() >= 0 and x4.max() <= 1


def test_train_and_test_clips_do_not_overlap():
    a, _ = data.moving_shapes(600, 1)
    b, _ = data.moving_shapes(300, 2)
    seen = {c.tobytes() for c in a}
    assert not any(c.tobytes() in seen for c in b)
    # not even one frame of a test clip (without noise) is a frame of a training clip
    a0, _ = data.moving_shapes(120, 1, noise=0.0)
    b0, _ = data.moving_shapes(120, 2, noise=0.0)
    frames = {f.tobytes() for f in a0.reshape(-1, 16, 16)}
    assert not any(f.tobytes() in frames for f in b0.reshape(-1, 16, 16))


@pytest.mark.parametrize("motion", data.MOTIONS)
def test_each_motion_is_its_partners_path_reversed(motion):
    partner = data.MOTION_REVERSAL[motion]
    a = data._motion_path(motion, np.random.default_rng(5), 10, 16)
    b = data._motion_path(partner, np.random.default_rng(5), 10, 16)
    for u, v in zip(a, b, strict=True):
        assert np.array_equal(u, v[::-1])
    cx, cy, r = a
    assert np.all(cx - r >= 0) and np.all(cx + r <= 15) and np.all(cy - r >= 0)
    assert np.all(cy + r <= 15)  # the shape stays inside the frame


def test_a_single_frame_does_not_tell_a_class_from_its_reversal():
    """Per-frame pixel statistics (mean intensity, centroid) have the same distribution in a
    class and its time reversal: their quantiles agree within sampling error."""
    x, y = data.moving_shapes(1800, 3)
    flat = x[:, :, 0]  # (N, T, S, S)
    mean = flat.mean(axis=(2, 3))  # (N, T)
    w = np.clip(flat, 0, None)
    grid = np.arange(16)
    cx = (w.sum(axis=2) * grid).sum(axis=2) / w.sum(axis=(2, 3))  # (N, T)
    q = [0.1, 0.25, 0.5, 0.75, 0.9]
    for motion in ("right", "down", "grow"):
        k, j = data.MOTIONS.index(motion), data.MOTIONS.index(data.MOTION_REVERSAL[motion])
        for stat, tol in ((mean, 0.01), (cx, 0.5)):
            qa, qb = np.quantile(stat[y == k], q), np.quantile(stat[y == j], q)
            assert np.abs(qa - qb).max() < tol, (motion, qa, qb)
        # the middle frame alone (T = 11: halfway along in both) is no more telling
        mid = cx[:, 5]
        qa, qb = np.quantile(mid[y == k], q), np.quantile(mid[y == j], q)
        assert np.abs(qa - qb).max() < 0.5, (motion, qa, qb)
    # while the order tells them apart: the centroid rises along "right", falls along "left"
    trend = cx[:, -1] - cx[:, 0]
    assert trend[y == 0].min() > 1 and trend[y == 1].max() < -1


def test_moving_shapes_rejects_bad_input():
    for kwargs, words in (
        (dict(n=7, rng=0), "multiple of 6"),
        (dict(n=0, rng=0), "n must be"),
        (dict(n=6, rng="a"), "Generator"),
        (dict(n=6, rng=0, frames=1), "frames"),
        (dict(n=6, rng=0, size=8), "size"),
        (dict(n=6, rng=0, noise=float("nan")), "noise"),
        (dict(n=6, rng=0, noise=-1.0), "noise"),
    ):
        with pytest.raises(ValueError, match=words):
            data.moving_shapes(**kwargs)


# ---- the scenes ----------------------------------------------------------------------


def test_scene_descriptions_and_their_split():
    every = data.scene_descriptions()
    assert len(every) == 264 == len(set(every))
    train, test = data.scene_description_split(0)
    assert len(test) == round(0.2 * 264) and len(train) + len(test) == 264
    assert not set(train) & set(test)  # no description in both splits
    assert data.scene_description_split(0) == (train, test)
    assert data.scene_description_split(1)[1] != test
    words = {w for d in train for w in d.split()}
    assert all(w in words for d in test for w in d.split())


def test_scene_images_sizes_determinism_and_colours():
    train, _ = data.scene_description_split(0)
    im = data.scene_images(train[:5], 0)
    assert im.shape == (5, 3, 24, 24) and im.dtype == np.float32
    assert np.array_equal(im, data.scene_images(train[:5], 0))
    assert not np.array_equal(im, data.scene_images(train[:5], 1))
    # "a red circle left of a blue square": red on the left, blue on the right, no overlap
    clean = data.scene_images(["a red circle left of a blue square"] * 20, 2, noise=0.0)
    cols = np.arange(24)
    for img in clean:
        red = (img[0] > 0.9) & (img[2] < 0.5)
        blue = img[2] > 0.9
        assert red.any() and blue.any()
        assert cols[red.any(axis=0)].max() < cols[blue.any(axis=0)].min()
    up = data.scene_images(["a green triangle above a yellow circle"] * 20, 3, noise=0.0)
    for img in up:
        green = (img[1] > 0.8) & (img[0] < 0.5)
        yellow = (img[0] > 0.9) & (img[1] > 0.8)
        assert np.arange(24)[green.any(axis=1)].max() < np.arange(24)[yellow.any(axis=1)].min()


def test_scene_functions_reject_bad_input():
    with pytest.raises(ValueError, match="list of strings"):
        data.scene_images("a red circle left of a blue square", 0)
    with pytest.raises(ValueError, match="not a scene description"):
        data.scene_images(["a red dog left of a blue square"], 0)
    with pytest.raises(ValueError, match="size"):
        data.scene_images(["a red circle left of a blue square"], 0, size=16)
    with pytest.raises(ValueError, match="test_fraction"):
        data.scene_description_split(0, test_fraction=0.9)


# ---- the models ----------------------------------------------------------------------


def test_frame_features_equal_the_cnn_run_frame_by_frame_and_a_planted_error_is_caught():
    torch.manual_seed(0)
    model = VideoClassifier(6)
    x = torch.randn(3, 5, 1, 16, 16)
    batched = model.frame_features(x)  # (B, T, F)
    loop = torch.stack([torch.stack([model.cnn(x[b, t : t + 1])[0] for t in range(5)])
                        for b in range(3)])  # fmt: skip
    assert torch.allclose(batched, loop, atol=1e-6)
    # the planted error: frames flattened time-major but read back batch-major
    wrong = model.cnn(x.transpose(0, 1).reshape(15, 1, 16, 16)).reshape(3, 5, -1)
    assert not torch.allclose(wrong, loop, atol=1e-3)


def test_the_mean_pool_ignores_the_order_of_frames_and_the_lstm_does_not():
    torch.manual_seed(1)
    x = torch.randn(4, 6, 1, 16, 16)
    backwards = x.flip(1)
    mean, lstm = VideoClassifier(6, pool="mean"), VideoClassifier(6, pool="lstm")
    with torch.no_grad():
        assert torch.allclose(mean(x), mean(backwards), atol=1e-6)
        assert not torch.allclose(lstm(x), lstm(backwards), atol=1e-4)


def test_vocabulary_round_trip():
    vocab = Vocabulary(data.scene_descriptions())
    assert vocab.itos[:3] == ["<pad>", "<bos>", "<eos>"] and len(vocab) == 3 + 11
    d = ["a red circle left of a blue square", "a green triangle above a red square"]
    ids = vocab.encode(d)
    assert ids.shape == (2, 10) and ids[1, -1] == Vocabulary.PAD
    assert [vocab.decode(r) for r in ids] == d
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode(["a purple circle"])


def test_caption_loss_equals_the_cross_entropy_written_out():
    torch.manual_seed(2)
    logits = torch.randn(3, 4, 7, dtype=torch.float64)
    targets = torch.tensor([[3, 4, 2, 0], [5, 2, 0, 0], [6, 6, 6, 2]])
    total, count = 0.0, 0
    for b in range(3):
        for t in range(4):
            if targets[b, t] != Vocabulary.PAD:
                total -= torch.log_softmax(logits[b, t], dim=0)[targets[b, t]]
                count += 1
    assert torch.allclose(caption_loss(logits, targets), total / count)


def _teacher_forced_argmax_agrees(model, images, ids):
    """Teacher-forcing the decoded words back in: is each decoded word the argmax there?"""
    bos = torch.full((ids.shape[0], 1), Vocabulary.BOS)
    logits = model(images, torch.cat([bos, ids[:, :-1]], dim=1))  # (B, L, V)
    again = logits.argmax(dim=-1)
    ok = True
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            if t > 0 and ids[b, t - 1] in (Vocabulary.EOS, Vocabulary.PAD):
                break
            ok = ok and bool(again[b, t] == ids[b, t])
    return ok


def test_greedy_decoding_matches_a_teacher_forced_pass_and_a_planted_error_is_caught():
    torch.manual_seed(3)
    model = CaptionModel(14).double()
    images = torch.randn(5, 3, 24, 24, dtype=torch.float64)
    with torch.no_grad():
        ids = model.greedy(images, max_len=8)
        assert ids.shape == (5, 8)
        assert _teacher_forced_argmax_agrees(model, images, ids)

        # the planted error: a decoder that feeds <bos> at every step instead of its output
        def not_fed_back(imgs, max_len=8):
            v = model.cnn(imgs)
            w = torch.full((imgs.shape[0],), Vocabulary.BOS)
            out, state = [], None
            for _ in range(max_len):
                logits, state = model.step(v, w, state)
                out.append(logits.argmax(-1))
            return torch.stack(out, dim=1)

        planted = not_fed_back(images)
        assert not _teacher_forced_argmax_agrees(model, images, planted)


def test_models_reject_bad_input():
    with pytest.raises(ValueError, match="pool must be one of"):
        VideoClassifier(6, pool="max")
    with pytest.raises(ValueError, match=r"\(B, T, C, S, S\)"):
        VideoClassifier(6)(torch.randn(2, 1, 16, 16))
    with pytest.raises(ValueError, match="dtype"):
        VideoClassifier(6)(torch.randn(2, 3, 1, 16, 16, dtype=torch.float64))
    bad = torch.randn(1, 2, 1, 16, 16)
    bad[0, 0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError):
        VideoClassifier(6)(bad)
    with pytest.raises(ValueError, match="divisible by 4"):
        cnn_lstm.FrameEncoder(1, 18, 8)
    model = CaptionModel(14)
    with pytest.raises(ValueError, match="int64"):
        model(torch.randn(2, 3, 24, 24), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="word ids"):
        model(torch.randn(2, 3, 24, 24), torch.full((2, 5), 99))
    with pytest.raises(ValueError, match="one row per image"):
        model(torch.randn(2, 3, 24, 24), torch.zeros(3, 5, dtype=torch.int64))
    with pytest.raises(ValueError, match="targets must have shape"):
        caption_loss(torch.randn(2, 5, 14), torch.zeros(2, 4, dtype=torch.int64))


def test_decode_step_and_loss_reject_bad_input():
    vocabulary = Vocabulary(["a red circle", "a blue square"])
    assert vocabulary.decode([1, 3, 2, 7]) == "a"  # a good row still decodes
    for ids, words in (
        ([1, 99], r"word ids in \[0, 8\)"),
        ([1, -1], "word ids"),
        ([1, 2.0], r"ids\[1\] must be an int"),
        (torch.zeros(2, 3, dtype=torch.int64), "1-D int64"),
        (torch.zeros(3), "1-D int64"),
        ("a red", "tensor or a list"),
    ):
        with pytest.raises(ValueError, match=words):
            vocabulary.decode(ids)
    model = CaptionModel(14)
    v, w = torch.randn(2, 64), torch.ones(2, dtype=torch.int64)
    logits, state = model.step(v, w)  # good input passes
    assert logits.shape == (2, 14)
    for args, words in (
        ((torch.randn(2, 63), w), r"\(B, F\)"),
        ((v.double(), w), "dtype"),
        ((v, w.float()), "int64"),
        ((v, torch.ones(3, dtype=torch.int64)), r"\(2,\)"),
        ((v, torch.full((2,), 14)), "word ids"),
        ((v, w, (state[0],)), "pair"),
        ((v, w, (state[0][:, :1], state[1])), "pair"),
    ):
        with pytest.raises(ValueError, match=words):
            model.step(*args)
    nan = torch.randn(2, 5, 14)
    nan[0, 0, 0] = float("nan")
    for args, words in (
        ((torch.zeros(2, 5, 14, dtype=torch.int64), torch.zeros(2, 5, dtype=torch.int64)), "float"),
        ((nan, torch.zeros(2, 5, dtype=torch.int64)), "finite"),
        ((torch.randn(2, 5, 14), torch.full((2, 5), 14)), "word ids"),
        ((torch.randn(2, 5, 14), torch.zeros(2, 5, dtype=torch.int32)), "int64"),
    ):
        with pytest.raises(ValueError, match=words):
            caption_loss(*args)


# ---- the experiment script -----------------------------------------------------------


def _read(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_quick_run_reproduces_the_stored_quick_results(tmp_path):
    out = tmp_path / "quick.csv"
    assert experiment.main(["--quick", "--jobs", "1", "--out", str(out)]) == 0
    new, old = _read(out), _read(experiment.OUT_QUICK)
    key = ("task", "model", "seed", "steps", "metric")
    assert [tuple(r[k] for k in key) for r in new] == [tuple(r[k] for k in key) for r in old]
    for a, b in zip(new, old, strict=True):
        assert float(a["value"]) == pytest.approx(float(b["value"]), rel=1e-3, abs=1e-3)


def test_a_planted_change_of_the_script_is_caught(monkeypatch):
    """The comparison above can fail: another learning rate gives other numbers."""
    monkeypatch.setitem(experiment.QUICK_VIDEO, "lr", 0.03)
    config = experiment.configurations(quick=True)[0]
    new = {r["metric"]: float(r["value"]) for r in experiment.run(config)}
    old = {r["metric"]: float(r["value"]) for r in _read(experiment.OUT_QUICK)[:2]}
    assert new["final_loss"] != pytest.approx(old["final_loss"], rel=1e-3)


def test_the_stored_results_are_complete():
    rows = _read(experiment.OUT)
    runs = {(r["task"], r["model"], int(r["seed"])) for r in rows}
    assert runs == {(c["task"], c["model"], c["seed"]) for c in experiment.configurations()}
