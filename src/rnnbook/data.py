"""Datasets of the book: small synthetic tasks, made on the reader's machine.

Every random dataset takes a ``numpy.random.Generator`` (or an int seed), so a
chapter that passes the generator from ``rnnbook.seed_everything`` repeats
exactly. Nothing is downloaded.
"""

import numpy as np

from rnnbook._checks import check_int, check_option


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

    Raises:
        ValueError: for anything but a finite float array (T, 1) with T >= 2.
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

    Raises:
        ValueError: for n not an int >= 3, a bad rng or seed, or a negative noise.
    """
    n = check_int("n", n, minimum=3)
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

    Args:
        n: number of time steps (>= 1).
        periods: the periods P_k > 0, in steps.
        amplitudes: the amplitudes a_k, as many as periods.

    Returns:
        float64 array (n, 1).

    Raises:
        ValueError: for n not an int >= 1, periods and amplitudes of different lengths
            or empty, a period <= 0, or values that are not finite.
    """
    n = check_int("n", n)
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

    Args:
        P: number of patterns (>= 1).  N: number of units (>= 1).
        rng: numpy Generator or int seed.

    Returns:
        (P, N) float64 array of +-1.
    """
    P = check_int("P", P)
    N = check_int("N", N)
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

    Raises:
        ValueError: for an empty string, or a letter not in :data:`LETTERS`.
    """
    if not isinstance(letters, str) or not letters:
        raise ValueError(f"letters must be a non-empty string, got {letters!r}")
    unknown = sorted(set(letters) - set(_LETTERS))
    if unknown:
        raise ValueError(f"letters must be among {LETTERS!r}, got also {unknown}")
    return np.array(
        [[[1.0 if ch == "#" else -1.0 for ch in row] for row in _LETTERS[c]] for c in letters]
    )


# ---- chapter 2: tasks for simple recurrent networks ----


def binary_strings(n, length, rng):
    """Random binary strings, each bit 0 or 1 with probability 1/2.

    Args:
        n: number of strings B.  length: T.  rng: Generator or int seed.

    Returns:
        int64 array (n, length).

    Raises:
        ValueError: for n or length not an int >= 1, or a bad rng or seed.
    """
    n = check_int("n", n)
    length = check_int("length", length)
    return _rng(rng).integers(0, 2, size=(n, length), dtype=np.int64)


def _check_bits(bits):
    bits = np.asarray(bits)
    if bits.ndim != 2 or not np.issubdtype(bits.dtype, np.integer):
        raise ValueError(f"bits must be an int array (B, T), got {bits.dtype} {bits.shape}")
    if bits.size and (bits.min() < 0 or bits.max() > 1):
        raise ValueError("bits must be 0 or 1")
    return bits


def running_parity(bits):
    """Parity of the number of ones in every prefix: int64 (B, T), 1 when odd.

    ``bits`` is an int array (B, T) of 0s and 1s; anything else raises ValueError.
    """
    bits = _check_bits(bits)
    return np.cumsum(bits, axis=1) % 2


def running_remainder(bits, k):
    """Value of every prefix, read as a binary number most significant bit first, mod k.

    Computed with Horner's rule r_t = (2 r_{t-1} + bit_t) mod k, r_0 = 0.

    Args:
        bits: int array (B, T) of 0s and 1s.  k: the modulus (>= 1).

    Returns:
        int64 array (B, T).
    """
    bits = _check_bits(bits)
    k = check_int("k", k)
    out = np.empty(bits.shape, dtype=np.int64)
    r = np.zeros(bits.shape[0], dtype=np.int64)
    for t in range(bits.shape[1]):
        r = (2 * r + bits[:, t]) % k
        out[:, t] = r
    return out


def majority_task(n, length, n_classes, rng):
    """Sequence-to-class: tokens drawn with a random favourite; the label is the commonest.

    Each sequence picks a class c uniformly and draws its tokens with probability 0.5 for
    c and the rest spread evenly over the other classes; the label is the most frequent
    token (ties broken towards the smaller token), so it is a function of the tokens alone.

    Args:
        n: number of sequences B.  length: T.  n_classes: number of token values (>= 2).
        rng: Generator or int seed.

    Returns:
        (tokens, labels): int64 arrays (n, length) and (n,).
    """
    n = check_int("n", n)
    length = check_int("length", length)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    g = _rng(rng)
    favourite = g.integers(0, n_classes, size=n)
    other = (favourite[:, None] + g.integers(1, n_classes, size=(n, length))) % n_classes
    tokens = np.where(g.random((n, length)) < 0.5, favourite[:, None], other)
    counts = (tokens[:, :, None] == np.arange(n_classes)).sum(axis=1)  # (n, n_classes)
    return tokens.astype(np.int64), counts.argmax(axis=1).astype(np.int64)


def delayed_echo(n, length, n_symbols, delay, rng):
    """Synchronous labelling: the label at step t is the token at step t - delay.

    Labels of the first ``delay`` steps, which have no such token, are -1 (to be ignored,
    as ``torch.nn.functional.cross_entropy(..., ignore_index=-1)`` does).

    Args:
        n: number of sequences B.  length: T.  n_symbols: number of token values (>= 2).
        delay: the lag (>= 0; at most ``length``).  rng: Generator or int seed.

    Returns:
        (tokens, labels): int64 arrays (n, length).
    """
    n = check_int("n", n)
    length = check_int("length", length)
    n_symbols = check_int("n_symbols", n_symbols, minimum=2)
    delay = check_int("delay", delay, minimum=0)
    if delay > length:
        raise ValueError(f"delay must be at most length = {length}, got {delay}")
    tokens = _rng(rng).integers(0, n_symbols, size=(n, length), dtype=np.int64)
    labels = np.full((n, length), -1, dtype=np.int64)
    labels[:, delay:] = tokens[:, : length - delay]
    return tokens, labels


def reverse_task(n, length, n_symbols, rng):
    """Asynchronous sequence to sequence: the target is the source reversed.

    Args:
        n: number of sequences B.  length: T.  n_symbols: number of token values (>= 2).
        rng: Generator or int seed.

    Returns:
        (source, target): int64 arrays (n, length), target[:, i] = source[:, length-1-i].
    """
    n = check_int("n", n)
    length = check_int("length", length)
    n_symbols = check_int("n_symbols", n_symbols, minimum=2)
    source = _rng(rng).integers(0, n_symbols, size=(n, length), dtype=np.int64)
    return source, source[:, ::-1].copy()


def temporal_xor(n, n_triples, rng):
    """Elman's (1990) temporal XOR: a bit stream made of triples (a, b, a XOR b).

    The first two bits of each triple are random, the third is their exclusive or, so
    a network that predicts the next bit can do better than chance only on every third
    bit (the first of the stream's bits has index 0).

    Args:
        n: number of streams B.  n_triples: triples per stream (length 3 * n_triples).
        rng: Generator or int seed.

    Returns:
        int64 array (n, 3 * n_triples) of 0s and 1s.

    Raises:
        ValueError: for n or n_triples not an int >= 1, or a bad rng or seed.
    """
    n = check_int("n", n)
    n_triples = check_int("n_triples", n_triples)
    ab = _rng(rng).integers(0, 2, size=(n, n_triples, 2), dtype=np.int64)
    triples = np.concatenate([ab, ab[..., :1] ^ ab[..., 1:]], axis=2)  # (n, n_triples, 3)
    return triples.reshape(n, 3 * n_triples)


#: The words of Elman's (1990) sample text ("Many years ago a boy and girl lived by the
#: sea. They played happily."), the lexicon of :func:`word_stream`.
ELMAN_WORDS = (
    "many", "years", "ago", "a", "boy", "and", "girl", "lived", "by", "the", "sea", "they",
    "played", "happily",
)  # fmt: skip


def word_stream(n, length, rng, words=ELMAN_WORDS):
    """Elman's (1990) letter prediction data: words drawn at random, letters run together.

    Each stream is a sequence of words drawn uniformly and independently from ``words``,
    written without spaces and cut to ``length`` letters. Within a word the next letter
    is (nearly) determined; at a word's end the next word, and its first letter, is not.

    Args:
        n: number of streams B.  length: letters per stream T.  rng: Generator or int seed.
        words: the lexicon, a tuple of non-empty lowercase strings.

    Returns:
        (letters, position, alphabet): int64 arrays (n, length), the letters as indices
        into ``alphabet`` (the sorted letters of the lexicon, a str) and each letter's
        position in its word (0 for a word's first letter).

    Raises:
        ValueError: for n or length not an int >= 1, a bad rng or seed, or a bad lexicon.
    """
    n = check_int("n", n)
    length = check_int("length", length)
    if (
        not isinstance(words, (tuple, list))
        or not words
        or not all(isinstance(w, str) and w.isalpha() and w.islower() for w in words)
    ):
        raise ValueError(f"words must be a tuple of lowercase words, got {words!r}"[:200])
    g = _rng(rng)
    alphabet = "".join(sorted(set("".join(words))))
    index = {ch: i for i, ch in enumerate(alphabet)}
    # enough words for `length` letters: each has at least min_len letters
    n_words = length // min(len(w) for w in words) + 1
    letters = np.empty((n, length), dtype=np.int64)
    position = np.empty((n, length), dtype=np.int64)
    for i, choice in enumerate(g.integers(0, len(words), size=(n, n_words))):
        text = "".join(words[k] for k in choice)[:length]
        pos = [p for k in choice for p in range(len(words[k]))][:length]
        letters[i] = [index[ch] for ch in text]
        position[i] = pos
    return letters, position, alphabet


