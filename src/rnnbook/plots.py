"""The book's figure style and figure helpers.

Importing this module changes nothing: the style is applied only when a chapter
asks for it, either for the rest of the notebook (``use_book_style()``) or for
one block (``with book_style(): ...``).
"""

from contextlib import contextmanager

import matplotlib as mpl
import numpy as np

#: Colour-blind safe palette (Okabe and Ito), then two greys; cycles when exhausted.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#B8A200",  # a darker yellow, readable on white
    "#000000",  # black
    "#777777",  # grey
)


def colour(i):
    """The ``i``-th colour of :data:`PALETTE` (cycling)."""
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise ValueError(f"colour index must be an int, got {type(i).__name__}")
    return PALETTE[int(i) % len(PALETTE)]


def book_rc():
    """The book's rcParams as a new dict (fixed fonts and sizes, so figures repeat)."""
    return {
        "figure.figsize": (7.0, 3.6),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "font.family": "DejaVu Sans",  # ships with matplotlib: the same on every machine
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "legend.frameon": False,
        "lines.linewidth": 1.6,
        "image.cmap": "gray_r",
        "svg.hashsalt": "rnnbook",
    }


def use_book_style():
    """Apply the book's style to every later figure of this Python process."""
    mpl.rcParams.update(book_rc())


@contextmanager
def book_style():
    """Context manager: the book's style inside the ``with`` block only."""
    with mpl.rc_context(book_rc()):
        yield


def _check_records(records):
    if isinstance(records, (str, bytes)) or not hasattr(records, "__iter__"):
        raise ValueError(f"records must be a sequence of records, got {type(records).__name__}")
    records = list(records)
    if not records:
        raise ValueError("records must not be empty")
    for i, r in enumerate(records):
        for name in ("year", "work", "kind"):
            if not hasattr(r, name):
                raise ValueError(f"records[{i}] has no attribute {name!r}: got {r!r}")
        year = r.year
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
            raise ValueError(f"records[{i}].year must be an int, got {type(year).__name__}")
        if not isinstance(r.work, str) or not isinstance(r.kind, str):
            raise ValueError(f"records[{i}].work and .kind must be strings, got {r!r}")
    return records


def _place_rows(intervals, gap):
    """Greedy rows: each label goes to the lowest row where it overlaps nothing.

    ``intervals``: list of (start, end) in years, in drawing order.
    Returns one row index per interval.
    """
    rows_taken = []  # per row, the intervals already placed
    rows = []
    for a, b in intervals:
        for k, taken in enumerate(rows_taken):
            if all(b + gap <= c or a >= d + gap for c, d in taken):
                taken.append((a, b))
                rows.append(k)
                break
        else:
            rows_taken.append([(a, b)])
            rows.append(len(rows_taken) - 1)
    return rows


