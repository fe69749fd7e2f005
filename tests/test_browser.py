"""The built book in a real browser: every page of _build/html, served on localhost.

Debian's chromium is driven by Playwright for Python (its ``executable_path`` set to the system
browser, so nothing is downloaded). On every page: no console error, no request outside
localhost, no response of 400 or more, every equation typeset by MathJax (no raw TeX left in the
text), every image loaded with alternative text, no horizontal overflow at a phone's width
(390 px), and no serious or critical violation in an accessibility audit by axe-core. Every
internal link and anchor is checked on the files themselves. Screenshots of a few pages, in the
light and the dark theme, go to ``_build/screenshots`` for a person to look at.

``make test`` builds the book, fetches axe-core from the npm registry and (as root) installs
chromium first. Run alone, the tests skip with a message saying what is missing.
"""

import functools
import html.parser
import http.server
import os
import shutil
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
AXE = ROOT / "_build" / "npm-axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "_build" / "screenshots"
PHONE_WIDTH = 390
# pages a person looks at in both themes: the front page, a chapter heavy in equations, one
# with figures, and the glossary with its Chinese terms
SCREENSHOT_PAGES = (
    "book/intro.html",
    "chapters/03_backpropagation_through_time.html",
    "chapters/05_long_term_dependencies.html",
    "book/glossary.html",
)


def _pages():
    if not SITE.is_dir():
        return []
    return sorted(
        str(p.relative_to(SITE))
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith("_")  # _static (theme templates), _sources
    )


PAGES = _pages()
# index.html only redirects to the front page (checked on its own below)
BROWSER_PAGES = [p for p in PAGES if p != "index.html"]


def _chromium():
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


def _skip_reason():
    if not PAGES:
        return "the book is not built: run `make book` (make test does it first)"
    if _chromium() is None:
        return (
            "Debian's chromium is missing: as root, `apt-get install chromium fonts-noto-cjk` "
            "(make test does it when run as root), or set CHROMIUM to a chromium binary"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: pip install -e '.[test]'"
    return None


# ---- links and anchors, from the files themselves -------------------------------------------


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@functools.cache
def _parse(relative):
    parser = _Anchors()
    parser.feed((SITE / relative).read_text(encoding="utf-8"))
    return parser


def broken_links(relative):
    """The internal links of one page that point at a missing file or a missing anchor."""
    broken = []
    for href in _parse(relative).links:
        url = urllib.parse.urlsplit(href)
        if url.scheme or url.netloc or href.startswith(("mailto:", "javascript:")):
            continue  # external: the offline check and the request log cover those
        target = (SITE / relative).parent / urllib.parse.unquote(url.path) if url.path else None
        target_rel = relative if target is None else os.path.relpath(target.resolve(), SITE)
        if target is not None and target.is_dir():
            target_rel = os.path.join(target_rel, "index.html")
        if not (SITE / target_rel).is_file():
            broken.append(f"{href} (no file {target_rel})")
            continue
        if url.fragment and target_rel.endswith(".html"):
            if urllib.parse.unquote(url.fragment) not in _parse(target_rel).ids:
                broken.append(f"{href} (no anchor #{url.fragment} in {target_rel})")
    return broken


@pytest.mark.skipif(not PAGES, reason="the book is not built: run `make book`")
@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_and_anchor_resolves(page):
    assert not broken_links(page)


@pytest.mark.skipif(not PAGES, reason="the book is not built: run `make book`")
def test_the_root_redirects_to_the_front_page():
    text = (SITE / "index.html").read_text(encoding="utf-8")
    assert 'http-equiv="Refresh" content="0; url=book/intro.html"' in text
    assert (SITE / "book" / "intro.html").is_file()


def test_the_link_check_finds_a_missing_anchor_and_a_missing_file(tmp_path, monkeypatch):
    """A planted broken link and a planted broken anchor are both reported."""
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="#here">ok</a> <a href="#gone">bad anchor</a>'
        ' <a href="b.html#x">ok</a> <a href="c.html">no file</a> <a href="https://x.org">ext</a>'
    )
    (tmp_path / "b.html").write_text('<h1 id="x">b</h1>')
    monkeypatch.setattr(sys.modules[__name__], "SITE", tmp_path)
    _parse.cache_clear()
    try:
        assert broken_links("a.html") == [
            "#gone (no anchor #gone in a.html)",
            "c.html (no file c.html)",
        ]
    finally:
        _parse.cache_clear()


# ---- in the browser -------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_Quiet, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


