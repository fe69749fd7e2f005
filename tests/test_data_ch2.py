"""Chapter 2's datasets: reproducible from a seed, right shapes, the documented rules."""

import numpy as np
import pytest

from rnnbook import data


def test_binary_strings_reproducible():
    a = data.binary_strings(5, 30, 1)
    assert a.shape == (5, 30) and a.dtype == np.int64
    assert np.array_equal(a, data.binary_strings(5, 30, np.random.default_rng(1)))
    assert set(np.unique(a)) <= {0, 1}
    assert not np.array_equal(a, data.binary_strings(5, 30, 2))


def test_running_parity_and_remainder():
    bits = data.binary_strings(20, 40, 0)
    assert np.array_equal(data.running_parity(bits), np.cumsum(bits, axis=1) % 2)
    for k in (1, 3, 7):
        rem = data.running_remainder(bits, k)
        for i in range(3):
            for t in (0, 10, 39):
                value = int("".join(map(str, bits[i, : t + 1])), 2)
                assert rem[i, t] == value % k


def test_majority_task_label_is_the_commonest_token():
    tokens, labels = data.majority_task(300, 15, 3, 4)
    assert tokens.shape == (300, 15) and labels.shape == (300,)
    counts = np.stack([(tokens == c).sum(axis=1) for c in range(3)], axis=1)
    assert np.array_equal(labels, counts.argmax(axis=1))
    assert np.all(counts[np.arange(300), labels] == counts.max(axis=1))
    assert 0.2 < np.mean(labels == 0) < 0.5  # classes roughly balanced
    t2, l2 = data.majority_task(300, 15, 3, 4)
    assert np.array_equal(tokens, t2) and np.array_equal(labels, l2)


def test_delayed_echo_and_reverse():
    tokens, labels = data.delayed_echo(10, 12, 4, 3, 5)
    assert np.all(labels[:, :3] == -1)
    assert np.array_equal(labels[:, 3:], tokens[:, :-3])
    tokens, labels = data.delayed_echo(4, 6, 4, 0, 5)
    assert np.array_equal(tokens, labels)
    source, target = data.reverse_task(8, 5, 4, 6)
    assert np.array_equal(target, source[:, ::-1])
    assert source.max() < 4 and source.min() >= 0


def test_pendulum_follows_its_equation_and_conserves_energy_without_damping():
    traj = data.damped_pendulum(np.array([1.0, 0.0]), 200, 0.05, damping=0.0)
    assert traj.shape == (201, 2)
    energy = 0.5 * traj[:, 1] ** 2 - 4.0 * np.cos(traj[:, 0])  # omega0 = 2
    assert np.ptp(energy) < 1e-8
    # a central difference of the samples matches the right-hand side
    deriv = (traj[2:] - traj[:-2]) / (2 * 0.05)
    rhs = data.pendulum_derivative(traj[1:-1], damping=0.0)
    np.testing.assert_allclose(deriv, rhs, atol=1e-2)
    damped = data.damped_pendulum(np.array([1.0, 0.0]), 400, 0.05)
    e = 0.5 * damped[:, 1] ** 2 - 4.0 * np.cos(damped[:, 0])
    assert np.all(np.diff(e) <= 1e-12) and e[-1] < e[0] - 1.0


def test_pendulum_batch_and_small_angle_period():
    init = np.array([[0.01, 0.0], [0.5, 0.2]])
    traj = data.damped_pendulum(init, 10, 0.1)
    assert traj.shape == (11, 2, 2)
    np.testing.assert_array_equal(traj[:, 1], data.damped_pendulum(init[1], 10, 0.1))
    # small oscillations without damping: theta(t) = 0.01 cos(omega0 t)
    small = data.damped_pendulum(np.array([0.01, 0.0]), 50, 0.1, damping=0.0)
    t = 0.1 * np.arange(51)
    np.testing.assert_allclose(small[:, 0], 0.01 * np.cos(2.0 * t), atol=1e-6)


