"""Endless streams for online learning: one time step per ``next()``, no last step.

A dataset in :mod:`rnnbook.data` is a finite array; an online learner such as
:class:`rnnbook.scratch.rtrl.RTRL` instead sees one step at a time, for as long
as it runs. A stream here is a Python generator that never stops; take as many
steps as you want (``itertools.islice(stream, n)``). Its memory is constant: it
keeps only the last few inputs it needs.
"""

from collections.abc import Iterator

import numpy as np

from rnnbook._checks import check_int, check_rng, describe


def delayed_parity(
    rng: np.random.Generator, delays=(1, 2), *, batch_size: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Random bits in, and out the parity (XOR) of the bits seen ``delays`` steps ago.

    At every step t a fresh bit s_t in {0, 1} is drawn for each of the B streams;
    the input is x_t = 2 s_t - 1 in {-1, +1} and the target is

        y_t = s_{t-d_1} XOR s_{t-d_2} XOR ... XOR s_{t-d_k}       (bits before t = 1 are 0)

    With one delay, ``delays=(d,)``, this is a delayed echo (y_t = s_{t-d}); with
    ``(1, 2)`` it is the XOR of the two previous bits. A learner must keep the last
    max(delays) bits in its state.

    Args:
        rng: a ``numpy.random.Generator``; the stream draws its bits from it.
        delays: a non-empty tuple of distinct ints >= 0.
        batch_size: B, the number of independent streams side by side.

    Yields:
        (x_t, y_t): inputs float64 (B, 1) in {-1, +1}, targets int64 (B,) in {0, 1}.
    """
    check_rng(rng)
    check_int("batch_size", batch_size)
    if not isinstance(delays, tuple) or not delays:
        raise ValueError(f"delays must be a non-empty tuple of ints >= 0, got {describe(delays)}")
    for d in delays:
        check_int("each delay", d, minimum=0)
    if len(set(delays)) != len(delays):
        raise ValueError(f"delays must be distinct (a repeated delay cancels), got {delays}")
    return _parity(rng, delays, batch_size)


def _parity(rng, delays, B):
    # the last max(delays) + 1 bits, newest first: past[d] = s_{t-d}   (K, B)
    past = np.zeros((max(delays) + 1, B), dtype=np.int64)
    while True:
        # shift in place (NumPy copies overlapping slices correctly), then draw s_t
        past[1:] = past[:-1]
        past[0] = rng.integers(0, 2, size=B)
        # y_t = XOR over d of s_{t-d}   (B,)
        y = np.bitwise_xor.reduce(past[list(delays)], axis=0)
        # x_t = 2 s_t - 1   (B, 1)
        x = (2.0 * past[0] - 1.0)[:, None]
        yield x, y
