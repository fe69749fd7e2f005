"""Checks of the book's pages that a Sphinx build would only warn about, or not see."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
BIB_KEY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _page_texts() -> dict[str, str]:
    texts = {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in [*(ROOT / "book").glob("*.md"), *(ROOT / "chapters").rglob("*.md")]
    }
    for nb_path in (ROOT / "chapters").rglob("*.ipynb"):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        texts[str(nb_path.relative_to(ROOT))] = "\n".join(
            "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
        )
    return texts


def bib_keys() -> list[str]:
    return BIB_KEY.findall((ROOT / "book" / "references.bib").read_text(encoding="utf-8"))


def cited_keys() -> dict[str, set[str]]:
    cited = {}
    for page, text in _page_texts().items():
        for group in CITE.findall(text):
            for key in group.split(","):
                cited.setdefault(key.strip(), set()).add(page)
    return cited


def glossary_terms() -> list[tuple[str, str]]:
    """(term, definition) pairs of the glossary directive in book/glossary.md."""
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"^(`{3,}|:{3,})\{glossary\}[^\n]*\n(.*?)^\1\s*$", text, re.S | re.M)
    assert block, "book/glossary.md has no {glossary} directive"
    terms, term = [], None
    for line in block.group(2).splitlines():
        if line.startswith(":") or not line.strip():
            continue
        if not line[0].isspace():
            term = line.strip()
            terms.append([term, ""])
        elif term is not None:
            terms[-1][1] += " " + line.strip()
    return [(t, d.strip()) for t, d in terms]


def test_bibliography_keys_are_unique():
    keys = bib_keys()
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_every_citation_resolves_to_the_bibliography():
    missing = {key: sorted(pages) for key, pages in cited_keys().items() if key not in bib_keys()}
    assert not missing, f"cited but not in book/references.bib: {missing}"


def test_the_sources_are_cited():
    for key in ("liu2020", "wikizh_rnn", "coursereport", "qiu2020", "dl500q"):
        assert key in cited_keys(), f"source {key} is never cited"


def test_glossary_has_at_least_sixty_terms_each_with_chinese_and_a_definition():
    terms = glossary_terms()
    assert len(terms) >= 60, f"{len(terms)} glossary terms"
    for term, definition in terms:
        assert CJK.search(term), f"glossary term without its Chinese name: {term!r}"
        assert len(definition.split()) >= 4, f"glossary term {term!r} has no real definition"


def test_glossary_terms_are_unique():
    names = [t for t, _ in glossary_terms()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


def test_every_toc_entry_exists_and_every_chapter_is_in_the_toc():
    listed = _toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").is_file() for ext in (".md", ".ipynb")), entry
    for notebook in (ROOT / "chapters").rglob("*.ipynb"):
        if ".ipynb_checkpoints" not in notebook.parts:
            assert str(notebook.relative_to(ROOT).with_suffix("")) in listed, notebook


def test_every_assignment_is_linked_from_the_chapter_it_follows():
    """Each assignment folder is named on the opening cell of a chapter, with a link."""
    names = sorted(p.name for p in (ROOT / "assignments" / "source").iterdir() if p.is_dir())
    assert names, "no assignments found"
    openings = {}
    for nb_path in sorted((ROOT / "chapters").rglob("*.ipynb")):
        cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
        openings[nb_path.name] = "".join(cells[0]["source"])
    for name in names:
        linking = [
            page
            for page, text in openings.items()
            if f"**Assignment.** `{name}`" in text and "<sec-assignments>`" in text
        ]
        assert linking, f"no chapter links to the assignment {name!r}"


def test_required_pages_exist():
    for page in ("intro", "how_to_use", "notation", "glossary", "notes_on_sources", "bibliography"):
        assert (ROOT / "book" / f"{page}.md").is_file(), page


def test_the_grading_sketch_on_how_to_use_runs_and_accepts_a_correct_gradient(capsys):
    """The teachers' gradient-check example works as printed, with a correct student."""
    text = (ROOT / "book" / "how_to_use.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    sketch = next(b for b in blocks if "student_step_backward" in b)
    from rnnbook.scratch import srn

    exec(compile(sketch, "how_to_use.md", "exec"), {"student_step_backward": srn.step_backward})
    error = float(capsys.readouterr().out.split()[-1])
    assert error < 1e-6


def test_the_grading_sketch_rejects_a_wrong_gradient(capsys):
    text = (ROOT / "book" / "how_to_use.md").read_text(encoding="utf-8")
    sketch = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "student_" in b)
    from rnnbook.scratch import srn

    def wrong_student(dh_t, cache):  # a gradient 10% too large
        dx, dh, grads = srn.step_backward(dh_t, cache)
        return dx, dh, {**grads, "W": grads["W"] * 1.1}

    exec(compile(sketch, "how_to_use.md", "exec"), {"student_step_backward": wrong_student})
    assert float(capsys.readouterr().out.split()[-1]) > 1e-2


