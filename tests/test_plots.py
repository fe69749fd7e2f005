"""The book's figure helpers."""

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text

from rnnbook import plots
from rnnbook.history import KINDS, TIMELINE


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _n_points(ax):
    return sum(len(c.get_offsets()) for c in ax.collections)


def test_import_has_no_side_effect():
    import importlib

    before = dict(mpl.rcParams)
    importlib.reload(plots)
    assert dict(mpl.rcParams) == before


def test_book_style_context_restores():
    before = mpl.rcParams["axes.spines.top"]
    with plots.book_style():
        assert mpl.rcParams["axes.spines.top"] is False
        assert mpl.rcParams["font.family"] == ["DejaVu Sans"]
    assert mpl.rcParams["axes.spines.top"] == before


def test_use_book_style_is_deterministic():
    with mpl.rc_context():
        plots.use_book_style()
        first = {k: mpl.rcParams[k] for k in plots.book_rc()}
        plots.use_book_style()
        assert {k: mpl.rcParams[k] for k in plots.book_rc()} == first


def test_colour_cycles():
    assert plots.colour(0) == plots.PALETTE[0]
    assert plots.colour(len(plots.PALETTE)) == plots.PALETTE[0]
    with pytest.raises(ValueError):
        plots.colour(1.0)


def test_timeline_one_point_per_record():
    ax = plots.timeline(TIMELINE)
    assert isinstance(ax, mpl.axes.Axes)
    assert _n_points(ax) == len(TIMELINE)
    assert len(ax.texts) == len(TIMELINE)
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    assert sorted(xs.tolist()) == sorted(float(r.year) for r in TIMELINE)


def test_timeline_lanes_follow_kinds_and_given_axes():
    _, ax0 = plt.subplots()
    ax = plots.timeline(TIMELINE, ax=ax0, kinds=KINDS)
    assert ax is ax0
    assert [t.get_text() for t in ax.get_yticklabels()] == list(KINDS)
    # every point sits on its kind's lane
    for c in ax.collections:
        lanes = set(c.get_offsets()[:, 1].tolist())
        assert len(lanes) == 1


def test_timeline_labels_of_a_lane_do_not_overlap():
    ax = plots.timeline(TIMELINE, kinds=KINDS)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # the text boxes alone (an Annotation's own extent also covers its leader line)
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]
    overlaps = sum(
        a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]
    )  # fmt: skip
    assert overlaps == 0


def test_timeline_duck_typed_records():
    recs = [SimpleNamespace(year=2000 + i, work=f"w{i}", kind="k") for i in range(5)]
    ax = plots.timeline(recs)
    assert _n_points(ax) == 5


@pytest.mark.parametrize(
    "records",
    [
        [],
        "abc",
        None,
        [SimpleNamespace(year=2000, work="w")],
        [SimpleNamespace(year="2000", work="w", kind="k")],
        [SimpleNamespace(year=2000.5, work="w", kind="k")],
        [SimpleNamespace(year=2000, work=3, kind="k")],
    ],
)
def test_timeline_bad_input(records):
    with pytest.raises(ValueError):
        plots.timeline(records)


def test_timeline_missing_kind_raises():
    with pytest.raises(ValueError, match="missing"):
        plots.timeline(TIMELINE, kinds=["gated"])


def test_bitmaps():
    imgs = np.where(np.arange(2 * 7 * 5).reshape(2, 7, 5) % 2 == 0, 1.0, -1.0)
    axes = plots.bitmaps(imgs, titles=["a", "b"])
    assert len(axes) == 2
    with pytest.raises(ValueError):
        plots.bitmaps(imgs[0])
    with pytest.raises(ValueError):
        plots.bitmaps(imgs, titles=["a"])
    with pytest.raises(ValueError):
        plots.bitmaps(np.full((1, 2, 2), np.nan))
