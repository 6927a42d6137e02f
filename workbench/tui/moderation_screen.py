"""Moderating one case: agencies' answers side by side, and the panel's grade per heading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Select, Static, TextArea
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import Actor, ModeratedGradeOut, ModerationHeading
from schemas.learning import TaggedKind
from schemas.tools import GradeScale
from workbench.services.casework import moderated_grades, set_moderated_grade
from workbench.services.errors import StaleModeratedGradeError
from workbench.services.matrix import (
    CaseModeration,
    CriterionAnswers,
    HeadingModeration,
    case_moderation,
)
from workbench.services.themes import list_themes, tags_of
from workbench.tui.agreement_view import AgreementView
from workbench.tui.concern_flow import ConcernFlow
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected
from workbench.tui.live import DataChanged, refill
from workbench.tui.matrix_screen import GradeTable, grade_short
from workbench.tui.theme_picker import TagFlow, Tagging, read_tagging, themes_line

DISAGREEMENT_MARK = "!"
UNSAVED_MARK = "*"
NOT_ASKED = "·"
HEADING_SHORT = {
    ModerationHeading.RECOGNITION: "Recognition",
    ModerationHeading.ASSESSMENT: "Assessment",
    ModerationHeading.PLANNING: "Planning",
    ModerationHeading.JOINT_WORKING: "Joint working",
    ModerationHeading.VOICE_OF_THE_CHILD: "Voice of child",
    ModerationHeading.IMPACT: "Impact",
    ModerationHeading.OVERALL: "Overall",
}
CRITERION_COLUMN, QUESTION_COLUMN = "criterion", "question"
HEADING_COLUMN, SPREAD_COLUMN, MODERATED_COLUMN = "heading", "spread", "moderated"


def cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


@dataclass(frozen=True)
class Draft:
    """What the lead has typed for a heading and not yet saved."""

    grade: str | None
    reasons: str


class ConflictDialog(ModalScreen[str | None]):
    """Someone saved this heading first: show both, let the lead keep theirs or save over it.

    Dismisses with "theirs", "mine" or None (escape: decide later, the draft is kept)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "decide_later", "Decide later", tooltip="Keep editing", id="conflict.later"
        )
    ]

    def __init__(
        self, label: str, scale: GradeScale, theirs: ModeratedGradeOut, mine: Draft
    ) -> None:
        super().__init__()
        self._label = label
        self._scale = scale
        self._theirs = theirs
        self._mine = mine

    def _grade(self, key: str | None) -> str:
        return self._scale.label(key) if key else "no grade"

    def compose(self) -> ComposeResult:
        theirs, mine = self._theirs, self._mine
        with Vertical(id="conflict"):
            yield Static(f"{self._label}: someone saved first", id="conflict-title", markup=False)
            yield Static(
                f"{theirs.updated_by} saved at {theirs.updated_at:%H:%M:%S} UTC (version "
                f"{theirs.version}): {self._grade(theirs.grade)}\n"
                f"{theirs.reasons or '(no reasons)'}",
                id="theirs",
                markup=False,
            )
            yield Static(
                f"Yours, not saved: {self._grade(mine.grade)}\n{mine.reasons or '(no reasons)'}",
                id="mine",
                markup=False,
            )
            with Horizontal(id="conflict-buttons"):
                yield Button("Keep theirs", id="keep-theirs", variant="primary")
                yield Button("Save mine over it", id="save-mine", variant="warning")

    @on(Button.Pressed, "#keep-theirs")
    def _keep_theirs(self) -> None:
        self.dismiss("theirs")

    @on(Button.Pressed, "#save-mine")
    def _save_mine(self) -> None:
        self.dismiss("mine")

    def action_decide_later(self) -> None:
        self.dismiss(None)


_MODERATOR_VERBS = frozenset({"save", "themes"})
"""What only the audit's leads do here: the grade and its theme tags."""


