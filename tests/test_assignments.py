"""The nbgrader assignments under assignments/source grade correctly.

For every assignment, one temporary course folder: ``nbgrader generate_assignment`` writes the
student version, then ``nbgrader autograde`` grades, in one call, a blank submission, a solved
one, one per planted bug, one that calls the book's implementation, and one whose gradients are
off by a relative 2e-6 (accepted); for the first assignment also one off by 1e-3 (rejected).
The scores are read from nbgrader's gradebook and printed (``pytest -s``).
"""

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments" / "source"
CONFIG = ROOT / "assignments" / "nbgrader_config.py"
BIN = Path(sys.executable).parent
ASSIGNMENTS = sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").is_file())

# A relative error of 2e-6 (float32 arithmetic, sums in another order) must pass the
# tolerance TOL = 1e-5 of every assignment; one of 1e-3 must not.
SCALE_OK, SCALE_BAD = 2e-6, 1e-3

# Per assignment: the planted bugs, each (student, cell, text, replacement, the graded cells it
# must fail: those that test the function, directly or through the function that calls it), and
# the cell whose return statement is scaled to test the tolerance, with the cells that check it.
PLANTED = {
    "bptt": dict(
        bugs=[
            # a missing transpose in the backward pass: dU comes out transposed
            (
                "bug_transpose",
                "bptt_full",
                'grads["U"] += dz.T @ hs[t]',
                'grads["U"] += hs[t].T @ dz',
                {"test_full"},
            ),
            # an off-by-one in the truncation window: k2 - 1 steps instead of k2
            (
                "bug_window",
                "bptt_truncated",
                "start = max(0, end - k2)",
                "start = max(0, end - k2 + 1)",
                {"test_truncated"},
            ),
        ],
        cheat=(
            "bptt_full",
            """\
def bptt_full(x, y, params, h0):
    from rnnbook.scratch import bptt

    return bptt.full("srn", x, y, params, h0=h0, loss="squared")
""",
            {"test_full"},
        ),
        scaled=(
            "bptt_full",
            "return L, grads",
            "return {f}(L), {{k: {f}(v) for k, v in grads.items()}}",
            {"test_full"},
        ),
    ),
    "recursive_tree": dict(
        bugs=[
            # the children's halves of the gradient exchanged: the left child gets the right's
            (
                "bug_children",
                "tree_backward",
                "dh[left] += d_stacked[:, :H]\n        dh[right] += d_stacked[:, H:]",
                "dh[left] += d_stacked[:, H:]\n        dh[right] += d_stacked[:, :H]",
                {"test_backward"},
            ),
            # the shared W's gradient overwritten at each node instead of summed over the nodes
            (
                "bug_shared",
                "tree_backward",
                'grads["W"] += da.T @ stacked',
                'grads["W"] = da.T @ stacked',
                {"test_backward"},
            ),
            # exercise 6-4 with the blocks of W exchanged: U = W_2, W = W_1
            (
                "bug_blocks",
                "chain_as_srn",
                '{"U": params["W"][:, :H].copy(), "W": params["W"][:, H:].copy()}',
                '{"U": params["W"][:, H:].copy(), "W": params["W"][:, :H].copy()}',
                {"test_chain"},
            ),
        ],
        # a backward pass that hands the work to the book's implementation
        cheat=(
            "tree_backward",
            """\
from rnnbook.scratch import recursive as book


def tree_backward(d_root, tree, leaf_inputs, params, states):
    _, cache = book.forward(tree, leaf_inputs, params)
    return book.backward(d_root, cache)
""",
            {"test_backward"},
        ),
        scaled=(
            "tree_backward",
            "return d_leaf_inputs, grads",
            "return {f}(d_leaf_inputs), {{k: {f}(v) for k, v in grads.items()}}",
            {"test_backward"},
        ),
    ),
    "rtrl": dict(
        bugs=[
            # a missing transpose: U^T S_{t-1} carried instead of U S_{t-1}
            (
                "bug_transpose",
                "rtrl_step",
                'np.einsum("ij,njp->nip", U, S_prev)',
                'np.einsum("ji,njp->nip", U, S_prev)',
                {"test_step", "test_gradients"},
            ),
            # an off-by-one: the first step's loss never reaches the gradient
            (
                "bug_off_by_one",
                "rtrl_gradients",
                'g += np.einsum("nk,nkp->p", do @ V, S)',
                'g += np.einsum("nk,nkp->p", do @ V, S) * (t > 0)',
                {"test_gradients"},
            ),
        ],
        cheat=(
            "rtrl_gradients",
            """\
def rtrl_gradients(x, y, params, h0):
    from rnnbook.scratch import rtrl

    return rtrl.gradients("srn", x, y, params, h0=h0, loss="squared")
""",
            {"test_gradients"},
        ),
        scaled=(
            "rtrl_gradients",
            "return L, grads",
            "return {f}(L), {{k: {f}(v) for k, v in grads.items()}}",
            {"test_gradients"},
        ),
    ),
    "srn_step": dict(
        bugs=[
            # a missing transpose: dU comes out as its transpose (U is square, so no shape error)
            (
                "bug_transpose",
                "srn_step_backward",
                '"U": dz.T @ h_prev',
                '"U": h_prev.T @ dz',
                {"test_step_backward", "test_backward"},
            ),
            # an off-by-one in the loop of BPTT: the first step is never visited
            (
                "bug_off_by_one",
                "srn_backward",
                "reversed(range(T))",
                "reversed(range(1, T))",
                {"test_backward"},
            ),
        ],
        # a backward step that hands the work to the book's implementation
        cheat=(
            "srn_step_backward",
            """\
def srn_step_backward(dh_t, cache):
    from rnnbook.scratch import srn as book

    x_t, h_prev, h_t, params = cache
    _, book_cache = book.step_forward(x_t, h_prev, params)
    return book.step_backward(dh_t, book_cache)
""",
            {"test_step_backward", "test_backward"},
        ),
        scaled=(
            "srn_step_backward",
            "return dx_t, dh_prev, grads",
            "return {f}(dx_t), {f}(dh_prev), {{k: {f}(v) for k, v in grads.items()}}",
            {"test_step_backward", "test_backward"},
        ),
    ),
    "gru_step": dict(
        bugs=[
            # a wrong sign in the update gate's derivative: dh_t/dz_t = h_{t-1} - h~_t for "keep"
            (
                "bug_sign",
                "gru_step_backward",
                "dz = dh_t * (h_prev - h_tilde)",
                "dz = dh_t * (h_tilde - h_prev)",
                {"test_backward_before", "test_backward_after"},
            ),
            # the reset gate missing in the candidate's backward: d(r * h_{t-1})/dh_{t-1} taken as 1
            (
                "bug_reset",
                "gru_step_backward",
                "dh_prev = dh_prev + d_rh * r",
                "dh_prev = dh_prev + d_rh",
                {"test_backward_before"},
            ),
            # only the update gate's bias negated: "replace" is then another cell
            (
                "bug_mapping",
                "replace_params",
                'for key in ("W_z", "U_z", "b_z"):',
                'for key in ("b_z",):',
                {"test_keep_is_replace"},
            ),
        ],
        # a backward step that hands the work to the book's implementation, through an alias
        cheat=(
            "gru_step_backward",
            """\
from rnnbook.scratch.gru import step_backward as book_backward


def gru_step_backward(dh_t, cache):
    options = {"reset": cache["reset"], "update": cache["update"]}
    ref = {**cache, "cell": "gru", "kind": "step", "options": options}
    return book_backward(dh_t, ref, check=False)
""",
            {"test_backward_before", "test_backward_after"},
        ),
        scaled=(
            "gru_step_backward",
            "return dx_t, dh_prev, grads",
            "return {f}(dx_t), {f}(dh_prev), {{k: {f}(v) for k, v in grads.items()}}",
            {"test_backward_before", "test_backward_after"},
        ),
    ),
    "lstm_step": dict(
        bugs=[
            # a wrong sign in the coupled gate's derivative: d f_t / d i_t = -1, taken as +1
            (
                "bug_sign",
                "lstm_step_backward",
                "di = di - dc * c_prev",
                "di = di + dc * c_prev",
                {"test_backward_coupled"},
            ),
            # a wrong sign in the forget gate's sigmoid derivative
            (
                "bug_sigmoid",
                "lstm_step_backward",
                "f * (1 - f)",
                "f * (f - 1)",
                {"test_backward_standard"},
            ),
        ],
        # a backward step that hands the work to the book's implementation, through an alias
        cheat=(
            "lstm_step_backward",
            """\
from rnnbook.scratch.lstm import step_backward as book_backward


def lstm_step_backward(dh_t, dc_t, cache):
    ref = {**cache, "cell": "lstm", "kind": "step", "options": {"variant": cache["variant"]}}
    dx_t, (dh_prev, dc_prev), grads = book_backward((dh_t, dc_t), ref, check=False)
    return dx_t, dh_prev, dc_prev, grads
""",
            {"test_backward_standard", "test_backward_coupled"},
        ),
        scaled=(
            "lstm_step_backward",
            "return dx_t, dh_prev, dc_prev, grads",
            "return {f}(dx_t), {f}(dh_prev), {f}(dc_prev), "
            + "{{k: {f}(v) for k, v in grads.items()}}",
            {"test_backward_standard", "test_backward_coupled"},
        ),
    ),
}