def test_pendulum_trajectories_start_in_the_box():
    traj = data.pendulum_trajectories(50, 5, 3, max_angle=1.0, max_speed=0.5)
    assert traj.shape == (6, 50, 2)
    assert np.all(np.abs(traj[0, :, 0]) <= 1.0) and np.all(np.abs(traj[0, :, 1]) <= 0.5)
    assert np.array_equal(traj, data.pendulum_trajectories(50, 5, 3, max_angle=1.0, max_speed=0.5))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.binary_strings(0, 5, 1), "n must be"),
        (lambda: data.binary_strings(2, 5, "seed"), "rng must be"),
        (lambda: data.running_parity(np.array([0, 1])), r"\(B, T\)"),
        (lambda: data.running_parity(np.array([[0, 2]])), "0 or 1"),
        (lambda: data.running_remainder(np.array([[0.0, 1.0]]), 3), "int array"),
        (lambda: data.running_remainder(np.array([[0, 1]]), 0), "k must be"),
        (lambda: data.majority_task(5, 5, 1, 0), "n_classes"),
        (lambda: data.delayed_echo(5, 5, 4, -1, 0), "delay"),
        (lambda: data.reverse_task(5, 5, 1.5, 0), "n_symbols"),
        (lambda: data.pendulum_derivative(np.zeros(3)), r"\(\.\.\., 2\)"),
        (lambda: data.damped_pendulum(np.zeros(3), 5), r"\(2,\) or \(B, 2\)"),
        (lambda: data.damped_pendulum(np.array([np.nan, 0.0]), 5), "finite"),
        (lambda: data.damped_pendulum(np.array([0, 1]), 5), "finite floats"),
        (lambda: data.damped_pendulum(np.zeros(2), 5, -0.1), "dt > 0"),
        (lambda: data.damped_pendulum(np.zeros(2), 5, float("inf")), "dt must be"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_temporal_xor_sizes_rule_and_determinism():
    bits = data.temporal_xor(4, 10, 0)
    assert bits.shape == (4, 30) and bits.dtype == np.int64
    assert set(np.unique(bits)) <= {0, 1}
    assert np.array_equal(bits[:, 2::3], bits[:, 0::3] ^ bits[:, 1::3])
    assert np.array_equal(bits, data.temporal_xor(4, 10, np.random.default_rng(0)))
    assert not np.array_equal(bits, data.temporal_xor(4, 10, 1))
    # the first two bits of a triple are not determined: both values occur
    assert 0.3 < bits[:, 0::3].mean() < 0.7


def test_word_stream_sizes_words_and_determinism():
    letters, position, alphabet = data.word_stream(3, 50, 0)
    assert letters.shape == position.shape == (3, 50) and letters.dtype == np.int64
    assert alphabet == "".join(sorted(set("".join(data.ELMAN_WORDS))))
    for i in range(3):
        text = "".join(alphabet[k] for k in letters[i])
        starts = list(np.flatnonzero(position[i] == 0)) + [50]
        # every complete word between two starts is a word of the lexicon
        for a, b in zip(starts[:-2], starts[1:-1], strict=True):
            assert text[a:b] in data.ELMAN_WORDS
        # the position counts up inside a word and goes back to 0 at the next word
        assert np.all(position[i][1:][np.diff(position[i]) != 1] == 0)
    again = data.word_stream(3, 50, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip((letters, position), again[:2], strict=True))
    assert not np.array_equal(letters, data.word_stream(3, 50, 1)[0])
    small = data.word_stream(2, 9, 5, words=("ab", "c"))
    assert small[2] == "abc" and small[0].shape == (2, 9)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.temporal_xor(0, 5, 0), "n must be an int >= 1, got 0"),
        (lambda: data.temporal_xor(2, 1.5, 0), "n_triples must be an int >= 1"),
        (lambda: data.temporal_xor(2, 5, "x"), "rng must be a numpy.random.Generator"),
        (lambda: data.word_stream(2, 0, 0), "length must be an int >= 1, got 0"),
        (lambda: data.word_stream(2, 5, 0, words=("Ab",)), "words must be a tuple of lowercase"),
        (lambda: data.word_stream(2, 5, 0, words=()), "words must be a tuple of lowercase"),
    ],
)
def test_chapter_2_generators_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_class_waves_follow_their_vector():
    vectors, waves = data.class_waves(200, 15, 3)
    assert vectors.shape == (200, 5) and waves.shape == (200, 15)
    assert vectors.dtype == waves.dtype == np.float64
    c = vectors[:, :3].argmax(axis=1)
    assert np.array_equal(vectors[:, :3], np.eye(3)[c])  # one-hot class
    np.testing.assert_allclose(np.hypot(vectors[:, 3], vectors[:, 4]), 1.0, atol=1e-12)
    phi = np.arctan2(vectors[:, 4], vectors[:, 3])
    t = np.arange(1, 16)
    expected = np.sin(np.array([0.4, 0.8, 1.2])[c][:, None] * t + phi[:, None])
    np.testing.assert_allclose(waves, expected, atol=1e-12)
    assert set(c.tolist()) == {0, 1, 2}
    # the recurrence of a sine: y_{t+1} + y_{t-1} = 2 cos(omega) y_t
    w = np.array([0.4, 0.8, 1.2])[c][:, None]
    np.testing.assert_allclose(
        waves[:, 2:] + waves[:, :-2], 2 * np.cos(w) * waves[:, 1:-1], atol=1e-12
    )
    again = data.class_waves(200, 15, np.random.default_rng(3))
    assert all(np.array_equal(a, b) for a, b in zip((vectors, waves), again, strict=True))
    assert not np.array_equal(vectors, data.class_waves(200, 15, 4)[0])
    v1, y1 = data.class_waves(4, 6, 0, omegas=(1.0,))
    assert v1.shape == (4, 3) and np.all(v1[:, 0] == 1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.class_waves(0, 5, 0), "n must be an int >= 1, got 0"),
        (lambda: data.class_waves(2, 2.0, 0), "length must be an int >= 1"),
        (lambda: data.class_waves(2, 5, None), "rng must be a numpy.random.Generator"),
        (lambda: data.class_waves(2, 5, 0, omegas=()), "omegas must be a tuple"),
        (lambda: data.class_waves(2, 5, 0, omegas=(0.5, -1.0)), "omegas must be a tuple"),
        (lambda: data.class_waves(2, 5, 0, omegas=(float("nan"),)), "omegas must be a tuple"),
        (lambda: data.class_waves(2, 5, 0, omegas=0.5), "omegas must be a tuple"),
    ],
)
def test_class_waves_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _end_symbol_reference(source, n_symbols):
    """The target written out symbol by symbol from the source's rule, row by row."""
    rows = []
    for row in source.tolist():
        string = [s for s in row if s != -1]  # the real symbols, padding removed
        out = []
        for s in reversed(string):
            if s != 0:
                out.append(s)
        rows.append(out + [n_symbols] + [-1] * (len(row) - len(out)))
    return np.array(rows, dtype=np.int64)


