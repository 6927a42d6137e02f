"""The export dialogs: what to write, for whom and where; progress; identifiers found."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from platformdirs import user_documents_dir
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from schemas.learning import LearningFilter
from workbench.services.identifier_scan import IdentifierHit

# The column the recipient is stored in holds this much; the Input stops there too.
RECIPIENT_LIMIT = 200
SLUG_LIMIT = 60
DATE_HINT = "YYYY-MM-DD"
# Steps every export reports: gathering, checking for identifiers, rendering, writing.
EXPECTED_STEPS = 4
# Terminals shorter than this get the packed layout (an 80x24 terminal fits it whole).
SHORT_BELOW = 30


class ExportScope(StrEnum):
    """Where the dialog was opened, which decides what it offers."""

    AUDIT = "audit"
    LEARNING_LOG = "learning-log"
    SUMMARY = "summary"


AUDIT_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("Audit report", "report"),
    ("One-page briefing", "briefing"),
)
LOG_FORMATS: tuple[tuple[str, str], ...] = (
    ("Word (.docx)", "docx"),
    ("Excel (.xlsx)", "xlsx"),
    ("CSV (.csv)", "csv"),
)
DOCUMENT_WORDS = {
    "report": "the audit report",
    "briefing": "the briefing",
    "learning-log": "the learning log",
    "summary": "the subgroup summary",
}


def default_folder() -> Path:
    """The user's documents folder, or the current directory where there is none."""
    documents = Path(user_documents_dir())
    return documents if documents.is_dir() else Path.cwd()


