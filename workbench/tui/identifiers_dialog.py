"""The dialog for a case's held identifiers (a name, a system number): its named leads only.

Values stay hidden until the lead asks to see them, so a projected screen on an audit day does
not show them by accident; each showing is a recorded reading. What is typed is never put in a
notification, a worker's description or a message's repr, where logs and debug tools could
keep it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import Actor
from workbench.services.errors import AccessDeniedError
from workbench.services.identifiers import (
    HeldIdentifier,
    forget_identifier,
    hold_identifier,
    identifiers_of,
    require_identifier_access,
)
from workbench.tui.feedback import EXPECTED_FAILURES, explain

NOTE = (
    "For the audit's leads only. Never exported. Each reading is recorded in the change "
    "history (who and when, never the value)."
)
HIDDEN = "Hidden in case the screen is projected; Show (ctrl+r) reveals them."
NONE_HELD = "No identifiers are held for this case."
CHECKING = "Checking who may read them…"
# The groups of this dialog's workers, so a failure is reported against the right step.
_GROUPS = {
    "identifiers.check": "Could not check who may read them",
    "identifiers.show": "Not shown",
    "identifiers.hold": "Not held",
    "identifiers.forget": "Not forgotten",
}
# Only the leads' actions: a refused user is offered nothing but close.
_LEAD_ACTIONS = frozenset({"show", "hold", "forget"})


def _unexpected(error: BaseException | None) -> str:
    """The error's kind only: an unforeseen database error's text may quote what was typed."""
    return f"unexpected {type(error).__name__}"


class ForgetConfirm(ModalScreen[bool]):
    """Asks before a held identifier is removed; dismisses True to forget it."""

    CSS_PATH = "identifiers_dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Forget", tooltip="Remove it", id="forget.yes"),
        Binding("n,escape", "answer(False)", "Keep", tooltip="Keep it held", id="forget.no"),
    ]

    def __init__(self, kind: str, reference: str) -> None:
        super().__init__()
        self._kind = kind
        self._reference = reference

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(
                f"Forget the {self._kind} held for case {self._reference}?",
                id="confirm-question",
                markup=False,
            )
            yield Static(
                "It is removed for good; the change history keeps who removed it and when.",
                id="confirm-why",
                markup=False,
            )
            with Horizontal(id="confirm-buttons"):
                yield Button("Keep (n)", id="keep")
                yield Button("Forget (y)", id="forget", variant="error")

    def on_mount(self) -> None:
        # The safe answer has the focus, so a stray Enter keeps the identifier.
        self.query_one("#keep", Button).focus()

    def action_answer(self, forget: bool) -> None:
        self.dismiss(forget)

    @on(Button.Pressed, "#forget")
    def _forget_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def _keep_pressed(self) -> None:
        self.dismiss(False)


class HeldIdentifiersDialog(ModalScreen[None]):
    """One case's held identifiers: show (a recorded reading), hold one, forget one."""

    CSS_PATH = "identifiers_dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+r",
            "show",
            "Show/hide",
            tooltip="Read the values (the reading is recorded), or hide them again",
            id="identifiers.show",
        ),
        Binding(
            "ctrl+s",
            "hold",
            "Hold",
            tooltip="Hold the identifier typed below (replacing one of the same kind)",
            id="identifiers.hold",
        ),
        Binding(
            "delete",
            "forget",
            "Forget",
            tooltip="Remove the highlighted identifier (asks first)",
            id="identifiers.forget",
        ),
        Binding("escape", "close", "Close", tooltip="Close this dialog", id="identifiers.close"),
    ]

    @dataclass
    class Checked(Message):
        refusal: str  # "" when the user is a named lead

    @dataclass
    class Shown(Message):
        held: list[HeldIdentifier] = field(repr=False)

    @dataclass
    class Held(Message):
        kind: str
        value: str = field(repr=False)

    @dataclass
    class Forgotten(Message):
        kind: str

    @dataclass
    class Failed(Message):
        step: str
        reason: str

    def __init__(
        self,
        factory: sessionmaker[Session],
        actor: Actor,
        audit_id: int,
        case_id: int,
        reference: str,
    ) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self.audit_id = audit_id
        self.case_id = case_id
        self.reference = reference
        self.allowed = False
        # None while hidden; the values themselves live only here and in the table.
        self.held: list[HeldIdentifier] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = f"Held identifiers: case {self.reference}"
            yield Static(CHECKING, id="refusal", markup=False)
            with Vertical(id="lead-only"):
                yield Static(NOTE, id="note", markup=False)
                yield Static(HIDDEN, id="hidden", markup=False)
                yield DataTable[Text](id="held", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="hold-form"):
                    with Vertical(id="kind-field"):
                        yield Label("Kind (e.g. name)")
                        yield Input(id="kind", placeholder="name")
                    with Vertical(id="value-field"):
                        yield Label("Value (not shown as typed)")
                        yield Input(id="value", password=True)
                    yield Button("Hold (ctrl+s)", id="hold", variant="primary")
                yield Static("", id="status", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Show (ctrl+r)", id="show", classes="lead-button")
                yield Button("Forget (del)", id="forget", classes="lead-button")
                yield Button("Close (esc)", id="close")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#held", DataTable)
        table.add_column("Kind", key="kind")
        table.add_column("Value", key="value")
        self.query_one("#close", Button).focus()
        self.check_access()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.allowed or action not in _LEAD_ACTIONS

    # --- workers: each opens its own unit of work through the service -------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="identifiers.check")
    def check_access(self) -> None:
        try:
            require_identifier_access(self._factory, self.case_id)
        except AccessDeniedError as exc:
            message: Message = self.Checked(str(exc))
        except EXPECTED_FAILURES as exc:
            message = self.Checked(f"{_GROUPS['identifiers.check']}: {explain(exc)}")
        else:
            message = self.Checked("")
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="identifiers.show")
    def read_identifiers(self) -> None:
        try:
            message: Message = self.Shown(identifiers_of(self._factory, self._actor, self.case_id))
        except EXPECTED_FAILURES as exc:
            message = self.Failed("Not shown", explain(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    # The description is given so the worker's name, which debug logs print, never holds the
    # value passed to it.
    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="identifiers.hold",
        description="hold an identifier",
    )
    def hold(self, kind: str, value: str) -> None:
        try:
            hold_identifier(self._factory, self._actor, self.case_id, kind, value)
        except EXPECTED_FAILURES as exc:
            message: Message = self.Failed("Not held", explain(exc))
        else:
            message = self.Held(kind, value)
        self.post_message(message)  # even if superseded: the hold itself went through

    @work(thread=True, exclusive=True, exit_on_error=False, group="identifiers.forget")
    def forget(self, kind: str) -> None:
        try:
            forget_identifier(self._factory, self._actor, self.case_id, kind)
        except EXPECTED_FAILURES as exc:
            message: Message = self.Failed("Not forgotten", explain(exc))
        else:
            message = self.Forgotten(kind)
        self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        step = _GROUPS.get(event.worker.group)
        if step is not None and event.state is WorkerState.ERROR:
            if event.worker.group == "identifiers.check":
                self.post_message(self.Checked(f"{step}: {_unexpected(event.worker.error)}"))
            else:
                self.post_message(self.Failed(step, _unexpected(event.worker.error)))

    # --- results ------------------------------------------------------------------------------

    @on(Checked)
    async def _checked(self, event: Checked) -> None:
        if event.refusal:
            # Nothing but the refusal and the way out: the form is removed, not just hidden.
            self.query_one("#refusal", Static).update(event.refusal)
            await self.query("#lead-only, .lead-button").remove()
            self.query_one("#close", Button).focus()
            self.refresh_bindings()
            return
        self.allowed = True
        self.query_one("#refusal", Static).display = False
        self.add_class("-allowed")
        self.refresh_bindings()
        self.query_one("#show", Button).focus()

    @on(Shown)
    def _shown(self, event: Shown) -> None:
        self.held = list(event.held)
        self._fill()
        self._status("The reading is recorded in the change history." if self.held else NONE_HELD)
        if self.held:
            self.query_one("#held", DataTable).focus()

    @on(Held)
    def _held(self, event: Held) -> None:
        self.query_one("#value", Input).value = ""
        self.query_one("#kind", Input).value = ""
        if self.held is not None:
            # Already on screen, so the new value joins them without another recorded reading.
            others = [h for h in self.held if h.kind != event.kind]
            self.held = sorted(
                [*others, HeldIdentifier(kind=event.kind, value=event.value)],
                key=lambda h: h.kind,
            )
            self._fill()
        self._status(
            f"Held the {event.kind} of case {self.reference}; only the audit's leads can read it."
        )

    @on(Forgotten)
    def _forgotten(self, event: Forgotten) -> None:
        if self.held is not None:
            self.held = [h for h in self.held if h.kind != event.kind]
            self._fill()
        self._status(f"No longer holding the {event.kind} of case {self.reference}.")

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self._status(f"{event.step}: {event.reason}", problem=True)

    def _fill(self) -> None:
        table = self.query_one("#held", DataTable)
        table.clear()
        for held in self.held or ():
            # Text cells: what people typed is never markup.
            table.add_row(Text(held.kind), Text(held.value), key=held.kind)
        table.display = bool(self.held)
        hidden = self.query_one("#hidden", Static)
        hidden.display = not self.held
        hidden.update(NONE_HELD if self.held == [] else HIDDEN)
        self.query_one("#show", Button).label = (
            "Hide (ctrl+r)" if self.held is not None else "Show (ctrl+r)"
        )

    def _status(self, text: str, *, problem: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(problem, "-problem")

    # --- actions ------------------------------------------------------------------------------

    def action_show(self) -> None:
        if not self.allowed:  # a button pressed before the check came back
            return
        if self.held is not None:
            self.held = None
            self._fill()
            self._status("Hidden again.")
            return
        self.read_identifiers()

    def action_hold(self) -> None:
        if not self.allowed:
            return
        kind = self.query_one("#kind", Input).value.strip()
        value = self.query_one("#value", Input).value.strip()
        self.hold(kind, value)

    def action_forget(self) -> None:
        if not self.allowed:
            return
        table = self.query_one("#held", DataTable)
        if not self.held or not table.row_count:
            self._status("Show the identifiers first, then highlight the one to forget.")
            return
        kind = self.held[min(table.cursor_row, len(self.held) - 1)].kind

        def answered(forget: bool | None) -> None:
            if forget:
                self.forget(kind)

        self.app.push_screen(ForgetConfirm(kind, self.reference), answered)

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#kind")
    def _kind_submitted(self) -> None:
        self.query_one("#value", Input).focus()

    @on(Input.Submitted, "#value")
    def _value_submitted(self) -> None:
        self.action_hold()

    @on(Button.Pressed, "#show")
    def _show_pressed(self) -> None:
        self.action_show()

    @on(Button.Pressed, "#hold")
    def _hold_pressed(self) -> None:
        self.action_hold()

    @on(Button.Pressed, "#forget")
    def _forget_pressed(self) -> None:
        self.action_forget()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close()
