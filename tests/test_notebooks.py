"""Static checks of every notebook; nbval (make test) re-executes them."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_are_notebooks():
    assert NOTEBOOKS, "expected chapter notebooks under chapters/, found none"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_kernelspec_is_python3(path):
    kernelspec = _load(path)["metadata"].get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"kernelspec {kernelspec!r}"
    assert kernelspec.get("language") == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_code_cell_is_stored_with_its_outputs(path):
    """A cell stored unexecuted is run by nbval but never compared."""
    unexecuted = [i for i, c in enumerate(_code_cells(_load(path))) if c["execution_count"] is None]
    assert not unexecuted, f"code cells {unexecuted} were stored without being run"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_cells_were_run_in_order_by_one_kernel(path):
    counts = [c["execution_count"] for c in _code_cells(_load(path))]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_errors_or_warnings_are_stored(path):
    for i, cell in enumerate(_code_cells(_load(path))):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"cell {i} stores an error"
            if output["output_type"] == "stream":
                assert output["name"] != "stderr", f"cell {i} writes to stderr: {output['text']!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_progress_bar_is_stored(path):
    """Progress bars (rnnbook.train.progress_range) show timings: they must leave no trace."""
    for i, cell in enumerate(_code_cells(_load(path))):
        for output in cell["outputs"]:
            text = "".join(output.get("text", "")) + "".join(
                "".join(v) for v in output.get("data", {}).values() if isinstance(v, (str, list))
            )
            assert "it/s]" not in text and "s/it]" not in text, f"cell {i} stores a progress bar"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_a_captioned_figure_cell_shows_one_figure_and_no_progress_bar(path):
    """myst-nb gives a cell's caption and label to each of its displays: with a second one (a
    second figure, or the empty display a progress bar leaves) the label is defined twice."""
    for i, cell in enumerate(_code_cells(_load(path))):
        if "figure" not in cell["metadata"].get("mystnb", {}):
            continue
        displays = [
            o for o in cell["outputs"] if o["output_type"] in ("display_data", "execute_result")
        ]
        assert len(displays) == 1, f"cell {i} has a figure caption and {len(displays)} displays"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_machine_specific_text_is_stored(path):
    """Absolute paths and memory addresses would differ on a reader's machine."""
    text = path.read_text(encoding="utf-8")
    for needle in (str(ROOT), "/root/", "/home/", " at 0x"):
        assert needle not in text, f"{path.name} stores {needle!r}"