def test_end_symbol_task_follows_its_rule():
    source, target = data.end_symbol_task(400, 6, 4, 3)
    assert source.shape == (400, 6) and target.shape == (400, 7)
    assert source.dtype == np.int64 and target.dtype == np.int64
    # left padding only: once a row's real symbols start they go on to the last column
    real = source >= 0
    assert real[:, -1].all() and np.all(np.diff(real.astype(int), axis=1) >= 0)
    lengths = real.sum(axis=1)
    assert set(np.unique(lengths)) == set(range(1, 7))  # every length 1..6 occurs
    assert source[real].min() == 0 and source[real].max() == 3
    assert np.array_equal(target, _end_symbol_reference(source, 4))
    # exactly one end symbol per target, and the target lengths differ from the sources'
    assert np.all((target == 4).sum(axis=1) == 1)
    assert np.any((target >= 0).sum(axis=1) - 1 != lengths)
    s2, t2 = data.end_symbol_task(400, 6, 4, np.random.default_rng(3))
    assert np.array_equal(source, s2) and np.array_equal(target, t2)


def test_end_symbol_reference_catches_a_planted_error():
    source, target = data.end_symbol_task(50, 5, 3, 8)
    planted = target.copy()
    row = int(np.flatnonzero((target[:, 0] >= 0) & (target[:, 0] != 3))[0])
    planted[row, 0] = 3 - planted[row, 0]  # another real symbol (1 <-> 2)
    assert not np.array_equal(planted, _end_symbol_reference(source, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be an int >= 1, got 0"),
        ({"max_length": 2.0}, "max_length must be an int >= 1"),
        ({"n_symbols": 1}, "n_symbols must be an int >= 2, got 1"),
        ({"rng": "seed"}, "rng must be a numpy.random.Generator or an int seed"),
    ],
)
def test_end_symbol_task_bad_input(kwargs, message):
    args = {"n": 3, "max_length": 4, "n_symbols": 3, "rng": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        data.end_symbol_task(**args)


def test_held_out_depends_on_the_string_alone():
    import itertools

    space = np.array(list(itertools.product(range(4), repeat=5)))  # all 1024 strings
    mask = data.held_out(space)
    assert mask.dtype == bool and mask.shape == (1024,)
    assert 0.15 < mask.mean() < 0.25  # about the fraction asked for
    # the same string gets the same answer wherever and however often it is drawn
    order = np.random.default_rng(0).permutation(1024)
    assert np.array_equal(data.held_out(space[order]), mask[order])
    drawn = np.random.default_rng(1).integers(0, 4, size=(3000, 5))
    index = drawn @ 4 ** np.arange(4, -1, -1)  # row of `space` that each drawn string is
    assert np.array_equal(data.held_out(drawn), mask[index])
    # a larger fraction holds out a superset; padding values are part of the string
    assert np.all(data.held_out(space, 0.5)[mask])
    assert not np.array_equal(data.held_out(space[:, :4]), data.held_out(space[:, 1:]))


def test_held_out_train_and_test_share_no_string():
    source, _ = data.end_symbol_task(5000, 6, 4, 2)
    mask = data.held_out(source)
    train = {tuple(r) for r in source[~mask]}
    test = {tuple(r) for r in source[mask]}
    assert train and test and not train & test
    # planted error: a split by position in the batch, not by content, shares strings
    by_position = np.arange(len(source)) % 5 == 0
    assert {tuple(r) for r in source[~by_position]} & {tuple(r) for r in source[by_position]}


@pytest.mark.parametrize(
    ("strings", "fraction", "message"),
    [
        (np.zeros(4, dtype=int), 0.2, r"strings must be an int array \(B, T\), got int64 \(4,\)"),
        (np.zeros((2, 3)), 0.2, "strings must be an int array"),
        (np.zeros((2, 3), dtype=int), 0.0, r"fraction must be a number in \(0, 1\), got 0.0"),
        (np.zeros((2, 3), dtype=int), 1, "fraction must be a number in"),
        (np.zeros((2, 3), dtype=int), True, "fraction must be a number in"),
    ],
)
def test_held_out_bad_input(strings, fraction, message):
    with pytest.raises(ValueError, match=message):
        data.held_out(strings, fraction)
