"""rnnbook: the code every chapter of the book imports.

Subpackages are imported on demand (``import rnnbook.scratch.srn``); importing
``rnnbook`` itself loads nothing heavy. It does one thing to the process: it asks NumPy's
OpenBLAS for the kernels that give the same numbers on every x86-64 machine with AVX2
(:mod:`rnnbook._numerics`), so it comes before NumPy.
"""

from rnnbook import _numerics

_numerics.pin()

from rnnbook._seed import seed_everything  # noqa: E402  (after the pin, which NumPy reads)

__all__ = ["seed_everything"]
__version__ = "0.1.0"
