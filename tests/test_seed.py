"""rnnbook.seed_everything fixes every generator a chapter draws from."""

import random

import numpy as np
import pytest
import torch

from rnnbook import seed_everything


def _draw(seed):
    rng = seed_everything(seed)
    return (
        random.random(),
        np.random.rand(),  # noqa: NPY002  (the legacy global generator is seeded too)
        torch.rand(1).item(),
        rng.standard_normal(),
    )


def test_same_seed_same_numbers():
    assert _draw(7) == _draw(7)


def test_different_seeds_different_numbers():
    first, second = _draw(7), _draw(8)
    assert all(a != b for a, b in zip(first, second, strict=True))


def test_returns_a_generator_seeded_with_the_seed():
    rng = seed_everything(3)
    assert isinstance(rng, np.random.Generator)
    assert rng.random() == np.random.default_rng(3).random()


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3", None, True, np.nan])
def test_bad_seed_is_a_value_error(bad):
    with pytest.raises(ValueError, match="seed must be"):
        seed_everything(bad)
