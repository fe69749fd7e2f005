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
