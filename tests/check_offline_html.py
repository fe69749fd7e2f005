"""Fail if the built book would load anything from the network.

Run by `make book` after the build: every script, stylesheet, font, image and
frame that a page or a stylesheet loads must come from the build folder.
Plain links (<a href>, <link rel="prev">) may point anywhere: a reader clicks
them, the browser does not fetch them on its own.

    python tests/check_offline_html.py _build/html
"""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)
LOADED_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "font"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


class _Loads(HTMLParser):
    """Collects the URLs a browser fetches by itself when it opens the page."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"script", "img", "iframe", "audio", "video", "source", "embed"}:
            if attrs.get("src"):
                self.urls.append((tag, attrs["src"]))
        elif tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & LOADED_LINK_RELS and attrs.get("href"):
                self.urls.append((tag, attrs["href"]))


def external_loads(root: Path) -> list[str]:
    """Return 'file: url' for every resource under ``root`` fetched from outside."""
    problems = []
    for page in sorted(root.rglob("*.html")):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for tag, url in parser.urls:
            if EXTERNAL.match(url):
                problems.append(f"{page.relative_to(root)}: <{tag}> loads {url}")
    for sheet in sorted(root.rglob("*.css")):
        for match in CSS_URL.finditer(sheet.read_text(encoding="utf-8", errors="replace")):
            url = match.group(1) or match.group(2)
            if EXTERNAL.match(url.strip()):
                problems.append(f"{sheet.relative_to(root)}: loads {url}")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "_build/html")
    if not (root / "index.html").is_file():
        print(f"expected a built book with index.html under {root}, found none")
        return 2
    mathjax = root / "mathjax" / "tex-mml-chtml.js"
    problems = external_loads(root)
    if not mathjax.is_file():
        problems.append(f"MathJax is not served from the build: {mathjax} is missing")
    for line in problems:
        print(line)
    pages = sum(1 for _ in root.rglob("*.html"))
    print(f"offline check: {pages} pages, {len(problems)} external loads")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
