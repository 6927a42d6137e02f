"""Subgroup overview: grades across audits as bars, change since last time, concerns, actions
and the themes that keep recurring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.services.errors import ServiceError
from workbench.services.overview import (
    AuditChange,
    AuditOverview,
    GradeBreakdown,
    LevelChange,
    Overview,
    OverviewTheme,
    ScaleOverview,
    overview,
)
from workbench.store.errors import StoreError
from workbench.tui.feedback import unexpected
from workbench.tui.grade_bars import BarRow, GradeBars, clip, legend, level_colours

EMPTY_MESSAGE = (
    "No audits yet, so there is nothing to compare. Plan an audit from the home screen "
    "(or run `workbench demo`), then press r here."
)
NO_PREVIOUS = "No earlier audit on the same tool to compare with."
NO_THEMES = "No finding, voice or moderated grade is tagged with a theme yet."
NO_ACTIONS = "No open actions."
# How many recurring themes the overview lists: the subgroup asks what keeps coming up, and
# a long tail of themes seen once answers a different question.
TOP_THEMES = 5

# Colours for a change: better, worse, no change. Fixed for the same reason as the bars.
BETTER, WORSE, SAME = "#2e8540", "#c8332b", "dim"

# (key, heading, width) for every column but the audit title, which takes what is left.
FIXED_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("day", "Audit day", 11),
    ("top", "Top", 4),
    ("change", "Change", 10),
    ("concerns", "Concerns", 8),
    ("actions", "Actions", 10),
)
CELL_PADDING = 2  # DataTable pads each cell by one on either side


def format_day(day: dt.date | None) -> str:
    # Day-month-year with the month as a word, as on the home screen.
    return f"{day.day} {day:%b %Y}" if day else "-"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def change_text(change: LevelChange, *, higher_is_better: bool = True, unit: str = " pts") -> Text:
    """`▲ +25 pts` in green when things got better, `▼ -8 pts` in red when worse."""
    points = change.points
    if points is None:
        return Text("-", style=SAME)
    if round(points) == 0:
        return Text(f"= 0{unit}", style=SAME)
    improved = (points > 0) == higher_is_better
    arrow = "▲" if points > 0 else "▼"
    return Text(f"{arrow} {points:+.0f}{unit}", style=BETTER if improved else WORSE)


def actions_cell(row: AuditOverview) -> Text:
    if not row.open_actions:
        return Text("0", style=SAME)
    text = Text(str(row.open_actions))
    if row.overdue_actions:
        text.append(f", {row.overdue_actions} late", style=WORSE)
    return text


def concerns_cell(row: AuditOverview) -> Text:
    return Text(str(row.open_concerns), style="bold " + WORSE if row.open_concerns else SAME)


def bar_row(label: str, grades: GradeBreakdown) -> BarRow:
    return BarRow(
        label=label,
        counts=tuple(level.count for level in grades.levels),
        note=f"{percent(grades.favourable_share):>4} n={grades.graded}",
    )


def summary_text(view: Overview) -> Text:
    text = Text(no_wrap=False, end="")
    text.append(f"{len(view.audits)} audit{'s' if len(view.audits) != 1 else ''}", style="bold")
    text.append("  ·  open immediate concerns ")
    text.append(str(view.open_concerns), style=("bold " + WORSE) if view.open_concerns else "bold")
    text.append("  ·  open actions ")
    text.append(str(view.open_actions), style="bold")
    text.append(", overdue ")
    text.append(
        str(view.overdue_actions), style=("bold " + WORSE) if view.overdue_actions else "bold"
    )
    return text


def actions_text(view: Overview) -> Text:
    """Open and overdue actions, then the audits they belong to, most overdue first."""
    text = Text(no_wrap=False, end="")
    if not view.open_actions:
        text.append(NO_ACTIONS, style=SAME)
        return text
    text.append(f"{view.open_actions} open", style="bold")
    text.append(", ")
    text.append(
        f"{view.overdue_actions} overdue", style=("bold " + WORSE) if view.overdue_actions else SAME
    )
    text.append(f" (as of {format_day(view.as_of)})", style=SAME)
    with_actions = sorted(
        (a for a in view.audits if a.open_actions),
        key=lambda a: (-a.overdue_actions, -a.open_actions, a.title),
    )
    for row in with_actions:
        text.append(f"\n  {row.title}: {row.open_actions} open")
        if row.overdue_actions:
            text.append(f", {row.overdue_actions} overdue", style=WORSE)
    elsewhere = view.open_actions - sum(a.open_actions for a in view.audits)
    if elsewhere:
        text.append(f"\n  Not tied to an audit: {elsewhere} open", style=SAME)
    return text


def count_of(n: int, word: str, digits: int) -> str:
    return f"{n:>{digits}} {word}{'' if n == 1 else 's'}"


def themes_text(themes: tuple[OverviewTheme, ...], width: int) -> Text:
    """The most widespread themes: in how many audits and cases, and how often tagged."""
    text = Text(no_wrap=True, end="")
    if not themes:
        text.append(NO_THEMES, style=SAME)
        return text
    shown = themes[:TOP_THEMES]
    label_width = max(12, min(max(len(t.label) for t in shown), width - 44))
    for index, theme in enumerate(shown):
        if index:
            text.append("\n")
        text.append(clip(theme.label, label_width).ljust(label_width))
        # Padded to one width, so the counts line up in columns whatever the plural.
        text.append(f"  {count_of(theme.audits, 'audit', 2):<9}", style="bold")
        text.append(f"  {count_of(theme.cases, 'case', 3):<9}")
        text.append(f"  {count_of(theme.findings, 'finding', 3)}", style=SAME)
    if len(themes) > TOP_THEMES:
        text.append(f"\n… and {len(themes) - TOP_THEMES} more themes", style=SAME)
    return text


def top_grades_note(view: Overview) -> str:
    meanings = "; ".join(f"{s.favourable_label} on the {s.title}" for s in view.scales)
    return f"Top = share of graded findings at {meanings}." if meanings else ""


def level_changes_text(scale: ScaleOverview, change: AuditChange) -> Text:
    text = Text(no_wrap=False, end="")
    favourable = change.favourable
    text.append(f"{scale.favourable_label}: ")
    text.append(f"{percent(favourable.before)} → {percent(favourable.after)}  ", style="bold")
    text.append_text(change_text(favourable))
    text.append("\nPer level (pts): ")
    for index, level in enumerate(change.levels):
        if index:
            text.append(" · ")
        text.append(f"{scale.level(level.grade).short} ")
        # More findings at a lower level is worse, so its arrow turns red when it rises.
        text.append_text(
            change_text(level, higher_is_better=level.grade in scale.favourable, unit="")
        )
    return text


class OverviewScreen(Screen[None]):
    """Across audits. Read in a worker; the bars redraw to the terminal's width."""

    CSS_PATH = "overview_screen.tcss"
    BINDING_GROUP_TITLE = "Subgroup overview"

    BINDINGS = [
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Read the figures again from the database",
            id="overview.refresh",
        ),
        Binding(
            "e",
            "export",
            "Export",
            tooltip="Write the subgroup summary for a period",
            id="overview.export",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Close the overview and go back",
            id="overview.back",
        ),
    ]

    @dataclass
    class Loaded(Message):
        """The worker read the overview."""

        overview: Overview

    @dataclass
    class LoadFailed(Message):
        """`reason` is one line fit to show a user."""

        reason: str

    def __init__(self, factory: sessionmaker[Session], *, today: dt.date | None = None) -> None:
        """`today` decides which actions count as overdue; None means the real today."""
        super().__init__()
        self._factory = factory
        self._today = today
        self._overview: Overview | None = None

    @property
    def current(self) -> Overview | None:
        """The overview on screen, for whoever wants the figures behind the bars."""
        return self._overview

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_MESSAGE, id="empty", markup=False)
        with VerticalScroll(id="body"):
            yield Static(id="summary")
            yield Static(
                "Audits, newest first: change since the previous audit on the same tool",
                classes="heading",
            )
            yield DataTable[str | Text](id="audits", cursor_type="row", zebra_stripes=True)
            yield Static(id="top-note", classes="note", markup=False)
            with Vertical(id="change"):
                yield Static(id="change-title", classes="heading")
                yield GradeBars(id="change-bars", colours=level_colours(4))
                yield Static(id="change-levels")
            yield Static("Actions", classes="heading")
            yield Static(id="actions")
            yield Static("Recurring themes across audits", classes="heading")
            yield Static(id="themes")
            yield Vertical(id="distribution")
        yield Footer()

    def on_mount(self) -> None:
        # The table is where the keys act: its cursor picks the audit whose change is drawn.
        self.query_one("#audits", DataTable).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one("#body").loading = True
        self.load_overview()

    def action_back(self) -> None:
        self.dismiss()

    def action_export(self) -> None:
        from workbench.tui.export_dialog import ExportScope
        from workbench.tui.export_flow import start_export

        start_export(self, ExportScope.SUMMARY)

    @work(thread=True, exclusive=True, exit_on_error=False, group="overview.load")
    def load_overview(self) -> None:
        try:
            view = overview(self._factory, today=self._today)
        except (StoreError, ServiceError) as exc:
            message: Message = self.LoadFailed(str(exc))
        else:
            message = self.Loaded(view)
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything but a store or service refusal still reaches the user as one plain line.
        if event.worker.group == "overview.load" and event.state is WorkerState.ERROR:
            self.post_message(self.LoadFailed(unexpected(event.worker.error)))

    @on(LoadFailed)
    def show_failure(self, event: LoadFailed) -> None:
        self.query_one("#body").loading = False
        self.notify(
            f"Could not read the overview: {event.reason}",
            title="Overview not loaded",
            severity="error",
        )

    @on(Loaded)
    async def show_overview(self, event: Loaded) -> None:
        view = event.overview
        self._overview = view
        self.query_one("#body").loading = False
        self.set_class(not view.audits, "-empty")
        self.query_one("#summary", Static).update(summary_text(view))
        self.query_one("#top-note", Static).update(top_grades_note(view))
        self.query_one("#actions", Static).update(actions_text(view))
        self.query_one("#themes", Static).update(themes_text(view.themes, self.size.width))
        first_load = self.query_one("#audits", DataTable).row_count == 0
        self._fill_table()
        await self._draw_distribution(view)
        if first_load:
            # Open on the newest audit that has something to compare with: the question
            # the subgroup asks first is "are we doing better than last time?".
            compared = [i for i, a in enumerate(view.audits) if a.change is not None]
            if compared:
                self.query_one("#audits", DataTable).move_cursor(row=compared[0])
        self._show_change(self._highlighted_audit())

    def on_resize(self, event: Resize) -> None:
        # The title column takes whatever the fixed columns leave, so it changes with the width.
        if self._overview is not None:
            self._fill_table()
            self.query_one("#themes", Static).update(
                themes_text(self._overview.themes, self.size.width)
            )

    def _title_width(self) -> int:
        fixed = sum(width + CELL_PADDING for _, _, width in FIXED_COLUMNS)
        # Room for the scroll bars and the page padding, so no column is pushed off screen.
        return max(12, self.size.width - fixed - CELL_PADDING - 6)

    def _fill_table(self) -> None:
        view = self._overview
        if view is None:
            return
        table = self.query_one("#audits", DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        title_width = self._title_width()
        table.add_column("Audit", key="title", width=title_width)
        for key, heading, width in FIXED_COLUMNS:
            table.add_column(heading, key=key, width=width)
        for row in view.audits:
            change = row.change
            table.add_row(
                clip(row.title, title_width),
                format_day(row.audit_day),
                Text(percent(row.grades.favourable_share), justify="right"),
                change_text(change.favourable) if change else Text("first", style=SAME),
                concerns_cell(row),
                actions_cell(row),
                key=str(row.id),
            )
        if view.audits:
            table.move_cursor(row=min(keep, len(view.audits) - 1))

    def _highlighted_audit(self) -> AuditOverview | None:
        if self._overview is None or not self._overview.audits:
            return None
        table = self.query_one("#audits", DataTable)
        return self._overview.audits[min(table.cursor_row, len(self._overview.audits) - 1)]

    @on(DataTable.RowHighlighted, "#audits")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._overview is None or event.row_key.value is None:
            return
        audit_id = int(event.row_key.value)
        row = next((a for a in self._overview.audits if a.id == audit_id), None)
        self._show_change(row)

    def _show_change(self, row: AuditOverview | None) -> None:
        view = self._overview
        title = self.query_one("#change-title", Static)
        bars = self.query_one("#change-bars", GradeBars)
        levels = self.query_one("#change-levels", Static)
        if view is None or row is None:
            title.update("")
            bars.set_rows([])
            levels.update("")
            return
        scale = view.scale(row.scale_id)
        colours = level_colours(len(scale.levels))
        if row.change is None:
            title.update(Text.assemble((row.title, "bold"), ": ", NO_PREVIOUS))
            bars.set_rows([bar_row(f"Now {format_day(row.audit_day)}", row.grades)], colours)
            levels.update("")
            return
        change = row.change
        previous = next(a for a in view.audits if a.id == change.previous_audit_id)
        title.update(
            Text.assemble((row.title, "bold"), " compared with ", (change.previous_title, "bold"))
        )
        bars.set_rows(
            [
                bar_row(f"Then {format_day(change.previous_day)}", previous.grades),
                bar_row(f"Now {format_day(row.audit_day)}", row.grades),
            ],
            colours,
        )
        levels.update(level_changes_text(scale, change))

    async def _draw_distribution(self, view: Overview) -> None:
        box = self.query_one("#distribution", Vertical)
        await box.remove_children()
        widgets: list[Static | GradeBars] = []
        for scale in view.scales:
            colours = level_colours(len(scale.levels))
            for heading, rows in (
                ("Grades by agency", [b for b in view.by_agency if b.scale_id == scale.id]),
                ("Grades by tool", [b for b in view.by_tool if b.scale_id == scale.id]),
            ):
                if not rows:
                    continue
                widgets.append(
                    Static(f"{heading} · {scale.title}", classes="heading", markup=False)
                )
                widgets.append(
                    Static(legend([lv.label for lv in scale.levels], colours), classes="legend")
                )
                widgets.append(
                    GradeBars(
                        [bar_row(b.label, b) for b in rows],
                        colours=colours,
                        classes=f"bars-{heading.split()[-1]}",
                    )
                )
        if not widgets:
            widgets.append(Static("No findings graded yet in any audit.", classes="note"))
        await box.mount_all(widgets)
