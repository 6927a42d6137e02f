"""The change history of a finding, return, case or audit: who changed what, when, before and
after. Read-only, as the history itself is: nothing here edits or deletes it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
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

from schemas.audit import ChangeRecordOut
from workbench.services import change_history
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected

SEP = change_history.SEP
ReadHistory = Callable[[sessionmaker[Session]], list[ChangeRecordOut]]

# (key, heading, width) for every column but before and after, which share what is left.
FIXED_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("when", "When", 17),
    ("who", "Who", 12),
    ("what", "What", 18),
    ("field", "Field", 10),
)
CELL_PADDING = 2  # DataTable pads each cell by one on either side
MIN_VALUE_WIDTH = 10
OPERATION_WORDS = {"create": "created", "delete": "deleted"}


@dataclass(frozen=True)
class HistoryScope:
    """What a history is of: its title, the key its own rows carry, and how to read it."""

    title: str
    kind: str
    base_key: str
    read: ReadHistory


def finding_scope(audit_id: int, case: str, agency: str, criterion_id: str) -> HistoryScope:
    return HistoryScope(
        f"finding {criterion_id}, {agency} return, case {case}",
        "finding",
        SEP.join((f"case {case}", agency, criterion_id)),
        partial(
            change_history.history_of_finding,
            audit_id=audit_id,
            case_reference=case,
            agency=agency,
            criterion_id=criterion_id,
        ),
    )


def return_scope(audit_id: int, case: str, agency: str) -> HistoryScope:
    return HistoryScope(
        f"{agency} return, case {case}",
        "return",
        SEP.join((f"case {case}", agency)),
        partial(
            change_history.history_of_return, audit_id=audit_id, case_reference=case, agency=agency
        ),
    )


def case_scope(audit_id: int, case: str) -> HistoryScope:
    return HistoryScope(
        f"case {case}",
        "case",
        f"case {case}",
        partial(change_history.history_of_case, audit_id=audit_id, case_reference=case),
    )


def audit_scope(audit_id: int, title: str = "") -> HistoryScope:
    # The audit's rows name cases, returns and the audit itself: no one key they share.
    return HistoryScope(
        f"the whole audit ({title})" if title else "the whole audit",
        "audit",
        "",
        partial(change_history.history_of_audit, audit_id=audit_id),
    )


# --- how one record reads ---------------------------------------------------------------------


def cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)].rstrip() + "…"


def when_text(at: dt.datetime, tz: dt.tzinfo | None, *, seconds: bool = False) -> str:
    """The moment in the reader's time zone (or `tz`), day-month-year as on the other screens."""
    local = at.astimezone(tz)
    return f"{local.day} {local:%b %Y %H:%M}" + (f":{local:%S} {local:%Z}" if seconds else "")


def what_text(record: ChangeRecordOut, scope: HistoryScope) -> str:
    """The changed thing, named from the scope: 'cse-1.1' in a return's history, the kind
    ('finding') for the scope's own rows, the whole key where nothing is shared."""
    key = record.entity_key
    if scope.base_key and key == scope.base_key:
        return scope.kind
    if scope.base_key and key.startswith(scope.base_key + SEP):
        return key[len(scope.base_key) + len(SEP) :]
    return key


def field_text(record: ChangeRecordOut) -> str:
    return record.field or OPERATION_WORDS.get(record.operation, record.operation)


def snapshot(record: ChangeRecordOut, value: str | None) -> dict[str, object] | None:
    """A whole created or deleted row is stored as a JSON object of its fields."""
    if record.field is not None or value is None or not value.startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _blank(value: object) -> bool:
    return value is None or value == "" or value == []


def value_text(record: ChangeRecordOut, value: str | None) -> str:
    """A before or after value on one line: a created row as its filled-in fields."""
    fields = snapshot(record, value)
    if fields is not None:
        return "; ".join(f"{name}: {v}" for name, v in fields.items() if not _blank(v))
    return value or ""


