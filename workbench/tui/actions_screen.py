"""The action plan: who does what by when, overdue first, with every update and the way up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import Actor, AgencyOut
from schemas.learning import ActionIn, ActionOut, ActionStatus, ActionUpdateIn, RecommendationOut
from workbench.services.actions import (
    add_action,
    change_due_date,
    list_actions,
    list_recommendations,
    update_action,
)
from workbench.services.audits import list_agencies
from workbench.tui.action_dialogs import (
    ActionDialog,
    ActionUpdateDialog,
    DueDateDialog,
    status_choice,
)
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected

EMPTY_PLAN = "No actions yet. Press n to add one: what, who owns it, and when it is due."
NOTHING_OVERDUE = "Nothing is overdue. Press o to show every action."

# The colours a RAG status is reported in; the words go with them, never colour alone.
RAG_COLOURS = {"Green": "#2e8540", "Amber": "#b26b00", "Red": "#c8332b", "Complete": "dim"}
OVERDUE_STYLE = "bold #c8332b"

# (key, heading, width) for the columns before and after the description, which takes what
# is left (the detail pane below shows it in full).
BEFORE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("due", "Due", 11),
    ("overdue", "Overdue", 15),
    ("status", "Status", 13),
    ("owner", "Owner", 12),
)
AFTER_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("agency", "Agency", 10),
    ("where", "Audit / rec.", 14),
)
CELL_PADDING = 2  # DataTable pads each cell by one on either side
MIN_DESCRIPTION_WIDTH = 24


def format_day(day: dt.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else "-"


def cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def overdue_words(action: ActionOut) -> str:
    if not action.overdue:
        return ""
    days = action.days_overdue
    return f"{days} day{'s' if days != 1 else ''} overdue"


def status_text(status: ActionStatus, *, with_rag: bool = False) -> Text:
    """The status in its RAG colour; the table has the word, the detail the RAG too."""
    colour = RAG_COLOURS[status.rag]
    words = status_choice(status) if with_rag else status.label
    return Text.assemble(("● ", colour), (words, colour))


def where_words(action: ActionOut) -> str:
    """The recommendation and audit an action answers: `R2 · CSE audit 2026`. The number
    comes first so a long title cut to fit never hides it."""
    parts = [action.audit_title or ""]
    if action.recommendation_number is not None:
        parts.insert(0, f"R{action.recommendation_number}")
    return " · ".join(p for p in parts if p) or "-"


def action_row(action: ActionOut, description_width: int) -> tuple[Text, ...]:
    """One action as the table shows it, in the order of the columns. An overdue row is bold
    and says so in words, not only in colour."""
    row_style = "bold" if action.overdue else ""
    return (
        Text(format_day(action.due_on), style=OVERDUE_STYLE if action.overdue else ""),
        Text(overdue_words(action), style=OVERDUE_STYLE),
        status_text(action.status),
        Text(cut(action.owner_name, 12), style=row_style),
        Text(cut(action.description, description_width), style=row_style),
        Text(cut(action.owner_agency, 10), style=row_style),
        Text(cut(where_words(action), 14), style=row_style),
    )


def detail_text(action: ActionOut, agency_name: str) -> Text:
    """The action as minutes record it, then its history, evidence and route upward."""
    text = Text(no_wrap=False, end="")

    def line(label: str, value: str, style: str = "") -> None:
        text.append(f"\n{label}: ", style="bold")
        text.append(value, style=style)

    text.append(action.minute, style="bold")
    line("Owner", f"{action.owner_name}, {agency_name}")
    due = f"{format_day(action.due_on)}"
    if action.overdue:
        line("Due", f"{due}, {overdue_words(action)}", OVERDUE_STYLE)
    else:
        line("Due", due)
    text.append("\nStatus: ", style="bold")
    text.append_text(status_text(action.status, with_rag=True))
    if action.audit_title:
        rec = (
            f", recommendation {action.recommendation_number}"
            if action.recommendation_number is not None
            else ""
        )
        line("Audit", f"{action.audit_title}{rec}")
    line("Escalation route", action.escalation_route or "none recorded")
    line("Evidence of impact", action.evidence_of_impact or "none yet")
    if action.updates:
        text.append(f"\nUpdates ({len(action.updates)}):", style="bold")
        for update in reversed(action.updates):
            text.append(f"\n  {format_day(update.on)}, {update.by}: ", style="bold")
            text.append(update.text)
    else:
        line("Updates", "none yet")
    return text


@dataclass(frozen=True)
class ActionListing:
    actions: list[ActionOut]
    overdue_only: bool
    agencies: tuple[AgencyOut, ...] = ()
    recommendations: tuple[RecommendationOut, ...] = ()
    names: dict[str, str] = field(default_factory=dict)


class ActionsScreen(Screen[None]):
    """Every action (or one audit's), overdue first. Overdue is worked out from `today`."""

    CSS_PATH = "actions_screen.tcss"
    BINDING_GROUP_TITLE = "Action plan"

    BINDINGS = [
        Binding(
            "u",
            "update_action",
            "Update",
            tooltip="Add a dated update to the highlighted action; it may change the status",
            id="actions.update",
        ),
        Binding("n", "new_action", "New", tooltip="Add an action", id="actions.new"),
        Binding(
            "d",
            "due_date",
            "Due date",
            tooltip="Move the highlighted action's due date",
            id="actions.due",
        ),
        Binding(
            "o",
            "toggle_overdue",
            "Overdue only",
            tooltip="Show only overdue actions, or every action again",
            id="actions.overdue",
        ),
        Binding("r", "refresh", "Refresh", tooltip="Read the actions again", id="actions.refresh"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="actions.back"),
    ]

    @dataclass
    class Loaded(Message):
        listing: ActionListing

    @dataclass
    class LoadFailed(Message):
        reason: str

    @dataclass
    class Saved(Message):
        action: ActionOut
        what: str

    @dataclass
    class SaveFailed(Message):
        """A refused save; `retry` reopens the dialog with what was typed and the reason."""

        reason: str
        retry: ActionIn | ActionUpdateIn | dt.date
        action: ActionOut | None = None

    def __init__(
        self,
        factory: sessionmaker[Session],
        actor: Actor,
        today: dt.date,
        audit_id: int | None = None,
    ) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self._today = today
        self.audit_id = audit_id
        self.overdue_only = False
        self.listing = ActionListing([], False)
        self._keep: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_PLAN, id="empty", markup=False)
        yield DataTable[Text](id="actions", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail"):
            yield Static("", id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self._set_sub_title()
        self.query_one("#actions", DataTable).focus()
        self._add_columns()
        self.action_refresh()

    def _set_sub_title(self) -> None:
        which = "overdue actions" if self.overdue_only else "every action"
        title = self.listing.actions[0].audit_title if self.listing.actions else None
        scope = f" · {title}" if self.audit_id is not None and title else ""
        self.sub_title = f"Action plan{scope} · {which} · today {format_day(self._today)}"

    # --- reading -------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.query_one("#actions", DataTable).loading = True
        self.load_actions(self.overdue_only)

    @work(thread=True, exclusive=True, exit_on_error=False, group="actions.load")
    def load_actions(self, overdue_only: bool) -> None:
        try:
            actions = list_actions(
                self._factory,
                today=self._today,
                audit_id=self.audit_id,
                overdue_only=overdue_only,
            )
            agencies = tuple(list_agencies(self._factory))
            recommendations = (
                tuple(list_recommendations(self._factory, self.audit_id))
                if self.audit_id is not None
                else ()
            )
        except EXPECTED_FAILURES as exc:
            message: Message = self.LoadFailed(explain(exc))
        else:
            names = {a.code: a.name for a in agencies}
            message = self.Loaded(
                ActionListing(actions, overdue_only, agencies, recommendations, names)
            )
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "actions.load" and event.state is WorkerState.ERROR:
            self.post_message(self.LoadFailed(unexpected(event.worker.error)))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.query_one("#actions", DataTable).loading = False
        self.notify(
            f"Could not read the actions: {event.reason}",
            title="Actions not loaded",
            severity="error",
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.listing = event.listing
        self._set_sub_title()
        self._show()

    # --- the table and the detail ----------------------------------------------------------------

    def _description_width(self) -> int:
        fixed = sum(width + CELL_PADDING for _, _, width in BEFORE_COLUMNS + AFTER_COLUMNS)
        return max(MIN_DESCRIPTION_WIDTH, self.size.width - fixed - CELL_PADDING - 4)

    def _add_columns(self) -> None:
        table = self.query_one("#actions", DataTable)
        table.clear(columns=True)
        for key, heading, width in BEFORE_COLUMNS:
            table.add_column(heading, key=key, width=width)
        table.add_column("Action", key="description", width=self._description_width())
        for key, heading, width in AFTER_COLUMNS:
            table.add_column(heading, key=key, width=width)

    def on_resize(self, event: Resize) -> None:
        # The description takes what the other columns leave, so it changes with the width.
        self._keep = self._highlighted_id()
        self._add_columns()
        self._show()

    def _show(self) -> None:
        table = self.query_one("#actions", DataTable)
        table.loading = False
        actions = self.listing.actions
        keep = self._keep if self._keep is not None else self._highlighted_id()
        self._keep = None
        table.clear()
        width = self._description_width()
        for action in actions:
            table.add_row(*action_row(action, width), key=str(action.id))
        if actions:
            ids = [a.id for a in actions]
            table.move_cursor(row=ids.index(keep) if keep in ids else 0, scroll=False)
        self.set_class(not actions, "-empty")
        self.query_one("#empty", Static).update(
            NOTHING_OVERDUE if self.listing.overdue_only else EMPTY_PLAN
        )
        self._describe()

    def _highlighted_id(self) -> int | None:
        table = self.query_one("#actions", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def highlighted(self) -> ActionOut | None:
        action_id = self._highlighted_id()
        return next((a for a in self.listing.actions if a.id == action_id), None)

    @on(DataTable.RowHighlighted, "#actions")
    def _describe(self) -> None:
        action = self.highlighted()
        detail = self.query_one("#detail-text", Static)
        if action is None:
            detail.update("")
            return
        name = self.listing.names.get(action.owner_agency, action.owner_agency)
        detail.update(detail_text(action, name))

    def action_toggle_overdue(self) -> None:
        self.overdue_only = not self.overdue_only
        self._set_sub_title()
        self.action_refresh()

    # --- changing actions ------------------------------------------------------------------------

    def _chosen(self, verb: str) -> ActionOut | None:
        action = self.highlighted()
        if action is None:
            self.notify(f"There is no action to {verb}.", severity="warning")
        return action

    def action_update_action(self) -> None:
        if (action := self._chosen("update")) is not None:
            self._open_update(action)

    def _open_update(
        self, action: ActionOut, draft: ActionUpdateIn | None = None, problem: str = ""
    ) -> None:
        def updated(update: ActionUpdateIn | None) -> None:
            if update is not None:
                self.save(action, update)

        dialog = ActionUpdateDialog(action, today=self._today, draft=draft, problem=problem)
        self.app.push_screen(dialog, updated)

    def action_new_action(self) -> None:
        self._open_new()

    def _open_new(self, draft: ActionIn | None = None, problem: str = "") -> None:
        def made(new: ActionIn | None) -> None:
            if new is not None:
                self.save(None, new)

        dialog = ActionDialog(
            self.listing.agencies,
            self.listing.recommendations,
            audit_id=self.audit_id,
            draft=draft,
            agency=self._actor.agency,
            problem=problem,
        )
        self.app.push_screen(dialog, made)

    def action_due_date(self) -> None:
        if (action := self._chosen("move")) is not None:
            self._open_due_date(action)

    def _open_due_date(
        self, action: ActionOut, draft: dt.date | None = None, problem: str = ""
    ) -> None:
        def moved(due_on: dt.date | None) -> None:
            if due_on is not None:
                self.save(action, due_on)

        self.app.push_screen(DueDateDialog(action, draft=draft, problem=problem), moved)

    @work(thread=True, exclusive=True, exit_on_error=False, group="actions.save")
    def save(self, action: ActionOut | None, change: ActionIn | ActionUpdateIn | dt.date) -> None:
        """Add, update or move, as `change` says; a refusal hands `change` back untouched."""
        try:
            if isinstance(change, ActionIn):
                saved = add_action(self._factory, self._actor, change, today=self._today)
                what = "added"
            elif isinstance(change, ActionUpdateIn):
                assert action is not None
                saved = update_action(
                    self._factory, self._actor, action.id, change, today=self._today
                )
                what = "updated"
            else:
                assert action is not None
                saved = change_due_date(
                    self._factory, self._actor, action.id, change, today=self._today
                )
                what = f"now due {format_day(change)}"
        except Exception as exc:  # whatever went wrong, what was typed goes back to the user
            self.post_message(self.SaveFailed(explain(exc), change, action))
        else:
            self.post_message(self.Saved(saved, what))

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        self.notify(f"Action {event.what}: {cut(event.action.description, 40)}", timeout=3)
        self._keep = event.action.id
        self.action_refresh()

    @on(SaveFailed)
    def _save_failed(self, event: SaveFailed) -> None:
        self.notify(f"Not saved: {event.reason}", title="Action not saved", severity="error")
        problem = f"Not saved: {event.reason}"
        retry = event.retry
        if isinstance(retry, ActionIn):
            self._open_new(retry, problem)
        elif event.action is not None and isinstance(retry, ActionUpdateIn):
            self._open_update(event.action, retry, problem)
        elif event.action is not None and isinstance(retry, dt.date):
            self._open_due_date(event.action, retry, problem)

    def action_back(self) -> None:
        self.dismiss()
