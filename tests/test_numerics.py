"""rnnbook._numerics: NumPy's code paths, pinned where the processor has AVX2 and FMA."""

import os
import subprocess
import sys

from rnnbook import _numerics

PROBE = (
    "import os, rnnbook, numpy, threadpoolctl\n"
    "info = threadpoolctl.threadpool_info()\n"
    "blas = [i['architecture'] for i in info if i['internal_api'] == 'openblas']\n"
    "print(blas[0] if blas else '-')\n"
)


def _probe(env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in _numerics.pinned() and k != "NPY_DISABLE_CPU_FEATURES"
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_importing_rnnbook_first_pins_openblas_where_avx2_exists(tmp_path):
    if not _numerics.pinned():
        return  # not x86-64 with AVX2: nothing is pinned, and nothing to check
    assert _probe({}) == ["Haswell"]


def test_a_value_already_set_is_kept():
    if not _numerics.pinned():
        return
    assert _probe({"OPENBLAS_CORETYPE": "Sandybridge"}) == ["Sandybridge"]


def test_nothing_is_pinned_without_avx2(tmp_path):
    no_avx2 = tmp_path / "cpuinfo"
    no_avx2.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx\n")
    assert _numerics.pinned(no_avx2) == {}
    both = tmp_path / "cpuinfo2"
    both.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n")
    assert _numerics.pinned(both)["OPENBLAS_CORETYPE"] == "Haswell"
    assert _numerics.pinned(tmp_path / "missing") == {}
