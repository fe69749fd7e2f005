"""One call that fixes every random number generator a chapter uses."""

import os
import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global generator and PyTorch.

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: the book
    passes this generator explicitly wherever NumPy draws numbers, and uses the
    global seeds only as a safety net for code that does not take one.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (legacy global state, seeded on purpose)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # the NumPy chapters run without PyTorch
        pass
    else:
        torch.manual_seed(seed)  # also seeds every CUDA device
    return np.random.default_rng(seed)
