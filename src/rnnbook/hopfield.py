"""The Hopfield network (Hopfield, 1982): a recurrent associative memory.

N binary units s_i in {-1, +1}, symmetric weights W with zero diagonal.

    Hebbian storage of P patterns p^(mu), (eq-ch1-hopfield-store):
        W = (1/N) sum_mu p^(mu) p^(mu)^T,  W_ii = 0
    energy, (eq-ch1-hopfield-energy):
        E(s) = -1/2 s^T W s
    update of unit i, (eq-ch1-hopfield-update):
        s_i <- sign(sum_j W_ij s_j)

The labels are those of the equations in chapter 1.

With sign(0) taken as "keep s_i", an asynchronous update (one unit at a time)
never increases E, so asynchronous recall stops at a fixed point. Synchronous
updates (all units at once) may instead end in a cycle of period two
(:func:`sync_orbit` finds the period). Besides the stored patterns, their
negatives and mixtures of an odd number of them (:func:`mixture`) can be
fixed points too: spurious states (:func:`classify`).

States are float arrays of +-1 (float64 or float32), shape (N,).

A local field |h_i| <= TIE counts as zero. With Hebbian weights h_i is a
multiple of 1/N, and a field that is exactly zero in exact arithmetic may come
out as +-1e-17 in floating point, with a sign that depends on summation order
(the machine, the number of threads); the tolerance makes recall repeatable.
"""

import numpy as np

from rnnbook.data import random_patterns

#: Fields this small are treated as exactly zero (the unit keeps its value).
TIE = 1e-9


def _check_pm1(s, name, ndim):
    if not isinstance(s, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(s).__name__}")
    if s.dtype not in (np.float64, np.float32):
        raise ValueError(f"{name} must be float64 or float32 with values +-1, got dtype {s.dtype}")
    if s.ndim != ndim:
        want = "(N,)" if ndim == 1 else "(P, N)"
        raise ValueError(f"{name} must have shape {want}, got shape {s.shape}")
    if s.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or inf")
    if not np.all(np.abs(s) == 1):
        bad = np.unique(s[np.abs(s) != 1])[:5]
        raise ValueError(f"{name} must contain only -1 and +1, got also {bad.tolist()}")


def _check_weights(W, N=None):
    if not isinstance(W, np.ndarray):
        raise ValueError(f"W must be a numpy array, got {type(W).__name__}")
    if W.dtype not in (np.float64, np.float32):
        raise ValueError(f"W must be float64 or float32, got dtype {W.dtype}")
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"W must be a square matrix (N, N), got shape {W.shape}")
    if N is not None and W.shape[0] != N:
        raise ValueError(f"W must have shape ({N}, {N}) to match the state, got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W contains NaN or inf")
    if not np.array_equal(W, W.T):
        raise ValueError("W must be symmetric (W == W.T)")
    if np.any(np.diag(W) != 0):
        raise ValueError("W must have a zero diagonal")


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def store(patterns):
    """Hebbian weights for a set of patterns, eq. (eq-ch1-hopfield-store).

    Args:
        patterns: (P, N) array of +-1, one pattern per row.

    Returns:
        W: (N, N) symmetric, zero diagonal, same dtype as ``patterns``.
    """
    _check_pm1(patterns, "patterns", ndim=2)
    P, N = patterns.shape
    # (eq-ch1-hopfield-store)  W = (1/N) sum_mu p p^T
    W = patterns.T @ patterns / N  # (N, N)
    np.fill_diagonal(W, 0.0)
    # exact symmetry, whatever order the matrix product summed in
    return (W + W.T) / 2


def energy(s, W):
    """Energy of a state, eq. (eq-ch1-hopfield-energy).

    Args:
        s: (N,) state of +-1.
        W: (N, N) weights from :func:`store`.

    Returns:
        E as a Python float.
    """
    _check_pm1(s, "s", ndim=1)
    _check_weights(W, s.shape[0])
    # (eq-ch1-hopfield-energy)  E = -1/2 s^T W s
    return float(-0.5 * s @ W @ s)


def _sign_keep(h, s):
    # (eq-ch1-hopfield-update)  sign(h), keeping the old value where h == 0
    return np.where(h > TIE, 1.0, np.where(h < -TIE, -1.0, s)).astype(s.dtype)


