"""Tagging a finding, voice or moderated grade with themes: suggested, never applied unasked.

`ThemePicker` is the dialog; `TagFlow` reads what it needs in a worker, opens it over any screen
and stores exactly what the user confirmed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from schemas.audit import Actor
from schemas.learning import TaggedKind, ThemeOut, ThemeSuggestion
from workbench.services.themes import list_themes, set_tags, suggest_for_text, tags_of
from workbench.tui.feedback import explain

SUGGESTION_LIMIT = 5
RETIRED_MARK = "retired"


def quoted(words: Iterable[str]) -> str:
    return ", ".join(f"“{word}”" for word in words)


def themes_line(codes: Sequence[str], labels: dict[str, str]) -> str:
    """The one line that lists applied themes by label ("Themes: A, B"), or "" for none."""
    return f"Themes: {', '.join(labels.get(code, code) for code in codes)}" if codes else ""


@dataclass(frozen=True)
class PickerEntry:
    """One theme as the picker lists it, with the suggestion that put it first (if any)."""

    theme: ThemeOut
    suggestion: ThemeSuggestion | None = None

    def prompt(self) -> Text:
        text = Text(self.theme.label)
        if not self.theme.active:
            text.append(f"  ({RETIRED_MARK})", style="dim italic")
        if self.suggestion is not None:
            text.append(f"  — suggested: matched {quoted(self.suggestion.matched)}", style="bold")
        return text

    def matches(self, needle: str) -> bool:
        """Whether the filter text appears in the label, code or a keyword (any case)."""
        if not needle:
            return True
        words = (self.theme.label, self.theme.code, *self.theme.keywords)
        return any(needle in word.casefold() for word in words)


def picker_entries(
    vocabulary: Iterable[ThemeOut],
    current: Iterable[str],
    suggestions: Iterable[ThemeSuggestion],
) -> list[PickerEntry]:
    """Suggested themes first (best first), then the other active themes by label; a retired
    theme only when it is already applied, so it can be seen and taken off."""
    by_code = {theme.code: theme for theme in vocabulary}
    applied = set(current)
    entries: list[PickerEntry] = []
    listed: set[str] = set()
    for suggestion in suggestions:
        theme = by_code.get(suggestion.code)
        if theme is not None and theme.active and theme.code not in listed:
            entries.append(PickerEntry(theme, suggestion))
            listed.add(theme.code)
    for theme in sorted(by_code.values(), key=lambda t: (t.label.casefold(), t.code)):
        if theme.code not in listed and (theme.active or theme.code in applied):
            entries.append(PickerEntry(theme))
    return entries


class ThemePicker(ModalScreen[tuple[str, ...] | None]):
    """Tick the themes for one target. Dismisses with the ticked codes (sorted), or None.

    The current tags start ticked; suggestions are listed first with the words that matched
    but start unticked: the user decides."""

    CSS_PATH = "theme_picker.tcss"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "apply",
            "Apply",
            tooltip="Tag with exactly the ticked themes",
            id="themes.apply",
        ),
        Binding(
            "a",
            "accept_suggestions",
            "Tick suggested",
            tooltip="Tick every suggested theme (from the list; ctrl+s still applies them)",
            id="themes.accept",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Narrow the list by label or keyword",
            id="themes.filter",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Close without changing the themes",
            id="themes.cancel",
        ),
    ]

    def __init__(
        self,
        vocabulary: Sequence[ThemeOut],
        current: Iterable[str],
        suggestions: Sequence[ThemeSuggestion],
        *,
        subject: str = "",
    ) -> None:
        super().__init__()
        self._subject = subject
        applied = tuple(current)
        self.entries = picker_entries(vocabulary, applied, suggestions)
        known = {entry.theme.code for entry in self.entries}
        # Ticks of themes the filter hides; the list itself holds the ticks of those it shows.
        self._kept = {code for code in applied if code in known}
        self._shown: list[str] = []
        self._suggested = [e.theme.code for e in self.entries if e.suggestion is not None]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = f"Themes: {self._subject}" if self._subject else "Themes"
            dialog.border_subtitle = "space ticks · ctrl+s applies · esc cancels"
            yield Input(placeholder="/ filters by label or keyword", id="filter", compact=True)
            yield SelectionList[str](*self._selections(""), id="themes")
            yield Static("", id="detail", markup=False)
            yield Static("", id="summary", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Apply (ctrl+s)", variant="primary", id="apply")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        listed = self.query_one("#themes", SelectionList)
        listed.focus()
        self._describe(0 if self.entries else None)
        self._summarise()

    def _selections(self, needle: str) -> list[Selection[str]]:
        shown = [entry for entry in self.entries if entry.matches(needle)]
        self._shown = [entry.theme.code for entry in shown]
        return [
            Selection(entry.prompt(), entry.theme.code, entry.theme.code in self._kept)
            for entry in shown
        ]

    def chosen(self) -> tuple[str, ...]:
        """The ticked codes, the ones the filter hides included."""
        listed = self.query_one("#themes", SelectionList)
        hidden = self._kept - set(self._shown)
        return tuple(sorted(hidden | set(listed.selected)))

    # -- filtering and describing ------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._kept = set(self.chosen())
        listed = self.query_one("#themes", SelectionList)
        listed.clear_options()
        listed.add_options(self._selections(event.value.strip().casefold()))
        listed.highlighted = 0 if self._shown else None
        self._describe(0 if self._shown else None)
        self._summarise()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#themes", SelectionList).focus()

    @on(SelectionList.SelectionHighlighted, "#themes")
    def _highlighted(self, event: SelectionList.SelectionHighlighted[str]) -> None:
        self._describe(event.selection_index)

    @on(SelectionList.SelectedChanged, "#themes")
    def _ticked(self) -> None:
        self._summarise()

    def _describe(self, index: int | None) -> None:
        """The highlighted theme in full: the list cuts long lines short."""
        detail = self.query_one("#detail", Static)
        if index is None or index >= len(self._shown):
            detail.update("No theme matches the filter." if self.entries else "No themes.")
            return
        code = self._shown[index]
        entry = next(e for e in self.entries if e.theme.code == code)
        # Why it is suggested first: the one thing the list may have cut short.
        lines = []
        if entry.suggestion is not None:
            lines.append(f"Suggested: the text says {quoted(entry.suggestion.matched)}")
        if not entry.theme.active:
            lines.append("Retired: it can stay where it is but not be added again.")
        lines.append(entry.theme.description or entry.theme.label)
        if entry.theme.keywords:
            lines.append(f"Keywords: {', '.join(entry.theme.keywords)}")
        detail.update("\n".join(lines))

    def _summarise(self) -> None:
        chosen = self.chosen()
        waiting = [code for code in self._suggested if code not in chosen]
        text = f"{len(chosen)} ticked"
        if waiting:
            text += f" · {len(waiting)} suggested, not ticked (a ticks them)"
        self.query_one("#summary", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def action_accept_suggestions(self) -> None:
        if not self._suggested:
            self.notify("Nothing is suggested for this text.", timeout=3)
            return
        listed = self.query_one("#themes", SelectionList)
        self._kept |= set(self._suggested)
        for code in self._suggested:
            if code in self._shown:
                listed.select(code)
        self._summarise()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_apply(self) -> None:
        self.dismiss(self.chosen())

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


# -- the flow: read, pick, store -------------------------------------------------------------


@dataclass(frozen=True)
class Tagging:
    """What the picker needs for one target, read in a worker."""

    kind: TaggedKind
    target_id: int
    subject: str
    vocabulary: list[ThemeOut]
    current: tuple[str, ...]
    suggestions: list[ThemeSuggestion]

    @property
    def labels(self) -> dict[str, str]:
        return {theme.code: theme.label for theme in self.vocabulary}


def read_tagging(
    factory: sessionmaker[Session], kind: TaggedKind, target_id: int, text: str, subject: str
) -> Tagging:
    """Blocking: call in a worker. `text` is what is on screen now, saved or not."""
    return Tagging(
        kind=kind,
        target_id=target_id,
        subject=subject,
        vocabulary=list_themes(factory),
        current=tags_of(factory, kind, target_id),
        suggestions=suggest_for_text(factory, text, limit=SUGGESTION_LIMIT),
    )


Tagged = Callable[[Tagging, tuple[str, ...]], None]


class TagFlow:
    """Opens the picker over `screen` and stores the confirmed themes in a worker; `on_tagged`
    then runs on the UI thread with the codes now stored."""

    def __init__(
        self,
        screen: Screen[Any],
        factory: sessionmaker[Session],
        actor: Actor,
        on_tagged: Tagged,
    ) -> None:
        self._screen = screen
        self._factory = factory
        self._actor = actor
        self._on_tagged = on_tagged

    def offer(self, tagging: Tagging) -> None:
        if isinstance(self._screen.app.screen, ThemePicker):
            return  # a second key press before the first picker opened
        picker = ThemePicker(
            tagging.vocabulary, tagging.current, tagging.suggestions, subject=tagging.subject
        )
        self._screen.app.push_screen(picker, lambda codes: self._chosen(tagging, codes))

    def _chosen(self, tagging: Tagging, codes: tuple[str, ...] | None) -> None:
        if codes is None:
            return
        if set(codes) == set(tagging.current):
            self._screen.notify(f"Themes on {tagging.subject} unchanged.", timeout=3)
            return

        def store() -> None:
            try:
                stored = set_tags(
                    self._factory, self._actor, tagging.kind, tagging.target_id, codes
                )
            except Exception as exc:  # any failure is one line for the user, tags unchanged
                self._screen.app.call_from_thread(self._failed, tagging, explain(exc))
            else:
                self._screen.app.call_from_thread(self._stored, tagging, stored)

        self._screen.run_worker(
            store, thread=True, exclusive=True, exit_on_error=False, group="themes.store"
        )

    def _stored(self, tagging: Tagging, codes: tuple[str, ...]) -> None:
        self._on_tagged(tagging, codes)
        line = themes_line(codes, tagging.labels) or "Themes: none"
        self._screen.notify(f"{tagging.subject}: {line}.", title="Themes saved", timeout=4)

    def _failed(self, tagging: Tagging, reason: str) -> None:
        self._screen.notify(
            f"Themes on {tagging.subject} not changed: {reason}",
            title="Themes not saved",
            severity="error",
        )