def pendulum_derivative(state, damping=0.3, omega0=2.0):
    """Right-hand side of the damped pendulum, state (..., 2) = (theta, omega):

    d theta / dt = omega,    d omega / dt = -omega0^2 sin(theta) - damping * omega.

    Returns the derivative, float64 of the shape of ``state`` (..., 2). A last axis
    other than 2, a non-float state, or NaN or inf in it raises ValueError.
    """
    state = np.asarray(state)
    if state.ndim < 1 or state.shape[-1] != 2:
        raise ValueError(f"state must have shape (..., 2), got {state.shape}")
    if state.dtype.kind != "f":
        raise ValueError(f"state must be a float array, got dtype {state.dtype.name}")
    if not np.all(np.isfinite(state)):
        raise ValueError("state must hold only finite numbers, got NaN or inf")
    state = state.astype(np.float64, copy=False)
    theta, omega = state[..., 0], state[..., 1]
    return np.stack([omega, -(omega0**2) * np.sin(theta) - damping * omega], axis=-1)


def damped_pendulum(initial, n_steps, dt=0.1, *, damping=0.3, omega0=2.0, substeps=10):
    """Trajectories of the damped pendulum, integrated by fourth-order Runge-Kutta.

    Args:
        initial: starting states (theta, omega), shape (2,) or (B, 2).
        n_steps: number of samples T after the initial state.
        dt: time between samples; each is integrated in ``substeps`` RK4 steps.
        damping, omega0: the coefficients of :func:`pendulum_derivative`.
        substeps: RK4 steps per sample (>= 1).

    Returns:
        float64 array (T + 1, B, 2) (or (T + 1, 2) for a single initial state):
        the states at times 0, dt, ..., T dt.

    Raises:
        ValueError: for a wrong shape, non-float or non-finite initial state, a count not
            an int >= 1, dt <= 0, damping < 0, omega0 <= 0, or a non-finite number.
    """
    initial = np.asarray(initial)
    if initial.ndim not in (1, 2) or initial.shape[-1] != 2:
        raise ValueError(f"initial must have shape (2,) or (B, 2), got {initial.shape}")
    if not np.issubdtype(initial.dtype, np.floating) or not np.all(np.isfinite(initial)):
        raise ValueError("initial must hold finite floats")
    n_steps = check_int("n_steps", n_steps)
    substeps = check_int("substeps", substeps)
    for name, v in (("dt", dt), ("damping", damping), ("omega0", omega0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if dt <= 0 or damping < 0 or omega0 <= 0:
        raise ValueError(f"need dt > 0, damping >= 0, omega0 > 0; got {dt}, {damping}, {omega0}")
    single = initial.ndim == 1
    s = initial.astype(np.float64).reshape(-1, 2)  # (B, 2)
    h = dt / substeps
    out = [s]
    for _ in range(n_steps):
        for _ in range(substeps):
            k1 = pendulum_derivative(s, damping, omega0)
            k2 = pendulum_derivative(s + 0.5 * h * k1, damping, omega0)
            k3 = pendulum_derivative(s + 0.5 * h * k2, damping, omega0)
            k4 = pendulum_derivative(s + h * k3, damping, omega0)
            s = s + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(s)
    traj = np.stack(out)  # (T + 1, B, 2)
    return traj[:, 0] if single else traj


def pendulum_trajectories(n, n_steps, rng, *, dt=0.1, max_angle=2.0, max_speed=2.0, **kw):
    """Damped pendulum trajectories from random initial states.

    The initial angle is uniform in [-max_angle, max_angle] and the angular velocity
    uniform in [-max_speed, max_speed]: a compact set of initial states.

    Args:
        n: number of trajectories B.  n_steps: samples after the initial state.
        rng: Generator or int seed.  dt: time between samples.
        max_angle, max_speed: the ranges of the initial states.
        **kw: damping=, omega0=, substeps= of :func:`damped_pendulum`.

    Returns:
        float64 array (n_steps + 1, n, 2).
    """
    n = check_int("n", n)
    for name, v in (("max_angle", max_angle), ("max_speed", max_speed)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < np.inf:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    g = _rng(rng)
    initial = np.stack(
        [g.uniform(-max_angle, max_angle, n), g.uniform(-max_speed, max_speed, n)], axis=1
    )
    return damped_pendulum(initial, n_steps, dt, **kw)


def class_waves(n, length, rng, *, omegas=(0.4, 0.8, 1.2)):
    """One to many: a vector given once, and the wave it stands for.

    Each example draws a class c (uniformly from ``len(omegas)``) and a phase phi
    (uniformly in [0, 2 pi)). Its vector is the one-hot code of c followed by
    (cos phi, sin phi); its sequence is the wave y_t = sin(omega_c t + phi), t = 1..length.
    The phase is continuous, so a held-out example is a new vector, not a repeat.

    Args:
        n: number of examples B.  length: steps of each wave T.  rng: Generator or int seed.
        omegas: the angular frequency of each class, a tuple of finite numbers > 0
            (at least one).

    Returns:
        (vectors, waves): float64 arrays (n, len(omegas) + 2) and (n, length).

    Raises:
        ValueError: for n or length not an int >= 1, a bad rng or seed, or bad omegas.
    """
    n = check_int("n", n)
    length = check_int("length", length)
    if (
        not isinstance(omegas, (tuple, list))
        or not omegas
        or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and 0 < w < np.inf
            for w in omegas
        )
    ):
        raise ValueError(f"omegas must be a tuple of finite numbers > 0, got {omegas!r}"[:200])
    g = _rng(rng)
    c = g.integers(0, len(omegas), size=n)  # (n,)
    phi = g.uniform(0.0, 2 * np.pi, size=n)  # (n,)
    t = np.arange(1, length + 1)  # (T,)
    vectors = np.concatenate(
        [np.eye(len(omegas))[c], np.cos(phi)[:, None], np.sin(phi)[:, None]], 1
    )
    waves = np.sin(np.asarray(omegas, dtype=np.float64)[c][:, None] * t + phi[:, None])
    return vectors, waves


# ---- long-lag benchmarks (chapter 5) ------------------------------------------------


def adding_problem(n, length, rng):
    """The adding problem (Hochreiter & Schmidhuber 1997), in the form of Le et al. (2015).

    Each sequence has two input channels: a value drawn uniformly from [0, 1) at every
    step, and a marker that is 1 at exactly two steps, one drawn uniformly from the first
    half of the sequence (steps 0 .. length // 2 - 1) and one from the second half, and 0
    elsewhere. The target, read after the last step, is the sum of the two marked values.
    Predicting the constant 1 (the target's mean) has mean squared error 1/6, the variance
    of a sum of two independent U(0, 1): that is the score to beat.

    Args:
        n: number of sequences B.  length: T (>= 2; the lag between the first marker and
            the answer is between length // 2 + 1 and length).  rng: Generator or int seed.

    Returns:
        (inputs, targets): float64 arrays (n, length, 2) and (n,).

    Raises:
        ValueError: for n not an int >= 1, length not an int >= 2, or a bad rng or seed.
    """
    n = check_int("n", n)
    length = check_int("length", length, minimum=2)
    g = _rng(rng)
    values = g.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first = g.integers(0, half, size=n)
    second = g.integers(half, length, size=n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=2), targets


def copy_task(n, n_copy, lag, n_symbols, rng):
    """The copy (memory) task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016).

    A sequence shows ``n_copy`` symbols, then ``lag`` blanks, then a cue; after the cue
    the network must write the symbols back in order, one a step, while the input shows
    blanks. Tokens: 0 is the blank, 1 .. n_symbols the symbols, n_symbols + 1 the cue.
    The sequence has n_copy + lag + 1 + n_copy steps: the symbols, the blanks, the cue,
    and n_copy answer steps after the cue.

    Labels are -1 (ignored, as ``cross_entropy(..., ignore_index=-1)`` does) except on
    the last ``n_copy`` steps, which hold the symbols shown at the start, as symbol
    indices 0 .. n_symbols - 1 (token minus 1). Guessing gives accuracy 1 / n_symbols.
    The lag between a symbol's showing and its recall is lag + n_copy + 1 steps.

    Args:
        n: number of sequences B.  n_copy: symbols to remember (>= 1).  lag: blanks between
            the symbols and the cue (>= 0).  n_symbols: symbol values (>= 2).
        rng: Generator or int seed.

    Returns:
        (tokens, labels): int64 arrays (n, 2 * n_copy + lag + 1).

    Raises:
        ValueError: for a count that is not an int of the allowed range, or a bad rng.
    """
    n = check_int("n", n)
    n_copy = check_int("n_copy", n_copy)
    lag = check_int("lag", lag, minimum=0)
    n_symbols = check_int("n_symbols", n_symbols, minimum=2)
    symbols = _rng(rng).integers(1, n_symbols + 1, size=(n, n_copy), dtype=np.int64)
    length = 2 * n_copy + lag + 1
    tokens = np.zeros((n, length), dtype=np.int64)
    tokens[:, :n_copy] = symbols
    tokens[:, n_copy + lag] = n_symbols + 1  # the cue
    labels = np.full((n, length), -1, dtype=np.int64)
    labels[:, length - n_copy :] = symbols - 1
    return tokens, labels


# ---- lengths that differ, and an end symbol (chapter 2) --------------------------------


def end_symbol_task(n, max_length, n_symbols, rng):
    """Asynchronous sequence to sequence with an end symbol: reverse, dropping every 0.

    Each source has its own length, drawn uniformly from 1 .. max_length, and symbols
    drawn uniformly from 0 .. n_symbols - 1. Its target is the source read backwards with
    every 0 left out, followed by the end symbol ``n_symbols``; so the target's length
    (0 .. max_length symbols, then the end symbol) depends on the source's content, and a
    decoder must decide itself where to stop.

    Sources are padded on the left with -1 (the last real symbol is always in the last
    column, so an encoder that reads padding as a zero input ends on the real string);
    targets are padded on the right with -1 after the end symbol (ignored by
    ``cross_entropy(..., ignore_index=-1)``).

    Args:
        n: number of sequences B.  max_length: the longest source T (>= 1).
        n_symbols: symbol values (>= 2; symbol 0 is the one dropped).
        rng: Generator or int seed.

    Returns:
        (source, target): int64 arrays (n, max_length) and (n, max_length + 1).

    Raises:
        ValueError: for a count that is not an int of the allowed range, or a bad rng.
    """
    n = check_int("n", n)
    max_length = check_int("max_length", max_length)
    n_symbols = check_int("n_symbols", n_symbols, minimum=2)
    g = _rng(rng)
    lengths = g.integers(1, max_length + 1, size=n)  # (n,)
    tokens = g.integers(0, n_symbols, size=(n, max_length), dtype=np.int64)
    columns = np.arange(max_length)  # (T,)
    source = np.where(columns >= max_length - lengths[:, None], tokens, -1)  # (n, T)
    target = np.full((n, max_length + 1), -1, dtype=np.int64)
    for i, row in enumerate(source):
        kept = row[row > 0][::-1]  # the source backwards, without its 0s (and padding)
        target[i, : len(kept)] = kept
        target[i, len(kept)] = n_symbols  # the end symbol
    return source, target


# ---- counting with resets (chapter 6) ------------------------------------------------

#: The tokens of :func:`bracket_depth`: an opening and a closing bracket, and a reset.
BRACKET_TOKENS = ("(", ")", "|")


def bracket_depth(n, length, rng, *, max_depth=4, p_reset=0.0):
    """Bracket depth with resets: count up and down, and forget the count at a reset.

    Each step shows one token: 0 "(" (the depth goes up by one), 1 ")" (down by one) or
    2 "|" (a reset: the depth returns to 0, whatever it was). The label of a step is
    the depth after its token, 0 .. max_depth. The sequence never goes below 0 or
    above max_depth: each step is a reset with probability ``p_reset``; otherwise at
    depth 0 it opens, at ``max_depth`` it closes, and in between it opens or closes with
    probability 1/2 each. Every sequence starts at depth 0. A network that solves it
    must keep a count over any number of steps and drop it at a reset.

    Args:
        n: number of sequences B.  length: T.  rng: Generator or int seed.
        max_depth: the largest depth (>= 1).  p_reset: the probability of a reset at
            each step, a number in [0, 1).

    Returns:
        (tokens, depth): int64 arrays (n, length).

    Raises:
        ValueError: for a count that is not an int of the allowed range, a ``p_reset``
            that is not a number in [0, 1), or a bad rng.
    """
    n = check_int("n", n)
    length = check_int("length", length)
    max_depth = check_int("max_depth", max_depth)
    real = (int, float, np.integer, np.floating)
    if isinstance(p_reset, bool) or not isinstance(p_reset, real) or not 0 <= p_reset < 1:
        raise ValueError(f"p_reset must be a number in [0, 1), got {p_reset!r}")
    g = _rng(rng)
    resets = g.random((n, length)) < p_reset
    opens = g.random((n, length)) < 0.5
    tokens = np.empty((n, length), dtype=np.int64)
    depth = np.empty((n, length), dtype=np.int64)
    current = np.zeros(n, dtype=np.int64)
    for t in range(length):
        up = np.where(current == 0, True, np.where(current == max_depth, False, opens[:, t]))
        tokens[:, t] = np.where(resets[:, t], 2, np.where(up, 0, 1))
        current = np.where(resets[:, t], 0, current + np.where(up, 1, -1))
        depth[:, t] = current
    return tokens, depth


# ---- held-out strings (chapter 2) ----------------------------------------------------


def held_out(strings, fraction=0.2):
    """Which rows of ``strings`` lie in a fixed held-out part of the space of strings.

    Each row (its values, padding included) is hashed with BLAKE2b, so the split is the
    same on every machine and in every run, and depends on the string alone, not on
    where or how often it was drawn; a row is held out when its hash, read as a number
    in [0, 1), is below ``fraction``. Training batches filtered with ``~held_out(...)``
    and test sets filtered with ``held_out(...)`` therefore share no string, and about
    ``fraction`` of all strings of a shape are held out.

    Args:
        strings: an int array (B, T).  fraction: the share held out, a number in (0, 1).

    Returns:
        bool array (B,).

    Raises:
        ValueError: for strings that are not a 2-d int array, or a fraction outside (0, 1).
    """
    import hashlib

    strings = np.asarray(strings)
    if strings.ndim != 2 or not np.issubdtype(strings.dtype, np.integer):
        raise ValueError(
            f"strings must be an int array (B, T), got {strings.dtype} {strings.shape}"
        )
    real = (int, float, np.integer, np.floating)
    if isinstance(fraction, bool) or not isinstance(fraction, real) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1), got {fraction!r}")
    rows = np.ascontiguousarray(strings, dtype="<i8")
    digests = (hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in rows)
    return np.array([int.from_bytes(d, "big") < fraction * 2**64 for d in digests], dtype=bool)


# ---- the Mackey-Glass series (chapter 8) ---------------------------------------------


def _mackey_glass_rate(x_now, x_late, beta, gamma, n):
    """dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)."""
    return beta * x_late / (1.0 + x_late**n) - gamma * x_now


def mackey_glass(n_steps, *, tau=17, beta=0.2, gamma=0.1, n=10, dt=1.0, substeps=10, history=1.2):
    """The Mackey-Glass series, sampled every ``dt`` time units.

        dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)        (Mackey-Glass)

    Method: classical fourth-order Runge-Kutta with step h = dt / substeps, which must
    divide tau exactly (tau = d h, d an integer >= 1), so the delayed values x(t - tau) and
    x(t + h - tau) needed at a step are stored grid values. The one value off the grid,
    x(t + h/2 - tau) at the two midpoint stages, is the cubic Hermite interpolation between
    the grid values x_k, x_{k+1} around it and their slopes s_k, s_{k+1},
    (x_k + x_{k+1}) / 2 + h (s_k - s_{k+1}) / 8, an error O(h^4). The slopes are the
    equation's right-hand side at the grid points (one-sided at t = 0, where the slope of
    the history meets that of the solution), so no interpolation spans the kink at t = 0 and
    the scheme keeps fourth order. No randomness: the series is the same on every run.

    Args:
        n_steps: number of samples (int >= 1).
        tau, beta, gamma, n: the equation's delay (> 0) and coefficients (> 0; n any
            number > 0; the defaults tau = 17, beta = 0.2, gamma = 0.1, n = 10 give the
            chaotic series used for echo state networks).
        dt: time between samples (> 0).  substeps: RK4 steps per sample (int >= 1).
        history: x(t) for -tau <= t <= 0: a number > 0 (a constant history, default 1.2),
            or a float array of the d + 1 values on the grid t = -tau, -tau + h, ..., 0
            (its slopes then come from ``numpy.gradient``, second order in h).

    Returns:
        float64 array (n_steps,): x(0), x(dt), ..., x((n_steps - 1) dt).

    Raises:
        ValueError: for a count that is not an int >= 1, a number that is not finite and
            positive, an h = dt / substeps that does not divide tau into whole steps,
            or a history of the wrong shape, type or sign.
    """
    n_steps = check_int("n_steps", n_steps)
    substeps = check_int("substeps", substeps)
    real = (int, float, np.integer, np.floating)
    for name, v in (("tau", tau), ("beta", beta), ("gamma", gamma), ("n", n), ("dt", dt)):
        if isinstance(v, bool) or not isinstance(v, real) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    h = dt / substeps
    d = round(tau / h)
    if d < 1 or abs(d * h - tau) > 1e-9 * max(1.0, tau):
        raise ValueError(
            f"the step h = dt / substeps = {h!r} must divide tau = {tau!r} into an integer "
            f"number >= 1 of steps, got tau / h = {tau / h!r}"
        )
    if isinstance(history, real) and not isinstance(history, bool):
        if not np.isfinite(history) or history <= 0:
            raise ValueError(f"history must be a finite number > 0, got {history!r}")
        past = np.full(d + 1, float(history))
    else:
        past = np.asarray(history)
        if past.shape != (d + 1,) or past.dtype.kind != "f":
            raise ValueError(
                f"history must be a number or a float array (d + 1,) = ({d + 1},) on the grid "
                f"of h = {h!r}, got {type(history).__name__} "
                f"{getattr(past, 'dtype', '')} {getattr(past, 'shape', '')}"
            )
        if not np.all(np.isfinite(past)) or np.any(past <= 0):
            raise ValueError("history must hold finite numbers > 0")
        past = past.astype(np.float64)
    total = (n_steps - 1) * substeps
    # grid[k] = x(k h - tau): the history on k = 0 .. d, then the solution
    grid = np.empty(d + 1 + total)
    grid[: d + 1] = past
    # slopes of the history (k = 0 .. d, left slope at t = 0) and of the solution (k >= d)
    history_slope = np.zeros(d + 1) if np.all(past == past[0]) else np.gradient(past, h)
    slope = np.empty(d + 1 + total)
    slope[d] = _mackey_glass_rate(grid[d], grid[0], beta, gamma, n)  # right slope at t = 0
    for j in range(total):
        i = d + j  # grid[i] = x(t), t = j h
        x = grid[i]
        late, late_next = grid[j], grid[j + 1]  # x(t - tau), x(t + h - tau)
        s_late = history_slope[j] if j < d else slope[j]  # slope just after t - tau
        s_next = history_slope[j + 1] if j + 1 <= d else slope[j + 1]  # just before
        late_mid = 0.5 * (late + late_next) + h / 8.0 * (s_late - s_next)  # x(t + h/2 - tau)
        k1 = _mackey_glass_rate(x, late, beta, gamma, n)
        k2 = _mackey_glass_rate(x + 0.5 * h * k1, late_mid, beta, gamma, n)
        k3 = _mackey_glass_rate(x + 0.5 * h * k2, late_mid, beta, gamma, n)
        k4 = _mackey_glass_rate(x + h * k3, late_next, beta, gamma, n)
        grid[i + 1] = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        slope[i + 1] = _mackey_glass_rate(grid[i + 1], grid[j + 1], beta, gamma, n)
    return grid[d::substeps].copy()


# ---- a blank that needs both neighbours (chapter 9) ----------------------------------


def fill_in_blank(n, length, n_symbols, rng):
    """Fill in the blank: a task whose answer lies partly in the future.

    Each sequence holds symbols 0 .. n_symbols - 1, drawn independently and uniformly,
    except at one position p, drawn uniformly from 1 .. length - 2, which shows the blank
    token ``n_symbols``. The label is

        label = (x_{p-1} + x_{p+1}) mod n_symbols

    so it needs the left AND the right neighbour of the blank. A network that must answer
    at step p, having read x_0 .. x_p (the past and the blank), can reach an accuracy of
    at best 1 / n_symbols: x_{p+1} is uniform and independent of everything it has read,
    so for every left neighbour each label has probability exactly 1 / n_symbols. A
    network that also reads the sequence backwards (a bidirectional one) has both
    neighbours at step p and can reach accuracy 1. (The bound is for an answer given at
    the blank's own step, as in synchronous labelling; a one-way network that answers
    only after the whole sequence has read both neighbours and is not bounded by it.)

    Args:
        n: number of sequences B.  length: T (>= 3, so that the blank has two
            neighbours).  n_symbols: symbol values (>= 2).  rng: Generator or int seed.

    Returns:
        (tokens, position, label): int64 arrays (n, length), (n,) and (n,).

    Raises:
        ValueError: for a count that is not an int of the allowed range, or a bad rng.
    """
    n = check_int("n", n)
    length = check_int("length", length, minimum=3)
    n_symbols = check_int("n_symbols", n_symbols, minimum=2)
    g = _rng(rng)
    tokens = g.integers(0, n_symbols, size=(n, length), dtype=np.int64)
    position = g.integers(1, length - 1, size=n).astype(np.int64)  # (n,), 1 .. T - 2
    rows = np.arange(n)
    label = (tokens[rows, position - 1] + tokens[rows, position + 1]) % n_symbols
    tokens[rows, position] = n_symbols  # the blank
    return tokens, position, label.astype(np.int64)


# ---- arithmetic expression trees (chapter 9) -----------------------------------------

#: The operators of :func:`expression_trees`, in the order of their tokens
#: n_digits, n_digits + 1, n_digits + 2; all are taken modulo n_digits.
EXPRESSION_OPERATORS = ("+", "-", "*")


def _grow_expression(g, depth, n_digits, tokens):
    """A random expression of exactly ``depth`` operator levels, in prefix order.

    Appends its leaf tokens (operators and digits, prefix order) to ``tokens`` and
    returns the tree, whose leaves are the positions of those tokens.
    """
    if depth == 0:
        tokens.append(int(g.integers(0, n_digits)))
        return len(tokens) - 1
    tokens.append(n_digits + int(g.integers(0, len(EXPRESSION_OPERATORS))))
    op = len(tokens) - 1
    deep = int(g.integers(0, 2))  # which operand has depth - 1
    shallow = int(g.integers(0, depth))  # the other one's depth, 0 .. depth - 1
    depths = (depth - 1, shallow) if deep == 0 else (shallow, depth - 1)
    left = _grow_expression(g, depths[0], n_digits, tokens)
    right = _grow_expression(g, depths[1], n_digits, tokens)
    return (op, (left, right))


def expression_trees(n, max_depth, rng, *, n_digits=10, split=None, fraction=0.2):
    """Random arithmetic expressions over digits, as trees for a recursive network.

    An expression is a digit 0 .. n_digits - 1 or ``a o b`` with an operator o of
    :data:`EXPRESSION_OPERATORS` (+, -, *) and two expressions a, b; its value is
    computed modulo n_digits, so it is again a digit. The depth of an expression is its
    number of operator levels (a digit has depth 0, ``a o b`` has 1 + the larger depth
    of a and b). Each expression draws its depth uniformly from 0 .. max_depth and is
    then grown to exactly that depth: at each operator one operand (left or right, with
    probability 1/2) has depth one less, the other a depth drawn uniformly below that;
    operators and digits are uniform.

    Trees are nested tuples as in :mod:`rnnbook.scratch.recursive`: a digit is a leaf,
    and ``a o b`` is the binary node ``(o, (a, b))``, whose left child is the operator as
    a leaf of its own and whose right child is the pair of operands. So every internal
    node has two children, as the recursive network of (6.57)-(6.59) needs, and the
    operator enters through a leaf input as the digits do (the tuple nesting is twice
    the depth). Leaves are numbered in the order they are written, which is the prefix
    (Polish) notation of the expression: ``leaf_tokens[i]`` read in order is the prefix
    token sequence. Leaf tokens: digits 0 .. n_digits - 1, operators n_digits + k for
    the k-th operator of :data:`EXPRESSION_OPERATORS`. :func:`expression_sequences`
    writes the same expressions as flat sequences (prefix, or infix with brackets) for a
    sequential network.

    ``split`` keeps a fixed part of the space of expressions apart, with
    :func:`held_out` on the padded prefix sequences: ``split="test"`` draws only
    expressions held out with ``fraction``, ``split="train"`` only the others, so a
    train and a test draw share no expression, whatever their seeds (expressions are
    drawn until n are kept).

    Args:
        n: number of expressions.  max_depth: the largest depth (>= 0).
        rng: Generator or int seed.  n_digits: the modulus and number of digits (>= 2).
        split: None, "train" or "test".  fraction: the held-out share for ``split``, a
            number in (0, 1).

    Returns:
        (trees, leaf_tokens, values, depths): a list of n trees; a list of n int64
        arrays (N_i,), the leaf tokens of tree i in leaf order; int64 arrays (n,) of
        values 0 .. n_digits - 1 and of depths 0 .. max_depth.

    Raises:
        ValueError: for a count that is not an int of the allowed range, a bad split or
            fraction, a bad rng, or a split that keeps too few of the expressions drawn.
    """
    n = check_int("n", n)
    max_depth = check_int("max_depth", max_depth, minimum=0)
    n_digits = check_int("n_digits", n_digits, minimum=2)
    check_option("split", split, (None, "train", "test"))
    real = (int, float, np.integer, np.floating)
    if isinstance(fraction, bool) or not isinstance(fraction, real) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1), got {fraction!r}")
    g = _rng(rng)
    trees, leaf_tokens, values, depths = [], [], [], []
    budget = 100 * n + 1000  # draws allowed before giving up on a split
    while len(trees) < n:
        if budget == 0:
            raise ValueError(
                f"split={split!r} with fraction={fraction!r} kept {len(trees)} of the "
                f"expressions of max_depth={max_depth} drawn, fewer than n = {n}"
            )
        budget -= 1
        depth = int(g.integers(0, max_depth + 1))
        tokens = []
        tree = _grow_expression(g, depth, n_digits, tokens)
        tokens = np.array(tokens, dtype=np.int64)
        if split is not None:
            test = held_out(tokens[None, :], fraction)[0]
            if test != (split == "test"):
                continue
        trees.append(tree)
        leaf_tokens.append(tokens)
        values.append(_evaluate_prefix(tokens, n_digits))
        depths.append(depth)
    return trees, leaf_tokens, np.array(values, dtype=np.int64), np.array(depths, dtype=np.int64)


