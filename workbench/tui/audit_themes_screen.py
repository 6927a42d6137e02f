"""The audit lead's themes: what recurred across the cases, where and at which grade, what
changed since the previous audit, and a learning-log item drafted from a theme."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.access import Principal
from schemas.audit import Actor, AgencyOut
from schemas.learning import (
    AuditComparison,
    CriterionComparison,
    LearningItemIn,
    RecurringTheme,
    ThemeGrid,
    ThemeOut,
)
from schemas.tools import GradeScale, ToolDefinition
from workbench.services import audits, learning, theme_analysis, themes
from workbench.services.access import LEARNING_EDITORS
from workbench.services.overview import scale_overview
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected
from workbench.tui.learning_dialog import LearningItemFlow
from workbench.tui.matrix_screen import grade_short

NO_THEMES = (
    "No finding, voice or moderated grade in this audit is tagged with a theme yet. "
    "Tag them from the return or moderation screens, then press r here."
)
ALL_AGENCIES = "All agencies"
OTHER_COLUMN, TOTAL_COLUMN = "other", "total"
# Fixed columns of the themes table: cases ("4 of 5"), agencies, findings, voices, moderation,
# with DataTable's padding of one cell either side of each.
THEME_FIXED_WIDTH = 6 + 8 + 8 + 6 + 10 + 6 * 2
QUESTION_MIN, QUESTION_MAX = 20, 90
# The order the comparison lists criteria in: what the panel asks first is what improved.
CHANGES: tuple[tuple[str, str], ...] = (
    ("improved", "Improved"),
    ("declined", "Declined"),
    ("unchanged", "Unchanged"),
)


def cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@dataclass(frozen=True)
class AuditThemes:
    """Everything the screen shows, read in one worker."""

    title: str
    cases: int
    definition: ToolDefinition
    recurring: tuple[RecurringTheme, ...]
    grid: ThemeGrid
    comparison: AuditComparison

    @property
    def scale(self) -> GradeScale:
        return self.definition.scale


def read_audit_themes(factory: sessionmaker[Session], audit_id: int) -> AuditThemes:
    detail = audits.get_audit(factory, audit_id)
    definition = audits.audit_tool(factory, audit_id)
    grid = theme_analysis.theme_grid(factory, audit_id=audit_id)
    if grid.scale_id != definition.scale.id:
        # Cannot happen for one audit; if it ever did, the counts must not be shown as levels.
        raise RuntimeError(f"theme grid on {grid.scale_id}, audit on {definition.scale.id}")
    return AuditThemes(
        title=detail.title,
        cases=len(detail.cases),
        definition=definition,
        recurring=tuple(theme_analysis.recurring_themes(factory, audit_id)),
        grid=grid,
        comparison=theme_analysis.compare_with_previous(factory, audit_id),
    )


def grid_rows(
    grid: ThemeGrid, scale: GradeScale, theme: str
) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(agency, count per level best first, other answers, total) for one theme, agencies in
    code order, then every agency together. "Other" is not applicable, not evidenced and not
    graded: answers, but not levels of the scale."""
    levels = [level.key for level in scale.levels]
    agencies = sorted({c.agency for c in grid.cells if c.theme == theme})
    rows = []
    for agency in [*agencies, None]:
        counts = tuple(grid.count(theme, agency, key) for key in levels)
        total = grid.count(theme, agency)
        rows.append((agency or ALL_AGENCIES, counts, total - sum(counts), total))
    return rows if agencies else []


def other_breakdown(grid: ThemeGrid, scale: GradeScale, theme: str) -> str:
    levels = {level.key for level in scale.levels}
    other = [c for c in grid.cells if c.theme == theme and c.grade not in levels]
    if not other:
        return ""
    parts = []
    for key, words in (
        ("not_applicable", "not applicable"),
        ("not_evidenced", "not evidenced"),
        (None, "not graded"),
    ):
        n = sum(c.count for c in other if c.grade == key)
        if n:
            parts.append(f"{n} {words}")
    return "Other: " + ", ".join(parts)


def comparison_text(comparison: AuditComparison, scale: GradeScale, width: int) -> Text:
    """What improved and what did not since the previous audit, in words a panel reads."""
    text = Text(no_wrap=False, end="")
    if comparison.previous_audit_id is None:
        note = comparison.note or "no earlier audit to compare with"
        text.append(note[:1].upper() + note[1:] + ".", style="dim")
        return text
    favourable = scale_overview(scale).favourable_label
    text.append("Compared with ")
    text.append(comparison.previous_title or "the previous audit", style="bold")
    text.append(f": share of graded findings at {favourable}, then → now.")
    question_width = max(QUESTION_MIN, min(width - 30, QUESTION_MAX))
    for change, heading in CHANGES:
        criteria = comparison.with_change(change)
        text.append(f"\n{heading} ({len(criteria)})", style="bold")
        for criterion in criteria:
            text.append("\n  ")
            text.append_text(_criterion_line(criterion, question_width))
    unmatched = comparison.with_change("not comparable")
    if unmatched:
        text.append(
            f"\nNot comparable: {len(unmatched)} criteria not graded in one of the two audits",
            style="dim",
        )
    text.append("\nThemes, cases then → now", style="bold")
    if not comparison.themes:
        text.append("\n  no themes tagged in either audit", style="dim")
    label_width = min(max((len(t.label) for t in comparison.themes), default=0), question_width)
    for theme in comparison.themes:
        text.append(f"\n  {cut(theme.label, label_width).ljust(label_width)}  ")
        text.append(f"{theme.cases_before} → {theme.cases_now}", style="bold")
    return text


