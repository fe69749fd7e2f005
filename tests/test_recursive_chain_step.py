"""Chapter 9: the chain step proved for every H, and the message for inputs with D != H."""

import numpy as np
import pytest

from rnnbook.scratch import recursive as rec
from rnnbook.symbolic import recursive as sym_rec


def test_the_chain_step_holds_for_every_size_and_fails_with_the_blocks_exchanged():
    proof = sym_rec.chain_step_any_size()
    assert proof.holds and "zero matrix" in proof.method
    assert proof.lhs.shape == proof.rhs.shape and proof.lhs.shape[1] == 1
    wrong = sym_rec.chain_step_any_size(blocks="[W | U]")
    assert not wrong.holds and "not the zero matrix" in wrong.method
    assert "checkmark" in proof.latex() and "does not hold" in wrong.latex()


def test_the_chain_step_names_its_choices():
    with pytest.raises(ValueError, match="blocks: expected one of"):
        sym_rec.chain_step_any_size(blocks="[U, W]")


def test_inputs_of_another_size_than_h_are_refused_naming_d_and_h():
    p = rec.init_params(3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"size D = 4 but params\['W'\] has H = 3"):
        rec.forward(((0, 1), (2, 3)), np.zeros((4, 2, 4)), p)
    # a W that is not (H, 2H) at all keeps the shape message of check_params
    with pytest.raises(ValueError, match=r"params\['W'\] must have shape"):
        rec.forward((0, 1), np.zeros((2, 1, 3)), {"W": np.zeros((3, 5)), "b": np.zeros(3)})
