"""rnnbook.streams: endless generators with the targets they promise and constant memory."""

import itertools
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.streams import delayed_parity


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    delays=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True).map(tuple),
    B=st.integers(1, 4),
)
def test_targets_are_the_parity_of_the_delayed_bits(seed, delays, B):
    steps = list(
        itertools.islice(delayed_parity(np.random.default_rng(seed), delays, batch_size=B), 40)
    )
    x = np.stack([s[0] for s in steps])  # (T, B, 1)
    y = np.stack([s[1] for s in steps])  # (T, B)
    assert x.shape == (40, B, 1) and x.dtype == np.float64
    assert y.shape == (40, B) and y.dtype == np.int64
    assert set(np.unique(x)) <= {-1.0, 1.0}
    bits = ((x[:, :, 0] + 1) // 2).astype(np.int64)  # s_t (T, B)
    padded = np.concatenate([np.zeros((max(delays), B), dtype=np.int64), bits])
    expected = np.zeros_like(y)
    for d in delays:
        # s_{t-d}, with zeros before the start
        expected ^= padded[max(delays) - d : max(delays) - d + 40]
    np.testing.assert_array_equal(y, expected)


def test_delayed_echo_and_xor_by_hand():
    rng = np.random.default_rng(3)
    steps = list(itertools.islice(delayed_parity(rng, (2,)), 30))
    s = [(int(x[0, 0]) + 1) // 2 for x, _ in steps]
    assert [int(y[0]) for _, y in steps] == [0, 0] + s[:-2]
    rng = np.random.default_rng(3)
    steps = list(itertools.islice(delayed_parity(rng, (1, 2)), 30))
    s = [(int(x[0, 0]) + 1) // 2 for x, _ in steps]
    assert [int(y[0]) for _, y in steps][2:] == [s[t - 1] ^ s[t - 2] for t in range(2, 30)]
    # the stream's bits are fair coins: a loose check that would catch a constant stream
    assert 0.3 < np.mean(s) < 0.7


def test_same_seed_same_stream_and_no_end():
    a = delayed_parity(np.random.default_rng(5), (1, 3), batch_size=2)
    b = delayed_parity(np.random.default_rng(5), (1, 3), batch_size=2)
    for (xa, ya), (xb, yb) in itertools.islice(zip(a, b, strict=True), 5000):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_memory_does_not_grow_with_the_number_of_steps():
    import rnnbook.streams

    B = 3
    stream = delayed_parity(np.random.default_rng(0), (1, 4), batch_size=B)
    next(stream)
    only_streams = [tracemalloc.Filter(True, rnnbook.streams.__file__)]

    def run(n):
        """(bytes still held by streams.py after n more steps, peak bytes traced during them)"""
        tracemalloc.start()
        for _ in itertools.islice(stream, n):
            pass
        held = tracemalloc.take_snapshot().filter_traces(only_streams)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return sum(stat.size for stat in held.statistics("filename")), peak

    held_short, _ = run(500)
    held_long, peak_long = run(20_000)
    # what the stream keeps is the same after 500 steps as after 20,000 ...
    assert held_long <= held_short + 256
    # ... and the peak (which also counts any other thread's allocations, so it is not
    # compared exactly) stays far below what keeping the steps would take: 20,000
    # steps of x (B floats) and y (B ints) are 960 kB
    assert peak_long < 20_000 * B * 16 // 10


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rng": 0}, "numpy.random.Generator"),
        ({"delays": ()}, "non-empty tuple"),
        ({"delays": [1, 2]}, "non-empty tuple"),
        ({"delays": (1, -1)}, "each delay"),
        ({"delays": (1, 1.5)}, "each delay"),
        ({"delays": (2, 2)}, "distinct"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
    ],
)
def test_bad_arguments_raise_before_the_first_step(kwargs, match):
    args = {"rng": np.random.default_rng(0), "delays": (1, 2), "batch_size": 1} | kwargs
    rng = args.pop("rng")
    delays = args.pop("delays")
    with pytest.raises(ValueError, match=match):
        delayed_parity(rng, delays, **args)
