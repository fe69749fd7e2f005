"""The repository URL is one setting, and no button points at a page that does not exist.

``repository.url`` in ``_config.yml`` is empty until a public copy of the book exists;
book/_ext/repository.py turns the repository, issues, Binder and Colab buttons on only
when it is set, and writes the same URL into the install cell of every notebook.
"""

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
spec = importlib.util.spec_from_file_location(
    "repository", ROOT / "book" / "_ext" / "repository.py"
)
repository = importlib.util.module_from_spec(spec)
spec.loader.exec_module(repository)

URL = "https://github.com/someone/rnn-book"


def test_without_a_url_the_buttons_are_off():
    options = repository.gate_buttons(
        {"repository_url": "", "launch_buttons": {"binderhub_url": "https://mybinder.org"}}
    )
    assert options["launch_buttons"] == {}
    assert not options["use_repository_button"] and not options["use_issues_button"]


def test_with_a_url_the_buttons_are_on():
    launch = {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
    }
    options = repository.gate_buttons({"repository_url": URL + "/", "launch_buttons": launch})
    assert options["launch_buttons"] == launch
    assert options["use_repository_button"] and options["use_issues_button"]
    assert options["repository_url"] == URL


@pytest.mark.parametrize(
    "bad",
    [
        "github.com/a/b",
        "https://gitlab.com/a/b",
        "https://github.com/a",
        "https://github.com/a/b/c",
    ],
)
def test_a_url_that_is_not_a_github_repository_is_refused(bad):
    with pytest.raises(ValueError, match="github.com/<owner>/<name>"):
        repository.check_url(bad)


def test_the_book_is_configured_without_a_url():
    assert repository.configured_url() == ""


def _install_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return cells[1] if len(cells) > 1 else None


@pytest.mark.parametrize("path", repository.notebooks(), ids=lambda p: p.stem)
def test_every_notebook_installs_the_package_from_the_configured_url(path):
    cell = _install_cell(path)
    assert cell is not None and cell.get("id") == repository.INSTALL_CELL_ID, (
        f"{path.name}: the cell after the title must be the install cell "
        "(python book/_ext/repository.py '' writes it)"
    )
    assert "".join(cell["source"]) == repository.install_cell_source(repository.configured_url())
    assert "remove-cell" in cell["metadata"].get("tags", [])
    assert cell["outputs"] == []


def _run_cell(source, monkeypatch, installed):
    calls = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if installed else None)
    monkeypatch.setattr("subprocess.check_call", lambda cmd: calls.append(cmd))
    exec(compile(source, "<install cell>", "exec"), {})
    return calls


def test_the_install_cell_does_nothing_where_the_package_is_installed(monkeypatch):
    for url in ("", URL):
        assert _run_cell(repository.install_cell_source(url), monkeypatch, installed=True) == []


def test_the_install_cell_installs_from_the_url_where_the_package_is_missing(monkeypatch):
    calls = _run_cell(repository.install_cell_source(URL), monkeypatch, installed=False)
    assert calls == [[sys.executable, "-m", "pip", "install", f"rnnbook @ git+{URL}.git"]]


def test_without_a_url_the_install_cell_says_how_to_install(monkeypatch):
    with pytest.raises(ModuleNotFoundError, match="pip install -e"):
        _run_cell(repository.install_cell_source(""), monkeypatch, installed=False)


def test_setting_the_url_writes_the_config_and_every_notebook(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "chapters").mkdir()
    nb = {
        "cells": [
            {"cell_type": "markdown", "id": "t", "metadata": {}, "source": ["# Title"]},
            {
                "cell_type": "code",
                "execution_count": 1,
                "id": "c",
                "metadata": {},
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "data": {},
                        "metadata": {},
                    }
                ],
                "source": ["1"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "chapters" / "x.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    repository.write_url(URL, tmp_path)
    assert repository.configured_url(tmp_path / "_config.yml") == URL
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert [c["id"] for c in cells] == ["t", repository.INSTALL_CELL_ID, "c"]
    assert "".join(cells[1]["source"]) == repository.install_cell_source(URL)
    # the stored numbering is the one a fresh run gives: the install cell first
    assert cells[1]["execution_count"] == 1
    assert cells[2]["execution_count"] == 2 and cells[2]["outputs"][0]["execution_count"] == 2
    # writing again (or back to empty) changes the URL only, not the numbering
    repository.write_url("", tmp_path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert [c["execution_count"] for c in cells[1:]] == [1, 2]
    assert repository.configured_url(tmp_path / "_config.yml") == ""
    assert (tmp_path / "_config.yml").read_text().count("url:") == (
        ROOT / "_config.yml"
    ).read_text().count("url:")


# the theme's launch links and its repository and issues buttons
BUTTONS = re.compile(
    r"mybinder\.org|colab\.research\.google\.com|btn-source-(?:repository|issues)-button"
)


def buttons_in(html: str) -> list[str]:
    return BUTTONS.findall(html)


def test_the_button_check_finds_the_buttons_of_a_configured_book():
    page = (
        '<a href="https://mybinder.org/v2/gh/a/b/main?urlpath=lab/tree/x.ipynb">Binder</a>'
        '<a class="btn btn-source-repository-button" href="https://github.com/a/b">r</a>'
    )
    assert len(buttons_in(page)) == 2
    assert buttons_in('<a href="https://github.com/pytorch/pytorch/issues/1">an issue</a>') == []


@pytest.mark.skipif(not SITE.exists(), reason="the book is not built: run make book")
def test_the_built_book_has_no_button_that_points_nowhere():
    pages = sorted(SITE.rglob("*.html"))
    assert pages
    offending = {str(p.relative_to(SITE)): buttons_in(p.read_text(encoding="utf-8")) for p in pages}
    offending = {k: v for k, v in offending.items() if v}
    assert not offending, f"launch or repository buttons without a configured URL: {offending}"


def _copy_of_the_book(dest: Path) -> None:
    skip = {".venv", "_build", ".git", ".ruff_cache", ".pytest_cache", "node_modules"}
    for item in ROOT.iterdir():
        if item.name in skip:
            continue
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, dest / item.name)
    offline = ROOT / "_build" / "offline"
    if offline.exists():
        shutil.copytree(offline, dest / "_build" / "offline")


@pytest.mark.skipif(
    shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is None,
    reason="jupyter-book is not installed (the book group)",
)
def test_with_a_url_every_launch_button_opens_a_notebook_of_the_repository(tmp_path):
    """Build a copy of the book with a URL set: its buttons appear, and each opens a real file."""
    _copy_of_the_book(tmp_path)
    repository.write_url(URL, tmp_path)
    build = __import__("subprocess").run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(tmp_path),
            "--builder",
            "html",
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    pages = sorted((tmp_path / "_build" / "html" / "chapters").rglob("*.html"))
    targets = set()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        binder = re.findall(
            r"mybinder\.org/v2/gh/someone/rnn-book/main\?urlpath=lab/tree/([^\"&]+)", html
        )
        colab = re.findall(
            r"colab\.research\.google\.com/github/someone/rnn-book/blob/main/([^\"&]+)", html
        )
        if page.stem != "index":
            assert binder and colab and "btn-source-repository-button" in html, page.name
        targets.update(binder + colab)
    assert targets, "no launch button in the configured copy"
    missing = sorted(t for t in targets if not (ROOT / t).is_file())
    assert not missing, f"launch buttons that open no file of the repository: {missing}"