def slug(text: str) -> str:
    """'CSE audit, spring 2026' -> 'cse-audit-spring-2026': safe in a file name anywhere."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:SLUG_LIMIT].rstrip("-")


def _last_day(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def six_months_to(end: dt.date) -> dt.date:
    """The first day of the six months ending on `end` (both days counted): the day after
    the same date six months before, so a period ending on 30 June starts on 1 January."""
    month = end.month - 6
    year = end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    last = _last_day(year, month)
    # A month's end counts back to a month's end; 31 August back to the end of February.
    ends_month = end.day == _last_day(end.year, end.month)
    day = last if ends_month else min(end.day, last)
    return dt.date(year, month, day) + dt.timedelta(days=1)


def parse_day(text: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        shown = text.strip() or "an empty date"
        raise ValueError(f"{label}: {shown!r} is not a date like 2026-05-24") from None


@dataclass(frozen=True)
class ExportSubject:
    """What can be exported from the screen the dialog was opened on."""

    scope: ExportScope
    today: dt.date
    folder: Path
    title: str = ""
    audit_id: int | None = None
    where: LearningFilter | None = None
    selection: str = ""

    def default_name(
        self, choice: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> str:
        """A file name that says what the document is: audit title, log date or period."""
        if self.scope is ExportScope.AUDIT:
            stem = slug(self.title) or f"audit-{self.audit_id}"
            return f"{stem}-{choice}.docx"
        if self.scope is ExportScope.LEARNING_LOG:
            return f"learning-log-{self.today.isoformat()}.{choice}"
        start = start or six_months_to(self.today)
        end = end or self.today
        return f"subgroup-summary-{start.isoformat()}-to-{end.isoformat()}.docx"


@dataclass(frozen=True)
class ExportRequest:
    """One export as asked for: which document, for whom, where, and its format or period."""

    kind: str
    recipient: str
    out: Path
    file_format: str = "docx"
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def what(self) -> str:
        return DOCUMENT_WORDS.get(self.kind, "the document")


class ExportDialog(ModalScreen[ExportRequest | None]):
    """Asks what to export, for whom and where; dismisses with the request, or None."""

    CSS_PATH = "export_dialog.tcss"
    # On a short terminal the dialog packs tighter and leaves its keys to the footer.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_BELOW, "-tall")]
    BINDINGS = [
        Binding(
            "ctrl+s",
            "export",
            "Export",
            tooltip="Check the document for identifiers, write it and record who it is for",
            id="export.go",
        ),
        Binding(
            "escape", "cancel", "Cancel", tooltip="Close without exporting", id="export.cancel"
        ),
    ]

    def __init__(
        self, subject: ExportSubject, draft: ExportRequest | None = None, problem: str = ""
    ) -> None:
        super().__init__()
        self.subject = subject
        self._draft = draft
        self._problem = problem
        scope = subject.scope
        if scope is ExportScope.AUDIT:
            self._choice = draft.kind if draft else "report"
        elif scope is ExportScope.LEARNING_LOG:
            self._choice = draft.file_format if draft else "docx"
        else:
            self._choice = "docx"
        self._start = (draft.start if draft else None) or six_months_to(subject.today)
        self._end = (draft.end if draft else None) or subject.today
        # The name suggested last: while the path still holds it, a new choice renames it.
        self._suggested = str(subject.folder / self._file_name())

    def _file_name(self) -> str:
        return self.subject.default_name(self._choice, self._start, self._end)

    def _heading(self) -> tuple[str, str]:
        subject = self.subject
        checked = "It is checked for identifiers before anything is written."
        if subject.scope is ExportScope.AUDIT:
            return f"Export {subject.title or 'the audit'}", f"A Word document to share. {checked}"
        if subject.scope is ExportScope.LEARNING_LOG:
            return "Export the learning log", f"Items: {subject.selection or 'all'}. {checked}"
        return (
            "Export the subgroup summary",
            f"Audits, learning and actions in a period, as Word. {checked}",
        )

    def compose(self) -> ComposeResult:
        title, explain = self._heading()
        scope = self.subject.scope
        with VerticalScroll(id="dialog"):
            yield Static(title, id="title", markup=False)
            yield Static(explain, id="explain", markup=False)
            if scope is ExportScope.SUMMARY:
                with Horizontal(id="period"):
                    with Vertical():
                        yield Label(f"From ({DATE_HINT})", classes="field-label")
                        yield Input(self._start.isoformat(), id="from", placeholder=DATE_HINT)
                    with Vertical():
                        yield Label(f"To ({DATE_HINT}, included)", classes="field-label")
                        yield Input(self._end.isoformat(), id="to", placeholder=DATE_HINT)
            else:
                label = "Document" if scope is ExportScope.AUDIT else "Format"
                options = AUDIT_DOCUMENTS if scope is ExportScope.AUDIT else LOG_FORMATS
                yield Label(label, classes="field-label")
                yield Select[str](options, value=self._choice, allow_blank=False, id="what")
            yield Label(
                "For whom (shown on the document and recorded with it)", classes="field-label"
            )
            yield Input(
                self._draft.recipient if self._draft else "",
                id="recipient",
                placeholder="e.g. Learning and Improvement subgroup",
                max_length=RECIPIENT_LIMIT,
            )
            yield Label("Save as", classes="field-label")
            yield Input(str(self._draft.out) if self._draft else self._suggested, id="path")
            yield Static(self._problem, id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Export (ctrl+s)", variant="primary", id="export")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#recipient", Input).focus()

    # --- the suggested file name follows the choices ---------------------------------------------

    @on(Select.Changed, "#what")
    def _what_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self._choice:
            before = self._choice
            self._choice = event.value
            self._rename(before)

    @on(Input.Changed, "#from, #to")
    def _period_changed(self) -> None:
        try:
            start, end = self._period()
        except ValueError:
            return
        self._start, self._end = start, end
        self._rename(None)

    def _rename(self, old_format: str | None) -> None:
        path = self.query_one("#path", Input)
        suggested = str(self.subject.folder / self._file_name())
        if path.value == self._suggested:
            path.value = suggested
        elif self.subject.scope is ExportScope.LEARNING_LOG and old_format is not None:
            # A name of their own keeps its stem; only the format's suffix changes with it.
            typed = Path(path.value)
            if typed.suffix.lower() == f".{old_format}":
                path.value = str(typed.with_suffix(f".{self._choice}"))
        self._suggested = suggested

    # --- the request ---------------------------------------------------------------------------

    def _period(self) -> tuple[dt.date, dt.date]:
        start = parse_day(self.query_one("#from", Input).value, "From")
        end = parse_day(self.query_one("#to", Input).value, "To")
        return start, end

    def request(self) -> ExportRequest:
        """What the form holds; ValueError in plain words when something is missing or wrong."""
        scope = self.subject.scope
        start: dt.date | None = None
        end: dt.date | None = None
        if scope is ExportScope.SUMMARY:
            start, end = self._period()
            if start > end:
                raise ValueError(f"the period starts ({start}) after it ends ({end})")
        recipient = " ".join(self.query_one("#recipient", Input).value.split())
        if not recipient:
            raise ValueError("say who the document is for")
        typed = self.query_one("#path", Input).value.strip()
        if not typed:
            raise ValueError("give the file to save it as")
        out = Path(typed).expanduser()
        file_format = self._choice if scope is ExportScope.LEARNING_LOG else "docx"
        suffix = f".{file_format}"
        if not out.suffix:
            out = out.with_name(out.name + suffix)
        elif out.suffix.lower() != suffix:
            raise ValueError(f"the file name ends {out.suffix} but the document is {suffix}")
        if scope is ExportScope.AUDIT:
            kind = self._choice
        else:
            kind = "learning-log" if scope is ExportScope.LEARNING_LOG else "summary"
        return ExportRequest(
            kind=kind, recipient=recipient, out=out, file_format=file_format, start=start, end=end
        )

    def action_export(self) -> None:
        try:
            request = self.request()
        except ValueError as exc:
            self.query_one("#problem", Static).update(f"Not exported yet: {exc}.")
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export")
    def _export_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class ExportProgress(ModalScreen[None]):
    """Shows each step of an export while a worker builds it; the flow closes it."""

    CSS_PATH = "export_dialog.tcss"

    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Exporting {self._what}", id="title", markup=False)
            yield ProgressBar(total=EXPECTED_STEPS, show_eta=False, show_percentage=False, id="bar")
            yield Static("Starting…", id="step", markup=False)

    def step(self, message: str) -> None:
        """One step begun: `message` is what the export is doing now."""
        bar = self.query_one("#bar", ProgressBar)
        if bar.total is not None and bar.progress + 1 > bar.total:
            bar.update(total=bar.progress + 1)
        bar.advance(1)
        self.query_one("#step", Static).update(f"{message}…")


def hits_text(hits: Sequence[IdentifierHit]) -> Text:
    """Each hit as its kind and where it is, then its context with the match masked."""
    text = Text(no_wrap=False, end="")
    for index, hit in enumerate(hits):
        if index:
            text.append("\n")
        text.append(hit.kind, style="bold")
        text.append(f" in {hit.where}\n")
        text.append(f"  {hit.excerpt}", style="italic")
    return text


class IdentifiersDialog(ModalScreen[str | None]):
    """Lists where identifier-like text was found, masked; dismisses with a reason to export
    anyway, or None to go back with nothing written."""

    CSS_PATH = "export_dialog.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_BELOW, "-tall")]
    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Go back",
            tooltip="Write nothing: remove the identifiers first",
            id="identifiers.back",
        ),
        Binding(
            "ctrl+s",
            "override",
            "Export anyway",
            tooltip="Write the document with these in it; the reason goes into the change history",
            id="identifiers.override",
        ),
    ]

    def __init__(self, hits: Sequence[IdentifierHit], what: str) -> None:
        super().__init__()
        self.hits = tuple(hits)
        self._what = what

    def compose(self) -> ComposeResult:
        n = len(self.hits)
        things = (
            "thing that looks like an identifier" if n == 1 else "things that look like identifiers"
        )
        with VerticalScroll(id="dialog"):
            yield Static(f"Not exported: {self._what} holds {n} {things}", id="title", markup=False)
            yield Static(
                "Nothing has been written. Each is shown masked. Go back and take them out of "
                "the audit, or export anyway and say why.",
                id="explain",
                markup=False,
            )
            with VerticalScroll(id="hits"):
                yield Static(hits_text(self.hits), id="hits-text")
            yield Label(
                "Why it must go out as it is (kept in the change history)", classes="field-label"
            )
            yield Input(id="reason", max_length=500)
            yield Static("", id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Go back (esc)", variant="primary", id="back")
                yield Button("Export anyway (ctrl+s)", variant="error", id="override")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_override(self) -> None:
        reason = " ".join(self.query_one("#reason", Input).value.split())
        if not reason:
            self.query_one("#problem", Static).update(
                "Not exported: say why it must go out with these in it, or go back."
            )
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self) -> None:
        self.action_override()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#override")
    def _override_pressed(self) -> None:
        self.action_override()
