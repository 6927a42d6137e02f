"""The learning-item dialogs: a new item from any strand (or one drafted from a theme), an edit.

A dialog only collects what was typed; the caller saves it. When the save fails the caller
opens the dialog again with the same values and the reason, so nothing typed is lost
(`LearningItemFlow` does exactly that for new items)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from schemas.audit import Actor, AgencyOut
from schemas.learning import (
    LearningItemChange,
    LearningItemIn,
    LearningItemOut,
    LearningSource,
    LearningStatus,
    SharedHow,
    ThemeOut,
)
from schemas.text import friendly_message
from workbench.services.learning import create_learning_item
from workbench.tui.feedback import explain

DATE_HINT = "YYYY-MM-DD"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_T = TypeVar("_T")


def parse_iso_day(text: str, what: str, *, required: bool = True) -> dt.date | None:
    """A date typed as 2026-11-23; blank is None unless `required`. ValueError in plain words."""
    text = text.strip()
    if not text:
        if required:
            raise ValueError(f"{what}: give a date as {DATE_HINT}")
        return None
    try:
        if not _ISO_DAY.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a date like 2026-11-23") from None


def iso(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def status_label(status: LearningStatus) -> str:
    return status.value.replace("-", " ").capitalize()


def shared_label(how: SharedHow) -> str:
    return how.value.capitalize()


def first_problem(error: ValidationError) -> str:
    """One pydantic error as the line the dialog shows."""
    detail = error.errors()[0]
    field = ".".join(str(p) for p in detail["loc"]).replace("_", " ")
    return f"{field}: {friendly_message(detail)}" if field else friendly_message(detail)


@dataclass(frozen=True)
class LearningEdit:
    """What the edit dialog holds: every field a person can change on an item."""

    learning: str
    evidence: str
    themes: tuple[str, ...]
    agencies: tuple[str, ...]
    shared_how: tuple[SharedHow, ...]
    impact_evidence: str
    reaudit_on: dt.date | None
    status: LearningStatus

    @classmethod
    def of(cls, item: LearningItemOut) -> LearningEdit:
        return cls(
            learning=item.learning,
            evidence=item.evidence,
            themes=item.themes,
            agencies=item.agencies,
            shared_how=item.shared_how,
            impact_evidence=item.impact_evidence,
            reaudit_on=item.reaudit_on,
            status=item.status,
        )

    def change_to(self, item: LearningItemOut) -> LearningItemChange:
        """The change from `item` to this. An unchanged status is left out, so a signed-off
        item is only reopened when someone chose another status."""
        return LearningItemChange(
            learning=self.learning,
            evidence=self.evidence,
            themes=self.themes,
            agencies=self.agencies,
            shared_how=self.shared_how,
            impact_evidence=self.impact_evidence,
            reaudit_on=self.reaudit_on,
            clear_reaudit=self.reaudit_on is None and item.reaudit_on is not None,
            status=None if self.status is item.status else self.status,
        )


class _LearningForm(ModalScreen[_T]):
    """The fields a new item and an edit share; subclasses add their own around them."""

    CSS_PATH = "learning_dialog.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save this learning item", id="learning.save"),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Close without saving anything",
            id="learning.cancel",
        ),
    ]

    def __init__(
        self,
        themes: Sequence[ThemeOut],
        agencies: Sequence[AgencyOut],
        *,
        chosen_themes: Iterable[str],
        chosen_agencies: Iterable[str],
        shared: Iterable[SharedHow],
        problem: str = "",
    ) -> None:
        super().__init__()
        self._themes_chosen = set(chosen_themes)
        self._agencies_chosen = set(chosen_agencies)
        self._shared = set(shared)
        # Retired themes and agencies stay on offer only where the item already has them.
        self._themes = [t for t in themes if t.active or t.code in self._themes_chosen]
        self._agencies = [a for a in agencies if a.active or a.code in self._agencies_chosen]
        self._problem = problem

    def _choices(self, learning: str, evidence: str, impact: str, reaudit: str) -> ComposeResult:
        yield Label("Learning (required)", classes="field-label")
        yield TextArea(learning, id="learning")
        yield Label("Evidence", classes="field-label")
        yield TextArea(evidence, id="evidence")
        with Horizontal(id="lists"):
            with Vertical(classes="list"):
                yield Label("Themes", classes="field-label")
                yield SelectionList[str](
                    *(
                        Selection(t.label, t.code, t.code in self._themes_chosen)
                        for t in self._themes
                    ),
                    id="themes",
                    compact=True,
                )
            with Vertical(classes="list"):
                yield Label("Agencies", classes="field-label")
                yield SelectionList[str](
                    *(
                        Selection(a.name, a.code, a.code in self._agencies_chosen)
                        for a in self._agencies
                    ),
                    id="agencies",
                    compact=True,
                )
            with Vertical(classes="list"):
                yield Label("How shared", classes="field-label")
                yield SelectionList[str](
                    *(Selection(shared_label(h), h.value, h in self._shared) for h in SharedHow),
                    id="shared",
                    compact=True,
                )
        yield Label("Evidence of impact", classes="field-label")
        yield TextArea(impact, id="impact")
        yield Label(f"Re-audit on ({DATE_HINT}, optional)", classes="field-label")
        yield Input(reaudit, id="reaudit", placeholder=DATE_HINT)

    def _ending(self) -> ComposeResult:
        yield Static(self._problem, id="problem", markup=False)
        with Horizontal(id="buttons"):
            yield Button("Save (ctrl+s)", variant="primary", id="save")
            yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#learning", TextArea).focus()

    def _text(self, selector: str) -> str:
        return self.query_one(selector, TextArea).text

    def _ticked(self, selector: str) -> tuple[str, ...]:
        return tuple(sorted(self.query_one(selector, SelectionList).selected))

    def _shared_how(self) -> tuple[SharedHow, ...]:
        ticked = set(self._ticked("#shared"))
        return tuple(h for h in SharedHow if h.value in ticked)

    def _reaudit(self) -> dt.date | None:
        return parse_iso_day(self.query_one("#reaudit", Input).value, "Re-audit", required=False)

    def _learning(self) -> str:
        learning = self._text("#learning").strip()
        if not learning:
            raise ValueError("write the learning, in a sentence or two")
        return learning

    def value(self) -> _T:
        raise NotImplementedError

    def action_save(self) -> None:
        try:
            result = self.value()
        except ValidationError as exc:
            self._show_problem(first_problem(exc))
            return
        except ValueError as exc:
            self._show_problem(str(exc))
            return
        self.dismiss(result)

    def _show_problem(self, problem: str) -> None:
        self.query_one("#problem", Static).update(f"Not saved yet: {problem}.")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class LearningItemDialog(_LearningForm[LearningItemIn | None]):
    """A new learning item. A draft (typed before, or drafted from a recurring theme) fills
    every field and keeps its audit and the findings it rests on."""

    def __init__(
        self,
        draft: LearningItemIn | None,
        themes: Sequence[ThemeOut],
        agencies: Sequence[AgencyOut],
        *,
        today: dt.date,
        problem: str = "",
    ) -> None:
        self._draft = draft
        self._today = today
        super().__init__(
            themes,
            agencies,
            chosen_themes=draft.themes if draft else (),
            chosen_agencies=draft.agencies if draft else (),
            shared=draft.shared_how if draft else (),
            problem=problem,
        )

    def compose(self) -> ComposeResult:
        draft = self._draft
        with VerticalScroll(id="dialog") as box:
            box.border_title = "New learning item"
            if draft is not None and draft.finding_ids:
                count = len(draft.finding_ids)
                yield Static(
                    f"{count} finding{'s' if count != 1 else ''} linked as evidence",
                    id="linked",
                    markup=False,
                )
            with Horizontal(id="when-where"):
                with Vertical():
                    yield Label(f"Raised on ({DATE_HINT})", classes="field-label")
                    yield Input(iso(draft.raised_on if draft else self._today), id="raised")
                with Vertical():
                    yield Label("Source", classes="field-label")
                    yield Select[str](
                        [(s.label, s.value) for s in LearningSource],
                        allow_blank=False,
                        value=(draft.source if draft else LearningSource.CASE_REVIEW).value,
                        id="source",
                    )
            yield from self._choices(
                draft.learning if draft else "",
                draft.evidence if draft else "",
                draft.impact_evidence if draft else "",
                iso(draft.reaudit_on) if draft else "",
            )
            yield from self._ending()
        yield Footer()

    def value(self) -> LearningItemIn | None:
        raised = parse_iso_day(self.query_one("#raised", Input).value, "Raised on")
        learning = self._learning()
        source = str(self.query_one("#source", Select).value)
        return LearningItemIn(
            raised_on=raised,
            source=LearningSource(source),
            learning=learning,
            evidence=self._text("#evidence").strip(),
            # What the dialog does not show is kept from the draft: the audit and the findings.
            audit_id=self._draft.audit_id if self._draft else None,
            finding_ids=self._draft.finding_ids if self._draft else (),
            themes=self._ticked("#themes"),
            agencies=self._ticked("#agencies"),
            shared_how=self._shared_how(),
            impact_evidence=self._text("#impact").strip(),
            reaudit_on=self._reaudit(),
        )


class LearningEditDialog(_LearningForm[LearningEdit | None]):
    """Changes to an item in the log: its words, tags, how it was shared, impact and status."""

    def __init__(
        self,
        item: LearningItemOut,
        themes: Sequence[ThemeOut],
        agencies: Sequence[AgencyOut],
        *,
        typed: LearningEdit | None = None,
        problem: str = "",
    ) -> None:
        self.item = item
        self._typed = typed or LearningEdit.of(item)
        super().__init__(
            themes,
            agencies,
            chosen_themes=self._typed.themes,
            chosen_agencies=self._typed.agencies,
            shared=self._typed.shared_how,
            problem=problem,
        )

    def compose(self) -> ComposeResult:
        typed = self._typed
        with VerticalScroll(id="dialog") as box:
            box.border_title = f"Edit {self.item.reference}"
            yield Label("Status", classes="field-label")
            yield Select[str](
                [(status_label(s), s.value) for s in LearningStatus],
                allow_blank=False,
                value=typed.status.value,
                id="status",
            )
            yield from self._choices(
                typed.learning, typed.evidence, typed.impact_evidence, iso(typed.reaudit_on)
            )
            yield from self._ending()
        yield Footer()

    def value(self) -> LearningEdit | None:
        status = LearningStatus(str(self.query_one("#status", Select).value))
        if status is LearningStatus.SIGNED_OFF and self.item.status is not status:
            raise ValueError("sign an item off from the log with s, which records who and when")
        edit = LearningEdit(
            learning=self._learning(),
            evidence=self._text("#evidence").strip(),
            themes=self._ticked("#themes"),
            agencies=self._ticked("#agencies"),
            shared_how=self._shared_how(),
            impact_evidence=self._text("#impact").strip(),
            reaudit_on=self._reaudit(),
            status=status,
        )
        edit.change_to(self.item)  # the schema's own checks, before the dialog closes
        return edit


class LearningItemFlow:
    """Opens `LearningItemDialog` over `screen` and creates what it returns, in a worker.

    A refused or failed save reopens the dialog with the same values and the reason."""

    def __init__(
        self,
        screen: Screen[Any],
        factory: sessionmaker[Session],
        actor: Actor,
        themes: Sequence[ThemeOut],
        agencies: Sequence[AgencyOut],
        *,
        today: dt.date,
        on_created: Callable[[LearningItemOut], None] | None = None,
    ) -> None:
        self._screen = screen
        self._factory = factory
        self._actor = actor
        self._themes = tuple(themes)
        self._agencies = tuple(agencies)
        self._today = today
        self._on_created = on_created

    def start(self, draft: LearningItemIn | None = None, problem: str = "") -> None:
        dialog = LearningItemDialog(
            draft, self._themes, self._agencies, today=self._today, problem=problem
        )
        self._screen.app.push_screen(dialog, self._drafted)

    def _drafted(self, draft: LearningItemIn | None) -> None:
        if draft is None:
            return

        def save() -> None:
            try:
                item = create_learning_item(self._factory, self._actor, draft)
            except Exception as exc:  # whatever went wrong, the draft goes back to the user
                self._screen.app.call_from_thread(self._failed, draft, explain(exc))
            else:
                self._screen.app.call_from_thread(self._created, item)

        self._screen.run_worker(
            save, thread=True, exclusive=True, exit_on_error=False, group="learning.create"
        )

    def _created(self, item: LearningItemOut) -> None:
        self._screen.notify(f"{item.reference} added to the learning log.", title="Learning saved")
        if self._on_created is not None:
            self._on_created(item)

    def _failed(self, draft: LearningItemIn, reason: str) -> None:
        self._screen.notify(
            f"The learning item was not saved: {reason}",
            title="Learning not saved",
            severity="error",
        )
        self.start(draft, problem=f"Not saved: {reason}")