def _evaluate_prefix(tokens, n_digits):
    """The value of a prefix token sequence, modulo n_digits, with a stack."""
    stack = []
    for token in tokens[::-1]:  # read backwards: operands come before their operator
        if token < n_digits:
            stack.append(int(token))
        else:
            a, b = stack.pop(), stack.pop()
            op = EXPRESSION_OPERATORS[token - n_digits]
            stack.append((a + b if op == "+" else a - b if op == "-" else a * b) % n_digits)
    return stack[0]


def expression_sequences(trees, leaf_tokens, *, n_digits=10, notation="infix"):
    """The expressions of :func:`expression_trees` as flat token sequences.

    ``notation="prefix"`` writes the leaf tokens in leaf order (operator, left operand,
    right operand); ``"infix"`` writes ``( a o b )`` with brackets around every operator,
    the opening bracket as token n_digits + 3 and the closing one as n_digits + 4 (a
    single digit has no brackets). Sequences are padded on the left with -1, so the last
    real token is always in the last column (as in :func:`end_symbol_task`).

    Args:
        trees, leaf_tokens: as from :func:`expression_trees`.  n_digits: as there (>= 2).
        notation: "prefix" or "infix".

    Returns:
        (tokens, lengths): int64 arrays (n, T), T the longest sequence, and (n,).

    Raises:
        ValueError: for a bad notation, lists of different lengths, or a tree that is
            not of the form of :func:`expression_trees` for its leaf tokens.
    """
    n_digits = check_int("n_digits", n_digits, minimum=2)
    check_option("notation", notation, ("prefix", "infix"))
    if not isinstance(trees, (list, tuple)) or not isinstance(leaf_tokens, (list, tuple)):
        raise ValueError(
            f"trees and leaf_tokens must be lists, got {type(trees).__name__} and "
            f"{type(leaf_tokens).__name__}"
        )
    if len(trees) != len(leaf_tokens) or not trees:
        raise ValueError(
            f"trees and leaf_tokens must be non-empty and of one length, got "
            f"{len(trees)} and {len(leaf_tokens)}"
        )
    n_ops = len(EXPRESSION_OPERATORS)
    opening, closing = n_digits + n_ops, n_digits + n_ops + 1

    def write(node, tokens, out):
        if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
            if not 0 <= node < len(tokens) or tokens[node] >= n_digits:
                raise ValueError(f"a digit leaf must index a digit token, got leaf {node!r}")
            out.append(int(tokens[node]))
            return
        ok = isinstance(node, tuple) and len(node) == 2 and isinstance(node[1], tuple)
        ok = ok and len(node[1]) == 2 and isinstance(node[0], (int, np.integer))
        if not ok or not 0 <= node[0] < len(tokens) or not 0 <= tokens[node[0]] - n_digits < n_ops:
            raise ValueError(f"an operator node must be (operator leaf, (a, b)), got {node!r}")
        if notation == "prefix":
            out.append(int(tokens[node[0]]))
            write(node[1][0], tokens, out)
            write(node[1][1], tokens, out)
        else:
            out.append(opening)
            write(node[1][0], tokens, out)
            out.append(int(tokens[node[0]]))
            write(node[1][1], tokens, out)
            out.append(closing)

    rows = []
    for tree, tokens in zip(trees, leaf_tokens, strict=True):
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(
                f"leaf tokens must be int arrays (N,), got {tokens.dtype} {tokens.shape}"
            )
        out = []
        write(tree, tokens, out)
        rows.append(out)
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    result = np.full((len(rows), int(lengths.max())), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        result[i, result.shape[1] - len(r) :] = r
    return result, lengths


# Chapter 10: the applications' datasets, one block per section.

# -- 10.1 and 10.7: a character corpus from Python's own documentation; click sequences --

# -- 10.7: generated click sessions --


def click_sessions(
    n_train,
    n_test,
    rng,
    *,
    n_items=60,
    n_intents=8,
    path_length=12,
    switch=0.15,
    min_length=6,
    max_length=14,
):
    """Click sessions with a hidden intent, for next-item prediction (section 10.7).

    Generated here, nothing downloaded. Item popularity is Zipf-like: item i (0-based) has
    weight 1 / (i + 1). Each of ``n_intents`` hidden intents is a *path*: ``path_length``
    distinct items drawn without replacement by those weights, so popular items lie on many
    paths and their successor depends on the intent. A session starts on a random intent at a
    random position and walks along its path one step at a time (cyclically); after each click
    it switches, with probability ``switch``, to a different random intent at a random
    position.
    The next item is therefore fixed by the intent and the position, which the clicks so far
    reveal but the last click alone often does not. Sessions are drawn until ``n_train +
    n_test`` distinct ones exist; test sessions never occur among the training sessions.

    Returns:
        dict with ``"train"`` and ``"test"`` (lists of int64 arrays of item ids in
        [0, n_items), lengths in [min_length, max_length]), ``"paths"`` (n_intents,
        path_length) int64, ``"intents"``: for each split a list of int64 arrays, the
        hidden intent of every click, and ``"n_items"``, the size V of the catalogue.
        Sessions that recur (the short, common ones) are kept once, in the split where they
        were first drawn, so the test split, filled last, holds fewer of them than the
        training split.
    """
    rng = _rng(rng)
    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    n_items = check_int("n_items", n_items, minimum=2)
    n_intents = check_int("n_intents", n_intents)
    path_length = check_int("path_length", path_length, minimum=2)
    min_length = check_int("min_length", min_length, minimum=2)
    max_length = check_int("max_length", max_length, minimum=min_length)
    if path_length > n_items:
        raise ValueError(f"path_length must be at most n_items = {n_items}, got {path_length}")
    if isinstance(switch, bool) or not isinstance(switch, (int, float)) or not 0 <= switch <= 1:
        raise ValueError(f"switch must be a probability in [0, 1], got {switch!r}")
    weights = 1.0 / np.arange(1, n_items + 1)
    paths = np.stack(
        [
            rng.choice(n_items, path_length, replace=False, p=weights / weights.sum())
            for _ in range(n_intents)
        ]
    ).astype(np.int64)
    seen, sessions, intents = set(), [], []
    for _ in range(1000 * (n_train + n_test)):
        if len(sessions) == n_train + n_test:
            break
        T = int(rng.integers(min_length, max_length + 1))
        z, pos = int(rng.integers(n_intents)), int(rng.integers(path_length))
        items, zs = [], []
        for _t in range(T):
            items.append(paths[z, pos])
            zs.append(z)
            if rng.random() < switch and n_intents > 1:  # a different intent, anywhere on it
                z = (z + int(rng.integers(1, n_intents))) % n_intents
                pos = int(rng.integers(path_length))
            else:
                pos = (pos + 1) % path_length
        key = tuple(items)
        if key not in seen:
            seen.add(key)
            sessions.append(np.array(items, dtype=np.int64))
            intents.append(np.array(zs, dtype=np.int64))
    if len(sessions) < n_train + n_test:
        raise ValueError("too few distinct sessions: ask for fewer or allow longer ones")
    return {
        "train": sessions[:n_train],
        "test": sessions[n_train:],
        "paths": paths,
        "intents": {"train": intents[:n_train], "test": intents[n_train:]},
        "n_items": n_items,
    }


#: the symbol that stands for every held-out character not in the training vocabulary
UNKNOWN_CHAR = "\ufffd"


SHARED_SPAN = 50  # characters: a passage this long in two topics puts them in one group


def overlap_groups(texts: dict, span: int = SHARED_SPAN) -> list:
    """Group the keys of ``texts`` so that two texts sharing a passage are in one group.

    Two texts are linked when some string of ``span`` characters occurs in both; the groups
    are the connected parts of that relation (partners of partners included). Returns a list
    of sorted lists of keys, in the order of their first key.
    """
    span = check_int("span", span)
    if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
        raise ValueError(f"texts must be a dict of strings, got {type(texts).__name__}")
    parent = {k: k for k in texts}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_seen: dict[str, object] = {}
    for key, text in texts.items():
        for i in range(len(text) - span + 1):
            other = first_seen.setdefault(text[i : i + span], key)
            if other != key:
                parent[root(other)] = root(key)
    groups: dict[object, list] = {}
    for key in texts:
        groups.setdefault(root(key), []).append(key)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def python_docs_corpus(rng, *, test_fraction=0.1):
    """A character corpus: the English prose of the Python documentation, split by topic.

    The text is ``pydoc_data.topics.topics``, the help topics (``help("if")``) that ship
    with the interpreter in the standard library, one entry per topic. Its size and content
    vary with the Python version, so every number computed from it does too. Many topics
    repeat passages of others (``attribute-access`` is a part of ``specialnames``), so the
    topics are first grouped: two topics that share a span of ``SHARED_SPAN`` characters are
    in one group, and so are their partners' partners (:func:`overlap_groups`). Whole groups
    go to the test split, drawn by ``rng`` in a random order and taken while the held-out
    text stays within ``test_fraction`` of all the characters (at least one group); so no
    span of ``SHARED_SPAN`` characters of a held-out topic occurs in a training topic. Each split is
    its topics' texts in sorted order of their names, joined by a blank line.

    The vocabulary is the sorted set of the training text's characters followed by
    :data:`UNKNOWN_CHAR`; a held-out character outside it is encoded as that symbol.

    Args:
        rng: a ``numpy.random.Generator`` or an int seed.
        test_fraction: the largest share of the characters held out, in (0, 1).

    Returns:
        dict with ``vocab`` (list of characters, the unknown symbol last), ``train`` and
        ``test`` (int64 arrays of character ids), ``train_text`` and ``test_text`` (the
        raw strings), ``train_topics`` and ``test_topics`` (sorted lists of names) and
        ``n_unknown`` (how many held-out characters are encoded as unknown).
    """
    rng = _rng(rng)
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, (int, float))
        or not 0 < test_fraction < 1
    ):
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    from pydoc_data.topics import topics

    names = sorted(topics)
    budget = test_fraction * sum(len(topics[n]) for n in names)  # held-out characters
    groups = overlap_groups({n: topics[n] for n in names})
    chosen: set[str] = set()
    held_out = 0
    for g in rng.permutation(len(groups)).tolist():
        size = sum(len(topics[n]) for n in groups[g])
        if held_out + size <= budget:
            chosen.update(groups[g])
            held_out += size
    if not chosen:  # every group is larger than the budget: hold out the smallest one
        chosen.update(min(groups, key=lambda g: sum(len(topics[n]) for n in g)))
    test_topics = [n for n in names if n in chosen]
    train_topics = [n for n in names if n not in chosen]
    train_text = "\n\n".join(topics[n] for n in train_topics)
    test_text = "\n\n".join(topics[n] for n in test_topics)
    vocab = sorted(set(train_text)) + [UNKNOWN_CHAR]
    index = {c: i for i, c in enumerate(vocab)}
    unknown = len(vocab) - 1
    test = np.array([index.get(c, unknown) for c in test_text], dtype=np.int64)
    return {
        "vocab": vocab,
        "train": np.array([index[c] for c in train_text], dtype=np.int64),
        "test": test,
        "train_text": train_text,
        "test_text": test_text,
        "train_topics": train_topics,
        "test_topics": test_topics,
        "n_unknown": int((test == unknown).sum()),
    }


