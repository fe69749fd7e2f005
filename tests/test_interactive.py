"""rnnbook.interactive: the static figure at the defaults, the controls, bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook import interactive  # noqa: E402
from rnnbook.interactive import Choice, Slider, Text, interactive_figure  # noqa: E402


def test_outside_a_notebook_it_returns_the_figure_at_the_defaults():
    calls = []

    def draw(rho, kind, seq):
        calls.append((rho, kind, seq))
        return plt.figure()

    fig = interactive_figure(
        draw, rho=Slider(0.9, 0.1, 2.0, 0.1), kind=Choice("tanh", ("tanh", "relu")), seq=Text("ab")
    )
    assert isinstance(fig, matplotlib.figure.Figure)
    assert calls == [(0.9, "tanh", "ab")]
    plt.close(fig)


class _Handle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


def test_in_a_notebook_a_changed_control_redraws_into_the_same_display(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown, handle = [], _Handle()

    def fake_display(obj, display_id=False):
        shown.append(obj)
        return handle if display_id else None

    monkeypatch.setattr(interactive, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    values = []

    def draw(rho):
        values.append(rho)
        return plt.figure()

    assert interactive_figure(draw, rho=Slider(1.0, 0.5, 1.5, 0.25)) is None
    figure, box = shown
    assert isinstance(figure, matplotlib.figure.Figure)
    slider = box.children[0]
    assert (slider.min, slider.max, slider.value) == (0.5, 1.5, 1.0)
    slider.value = 1.25  # what a reader's drag does
    assert values == [1.0, 1.25] and len(handle.updates) == 1


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Slider(3.0, 0.0, 1.0, 0.1), "low <= default <= high"),
        (lambda: Slider(0.5, 0.0, 1.0, 0.0), "step must be positive"),
        (lambda: Slider(float("nan"), 0.0, 1.0, 0.1), "finite"),
        (lambda: Slider("a", 0.0, 1.0, 0.1), "numbers"),
        (lambda: Choice("c", ("a", "b")), "not one of"),
        (lambda: Choice("a", []), "non-empty tuple"),
        (lambda: Text(3), "must be a str"),
        (lambda: interactive_figure(3, a=Text("x")), "draw must be callable"),
        (lambda: interactive_figure(lambda: None), "at least one control"),
        (lambda: interactive_figure(lambda a: None, a=(1, 2)), "Slider, Choice or Text"),
        (lambda: interactive_figure(lambda a: "fig", a=Text("x")), "matplotlib Figure"),
    ],
)
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()