class ModerationScreen(Screen[None]):
    """One case on the audit day. Agencies' own grades are shown, never changed; the panel's
    moderated grade per heading is saved in a worker against the version last read."""

    CSS_PATH = "moderation_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Save the moderated grade and reasons for the heading being edited",
            id="moderation.save",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Read the agencies' answers and the moderated grades again",
            id="moderation.refresh",
        ),
        Binding(
            "ctrl+g",
            "concern",
            "Concern",
            tooltip="Record an immediate safeguarding concern for this case",
            id="moderation.concern",
        ),
        Binding(
            # A control key, so it works while the reasons box has the focus.
            "ctrl+o",
            "agreement",
            "Agreement",
            tooltip="Agreement between graders across this audit: agencies against the panel",
            id="moderation.agreement",
        ),
        Binding(
            # A control key, so it works while the reasons box has the focus.
            "ctrl+r",
            "themes",
            "Tag themes",
            tooltip="Tag the saved moderated grade of this heading with themes from its reasons",
            id="moderation.themes",
        ),
        Binding(
            # A control key, so it works while the reasons box has the focus.
            "ctrl+l",
            "history",
            "History",
            tooltip="Who changed what in this case, and when (s: the whole audit)",
            id="moderation.history",
            show=False,  # no room on the footer: F1 and the palette list it
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back to the matrix (warns once about unsaved grades)",
            id="moderation.back",
        ),
    ]

    @dataclass
    class Loaded(Message):
        sheet: CaseModeration
        live: bool = False  # read because someone saved, not because the lead asked

    @dataclass
    class LoadFailed(Message):
        reason: str

    @dataclass
    class Saved(Message):
        heading: ModerationHeading
        saved: ModeratedGradeOut

    @dataclass
    class SaveFailed(Message):
        heading: ModerationHeading
        reason: str

    @dataclass
    class Stale(Message):
        heading: ModerationHeading
        current: ModeratedGradeOut
        mine: Draft

    @dataclass
    class TagsLoaded(Message):
        """The themes on each heading's stored moderated grade, and every theme's label."""

        tags: dict[ModerationHeading, tuple[str, ...]]
        labels: dict[str, str]

    @dataclass
    class TaggingReady(Message):
        tagging: Tagging

    @dataclass
    class TaggingRefused(Message):
        reason: str

    def __init__(self, factory: sessionmaker[Session], actor: Actor, case_id: int) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self.case_id = case_id
        self.sheet: CaseModeration | None = None
        self.drafts: dict[ModerationHeading, Draft] = {}
        self.editing = ModerationHeading.OVERALL
        self._warned_unsaved = False
        self._options_for: str | None = None
        self.heading_tags: dict[ModerationHeading, tuple[str, ...]] = {}
        # Stored moderated grade id -> its heading, learnt when tagging starts.
        self._grade_headings: dict[int, ModerationHeading] = {}
        self._theme_labels: dict[str, str] = {}
        self._tag_flow = TagFlow(self, factory, actor, self._tagged)
        # (heading, version) saved by others mid-edit that the lead has been told about.
        self._told_newer: set[tuple[ModerationHeading, int]] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield GradeTable(id="answers", cursor_type="cell", zebra_stripes=True, fixed_columns=1)
        yield Static("", id="answer-detail", markup=False)
        yield GradeTable(id="headings", cursor_type="row")
        with Horizontal(id="editor"):
            with Vertical(id="grade-box"):
                yield Static("", id="editing", markup=False)
                yield Select[str]([], id="grade", prompt="No moderated grade", type_to_search=False)
                yield Static("", id="save-state", markup=False)
            yield TextArea(id="reasons", placeholder="Reasons for the moderated grade")
        yield Footer()

    def action_concern(self) -> None:
        agencies = self.sheet.agencies if self.sheet is not None else ()
        ConcernFlow(self, self._factory, self._actor, self.case_id).start(agencies)

    def on_mount(self) -> None:
        self.query_one("#answers", GradeTable).loading = True
        self.watch(self.app, "theme", self._retone, init=False)
        self.load_sheet()

    def _retone(self) -> None:
        if self.sheet is not None:
            self.call_after_refresh(self._show, self.sheet)

    # --- reading ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load_sheet()

    @work(thread=True, exclusive=True, exit_on_error=False, group="moderation.load")
    def load_sheet(self, live: bool = False) -> None:
        try:
            message: Message = self.Loaded(case_moderation(self._factory, self.case_id), live)
        except EXPECTED_FAILURES as exc:
            message = self.LoadFailed(explain(exc))
        if not get_current_worker().is_cancelled:  # a newer read is on its way
            self.post_message(message)

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        if self.sheet is not None and event.about(self.sheet.audit_id):
            self.load_sheet(live=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        reason = unexpected(event.worker.error)
        if event.worker.group == "moderation.load":
            self.post_message(self.LoadFailed(reason))
        elif event.worker.group == "moderation.save":
            self.post_message(self.SaveFailed(self.editing, reason))
        elif event.worker.group in ("moderation.tags", "moderation.themes"):
            self.post_message(self.TaggingRefused(f"Could not read the themes: {reason}"))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.query_one("#answers", GradeTable).loading = False
        self.notify(
            f"Could not read the case: {event.reason}", title="Case not loaded", severity="error"
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        first = self.sheet is None
        # The editor follows the lead, not the database: typed text is never replaced, nor,
        # when someone else saves, the field the lead is in.
        mid_edit = set(self.drafts)
        if event.live and self.query_one("#editor").has_focus_within:
            mid_edit.add(self.editing)
        self.sheet = event.sheet if first else self._keeping(event.sheet, mid_edit)
        self.query_one("#answers", GradeTable).loading = False
        self._show(self.sheet)
        if first or self.editing not in mid_edit:
            self._load_editor(self.editing)
        self.load_tags()

    def _keeping(self, sheet: CaseModeration, mid_edit: set[ModerationHeading]) -> CaseModeration:
        """A fresh read, but headings being edited keep the moderated grade they were read
        with: a save then meets whoever saved since (the conflict dialog), never overwrites."""
        assert self.sheet is not None
        kept = {h: self.sheet.heading(h) for h in mid_edit}
        for heading, old in kept.items():
            new = sheet.heading(heading)
            if new.version != old.version and (heading, new.version) not in self._told_newer:
                self._told_newer.add((heading, new.version))
                self.notify(
                    f"{new.updated_by} saved {new.label} while you were editing it: "
                    "saving yours will show both.",
                    title="Moderated grade changed",
                    severity="warning",
                )
        stored = ("grade", "reasons", "version", "updated_by")
        headings = tuple(
            h.model_copy(update={f: getattr(kept[h.heading], f) for f in stored})
            if h.heading in kept
            else h
            for h in sheet.headings
        )
        return sheet.model_copy(update={"headings": headings})

    def _show(self, sheet: CaseModeration) -> None:
        self.sub_title = (
            f"Moderating {sheet.reference} · {sheet.level_of_need.value.replace('-', ' ')}"
        )
        self._show_answers(sheet)
        self._show_headings(sheet)
        if self._options_for != sheet.scale.id:
            # Only when the scale changes: setting options clears the grade being edited.
            self._options_for = sheet.scale.id
            self.query_one("#grade", Select).set_options(
                [(sheet.scale.label(key), key) for key in sheet.scale.answer_keys]
            )
        self.set_class(any(c.disagreement for c in sheet.criteria), "-disagreement")

    def _question_width(self, agencies: int) -> int:
        # The question takes what the agencies leave, so wider terminals show more of it.
        spare = self.size.width - 4 - 12 - agencies * 10
        return max(16, min(spare, 90))

    def _show_answers(self, sheet: CaseModeration) -> None:
        table = self.query_one("#answers", GradeTable)
        where = table.cursor_coordinate
        columns: list[tuple[str, str | Text]] = [
            (CRITERION_COLUMN, "Criterion"),
            (QUESTION_COLUMN, "Question"),
            *((agency, Text(agency)) for agency in sheet.agencies),
        ]
        rows: list[tuple[str, list[Text]]] = []
        width = self._question_width(len(sheet.agencies))
        for row in sheet.criteria:
            mark = DISAGREEMENT_MARK if row.disagreement else " "
            first = Text(f"{mark} {row.criterion_id}")
            if row.disagreement:
                first.stylize(table.style_for("disagreement"))
            cells = [first, Text(cut(row.question, width))]
            for answer in row.answers:
                if not answer.applies:
                    cells.append(Text(NOT_ASKED, style=table.style_for("other")))
                else:
                    graded = answer.grade is not None and sheet.scale.rank(answer.grade) is not None
                    cells.append(
                        table.grade_text(
                            sheet.scale, answer.grade, disagreement=row.disagreement and graded
                        )
                    )
            rows.append((row.criterion_id, cells))
        refill(table, columns, rows)
        if sheet.criteria:
            table.move_cursor(
                row=min(where.row, len(sheet.criteria) - 1),
                column=min(where.column, len(table.columns) - 1),
                scroll=False,
            )
        self._describe_answer(table.cursor_coordinate)

    def _heading_cells(self, table: GradeTable, heading: HeadingModeration) -> list[Text]:
        assert self.sheet is not None
        scale = self.sheet.scale
        mark = DISAGREEMENT_MARK if heading.disagreement else " "
        unsaved = f" {UNSAVED_MARK}" if heading.heading in self.drafts else ""
        first = Text(f"{mark} {HEADING_SHORT[heading.heading]}{unsaved}")
        if heading.disagreement:
            first.stylize(table.style_for("disagreement"))
        cells = [first]
        for agency in self.sheet.agencies:
            if not heading.section_ids:
                cells.append(Text(NOT_ASKED, style=table.style_for("other")))
                continue
            grade = heading.agency_grade(agency)
            cells.append(
                table.grade_text(
                    scale, grade, disagreement=heading.disagreement and grade is not None
                )
            )
        # How many levels apart the agencies' grades are under this heading.
        spread = Text("-" if heading.spread is None else str(heading.spread))
        if heading.disagreement:
            spread.stylize(table.style_for("disagreement"))
        cells.append(spread)
        draft = self.drafts.get(heading.heading)
        cells.append(table.grade_text(scale, draft.grade if draft else heading.grade))
        return cells

    def _show_headings(self, sheet: CaseModeration) -> None:
        table = self.query_one("#headings", GradeTable)
        wanted = [HEADING_COLUMN, *sheet.agencies, SPREAD_COLUMN, MODERATED_COLUMN]
        if [c.value for c in table.columns] == wanted:
            # Same shape: update in place, so the cursor (and the heading being edited) stays.
            for heading in sheet.headings:
                for column, cell in zip(wanted, self._heading_cells(table, heading), strict=True):
                    table.update_cell(heading.heading.value, column, cell)
            return
        table.clear(columns=True)
        table.add_column("Heading", key=HEADING_COLUMN)
        for agency in sheet.agencies:
            table.add_column(Text(agency), key=agency)
        table.add_column("Spread", key=SPREAD_COLUMN)
        table.add_column("Moderated", key=MODERATED_COLUMN)
        for heading in sheet.headings:
            table.add_row(*self._heading_cells(table, heading), key=heading.heading.value)
        table.move_cursor(row=list(ModerationHeading).index(self.editing), scroll=False)

    def _refresh_heading_row(self, heading: ModerationHeading) -> None:
        if self.sheet is None:
            return
        table = self.query_one("#headings", GradeTable)
        columns = [c.value for c in table.columns]
        cells = self._heading_cells(table, self.sheet.heading(heading))
        for column, cell in zip(columns, cells, strict=True):
            if column is not None:
                table.update_cell(heading.value, column, cell)

    # --- the answer under the cursor ----------------------------------------------------------

    @on(DataTable.CellHighlighted, "#answers")
    def _answer_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._describe_answer(event.coordinate)

    def _criterion_at(self, coordinate: Coordinate) -> tuple[CriterionAnswers, str] | None:
        table = self.query_one("#answers", GradeTable)
        if self.sheet is None or not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(coordinate)
        except CellDoesNotExist:
            return None
        if key.row_key.value is None or key.column_key.value is None:
            return None
        return self.sheet.criterion(key.row_key.value), key.column_key.value

    def _describe_answer(self, coordinate: Coordinate) -> None:
        """The question in full and the highlighted agency's own answer with its evidence."""
        detail = self.query_one("#answer-detail", Static)
        at = self._criterion_at(coordinate)
        if at is None or self.sheet is None:
            detail.update("")
            return
        row, column = at
        scale = self.sheet.scale
        lines = [f"{row.criterion_id} ({row.section_title}): {row.question}"]
        answer = row.answer(column)
        if answer is None:
            if row.disagreement:
                lines.append(f"Agencies differ by {row.spread} levels on this criterion.")
            else:
                lines.append(
                    " · ".join(
                        f"{a.agency_code} {grade_short(scale, a.grade)}"
                        for a in row.answers
                        if a.applies
                    )
                )
        elif not answer.applies:
            lines.append(f"{answer.agency_code}: not asked of this agency")
        else:
            grade = scale.label(answer.grade) if answer.grade else "not answered"
            evidence = answer.evidence_excerpt or "no evidence recorded"
            lines.append(f"{answer.agency_code}: {grade} — {evidence}")
        detail.update("\n".join(cut(line, max(self.size.width - 2, 20)) for line in lines))

    @on(DataTable.CellSelected, "#answers")
    def _answer_selected(self, event: DataTable.CellSelected) -> None:
        """Enter on a criterion: moderate the heading its section feeds."""
        at = self._criterion_at(event.coordinate)
        if at is None or at[0].heading is None:
            return
        self.query_one("#headings", GradeTable).move_cursor(
            row=list(ModerationHeading).index(at[0].heading)
        )
        self.query_one("#grade", Select).focus()

    # --- editing ------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#headings")
    def _heading_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        heading = ModerationHeading(event.row_key.value)
        if heading is not self.editing:
            self._load_editor(heading)

    @on(DataTable.RowSelected, "#headings")
    def _heading_selected(self) -> None:
        self.query_one("#grade", Select).focus()

    def _editor_values(self) -> Draft:
        value = self.query_one("#grade", Select).value
        grade = value if isinstance(value, str) else None
        return Draft(grade, self.query_one("#reasons", TextArea).text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Moderated grades are the leads'; anyone else on the panel reads them.
        if action in _MODERATOR_VERBS and self.sheet is not None:
            return self.sheet.moderates
        return True

    def _load_editor(self, heading: ModerationHeading) -> None:
        """Show a heading's draft, or what is stored, in the editor."""
        self.editing = heading
        if self.sheet is None:
            return
        if not self.sheet.moderates:
            # Read-only for this user: the editor shows the panel's grade, nothing to type.
            self.query_one("#grade", Select).disabled = True
            self.query_one("#reasons", TextArea).read_only = True
            self.refresh_bindings()
        stored = self.sheet.heading(heading)
        values = self.drafts.get(heading, Draft(stored.grade, stored.reasons))
        select = self.query_one("#grade", Select)
        if values.grade is None:
            select.clear()
        else:
            select.value = values.grade
        reasons = self.query_one("#reasons", TextArea)
        if reasons.text != values.reasons:
            reasons.load_text(values.reasons)
        self._show_editing_label()
        self._show_state()
        self._show_themes()

    def _show_editing_label(self) -> None:
        if self.sheet is None:
            return
        stored = self.sheet.heading(self.editing)
        by = f" · version {stored.version} by {stored.updated_by}" if stored.version else ""
        self.query_one("#editing", Static).update(f"{stored.label}{by}")

    def _show_state(self, text: str | None = None, *, failed: bool = False) -> None:
        state = self.query_one("#save-state", Static)
        if text is None:
            text = (
                "Unsaved: ctrl+s to save"
                if self.editing in self.drafts
                else ("Saved" if self.sheet and self.sheet.heading(self.editing).version else "")
            )
        state.update(text)
        state.set_class(failed, "-failed")
        state.set_class(self.editing in self.drafts and not failed, "-unsaved")

    @on(Select.Changed, "#grade")
    @on(TextArea.Changed, "#reasons")
    def _edited(self) -> None:
        # Read the widgets, not the message: a change from loading another heading is then
        # judged against that heading, and matches what is stored.
        if self.sheet is None:
            return
        stored = self.sheet.heading(self.editing)
        values = self._editor_values()
        had = self.drafts.get(self.editing)
        if values == Draft(stored.grade, stored.reasons):
            self.drafts.pop(self.editing, None)
        else:
            self.drafts[self.editing] = values
        if self.drafts.get(self.editing) != had:
            self._warned_unsaved = False
            self._refresh_heading_row(self.editing)
            self._show_state()

    def action_save(self) -> None:
        if self.sheet is None:
            return
        draft = self.drafts.get(self.editing)
        if draft is None:
            self.notify("Nothing to save: the grade and reasons are as stored.", timeout=3)
            return
        self._show_state("Saving…")
        self.save_grade(self.editing, draft, self.sheet.heading(self.editing).version)

    @work(thread=True, exclusive=True, exit_on_error=False, group="moderation.save")
    def save_grade(self, heading: ModerationHeading, draft: Draft, expected_version: int) -> None:
        # Never dropped, even if another save started: each answer says what was stored.
        try:
            saved = set_moderated_grade(
                self._factory,
                self._actor,
                self.case_id,
                heading,
                grade=draft.grade,
                reasons=draft.reasons,
                expected_version=expected_version,
            )
        except StaleModeratedGradeError as exc:
            message: Message = self.Stale(heading, exc.current, draft)
        except EXPECTED_FAILURES as exc:
            message = self.SaveFailed(heading, explain(exc))
        else:
            message = self.Saved(heading, saved)
        self.post_message(message)

    def _store(self, saved: ModeratedGradeOut) -> None:
        """Take a stored value into the sheet, so the next save expects its version."""
        assert self.sheet is not None
        headings = tuple(
            h.model_copy(
                update={
                    "grade": saved.grade,
                    "reasons": saved.reasons,
                    "version": saved.version,
                    "updated_by": saved.updated_by,
                }
            )
            if h.heading is saved.heading
            else h
            for h in self.sheet.headings
        )
        self.sheet = self.sheet.model_copy(update={"headings": headings})

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        self._store(event.saved)
        if self.drafts.get(event.heading) == Draft(event.saved.grade, event.saved.reasons):
            del self.drafts[event.heading]
        self._refresh_heading_row(event.heading)
        if event.heading is self.editing:
            self._show_editing_label()
            self._show_state()
        self.notify(f"Moderated grade saved: {event.heading.label}.", timeout=3)

    @on(SaveFailed)
    def _save_failed(self, event: SaveFailed) -> None:
        if event.heading is self.editing:
            self._show_state(f"Not saved: {event.reason}", failed=True)
        self.notify(
            f"{event.heading.label} not saved: {event.reason}",
            title="Moderated grade not saved",
            severity="error",
        )

    @on(Stale)
    def _stale(self, event: Stale) -> None:
        self._store(event.current)
        self._refresh_heading_row(event.heading)
        if event.heading is self.editing:
            self._show_editing_label()
            self._show_state(f"Not saved: {event.current.updated_by} saved first", failed=True)
        assert self.sheet is not None
        dialog = ConflictDialog(event.heading.label, self.sheet.scale, event.current, event.mine)

        def decided(choice: str | None) -> None:
            if choice == "mine":
                self._show_state("Saving…")
                self.save_grade(event.heading, event.mine, event.current.version)
            elif choice == "theirs":
                self.drafts.pop(event.heading, None)
                self._refresh_heading_row(event.heading)
                if event.heading is self.editing:
                    self._load_editor(event.heading)

        self.app.push_screen(dialog, decided)

    def action_agreement(self) -> None:
        if self.sheet is None:
            return
        self.app.push_screen(AgreementView(self._factory, self.sheet.audit_id))

    def action_history(self) -> None:
        from workbench.tui.history_screen import HistoryScreen, audit_scope, case_scope

        sheet = self.sheet
        if sheet is None:
            return
        scopes = (
            case_scope(sheet.audit_id, sheet.reference),
            audit_scope(sheet.audit_id, sheet.audit_title),
        )
        self.app.push_screen(HistoryScreen(self._factory, scopes))

    # --- themes -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="moderation.tags")
    def load_tags(self) -> None:
        labels = {theme.code: theme.label for theme in list_themes(self._factory)}
        tags = {
            grade.heading: tags_of(self._factory, TaggedKind.MODERATION, grade.id)
            for grade in moderated_grades(self._factory, self.case_id)
        }
        self.post_message(self.TagsLoaded(tags, labels))

    @on(TagsLoaded)
    def _tags_loaded(self, event: TagsLoaded) -> None:
        self.heading_tags = event.tags
        self._theme_labels = event.labels
        self._show_themes()

    def _show_themes(self) -> None:
        """The editing heading's themes on the reasons box's border."""
        codes = self.heading_tags.get(self.editing, ())
        self.query_one("#reasons", TextArea).border_title = themes_line(codes, self._theme_labels)

    def action_themes(self) -> None:
        if self.sheet is None:
            return
        self.prepare_tagging(self.editing, self.query_one("#reasons", TextArea).text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="moderation.themes")
    def prepare_tagging(self, heading: ModerationHeading, reasons: str) -> None:
        # Suggestions read the reasons on screen; the themes attach to the stored grade.
        stored = next(
            (g for g in moderated_grades(self._factory, self.case_id) if g.heading == heading),
            None,
        )
        if stored is None:
            message: Message = self.TaggingRefused(
                f"Save a moderated grade for {heading.label} first (ctrl+s): "
                "themes attach to a saved grade."
            )
        else:
            self._grade_headings[stored.id] = heading
            message = self.TaggingReady(
                read_tagging(
                    self._factory,
                    TaggedKind.MODERATION,
                    stored.id,
                    reasons,
                    f"moderated {heading.label}",
                )
            )
        self.post_message(message)

    @on(TaggingReady)
    def _offer_tagging(self, event: TaggingReady) -> None:
        self._tag_flow.offer(event.tagging)

    @on(TaggingRefused)
    def _tagging_refused(self, event: TaggingRefused) -> None:
        self.notify(event.reason, title="No themes yet", severity="warning")

    def _tagged(self, tagging: Tagging, codes: tuple[str, ...]) -> None:
        heading = self._grade_headings.get(tagging.target_id)
        if heading is not None:
            self.heading_tags[heading] = codes
        self._theme_labels.update(tagging.labels)
        self._show_themes()

    def action_back(self) -> None:
        if self.drafts and not self._warned_unsaved:
            self._warned_unsaved = True
            names = ", ".join(h.label for h in self.drafts)
            self.notify(
                f"Not saved yet: {names}. Press ctrl+s to save, or escape again to leave them.",
                title="Unsaved moderated grades",
                severity="warning",
            )
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
