"""rnnbook.plots.unrolled_graph: the unrolled network has the right nodes and shared arrows."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook import plots  # noqa: E402


@pytest.mark.parametrize("T", [1, 3, 6])
@pytest.mark.parametrize("feedback", ["hidden", "output"])
def test_unrolled_graph_nodes_and_arrows(T, feedback):
    fig, ax = plt.subplots()
    try:
        assert plots.unrolled_graph(T, ax, feedback=feedback) is ax
        gids = [p.get_gid() for p in ax.patches]
        # one W, U and V per step, plus one of each in the folded network
        for matrix in ("W", "U", "V"):
            assert gids.count(matrix) == T + 1
        for row in ("x", "h", "y"):
            assert {f"{row}_{t}" for t in range(1, T + 1)} <= set(gids)
        state = "h" if feedback == "hidden" else "y"
        assert f"{state}_0" in gids
        labels = [t.get_text() for t in ax.texts]
        assert labels.count("$U$") == T + 1
        assert f"$h_{T}$" in labels
    finally:
        plt.close(fig)


def test_unrolled_graph_makes_its_own_axes():
    ax = plots.unrolled_graph(2)
    assert not ax.axison
    plt.close(ax.figure)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"T": 0}, "T must be"),
        ({"T": 9}, "T must be"),
        ({"T": 2.0}, "T must be"),
        ({"T": 2, "feedback": "input"}, "feedback"),
    ],
)
def test_unrolled_graph_bad_input(kwargs, match):
    T = kwargs.pop("T")
    with pytest.raises(ValueError, match=match):
        plots.unrolled_graph(T, **kwargs)


def _boxes_and_arrows(ax):
    from matplotlib.patches import FancyArrowPatch, Rectangle

    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return boxes, arrows


def _expected(mode, T, M):
    """(boxes, arrows, arrows by matrix) of each mode, counted from its diagram's definition."""
    if mode == "sequence-to-class":  # x_t, h_t for t <= T, one yhat; W T times, U T-1, V once
        return 2 * T + 1, {"W": T, "U": T - 1, "V": 1}
    if mode == "synchronous":
        return 3 * T, {"W": T, "U": T - 1, "V": T}
    if mode == "one-to-many":  # one x, M states and outputs
        return 2 * M + 1, {"W": 1, "U": M - 1, "V": M}
    # encoder over T steps, decoder over M: U from h_T into s_1 and between the s_m;
    # W: the inputs x_t and the fed-back outputs y_{m-1} (dashed)
    base = {"W": T + M - 1, "U": T - 1 + M, "V": M}
    if mode == "encoder-decoder":
        return 2 * T + 2 * M, base
    return 2 * T + 3 * M, {**base, "C": M}  # context-every-step: one c box and arrow per step


@pytest.mark.parametrize("mode", list(plots.MODES))
@pytest.mark.parametrize("T, M", [(4, 3), (1, 1), (3, 5)])
def test_modes_of_use_counts_boxes_and_arrows(mode, T, M):
    fig = plots.modes_of_use([mode], T=T, M=M)
    try:
        assert len(fig.axes) == 1
        boxes, arrows = _boxes_and_arrows(fig.axes[0])
        n_boxes, by_matrix = _expected(mode, T, M)
        assert len(boxes) == n_boxes
        gids = [a.get_gid() for a in arrows]
        assert {k: gids.count(k) for k in set(gids)} == {k: v for k, v in by_matrix.items() if v}
        assert len(arrows) == sum(by_matrix.values())
        assert len({b.get_gid() for b in boxes}) == n_boxes  # every box has its own name
    finally:
        plt.close(fig)


def test_modes_of_use_all_modes_in_order_and_deterministic():
    fig1, fig2 = plots.modes_of_use(), plots.modes_of_use()
    try:
        assert len(fig1.axes) == len(plots.MODES)
        titles = [ax.get_title(loc="left") for ax in fig1.axes]
        assert titles == list(plots.MODES.values())
        for a1, a2 in zip(fig1.axes, fig2.axes, strict=True):
            assert [p.get_gid() for p in a1.patches] == [p.get_gid() for p in a2.patches]
            b1, _ = _boxes_and_arrows(a1)
            b2, _ = _boxes_and_arrows(a2)
            assert [b.get_xy() for b in b1] == [b.get_xy() for b in b2]
        # a single name is one panel
        one = plots.modes_of_use("one-to-many")
        assert len(one.axes) == 1
        plt.close(one)
    finally:
        plt.close(fig1)
        plt.close(fig2)


def test_modes_of_use_boxes_do_not_overlap():
    fig = plots.modes_of_use(T=5, M=4)
    try:
        for ax in fig.axes:
            boxes, _ = _boxes_and_arrows(ax)
            corners = sorted((round(b.get_x(), 6), round(b.get_y(), 6)) for b in boxes)
            assert len(set(corners)) == len(corners)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("many-to-one",), {}, "mode must be one of"),
        ((["synchronous", "sequence to class"],), {}, "mode must be one of"),
        (([],), {}, "non-empty"),
        ((3,), {}, "non-empty"),
        ((["synchronous", "synchronous"],), {}, "must not repeat"),
        ((), {"T": 0}, "T must be"),
        ((), {"T": 7}, "T must be"),
        ((), {"M": 2.0}, "M must be"),
        ((), {"M": True}, "M must be"),
    ],
)
def test_modes_of_use_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.modes_of_use(*args, **kwargs)