def _value_block(record: ChangeRecordOut, value: str | None, missing: str) -> Text:
    if value is None:
        return Text(missing, style="dim")
    fields = snapshot(record, value)
    if fields is None:
        return Text(value) if value else Text("(blank)", style="dim")
    filled = [(name, v) for name, v in fields.items() if not _blank(v)]
    if not filled:
        return Text("(every field blank)", style="dim")
    block = Text()
    for index, (name, v) in enumerate(filled):
        block.append("\n" if index else "")
        block.append(f"{name}: ", style="bold")
        block.append(str(v))
    return block


def detail_text(record: ChangeRecordOut, tz: dt.tzinfo | None) -> Text:
    """Everything about one change, its values in full."""
    text = Text(no_wrap=False, end="")
    text.append(when_text(record.at, tz, seconds=True), style="bold")
    text.append(f" · {record.actor} · {record.entity_key} · ")
    text.append(f"{record.field} changed" if record.field else field_text(record), style="bold")
    text.append("\nBefore:\n", style="bold")
    text.append_text(_value_block(record, record.before, "nothing: it was created here"))
    text.append("\nAfter:\n", style="bold")
    text.append_text(_value_block(record, record.after, "nothing: it was deleted here"))
    return text


# --- the screen -------------------------------------------------------------------------------


