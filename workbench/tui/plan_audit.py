"""The dialog that plans an audit: tool, agencies, look-back, dates, chair and the cohort."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)
from textual.widgets.selection_list import Selection

from audit_tools.registry import ToolRegistry
from schemas.audit import (
    AgeBand,
    AgencyOut,
    AuditPlan,
    CaseProfile,
    Gender,
    LevelOfNeed,
    Send,
    value_label,
)
from schemas.text import friendly_message

DATE_HINT = "dd/mm/yyyy"
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")

# Field names of AuditPlan and CaseProfile as a person reads them in an error line.
FIELD_LABELS = {
    "title": "Title",
    "tool": "Tool",
    "tool_id": "Tool",
    "tool_version": "Tool",
    "agencies": "Agencies",
    "look_back_months": "Look-back",
    "returns_due": "Returns due",
    "audit_day": "Audit day",
    "chair": "Chair",
    "cases": "Cohort",
    "reference": "Reference",
    "level_of_need": "Level of need",
    "age_band": "Age band",
    "gender": "Gender",
    "ethnicity": "Ethnicity",
    "send": "SEND",
}
# The form's fields, each with an error line `#<name>-error` beneath it.
FORM_FIELDS = (
    "title",
    "tool",
    "agencies",
    "look_back_months",
    "returns_due",
    "audit_day",
    "chair",
    "cohort",
)
# AuditPlan's fields that the form shows under another name.
_FORM_FIELD = {"tool_id": "tool", "tool_version": "tool", "cases": "cohort"}


def parse_day(text: str) -> dt.date | None:
    """A date typed as dd/mm/yyyy (also with '.' or '-') or yyyy-mm-dd; blank means none."""
    text = text.strip()
    if not text:
        return None
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ValueError(f"{text!r} is not a date: write it as {DATE_HINT} or yyyy-mm-dd")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def format_input_day(day: dt.date | None) -> str:
    return "" if day is None else f"{day:%d/%m/%Y}"


def plain_error(error: Any) -> str:
    """One pydantic error in plain words, without the field name."""
    kind = error.get("type")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return "cannot be empty"
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    if kind == "too_short":
        return "choose at least one"
    if kind in {"greater_than_equal", "greater_than"}:
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in {"less_than_equal", "less_than"}:
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind == "int_parsing":
        return "must be a whole number"
    if kind == "enum":
        return "choose one of the options"
    return friendly_message(error)


def validation_lines(error: ValidationError) -> dict[str, str]:
    """{form field: one line} for a pydantic error; the first problem per field is enough."""
    out: dict[str, str] = {}
    for item in error.errors():
        loc = item.get("loc") or ("",)
        field = str(loc[0])
        form_field = _FORM_FIELD.get(field, field)
        if form_field not in out:
            out[form_field] = f"{FIELD_LABELS.get(field, field)}: {plain_error(item)}"
    return out


def _options(values: Iterable[enum.Enum]) -> list[tuple[str, str]]:
    return [(value_label(v), str(v.value)) for v in values]


CASE_SELECTS: tuple[tuple[str, str, type[enum.Enum]], ...] = (
    ("level_of_need", "Level of need", LevelOfNeed),
    ("age_band", "Age band", AgeBand),
    ("gender", "Gender", Gender),
    ("send", "SEND", Send),
)

COHORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("reference", "Reference"),
    ("level_of_need", "Level of need"),
    ("age_band", "Age"),
    ("gender", "Gender"),
    ("ethnicity", "Ethnicity"),
    ("send", "SEND"),
)


def cohort_row(case: CaseProfile) -> tuple[str, ...]:
    return (
        case.reference,
        value_label(case.level_of_need),
        value_label(case.age_band),
        value_label(case.gender),
        case.ethnicity,
        value_label(case.send),
    )


class PlanAuditScreen(ModalScreen[AuditPlan | None]):
    """Collects an AuditPlan. Nothing is stored here: the caller creates the audit it returns."""

    CSS_PATH = "plan_audit.tcss"
    BINDING_GROUP_TITLE = "Plan an audit"

    BINDINGS = [
        Binding(
            "ctrl+s",
            "submit",
            "Plan audit",
            tooltip="Check the plan and create the audit",
            id="plan.submit",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Close without planning an audit",
            id="plan.cancel",
        ),
        Binding(
            "ctrl+n",
            "add_case",
            "Add case",
            tooltip="Add the case typed in the case fields to the cohort",
            id="plan.add_case",
        ),
        Binding(
            "delete",
            "remove_case",
            "Remove case",
            tooltip="Remove the highlighted case from the cohort",
            id="plan.remove_case",
        ),
    ]

    def __init__(
        self,
        registry: ToolRegistry,
        agencies: Sequence[AgencyOut],
        *,
        initial: AuditPlan | None = None,
    ) -> None:
        """`initial` fills the form again, e.g. after the store refused a plan."""
        super().__init__()
        self._tools = registry.summaries()
        self._agencies = [a for a in agencies if a.active]
        self._initial = initial
        self._cases: list[CaseProfile] = list(initial.cases) if initial else []
        self._errors: dict[str, str] = {}

    @property
    def cases(self) -> tuple[CaseProfile, ...]:
        """The cohort as entered so far."""
        return tuple(self._cases)

    # Layout

    def compose(self) -> ComposeResult:
        plan = self._initial
        tool_options = [(f"{t.title} · v{t.version}", (t.id, t.version)) for t in self._tools]
        tool_value: Any = Select.NULL
        if plan is not None:
            version = plan.tool_version or max(
                (t.version for t in self._tools if t.id == plan.tool_id), default=0
            )
            # A tool removed from disk since leaves the choice open rather than failing.
            if (plan.tool_id, version) in (value for _, value in tool_options):
                tool_value = (plan.tool_id, version)
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Plan an audit"
            with VerticalScroll(id="form"):
                yield from self._field(
                    "title",
                    "Title",
                    Input(
                        plan.title if plan else "",
                        placeholder="e.g. CSE multi-agency audit, spring 2026",
                        id="title",
                        compact=True,
                    ),
                )
                yield from self._field(
                    "tool",
                    "Tool",
                    Select[tuple[str, int]](
                        tool_options,
                        prompt="Choose the audit tool",
                        value=tool_value,
                        id="tool",
                        compact=True,
                    ),
                )
                chosen = set(plan.agencies) if plan else set()
                yield from self._field(
                    "agencies",
                    "Agencies",
                    SelectionList[str](
                        *(Selection(a.name, a.code, a.code in chosen) for a in self._agencies),
                        id="agencies",
                        compact=True,
                    ),
                )
                yield Static(id="agencies-chosen", classes="field-hint", markup=False)
                yield from self._field(
                    "look_back_months",
                    "Look-back",
                    Input(
                        str(plan.look_back_months if plan else 12),
                        type="integer",
                        placeholder="months",
                        id="look_back_months",
                        compact=True,
                    ),
                    suffix="months",
                )
                yield from self._field(
                    "returns_due",
                    "Returns due",
                    Input(
                        format_input_day(plan.returns_due if plan else None),
                        placeholder=DATE_HINT,
                        id="returns_due",
                        compact=True,
                    ),
                )
                yield from self._field(
                    "audit_day",
                    "Audit day",
                    Input(
                        format_input_day(plan.audit_day if plan else None),
                        placeholder=DATE_HINT,
                        id="audit_day",
                        compact=True,
                    ),
                )
                yield from self._field(
                    "chair",
                    "Chair",
                    Input(
                        plan.chair if plan else "",
                        placeholder="Panel chair",
                        id="chair",
                        compact=True,
                    ),
                )
                yield Static(
                    "Cohort: pseudonymised cases only, no names or dates of birth",
                    classes="section",
                )
                with Grid(id="case-editor"):
                    yield Input(placeholder="Case reference", id="case-reference", compact=True)
                    yield self._case_select("level_of_need", "Level of need", LevelOfNeed)
                    yield self._case_select("age_band", "Age band", AgeBand)
                    yield self._case_select("gender", "Gender", Gender)
                    yield Input(placeholder="Ethnicity", id="case-ethnicity", compact=True)
                    yield self._case_select("send", "SEND", Send)
                with Horizontal(id="case-buttons"):
                    yield Button("Add case", id="add-case", compact=True)
                    yield Button("Remove case", id="remove-case", compact=True)
                yield Static(id="case-error", classes="field-error", markup=False)
                yield DataTable[str](id="cohort", cursor_type="row", zebra_stripes=True)
                yield Static(id="cohort-error", classes="field-error", markup=False)
            with Horizontal(id="actions"):
                yield Static(id="problems", markup=False)
                yield Button("Plan audit", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def _field(
        self, name: str, label: str, widget: Widget, *, suffix: str = ""
    ) -> Iterable[Widget]:
        """A labelled line with the field, then its own error line (hidden while empty)."""
        parts: list[Widget] = [Label(label, classes="field-label"), widget]
        if suffix:
            parts.append(Label(suffix, classes="field-suffix"))
        yield Horizontal(*parts, classes="field", id=f"{name}-field")
        yield Static(id=f"{name}-error", classes="field-error", markup=False)

    def _case_select(self, name: str, prompt: str, values: type[enum.Enum]) -> Select[str]:
        return Select[str](_options(values), prompt=prompt, id=f"case-{name}", compact=True)

    def on_mount(self) -> None:
        self._show_chosen_agencies()
        table = self.query_one("#cohort", DataTable)
        for key, heading in COHORT_COLUMNS:
            table.add_column(heading, key=key)
        self._show_cohort()
        self._show_problems({})
        self.query_one("#title", Input).focus()

    # Bindings

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Delete removes a case only where it cannot mean "delete a character".
        if action == "remove_case":
            return self.focused is self.query_one("#cohort", DataTable) and bool(self._cases)
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_add_case(self) -> None:
        self._add_case()

    def action_remove_case(self) -> None:
        self._remove_highlighted()

    def action_submit(self) -> None:
        plan, problems = self.collect()
        self._show_problems(problems)
        if plan is not None:
            self.dismiss(plan)
            return
        first = next(iter(problems), None)
        target = {"cohort": "#case-reference"}.get(first or "", f"#{first}")
        for widget in self.query(target):
            widget.focus()
            break

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#add-case")
    def _add_pressed(self) -> None:
        self._add_case()

    @on(Button.Pressed, "#remove-case")
    def _remove_pressed(self) -> None:
        self._remove_highlighted()

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _field_changed(
        self, event: Input.Changed | Select.Changed | SelectionList.SelectedChanged[str]
    ) -> None:
        # The problem the person is fixing disappears as soon as they touch the field.
        widget_id = event.control.id or ""
        self._set_error("case" if widget_id.startswith("case-") else widget_id, "")

    @on(SelectionList.SelectedChanged, "#agencies")
    def _show_chosen_agencies(self) -> None:
        # The list scrolls, so say which agencies are ticked where it can always be read.
        chosen = set(self.query_one("#agencies", SelectionList).selected)
        names = [a.name for a in self._agencies if a.code in chosen]
        self.query_one("#agencies-chosen", Static).update(
            f"Chosen ({len(names)}): {', '.join(names)}" if names else "None chosen yet"
        )

    @on(Input.Submitted, "#case-reference, #case-ethnicity")
    def _case_entered(self) -> None:
        self._add_case()

    @on(DataTable.RowSelected, "#cohort")
    def _edit_case(self, event: DataTable.RowSelected) -> None:
        """Enter on a case moves it back into the case fields, to correct and add again."""
        reference = event.row_key.value
        case = next((c for c in self._cases if c.reference == reference), None)
        if case is None:
            return
        self._cases.remove(case)
        self.query_one("#case-reference", Input).value = case.reference
        self.query_one("#case-ethnicity", Input).value = case.ethnicity
        for name, _, _ in CASE_SELECTS:
            self.query_one(f"#case-{name}", Select).value = str(getattr(case, name).value)
        self._show_cohort()
        self.query_one("#case-reference", Input).focus()

    # The cohort

    def _add_case(self) -> None:
        data: dict[str, Any] = {
            "reference": self.query_one("#case-reference", Input).value,
            "ethnicity": self.query_one("#case-ethnicity", Input).value.strip(),
        }
        missing = []
        for name, label, _ in CASE_SELECTS:
            value = self.query_one(f"#case-{name}", Select).value
            if value is Select.NULL:
                missing.append(label.lower() if label != "SEND" else label)
            else:
                data[name] = value
        if missing:
            self._set_error("case", f"Case: choose the {', '.join(missing)}")
            return
        try:
            case = CaseProfile.model_validate(data)
        except ValidationError as exc:
            self._set_error("case", "; ".join(validation_lines(exc).values()))
            return
        if any(c.reference.casefold() == case.reference.casefold() for c in self._cases):
            self._set_error("case", f"Case {case.reference} is already in the cohort")
            return
        self._cases.append(case)
        self._set_error("case", "")
        self._set_error("cohort", "")
        self.query_one("#case-reference", Input).value = ""
        self.query_one("#case-ethnicity", Input).value = ""
        for name, _, _ in CASE_SELECTS:
            self.query_one(f"#case-{name}", Select).clear()
        self._show_cohort()
        self.query_one("#case-reference", Input).focus()

    def _remove_highlighted(self) -> None:
        table = self.query_one("#cohort", DataTable)
        if not self._cases or table.row_count == 0:
            self._set_error("case", "There is no case to remove")
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        self._cases = [c for c in self._cases if c.reference != row_key.value]
        self._show_cohort()

    def _show_cohort(self) -> None:
        table = self.query_one("#cohort", DataTable)
        keep = table.cursor_row
        table.clear()
        for case in self._cases:
            table.add_row(*cohort_row(case), key=case.reference)
        table.display = bool(self._cases)
        if self._cases:
            table.move_cursor(row=min(keep, len(self._cases) - 1))
        self.refresh_bindings()

    # Checking the plan

    def collect(self) -> tuple[AuditPlan | None, dict[str, str]]:
        """The plan as typed, or the problems with it: {field: one line in plain words}."""
        problems: dict[str, str] = {}
        data: dict[str, Any] = {
            "title": self.query_one("#title", Input).value.strip(),
            "chair": self.query_one("#chair", Input).value.strip(),
            "cases": tuple(self._cases),
        }
        tool = self.query_one("#tool", Select).value
        if isinstance(tool, tuple):
            data["tool_id"], data["tool_version"] = tool
        else:
            problems["tool"] = "Tool: choose the audit tool"
        agencies = self.query_one("#agencies", SelectionList).selected
        if not agencies:
            problems["agencies"] = "Agencies: choose at least one agency taking part"
        data["agencies"] = tuple(agencies)
        months = self.query_one("#look_back_months", Input).value.strip()
        if not months:
            problems["look_back_months"] = "Look-back: give the number of months, e.g. 12"
        else:
            data["look_back_months"] = months
        for name in ("returns_due", "audit_day"):
            try:
                data[name] = parse_day(self.query_one(f"#{name}", Input).value)
            except ValueError as exc:
                problems[name] = f"{FIELD_LABELS[name]}: {exc}"
        due, day = data.get("returns_due"), data.get("audit_day")
        if due and day and due > day:
            problems["returns_due"] = "Returns due: must be on or before the audit day"
        references = [c.reference.casefold() for c in self._cases]
        if len(set(references)) != len(references):
            problems["cohort"] = "Cohort: a case reference is in the cohort twice"
        try:
            plan = AuditPlan.model_validate(data)
        except ValidationError as exc:
            for field, line in validation_lines(exc).items():
                problems.setdefault(field, line)
            return None, problems
        return (None, problems) if problems else (plan, problems)

    def _set_error(self, field: str, text: str) -> None:
        # Called on every key press in a field: touch the DOM only when the message changes.
        if self._errors.get(field, "") == text:
            return
        self._errors[field] = text
        for error in self.query(f"#{field}-error"):
            if isinstance(error, Static):
                error.update(text)
                error.display = bool(text)
        for row in self.query(f"#{field}-field"):
            row.set_class(bool(text), "-invalid")

    def error_text(self, field: str) -> str:
        """The problem shown under a field ('' for none): what the person reads there."""
        return self._errors.get(field, "")

    def _show_problems(self, problems: dict[str, str]) -> None:
        for field in FORM_FIELDS:
            self._set_error(field, problems.get(field, ""))
        summary = self.query_one("#problems", Static)
        if problems:
            count = len(problems)
            summary.update(f"Not planned: {count} problem{'s' if count > 1 else ''} shown in red")
        else:
            summary.update("Enter in a case field adds the case")
        summary.set_class(bool(problems), "-problems")