MARKERS = (
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
)


def _nbgrader(course: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _blocks(text: str, begin: str, end: str) -> list[str]:
    return re.findall(rf"{re.escape(begin)}\n(.*?){re.escape(end)}", text, flags=re.S)


def _without_markers(text: str) -> str:
    lines = [line for line in text.split("\n") if line.strip() not in MARKERS]
    return "\n".join(lines)


def _write_submission(course: Path, name: str, student: str, nb) -> None:
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def _solved(release, source):
    """The student version with every solution cell filled in from the source."""
    solutions = {_meta(c)["grade_id"]: c.source for c in source.cells if _meta(c).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if _meta(cell).get("solution"):
            cell.source = _without_markers(solutions[_meta(cell)["grade_id"]])
    return nb


def _replace(nb, cell_id: str, old: str, new: str):
    nb = copy.deepcopy(nb)
    (cell,) = [c for c in nb.cells if _meta(c).get("grade_id") == cell_id]
    if old is None:  # the whole cell
        cell.source = new
        return nb
    assert cell.source.count(old) == 1, f"{old!r} must occur once in {cell_id}"
    cell.source = cell.source.replace(old, new)
    return nb


class Course:
    """One graded course folder for one assignment."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        shutil.copytree(SOURCE / name, folder / "source" / name)
        shutil.copy(CONFIG, folder / "nbgrader_config.py")
        self.source = nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)
        _nbgrader(folder, "generate_assignment", name, "--force")
        self.release_path = folder / "release" / name / f"{name}.ipynb"
        self.release = nbformat.read(self.release_path, as_version=4)
        plan = PLANTED[name]
        solved = _solved(self.release, self.source)
        self.expected_lost = {"solved": set(), "blank": self.graded_cells()}
        submissions = {"blank": self.release, "solved": solved}
        for student, cell_id, old, new, lost in plan["bugs"]:
            submissions[student] = _replace(solved, cell_id, old, new)
            self.expected_lost[student] = set(lost)
        cell_id, text, lost = plan["cheat"]
        submissions["cheat"] = _replace(solved, cell_id, None, text)
        self.expected_lost["cheat"] = set(lost)
        cell_id, old, template, lost = plan["scaled"]
        tolerance_cases = [("off_2e-6", SCALE_OK, set())]
        if name == ASSIGNMENTS[0]:  # every assignment has the same TOL (tested below)
            tolerance_cases.append(("off_1e-3", SCALE_BAD, set(lost)))
        for student, scale, expect in tolerance_cases:
            wrapper = f"(lambda a: a * (1 + {scale}))"
            submissions[student] = _replace(solved, cell_id, old, template.format(f=wrapper))
            self.expected_lost[student] = expect
        for student, nb in submissions.items():
            _write_submission(folder, name, student, nb)
        _nbgrader(folder, "autograde", name, "--force")
        self.scores = {}
        with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
            for student in submissions:
                sub = gb.find_submission_notebook(name, name, student)
                self.scores[student] = {g.name: (g.score, g.max_score) for g in sub.grades}

    def graded_cells(self) -> set[str]:
        return {_meta(c)["grade_id"] for c in self.source.cells if _meta(c).get("grade")}

    def autograded(self, student: str):
        path = self.folder / "autograded" / student / self.name / f"{self.name}.ipynb"
        return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def course(request, tmp_path_factory):
    return Course(request.param, tmp_path_factory.mktemp(request.param))


def test_there_are_assignments_and_each_has_planted_bugs():
    assert ASSIGNMENTS, f"no assignment under {SOURCE}"
    assert sorted(PLANTED) == ASSIGNMENTS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_source_notebook_with_its_solutions_passes_every_test(name, tmp_path):
    nb = nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)
    assert any(_blocks(c.source, *MARKERS[2:]) for c in nb.cells), "no hidden tests"
    shutil.copytree(SOURCE / name, tmp_path / name)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / name)}},
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_assignment_states_points_goals_and_chapter(name):
    nb = nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)
    head = nb.cells[0].source
    points = sum(_meta(c).get("points", 0) for c in nb.cells if _meta(c).get("grade"))
    assert f"**Points: {points}**" in head
    assert "After this assignment you can" in head
    chapters = re.findall(r"chapter (\d+), \*([^*]+)\*", head)
    assert chapters, "the header names the chapter it follows"
    for number, title in chapters:
        (chapter,) = (ROOT / "chapters").glob(f"{int(number):02d}_*.ipynb")
        first = nbformat.read(chapter, as_version=4).cells[0].source.split("\n")[0]
        assert first == f"# {title}", (first, title)
    for cell in nb.cells:  # every cell is marked for nbgrader, with a unique id
        assert _meta(cell).get("schema_version") == 3, cell.source[:60]
    ids = [_meta(c)["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids))


def test_every_assignment_has_the_same_set_up_and_tolerance():
    """One set-up cell (TOL, the recorder of calls into the package) for all assignments."""
    setups = set()
    for name in ASSIGNMENTS:
        nb = nbformat.read(SOURCE / name / f"{name}.ipynb", as_version=4)
        (cell,) = [c for c in nb.cells if _meta(c).get("grade_id") == "setup"]
        assert _meta(cell)["locked"] and "TOL = 1e-5" in cell.source
        setups.add(cell.source)
    assert len(setups) == 1


def _hidden_lines(source, begin: str, end: str) -> set[str]:
    """Lines inside the blocks that appear nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in source.cells:
        blocks = _blocks(cell.source, begin, end)
        for block in blocks:
            inside |= {line.strip() for line in block.split("\n") if len(line.strip()) > 6}
        rest = cell.source
        for block in blocks:
            rest = rest.replace(block, "")
        outside |= {line.strip() for line in rest.split("\n")}
    return inside - outside


def _leaks(nb, lines: set[str]) -> set[str]:
    text = {line.strip() for cell in nb.cells for line in cell.source.split("\n")}
    return lines & text


def test_the_student_version_holds_no_solution_and_no_hidden_test(course):
    text = course.release_path.read_text()
    for marker in MARKERS:
        assert marker not in text
    for begin, end in (MARKERS[:2], MARKERS[2:]):
        lines = _hidden_lines(course.source, begin, end)
        assert len(lines) >= 5, (begin, lines)
        assert _leaks(course.source, lines) == lines  # the search finds them where they are
        assert not _leaks(course.release, lines)


def test_the_blank_version_fails_only_with_its_unfinished_functions(course):
    nb = course.autograded("blank")  # the student version, with the hidden tests put back
    errors = [
        o.ename
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors and set(errors) == {"NotImplementedError"}, errors


def test_the_grades(course):
    graded = course.graded_cells()
    total = sum(m for _, m in course.scores["solved"].values())
    for student, scores in course.scores.items():
        got = sum(s for s, _ in scores.values())
        print(f"{course.name:14s} {student:15s} {got:g} / {total:g}")
    for student, lost in course.expected_lost.items():
        scores = course.scores[student]
        assert set(scores) == graded
        failed = {cell for cell, (score, maximum) in scores.items() if score < maximum}
        assert failed == lost, (student, failed, lost)
        for cell, (score, maximum) in scores.items():
            assert score == (0 if cell in lost else maximum), (student, cell, score)


def test_feedback_is_written_for_a_graded_submission(course):
    if course.name != ASSIGNMENTS[0]:
        pytest.skip("nbgrader's feedback is checked on one assignment (it takes seconds each)")
    student = next(s for s in course.expected_lost if s.startswith("bug"))
    _nbgrader(course.folder, "generate_feedback", course.name, "--student", student, "--force")
    page = course.folder / "feedback" / student / course.name / f"{course.name}.html"
    text = page.read_text()
    assert "AssertionError" in text  # the failed test's message is on the page
    got = sum(score for score, _ in course.scores[student].values())
    total = sum(maximum for _, maximum in course.scores[student].values())
    assert f"Score: {got:.1f} / {total:.1f}" in text
