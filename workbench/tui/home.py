"""The home screen: every audit with its tool, status, key dates and progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.access import Principal, Role
from schemas.audit import AuditSummary
from workbench.services.audits import list_audits
from workbench.services.errors import ServiceError
from workbench.store.errors import StoreError
from workbench.tui.feedback import unexpected

EMPTY_MESSAGE = (
    "No audits yet. Run `workbench demo` to load a demo partnership, "
    "then press r here to refresh the list."
)

# (key, heading) in the order the columns appear.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("title", "Title"),
    ("tool", "Tool"),
    ("status", "Status"),
    ("audit_day", "Audit day"),
    ("returns_due", "Returns due"),
    ("progress", "Progress"),
    ("returns", "Returns"),
)


def format_day(day: dt.date | None) -> str:
    # Day-month-year with the month as a word: no reader can take 03/04 the wrong way round.
    return f"{day.day} {day:%b %Y}" if day else "-"


def format_progress(audit: AuditSummary) -> str:
    return f"{audit.findings_answered}/{audit.findings_expected} ({audit.progress:.0%})"


def audit_row(audit: AuditSummary) -> tuple[str, ...]:
    """One audit as the table shows it, in the order of COLUMNS."""
    return (
        audit.title,
        f"{audit.tool_id} v{audit.tool_version}",
        audit.status.value,
        format_day(audit.audit_day),
        format_day(audit.returns_due),
        format_progress(audit),
        f"{audit.returns_submitted}/{audit.returns_total}",
    )


_ROLE_VERBS: dict[str, frozenset[Role]] = {
    "plan": frozenset({Role.LEAD, Role.ADMIN}),
    "vocabulary": frozenset({Role.LEAD, Role.ADMIN}),
    "open_audit": frozenset({Role.AUDITOR, Role.LEAD, Role.ADMIN}),
}
"""Home verbs limited to some roles (see workbench/services/access.py for the rules)."""


class HomeScreen(Screen[None]):
    """Lists audits. The list is read in a worker thread so a slow database never freezes keys."""

    BINDINGS = [
        # Enter comes first: the focused table binds Enter too, which puts the key ahead of
        # the screen's others in the footer; first here, the footer's order no longer
        # depends on whether the table had focus yet.
        Binding(
            "enter",
            "open_audit",
            "Open",
            tooltip="Open the selected audit: its case x agency matrix",
            id="home.open",
            # Priority: otherwise the focused table's own Enter hides this from the footer,
            # and whether it shows would depend on when the table took focus.
            priority=True,
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Read the list of audits again from the database",
            id="home.refresh",
            # Off the footer to keep it within 80 columns: the list re-reads itself whenever
            # the screen comes back, and F1 and the palette still list the key.
            show=False,
        ),
        Binding("n", "plan", "New audit", tooltip="Create and plan an audit", id="home.plan"),
        Binding(
            "o",
            "overview",
            "Overview",
            tooltip="The subgroup's overview across audits",
            id="home.overview",
        ),
        Binding(
            "l",
            "learning_log",
            "Learning",
            tooltip="The learning log from every strand: search, add, edit and sign off",
            id="home.learning",
        ),
        Binding(
            "a",
            "actions",
            "Actions",
            tooltip="Every action across audits, overdue first",
            id="home.actions",
        ),
        Binding(
            "v",
            "vocabulary",
            "Vocabulary",
            tooltip="The theme vocabulary: add, edit, retire or delete themes",
            id="home.vocabulary",
            show=False,  # an audit lead's occasional task: in F1 help and the palette
        ),
        Binding("q", "app.quit", "Quit", tooltip="Close the workbench", id="home.quit"),
    ]

    @dataclass
    class AuditsLoaded(Message):
        """The worker read the audits."""

        audits: list[AuditSummary]

    @dataclass
    class LoadFailed(Message):
        """The worker could not read the audits; `reason` is one line fit to show a user."""

        reason: str

    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__()
        self._factory = factory
        self._away = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_MESSAGE, id="empty", markup=False)
        yield DataTable[str](id="audits", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#audits", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.action_refresh()

    def _selected_audit(self) -> int | None:
        table = self.query_one("#audits", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def _role(self) -> Role | None:
        principal = getattr(self.app, "principal", None)
        return principal.role if isinstance(principal, Principal) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A verb the user's role cannot use is left off the footer and the palette; the
        # services refuse it anyway, this only spares the user a key that cannot work.
        allowed = _ROLE_VERBS.get(action)
        role = self._role()
        return allowed is None or role is None or role in allowed

    def action_open_audit(self) -> None:
        from workbench.tui.app import WorkbenchApp
        from workbench.tui.matrix_screen import AuditScreen

        if not self.check_action("open_audit", ()):
            self.notify(
                "The subgroup sees aggregates and learning: o for the overview, "
                "l for the learning log, a for actions."
            )
            return
        audit_id = self._selected_audit()
        if audit_id is None:
            self.notify("No audit to open: plan one with n, or load the demo.")
            return
        assert isinstance(self.app, WorkbenchApp)
        self.app.push_screen(AuditScreen(self._factory, self.app.actor, audit_id))

    def action_plan(self) -> None:
        from workbench.tui.app import WorkbenchApp
        from workbench.tui.plan_flow import plan_audit

        assert isinstance(self.app, WorkbenchApp)
        plan_audit(self.app, on_created=lambda _detail: self.action_refresh())

    def action_overview(self) -> None:
        from workbench.tui.app import WorkbenchApp
        from workbench.tui.overview_screen import OverviewScreen

        today = self.app.today() if isinstance(self.app, WorkbenchApp) else None
        self.app.push_screen(OverviewScreen(self._factory, today=today))

    def action_learning_log(self) -> None:
        from workbench.tui.app import WorkbenchApp
        from workbench.tui.learning_screen import LearningLogScreen

        assert isinstance(self.app, WorkbenchApp)
        self.app.push_screen(LearningLogScreen(self._factory, self.app.actor, self.app.today()))

    def action_actions(self) -> None:
        from workbench.tui.actions_screen import ActionsScreen
        from workbench.tui.app import WorkbenchApp

        assert isinstance(self.app, WorkbenchApp)
        self.app.push_screen(ActionsScreen(self._factory, self.app.actor, self.app.today()))

    def action_vocabulary(self) -> None:
        from workbench.tui.app import WorkbenchApp
        from workbench.tui.vocabulary_screen import VocabularyScreen

        assert isinstance(self.app, WorkbenchApp)
        self.app.push_screen(VocabularyScreen(self._factory, self.app.actor))

    def on_screen_suspend(self) -> None:
        self._away = True

    def on_screen_resume(self) -> None:
        # Back from an audit or a plan: its progress has probably moved on. (Resume also
        # fires on first display, when on_mount has already started a load.)
        if self._away:
            self._away = False
            self.action_refresh()

    @on(DataTable.RowSelected, "#audits")
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_audit()

    def action_refresh(self) -> None:
        self.query_one("#audits", DataTable).loading = True
        self.load_audits()

    @work(thread=True, exclusive=True, exit_on_error=False, group="home.load")
    def load_audits(self) -> None:
        try:
            audits = list_audits(self._factory)
        except (StoreError, ServiceError) as exc:
            message: Message = self.LoadFailed(str(exc))
        else:
            message = self.AuditsLoaded(audits)
        # A newer refresh replaced this one: its answer is the one to show.
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(AuditsLoaded)
    def show_audits(self, event: AuditsLoaded) -> None:
        table = self.query_one("#audits", DataTable)
        table.loading = False
        table.clear()
        for audit in event.audits:
            table.add_row(*audit_row(audit), key=str(audit.id))
        self.set_class(not event.audits, "-empty")

    @on(LoadFailed)
    def show_failure(self, event: LoadFailed) -> None:
        self.query_one("#audits", DataTable).loading = False
        self.notify(
            f"Could not read the audits: {event.reason}",
            title="Audits not loaded",
            severity="error",
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Anything but a store or service refusal ends up here: still plain words, no traceback.
        if event.worker.group == "home.load" and event.state is WorkerState.ERROR:
            self.post_message(self.LoadFailed(unexpected(event.worker.error)))