def timeline(records, ax=None, *, kinds=None, fontsize=7.0):
    """Draw a timeline: one lane per kind, one point per record, labels beside the points.

    Labels are measured with the figure's renderer and stacked in rows above
    their lane so that no two overlap; each lane is as tall as its rows need.

    Args:
        records: sequence of objects with ``year`` (int), ``work`` (str) and
            ``kind`` (str), e.g. :data:`rnnbook.history.TIMELINE`.
        ax: a matplotlib Axes to draw on; when None a new figure is made, tall
            enough for the stacked labels.
        kinds: the lanes, bottom to top; default: the kinds in order of first
            appearance by year.
        fontsize: label size in points.

    Returns:
        The Axes. One scatter collection per lane, so the points drawn are the
        records, one each.
    """
    import matplotlib.pyplot as plt

    records = _check_records(records)
    if kinds is None:
        kinds = []
        for r in sorted(records, key=lambda r: r.year):
            if r.kind not in kinds:
                kinds.append(r.kind)
    else:
        kinds = list(kinds)
        missing = sorted({r.kind for r in records} - set(kinds))
        if missing:
            raise ValueError(f"kinds must include every record's kind; missing {missing}")
    if isinstance(fontsize, bool) or not isinstance(fontsize, (int, float)):
        raise ValueError(f"fontsize must be a number, got {type(fontsize).__name__}")
    if not 3 <= fontsize <= 30:
        raise ValueError(f"fontsize must be in [3, 30], got {fontsize}")

    new_figure = ax is None
    if new_figure:
        _, ax = plt.subplots(figsize=(10.0, 6.0))
    fig = ax.figure
    years = [int(r.year) for r in records]
    left, right = min(years) - 1.5, max(years) + 3.5
    ax.set_xlim(left, right)
    renderer = fig.canvas.get_renderer()
    axes_px = ax.get_window_extent(renderer).width
    pad = 0.3  # years between a point and its label

    def label_width(text):
        t = ax.text(0.0, 0.0, text, fontsize=fontsize)
        width_px = t.get_window_extent(renderer).width
        t.remove()
        return width_px / axes_px * (right - left)

    lanes = []  # (kind, records, intervals, rows)
    for kind in kinds:
        lane_records = sorted((r for r in records if r.kind == kind), key=lambda r: r.year)
        intervals = []
        for r in lane_records:
            w = label_width(r.work)
            x = float(r.year)
            # label to the right of its point, or to the left near the right edge
            fits_right = x + pad + w <= right
            intervals.append((x, x + pad + w) if fits_right else (x - pad - w, x))
        rows = _place_rows(intervals, gap=0.4)
        lanes.append((kind, lane_records, intervals, rows))

    # one row of labels is one unit of y; a lane is its rows plus a margin
    base = 0.0
    baselines = []
    for _, _, _, rows in lanes:
        baselines.append(base)
        base += (max(rows) + 1 if rows else 0) + 0.9
    top = base - 0.4
    if new_figure:
        # one unit of y is 1.8 font sizes tall, in the axes' share of the figure
        axes_inches = (top + 0.7) * 1.8 * fontsize / 72.0
        share = fig.subplotpars.top - fig.subplotpars.bottom
        fig.set_size_inches(10.0, (axes_inches + 0.35) / share)

    for lane, ((_, lane_records, intervals, rows), y0) in enumerate(
        zip(lanes, baselines, strict=True)
    ):
        c = colour(lane)
        ax.axhline(y0, color=c, alpha=0.25, lw=0.8, zorder=1)
        if not lane_records:
            continue
        xs = np.array([r.year for r in lane_records], dtype=float)
        ax.scatter(xs, np.full(len(xs), y0), s=22, color=c, zorder=3)
        for r, x, (start, _), row in zip(lane_records, xs, intervals, rows, strict=True):
            on_right = start == x
            ax.annotate(
                r.work,
                (x, y0),
                xytext=(x + pad if on_right else x - pad, y0 + 0.25 + row),
                textcoords="data",
                fontsize=fontsize,
                va="bottom",
                ha="left" if on_right else "right",
                color=c,
                arrowprops=(
                    None if row == 0 else {"arrowstyle": "-", "color": c, "lw": 0.5, "alpha": 0.6}
                ),
            )
    ax.set_yticks(baselines, kinds)
    ax.set_ylim(-0.7, top)
    ax.set_xlabel("year")
    ax.grid(axis="y", visible=False)
    return ax


