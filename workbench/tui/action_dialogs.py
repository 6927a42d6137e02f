"""The action plan's dialogs: a new action, a progress update, a new due date.

Each only collects what was typed; the actions screen saves it and, when the save is
refused, opens the dialog again with the same values and the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from schemas.audit import AgencyOut
from schemas.learning import (
    ActionIn,
    ActionOut,
    ActionStatus,
    ActionUpdateIn,
    RecommendationOut,
)
from workbench.tui.learning_dialog import DATE_HINT, first_problem, iso, parse_iso_day

_T = TypeVar("_T")


def day_words(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def status_choice(status: ActionStatus) -> str:
    """`On track (Green)`: the word and the RAG colour it is reported as."""
    if status is ActionStatus.COMPLETE:
        return status.label
    return f"{status.label} ({status.rag})"


class _ActionForm(ModalScreen[_T]):
    """Save with ctrl+s, cancel with escape; a problem shows as one line above the buttons."""

    CSS_PATH = "action_dialogs.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save what is in the form", id="action.save"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="action.cancel"),
    ]
    TITLE_TEXT = ""

    def __init__(self, problem: str = "") -> None:
        super().__init__()
        self._problem = problem

    def fields(self) -> ComposeResult:
        """The form's own fields, above the problem line and the buttons."""
        yield from ()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as box:
            box.border_title = self.TITLE_TEXT
            yield from self.fields()
            yield Static(self._problem, id="problem", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

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

    def _text(self, selector: str) -> str:
        return self.query_one(selector, TextArea).text.strip()

    def _input(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class ActionDialog(_ActionForm[ActionIn | None]):
    """A new action: what, who owns it (person and agency), when, and the route upward."""

    TITLE_TEXT = "New action"

    def __init__(
        self,
        agencies: Sequence[AgencyOut],
        recommendations: Sequence[RecommendationOut] = (),
        *,
        audit_id: int | None = None,
        draft: ActionIn | None = None,
        agency: str | None = None,
        problem: str = "",
    ) -> None:
        super().__init__(problem)
        self._draft = draft
        self._audit_id = audit_id
        self._agency = draft.owner_agency if draft else agency
        self._agencies = [a for a in agencies if a.active or a.code == self._agency]
        self._recommendations = tuple(recommendations)

    def fields(self) -> ComposeResult:
        draft = self._draft
        yield Label("What is to be done (required)", classes="field-label")
        yield TextArea(draft.description if draft else "", id="description")
        with Horizontal(classes="pair"):
            with Vertical(classes="half"):
                yield Label("Owner (name)", classes="field-label")
                yield Input(draft.owner_name if draft else "", id="owner")
            with Vertical(classes="half"):
                yield Label("Owner's agency", classes="field-label")
                known = {a.code for a in self._agencies}
                yield Select[str](
                    [(a.name, a.code) for a in self._agencies],
                    prompt="Choose the agency",
                    value=self._agency if self._agency in known else Select.NULL,
                    id="agency",
                )
        yield Label(f"Due on ({DATE_HINT})", classes="field-label")
        yield Input(iso(draft.due_on) if draft else "", id="due", placeholder=DATE_HINT)
        yield Label("Escalation route (if it stalls)", classes="field-label")
        yield Input(draft.escalation_route if draft else "", id="escalation")
        if self._audit_id is not None and self._recommendations:
            yield Label("Recommendation it answers (optional)", classes="field-label")
            yield Select[int](
                [(f"{r.number}. {r.text}", r.id) for r in self._recommendations],
                prompt="No recommendation",
                value=draft.recommendation_id
                if draft and draft.recommendation_id is not None
                else Select.NULL,
                id="recommendation",
            )

    def on_mount(self) -> None:
        self.query_one("#description", TextArea).focus()

    def value(self) -> ActionIn | None:
        description = self._text("#description")
        if not description:
            raise ValueError("say what is to be done")
        owner = self._input("#owner")
        if not owner:
            raise ValueError("name the person who owns the action")
        agency = self.query_one("#agency", Select).value
        if not isinstance(agency, str):
            raise ValueError("choose the owner's agency")
        due = parse_iso_day(self.query_one("#due", Input).value, "Due on")
        recommendation: int | None = None
        if self.query("#recommendation"):
            chosen = self.query_one("#recommendation", Select).value
            recommendation = chosen if isinstance(chosen, int) else None
        return ActionIn(
            description=description,
            owner_name=owner,
            owner_agency=agency,
            due_on=due,
            audit_id=self._audit_id,
            recommendation_id=recommendation,
            escalation_route=self._input("#escalation"),
        )


class ActionUpdateDialog(_ActionForm[ActionUpdateIn | None]):
    """A dated progress note on one action; it may move the status and add evidence of impact."""

    TITLE_TEXT = "Update the action"

    def __init__(
        self,
        action: ActionOut,
        *,
        today: dt.date,
        draft: ActionUpdateIn | None = None,
        problem: str = "",
    ) -> None:
        super().__init__(problem)
        self.action = action
        self._today = today
        self._draft = draft

    def fields(self) -> ComposeResult:
        action, draft = self.action, self._draft
        yield Static(action.minute, id="minute", markup=False)
        yield Static(
            f"Now: {status_choice(action.status)}, due {day_words(action.due_on)}",
            id="now",
            markup=False,
        )
        with Horizontal(classes="pair"):
            with Vertical(classes="half"):
                yield Label(f"Update dated ({DATE_HINT})", classes="field-label")
                yield Input(iso(draft.on if draft else self._today), id="on")
            with Vertical(classes="half"):
                yield Label("New status (optional)", classes="field-label")
                yield Select[str](
                    [(status_choice(s), s.value) for s in ActionStatus],
                    prompt=f"Keep: {action.status.label}",
                    value=draft.status.value if draft and draft.status else Select.NULL,
                    id="status",
                )
        yield Label("Progress (required)", classes="field-label")
        yield TextArea(draft.text if draft else "", id="text")
        yield Label("Evidence of impact (needed to complete)", classes="field-label")
        evidence = draft.evidence_of_impact if draft else None
        yield TextArea(action.evidence_of_impact if evidence is None else evidence, id="evidence")
        yield Label("Escalation route", classes="field-label")
        escalation = draft.escalation_route if draft else None
        yield Input(action.escalation_route if escalation is None else escalation, id="escalation")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def value(self) -> ActionUpdateIn | None:
        on_day = parse_iso_day(self.query_one("#on", Input).value, "Update dated")
        text = self._text("#text")
        if not text:
            raise ValueError("say what has happened since the last update")
        status = self.query_one("#status", Select).value
        evidence = self._text("#evidence")
        escalation = self._input("#escalation")
        return ActionUpdateIn(
            on=on_day,
            text=text,
            status=ActionStatus(status) if isinstance(status, str) else None,
            # Unchanged fields are left out, so the update records only what moved.
            evidence_of_impact=None if evidence == self.action.evidence_of_impact else evidence,
            escalation_route=None if escalation == self.action.escalation_route else escalation,
        )


class DueDateDialog(_ActionForm[dt.date | None]):
    """A new due date for one action; the old one stays in the audit history."""

    TITLE_TEXT = "Change the due date"

    def __init__(
        self, action: ActionOut, *, draft: dt.date | None = None, problem: str = ""
    ) -> None:
        super().__init__(problem)
        self.action = action
        self._draft = draft

    def fields(self) -> ComposeResult:
        yield Static(self.action.minute, id="minute", markup=False)
        yield Label(
            f"Due on ({DATE_HINT}); now {day_words(self.action.due_on)}", classes="field-label"
        )
        yield Input(iso(self._draft or self.action.due_on), id="due")

    def on_mount(self) -> None:
        self.query_one("#due", Input).focus()

    def value(self) -> dt.date | None:
        return parse_iso_day(self.query_one("#due", Input).value, "Due on")

    @on(Input.Submitted, "#due")
    def _due_submitted(self) -> None:
        self.action_save()
