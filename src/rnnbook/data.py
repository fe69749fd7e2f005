"""Datasets of the book: small synthetic tasks, made on the reader's machine.

Every random dataset takes a ``numpy.random.Generator`` (or an int seed), so a
chapter that passes the generator from ``rnnbook.seed_everything`` repeats
exactly. Nothing is downloaded.
"""

import numpy as np


def _rng(rng):
    """Accept a Generator or an int seed; anything else is an error."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if not 0 <= rng < 2**32:
            raise ValueError(f"seed must be in [0, 2**32), got {rng}")
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}"
    )


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def narx_plant(x):
    """Run the nonlinear plant of :func:`narx_system` on a given input.

        y_t = y_{t-1} y_{t-2} (y_{t-1} + 2.5) / (1 + y_{t-1}^2 + y_{t-2}^2) + x_{t-1}   (plant)

    with y_0 = y_1 = 0. The next output depends on two past outputs and one
    past input: a NARX system in the sense of the textbook's eq. (6.1), with
    input order p = 1 and output order q = 2. It follows the second example of
    Narendra and Parthasarathy (1990).

    Args:
        x: (T, 1) input series, float64 or float32, finite.

    Returns:
        (T, 1) output series, same dtype.
    """
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != 1 or x.shape[0] < 2:
        got = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"x must be an array of shape (T, 1) with T >= 2, got {got}")
    if x.dtype not in (np.float64, np.float32):
        raise ValueError(f"x must be float64 or float32, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf")
    T = x.shape[0]
    u = x[:, 0].astype(np.float64)
    y = np.zeros(T)
    for t in range(2, T):
        # (plant)
        y[t] = (
            y[t - 1] * y[t - 2] * (y[t - 1] + 2.5) / (1 + y[t - 1] ** 2 + y[t - 2] ** 2) + u[t - 1]
        )
    return y[:, None].astype(x.dtype)


def narx_system(n, rng, *, noise=0.0):
    """Input and output of the nonlinear plant (see :func:`narx_plant`), random input.

    The input is uniform on [-2, 2], independent at each step. With
    ``noise > 0`` Gaussian measurement noise of that standard deviation is
    added to the returned output (the plant itself runs noise-free).

    Args:
        n: number of time steps (>= 3).
        rng: numpy Generator or int seed.
        noise: standard deviation of the measurement noise, >= 0.

    Returns:
        (x, y): two float64 arrays of shape (n, 1).
    """
    n = _check_int(n, "n", 3)
    rng = _rng(rng)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    y = narx_plant(x)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=y.shape)
    return x, y


def sine_input(n, periods=(25.0, 10.0), amplitudes=(1.0, 0.5)):
    """A deterministic test input: a sum of sines, shape (n, 1).

        x_t = sum_k a_k sin(2 pi t / P_k)

    Used to test a model identified on random input on a different, smooth one.
    """
    n = _check_int(n, "n", 1)
    periods = np.asarray(periods, dtype=float)
    amplitudes = np.asarray(amplitudes, dtype=float)
    if periods.ndim != 1 or periods.shape != amplitudes.shape or periods.size == 0:
        raise ValueError(
            f"periods and amplitudes must be 1-D of equal length, got "
            f"{periods.shape} and {amplitudes.shape}"
        )
    if (
        not np.all(np.isfinite(periods))
        or np.any(periods <= 0)
        or not np.all(np.isfinite(amplitudes))
    ):
        raise ValueError("periods must be finite and > 0, amplitudes finite")
    t = np.arange(n)[:, None]  # (n, 1)
    return (amplitudes * np.sin(2 * np.pi * t / periods)).sum(axis=1, keepdims=True)


def random_patterns(P, N, rng):
    """P independent random patterns of N units, each unit +-1 with probability 1/2.

    Returns:
        (P, N) float64 array of +-1.
    """
    P = _check_int(P, "P", 1)
    N = _check_int(N, "N", 1)
    rng = _rng(rng)
    return np.where(rng.random((P, N)) < 0.5, -1.0, 1.0)


# 7 x 5 bitmaps drawn by hand; "#" is +1 (ink), "." is -1.
_LETTERS = {
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "C": (".####", "#....", "#....", "#....", "#....", "#....", ".####"),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
}

#: The letters :func:`letter_bitmaps` can draw.
LETTERS = "".join(sorted(_LETTERS))


def letter_bitmaps(letters):
    """Bitmaps of capital letters, 7 rows by 5 columns, +1 for ink and -1 for paper.

    A fixed, hand-drawn set (no randomness). Available: :data:`LETTERS`.

    Args:
        letters: a string such as "HOPE".

    Returns:
        (len(letters), 7, 5) float64 array of +-1.
    """
    if not isinstance(letters, str) or not letters:
        raise ValueError(f"letters must be a non-empty string, got {letters!r}")
    unknown = sorted(set(letters) - set(_LETTERS))
    if unknown:
        raise ValueError(f"letters must be among {LETTERS!r}, got also {unknown}")
    return np.array(
        [[[1.0 if ch == "#" else -1.0 for ch in row] for row in _LETTERS[c]] for c in letters]
    )