def async_sweep(s, W, rng):
    """One asynchronous sweep: every unit updated once, in a random order.

    Args:
        s: (N,) state of +-1 (not modified).
        W: (N, N) weights.
        rng: numpy Generator choosing the order.

    Returns:
        (N,) the new state.
    """
    _check_pm1(s, "s", ndim=1)
    _check_weights(W, s.shape[0])
    _check_rng(rng)
    s = s.copy()
    for i in rng.permutation(s.shape[0]):
        # (eq-ch1-hopfield-update) for unit i alone: h_i = sum_j W_ij s_j
        h_i = W[i] @ s
        if abs(h_i) > TIE:
            s[i] = 1.0 if h_i > 0 else -1.0
    return s


def energy_trace(s, W, rng, sweeps=1):
    """Asynchronous updates, recording the energy after every single-unit update.

    Args:
        s: (N,) initial state of +-1 (not modified).
        W: (N, N) weights.
        rng: numpy Generator choosing the order of each sweep.
        sweeps: number of sweeps (each visits every unit once).

    Returns:
        (state, energies): the final (N,) state and an array of
        ``sweeps * N + 1`` energies, the first one before any update.
    """
    _check_pm1(s, "s", ndim=1)
    _check_weights(W, s.shape[0])
    _check_rng(rng)
    if isinstance(sweeps, bool) or not isinstance(sweeps, int) or sweeps < 1:
        raise ValueError(f"sweeps must be a positive int, got {sweeps!r}")
    s = s.copy()
    # (eq-ch1-hopfield-energy), recomputed from the state after every update: not from the
    # formula dE = 2 s_i h_i, so that a rise would show if the update rule or W were wrong
    energies = [energy(s, W)]
    for _ in range(sweeps):
        for i in rng.permutation(s.shape[0]):
            # (eq-ch1-hopfield-update) for unit i alone, keeping s_i on a zero field
            h_i = W[i] @ s
            if abs(h_i) > TIE:
                s[i] = 1.0 if h_i > 0 else -1.0
            energies.append(energy(s, W))
    return s, np.array(energies)


def sync_step(s, W):
    """One synchronous step: every unit updated at once from the old state.

    Args:
        s: (N,) state of +-1.
        W: (N, N) weights.

    Returns:
        (N,) the new state.
    """
    _check_pm1(s, "s", ndim=1)
    _check_weights(W, s.shape[0])
    # (eq-ch1-hopfield-update) for all units: h = W s
    h = W @ s  # (N,)
    return _sign_keep(h, s)


def recall(s, W, *, mode="async", rng=None, max_sweeps=100):
    """Update from ``s`` until a fixed point (or ``max_sweeps``).

    Args:
        s: (N,) initial state of +-1 (a cue, e.g. a corrupted pattern).
        W: (N, N) weights from :func:`store`.
        mode: "async" (random-order sweeps; needs ``rng``) or "sync".
        rng: numpy Generator, required for mode="async".
        max_sweeps: at most this many sweeps (async) or steps (sync).

    Returns:
        (state, energies, converged): the final (N,) state, the list of
        energies before the first sweep and after each sweep, and whether a
        fixed point was reached (False for a sync two-cycle or when
        ``max_sweeps`` ran out).
    """
    _check_pm1(s, "s", ndim=1)
    _check_weights(W, s.shape[0])
    if mode not in ("async", "sync"):
        raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
    if mode == "async":
        _check_rng(rng)
    if isinstance(max_sweeps, bool) or not isinstance(max_sweeps, int) or max_sweeps < 1:
        raise ValueError(f"max_sweeps must be a positive int, got {max_sweeps!r}")
    energies = [energy(s, W)]
    for _ in range(max_sweeps):
        new = async_sweep(s, W, rng) if mode == "async" else sync_step(s, W)
        energies.append(energy(new, W))
        if np.array_equal(new, s):
            return new, energies, True
        s = new
    return s, energies, False


def overlap(s, p):
    """Overlap m = (1/N) s . p in [-1, 1]; 1 means s equals p.

    Args:
        s: (N,) state of +-1.
        p: (N,) pattern of +-1.
    """
    _check_pm1(s, "s", ndim=1)
    _check_pm1(p, "p", ndim=1)
    if s.shape != p.shape:
        raise ValueError(f"s and p must have the same shape, got {s.shape} and {p.shape}")
    return float(s @ p / s.shape[0])


def corrupt(p, n_flips, rng):
    """A copy of ``p`` with ``n_flips`` distinct units, chosen at random, flipped.

    Args:
        p: (N,) pattern of +-1.
        n_flips: int in [0, N].
        rng: numpy Generator.
    """
    _check_pm1(p, "p", ndim=1)
    _check_rng(rng)
    N = p.shape[0]
    if isinstance(n_flips, bool) or not isinstance(n_flips, (int, np.integer)):
        raise ValueError(f"n_flips must be an int, got {type(n_flips).__name__}")
    if not 0 <= n_flips <= N:
        raise ValueError(f"n_flips must be in [0, {N}], got {n_flips}")
    q = p.copy()
    idx = rng.choice(N, size=int(n_flips), replace=False)
    q[idx] = -q[idx]
    return q