def _criterion_line(criterion: CriterionComparison, width: int) -> Text:
    line = Text(f"{criterion.criterion_id:<9} {cut(criterion.question, width)}  ")
    line.append(
        f"{share(criterion.favourable_before)} → {share(criterion.favourable_now)}", style="bold"
    )
    return line


class AuditThemesScreen(Screen[None]):
    """One audit's recurring themes. Reads in a worker; the only write is a learning item,
    saved (by LearningItemFlow, in a worker) from what the lead accepted in the dialog."""

    CSS_PATH = "audit_themes_screen.tcss"
    BINDING_GROUP_TITLE = "Audit themes"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "l",
            "learning_item",
            "Learning item",
            tooltip="Draft a learning-log item from the highlighted theme, with its findings",
            id="themes.learning",
        ),
        Binding("r", "refresh", "Refresh", tooltip="Read the themes again", id="themes.refresh"),
        Binding("escape", "back", "Back", tooltip="Back to the audit", id="themes.back"),
    ]

    @dataclass
    class Loaded(Message):
        data: AuditThemes

    @dataclass
    class LoadFailed(Message):
        reason: str

    @dataclass
    class Drafted(Message):
        draft: LearningItemIn
        themes: tuple[ThemeOut, ...]
        agencies: tuple[AgencyOut, ...]

    @dataclass
    class DraftFailed(Message):
        reason: str

    def __init__(
        self, factory: sessionmaker[Session], actor: Actor, audit_id: int, today: dt.date
    ) -> None:
        """`today` is the date a drafted learning item is raised on (the app's clock)."""
        super().__init__()
        self._factory = factory
        self._actor = actor
        self._today = today
        self.audit_id = audit_id
        self.data: AuditThemes | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the themes…", id="summary", markup=False)
        with VerticalScroll(id="body"):
            yield Static("Recurring themes, most widespread first", classes="heading")
            yield DataTable[Text](id="themes", cursor_type="row", zebra_stripes=True)
            yield Static(NO_THEMES, id="no-themes", markup=False)
            yield Static("", id="grid-title", classes="heading", markup=False)
            yield DataTable[Text](id="grid", cursor_type="none", show_cursor=False)
            yield Static("", id="grid-note", classes="note", markup=False)
            yield Static("Since the previous audit", classes="heading")
            yield Static("", id="comparison")
        yield Footer()

    def on_mount(self) -> None:
        # The grid follows the themes table's cursor; it has nothing of its own to select.
        self.query_one("#grid", DataTable).can_focus = False
        self.query_one("#themes", DataTable).focus()
        self.action_refresh()

    @property
    def themes_table(self) -> DataTable[Text]:
        return self.query_one("#themes", DataTable)

    # --- reading ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.data is None:
            self.query_one("#body").loading = True
        self.load_themes()

    @work(thread=True, exclusive=True, exit_on_error=False, group="themes.load")
    def load_themes(self) -> None:
        try:
            message: Message = self.Loaded(read_audit_themes(self._factory, self.audit_id))
        except EXPECTED_FAILURES as exc:
            message = self.LoadFailed(explain(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        reason = unexpected(event.worker.error)
        if event.worker.group == "themes.load":
            self.post_message(self.LoadFailed(reason))
        elif event.worker.group == "themes.draft":
            self.post_message(self.DraftFailed(reason))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.query_one("#body").loading = False
        self.notify(
            f"Could not read the themes: {event.reason}",
            title="Themes not loaded",
            severity="error",
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.data = event.data
        self.query_one("#body").loading = False
        self._show(event.data)

    def on_resize(self, event: Resize) -> None:
        # Labels and questions are cut to the width, so a new width redraws them.
        if self.data is not None:
            self._show(self.data)

    def _label_width(self) -> int:
        return max(16, self.size.width - THEME_FIXED_WIDTH - 8)

    def _show(self, data: AuditThemes) -> None:
        self.sub_title = f"Themes · {data.title}"
        self.query_one("#summary", Static).update(
            f"{data.title} · {data.cases} cases · {len(data.recurring)} themes tagged · "
            f"{data.scale.title}"
        )
        table = self.themes_table
        keep = table.cursor_row
        table.clear(columns=True)
        width = self._label_width()
        table.add_column("Theme", key="theme")
        for key, heading in (
            ("cases", "Cases"),
            ("agencies", "Agencies"),
            ("findings", "Findings"),
            ("voices", "Voices"),
            ("moderation", "Moderation"),
        ):
            table.add_column(heading, key=key)
        for theme in data.recurring:
            table.add_row(
                Text(cut(theme.label, width)),
                Text(f"{theme.cases} of {data.cases}", justify="right"),
                *(
                    Text(str(n), justify="right")
                    for n in (theme.agencies, theme.findings, theme.voices, theme.moderation)
                ),
                key=theme.code,
            )
        self.set_class(not data.recurring, "-no-themes")
        if data.recurring:
            table.move_cursor(row=min(keep, len(data.recurring) - 1), scroll=False)
        self._show_grid(self.highlighted_theme)
        self.query_one("#comparison", Static).update(
            comparison_text(data.comparison, data.scale, self.size.width)
        )

    @property
    def highlighted_theme(self) -> RecurringTheme | None:
        if self.data is None or not self.data.recurring:
            return None
        row = min(max(self.themes_table.cursor_row, 0), len(self.data.recurring) - 1)
        return self.data.recurring[row]

    @on(DataTable.RowHighlighted, "#themes")
    def _theme_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.data is None or event.row_key.value is None:
            return
        code = event.row_key.value
        self._show_grid(next((t for t in self.data.recurring if t.code == code), None))

    def _show_grid(self, theme: RecurringTheme | None) -> None:
        """The highlighted theme's findings by agency and grade, on the audit's own scale."""
        title = self.query_one("#grid-title", Static)
        note = self.query_one("#grid-note", Static)
        grid = self.query_one("#grid", DataTable)
        grid.clear(columns=True)
        if self.data is None or theme is None:
            title.update("")
            note.update("")
            return
        scale = self.data.scale
        title.update(f"{theme.label}: tagged findings by agency and grade")
        rows = grid_rows(self.data.grid, scale, theme.code)
        # A fixed width: the table re-measures auto-width columns on a later frame, so a grid
        # rebuilt twice in quick succession (load, then highlight) could keep a stale width.
        agency_width = max([len("Agency"), *(len(agency) for agency, *_ in rows)])
        grid.add_column("Agency", key="agency", width=agency_width)
        for level in scale.levels:
            grid.add_column(grade_short(scale, level.key), key=level.key)
        grid.add_column("Other", key=OTHER_COLUMN)
        grid.add_column("Total", key=TOTAL_COLUMN)
        for agency, counts, other, total in rows:
            style = "bold" if agency == ALL_AGENCIES else ""
            grid.add_row(
                Text(agency, style=style),
                *(Text(str(n) if n else "·", justify="right", style=style) for n in counts),
                Text(str(other) if other else "·", justify="right", style=style),
                Text(str(total), justify="right", style=style),
                key=agency,
            )
        if not rows:
            note.update("No findings carry this theme: it comes from voices or moderation only.")
        else:
            note.update(other_breakdown(self.data.grid, scale, theme.code))

    # --- a learning item from the highlighted theme ---------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Drafting learning is for those who keep the log; an auditor is not offered the key.
        if action == "learning_item":
            principal = getattr(self.app, "principal", None)
            return not isinstance(principal, Principal) or principal.role in LEARNING_EDITORS
        return True

    def action_learning_item(self) -> None:
        theme = self.highlighted_theme
        if theme is None:
            self.notify("There is no theme to draft from yet.", severity="warning")
            return
        self.draft_learning_item(theme.code)

    @work(thread=True, exclusive=True, exit_on_error=False, group="themes.draft")
    def draft_learning_item(self, code: str) -> None:
        try:
            draft = learning.draft_from_theme(self._factory, self.audit_id, code, today=self._today)
            # Every theme and agency: the dialog offers the retired ones only where the draft
            # already names them.
            vocabulary = tuple(themes.list_themes(self._factory))
            agencies = tuple(audits.list_agencies(self._factory))
        except EXPECTED_FAILURES as exc:
            message: Message = self.DraftFailed(explain(exc))
        else:
            message = self.Drafted(draft, vocabulary, agencies)
        # A second l while drafting cancels this one: one dialog, not two.
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(DraftFailed)
    def _draft_failed(self, event: DraftFailed) -> None:
        self.notify(
            f"Could not draft the learning item: {event.reason}",
            title="Learning item not drafted",
            severity="error",
        )

    @on(Drafted)
    def _drafted(self, event: Drafted) -> None:
        # The flow saves in a worker and, if the save fails, reopens the dialog with what the
        # lead wrote and the reason: nothing typed is lost.
        LearningItemFlow(
            self, self._factory, self._actor, event.themes, event.agencies, today=self._today
        ).start(event.draft)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