# -- 10.2: a parallel corpus of numbers and dates --

_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = ("", "十", "百", "千")
NUMBER_MAX = 10**8  # numbers below one hundred million: 万 is the largest unit needed


def _check_number(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n < NUMBER_MAX:
        raise ValueError(f"n must be an int in [0, {NUMBER_MAX}), got {n!r}")
    return int(n)


def english_number(n) -> str:
    """An integer 0 <= n < 10**8 in English words, American style (no "and").

    2026 -> "two thousand twenty-six"; 1010 -> "one thousand ten";
    12345678 -> "twelve million three hundred forty-five thousand six hundred seventy-eight".
    """
    n = _check_number(n)

    def below_1000(k):
        words = []
        if k >= 100:
            words += [_EN_ONES[k // 100], "hundred"]
            k %= 100
        if k >= 20:
            words.append(_EN_TENS[k // 10] + ("-" + _EN_ONES[k % 10] if k % 10 else ""))
        elif k > 0:
            words.append(_EN_ONES[k])
        return words

    if n == 0:
        return "zero"
    words = []
    for scale, name in ((10**6, "million"), (10**3, "thousand"), (1, "")):
        k = n // scale % 1000
        if k:
            words += below_1000(k) + ([name] if name else [])
    return " ".join(words)


def chinese_numeral(n) -> str:
    """An integer 0 <= n < 10**8 in Chinese numerals (小写数字), the standard reading.

    The rules: the number is read in groups of four digits, the upper group followed by 万;
    inside a group each nonzero digit is followed by its unit (千, 百, 十); zeros at the end
    of a group are not read, and any other run of zeros, however long, is read as one 零
    (每级末尾的0都不读出来，其余数位上连续有几个0都只读一个零): so 105000 is 十万五千 (the zero
    ends the 万 group) but 10010 is 一万零一十 and 1000001 一百万零一 (the zeros begin the lower
    group). A leading 一十 is read 十 (10 十, 15 十五, 100000 十万), but not inside a number
    (110 一百一十, 10010 一万零一十). 2 is always 二 (2026 -> 二千零二十六); the spoken 两 before
    千, 万 and 百 (两千零二十六) is not produced.
    """
    n = _check_number(n)
    if n == 0:
        return "零"
    digits = [int(d) for d in str(n)]
    out, zero_pending = [], False
    for i, d in enumerate(digits):
        place = len(digits) - 1 - i  # 10**place
        if d == 0:
            zero_pending = True
        else:
            if zero_pending and out:
                out.append("零")
            zero_pending = False
            if not (d == 1 and place % 4 == 1 and not out):  # leading 一十 -> 十
                out.append(_ZH_DIGITS[d])
            out.append(_ZH_UNITS[place % 4])
        if place == 4:  # the end of the 万 group
            out.append("万")
            zero_pending = False  # zeros ending the 万 group are not read: 十万五千
    return "".join(out)


def parse_chinese_numeral(text: str) -> int:
    """The value of a Chinese numeral (digits, 十 百 千 万, 零): an independent inverse.

    It reads the units as multipliers and ignores 零, so it accepts more than the standard
    form (二千二十六 reads 2026 as well); tests use it against :func:`chinese_numeral`.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty str, got {text!r}")
    units = {"十": 10, "百": 100, "千": 1000}
    value, section, digit = 0, 0, None
    for ch in text:
        if ch in _ZH_DIGITS[1:]:
            digit = _ZH_DIGITS.index(ch)
        elif ch == "零":
            digit = None
        elif ch in units:
            section += (1 if digit is None else digit) * units[ch]
            digit = None
        elif ch == "万":
            value += (section + (digit or 0)) * 10_000
            section, digit = 0, None
        else:
            raise ValueError(f"text must hold only 零一二三四五六七八九十百千万, got {ch!r}")
    return value + section + (digit or 0)


def _split_distinct(values, n_train, n_test, rng):
    values = np.asarray(values)
    order = rng.permutation(len(values))
    return values[order[:n_train]], values[order[n_train : n_train + n_test]]


def number_pairs(n_train, n_test, rng, *, max_digits=8):
    """A parallel corpus of integers in English words -> Chinese numerals, split train/test.

    The integers are drawn by the program, not collected: first a digit count d, uniform over
    1..max_digits (the length control: long inputs are as frequent as short ones), then an
    integer with d digits, uniform; the draw repeats until n_train + n_test distinct integers
    are found, and they are split at random, so no integer is in both sets.

    Returns:
        dict with "train" and "test", each a dict of "value" (int64 array), "source" (list of
        English strings), "target" (list of Chinese strings) and "digits" (int64 array).

    Raises:
        ValueError: for counts < 1, a max_digits outside 1..8, or more integers than exist.
    """
    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    max_digits = check_int("max_digits", max_digits)
    if max_digits > 8:
        raise ValueError(f"max_digits must be at most 8 (numbers below 10**8), got {max_digits}")
    rng = _rng(rng)
    total = n_train + n_test
    if total > 10**max_digits:
        raise ValueError(f"n_train + n_test must be at most {10**max_digits}, got {total}")
    chosen, seen = [], set()
    while len(chosen) < total:
        d = int(rng.integers(1, max_digits + 1))
        low = 0 if d == 1 else 10 ** (d - 1)
        v = int(rng.integers(low, 10**d))
        if v not in seen:
            seen.add(v)
            chosen.append(v)
    train, test = _split_distinct(chosen, n_train, n_test, rng)

    def pack(values):
        values = np.asarray(values, dtype=np.int64)
        return {
            "value": values,
            "source": [english_number(int(v)) for v in values],
            "target": [chinese_numeral(int(v)) for v in values],
            "digits": np.array([len(str(int(v))) for v in values], dtype=np.int64),
        }

    return {"train": pack(train), "test": pack(test)}


_MONTHS = (
    "January February March April May June July August September October November December"
).split()
DATE_FORMATS = ("day month year", "month day, year", "mm/dd/yyyy", "dd.mm.yyyy", "short")


def format_date(year, month, day, style) -> str:
    """One date written in one of ``DATE_FORMATS``.

    "day month year" 2 December 2026; "month day, year" December 2, 2026; "mm/dd/yyyy"
    12/02/2026 (American order); "dd.mm.yyyy" 02.12.2026 (European order); "short" 2 Dec 2026.
    """
    check_option("style", style, DATE_FORMATS)
    import datetime

    try:
        datetime.date(year, month, day)
    except (TypeError, ValueError) as err:
        raise ValueError(f"not a date: {year}-{month}-{day} ({err})") from None
    name = _MONTHS[month - 1]
    return {
        "day month year": f"{day} {name} {year}",
        "month day, year": f"{name} {day}, {year}",
        "mm/dd/yyyy": f"{month:02d}/{day:02d}/{year}",
        "dd.mm.yyyy": f"{day:02d}.{month:02d}.{year}",
        "short": f"{day} {name[:3]} {year}",
    }[style]


def date_pairs(n_train, n_test, rng, *, first_year=1900, last_year=2099):
    """A parallel corpus of dates in five formats -> ISO 8601 (2026-12-02), split train/test.

    Days are drawn uniformly from first_year-01-01 .. last_year-12-31 without repetition, so
    no day is in both sets; each gets one format of ``DATE_FORMATS``, uniform. 12/02/2026 and
    02.12.2026 are the same day: the format fixes the order of day and month.

    Returns:
        dict with "train" and "test", each a dict of "source", "target" (lists of str) and
        "style" (list of the format names).
    """
    import datetime

    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    for name, year in (("first_year", first_year), ("last_year", last_year)):
        check_int(name, year)
        if not 1000 <= year <= 9999:
            raise ValueError(f"{name} must be a four-digit year, got {year}")
    if last_year < first_year:
        raise ValueError(f"last_year must be >= first_year, got {first_year} and {last_year}")
    rng = _rng(rng)
    start = datetime.date(first_year, 1, 1).toordinal()
    days = datetime.date(last_year, 12, 31).toordinal() - start + 1
    if n_train + n_test > days:
        raise ValueError(f"n_train + n_test must be at most {days} days, got {n_train + n_test}")
    ordinals = start + rng.choice(days, size=n_train + n_test, replace=False)
    styles = rng.integers(0, len(DATE_FORMATS), size=n_train + n_test)

    def pack(idx):
        dates = [datetime.date.fromordinal(int(ordinals[i])) for i in idx]
        style = [DATE_FORMATS[int(styles[i])] for i in idx]
        return {
            "source": [
                format_date(d.year, d.month, d.day, s) for d, s in zip(dates, style, strict=True)
            ],
            "target": [d.isoformat() for d in dates],
            "style": style,
        }

    return {"train": pack(range(n_train)), "test": pack(range(n_train, n_train + n_test))}


# -- 10.3 and 10.5: generated reviews; a tagging task --

SUBJECTS = ("film", "plot", "acting", "music", "ending", "cast", "script", "camera")
POSITIVE = ("good", "great", "fun", "brilliant", "moving", "clever")
NEGATIVE = ("bad", "boring", "dull", "awful", "weak", "silly")


def _clause(rng):
    # one clause: "the <subject> is [not] [very] <adjective>", and its polarity (+1 / -1)
    words = ["the", SUBJECTS[rng.integers(len(SUBJECTS))], "is"]
    negated = bool(rng.integers(2))
    if negated:
        words.append("not")
    if rng.integers(2):
        words.append("very")
    positive = bool(rng.integers(2))
    pool = POSITIVE if positive else NEGATIVE
    words.append(pool[rng.integers(len(pool))])
    return words, (1 if positive else -1) * (-1 if negated else 1)


def sentiment_review_count(kind="contrast"):
    """The number of distinct reviews of :func:`sentiment_reviews`' grammar.

    A clause is one of ``len(SUBJECTS)`` subjects, with or without ``not``, with or without
    ``very``, and one of the adjectives, half of the clauses of each polarity. A contrast
    review is an ordered pair of clauses of opposite polarity; a plain review is a clause
    without ``not``.
    """
    check_option("kind", kind, ("contrast", "plain"))
    clauses = len(SUBJECTS) * 2 * 2 * len(POSITIVE + NEGATIVE)
    if kind == "plain":
        return clauses // 2
    return 2 * (clauses // 2) ** 2


def sentiment_reviews(n_train, n_test, rng, *, kind="contrast"):
    """Generated one-line reviews with a sentiment label, split without shared texts.

    The data come from a small grammar written here (nothing is read or downloaded).
    A clause is ``the <subject> is [not] [very] <adjective>``; its polarity is the
    adjective's (6 positive, 6 negative), flipped by ``not``; ``very`` changes nothing.

    - ``kind="contrast"``: a review is ``<clause> but <clause>`` with clauses of opposite
      polarity, and its label is the polarity of the clause after ``but``. Drawing the two
      clauses and then their order at random makes every review and its swap (the same
      words in another order, the other label) equally likely: the word counts of a review
      carry no information about its label.
    - ``kind="plain"``: one clause without ``not``; the adjective alone decides.

    Args:
        n_train, n_test: numbers of distinct reviews in each split (ints >= 1), together at
            most :func:`sentiment_review_count` (73,728 contrast and 192 plain reviews).
        rng: a ``numpy.random.Generator`` or an int seed.
        kind: ``"contrast"`` or ``"plain"``.

    Returns:
        ``{"train": {"text": [...], "label": int64 (N,)}, "test": {...}}``; label 1 is
        positive, 0 negative. No text is in both splits.
    """
    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    check_option("kind", kind, ("contrast", "plain"))
    rng = _rng(rng)
    limit = sentiment_review_count(kind)
    if n_train + n_test > limit:
        raise ValueError(
            f"n_train + n_test must be at most {limit:,} for kind={kind!r} (the grammar has no "
            f"more distinct reviews), got {n_train + n_test:,}"
        )
    seen, texts, labels = set(), [], []
    while len(texts) < n_train + n_test:
        if kind == "plain":
            words, y = _clause(rng)
            if "not" in words:
                continue
        else:
            first, y1 = _clause(rng)
            second, y2 = _clause(rng)
            if y1 == y2:
                continue
            if rng.integers(2):
                first, second, y2 = second, first, y1
            words, y = [*first, "but", *second], y2
        text = " ".join(words)
        if text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(int(y > 0))
    labels = np.array(labels, dtype=np.int64)
    return {
        "train": {"text": texts[:n_train], "label": labels[:n_train]},
        "test": {"text": texts[n_train:], "label": labels[n_train:]},
    }


ENTITY_TYPES = ("PER", "LOC", "ORG")
BIO_TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
# name words are shared by all three types: only the context tells an entity's type
NAME_WORDS = ("jordan", "paris", "lincoln", "victoria", "austin", "chelsea", "florence", "troy")
# the cue before an entity and the cue after it, per type
ENTITY_CUES = {
    "PER": (("mr", "met"), ("said", "smiled")),
    "LOC": (("in", "near"), ("city", "coast")),
    "ORG": (("at", "joined"), ("inc", "shares")),
}
FILLER_WORDS = ("today", "we", "then", "and", "news", "later", "it", "was", "so")


def entity_sentences(n_train, n_test, rng, *, max_len=4):
    """Generated sentences with BIO entity tags, split without shared sentences.

    The data come from a small grammar written here. A sentence holds one or two
    entities of 1 to ``max_len`` name words, drawn from one pool (``NAME_WORDS``) for all
    types, separated and surrounded by filler words. The type (PER, LOC, ORG) is told
    only by cue words: one before the entity, one after it, or both (``ENTITY_CUES``).
    A tag is ``B-X`` on an entity's first word, ``I-X`` on the others, ``O`` elsewhere, so
    ``I-X`` follows only ``B-X`` or ``I-X``.

    Args:
        n_train, n_test: numbers of distinct sentences in each split (ints >= 1).
        rng: a ``numpy.random.Generator`` or an int seed.
        max_len: the longest entity, in words (int >= 1).

    Returns:
        ``{"train": {"words": [[...]], "tags": [[...]]}, "test": {...}}`` with tags from
        ``BIO_TAGS``. No sentence is in both splits.
    """
    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    max_len = check_int("max_len", max_len)
    rng = _rng(rng)

    def filler(k):
        return [FILLER_WORDS[i] for i in rng.integers(len(FILLER_WORDS), size=k)]

    seen, sentences = set(), []
    while len(sentences) < n_train + n_test:
        words = filler(int(rng.integers(0, 3)))
        tags = ["O"] * len(words)
        for _ in range(int(rng.integers(1, 3))):
            kind = ENTITY_TYPES[rng.integers(3)]
            before, after = ENTITY_CUES[kind]
            side = int(rng.integers(3))  # 0: cue before, 1: cue after, 2: both
            n = int(rng.integers(1, max_len + 1))
            name = [NAME_WORDS[i] for i in rng.integers(len(NAME_WORDS), size=n)]
            if side != 1:
                words.append(before[rng.integers(2)])
                tags.append("O")
            words += name
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (n - 1)
            if side != 0:
                words.append(after[rng.integers(2)])
                tags.append("O")
            k = int(rng.integers(1, 3))
            words += filler(k)
            tags += ["O"] * k
        key = " ".join(words) + "|" + " ".join(tags)
        if key not in seen:
            seen.add(key)
            sentences.append((words, tags))
    train, test = sentences[:n_train], sentences[n_train:]
    return {
        "train": {"words": [w for w, _ in train], "tags": [t for _, t in train]},
        "test": {"words": [w for w, _ in test], "tags": [t for _, t in test]},
    }


# -- 10.4: strings of scikit-learn's handwritten digits --
def digit_strings(n_train, n_test, rng, *, min_len=1, max_len=5, max_gap=3, test_share=0.3):
    """Images of digit strings, built from scikit-learn's 8x8 handwritten digits.

    The digit images are ``sklearn.datasets.load_digits()``: 1,797 scans of handwritten
    digits, 8x8 pixels with grey levels 0 to 16 (the UCI "optical recognition of handwritten
    digits" test set, shipped inside scikit-learn, so nothing is downloaded). The images are
    first split into training and test images (a share ``test_share`` of them held out), so
    that no image appears in both splits; then each string draws a length in
    ``[min_len, max_len]``, that many images of its own split, and gaps of 0 to ``max_gap``
    empty columns before, between and after the digits. Grey levels are divided by 16.

    Returns:
        ``{"train": split, "test": split}`` where each split holds ``"x"``, a float32 array
        (N, W_max, 8) of the images read column by column (column t is ``x[n, t]``, its 8
        pixels from top to bottom), zero beyond each width; ``"widths"`` (N,) int64;
        ``"labels"``, a list of tuples of digits 0-9; ``"image_ids"``, a list of tuples of
        the indices into ``load_digits()`` used by each string; ``"spans"``, a list of tuples
        of ``(start, stop)`` column ranges, one per digit: digit k of string n is
        ``x[n, start:stop]`` (8 columns).
    """
    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    min_len = check_int("min_len", min_len)
    max_len = check_int("max_len", max_len, minimum=min_len)
    max_gap = check_int("max_gap", max_gap, minimum=0)
    if isinstance(test_share, bool) or not isinstance(test_share, (float, int)):
        raise ValueError(f"test_share must be a number in (0, 1), got {test_share!r}")
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be in (0, 1), got {test_share}")
    rng = _rng(rng)
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8), rows x columns
    order = rng.permutation(len(images))
    n_held = int(round(test_share * len(images)))
    pools = {"test": order[:n_held], "train": order[n_held:]}
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        pool = pools[split]
        columns, labels, ids, spans = [], [], [], []
        for _ in range(n):
            length = int(rng.integers(min_len, max_len + 1))
            chosen = rng.choice(pool, size=length, replace=True)
            gaps = rng.integers(0, max_gap + 1, size=length + 1)
            parts = [np.zeros((gaps[0], 8), np.float32)]
            span, start = [], int(gaps[0])
            for k, i in enumerate(chosen):
                parts.append(images[i].T)  # (8 columns, 8 pixels)
                parts.append(np.zeros((gaps[k + 1], 8), np.float32))
                span.append((start, start + 8))
                start += 8 + int(gaps[k + 1])
            columns.append(np.concatenate(parts))
            spans.append(tuple(span))
            labels.append(tuple(int(digits.target[i]) for i in chosen))
            ids.append(tuple(int(i) for i in chosen))
        widths = np.array([len(c) for c in columns], dtype=np.int64)
        x = np.zeros((n, widths.max(), 8), np.float32)
        for k, c in enumerate(columns):
            x[k, : len(c)] = c
        out[split] = {"x": x, "widths": widths, "labels": labels, "image_ids": ids, "spans": spans}
    return out


# -- 10.6: generated videos and scenes --


def _check_noise(noise):
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float))
        or not (np.isfinite(noise) and noise >= 0)
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


MOTIONS = ("right", "left", "down", "up", "grow", "shrink")
# each motion's time reversal: a clip of one, played backwards, is a clip of the other
MOTION_REVERSAL = {
    "right": "left",
    "left": "right",
    "down": "up",
    "up": "down",
    "grow": "shrink",
    "shrink": "grow",
}


def _motion_path(motion, rng, frames, size):
    """The centre (cx, cy) and radius r of the shape in each frame, three arrays (frames,).

    Only the forward motions ("right", "down", "grow") are drawn; "left", "up" and "shrink"
    are those paths reversed in time, so each reversed class has exactly the frames of its
    partner, in the opposite order.
    """
    forward = motion if motion in ("right", "down", "grow") else MOTION_REVERSAL[motion]
    s = np.linspace(0.0, 1.0, frames)  # (frames,): the fraction of the way
    top = size - 1.0
    if forward == "grow":
        r0, r1 = rng.uniform(1.0, 2.0), rng.uniform(4.0, 5.5)
        cx, cy = rng.uniform(r1, top - r1, size=2)
        path = (np.full(frames, cx), np.full(frames, cy), r0 + (r1 - r0) * s)
    else:
        r = rng.uniform(1.5, 3.0)
        d = rng.uniform(5.0, 8.0)  # the distance travelled over the clip
        start = rng.uniform(r, top - r - d)
        across = rng.uniform(r, top - r)
        along = start + d * s
        cx, cy = (
            (along, np.full(frames, across))
            if forward == "right"
            else (np.full(frames, across), along)
        )
        path = (cx, cy, np.full(frames, r))
    if forward != motion:
        path = tuple(a[::-1].copy() for a in path)
    return path


def _render_shape(kind, cx, cy, r, size):
    """One (size, size) frame: a disc or square of radius r at (cx, cy), edges anti-aliased."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    if kind == "disc":
        dist = np.hypot(x - cx, y - cy)
    else:
        dist = np.maximum(np.abs(x - cx), np.abs(y - cy))
    return np.clip(r + 0.5 - dist, 0.0, 1.0)


def moving_shapes(n, rng, *, frames=11, size=16, noise=0.05):
    """Short clips of one moving shape, whose class is its motion (action recognition).

    Each clip shows a disc or a square (chosen at random) that moves right, left, down or
    up by 5 to 8 pixels, or grows or shrinks between radii of 1-2 and 4-5.5 pixels, on a
    dark background with Gaussian pixel noise. The data are generated here from the
    generator, nothing is read or downloaded. Every class is the time reversal of another
    (:data:`MOTION_REVERSAL`): "left" clips are "right" paths played backwards, so the
    frames of a class and of its reversal have the same distribution, and only the order
    of the frames tells them apart. Classes are balanced (``n`` is a multiple of 6).

    Args:
        n: number of clips, a positive multiple of ``len(MOTIONS)`` (6).
        rng: a ``numpy.random.Generator`` or an int seed.
        frames: frames per clip T, an int >= 2 (odd by default, so that the middle frame
            is halfway along the path in a clip and in its reversal alike).
        size: frame height and width S in pixels, an int >= 16.
        noise: standard deviation of the Gaussian pixel noise, a finite float >= 0.

    Returns:
        ``(x, y)``: x of shape (n, T, 1, S, S), float32; y of shape (n,), int64, the index
        of the motion in :data:`MOTIONS`.
    """
    n = check_int("n", n)
    if n % len(MOTIONS):
        raise ValueError(f"n must be a multiple of {len(MOTIONS)} (balanced classes), got {n}")
    frames = check_int("frames", frames, minimum=2)
    size = check_int("size", size, minimum=16)
    _check_noise(noise)
    g = _rng(rng)
    y = g.permutation(np.arange(n) % len(MOTIONS)).astype(np.int64)  # (n,)
    x = np.empty((n, frames, 1, size, size), dtype=np.float32)  # (n, T, 1, S, S)
    for i, label in enumerate(y):
        kind = "disc" if g.random() < 0.5 else "square"
        cx, cy, r = _motion_path(MOTIONS[label], g, frames, size)
        for t in range(frames):
            x[i, t, 0] = _render_shape(kind, cx[t], cy[t], r[t], size)
    x += g.normal(0.0, noise, size=x.shape).astype(np.float32) if noise > 0 else 0.0
    return x, y


SCENE_COLOURS = {
    "red": (1.0, 0.1, 0.1),
    "green": (0.1, 0.9, 0.1),
    "blue": (0.2, 0.3, 1.0),
    "yellow": (1.0, 0.9, 0.1),
}
SCENE_SHAPES = ("circle", "square", "triangle")
SCENE_RELATIONS = ("left of", "above")


def scene_descriptions():
    """Every description of a two-object scene: "a <colour> <shape> <relation> a <colour> <shape>".

    The two objects differ (in colour, shape or both); the relation is "left of" or
    "above", and the object named first is always the one on the left (or on top), so
    a scene has exactly one description. 12 objects give 12 * 11 * 2 = 264 descriptions,
    in a fixed order.
    """
    objects = [f"{c} {s}" for c in SCENE_COLOURS for s in SCENE_SHAPES]
    return [
        f"a {a} {rel} a {b}" for rel in SCENE_RELATIONS for a in objects for b in objects if a != b
    ]


def _scene_parts(description):
    """("red circle", "left of", "blue square") from "a red circle left of a blue square"."""
    words = description.split(" ")
    return " ".join(words[1:3]), " ".join(words[3:-3]), " ".join(words[-2:])


def scene_description_split(rng, *, test_fraction=0.2):
    """Split :func:`scene_descriptions` at random into (train, test) lists, disjoint.

    The held-out descriptions are combinations never shown in training; every word, object
    and relation in them also occurs in the training list (checked; the split is redrawn
    from the same generator until it holds).

    Args:
        rng: a ``numpy.random.Generator`` or an int seed.
        test_fraction: the fraction of descriptions held out, in (0, 0.5].

    Returns:
        ``(train, test)``: two lists of strings, in the order of :func:`scene_descriptions`.
    """
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, (int, float))
        or not (0 < test_fraction <= 0.5)
    ):
        raise ValueError(f"test_fraction must be a number in (0, 0.5], got {test_fraction!r}")
    g = _rng(rng)
    every = scene_descriptions()
    k = max(1, round(test_fraction * len(every)))
    while True:
        held = set(g.permutation(len(every))[:k].tolist())
        train = [d for i, d in enumerate(every) if i not in held]
        test = [d for i, d in enumerate(every) if i in held]
        # each object of a held-out description occurs in the same position in training
        firsts = {_scene_parts(d)[0] for d in train}
        seconds = {_scene_parts(d)[2] for d in train}
        if all(_scene_parts(d)[0] in firsts and _scene_parts(d)[2] in seconds for d in test):
            return train, test


def _render_object(image, shape, colour, cx, cy, r):
    """Paint one object (in place) on an RGB image (3, S, S)."""
    size = image.shape[-1]
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    if shape == "circle":
        mask = np.hypot(x - cx, y - cy) <= r
    elif shape == "square":
        mask = np.maximum(np.abs(x - cx), np.abs(y - cy)) <= 0.85 * r
    else:  # a triangle, apex up: half-width grows from 0 at the top to r at the base
        top = cy - r
        mask = (y >= top) & (y <= cy + r) & (np.abs(x - cx) <= (y - top) / 2.0 + 0.5)
    image[:, mask] = np.asarray(colour)[:, None]


def scene_images(descriptions, rng, *, size=24, noise=0.05):
    """Render one scene (an RGB image) for each description, at random positions and sizes.

    The two objects of "a A left of a B" have centres 9 to 12 pixels apart horizontally and
    at most 4 apart vertically (for "above", the other way round), radii of 3 to 4 pixels,
    and never overlap; Gaussian pixel noise is added. Generated here from the generator.

    Args:
        descriptions: a list of strings from :func:`scene_descriptions`.
        rng: a ``numpy.random.Generator`` or an int seed.
        size: image height and width S, an int >= 24.
        noise: standard deviation of the pixel noise, a finite number >= 0.

    Returns:
        images of shape (N, 3, S, S), float32.
    """
    if isinstance(descriptions, str) or not isinstance(descriptions, (list, tuple)):
        raise ValueError(
            f"descriptions must be a list of strings, got {type(descriptions).__name__}"
        )
    known = set(scene_descriptions())
    for i, d in enumerate(descriptions):
        if d not in known:
            raise ValueError(f"descriptions[{i}] is not a scene description: {d!r}")
    size = check_int("size", size, minimum=24)
    _check_noise(noise)
    g = _rng(rng)
    images = np.zeros((len(descriptions), 3, size, size), dtype=np.float32)  # (N, 3, S, S)
    margin = 4.5
    for i, d in enumerate(descriptions):
        first, rel, second = _scene_parts(d)
        r = g.uniform(3.0, 4.0, size=2)
        apart = g.uniform(9.0, 12.0)
        a0 = g.uniform(margin, size - 1 - margin - apart)  # along the relation's axis
        b0 = g.uniform(margin + 2, size - 1 - margin - 2)
        across = b0 + g.uniform(-2.0, 2.0, size=2)
        along = (a0, a0 + apart)
        for k, obj in enumerate((first, second)):
            colour, shape = obj.split(" ")
            cx, cy = (along[k], across[k]) if rel == "left of" else (across[k], along[k])
            _render_object(images[i], shape, SCENE_COLOURS[colour], cx, cy, r[k])
    if noise > 0:
        images += g.normal(0.0, noise, size=images.shape).astype(np.float32)
    return images
