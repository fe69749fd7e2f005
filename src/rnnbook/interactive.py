"""Figures a reader can play with in JupyterLab, and that read as ordinary figures in the book.

``interactive_figure(draw, **controls)`` calls ``draw`` once with every control at its default
and shows that figure: this is what the stored notebook, the rendered book and the PDF hold.
In a running notebook with ``ipywidgets`` installed it also shows one widget per control;
changing one redraws the figure in place. Nothing about the widgets depends on the run, so
nbval's strict comparison of stored outputs still holds (it skips the widgets' model ids and
compares their text form, which names only the controls and their defaults).

The controls are described by three small dataclasses, so that a chapter needs no widget
code: :class:`Slider` (a number in a range), :class:`Choice` (one of a few options) and
:class:`Text` (a line of text, e.g. an input sequence to edit).
"""

import math
from dataclasses import dataclass

from rnnbook._notebook import in_notebook as _in_notebook


@dataclass(frozen=True)
class Slider:
    """A number between ``low`` and ``high`` in steps of ``step``, starting at ``default``."""

    default: float
    low: float
    high: float
    step: float
    label: str | None = None

    def __post_init__(self):
        values = (self.default, self.low, self.high, self.step)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ValueError(f"Slider needs numbers (default, low, high, step), got {values!r}")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"Slider needs finite numbers, got {values!r}")
        if not (self.low <= self.default <= self.high) or self.low >= self.high:
            raise ValueError(
                f"Slider needs low <= default <= high and low < high, got "
                f"low={self.low}, default={self.default}, high={self.high}"
            )
        if self.step <= 0:
            raise ValueError(f"Slider step must be positive, got {self.step}")


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (strings), starting at ``default``."""

    default: str
    options: tuple
    label: str | None = None

    def __post_init__(self):
        if not isinstance(self.options, tuple) or not self.options:
            raise ValueError(f"Choice options must be a non-empty tuple, got {self.options!r}")
        if self.default not in self.options:
            raise ValueError(f"Choice default {self.default!r} is not one of {self.options!r}")


@dataclass(frozen=True)
class Text:
    """A line of text, starting at ``default``."""

    default: str
    label: str | None = None

    def __post_init__(self):
        if not isinstance(self.default, str):
            raise ValueError(f"Text default must be a str, got {type(self.default).__name__}")


CONTROLS = (Slider, Choice, Text)


def _widget(name, control, widgets):
    description = control.label or name
    if isinstance(control, Slider):
        return widgets.FloatSlider(
            value=control.default,
            min=control.low,
            max=control.high,
            step=control.step,
            description=description,
            continuous_update=False,
        )
    if isinstance(control, Choice):
        return widgets.Dropdown(
            options=list(control.options), value=control.default, description=description
        )
    return widgets.Text(value=control.default, description=description, continuous_update=False)


def _check_figure(figure):
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise ValueError(f"draw must return a matplotlib Figure, got {type(figure).__name__}")
    return figure


def interactive_figure(draw, **controls):
    """Show ``draw(**defaults)``; in a live notebook, add controls that redraw it.

    Args:
        draw: a function of the controls' names returning a ``matplotlib.figure.Figure``
            (a new one each call; it is closed once shown).
        **controls: one :class:`Slider`, :class:`Choice` or :class:`Text` per argument of
            ``draw``.

    Returns:
        The figure drawn at the defaults when called outside a notebook (a script or a
        test); ``None`` inside one, where the figure has been displayed.
    """
    if not callable(draw):
        raise ValueError(f"draw must be callable, got {type(draw).__name__}")
    if not controls:
        raise ValueError("interactive_figure needs at least one control")
    for name, control in controls.items():
        if not isinstance(control, CONTROLS):
            raise ValueError(
                f"control {name!r} must be a Slider, Choice or Text, got {type(control).__name__}"
            )
    defaults = {name: control.default for name, control in controls.items()}
    figure = _check_figure(draw(**defaults))
    if not _in_notebook():
        return figure

    import matplotlib.pyplot as plt
    from IPython.display import display

    handle = display(figure, display_id=True)
    plt.close(figure)
    try:
        import ipywidgets as widgets
    except ImportError:  # the static figure is all there is
        return None
    boxes = {name: _widget(name, control, widgets) for name, control in controls.items()}

    def redraw(_change):
        new = _check_figure(draw(**{name: box.value for name, box in boxes.items()}))
        handle.update(new)
        plt.close(new)

    for box in boxes.values():
        box.observe(redraw, names="value")
    display(widgets.VBox(list(boxes.values())))
    return None
