"""Charts for the Word exports: PNG bytes drawn with matplotlib's object API.

No pyplot, so no global figure state: a chart can be drawn on any thread. matplotlib is
imported inside the functions because it takes a noticeable time to load and most CLI
commands never draw. The same data gives the same bytes (fixed size and DPI, no
software or date metadata), so documents are reproducible.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from schemas.learning import RecurringTheme
from schemas.reports import GradeRow, ScaleInfo

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 150
WIDTH_IN = 7.0
FONT = "DejaVu Sans"  # bundled with matplotlib, so every machine draws the same glyphs
TEXT_COLOUR = "#222222"
GRID_COLOUR = "#d0d0d0"

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour
# vision deficiency. Chosen per scale length so that the best level is blue and the worst
# vermillion, with the colours between running from cool to warm.
_PALETTES: dict[int, tuple[str, ...]] = {
    1: ("#0072B2",),
    2: ("#0072B2", "#D55E00"),
    3: ("#0072B2", "#E69F00", "#D55E00"),
    4: ("#0072B2", "#56B4E9", "#E69F00", "#D55E00"),
    5: ("#0072B2", "#56B4E9", "#F0E442", "#E69F00", "#D55E00"),
    6: ("#0072B2", "#56B4E9", "#009E73", "#F0E442", "#E69F00", "#D55E00"),
    7: ("#0072B2", "#56B4E9", "#009E73", "#F0E442", "#E69F00", "#D55E00", "#CC79A7"),
}
# Dark fills need white count labels; the light ones (sky blue, yellow, orange) dark labels.
_DARK_FILLS = {"#0072B2", "#009E73", "#D55E00", "#CC79A7"}
THEME_COLOUR = "#0072B2"


def level_colours(levels: int) -> tuple[str, ...]:
    """The fill for each level of a scale, best first."""
    if levels <= 0:
        return ()
    if levels in _PALETTES:
        return _PALETTES[levels]
    longest = _PALETTES[max(_PALETTES)]
    return tuple(longest[i % len(longest)] for i in range(levels))


def _height(rows: int, minimum: float) -> float:
    return max(minimum, 1.1 + 0.42 * rows)


def _new_figure(height: float) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
    figure.set_layout_engine("constrained")
    return figure


def _style_axes(axes: Axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=TEXT_COLOUR, labelsize=9)
    axes.xaxis.grid(visible=True, color=GRID_COLOUR, linewidth=0.6)
    axes.set_axisbelow(True)


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # attaches itself: the figure draws with Agg, whatever pyplot uses
    buffer = io.BytesIO()
    # Software (matplotlib's version) is the only metadata PNG output writes by default;
    # without it the bytes depend on nothing but the data.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def grade_distribution_chart(rows: Sequence[GradeRow], scale: ScaleInfo) -> bytes:
    """Horizontal stacked bars, one per row (agency, then overall), of each level's share of
    that row's graded findings, best level on the left. Not applicable and not evidenced are
    answers, not grades: they are left out, as the row labels' n says."""
    figure = _new_figure(_height(len(rows) + 1, minimum=2.4))  # a row's room for the legend
    axes = figure.add_subplot()
    _style_axes(axes)
    colours = level_colours(len(scale.levels))
    labels = [f"{row.label} (n={row.graded})" for row in rows]
    positions = list(range(len(rows)))
    for index, level in enumerate(scale.levels):
        shares: list[float] = []
        lefts: list[float] = []
        for row in rows:
            graded = row.graded
            before = sum(row.counts[:index])
            count = row.counts[index] if index < len(row.counts) else 0
            shares.append(100 * count / graded if graded else 0.0)
            lefts.append(100 * before / graded if graded else 0.0)
        bars = axes.barh(
            positions,
            shares,
            left=lefts,
            height=0.62,
            color=colours[index],
            edgecolor="white",
            linewidth=0.8,
            label=level.label,
        )
        counts = [row.counts[index] if index < len(row.counts) else 0 for row in rows]
        text_colour = "white" if colours[index] in _DARK_FILLS else TEXT_COLOUR
        for bar, share, count in zip(bars, shares, counts, strict=True):
            if count and share >= 7:
                axes.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=8,
                    family=FONT,
                    color=text_colour,
                )
    for position, row in zip(positions, rows, strict=True):
        if not row.graded:
            axes.text(1, position, "no graded findings", va="center", fontsize=8, color=TEXT_COLOUR)
    axes.set_yticks(positions, labels, family=FONT)
    axes.invert_yaxis()  # first row at the top, as in the table
    axes.set_xlim(0, 100)
    axes.set_xticks(range(0, 101, 20), [f"{x}%" for x in range(0, 101, 20)], family=FONT)
    axes.set_xlabel(
        "Share of the row's graded findings (%); the numbers in the bars are counts",
        fontsize=9,
        family=FONT,
        color=TEXT_COLOUR,
    )
    if scale.levels:
        figure.legend(
            loc="outside lower center",
            ncols=min(len(scale.levels), 4),
            frameon=False,
            prop={"family": FONT, "size": 8},
        )
    return _png(figure)


def theme_frequency_chart(themes: Sequence[RecurringTheme], cases: int) -> bytes:
    """Horizontal bars: in how many of the audit's cases each theme recurred, in the order
    given (most frequent first, as the services sort them)."""
    figure = _new_figure(_height(len(themes), minimum=1.6))
    axes = figure.add_subplot()
    _style_axes(axes)
    positions = list(range(len(themes)))
    values = [theme.cases for theme in themes]
    bars = axes.barh(positions, values, height=0.62, color=THEME_COLOUR)
    for bar, value in zip(bars, values, strict=True):
        axes.text(
            bar.get_width() + max(cases, 1) * 0.01,
            bar.get_y() + bar.get_height() / 2,
            str(value),
            va="center",
            fontsize=8,
            family=FONT,
            color=TEXT_COLOUR,
        )
    axes.set_yticks(positions, [theme.label for theme in themes], family=FONT)
    axes.invert_yaxis()
    top = max([cases, *values, 1])
    axes.set_xlim(0, top * 1.08)
    step = max(1, -(-top // 8))
    ticks = list(range(0, top + 1, step))
    axes.set_xticks(ticks, [str(t) for t in ticks], family=FONT)
    axes.set_xlabel(
        f"Cases in which the theme recurred (count, of {cases} cases)",
        fontsize=9,
        family=FONT,
        color=TEXT_COLOUR,
    )
    return _png(figure)
