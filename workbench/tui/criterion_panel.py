"""The current criterion: question, guidance, typical evidence, the scale and the text fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from schemas.tools import Criterion, GradeScale

# TextArea id -> finding field.
TEXT_FIELDS = {
    "evidence": "evidence",
    "strengths": "strengths",
    "areas": "areas_for_development",
}


def grade_prompt(scale: GradeScale, number: int, key: str, chosen: bool) -> Text:
    """One answer as listed: its number key, its label and, for a level, its descriptor."""
    level = next((lv for lv in scale.levels if lv.key == key), None)
    text = Text.assemble(
        ("(•)" if chosen else "( )", "bold green" if chosen else "dim"),
        f" {number} ",
        (scale.label(key), "bold"),
    )
    if level is not None:
        text.append(f"\n{level.descriptor}", style="dim")
    return text


class CriterionPanel(VerticalScroll):
    """Shows one criterion; the screen owns the values, this widget only displays and reports."""

    @dataclass
    class GradeChosen(Message):
        """Enter (or a click) on an answer in the scale."""

        key: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Held directly so the screen can read what was typed even while it is being torn down.
        self.texts = {name: TextArea(id=name, classes="field") for name in TEXT_FIELDS}

    def compose(self) -> ComposeResult:
        yield Static("", id="position", markup=False)
        # Near the top, so the themes stay in view above the long guidance.
        themes = Static("", id="themes", markup=False)
        themes.display = False
        yield themes
        yield Static("", id="question", markup=False)
        yield Static("", id="guidance", markup=False)
        yield Static("", id="typical", markup=False)
        yield Static("", id="grade-help", markup=False)
        yield OptionList(id="grades")
        yield Label("Evidence (what the record shows, and where)", classes="field-label")
        yield self.texts["evidence"]
        yield Label("Strengths", id="strengths-label", classes="field-label")
        yield self.texts["strengths"]
        yield Label("Areas for development", id="areas-label", classes="field-label")
        yield self.texts["areas"]

    def show(
        self,
        criterion: Criterion,
        *,
        position: str,
        scale: GradeScale,
        value: Callable[[str], str],
        read_only: bool,
    ) -> None:
        """Display a criterion; `value(field)` gives the newest text of each finding field."""
        self.query_one("#position", Static).update(position)
        self.query_one("#question", Static).update(f"{criterion.id}  {criterion.question}")
        self.query_one("#guidance", Static).update(criterion.guidance or "No guidance given.")
        typical = "\n".join(f"• {item}" for item in criterion.typical_evidence)
        self.query_one("#typical", Static).update(f"Typical evidence\n{typical}" if typical else "")
        self.query_one("#typical").display = bool(typical)
        self.query_one("#grade-help", Static).update(
            f"Grade on the {scale.title}: press 1-{len(scale.answer_keys)} "
            "(Esc leaves a text field first)"
        )
        self.show_grades(scale, value("grade"))
        asks = {
            "evidence": True,
            "strengths": criterion.asks_strengths,
            "areas": criterion.asks_areas_for_development,
        }
        for name, field in TEXT_FIELDS.items():
            area = self.texts[name]
            area.load_text(value(field))
            area.read_only = read_only
            area.display = asks[name]
        self.query_one("#strengths-label").display = asks["strengths"]
        self.query_one("#areas-label").display = asks["areas"]
        self.scroll_home(animate=False)

    def show_grades(self, scale: GradeScale, chosen: str) -> None:
        grades = self.query_one("#grades", OptionList)
        keys = scale.answer_keys
        grades.set_options(
            Option(grade_prompt(scale, n, key, key == chosen), key)
            for n, key in enumerate(keys, start=1)
        )
        grades.highlighted = keys.index(chosen) if chosen in keys else 0

    def show_themes(self, line: str) -> None:
        """The themes the finding is tagged with, as one line; hidden while there are none."""
        themes = self.query_one("#themes", Static)
        themes.update(line)
        themes.display = bool(line)

    def focus_scale(self, scroll_visible: bool = True) -> None:
        self.query_one("#grades", OptionList).focus(scroll_visible=scroll_visible)

    @on(OptionList.OptionSelected, "#grades")
    def _grade_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.GradeChosen(event.option_id))
