"""NumPy's matrix products pinned to one family of kernels on every x86-64 processor with AVX2.

NumPy's matrix products and linear algebra (OpenBLAS) pick kernels for the processor they
find: AVX-512 kernels on one machine, AVX2 kernels on another. The kernels round differently,
and an ill-conditioned computation, such as the ridge regression of an echo state network with
a tiny ridge, turns a last-bit difference into a different second digit. Every number the book
prints is compared with a fresh run, so the package asks OpenBLAS for its Haswell kernels (AVX2
and FMA), which every x86-64 processor since 2013-2015 runs the same way. OpenBLAS reads the
setting when NumPy loads it, so ``rnnbook`` is imported before NumPy (each notebook's first cell
does it, and the Makefile sets the same variable for the tests, the notebooks and the
experiments). A variable that is already set is left as it is.

NumPy's own loops and PyTorch's kernels are left as they are: on the AMD EPYC machines the
outputs were checked on they reproduce the stored outputs unpinned, and pinning NumPy's loops
to AVX2 as well moved a tie in chapter 5. On other processors (ARM, such as Apple's, or x86-64
without AVX2) nothing is pinned, and printed numbers can differ in the last digits, and after
long training by more.
"""

import os
from pathlib import Path

# OpenBLAS: the kernels it would choose on a Haswell (AVX2 and FMA), where the processor has both
OPENBLAS = {"OPENBLAS_CORETYPE": "Haswell"}


def _has_avx2_and_fma(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "").split()
    return "avx2" in flags and "fma" in flags


def pinned(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, str]:
    """The variables to set on this machine: empty where it lacks AVX2 or is not x86-64."""
    if not _has_avx2_and_fma(cpuinfo):
        return {}
    return dict(OPENBLAS)


def pin() -> dict[str, str]:
    """Set the variables of :func:`pinned` that are not set yet; return the values in force."""
    for name, value in pinned().items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in pinned()}


if __name__ == "__main__":  # for the Makefile: NAME='value' pairs for a shell command line
    print(" ".join(f"{name}='{value}'" for name, value in pinned().items()))
