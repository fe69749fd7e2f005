"""rnnbook.measure: median wall-clock time and tracemalloc peak of a call."""

import time
import tracemalloc

import numpy as np
import pytest

from rnnbook.measure import peak_memory, time_call


def test_time_call_is_the_median_of_the_runs():
    sleeps = iter([0.0, 0.3, 0.0])

    def f():
        time.sleep(next(sleeps))

    t = time_call(f, repeat=3)
    # durations about 0, 0.3, 0: the median is a short one, not the mean (0.1) nor the
    # maximum; the bound leaves room for a loaded machine
    assert 0.0 <= t < 0.05


def test_time_call_measures_a_sleep():
    t = time_call(lambda: time.sleep(0.02), repeat=3)
    assert 0.019 <= t < 0.5


def test_time_call_runs_f_repeat_times():
    calls = []
    time_call(lambda: calls.append(1), repeat=4)
    assert len(calls) == 4


def test_peak_memory_counts_a_numpy_buffer():
    n = 1_000_000  # 8 MB of float64
    peak = peak_memory(lambda: np.ones(n))
    assert 8 * n <= peak < 8 * n + 100_000


def test_peak_memory_sees_a_temporary_that_is_freed():
    def f():
        a = np.ones(500_000)  # 4 MB, freed before return
        s = float(a.sum())
        del a
        return s

    assert peak_memory(f) >= 4_000_000


def test_peak_memory_is_reproducible_for_numpy_code():
    def f():
        x = np.zeros((100, 50))
        return [x + i for i in range(10)]

    # 11 buffers of 40 000 bytes; Python's own caches may add a few hundred bytes on a first call
    peaks = [peak_memory(f) for _ in range(4)]
    assert all(440_000 <= p < 445_000 for p in peaks)
    # tracemalloc also counts what other threads (a test runner's, a kernel's) allocate
    # meanwhile, so repeated calls agree to a kilobyte rather than to the byte
    assert max(peaks[1:]) - min(peaks[1:]) < 1024


def test_peak_memory_excludes_memory_held_before_the_call():
    held = np.ones(2_000_000)  # 16 MB allocated before
    peak = peak_memory(lambda: np.ones(10))
    assert peak < 100_000
    del held


def test_peak_memory_leaves_tracemalloc_as_it_found_it():
    assert not tracemalloc.is_tracing()
    peak_memory(lambda: None)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        peak_memory(lambda: None)
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_peak_memory_stops_tracing_when_f_raises():
    def f():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        peak_memory(f)
    assert not tracemalloc.is_tracing()


@pytest.mark.parametrize("bad", [None, 3, "f", np.ones(2)])
def test_not_callable_is_rejected(bad):
    with pytest.raises(ValueError, match="callable"):
        time_call(bad)
    with pytest.raises(ValueError, match="callable"):
        peak_memory(bad)


@pytest.mark.parametrize("repeat", [0, -1, 2.0, True, "3"])
def test_bad_repeat_is_rejected_before_running(repeat):
    calls = []
    with pytest.raises(ValueError, match="repeat"):
        time_call(lambda: calls.append(1), repeat=repeat)
    assert calls == []
