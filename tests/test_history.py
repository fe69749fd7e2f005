"""The timeline data: well formed, sorted, and every key in the bibliography."""

import dataclasses
import re
from pathlib import Path

import pytest

from rnnbook import history
from rnnbook.history import KINDS, TIMELINE, Milestone

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"

REQUIRED_KEYS = {
    "mcculloch1943", "kleene1956", "minsky1967",
    "hopfield1982", "rumelhart1986", "jordan1986", "waibel1989", "williams1989", "elman1990",
    "narendra1990", "lin1996", "hochreiter1991", "siegelmann1991", "schmidhuber1992",
    "bengio1994", "schuster1997", "hochreiter1997", "gers1999", "gersschmidhuber2000",
    "jaeger2001", "maass2002", "pineda1987", "graves2006", "graves2009", "mikolov2010",
    "graves2013", "kalchbrenner2013",
    "cho2014", "sutskever2014", "chung2014", "bahdanau2015", "tai2015", "bradbury2017",
    "vaswani2017", "lei2018", "yu2018", "bouaziz2016", "koutnik2014",
}  # fmt: skip

# The dating rule (chapter 1, "How the timeline is dated"): one record per idea, citing the first
# publication of the idea among the book's references (technical reports and theses count,
# preprints do not). Each pair is (an idea's first publication, a later work on the same idea that
# must not be drawn in its place). The years compared come from book/references.bib, which the
# same authors wrote: the test checks that the records follow the rule, not that the bibliography
# is right.
FIRST_NOT_LATER = [
    ("rumelhart1986", "werbos1990"),  # BPTT: the unfolding of 1986, not the 1990 account
    ("siegelmann1991", "siegelmann1995"),  # Turing completeness: announced 1991, full proof 1995
    ("gers1999", "gers2000"),  # forget gate: ICANN 1999, not the 2000 journal paper
    ("gersschmidhuber2000", "gers2002"),  # peepholes: IJCNN 2000, not the 2002 journal paper
]


def test_years_sorted():
    years = [r.year for r in TIMELINE]
    assert years == sorted(years)
    assert history.sorted_by_year(TIMELINE) == TIMELINE


def test_keys_unique_and_required_present():
    keys = [r.key for r in TIMELINE]
    assert len(keys) == len(set(keys))
    assert REQUIRED_KEYS <= set(keys), REQUIRED_KEYS - set(keys)


def test_key_year_matches_record_year():
    # the keys are author + year of the cited publication: the two must agree
    for r in TIMELINE:
        assert r.key.endswith(str(r.year)), r


def test_kinds_valid_and_used():
    assert {r.kind for r in TIMELINE} == set(KINDS)


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TIMELINE[0].year = 2000


def test_every_key_in_bibliography():
    if not BIB.exists():
        pytest.fail(f"{BIB} does not exist yet")
    bib_keys = set(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", BIB.read_text(encoding="utf-8")))
    missing = sorted({r.key for r in TIMELINE} - bib_keys)
    assert not missing, f"keys missing from references.bib: {missing}"


def test_record_year_is_the_bibliography_year():
    """The figure's years come from the records; the records agree with the references."""
    entries = re.split(r"\n(?=@)", BIB.read_text(encoding="utf-8"))
    bib_years = {}
    for entry in entries:
        key = re.match(r"\s*@\w+\s*\{\s*([^,\s]+)\s*,", entry)
        year = re.search(r"^\s*year\s*=\s*[{\"]?(\d{4})", entry, re.MULTILINE)
        if key and year:
            bib_years[key.group(1)] = int(year.group(1))
    wrong = [
        (r.key, r.year, bib_years.get(r.key)) for r in TIMELINE if bib_years.get(r.key) != r.year
    ]
    assert not wrong, f"(key, record year, bibliography year): {wrong}"


def _bib_year(key):
    entry = re.search(
        r"@\w+\{" + re.escape(key) + r",.*?\n\}", BIB.read_text(encoding="utf-8"), re.S
    )
    return int(re.search(r"year\s*=\s*\{(\d{4})\}", entry.group(0)).group(1))


def _dating_violations(records):
    keys = {r.key: r for r in records}
    wrong = []
    for first, later in FIRST_NOT_LATER:
        if first not in keys or later in keys or keys[first].year != _bib_year(first):
            wrong.append((first, later))
    return wrong


def test_each_idea_dated_by_its_first_publication():
    assert all(_bib_year(first) < _bib_year(later) for first, later in FIRST_NOT_LATER)
    assert _dating_violations(TIMELINE) == []


def test_the_dating_check_fails_on_a_planted_record():
    planted = TIMELINE + (Milestone(1990, "BPTT", "werbos1990", "training", "the 1990 account"),)
    assert _dating_violations(planted) == [("rumelhart1986", "werbos1990")]


def test_by_kind_partitions_the_timeline():
    parts = [history.by_kind(k) for k in KINDS]
    assert sum(len(p) for p in parts) == len(TIMELINE)
    assert all(r.kind == k for k, p in zip(KINDS, parts, strict=True) for r in p)
    gated = {r.work for r in history.by_kind("gated")}
    assert "LSTM" in gated and "forget gate" in gated


def test_as_rows_and_between():
    rows = history.as_rows()
    assert len(rows) == len(TIMELINE)
    assert rows[0] == (TIMELINE[0].year, TIMELINE[0].work, TIMELINE[0].key, TIMELINE[0].kind,
                       TIMELINE[0].significance)  # fmt: skip
    nineties = history.between(1990, 1999)
    assert nineties and all(1990 <= r.year <= 1999 for r in nineties)
    assert len(history.between(1900, 2100)) == len(TIMELINE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"year": "1982"},
        {"year": 1982.0},
        {"year": True},
        {"year": 1200},
        {"kind": "transformers"},
        {"work": ""},
        {"key": "   "},
        {"significance": None},
    ],
)
def test_bad_milestone_raises(kwargs):
    good = {"year": 1982, "work": "w", "key": "k1982", "kind": "gated", "significance": "s"}
    with pytest.raises(ValueError):
        Milestone(**{**good, **kwargs})


def test_bad_queries_raise():
    with pytest.raises(ValueError, match="kind"):
        history.by_kind("recurrent")
    with pytest.raises(ValueError, match="Milestone"):
        history.as_rows([(1982, "x")])
    with pytest.raises(ValueError, match="sequence"):
        history.sorted_by_year("abc")
    with pytest.raises(ValueError, match="first_year"):
        history.between(2000, 1990)
    with pytest.raises(ValueError, match="int"):
        history.between(1990.0, 2000)