def is_fixed_point(s, W):
    """True when no unit would change under (eq-ch1-hopfield-update)."""
    return bool(np.array_equal(sync_step(s, W), s))


def sync_orbit(s, W, max_steps=100):
    """Synchronous steps from ``s`` until a state repeats.

    With symmetric weights the synchronous dynamics ends in a fixed point
    (period 1) or a cycle of period 2; this function finds the period by
    looking for the first repeated state, so it reports a longer cycle if one
    occurs.

    Args:
        s: (N,) initial state of +-1.
        W: (N, N) weights.
        max_steps: at most this many synchronous steps.

    Returns:
        (states, period): the list of states visited, ``states[0]`` being ``s``
        and the last one the first repetition, and the period of the cycle
        reached (1 for a fixed point), or None when ``max_steps`` ran out first.
    """
    _check_pm1(s, "s", ndim=1)
    _check_weights(W, s.shape[0])
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    states = [s.copy()]
    for _ in range(max_steps):
        new = sync_step(states[-1], W)
        for back, old in enumerate(reversed(states), start=1):
            if np.array_equal(new, old):
                states.append(new)
                return states, back
        states.append(new)
    return states, None


def mixture(patterns):
    """The mixture state sign(p^(1) + ... + p^(k)) of an odd number k of patterns.

    Args:
        patterns: (k, N) array of +-1 with k odd (so no unit sums to zero).

    Returns:
        (N,) state of +-1.
    """
    _check_pm1(patterns, "patterns", ndim=2)
    if patterns.shape[0] % 2 == 0:
        raise ValueError(f"mixture needs an odd number of patterns, got {patterns.shape[0]}")
    return np.sign(patterns.sum(axis=0)).astype(patterns.dtype)


def classify(s, patterns):
    """Which stored pattern a state is, if any.

    Args:
        s: (N,) state of +-1.
        patterns: (P, N) the stored patterns.

    Returns:
        "stored" when ``s`` equals a stored pattern, "reversed" when it equals
        the negative of one (which has the same energy), otherwise "spurious".
    """
    _check_pm1(s, "s", ndim=1)
    _check_pm1(patterns, "patterns", ndim=2)
    if patterns.shape[1] != s.shape[0]:
        raise ValueError(
            f"patterns must have {s.shape[0]} columns to match s, got shape {patterns.shape}"
        )
    m = patterns @ s / s.shape[0]  # (P,) overlaps
    if np.any(m == 1):
        return "stored"
    if np.any(m == -1):
        return "reversed"
    return "spurious"


def recall_overlaps(N, loads, rng, *, networks=3, probes=4, max_sweeps=30):
    """Start asynchronous recall from stored patterns and measure where it ends.

    For each load alpha, ``networks`` independent networks of N units each store
    round(alpha N) random patterns; recall starts from ``probes`` of them.

    Args:
        N: number of units.
        loads: sequence of loads P/N (each giving at least one pattern).
        rng: numpy Generator for the patterns and the update orders.
        networks: independent networks per load.
        probes: stored patterns recalled per network (at most P).
        max_sweeps: sweeps allowed per recall.

    Returns:
        (len(loads), networks) array: the mean overlap, over the probes, of the
        recalled state with the pattern recall started from.
    """
    _check_rng(rng)
    for name, value in (("N", N), ("networks", networks), ("probes", probes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    loads = np.asarray(loads, dtype=float)
    if loads.ndim != 1 or loads.size == 0 or not np.all(np.isfinite(loads)):
        raise ValueError(f"loads must be a non-empty 1-D sequence of numbers, got {loads!r}")
    out = np.empty((loads.size, networks))
    for a, alpha in enumerate(loads):
        P = int(round(alpha * N))
        if P < 1:
            raise ValueError(f"load {alpha} gives no pattern for N = {N}")
        for n in range(networks):
            stored = random_patterns(P, N, rng)  # (P, N)
            W = store(stored)
            m = []
            for p in stored[: min(probes, P)]:
                state, _, _ = recall(p, W, rng=rng, max_sweeps=max_sweeps)
                m.append(overlap(state, p))
            out[a, n] = np.mean(m)
    return out
