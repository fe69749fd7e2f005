"""The Hopfield network: storage, energy descent, recall, capacity, input checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import hopfield as hp
from rnnbook.data import letter_bitmaps, random_patterns


def test_store_is_hebbian_symmetric_zero_diagonal():
    P = random_patterns(3, 12, np.random.default_rng(0))
    W = hp.store(P)
    expected = sum(np.outer(p, p) for p in P) / 12
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(W, expected, atol=1e-15)
    assert np.array_equal(W, W.T)
    assert np.all(np.diag(W) == 0)


def test_energy_formula():
    rng = np.random.default_rng(1)
    P = random_patterns(2, 6, rng)
    W = hp.store(P)
    s = random_patterns(1, 6, rng)[0]
    E = -0.5 * sum(W[i, j] * s[i] * s[j] for i in range(6) for j in range(6))
    assert hp.energy(s, W) == pytest.approx(E, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    N=st.integers(4, 40),
    P=st.integers(1, 12),
)
def test_energy_never_increases_under_async_updates(seed, N, P):
    rng = np.random.default_rng(seed)
    W = hp.store(random_patterns(P, N, rng))
    s = random_patterns(1, N, rng)[0]
    E = hp.energy(s, W)
    # unit by unit, not only sweep by sweep
    for i in rng.permutation(N):
        h = W[i] @ s
        if h != 0:
            s[i] = np.sign(h)
        E_new = hp.energy(s, W)
        assert E_new <= E + 1e-12
        E = E_new
    state, energies, converged = hp.recall(s, W, rng=rng)
    assert converged
    assert all(b <= a + 1e-12 for a, b in zip(energies, energies[1:], strict=False))
    assert hp.is_fixed_point(state, W)


def test_stored_patterns_are_fixed_points_at_small_load():
    rng = np.random.default_rng(2)
    P = random_patterns(5, 200, rng)  # load 0.025
    W = hp.store(P)
    assert all(hp.is_fixed_point(p, W) for p in P)
    assert all(np.array_equal(hp.sync_step(p, W), p) for p in P)


def test_corrupted_pattern_is_recovered():
    rng = np.random.default_rng(3)
    P = random_patterns(5, 200, rng)
    W = hp.store(P)
    for p in P:
        cue = hp.corrupt(p, 30, rng)  # 15 % of the units flipped
        assert hp.overlap(cue, p) == pytest.approx(1 - 2 * 30 / 200)
        for mode in ("async", "sync"):
            state, _, converged = hp.recall(cue, W, mode=mode, rng=rng)
            assert converged
            assert np.array_equal(state, p)


def test_letters_recalled():
    rng = np.random.default_rng(4)
    letters = letter_bitmaps("JOTX").reshape(4, -1)
    W = hp.store(letters)
    for p in letters:
        state, _, _ = hp.recall(hp.corrupt(p, 4, rng), W, rng=rng)
        assert np.array_equal(state, p)


def _mean_recall_overlap(N, P, rng, n_probe=4):
    patterns = random_patterns(P, N, rng)
    W = hp.store(patterns)
    m = []
    for p in patterns[:n_probe]:
        state, _, _ = hp.recall(p, W, rng=rng, max_sweeps=30)
        m.append(hp.overlap(state, p))
    return float(np.mean(m))


def test_capacity_transition_near_0138():
    # Starting from a stored pattern, recall stays close to it below the
    # critical load alpha_c ~ 0.138 and drifts far from it above.
    rng = np.random.default_rng(5)
    N = 300
    below = np.mean([_mean_recall_overlap(N, int(0.05 * N), rng) for _ in range(3)])
    above = np.mean([_mean_recall_overlap(N, int(0.30 * N), rng) for _ in range(3)])
    assert below > 0.97
    assert above < 0.75


def test_sync_can_cycle_where_async_cannot():
    # two units coupled negatively, both +1: a synchronous step flips both (a 2-cycle)
    W = np.array([[0.0, -1.0], [-1.0, 0.0]])
    s = np.array([1.0, 1.0])
    state, energies, converged = hp.recall(s, W, mode="sync", max_sweeps=10)
    assert not converged
    state, energies, converged = hp.recall(s, W, mode="async", rng=np.random.default_rng(0))
    assert converged and state[0] == -state[1]


def test_float32_accepted():
    P = random_patterns(2, 20, np.random.default_rng(6)).astype(np.float32)
    W = hp.store(P)
    assert W.dtype == np.float32
    assert hp.is_fixed_point(P[0], W)


W_OK = hp.store(np.array([[1.0, -1.0, 1.0, 1.0]]))


@pytest.mark.parametrize(
    "patterns",
    [
        np.array([[1.0, 0.0, 1.0]]),
        np.array([[1.0, -1.0, 2.0]]),
        np.array([[1.0, np.nan, 1.0]]),
        np.array([[1, -1, 1]]),
        np.array([1.0, -1.0]),
        np.ones((0, 3)),
        [[1.0, -1.0]],
        np.array([[True, False]]),
    ],
)
def test_store_bad_input(patterns):
    with pytest.raises(ValueError):
        hp.store(patterns)


@pytest.mark.parametrize(
    ("s", "W"),
    [
        (np.array([1.0, -1.0, 1.0]), W_OK),  # wrong N
        (np.array([1.0, -1.0, 1.0, 0.5]), W_OK),  # not +-1
        (np.array([1.0, -1.0, 1.0, np.inf]), W_OK),
        (np.ones((1, 4)), W_OK),  # wrong rank
        (np.ones(4), W_OK + np.eye(4)),  # non-zero diagonal
        (np.ones(4), np.triu(np.ones((4, 4)), 1)),  # not symmetric
        (np.ones(4), np.full((4, 4), np.nan)),
        (np.ones(4), np.zeros((4, 3))),
        (np.ones(4), np.zeros((4, 4), dtype=int)),
    ],
)
def test_energy_and_updates_bad_input(s, W):
    rng = np.random.default_rng(0)
    for call in (
        lambda: hp.energy(s, W),
        lambda: hp.sync_step(s, W),
        lambda: hp.async_sweep(s, W, rng),
        lambda: hp.recall(s, W, rng=rng),
    ):
        with pytest.raises(ValueError):
            call()


def test_other_bad_arguments():
    s = np.ones(4)
    with pytest.raises(ValueError, match="mode"):
        hp.recall(s, W_OK, mode="parallel")
    with pytest.raises(ValueError, match="rng"):
        hp.recall(s, W_OK)  # async needs a generator
    with pytest.raises(ValueError, match="max_sweeps"):
        hp.recall(s, W_OK, mode="sync", max_sweeps=0)
    with pytest.raises(ValueError, match="n_flips"):
        hp.corrupt(s, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="same shape"):
        hp.overlap(s, np.ones(3))


def test_energy_trace_matches_direct_energy_and_decreases():
    rng = np.random.default_rng(7)
    W = hp.store(random_patterns(4, 30, rng))
    s0 = random_patterns(1, 30, rng)[0]
    state, trace = hp.energy_trace(s0, W, np.random.default_rng(1), sweeps=2)
    assert trace.shape == (61,)
    assert np.all(np.diff(trace) <= 1e-12)
    assert trace[-1] == pytest.approx(hp.energy(state, W), abs=1e-10)
    # same order of updates as async_sweep with the same generator
    s1 = hp.async_sweep(hp.async_sweep(s0, W, g := np.random.default_rng(1)), W, g)
    np.testing.assert_array_equal(state, s1)
    with pytest.raises(ValueError, match="sweeps"):
        hp.energy_trace(s0, W, rng, sweeps=0)


def test_rounding_level_field_counts_as_a_tie():
    # h_0 = (0.1 + 0.2) - 0.3 is zero in exact arithmetic, 5.6e-17 in floating point
    a, b = 0.1 + 0.2, -0.3
    W = np.array([[0.0, a, b], [a, 0.0, 0.0], [b, 0.0, 0.0]])
    s = np.array([-1.0, 1.0, 1.0])
    assert W[0] @ s != 0
    assert hp.sync_step(s, W)[0] == -1.0
    assert hp.async_sweep(s, W, np.random.default_rng(0))[0] == -1.0


def test_sync_orbit_finds_the_two_cycle_and_fixed_points():
    W = np.array([[0.0, -1.0], [-1.0, 0.0]])
    states, period = hp.sync_orbit(np.array([1.0, 1.0]), W)
    assert period == 2
    np.testing.assert_array_equal(states[1], [-1.0, -1.0])
    np.testing.assert_array_equal(states[-1], states[-3])
    # the same state is not a fixed point: is_fixed_point and sync_orbit agree
    assert not hp.is_fixed_point(np.array([1.0, 1.0]), W)
    states, period = hp.sync_orbit(np.array([1.0, -1.0]), W)
    assert period == 1 and len(states) == 2
    _, period = hp.sync_orbit(np.array([1.0, 1.0]), W, max_steps=1)
    assert period is None
    with pytest.raises(ValueError, match="max_steps"):
        hp.sync_orbit(np.array([1.0, 1.0]), W, max_steps=0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(4, 60), P=st.integers(1, 15))
def test_sync_orbits_have_period_one_or_two(seed, N, P):
    # symmetric weights: synchronous dynamics ends in a fixed point or a 2-cycle (Bruck 1990)
    rng = np.random.default_rng(seed)
    W = hp.store(random_patterns(P, N, rng))
    states, period = hp.sync_orbit(random_patterns(1, N, rng)[0], W, max_steps=500)
    assert period in (1, 2)
    assert (period == 1) == hp.is_fixed_point(states[-1], W)


def test_sync_orbit_refuses_asymmetric_weights():
    # a cyclic shift (not symmetric) would cycle with period 3; the period-2 guarantee needs
    # symmetric weights, so sync_orbit refuses it
    W = np.roll(np.eye(3), 1, axis=1)
    with pytest.raises(ValueError, match="symmetric"):
        hp.sync_orbit(np.array([1.0, -1.0, -1.0]), W)


def test_mixtures_and_reversed_patterns_are_spurious_fixed_points():
    rng = np.random.default_rng(8)
    P = random_patterns(3, 500, rng)  # load 0.006
    W = hp.store(P)
    mix = hp.mixture(P)
    assert hp.is_fixed_point(mix, W) and hp.classify(mix, P) == "spurious"
    assert hp.is_fixed_point(-P[0], W) and hp.classify(-P[0], P) == "reversed"
    assert hp.classify(P[1], P) == "stored"
    # the mixture is not one of the patterns: its overlaps are near 1/2
    np.testing.assert_allclose(P @ mix / 500, 0.5, atol=0.1)
    with pytest.raises(ValueError, match="odd"):
        hp.mixture(P[:2])
    with pytest.raises(ValueError, match="columns"):
        hp.classify(mix[:10], P)


def test_recall_overlaps_shape_and_transition():
    out = hp.recall_overlaps(200, [0.05, 0.3], np.random.default_rng(9), networks=2, probes=3)
    assert out.shape == (2, 2)
    assert np.all(out[0] == 1) and np.all(out[1] < 0.8)
    with pytest.raises(ValueError, match="no pattern"):
        hp.recall_overlaps(10, [0.01], np.random.default_rng(0))
    with pytest.raises(ValueError, match="networks"):
        hp.recall_overlaps(10, [0.5], np.random.default_rng(0), networks=0)