def untitled_refs_to_paragraphs(texts: dict[str, str]) -> list[str]:
    """``{ref}`label``` without a title whose label ``(label)=`` stands before a paragraph.

    Sphinx takes a reference's text from the heading after its label; before a paragraph
    there is none, and the build fails ("A title or caption not found").
    """
    paragraph_labels = set()
    for text in texts.values():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            m = re.fullmatch(r"\((\S+)\)=", line.strip())
            if m:
                following = next((x for x in lines[i + 1 :] if x.strip()), "")
                if not following.lstrip().startswith("#"):
                    paragraph_labels.add(m.group(1))
    found = []
    for name, text in texts.items():
        for label in re.findall(r"\{ref\}`([^`<>]+)`", text):
            if label.strip() in paragraph_labels:
                found.append(f"{name}: {label}")
    return found


def test_untitled_references_point_to_headings():
    assert untitled_refs_to_paragraphs(_page_texts()) == []


def test_the_untitled_reference_check_finds_a_planted_one():
    texts = {"a.md": "(note-x)=\n**A note.** Text.\n", "b.md": "See {ref}`note-x`."}
    assert untitled_refs_to_paragraphs(texts) == ["b.md: note-x"]
    titled = {"a.md": "(note-x)=\n## A heading\n", "b.md": "See {ref}`note-x`."}
    assert untitled_refs_to_paragraphs(titled) == []


def _opening(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(cells[0]["source"])


def opening_problems(text: str) -> list[str]:
    """What a chapter's or section's opening lacks: learning goals, and its cited sources."""
    problems = []
    goals = re.search(r"will be able to\*\*\s*\n\n((?:[- ] .*(?:\n|\Z))+)", text)
    if goals is None or len(re.findall(r"^\s*- ", goals.group(1), re.M)) < 2:
        problems.append("no list of learning goals ('... will be able to**' and two or more items)")
    sources = re.search(r"\*\*Sources\.\*\*(.*?)(?:\n\s*\n|\Z)", text, re.S)
    if sources is None or not CITE.search(sources.group(1)):
        problems.append("no '**Sources.**' paragraph citing the sources it uses")
    return problems


def test_every_chapter_and_section_opens_with_its_goals_and_sources():
    pages = [
        p
        for p in sorted((ROOT / "chapters").rglob("*"))
        if p.suffix in (".ipynb", ".md") and ".ipynb_checkpoints" not in p.parts
    ]
    assert len(pages) >= 10
    missing = {str(p.relative_to(ROOT)): opening_problems(_opening(p)) for p in pages}
    assert not {k: v for k, v in missing.items() if v}


def test_the_opening_check_finds_missing_goals_and_sources():
    good = (
        "**After this chapter you will be able to**\n\n- do one thing;\n- do another.\n\n"
        "**Sources.** The review {cite}`liu2020` (000 lines 1-9).\n"
    )
    assert opening_problems(good) == []
    assert len(opening_problems(good.replace("**Sources.**", "Sources:"))) == 1
    assert len(opening_problems(good.replace("{cite}`liu2020`", "the review"))) == 1
    assert len(opening_problems(good.replace("- do another.\n", ""))) == 1