# MathJax 3 leaves its typeset formulas in <mjx-container>; TeX it could not read stays as text.
# Code blocks are left out: they may print TeX on purpose.
_RAW_TEX = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, script, style, mjx-container, .highlight')) continue;
    const t = n.textContent;
    if (t.includes('$$') || t.includes('\\\\(') || t.includes('\\\\[')) raw.push(t.slice(0, 80));
  }
  return raw;
}"""

_IMAGES = """() => Array.from(document.images).map(i => ({
  src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0,
  alt: (i.getAttribute('alt') || '').trim()}))"""


def _visit(browser, server, page_path, width, theme="light"):
    """Open one page; return the page and what was logged while it loaded."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(
        f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');"
    )
    log = {"console": [], "outside": [], "status": []}

    def route(r):
        host = urllib.parse.urlsplit(r.request.url).hostname
        if host not in ("127.0.0.1", "localhost") and not r.request.url.startswith("data:"):
            log["outside"].append(r.request.url)
            return r.abort()
        return r.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and log["console"].append(m.text))
    page.on("pageerror", lambda e: log["console"].append(str(e)))
    page.on("response", lambda r: r.status >= 400 and log["status"].append((r.status, r.url)))
    # Generous limits: on two busy cores a long page takes a while to typeset. The page
    # counts as settled when MathJax has finished and every image has either loaded or
    # failed; waiting for "networkidle" instead proved flaky under load.
    context.set_default_timeout(120_000)
    page.goto(f"{server}/{page_path}", wait_until="load")
    page.evaluate("() => (window.MathJax && MathJax.startup) ? MathJax.startup.promise : null")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
    page.evaluate("() => document.fonts.ready.then(() => null)")
    return context, page, log


def page_problems(browser, server, page_path):
    """Everything the browser finds wrong with one page, as a list of messages."""
    context, page, log = _visit(browser, server, page_path, PHONE_WIDTH)
    problems = []
    try:
        if log["outside"]:
            problems.append(f"requests outside localhost: {log['outside'][:5]}")
        if log["status"]:
            problems.append(f"responses of 400 or more: {log['status'][:5]}")
        if log["console"]:
            problems.append(f"console errors: {log['console'][:5]}")
        raw = page.evaluate(_RAW_TEX)
        if raw:
            problems.append(f"TeX left untypeset: {raw[:3]}")
        images = page.evaluate(_IMAGES)
        if not all(i["loaded"] for i in images):
            problems.append(f"images not loaded: {[i['src'] for i in images if not i['loaded']]}")
        if not all(i["alt"] for i in images):
            problems.append(
                f"images without alt text: {[i['src'] for i in images if not i['alt']]}"
            )
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"the page is {overflow} px wider than a {PHONE_WIDTH} px screen")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        problems += [
            f"{v['id']} ({v['impact']}): {v['help']}, e.g. {v['nodes'][0]['target']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    finally:
        context.close()
    return problems


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
@pytest.mark.parametrize("page_path", BROWSER_PAGES)
def test_page_in_the_browser(browser, server, page_path):
    assert page_problems(browser, server, page_path) == []


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_the_browser_checks_find_planted_faults(browser, tmp_path):
    """A page with raw TeX, an external script, a missing image and one too wide is reported."""
    (tmp_path / "bad.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>bad</title>'
        '<script src="https://cdn.example.org/x.js"></script></head><body><main>'
        "<p>An equation left raw: $$a = b$$</p>"
        '<img src="missing.png">'
        '<div style="width: 2000px">wide</div></main></body></html>'
    )
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        problems = page_problems(browser, f"http://127.0.0.1:{httpd.server_address[1]}", "bad.html")
    finally:
        httpd.shutdown()
    found = "\n".join(problems)
    for expected in (
        "requests outside localhost: ['https://cdn.example.org/x.js']",
        "responses of 400 or more",
        "TeX left untypeset",
        "images not loaded",
        "images without alt text",
        "px wider than a 390 px screen",
        "image-alt (critical)",
    ):
        assert expected in found, (expected, problems)


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_for_a_person_to_look_at(browser, server, theme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page_path in SCREENSHOT_PAGES:
        context, page, _ = _visit(browser, server, page_path, 1280, theme)
        try:
            shown = page.evaluate("() => document.documentElement.dataset.theme")
            assert shown == theme, f"{page_path}: asked for the {theme} theme, got {shown!r}"
            name = page_path.replace("/", "_").removesuffix(".html")
            page.screenshot(path=str(SCREENSHOTS / f"{name}_{theme}.png"), full_page=False)
        finally:
            context.close()


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
@pytest.mark.parametrize(("query", "page"), [("forget gate", "06_lstm"), ("维特比", "glossary")])
def test_search_finds_the_pages_that_hold_a_term(browser, server, query, page):
    context, tab, log = _visit(browser, server, f"search.html?q={urllib.parse.quote(query)}", 1280)
    try:
        tab.wait_for_selector("#search-results li a")
        found = tab.eval_on_selector_all(
            "#search-results li a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert any(page in href for href in found), (query, found[:10])
        assert not log["console"] and not log["outside"], log
    finally:
        context.close()
