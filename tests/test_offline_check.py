"""The offline check that `make book` runs finds what it is meant to find."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "check_offline_html", Path(__file__).with_name("check_offline_html.py")
)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def _site(tmp_path, html, css=""):
    (tmp_path / "index.html").write_text(html)
    (tmp_path / "style.css").write_text(css)
    return tmp_path


def test_local_resources_and_plain_links_pass(tmp_path):
    site = _site(
        tmp_path,
        '<script src="_static/a.js"></script><link rel="stylesheet" href="s.css">'
        '<a href="https://example.org">a link</a><link rel="prev" href="https://example.org/p">',
        "body { background: url(img.png); }",
    )
    assert check.external_loads(site) == []


def test_external_script_stylesheet_font_and_image_are_found(tmp_path):
    site = _site(
        tmp_path,
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/f.css">'
        '<img src="http://img.example/i.png">',
        "@font-face { src: url('https://fonts.example/f.woff2'); } @import 'https://a.example/b.css';",
    )
    found = check.external_loads(site)
    assert len(found) == 5, found


def test_main_reports_a_missing_mathjax(tmp_path, capsys):
    _site(tmp_path, "<p>no maths</p>")
    assert check.main(["check", str(tmp_path)]) == 1
    assert "MathJax is not served" in capsys.readouterr().out
