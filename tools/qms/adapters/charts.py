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


def profile_chart(
    title: str,
    groups: Sequence[str],
    stages: Sequence[str],
    bands: Sequence[tuple[str, str]],
    counts: Sequence[Sequence[Sequence[int]]],
    salt: str,
) -> bytes:
    """Stacked bars in groups: per group (a period), one bar per stage, stacked by band
    (name, colour), lowest band at the bottom; `counts[group][stage][band]`."""
    from matplotlib.figure import Figure

    with _style():
        width = 0.26
        figure = Figure(figsize=(max(5.2, 0.9 * len(groups) + 1.6), 3.0), dpi=100,
                        layout="constrained")  # fmt: skip
        axes = figure.add_subplot()
        positions = [g + (s - (len(stages) - 1) / 2) * width * 1.1
                     for g in range(len(groups)) for s in range(len(stages))]  # fmt: skip
        bottoms = [0] * len(positions)
        for b, (name, colour) in enumerate(bands):
            heights = [counts[g][s][b] for g in range(len(groups)) for s in range(len(stages))]
            axes.bar(positions, heights, width, bottom=bottoms, label=name, color=colour,
                     edgecolor=INK, linewidth=0.4)  # fmt: skip
            bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
        for position, total in zip(positions, bottoms, strict=True):
            axes.annotate(f"{total}", (position, total), xytext=(0, 1), textcoords="offset points",
                          ha="center", va="bottom", fontsize=7)  # fmt: skip
        # The stage under each bar, the period under each group.
        axes.set_xticks(positions, [stages[i % len(stages)] for i in range(len(positions))],
                        minor=True)  # fmt: skip
        axes.set_xticks(list(range(len(groups))), list(groups))
        # The middle bar's stage sits where the period's tick is: keep both labels.
        axes.xaxis.remove_overlapping_locs = False
        axes.set_xlim(-0.6, len(groups) - 0.4)
        axes.tick_params(axis="x", which="major", pad=14, length=0)
        axes.tick_params(axis="x", which="minor", length=0, labelsize=7)
        axes.set_ylabel("risks")
        axes.set_ylim(0, max([*bottoms, 1]) * 1.18)
        axes.set_title(title, loc="left", fontsize=10)
        handles, labels = axes.get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=len(bands),
                      frameon=False, fontsize=8)  # fmt: skip
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure, salt)
