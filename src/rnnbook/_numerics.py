"""NumPy's arithmetic pinned to the code paths of a processor with AVX2, on every x86-64 one.

NumPy's matrix products and linear algebra (OpenBLAS) and its own loops (``np.tanh``,
``np.exp``, sums) pick kernels for the processor they find: AVX-512 kernels on one machine,
AVX2 kernels on another. The kernels round differently, and an ill-conditioned computation,
such as the ridge regression of an echo state network with a tiny ridge, turns a last-bit
difference into a different second digit. Every number the book prints is compared with a
fresh run, so the package asks NumPy for the AVX2 code paths, which every x86-64 processor
since 2013-2015 runs the same way: OpenBLAS's Haswell kernels, and NumPy's loops without their
AVX-512 variants. Both are read when NumPy is loaded, so ``rnnbook`` is imported before NumPy
(each notebook's first cell does it, and the Makefile sets the same variables for the tests,
the notebooks and the experiments). A variable that is already set is left as it is.

PyTorch's kernels are left as they are: on the machines the outputs were computed on they
already agree. On other processors (ARM, such as Apple's, or x86-64 without AVX2) nothing is
pinned, and printed numbers can differ in the last digits, and after long training by more.
"""

import os
from pathlib import Path

# NumPy's own loops: at most its AVX2 (X86_V3) variants
NUMPY_LOOPS = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
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
    return {**NUMPY_LOOPS, **OPENBLAS}


def pin() -> dict[str, str]:
    """Set the variables of :func:`pinned` that are not set yet; return the values in force."""
    for name, value in pinned().items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in pinned()}


if __name__ == "__main__":  # for the Makefile: NAME='value' pairs for a shell command line
    print(" ".join(f"{name}='{value}'" for name, value in pinned().items()))
