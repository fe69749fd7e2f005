"""The book's one repository setting: ``repository.url`` in ``_config.yml``.

A copy of the book published from a public repository sets that URL once, with
``make repository-url URL=https://github.com/<owner>/<name>``, which writes it into
``_config.yml`` and into the install cell at the top of every notebook. Until it is set
(the default: an empty string), no page shows a repository, issues, Binder or Colab
button, since each of them would point at a page that does not exist.

As a Sphinx extension (``sphinx.local_extensions`` in ``_config.yml``) it switches the
buttons on or off from the URL. As a script it writes the URL:
``python book/_ext/repository.py URL``.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL_PATTERN = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
INSTALL_CELL_ID = "install-rnnbook"


def check_url(url: str) -> str:
    """``url`` when it is empty or a GitHub repository's address; ValueError otherwise."""
    if not isinstance(url, str):
        raise ValueError(f"repository.url must be a string, got {type(url).__name__}")
    url = url.strip().rstrip("/")
    if url and not URL_PATTERN.match(url):
        raise ValueError(
            "repository.url must be empty or https://github.com/<owner>/<name> "
            f"(the launch buttons build GitHub paths), got {url!r}"
        )
    return url


def install_cell_source(url: str) -> str:
    """The first code cell of every notebook: installs ``rnnbook`` only where it is missing."""
    url = check_url(url)
    comment = (
        "# Installs the book's package where it is missing (on Colab, for example);\n"
        "# does nothing where rnnbook is installed (make lab, Binder, a local clone).\n"
    )
    test = 'if importlib.util.find_spec("rnnbook") is None:\n'
    # imported before NumPy: it pins NumPy's code paths (rnnbook._numerics)
    first = '\n\n_ = importlib.import_module("rnnbook")  # first: the same numbers on every machine'
    if url:
        return (
            comment
            + "import importlib.util\nimport subprocess\nimport sys\n\n"
            + test
            + "    # repository.url in the book's _config.yml\n"
            + f'    url = "{url}"\n'
            + '    pip = [sys.executable, "-m", "pip", "install"]\n'
            + '    subprocess.check_call([*pip, f"rnnbook @ git+{url}.git"])'
            + first
        )
    return (
        comment
        + "import importlib.util\n\n"
        + test
        + "    raise ModuleNotFoundError(\n"
        + '        "rnnbook is not installed: run `pip install -e .` in a clone of the book "\n'
        + '        "(see its README)"\n'
        + "    )"
        + first
    )


def configured_url(config_path: Path = ROOT / "_config.yml") -> str:
    """The ``repository.url`` that ``_config.yml`` sets (read without a YAML library)."""
    text = config_path.read_text(encoding="utf-8")
    block = re.search(r"^repository:\n((?:[ \t]+.*\n)+)", text, re.MULTILINE)
    if block is None:
        raise ValueError(f"{config_path} has no repository: section")
    line = re.search(r"^\s+url:\s*(.*)$", block.group(1), re.MULTILINE)
    if line is None:
        raise ValueError(f"{config_path}'s repository: section has no url")
    return check_url(line.group(1).strip().strip("\"'"))


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "chapters").rglob("*.ipynb"))


def write_url(url: str, root: Path = ROOT) -> None:
    """Set ``repository.url`` in ``_config.yml`` and every notebook's install cell."""
    url = check_url(url)
    config = root / "_config.yml"
    text = config.read_text(encoding="utf-8")
    new, n = re.subn(
        r"^(repository:\n(?:[ \t]+(?!url:).*\n)*[ \t]+url:)[^\n]*$",
        lambda m: f'{m.group(1)} "{url}"',
        text,
        count=1,
        flags=re.MULTILINE,
    )
    if n != 1:
        raise ValueError(f"{config} has no repository.url line to set")
    config.write_text(new, encoding="utf-8")
    for path in notebooks(root):
        set_install_cell(path, url)


def set_install_cell(path: Path, url: str) -> None:
    """Put the install cell (for ``url``) right after the notebook's title cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": INSTALL_CELL_ID,
        "metadata": {"tags": ["remove-cell"]},
        "outputs": [],
        "source": install_cell_source(url).splitlines(keepends=True),
    }
    cells = [c for c in nb["cells"] if c.get("id") != INSTALL_CELL_ID]
    old = next((c for c in nb["cells"] if c.get("id") == INSTALL_CELL_ID), None)
    if old is not None:
        cell["execution_count"] = old.get("execution_count")
        cell["metadata"] = {**old.get("metadata", {}), "tags": ["remove-cell"]}
    else:
        # The cell runs first and prints nothing where rnnbook is installed: the stored
        # numbering is what a fresh run gives (nbval re-executes every notebook to check).
        cell["execution_count"] = 1
        for c in cells:
            if c["cell_type"] == "code" and c.get("execution_count") is not None:
                c["execution_count"] += 1
                for out in c.get("outputs", []):
                    if out.get("execution_count") is not None:
                        out["execution_count"] += 1
    nb["cells"] = cells[:1] + [cell] + cells[1:]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def gate_buttons(theme_options: dict) -> dict:
    """The theme options with the repository-dependent buttons on only when a URL is set."""
    url = check_url(theme_options.get("repository_url", "") or "")
    options = dict(theme_options, repository_url=url)
    options["use_repository_button"] = bool(url)
    options["use_issues_button"] = bool(url)
    if not url:
        options["launch_buttons"] = {}
    return options


def _config_inited(app, config) -> None:
    config.html_theme_options = gate_buttons(config.html_theme_options)


def setup(app):
    app.connect("config-inited", _config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python book/_ext/repository.py https://github.com/<owner>/<name>  (or '')")
    write_url(sys.argv[1])
