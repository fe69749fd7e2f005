"""Random trees for the tests of the recursive networks (scratch and nn)."""

import numpy as np


def random_tree(n: int, rng, max_children: int = 2):
    """A random tree over leaves 0..n-1, in order: each node splits its range at random."""

    def build(lo, hi):
        if hi - lo == 1:
            return lo
        k = int(rng.integers(2, min(max_children, hi - lo) + 1))
        cuts = sorted(int(c) for c in rng.choice(np.arange(lo + 1, hi), k - 1, replace=False))
        bounds = [lo, *cuts, hi]
        return tuple(build(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True))

    return build(0, n)
