"""Charts as SVG bytes, drawn by matplotlib: the same input gives the same bytes.

Reproducible because the hash salt behind the SVG's element ids is given (not random),
the date is left out, and glyphs are drawn as paths from matplotlib's own bundled font
(DejaVu Sans), never from whatever fonts the machine has. No pyplot: a `Figure` on its
own holds no global state and needs no display.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Colours that read on the white card each chart is drawn on, in print and beside a dark
# page alike; states are also written as words, never told by colour alone.
INK = "#1a1a1a"
LINE = "#1f4e79"
TARGET = "#2e7d32"
STATE_COLOURS = {"green": "#2e7d32", "amber": "#b26a00", "red": "#c62828", "no result": "#757575"}


def _style() -> AbstractContextManager[None]:
    from matplotlib import rc_context

    return rc_context(
        {
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
            "font.size": 9.0,
            "axes.edgecolor": INK,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "text.color": INK,
            "path.simplify": False,
        }
    )


@dataclass(frozen=True)
class Threshold:
    """A horizontal line across a chart: the target, or the amber or red threshold."""

    label: str
    value: float
    colour: str
    style: str = "--"


def _svg(figure: Figure, salt: str) -> bytes:
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": salt}):
        figure.savefig(
            buffer, format="svg", metadata={"Date": None, "Creator": None}, facecolor="white"
        )
    return buffer.getvalue()


def trend_chart(
    title: str,
    periods: Sequence[str],
    values: Sequence[float],
    states: Sequence[str],
    thresholds: Sequence[Threshold],
    unit: str,
    salt: str,
) -> bytes:
    """A line over the periods with a marker per value (coloured by its state) and the
    target and threshold lines, as SVG."""
    from matplotlib.figure import Figure

    with _style():
        figure = Figure(figsize=(5.2, 2.6), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        axes.set_facecolor("white")
        positions = list(range(len(periods)))
        axes.plot(positions, list(values), color=LINE, linewidth=1.8, zorder=2)
        colours = [STATE_COLOURS.get(state, INK) for state in states]
        axes.scatter(positions, list(values), c=colours, s=36, zorder=3, edgecolors=INK)
        for line in thresholds:
            axes.axhline(line.value, color=line.colour, linestyle=line.style, linewidth=1.2)
            axes.annotate(
                f"{line.label} {line.value:g}",
                (1.0, line.value),
                xycoords=("axes fraction", "data"),
                xytext=(-2, 2),
                textcoords="offset points",
                ha="right",
                va="bottom",
                color=line.colour,
                fontsize=8,
            )
        # Twelve months side by side do not fit: slanted, they do.
        axes.set_xticks(positions, list(periods))
        if len(periods) > 6:
            axes.tick_params(axis="x", labelrotation=40)
            for label in axes.get_xticklabels():
                label.set_horizontalalignment("right")
        axes.set_xlim(-0.5, max(len(periods) - 0.5, 0.5))
        axes.set_ylabel(unit)
        axes.set_title(title, loc="left", fontsize=10)
        axes.grid(axis="y", color="#d0d0d0", linewidth=0.6)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure, salt)


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    salt: str,
) -> bytes:
    """Grouped bars: one group per category, one bar per (name, values, colour) series."""
    from matplotlib.figure import Figure

    with _style():
        figure = Figure(figsize=(5.2, 2.6), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        width = 0.8 / max(len(series), 1)
        for index, (name, values, colour) in enumerate(series):
            offsets = [i + (index - (len(series) - 1) / 2) * width for i in range(len(categories))]
            bars = axes.bar(offsets, list(values), width, label=name, color=colour)
            axes.bar_label(bars, fontsize=8)
        axes.set_xticks(list(range(len(categories))), list(categories))
        axes.set_ylabel("risks")
        axes.set_title(title, loc="left", fontsize=10)
        axes.legend(frameon=False, fontsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure, salt)