def bitmaps(images, titles=None, axes=None):
    """Show a row of binary images (values in {-1, +1}, +1 drawn dark).

    Args:
        images: array of shape (n, rows, cols).
        titles: None or n strings.
        axes: None or n Axes; a new figure with one row is made when None.

    Returns:
        The list of Axes.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, rows, cols), got shape {images.shape}")
    if not np.issubdtype(images.dtype, np.number) or not np.all(np.isfinite(images)):
        raise ValueError("images must be finite numbers")
    n = images.shape[0]
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have {n} entries, got {len(titles)}")
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(1.3 * n, 1.8))
        axes = np.atleast_1d(axes)
    axes = list(np.ravel(axes))
    if len(axes) != n:
        raise ValueError(f"axes must have {n} entries, got {len(axes)}")
    for i, ax in enumerate(axes):
        ax.imshow(images[i], cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#999999")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return axes


def unrolled_graph(T=4, ax=None, *, feedback="hidden", fontsize=10.0):
    """Draw a simple recurrent network folded (left) and unrolled over T steps (right).

    Nodes are circles labelled x_t, h_t, yhat_t; arrows carry the name of the matrix
    they apply: W (input to hidden), U (recurrent), V (hidden to output). The same
    letters on every step show the weight sharing. With ``feedback="output"`` (Jordan)
    the recurrent arrow runs from yhat_{t-1} to h_t.

    Args:
        T: number of unrolled steps, 1..8.
        ax: a matplotlib Axes, or None for a new figure.
        feedback: "hidden" (Elman) or "output" (Jordan).
        fontsize: size of the labels.

    Returns:
        The Axes. ``ax.patches`` holds the arrows and circles; every arrow has a ``gid``
        naming its matrix ("W", "U" or "V") and every circle a ``gid`` naming its node.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch

    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 1 <= T <= 8:
        raise ValueError(f"T must be an int in 1..8, got {T!r}")
    if feedback not in ("hidden", "output"):
        raise ValueError(f"feedback must be 'hidden' or 'output', got {feedback!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * (T + 3), 3.2))
    r = 0.28
    rows = {"x": 0.0, "h": 1.3, "y": 2.6}
    names = {"x": "x", "h": "h", "y": r"\hat{y}"}
    fill = {"x": "#ffffff", "h": "#e8f1f8", "y": "#fdf3e1"}

    def node(cx, row, label, gid):
        circle = Circle((cx, rows[row]), r, fc=fill[row], ec=colour(8 if row == "x" else 0))
        circle.set_gid(gid)
        ax.add_patch(circle)
        ax.text(cx, rows[row], f"${label}$", ha="center", va="center", fontsize=fontsize)

    def arrow(start, end, matrix, curve=0.0, label_at=None):
        a = FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=10,
            lw=1.2,
            color=colour(3 if matrix == "U" else 7),
            connectionstyle=f"arc3,rad={curve}",
            shrinkA=r * 72 / 2.5,
            shrinkB=r * 72 / 2.5,
        )
        a.set_gid(matrix)
        ax.add_patch(a)
        if label_at is None:
            label_at = ((start[0] + end[0]) / 2 + 0.12, (start[1] + end[1]) / 2)
        ax.text(*label_at, f"${matrix}$", fontsize=fontsize - 1, color=a.get_edgecolor())

    # the folded network: the recurrent arrow is a loop
    fx = 0.0
    for row in ("x", "h", "y"):
        node(fx, row, f"{names[row]}_t", f"{row}_folded")
    arrow((fx, rows["x"]), (fx, rows["h"]), "W")
    arrow((fx, rows["h"]), (fx, rows["y"]), "V")
    src = rows["h"] if feedback == "hidden" else rows["y"]
    # the recurrent arrow of the folded network is a loop on its left side
    start, end = (fx - r, src), (fx - r, rows["h"] - 0.1)
    if feedback == "hidden":  # from the top left of h_t round to its bottom left
        start, end = (fx - 0.7 * r, src + 0.7 * r), (fx - 0.7 * r, src - 0.7 * r)
    loop = FancyArrowPatch(
        start,
        end,
        arrowstyle="-|>",
        mutation_scale=10,
        lw=1.2,
        color=colour(3),
        connectionstyle="arc3,rad=1.5" if feedback == "hidden" else "arc3,rad=0.6",
    )
    loop.set_gid("U")
    ax.add_patch(loop)
    ax.text(fx - 0.95, (src + rows["h"]) / 2, "$U$", fontsize=fontsize - 1, color=colour(3))
    ax.text(0.9, rows["h"], "unroll", ha="center", va="center", fontsize=fontsize - 1)
    ax.annotate(
        "",
        (1.3, rows["h"] - 0.25),
        (0.5, rows["h"] - 0.25),
        arrowprops={"arrowstyle": "->", "color": colour(8)},
    )

    # the unrolled network: h_0, then T copies sharing W, U, V
    x0 = 2.0
    state = "h" if feedback == "hidden" else "y"
    node(x0, state, f"{names[state]}_0", f"{state}_0")
    for t in range(1, T + 1):
        cx = x0 + 1.2 * t
        for row in ("x", "h", "y"):
            node(cx, row, f"{names[row]}_{t}", f"{row}_{t}")
        arrow((cx, rows["x"]), (cx, rows["h"]), "W")
        arrow((cx, rows["h"]), (cx, rows["y"]), "V")
        label = (cx - 0.7, rows["h"] + 0.12) if feedback == "hidden" else None
        arrow((cx - 1.2, rows[state]), (cx, rows["h"]), "U", label_at=label)
    ax.set_xlim(-1.3, x0 + 1.2 * T + 0.6)
    ax.set_ylim(-0.5, rows["y"] + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
