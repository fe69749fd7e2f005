"""The cheat sheet (book/cheat_sheet.md) names only code that exists and labels that resolve.

A renamed function, a renamed equation label or a renamed section breaks these tests; each
checker is also shown to catch a planted bad name.
"""

import importlib
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "cheat_sheet.md"

CODE_NAME = re.compile(r"`(rnnbook(?:\.\w+)+)`")
ROLE = re.compile(r"\{(eq|ref)\}`(?:[^`<]*<)?([^`<>]+)>?`")
DOC = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`<>]+)>?`")
SECTION = re.compile(r"§ \*([^*]+)\*")
DEFINED = (
    re.compile(r"^[ \t]*\$\$\s*\((\S+)\)\s*$", re.M),  # $$ ... $$ (eq-label), maybe indented
    re.compile(r"^:label:\s*(\S+)\s*$", re.M),  # ```{math} / directive :label:
    re.compile(r"^\((\S+)\)=\s*$", re.M),  # (section-label)=
)


def _markdown(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def _pages() -> list[Path]:
    return sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "chapters").glob("*.ipynb"))


def code_names(text: str) -> list[str]:
    return sorted(set(CODE_NAME.findall(text)))


def resolves(name: str) -> bool:
    """Whether a dotted name is a module, or an attribute reached from the longest module prefix."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def missing_names(text: str) -> list[str]:
    return [name for name in code_names(text) if not resolves(name)]


def defined_labels() -> set[str]:
    labels = set()
    for path in _pages():
        text = _markdown(path)
        for pattern in DEFINED:
            labels.update(pattern.findall(text))
    return labels


def missing_labels(text: str, labels: set[str]) -> list[str]:
    return sorted({label for _, label in ROLE.findall(text) if label not in labels})


def _doc_path(target: str) -> Path | None:
    base = (ROOT / "book" / target).resolve()
    for suffix in (".md", ".ipynb"):
        if base.with_suffix(suffix).exists():
            return base.with_suffix(suffix)
    return None


def missing_sections(text: str) -> list[str]:
    """Doc targets that do not exist and '§ *title*' that are not headings of the linked page.

    A section title belongs to the nearest {doc} link before it on the page.
    """
    bad, current = [], None
    pieces = re.split(r"(\{doc\}`[^`]*`)", text)
    for piece in pieces:
        link = DOC.fullmatch(piece)
        if link:
            current = _doc_path(link.group(1))
            if current is None:
                bad.append(link.group(1))
            continue
        for title in SECTION.findall(piece.replace("\n  ", " ")):
            if current is None:
                bad.append(title)
                continue
            headings = {
                line.lstrip("#").strip()
                for line in _markdown(current).splitlines()
                if line.startswith("#")
            }
            if title not in headings:
                bad.append(title)
    return bad


def test_every_code_name_on_the_page_exists():
    text = PAGE.read_text(encoding="utf-8")
    names = code_names(text)
    assert len(names) >= 40, names
    assert missing_names(text) == []


def test_the_name_checker_catches_a_renamed_function_and_module():
    text = (
        "`rnnbook.scratch.lstm.step_forward`, `rnnbook.nn.LSTM`, "
        "`rnnbook.scratch.lstm.step_forwardd`, `rnnbook.scratch.lstmm.forward`"
    )
    assert missing_names(text) == [
        "rnnbook.scratch.lstm.step_forwardd",
        "rnnbook.scratch.lstmm.forward",
    ]


def test_every_label_on_the_page_is_defined_in_a_chapter_or_page():
    text = PAGE.read_text(encoding="utf-8")
    labels = defined_labels()
    used = {label for _, label in ROLE.findall(text)}
    assert len(used) >= 40, used
    assert missing_labels(text, labels) == []


def test_the_label_checker_catches_a_planted_label():
    text = "{eq}`eq-ch3-recursion`, {ref}`the SRN <sec-ch2-srn>`, {eq}`eq-ch3-recursionn`"
    assert missing_labels(text, defined_labels()) == ["eq-ch3-recursionn"]


def test_every_section_the_page_names_is_a_heading_of_the_linked_chapter():
    text = PAGE.read_text(encoding="utf-8")
    assert len(SECTION.findall(text)) >= 10
    assert missing_sections(text) == []


def test_the_section_checker_catches_a_planted_title_and_document():
    text = (
        "{doc}`ch. 6 <../chapters/06_lstm>` § *What SymPy proves* and § *What SymPy shows*; "
        "{doc}`../chapters/06_lstmm`"
    )
    assert missing_sections(text) == ["What SymPy shows", "../chapters/06_lstmm"]


def test_the_page_is_in_the_toc_before_the_glossary_and_linked_from_the_introduction():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    (reference,) = [part for part in toc["parts"] if part["caption"] == "Reference"]
    files = [entry["file"] for entry in reference["chapters"]]
    assert files.index("book/cheat_sheet") < files.index("book/glossary")
    assert "{doc}`cheat_sheet`" in (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
