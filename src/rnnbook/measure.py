"""How long a call takes, and how much memory it allocates at its peak.

Two small measuring functions for the chapters that compare the cost of
algorithms (BPTT against RTRL, for instance):

- :func:`time_call` runs a function several times and returns the median
  wall-clock time in seconds. The median, not the mean, because one run
  interrupted by the operating system should not move the result.
- :func:`peak_memory` runs a function once under :mod:`tracemalloc` and
  returns the largest number of bytes allocated at one time during the call,
  counted from the start of the call. NumPy reports its array buffers to
  tracemalloc, so for NumPy code this is the peak of the arrays created
  (activations stored for the backward pass, gradients, temporaries). PyTorch
  tensors are not seen by tracemalloc.

Timings vary from run to run and machine to machine; tracemalloc's count
depends only on what the Python code allocates, so for a fixed NumPy
computation it repeats, except that the first call of a function may count a
few hundred bytes more (Python fills its internal caches then). Round it to
kilobytes, or call once before measuring.
"""

import statistics
import time
import tracemalloc
from collections.abc import Callable

from rnnbook._checks import check_int, describe


def _check_callable(f) -> None:
    if not callable(f):
        raise ValueError(f"f must be a callable taking no arguments, got {describe(f)}")


def time_call(f: Callable[[], object], repeat: int = 5) -> float:
    """The median wall-clock time of ``f()`` over ``repeat`` runs, in seconds.

    Args:
        f: a function of no arguments (wrap arguments with a lambda or
            ``functools.partial``); its result is discarded.
        repeat: how many times to run it, an int >= 1.

    Returns:
        the median of the ``repeat`` durations measured with
        :func:`time.perf_counter`, a float >= 0.
    """
    _check_callable(f)
    check_int("repeat", repeat, minimum=1)
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        durations.append(time.perf_counter() - start)
    return float(statistics.median(durations))


def peak_memory(f: Callable[[], object]) -> int:
    """The peak memory allocated during ``f()``, in bytes, as tracemalloc counts it.

    The count starts at zero when ``f`` is called, so memory held before the
    call is not included; memory ``f`` allocates and keeps (its result) is.
    If tracemalloc was already tracing, it keeps tracing afterwards and its
    peak is reset; otherwise it is stopped again.

    Args:
        f: a function of no arguments; its result is discarded after the
            measurement.

    Returns:
        the peak in bytes, an int >= 0.
    """
    _check_callable(f)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        result = f()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(int(peak - start), 0)
