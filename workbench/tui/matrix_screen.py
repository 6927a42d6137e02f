"""The audit lead's case x agency matrix: each agency's grade and return status per case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import Actor, LevelOfNeed, ReturnStatus
from schemas.tools import GradeScale
from workbench.services.matrix import MatrixCell, ReturnMatrix, return_matrix
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected
from workbench.tui.live import DataChanged, refill

NEED_SHORT = {
    LevelOfNeed.EARLY_HELP: "EH",
    LevelOfNeed.CHILD_IN_NEED: "CIN",
    LevelOfNeed.CHILD_PROTECTION: "CP",
    LevelOfNeed.LOOKED_AFTER: "LAC",
}
SUBMITTED_GLYPH = "✔"
NO_GRADE = "-"
CASE_COLUMN, NEED_COLUMN, MODERATED_COLUMN = "case", "need", "moderated"
TONES = ("best", "good", "weak", "worst", "other")


def grade_tone(scale: GradeScale, key: str | None) -> str:
    """Which colour a grade gets: best and worst levels at the ends, the rest by position.

    On the four-point scale: outstanding best (green), good good (blue), requires
    improvement weak (amber), inadequate worst (red); on RAG: green, amber, red. Non-grade
    answers, blanks and unordered scales are 'other' (muted)."""
    rank = scale.rank(key) if key is not None and scale.ordered else None
    if rank is None:
        return "other"
    last = len(scale.levels)
    if rank == 1:
        return "best"
    if rank == last:
        return "worst"
    return "good" if (rank - 1) / (last - 1) < 0.5 else "weak"


def grade_short(scale: GradeScale, key: str | None) -> str:
    """The grade as a narrow cell shows it: the level's short label, or a plain abbreviation."""
    if key is None:
        return NO_GRADE
    for level in scale.levels:
        if level.key == key:
            return level.short or level.label
    return {"not_applicable": "N/A", "not_evidenced": "Not ev."}.get(key, key)


def status_text(cell: MatrixCell) -> str:
    return (
        SUBMITTED_GLYPH
        if cell.status is ReturnStatus.SUBMITTED
        else f"{cell.answered}/{cell.total}"
    )


