"""Open immediate concerns for one audit: who was told and when, and closing them with a note."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Static, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import Actor, ImmediateConcernOut
from workbench.services.audits import get_audit
from workbench.services.casework import close_concern, open_concerns
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected

EMPTY_MESSAGE = "No open immediate concerns for this audit."
WHO_WIDTH, RAISED_WIDTH, MIN_CONCERN_WIDTH = 16, 10, 16
# Case reference, the moment, and the padding DataTable puts around five columns.
FIXED_WIDTH = 12 + 17 + 10

# (key, heading) in the order the columns appear.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("case", "Case"),
    ("concern", "Concern"),
    ("who_told", "Who was told"),
    ("told_at", "When (UTC)"),
    ("raised_by", "Raised by"),
)


def format_moment(moment: dt.datetime) -> str:
    # Stored in UTC and shown in UTC, labelled so: a panel across sites reads the same time.
    moment = moment.astimezone(dt.UTC)
    return f"{moment.day} {moment:%b %Y %H:%M}"


def cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def concern_width(screen_width: int) -> int:
    """The concern takes what the other columns leave: the detail line shows it in full."""
    return max(MIN_CONCERN_WIDTH, screen_width - FIXED_WIDTH - WHO_WIDTH - RAISED_WIDTH)


def concern_row(
    concern: ImmediateConcernOut, reference: str, width: int = MIN_CONCERN_WIDTH
) -> tuple[Text, ...]:
    """One concern as the table shows it. Text cells: what people typed is never markup."""
    return (
        Text(reference),
        Text(cut(concern.concern, width)),
        Text(cut(concern.who_told, WHO_WIDTH)),
        Text(format_moment(concern.told_at)),
        Text(cut(concern.raised_by, RAISED_WIDTH)),
    )


@dataclass(frozen=True)
class ConcernListing:
    concerns: list[ImmediateConcernOut]
    references: dict[int, str]
    audit_title: str = ""


class ClosingNoteDialog(ModalScreen[str | None]):
    """Asks how the concern was resolved; dismisses with the note, or None to keep it open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "close_concern",
            "Close concern",
            tooltip="Close the concern with this note",
            id="closing.confirm",
        ),
        Binding("escape", "cancel", "Cancel", tooltip="Keep the concern open", id="closing.cancel"),
    ]

    def __init__(self, reference: str, concern: str) -> None:
        super().__init__()
        self._reference = reference
        self._concern = concern

    def compose(self) -> ComposeResult:
        with Vertical(id="closing"):
            yield Static(
                f"Close the concern on {self._reference}", id="closing-title", markup=False
            )
            yield Static(self._concern, id="closing-concern", markup=False)
            yield TextArea(id="note", placeholder="How was it resolved? (required)")
            yield Static("ctrl+s closes it · escape keeps it open", id="closing-keys", markup=False)
            yield Static("", id="closing-error", markup=False)
            with Horizontal(id="closing-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Close concern", id="confirm", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#note", TextArea).focus()

    @on(Button.Pressed, "#confirm")
    def action_close_concern(self) -> None:
        note = self.query_one("#note", TextArea).text.strip()
        if not note:
            # A closed concern must say how it was resolved: that is what the panel reads later.
            self.query_one("#closing-error", Static).update("Say how it was resolved first.")
            self.query_one("#note", TextArea).focus()
            return
        self.dismiss(note)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConcernsScreen(Screen[None]):
    """Open immediate concerns for one audit. They stay here until someone closes them."""

    CSS_PATH = "concerns_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "x",
            "close_selected",
            "Close concern",
            tooltip="Close the selected concern with a note on how it was resolved",
            id="concerns.close",
        ),
        Binding(
            "r", "refresh", "Refresh", tooltip="Read the open concerns again", id="concerns.refresh"
        ),
        Binding(
            "escape", "back", "Back", tooltip="Back to the previous screen", id="concerns.back"
        ),
    ]

    @dataclass
    class Loaded(Message):
        listing: ConcernListing

    @dataclass
    class LoadFailed(Message):
        reason: str

    @dataclass
    class Closed(Message):
        concern: ImmediateConcernOut

    @dataclass
    class CloseFailed(Message):
        reason: str

    def __init__(self, factory: sessionmaker[Session], actor: Actor, audit_id: int) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self.audit_id = audit_id
        self.listing = ConcernListing([], {})

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_MESSAGE, id="empty", markup=False)
        yield DataTable[Text](id="concerns", cursor_type="row", zebra_stripes=True)
        yield Static("", id="concern-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#concerns", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.sub_title = "Open immediate concerns"
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one("#concerns", DataTable).loading = True
        self.load_concerns()

    @work(thread=True, exclusive=True, exit_on_error=False, group="concerns.load")
    def load_concerns(self) -> None:
        try:
            concerns = open_concerns(self._factory, self.audit_id)
            audit = get_audit(self._factory, self.audit_id)
        except EXPECTED_FAILURES as exc:
            message: Message = self.LoadFailed(explain(exc))
        else:
            references = {case.id: case.reference for case in audit.cases}
            message = self.Loaded(ConcernListing(concerns, references, audit.title))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        reason = unexpected(event.worker.error)
        if event.worker.group == "concerns.load":
            self.post_message(self.LoadFailed(reason))
        elif event.worker.group == "concerns.close":
            self.post_message(self.CloseFailed(reason))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.query_one("#concerns", DataTable).loading = False
        self.notify(
            f"Could not read the concerns: {event.reason}",
            title="Concerns not loaded",
            severity="error",
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.listing = event.listing
        self.sub_title = f"Open immediate concerns · {event.listing.audit_title}"
        self._show()

    def _show(self) -> None:
        table = self.query_one("#concerns", DataTable)
        table.loading = False
        row = table.cursor_row
        table.clear()
        for concern in self.listing.concerns:
            reference = self.listing.references.get(concern.case_id, str(concern.case_id))
            row_cells = concern_row(concern, reference, concern_width(self.size.width))
            table.add_row(*row_cells, key=str(concern.id))
        if self.listing.concerns:
            table.move_cursor(row=min(row, len(self.listing.concerns) - 1), scroll=False)
        self.set_class(not self.listing.concerns, "-empty")
        self._describe()

    def _selected(self) -> ImmediateConcernOut | None:
        table = self.query_one("#concerns", DataTable)
        if not self.listing.concerns or not table.row_count:
            return None
        return self.listing.concerns[min(table.cursor_row, len(self.listing.concerns) - 1)]

    @on(DataTable.RowHighlighted, "#concerns")
    def _describe(self) -> None:
        """The whole concern under the cursor: the table cuts the text to fit."""
        concern = self._selected()
        detail = self.query_one("#concern-detail", Static)
        if concern is None:
            detail.update("")
            return
        agency = f" ({concern.agency_code})" if concern.agency_code else ""
        detail.update(
            f"{concern.concern}\nTold {concern.who_told} at {format_moment(concern.told_at)}; "
            f"raised by {concern.raised_by}{agency}."
        )

    def action_close_selected(self) -> None:
        concern = self._selected()
        if concern is None:
            self.notify("There is no open concern to close.", severity="warning")
            return
        reference = self.listing.references.get(concern.case_id, str(concern.case_id))

        def closing(note: str | None) -> None:
            if note is not None:
                self.close_one(concern.id, note)

        self.app.push_screen(ClosingNoteDialog(reference, concern.concern), closing)

    @work(thread=True, exclusive=True, exit_on_error=False, group="concerns.close")
    def close_one(self, concern_id: int, note: str) -> None:
        try:
            message: Message = self.Closed(
                close_concern(self._factory, self._actor, concern_id, note)
            )
        except EXPECTED_FAILURES as exc:
            message = self.CloseFailed(explain(exc))
        self.post_message(message)

    @on(Closed)
    def _concern_closed(self, event: Closed) -> None:
        remaining = [c for c in self.listing.concerns if c.id != event.concern.id]
        self.listing = ConcernListing(remaining, self.listing.references, self.listing.audit_title)
        self._show()
        self.notify("Concern closed.", timeout=3)

    @on(CloseFailed)
    def _close_failed(self, event: CloseFailed) -> None:
        self.notify(
            f"Could not close the concern: {event.reason}",
            title="Concern still open",
            severity="error",
        )
        # Someone may have closed it meanwhile: show the list as it now stands.
        self.load_concerns()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