class HistoryScreen(Screen[None]):
    """A read-only list of changes, oldest first, with the highlighted change in full below.

    `scopes` are the histories on offer, narrowest first (a finding, its return, its case);
    s moves between them. `before_read` runs in the reading thread before each read: the
    return screen stores what was typed there, so the history includes it. `tz` fixes the
    time zone times are shown in (for tests); None is the reader's own."""

    CSS_PATH = "history_screen.tcss"
    BINDING_GROUP_TITLE = "Change history"

    # Reading only: the history cannot be edited or deleted, here or anywhere.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "next_scope",
            "Scope",
            tooltip="Show the next history in turn, e.g. the finding's, the return's, the case's",
            id="history.scope",
        ),
        Binding("r", "refresh", "Refresh", tooltip="Read the history again", id="history.refresh"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="history.back"),
    ]

    @dataclass
    class Loaded(Message):
        scope: HistoryScope
        records: list[ChangeRecordOut]

    @dataclass
    class LoadFailed(Message):
        reason: str

    def __init__(
        self,
        factory: sessionmaker[Session],
        scopes: Sequence[HistoryScope],
        *,
        before_read: Callable[[], None] | None = None,
        tz: dt.tzinfo | None = None,
    ) -> None:
        super().__init__()
        if not scopes:
            raise ValueError("a history screen needs at least one scope")
        self._factory = factory
        self.scopes = tuple(scopes)
        self._before_read = before_read
        self._tz = tz
        self.scope_index = 0
        self.records: list[ChangeRecordOut] = []
        self._shown: HistoryScope | None = None

    @property
    def scope(self) -> HistoryScope:
        return self.scopes[self.scope_index]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="heading", markup=False)
        yield Static("", id="empty", markup=False)
        yield DataTable[Text](id="changes", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail"):
            yield Static("", id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#changes", DataTable).focus()
        self._add_columns()
        self.action_refresh()

    # --- reading -------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.sub_title = f"History: {self.scope.title}"
        self.query_one("#heading", Static).update(f"History: {self.scope.title} · reading…")
        self.query_one("#changes", DataTable).loading = True
        self.load_history(self.scope)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history.load")
    def load_history(self, scope: HistoryScope) -> None:
        try:
            if self._before_read is not None:
                self._before_read()
            message: Message = self.Loaded(scope, scope.read(self._factory))
        except EXPECTED_FAILURES as exc:
            message = self.LoadFailed(explain(exc))
        # Another scope was asked for meanwhile: its answer is the one to show.
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "history.load" and event.state is WorkerState.ERROR:
            self.post_message(self.LoadFailed(unexpected(event.worker.error)))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        # Rows from another scope would pass for this one's; "nothing recorded" would be a lie.
        table = self.query_one("#changes", DataTable)
        table.loading = False
        table.clear()
        self.records, self._shown = [], None
        self.set_class(False, "-empty")
        self.query_one("#detail-text", Static).update("")
        self.query_one("#heading", Static).update(f"History: {self.scope.title} · not read")
        self.notify(
            f"Could not read the history: {event.reason}",
            title="History not read",
            severity="error",
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if event.scope is not self.scope:
            return
        keep = self.query_one("#changes", DataTable).cursor_row if event.scope is self._shown else 0
        self.records = event.records
        self._shown = event.scope
        self._show(keep)

    # --- the table and the detail ----------------------------------------------------------------

    def value_width(self) -> int:
        """Before and after share what the fixed columns leave, so wider terminals show more."""
        fixed = sum(width + CELL_PADDING for _, _, width in FIXED_COLUMNS)
        spare = self.size.width - fixed - 2 * CELL_PADDING - 4
        return max(MIN_VALUE_WIDTH, spare // 2)

    def _add_columns(self) -> None:
        table = self.query_one("#changes", DataTable)
        table.clear(columns=True)
        for key, heading, width in FIXED_COLUMNS:
            table.add_column(heading, key=key, width=width)
        width = self.value_width()
        table.add_column("Before", key="before", width=width)
        table.add_column("After", key="after", width=width)

    def on_resize(self, event: Resize) -> None:
        keep = self.query_one("#changes", DataTable).cursor_row
        self._add_columns()
        if self._shown is not None:
            self._show(keep)

    def row_cells(self, record: ChangeRecordOut) -> tuple[Text, ...]:
        widths = {key: width for key, _, width in FIXED_COLUMNS}
        values = self.value_width()
        return (
            Text(when_text(record.at, self._tz)),
            Text(cut(record.actor, widths["who"])),
            Text(cut(what_text(record, self.scope), widths["what"])),
            Text(
                cut(field_text(record), widths["field"]),
                style="" if record.field else "italic",
            ),
            Text(cut(value_text(record, record.before), values)),
            Text(cut(value_text(record, record.after), values)),
        )

    def _show(self, keep: int) -> None:
        table = self.query_one("#changes", DataTable)
        table.loading = False
        table.clear()
        for index, record in enumerate(self.records):
            table.add_row(*self.row_cells(record), key=str(index))
        if self.records:
            table.move_cursor(row=min(max(keep, 0), len(self.records) - 1), scroll=False)
        count = len(self.records)
        heading = f"History: {self.scope.title} · {count} change{'' if count == 1 else 's'}"
        if count:
            heading += ", oldest first"
        if len(self.scopes) > 1:
            following = self.scopes[(self.scope_index + 1) % len(self.scopes)]
            heading += f" · s: {following.kind}"
        self.query_one("#heading", Static).update(heading)
        self.query_one("#empty", Static).update(f"No change to {self.scope.title} is recorded yet.")
        self.set_class(not self.records, "-empty")
        self._describe()

    def highlighted(self) -> ChangeRecordOut | None:
        """The change under the cursor, as last read."""
        table = self.query_one("#changes", DataTable)
        if not self.records or not table.row_count:
            return None
        return self.records[min(table.cursor_row, len(self.records) - 1)]

    @on(DataTable.RowHighlighted, "#changes")
    def _describe(self) -> None:
        record = self.highlighted()
        detail = self.query_one("#detail-text", Static)
        detail.update(detail_text(record, self._tz) if record is not None else "")

    # --- moving between scopes -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_scope":
            return len(self.scopes) > 1
        return True

    def action_next_scope(self) -> None:
        self.scope_index = (self.scope_index + 1) % len(self.scopes)
        self.action_refresh()

    def action_back(self) -> None:
        self.dismiss(None)
