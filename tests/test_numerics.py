"""rnnbook._numerics: NumPy's code paths, pinned where the processor has AVX2 and FMA."""

import os
import subprocess
import sys

from rnnbook import _numerics

PROBE = (
    "import os, rnnbook, numpy, threadpoolctl\n"
    "from numpy._core._multiarray_umath import __cpu_features__ as f\n"
    "info = threadpoolctl.threadpool_info()\n"
    "blas = [i['architecture'] for i in info if i['internal_api'] == 'openblas']\n"
    "print(blas[0] if blas else '-', f.get('X86_V4'), f.get('X86_V3'))\n"
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


def test_importing_rnnbook_first_pins_openblas_and_numpy_where_avx2_exists(tmp_path):
    if not _numerics.pinned():
        return  # not x86-64 with AVX2: nothing is pinned, and nothing to check
    blas, avx512, avx2 = _probe({})
    assert blas == "Haswell" and avx512 == "False" and avx2 == "True"


def test_a_value_already_set_is_kept():
    if not _numerics.pinned():
        return
    blas, _, _ = _probe({"OPENBLAS_CORETYPE": "Sandybridge"})
    assert blas == "Sandybridge"


def test_nothing_is_pinned_without_avx2(tmp_path):
    no_avx2 = tmp_path / "cpuinfo"
    no_avx2.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx\n")
    assert _numerics.pinned(no_avx2) == {}
    both = tmp_path / "cpuinfo2"
    both.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n")
    assert _numerics.pinned(both)["OPENBLAS_CORETYPE"] == "Haswell"
    assert _numerics.pinned(tmp_path / "missing") == {}
