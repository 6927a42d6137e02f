"""The theme vocabulary: add, edit, retire and remove the themes that findings are tagged with."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from schemas.audit import Actor
from schemas.learning import ThemeIn, ThemeOut
from schemas.text import friendly_message
from workbench.services.themes import delete_unused_theme, list_themes, save_theme
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected

# (key, heading) in the order the columns appear.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("label", "Label"),
    ("code", "Code"),
    ("active", "Status"),
    ("keywords", "Keywords"),
)
ACTIVE, RETIRED = "active", "retired"
KEYWORDS_WIDTH = 60
FIELD_NAMES = {
    "code": "Code",
    "label": "Label",
    "description": "Description",
    "keywords": "Keyword",
}


def parse_keywords(text: str) -> tuple[str, ...]:
    """'missing episode, RHI,, ran away' -> ('missing episode', 'RHI', 'ran away')."""
    return tuple(word.strip() for word in text.split(",") if word.strip())


def code_from_label(label: str) -> str:
    """A code for a new theme when none is typed: 'Drift & delay' -> 'drift-delay'."""
    return re.sub(r"[^a-z0-9]+", "-", label.casefold()).strip("-")[:80]


def theme_row(theme: ThemeOut) -> tuple[str, ...]:
    """One theme as the table shows it, in the order of COLUMNS."""
    keywords = ", ".join(theme.keywords)
    if len(keywords) > KEYWORDS_WIDTH:
        keywords = keywords[: KEYWORDS_WIDTH - 1] + "…"
    return (theme.label, theme.code, ACTIVE if theme.active else RETIRED, keywords)


def first_problem(error: ValidationError) -> str:
    """A validation failure as one line: the field, then what is wrong with it."""
    problem = error.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    return f"{FIELD_NAMES.get(field, field)}: {friendly_message(problem)}"


class ThemeDialog(ModalScreen[ThemeIn | None]):
    """A new theme (its code asked for) or an existing one (its code fixed: tags point at it).

    Dismisses with the theme to save, or None."""

    CSS_PATH = "vocabulary_screen.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save the theme", id="theme.save"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="theme.cancel"),
    ]

    def __init__(self, theme: ThemeOut | None = None, taken: Collection[str] = ()) -> None:
        super().__init__()
        self._theme = theme
        self._taken = frozenset(taken)

    def compose(self) -> ComposeResult:
        theme = self._theme
        with Vertical(id="dialog") as dialog:
            dialog.border_title = f"Edit theme {theme.code}" if theme else "New theme"
            dialog.border_subtitle = "ctrl+s saves · esc cancels"
            if theme is None:
                yield Label("Code (lower-case letters, digits, '-'; fixed once saved)")
                yield Input(placeholder="made from the label if left blank", id="code")
            yield Label("Label")
            yield Input(theme.label if theme else "", id="label")
            yield Label("Description")
            yield TextArea(theme.description if theme else "", id="description")
            yield Label("Keywords and synonyms, separated by commas (they drive suggestions)")
            yield Input(", ".join(theme.keywords) if theme else "", id="keywords")
            yield Static("", id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#code" if self._theme is None else "#label", Input).focus()

    def draft(self) -> ThemeIn:
        """What the form holds; ValueError in plain words when something is missing or wrong."""
        label = self.query_one("#label", Input).value.strip()
        if not label:
            raise ValueError("give the theme a label")
        if self._theme is None:
            code = self.query_one("#code", Input).value.strip() or code_from_label(label)
            if code in self._taken:
                raise ValueError(f"a theme with the code {code} already exists: edit that one")
        else:
            code = self._theme.code
        try:
            return ThemeIn(
                code=code,
                label=label,
                description=self.query_one("#description", TextArea).text.strip(),
                keywords=parse_keywords(self.query_one("#keywords", Input).value),
                active=self._theme.active if self._theme else True,
            )
        except ValidationError as exc:
            raise ValueError(first_problem(exc)) from None

    def action_save(self) -> None:
        try:
            theme = self.draft()
        except ValueError as exc:
            self.query_one("#problem", Static).update(f"Not saved yet: {exc}.")
            return
        self.dismiss(theme)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class VocabularyScreen(Screen[None]):
    """Lists every theme, retired ones too. Reads and writes happen in workers."""

    CSS_PATH = "vocabulary_screen.tcss"
    BINDINGS = [
        Binding("n", "new", "New", tooltip="Add a theme to the vocabulary", id="vocabulary.new"),
        Binding(
            "e",
            "edit",
            "Edit",
            tooltip="Change the highlighted theme's label, description or keywords (Enter too)",
            id="vocabulary.edit",
        ),
        Binding(
            "x",
            "retire",
            "Retire/restore",
            tooltip="Retire the theme (stays where used, no longer offered), or restore it",
            id="vocabulary.retire",
        ),
        Binding(
            "delete",
            "remove",
            "Delete",
            tooltip="Remove the highlighted theme, only if nothing is tagged with it (asks twice)",
            id="vocabulary.delete",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Read the vocabulary again",
            id="vocabulary.refresh",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the audits", id="vocabulary.back"),
    ]

    @dataclass
    class Listed(Message):
        themes: list[ThemeOut]
        select: str | None = None

    @dataclass
    class Saved(Message):
        theme: ThemeOut
        said: str

    @dataclass
    class Deleted(Message):
        code: str

    @dataclass
    class Failed(Message):
        """A read or write failed or was refused; `reason` is one line in plain words."""

        doing: str
        reason: str

    def __init__(self, factory: sessionmaker[Session], actor: Actor) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self.themes: list[ThemeOut] = []
        self._delete_armed: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable[str](id="vocabulary", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail", markup=False)
        yield Static("", id="message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Theme vocabulary"
        table = self.query_one("#vocabulary", DataTable)
        for key, heading in COLUMNS:
            table.add_column(heading, key=key)
        self.action_refresh()

    # -- reading -----------------------------------------------------------------------------

    def action_refresh(self, select: str | None = None) -> None:
        self.query_one("#vocabulary", DataTable).loading = True
        self.load_themes(select)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocabulary.load")
    def load_themes(self, select: str | None = None) -> None:
        try:
            message: Message = self.Listed(list_themes(self._factory), select)
        except EXPECTED_FAILURES as exc:
            message = self.Failed("read the vocabulary", explain(exc))
        self.post_message(message)

    @on(Listed)
    def _show(self, event: Listed) -> None:
        table = self.query_one("#vocabulary", DataTable)
        table.loading = False
        before = self.highlighted()
        self.themes = event.themes
        table.clear()
        for theme in event.themes:
            table.add_row(*theme_row(theme), key=theme.code)
        wanted = event.select or (before.code if before else None)
        codes = [theme.code for theme in event.themes]
        if wanted in codes:
            table.move_cursor(row=codes.index(wanted))
        self._describe()

    def highlighted(self) -> ThemeOut | None:
        table = self.query_one("#vocabulary", DataTable)
        if not self.themes or not 0 <= table.cursor_row < len(self.themes):
            return None
        return self.themes[table.cursor_row]

    @on(DataTable.RowHighlighted, "#vocabulary")
    def _highlighted(self) -> None:
        self._delete_armed = None
        self._describe()

    def _describe(self) -> None:
        theme = self.highlighted()
        detail = self.query_one("#detail", Static)
        if theme is None:
            detail.update("No themes yet: n adds one.")
            return
        status = "active" if theme.active else "retired: kept where used, no longer offered"
        lines = [
            f"{theme.label} ({theme.code}) · {status}",
            theme.description or "No description.",
            f"Keywords: {', '.join(theme.keywords) or 'none (only the label is matched)'}",
        ]
        detail.update("\n".join(lines))

    def _say(self, text: str) -> None:
        self.query_one("#message", Static).update(text)

    # -- changing ----------------------------------------------------------------------------

    def action_new(self) -> None:
        taken = [theme.code for theme in self.themes]
        self.app.push_screen(ThemeDialog(None, taken), self._edited)

    def action_edit(self) -> None:
        theme = self.highlighted()
        if theme is None:
            self._say("No theme to edit: n adds one.")
            return
        self.app.push_screen(ThemeDialog(theme), self._edited)

    @on(DataTable.RowSelected, "#vocabulary")
    def _row_selected(self) -> None:
        self.action_edit()

    def _edited(self, theme: ThemeIn | None) -> None:
        if theme is not None:
            self.store(theme, f"Saved {theme.label}.")

    def action_retire(self) -> None:
        theme = self.highlighted()
        if theme is None:
            return
        change = ThemeIn.model_validate(theme.model_dump(exclude={"id"}))
        if theme.active:
            said = f"Retired {theme.label}: it stays where used and is no longer offered."
        else:
            said = f"Restored {theme.label}: it is offered again."
        self.store(change.model_copy(update={"active": not theme.active}), said)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocabulary.save")
    def store(self, theme: ThemeIn, said: str) -> None:
        try:
            message: Message = self.Saved(save_theme(self._factory, self._actor, theme), said)
        except EXPECTED_FAILURES as exc:
            message = self.Failed(f"save {theme.code}", explain(exc))
        self.post_message(message)

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        self._say(event.said)
        self.action_refresh(select=event.theme.code)

    def action_remove(self) -> None:
        theme = self.highlighted()
        if theme is None:
            return
        if self._delete_armed != theme.code:
            # Removing is for a theme added by mistake; ask once more before it goes.
            self._delete_armed = theme.code
            self._say(f"Press Delete again to remove {theme.label} ({theme.code}).")
            return
        self._delete_armed = None
        self.remove_theme(theme.code)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vocabulary.delete")
    def remove_theme(self, code: str) -> None:
        try:
            delete_unused_theme(self._factory, self._actor, code)
        except EXPECTED_FAILURES as exc:
            self.post_message(self.Failed(f"delete {code}", explain(exc)))
        else:
            self.post_message(self.Deleted(code))

    @on(Deleted)
    def _deleted(self, event: Deleted) -> None:
        self._say(f"Deleted {event.code}.")
        self.action_refresh()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.query_one("#vocabulary", DataTable).loading = False
        self._say(f"Could not {event.doing}: {event.reason}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        doing = {
            "vocabulary.load": "read the vocabulary",
            "vocabulary.save": "save the theme",
            "vocabulary.delete": "delete the theme",
        }
        if event.worker.group in doing:
            self.post_message(
                self.Failed(doing[event.worker.group], unexpected(event.worker.error))
            )

    def action_back(self) -> None:
        self.dismiss(None)
