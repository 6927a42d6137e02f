"""Dialogs the return screen raises: a finding someone else saved first, and a refused submit."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schemas.audit import UnansweredCriterion
from schemas.tools import GradeScale
from workbench.tui.autosave import Conflict, stored_values

Choice = Literal["mine", "theirs"]

FIELD_LABELS = {
    "grade": "Grade",
    "evidence": "Evidence",
    "strengths": "Strengths",
    "areas_for_development": "Areas for development",
}


def _shown(scale: GradeScale, name: str, value: str) -> str:
    if name == "grade":
        return scale.label(value) if value else "(no grade)"
    return value if value.strip() else "(empty)"


class ConflictDialog(ModalScreen[Choice | None]):
    """Shows the other person's values beside mine; dismisses with 'mine', 'theirs' or None."""

    CSS_PATH = "return_dialogs.tcss"
    BINDINGS = [
        Binding(
            "m",
            "choose('mine')",
            "Keep mine",
            tooltip="Save my values over theirs",
            id="conflict.mine",
        ),
        Binding(
            "t",
            "choose('theirs')",
            "Take theirs",
            tooltip="Drop my unsaved values and show theirs",
            id="conflict.theirs",
        ),
        Binding(
            "escape",
            "later",
            "Decide later",
            tooltip="Keep my text on screen unsaved; ctrl+s brings this back",
            id="conflict.later",
        ),
    ]

    def __init__(self, conflict: Conflict, scale: GradeScale) -> None:
        super().__init__()
        self._conflict = conflict
        self._scale = scale

    def compose(self) -> ComposeResult:
        theirs = self._conflict.theirs
        stored = stored_values(theirs)
        with VerticalScroll(id="dialog"):
            yield Static("Someone else saved this criterion first", classes="title")
            yield Static(
                f"{theirs.updated_by} saved {theirs.criterion_id} at "
                f"{theirs.updated_at:%H:%M:%S} (version {theirs.version}). "
                "Your change is not saved yet.",
                markup=False,
            )
            for name, mine in self._conflict.mine.items():
                yield Static(FIELD_LABELS[name], classes="field")
                yield Static(
                    Text.assemble(("Theirs: ", "bold"), _shown(self._scale, name, stored[name])),
                    classes="theirs",
                )
                yield Static(
                    Text.assemble(("Yours:  ", "bold"), _shown(self._scale, name, mine)),
                    classes="mine",
                )
            yield Static("m keeps yours, t takes theirs, Esc decides later.", classes="hint")
        yield Footer()

    def action_choose(self, choice: Choice) -> None:
        self.dismiss(choice)

    def action_later(self) -> None:
        self.dismiss(None)


class UnansweredDialog(ModalScreen[str | None]):
    """Lists the criteria that stop a submit; dismisses with the one to go to, or None."""

    CSS_PATH = "return_dialogs.tcss"
    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close",
            tooltip="Back to the return without moving",
            id="unanswered.close",
        ),
    ]

    def __init__(self, unanswered: list[UnansweredCriterion]) -> None:
        super().__init__()
        self._unanswered = unanswered

    def compose(self) -> ComposeResult:
        count = len(self._unanswered)
        with VerticalScroll(id="dialog"):
            yield Static(
                f"Not submitted: {count} {'criterion needs' if count == 1 else 'criteria need'} "
                "an answer",
                classes="title",
            )
            yield Static("Enter goes to the one highlighted.", classes="hint")
            yield OptionList(
                *(
                    Option(
                        Text.assemble((f"{u.criterion_id}  ", "bold"), u.question), u.criterion_id
                    )
                    for u in self._unanswered
                ),
                id="unanswered",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#unanswered", OptionList).focus()

    @on(OptionList.OptionSelected, "#unanswered")
    def _go_to(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_id)

    def action_close(self) -> None:
        self.dismiss(None)
