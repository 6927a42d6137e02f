"""Horizontal stacked bars of grade shares, one row per group, coloured by level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

BLOCK = "█"

# Best to worst. Fixed colours rather than theme variables: a level means the same colour in
# the light and the dark theme, and each reads on both backgrounds.
_PALETTES: dict[int, tuple[str, ...]] = {
    1: ("#2e8540",),
    2: ("#2e8540", "#c8332b"),
    3: ("#2e8540", "#e39b16", "#c8332b"),
    4: ("#2e8540", "#8cbf3f", "#e39b16", "#c8332b"),
}


def level_colours(levels: int) -> tuple[str, ...]:
    """One colour per level, best (green) to worst (red); longer scales are interpolated."""
    if levels in _PALETTES:
        return _PALETTES[levels]
    anchors = [_rgb(c) for c in _PALETTES[4]]
    out = []
    for index in range(levels):
        position = index * (len(anchors) - 1) / (levels - 1)
        low = min(int(position), len(anchors) - 2)
        fraction = position - low
        mixed = (
            round(a + (b - a) * fraction)
            for a, b in zip(anchors[low], anchors[low + 1], strict=True)
        )
        out.append("#{:02x}{:02x}{:02x}".format(*mixed))
    return tuple(out)


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def segment_widths(counts: Sequence[int], width: int) -> list[int]:
    """Cells per level, summing to exactly `width` (largest remainder), or all 0 if no counts.

    A level with any findings gets at least one cell when there is room, so a single
    Inadequate among hundreds still shows.
    """
    total = sum(counts)
    if total <= 0 or width <= 0:
        return [0 for _ in counts]
    exact = [count * width / total for count in counts]
    cells = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - cells[i], reverse=True)
    for index in by_remainder[: width - sum(cells)]:
        cells[index] += 1
    present = [i for i, count in enumerate(counts) if count > 0]
    if len(present) <= width:
        for index in present:
            if cells[index] == 0:
                donor = max(range(len(cells)), key=lambda i: cells[i])
                if cells[donor] > 1:
                    cells[donor] -= 1
                    cells[index] = 1
    return cells


def stacked_bar(counts: Sequence[int], colours: Sequence[str], width: int) -> Text:
    bar = Text(no_wrap=True, end="")
    if sum(counts) <= 0:
        bar.append("·" * width, style="dim")
        return bar
    for cells, colour in zip(segment_widths(counts, width), colours, strict=True):
        bar.append(BLOCK * cells, style=colour)
    return bar


def legend(labels: Sequence[str], colours: Sequence[str]) -> Text:
    """`█ Outstanding  █ Good  ...`: the key a reader needs to read the bars."""
    text = Text(no_wrap=False, end="")
    for index, (label, colour) in enumerate(zip(labels, colours, strict=True)):
        if index:
            text.append("  ")
        text.append(BLOCK, style=colour)
        text.append(f" {label}")
    return text


def clip(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis, so a long title never wraps a row."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


@dataclass(frozen=True)
class BarRow:
    """One bar: a label on the left, counts per level best first, a note on the right."""

    label: str
    counts: tuple[int, ...]
    note: str = ""


class GradeBars(Widget):
    """Rows of stacked bars sharing one scale's colours. Feed it rows; it draws to its width."""

    DEFAULT_CSS = """
    GradeBars {
        height: auto;
        width: 1fr;
    }
    """

    MAX_LABEL = 34
    MIN_BAR = 8

    def __init__(
        self,
        rows: Sequence[BarRow] = (),
        *,
        colours: Sequence[str],
        empty_text: str = "nothing graded yet",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows = tuple(rows)
        self._colours = tuple(colours)
        self._empty_text = empty_text

    @property
    def rows(self) -> tuple[BarRow, ...]:
        return self._rows

    def set_rows(self, rows: Sequence[BarRow], colours: Sequence[str] | None = None) -> None:
        """New rows (and, for another scale, its colours); redraws at once."""
        self._rows = tuple(rows)
        if colours is not None:
            self._colours = tuple(colours)
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._rows))

    def render(self) -> RenderResult:
        width = self.content_size.width or 80
        if not self._rows:
            return Text(self._empty_text, style="dim", no_wrap=True)
        note_width = max(len(row.note) for row in self._rows)
        label_width = min(
            max(len(row.label) for row in self._rows),
            self.MAX_LABEL,
            # Never let labels squeeze the bar below a readable length.
            max(6, width - note_width - self.MIN_BAR - 2),
        )
        bar_width = max(1, width - label_width - note_width - 2)
        out = Text(no_wrap=True, end="")
        for index, row in enumerate(self._rows):
            if index:
                out.append("\n")
            out.append(clip(row.label, label_width).ljust(label_width))
            out.append(" ")
            out.append_text(stacked_bar(row.counts, self._colours, bar_width))
            if note_width:
                out.append(" ")
                out.append(row.note.rjust(note_width), style="bold")
        return out
