"""The cells' option values and gate letters are spelled out in rnnbook/cells.py only.

Every other module reads them from there (rnnbook.cells.OPTIONS, gates, param_shapes).
A tuple, list or set literal in code whose elements are two or more values of one
option (e.g. ``("before", "after")``) or two or more gate letters of one cell,
anywhere else in the package, is a second copy that can drift from the first.
(Docstrings may list the values for the reader; they are not scanned.)
"""

import ast
from pathlib import Path

import pytest

from rnnbook import cells

SRC = Path(cells.__file__).resolve().parent
#: modules whose own options happen to share names with a cell's (the TDNN's activation)
OWN_OPTIONS = {"delay.py"}

GROUPS = [set(values) for options in cells.OPTIONS.values() for values in options.values()]
GROUPS += [set(cells.gates("lstm")), set(cells.gates("gru"))]


def find_copies(source: str) -> list[tuple]:
    """The literals in ``source`` made only of two or more values of one group."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            continue
        items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(items) < 2 or len(items) != len(node.elts) or len(set(items)) < 2:
            continue
        if any(all(isinstance(i, str) and i in g for i in items) for g in GROUPS):
            found.append(tuple(items))
    return found


def _sources():
    return sorted(p for p in SRC.rglob("*.py") if p.name not in {"cells.py", *OWN_OPTIONS})


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_spells_out_option_values_or_gate_letters(path):
    assert find_copies(path.read_text(encoding="utf-8")) == []


def test_the_scan_finds_a_planted_copy():
    assert find_copies('if variant in ("no_forget", "coupled"):\n    pass') == [
        ("no_forget", "coupled")
    ]
    assert find_copies("gates = ['z', 'r', 'h']") == [("z", "r", "h")]
    assert find_copies('keys = ("i", "f", "c_tilde")') == []
    assert find_copies('"""("before", "after")"""') == []
