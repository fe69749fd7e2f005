"""The book's figure style and figure helpers.

Importing this module changes nothing: the style is applied only when a chapter
asks for it, either for the rest of the notebook (``use_book_style()``) or for
one block (``with book_style(): ...``).
"""

from contextlib import contextmanager

import matplotlib as mpl
import numpy as np

from rnnbook._checks import check_option

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
    from rnnbook import cells

    check_option("feedback", feedback, cells.OPTIONS["srn"]["feedback"])
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


#: The modes of use that :func:`modes_of_use` draws, with the title of each panel.
MODES = {
    "sequence-to-class": "sequence to class: one output after the last step",
    "synchronous": "synchronous sequence to sequence: an output at every step",
    "encoder-decoder": "asynchronous sequence to sequence: encoder, then decoder",
    "context-every-step": "encoder-decoder whose decoder reads the context c = h_T at every step",
    "one-to-many": "one to many: one input vector, then a sequence of outputs",
}


def _mode_boxes_and_arrows(mode, T, M):
    """Boxes {name: (column, row, label)} and arrows [(start, end, matrix, dashed)] of a mode."""
    boxes, arrows = {}, []
    n_in = 1 if mode == "one-to-many" else T
    n_state = M if mode == "one-to-many" else T
    for t in range(1, n_in + 1):
        boxes[f"x_{t}"] = (t - 1, 0, f"x_{t}")
    for t in range(1, n_state + 1):
        boxes[f"h_{t}"] = (t - 1, 1, f"h_{t}")
        if t > 1:
            arrows.append((f"h_{t - 1}", f"h_{t}", "U", False))
    arrows += [(f"x_{t}", f"h_{t}", "W", False) for t in range(1, n_in + 1)]
    if mode == "sequence-to-class":
        boxes["y"] = (T - 1, 2, r"\hat{y}")
        arrows.append((f"h_{T}", "y", "V", False))
    elif mode in ("synchronous", "one-to-many"):
        for t in range(1, n_state + 1):
            boxes[f"y_{t}"] = (t - 1, 2, rf"\hat{{y}}_{t}")
            arrows.append((f"h_{t}", f"y_{t}", "V", False))
    else:  # an encoder over T steps, a decoder over M steps started from h_T
        for m in range(1, M + 1):
            column = T + m - 1
            boxes[f"s_{m}"] = (column, 1, f"s_{m}")
            boxes[f"y_{m}"] = (column, 2, rf"\hat{{y}}_{m}")
            arrows.append((f"h_{T}" if m == 1 else f"s_{m - 1}", f"s_{m}", "U", False))
            arrows.append((f"s_{m}", f"y_{m}", "V", False))
            if m > 1:  # the previous output is the next input
                arrows.append((f"y_{m - 1}", f"s_{m}", "W", True))
            if mode == "context-every-step":
                boxes[f"c_{m}"] = (column, 0, "c")
                arrows.append((f"c_{m}", f"s_{m}", "C", False))
    return boxes, arrows


def modes_of_use(modes=tuple(MODES), *, T=4, M=3, fontsize=9.0):
    """Draw the modes of use of a recurrent network, one panel per mode, unrolled in time.

    Boxes are the inputs x_t (bottom row), the states h_t (and a decoder's states s_m,
    middle row) and the outputs yhat (top row); arrows carry their matrix: W (input),
    U (recurrent), V (output), C (the context c = h_T read at every decoder step).
    A decoder's previous output, fed back as its next input, is a dashed arrow.

    Args:
        modes: names from :data:`MODES` (one name or a sequence of them).
        T: number of input steps, 1..6.  M: number of decoder or generated steps, 1..6
            (used by "encoder-decoder", "context-every-step" and "one-to-many").
        fontsize: size of the labels.

    Returns:
        The Figure, one Axes per mode in the order given. In each Axes every box is a
        ``Rectangle`` whose ``gid`` is its node ("x_1", "h_1", "y", "s_1", "c_1", ...)
        and every arrow a ``FancyArrowPatch`` whose ``gid`` is its matrix.

    Raises:
        ValueError: for an unknown mode, an empty or repeated list, or T or M not an
            int in 1..6.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Rectangle

    names = [modes] if isinstance(modes, str) else modes
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"modes must be a mode name or a non-empty sequence, got {modes!r}")
    for mode in names:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"modes must not repeat, got {list(names)}")
    for key, value in (("T", T), ("M", M)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or not 1 <= value <= 6
        ):
            raise ValueError(f"{key} must be an int in 1..6, got {value!r}")
    w, h, dx, dy = 0.7, 0.46, 1.0, 0.95
    n_cols = max(T + M if m in ("encoder-decoder", "context-every-step") else T for m in names)
    n_cols = max(n_cols, M)
    fig, axes = plt.subplots(len(names), 1, figsize=(0.95 * n_cols + 0.8, 2.25 * len(names)))
    axes = np.atleast_1d(axes)
    fill = {0: "#ffffff", 1: "#e8f1f8", 2: "#fdf3e1"}
    arrow_colour = {"W": colour(7), "U": colour(3), "V": colour(7), "C": colour(2)}
    for ax, mode in zip(axes, names, strict=True):
        boxes, arrows = _mode_boxes_and_arrows(mode, int(T), int(M))
        for gid, (column, row, label) in boxes.items():
            edge = colour(2) if gid.startswith("c_") else colour(8 if row == 0 else 0)
            rect = Rectangle(
                (column * dx - w / 2, row * dy - h / 2), w, h, fc=fill[row], ec=edge, lw=1.0
            )
            rect.set_gid(gid)
            ax.add_patch(rect)
            ax.text(
                column * dx, row * dy, f"${label}$", ha="center", va="center", fontsize=fontsize
            )
        for start, end, matrix, dashed in arrows:
            (c0, r0, _), (c1, r1, _) = boxes[start], boxes[end]
            # leave a box at its edge: top/bottom for a vertical step, sides otherwise
            a = (c0 * dx + (w / 2 if c1 > c0 and r1 == r0 else 0), r0 * dy)
            b = (c1 * dx - (w / 2 if c1 > c0 and r1 == r0 else 0), r1 * dy)
            if r1 != r0:
                a = (a[0] + (w / 2 if c1 > c0 else 0), a[1] + np.sign(r1 - r0) * h / 2)
                b = (b[0] - (w / 2 if c1 > c0 else 0), b[1] - np.sign(r1 - r0) * h / 2)
            arrow = FancyArrowPatch(
                a,
                b,
                arrowstyle="-|>",
                mutation_scale=9,
                lw=1.0,
                color=colour(8) if dashed else arrow_colour[matrix],
                linestyle="--" if dashed else "-",
                shrinkA=0,
                shrinkB=0,
            )
            arrow.set_gid(matrix)
            ax.add_patch(arrow)
        if mode in ("encoder-decoder", "context-every-step"):
            ax.axvline((T - 0.5) * dx, color=colour(8), lw=0.6, ls=":")
            ax.text(
                (T - 1) / 2 * dx, 2 * dy, "encoder", ha="center", va="center", fontsize=fontsize
            )
            if mode == "encoder-decoder":  # (the other mode's inputs fill that row)
                ax.text(
                    (T + (M - 1) / 2) * dx,
                    0,
                    "decoder",
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                )
        ax.set_title(MODES[mode], fontsize=fontsize + 1, loc="left")
        ax.set_xlim(-0.6 * dx, (n_cols - 0.4) * dx)
        ax.set_ylim(-0.4 * dy, 2.4 * dy)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.tight_layout()
    return fig