class GradeTable(DataTable[Text]):
    """A DataTable whose cells carry grades coloured by level; the colours come from CSS so
    light and dark themes both read well."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"grade--{tone}" for tone in TONES),
        "grade--disagreement",
        "grade--status",
    }

    # Muted answers are dimmed rather than given a translucent colour: cell styles are
    # plain Rich styles, which cannot blend.
    DEFAULT_CSS = """
    GradeTable > .grade--best { color: $text-success; text-style: bold; }
    GradeTable > .grade--good { color: $text-primary; text-style: bold; }
    GradeTable > .grade--weak { color: $text-warning; text-style: bold; }
    GradeTable > .grade--worst { color: $text-error; text-style: bold; }
    GradeTable > .grade--other { text-style: dim; }
    GradeTable > .grade--status { text-style: dim; }
    GradeTable > .grade--disagreement { background: $error-muted; text-style: bold underline; }
    """

    def style_for(self, component: str) -> Style:
        return self.get_component_rich_style(f"grade--{component}", partial=True)

    def grade_text(self, scale: GradeScale, key: str | None, *, disagreement: bool = False) -> Text:
        # A span, not the Text's base style, so whatever is appended keeps its own look.
        text = Text()
        text.append(grade_short(scale, key), style=self.style_for(grade_tone(scale, key)))
        if disagreement:
            text.stylize(self.style_for("disagreement"))
        return text


_LEAD_VERBS = frozenset({"concerns", "export", "history", "identifiers"})


class AuditScreen(Screen[None]):
    """One audit as a case x agency matrix. Reads happen in a worker; nothing here writes."""

    CSS_PATH = "matrix_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_cell",
            "Open",
            tooltip="Open the agency's return under the cursor (or moderate the case)",
            id="audit.open",
            # Before the table's own Enter, so the footer shows what Enter does here.
            priority=True,
        ),
        Binding(
            "m",
            "moderate",
            "Moderate",
            tooltip="Moderate the selected case: every agency's answers side by side",
            id="audit.moderate",
        ),
        Binding(
            "c",
            "concerns",
            "Concerns",
            tooltip="Open immediate concerns for this audit, to follow up or close",
            id="audit.concerns",
        ),
        Binding(
            "t",
            "themes",
            "Themes",
            tooltip="Recurring themes, where they fall by agency and grade, and since last time",
            id="audit.themes",
        ),
        Binding(
            "k",
            "agreement",
            "Agreement",
            tooltip="Agreement between graders: agencies against the panel, and double grading",
            id="audit.agreement",
            # an occasional view, also on the moderation screen: F1 and the palette list it
            show=False,
        ),
        Binding(
            "e",
            "export",
            "Export",
            tooltip="Write the audit report or the one-page briefing (Word)",
            id="audit.export",
        ),
        # Off the footer, which has no room left at 80 columns: the matrix re-reads itself when
        # the screen comes back, and F1 and the palette still offer the key.
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Read the matrix again",
            id="audit.refresh",
            show=False,
        ),
        Binding(
            "h,ctrl+l",
            "history",
            "History",
            tooltip="Who changed what in the selected case, and when (s: the whole audit)",
            id="audit.history",
            show=False,  # no room on the footer: F1 and the palette list it
        ),
        Binding(
            "i",
            "identifiers",
            "Identifiers",
            tooltip="The real identifiers held for the selected case: its named leads only",
            id="audit.identifiers",
            show=False,  # no room on the footer: F1 and the palette list it
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="audit.back"),
    ]

    @dataclass
    class Loaded(Message):
        matrix: ReturnMatrix

    @dataclass
    class LoadFailed(Message):
        reason: str

    def __init__(self, factory: sessionmaker[Session], actor: Actor, audit_id: int) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self._placed = False
        self.audit_id = audit_id
        self.matrix: ReturnMatrix | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the audit…", id="summary", markup=False)
        yield GradeTable(id="matrix", cursor_type="cell", zebra_stripes=True, fixed_columns=1)
        yield Static("", id="detail", markup=False)
        yield Static("", id="legend", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        # Colours are baked into cells, so a theme change redraws them from the last read.
        self.watch(self.app, "theme", self._retone, init=False)

    def on_screen_resume(self) -> None:
        # Also runs when the lead comes back from a return or moderation: show their changes.
        self.action_refresh()

    def _retone(self) -> None:
        if self.matrix is not None:
            self.call_after_refresh(self._show, self.matrix)

    @property
    def table(self) -> GradeTable:
        return self.query_one("#matrix", GradeTable)

    # --- loading --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.matrix is None:
            self.table.loading = True
        self.load_matrix()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit.load")
    def load_matrix(self) -> None:
        try:
            message: Message = self.Loaded(return_matrix(self._factory, self.audit_id))
        except EXPECTED_FAILURES as exc:
            message = self.LoadFailed(explain(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        # Someone saved: read again. The load is exclusive, so a newer read replaces an older.
        if event.about(self.audit_id):
            self.load_matrix()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "audit.load" and event.state is WorkerState.ERROR:
            self.post_message(self.LoadFailed(unexpected(event.worker.error)))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.table.loading = False
        self.notify(
            f"Could not read the audit: {event.reason}", title="Audit not loaded", severity="error"
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.matrix = event.matrix
        self.table.loading = False
        self._show(event.matrix)
        self.refresh_bindings()  # the user's role in this audit decides which verbs show

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Verbs the user's role cannot use in this audit are left off the footer and palette
        # (the services refuse them anyway): moderation is the panel's, from moderation on
        # for auditors; concerns, exports, a case's history and held identifiers the leads'.
        matrix = self.matrix
        if matrix is None:
            return True
        if action == "moderate":
            return matrix.panel
        if action in _LEAD_VERBS:
            return matrix.leads
        return True

    def _show(self, matrix: ReturnMatrix) -> None:
        table = self.table
        where = table.cursor_coordinate
        columns: list[tuple[str, str | Text]] = [(CASE_COLUMN, "Case"), (NEED_COLUMN, "Need")]
        columns += [(agency.code, Text(agency.code)) for agency in matrix.agencies]
        columns.append((MODERATED_COLUMN, "Moderated"))
        rows: list[tuple[str, list[Text]]] = []
        muted = table.style_for("status")
        for case in matrix.cases:
            cells = [Text(case.reference), Text(NEED_SHORT[case.level_of_need])]
            for agency in matrix.agencies:
                cell = matrix.cell(case.id, agency.code)
                if cell is None:
                    cells.append(Text(NO_GRADE, style=muted))
                    continue
                text = table.grade_text(matrix.scale, cell.grade)
                text.append(" ")
                text.append(status_text(cell), style=muted)
                cells.append(text)
            cells.append(table.grade_text(matrix.scale, case.moderated_overall))
            rows.append((str(case.id), cells))
        refill(table, columns, rows)
        if matrix.cases:
            column = where.column
            if not self._placed and self._actor.agency in {a.code for a in matrix.agencies}:
                # First showing: start in the auditor's own agency column.
                column = 2 + [a.code for a in matrix.agencies].index(self._actor.agency)
            self._placed = True
            table.move_cursor(
                row=min(where.row, len(matrix.cases) - 1),
                column=min(column, len(table.columns) - 1),
                scroll=False,
            )
        self.sub_title = matrix.title
        concerns = (
            f"{matrix.open_concerns} open immediate concern"
            f"{'' if matrix.open_concerns == 1 else 's'}"
        )
        self.query_one("#summary", Static).update(
            f"{matrix.tool_id} v{matrix.tool_version} · {matrix.status.value} · "
            f"{len(matrix.cases)} cases · {len(matrix.agencies)} agencies · {concerns}"
        )
        self.set_class(matrix.open_concerns > 0, "-concerns")
        self.query_one("#legend", Static).update(self._legend(matrix.scale))
        self._describe(table.cursor_coordinate)

    def _legend(self, scale: GradeScale) -> Text:
        table = self.table
        legend = Text()
        for level in scale.levels:
            tone = table.style_for(grade_tone(scale, level.key))
            legend.append(grade_short(scale, level.key), style=tone)
            legend.append(" ")
        legend.append(
            f"· {SUBMITTED_GLYPH} submitted · 7/11 answered · {NO_GRADE} no grade · "
            "need: EH CIN CP LAC"
        )
        return legend

    # --- the cell under the cursor ----------------------------------------------------------

    def _at(self, coordinate: Coordinate) -> tuple[int, str] | None:
        """(case id, column key) under a coordinate, or None on an empty table."""
        table = self.table
        if self.matrix is None or not table.row_count:
            return None
        try:
            cell_key = table.coordinate_to_cell_key(coordinate)
        except CellDoesNotExist:  # a coordinate left over from before a reload
            return None
        if cell_key.row_key.value is None or cell_key.column_key.value is None:
            return None
        return int(cell_key.row_key.value), cell_key.column_key.value

    @on(DataTable.CellHighlighted, "#matrix")
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._describe(event.coordinate)

    def _describe(self, coordinate: Coordinate) -> None:
        """One line on the highlighted cell, in words: the cells themselves are abbreviated."""
        at = self._at(coordinate)
        detail = self.query_one("#detail", Static)
        if at is None or self.matrix is None:
            detail.update("")
            return
        case_id, column = at
        matrix = self.matrix
        case = next(c for c in matrix.cases if c.id == case_id)
        where = f"{case.reference} · {case.level_of_need.value.replace('-', ' ')}"
        cell = matrix.cell(case_id, column)
        if cell is not None:
            agency = next(a for a in matrix.agencies if a.code == column)
            grade = (
                matrix.scale.label(cell.grade) + f" (median of {cell.graded} graded)"
                if cell.grade
                else "no grade yet"
            )
            status = cell.status.value.replace("_", " ")
            progress = f"{cell.answered}/{cell.total} answered"
            detail.update(f"{where} · {agency.name}: {grade} · {status}, {progress}")
        elif case.moderated_overall is not None:
            detail.update(f"{where} · moderated: {matrix.scale.label(case.moderated_overall)}")
        else:
            hint = " (m to moderate)" if matrix.panel else ""
            detail.update(f"{where} · not moderated yet{hint}")

    # --- actions ------------------------------------------------------------------------------

    @on(DataTable.CellSelected, "#matrix")
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_open_cell()

    def action_open_cell(self) -> None:
        at = self._at(self.table.cursor_coordinate)
        if at is None or self.matrix is None:
            return
        case_id, column = at
        cell = self.matrix.cell(case_id, column)
        if cell is None:
            self.action_moderate()
            return
        from workbench.tui.return_screen import ReturnScreen

        self._remember_agency(column)
        self.app.push_screen(ReturnScreen(self._factory, self._actor, cell.return_id))

    @work(thread=True, exit_on_error=False, group="audit.remember")
    def _remember_agency(self, agency: str) -> None:
        """The agency opened last is the auditor's own next time (a file write: off the loop)."""
        from workbench.tui.preferences import Preferences, save_preferences

        config_dir = getattr(self.app, "settings", None)
        if config_dir is not None:
            save_preferences(config_dir.config_dir, Preferences(agency=agency))

    def action_moderate(self) -> None:
        at = self._at(self.table.cursor_coordinate)
        if at is None:
            self.notify("There is no case to moderate yet.", severity="warning")
            return
        # Imported here because the moderation screen borrows GradeTable from this module.
        from workbench.tui.moderation_screen import ModerationScreen

        self.app.push_screen(ModerationScreen(self._factory, self._actor, at[0]))

    def action_concerns(self) -> None:
        from workbench.tui.concerns_screen import ConcernsScreen  # its own module, as above

        self.app.push_screen(ConcernsScreen(self._factory, self._actor, self.audit_id))

    def action_themes(self) -> None:
        from workbench.tui.app import WorkbenchApp  # the app imports the screens, not back
        from workbench.tui.audit_themes_screen import AuditThemesScreen

        today = self.app.today() if isinstance(self.app, WorkbenchApp) else dt.date.today()
        self.app.push_screen(AuditThemesScreen(self._factory, self._actor, self.audit_id, today))

    def action_agreement(self) -> None:
        from workbench.tui.agreement_view import AgreementView

        self.app.push_screen(AgreementView(self._factory, self.audit_id))

    def action_history(self) -> None:
        from workbench.tui.history_screen import HistoryScreen, audit_scope, case_scope

        at = self._at(self.table.cursor_coordinate)
        if at is None or self.matrix is None:
            self.notify("There is no case to show the history of yet.", severity="warning")
            return
        case = next(c for c in self.matrix.cases if c.id == at[0])
        scopes = (
            case_scope(self.audit_id, case.reference),
            audit_scope(self.audit_id, self.matrix.title),
        )
        self.app.push_screen(HistoryScreen(self._factory, scopes))

    def action_identifiers(self) -> None:
        from workbench.tui.identifiers_dialog import HeldIdentifiersDialog

        at = self._at(self.table.cursor_coordinate)
        if at is None or self.matrix is None:
            self.notify("There is no case to hold identifiers for yet.", severity="warning")
            return
        case = next(c for c in self.matrix.cases if c.id == at[0])
        self.app.push_screen(
            HeldIdentifiersDialog(
                self._factory, self._actor, self.audit_id, case.id, case.reference
            )
        )

    def action_export(self) -> None:
        from workbench.tui.export_dialog import ExportScope
        from workbench.tui.export_flow import start_export

        title = self.matrix.title if self.matrix is not None else ""
        start_export(self, ExportScope.AUDIT, title=title, audit_id=self.audit_id)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
