"""The immediate-concern dialog: what the risk is, who was told and when, for the caller."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

WHEN_FORMAT = "%Y-%m-%d %H:%M"
# A minute's grace: the clock in the dialog and the auditor's watch need not agree exactly.
FUTURE_GRACE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ConcernDraft:
    """An immediate concern as typed; `told_at` is timezone-aware."""

    concern: str
    who_told: str
    told_at: dt.datetime
    agency_code: str | None = None


def parse_when(text: str) -> dt.datetime:
    """A typed local date-time ('2026-03-10 14:30') as an aware datetime; ValueError in words."""
    try:
        naive = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text.strip() or 'an empty time'!r} is not a date and time like 2026-03-10 14:30"
        ) from None
    # Typed as the auditor's wall-clock time; astimezone() attaches the local zone.
    return naive if naive.tzinfo else naive.astimezone()


class ConcernDialog(ModalScreen[ConcernDraft | None]):
    """Collects one immediate concern; dismisses with the draft, or None when cancelled."""

    CSS_PATH = "concern_dialog.tcss"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "record",
            "Record",
            tooltip="Record this immediate concern (it stays open for the audit lead until closed)",
            id="concern.record",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Close without recording anything",
            id="concern.cancel",
        ),
    ]

    def __init__(
        self,
        agencies: Sequence[str] = (),
        *,
        agency: str | None = None,
        now: dt.datetime | None = None,
        draft: ConcernDraft | None = None,
    ) -> None:
        super().__init__()
        self._agencies = tuple(agencies)
        self._draft = draft
        self._agency = draft.agency_code if draft else agency
        when = draft.told_at if draft else (now or dt.datetime.now())
        # Shown in local wall-clock time, which is how the auditor will type a correction.
        self._when = (when.astimezone() if when.tzinfo else when).strftime(WHEN_FORMAT)
        self._discard_armed = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static("Immediate safeguarding concern", id="title")
            yield Static(
                "A child at current risk, escalated now outside the audit.",
                id="explain",
            )
            yield Label("What is the concern?", classes="field-label")
            yield TextArea(self._draft.concern if self._draft else "", id="what")
            yield Label("Who was told (name, role, agency)", classes="field-label")
            yield Input(self._draft.who_told if self._draft else "", id="who")
            yield Label("When were they told (YYYY-MM-DD HH:MM)", classes="field-label")
            yield Input(self._when, id="when")
            yield Label("Agency concerned (optional)", classes="field-label")
            options = [(code, code) for code in self._agencies]
            if self._agency and self._agency not in self._agencies:
                options.append((self._agency, self._agency))
            yield Select[str](
                options,
                prompt="No agency",
                allow_blank=True,
                value=self._agency if self._agency else Select.NULL,
                id="agency",
            )
            yield Static("", id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Record (ctrl+s)", variant="error", id="record")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#what", TextArea).focus()

    def draft(self) -> ConcernDraft:
        """What the form holds; ValueError in plain words when something is missing or wrong."""
        concern = self.query_one("#what", TextArea).text.strip()
        who = self.query_one("#who", Input).value.strip()
        if not concern:
            raise ValueError("say what the concern is")
        if not who:
            raise ValueError("say who was told")
        told_at = parse_when(self.query_one("#when", Input).value)
        if told_at > dt.datetime.now(dt.UTC) + FUTURE_GRACE:
            raise ValueError("the time they were told is in the future")
        agency = self.query_one("#agency", Select).value
        return ConcernDraft(
            concern=concern,
            who_told=who,
            told_at=told_at,
            agency_code=agency if isinstance(agency, str) else None,
        )

    def action_record(self) -> None:
        try:
            draft = self.draft()
        except ValueError as exc:
            self.query_one("#problem", Static).update(f"Not recorded yet: {exc}.")
            return
        self.dismiss(draft)

    def _typed_anything(self) -> bool:
        return bool(
            self.query_one("#what", TextArea).text.strip()
            or self.query_one("#who", Input).value.strip()
        )

    def action_cancel(self) -> None:
        # A concern half-typed is too important to lose to one stray Escape: ask for a second.
        if self._typed_anything() and not self._discard_armed:
            self._discard_armed = True
            self.query_one("#problem", Static).update(
                "Press Esc again to discard what you typed, or ctrl+s to record it."
            )
            return
        self.dismiss(None)

    @on(Button.Pressed, "#record")
    def _record_pressed(self) -> None:
        self.action_record()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
