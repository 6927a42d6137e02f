"""The auditor's return: one case, one agency, the pinned tool worked criterion by criterion.

Every change is kept in an Autosaver the moment it is typed and stored by a worker shortly after
typing stops; moving to another criterion, leaving the screen or closing the app saves first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from schemas.audit import (
    Actor,
    AgencyReturnOut,
    FindingChange,
    FindingOut,
    UnansweredCriterion,
)
from schemas.learning import TaggedKind
from schemas.tools import Criterion
from workbench.services.errors import SubmitRefusedError
from workbench.services.return_context import ReturnContext, return_context
from workbench.services.returns import record_finding, submit_return
from workbench.services.themes import list_themes, tags_for_return
from workbench.tui.autosave import Autosaver, SaveState
from workbench.tui.concern_flow import ConcernFlow
from workbench.tui.criterion_panel import TEXT_FIELDS, CriterionPanel
from workbench.tui.feedback import explain, unexpected
from workbench.tui.history_screen import HistoryScreen, case_scope, finding_scope, return_scope
from workbench.tui.return_dialogs import Choice, ConflictDialog, UnansweredDialog
from workbench.tui.theme_picker import TagFlow, Tagging, read_tagging, themes_line
from workbench.tui.voices import VoicesScreen

DEBOUNCE_SECONDS = 0.5
MAX_GRADE_KEYS = 9

MARKS = {
    "answered": ("✓", "green"),
    "unanswered": ("·", "dim"),
    SaveState.FAILED: ("✗", "red"),
    SaveState.CONFLICT: ("!", "yellow"),
}


def _grade_binding(number: int) -> Binding:
    return Binding(
        str(number),
        f"grade({number})",
        f"Grade {number}",
        show=False,
        tooltip=f"Choose answer {number} on the tool's scale (numbered on screen)",
        id=f"return.grade{number}",
    )


class ReturnScreen(Screen[None]):
    """One agency's return for one case. Saves as you type; nothing typed is lost on the way out."""

    CSS_PATH = "return_screen.tcss"
    BINDINGS = [
        Binding(
            "ctrl+g,exclamation_mark",
            "concern",
            "Concern",
            tooltip="Record an immediate safeguarding concern for this case (! outside text)",
            id="return.concern",
        ),
        Binding("ctrl+n", "next", "Next", tooltip="Go to the next criterion", id="return.next"),
        Binding(
            "ctrl+b",
            "previous",
            "Prev",
            tooltip="Go to the previous criterion",
            id="return.previous",
        ),
        Binding(
            "ctrl+f",
            "next_unanswered",
            "To do",
            tooltip="Go to the next criterion without an answer",
            id="return.unanswered",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Save now: tries a failed save again, or settles a conflict",
            id="return.save",
        ),
        Binding(
            "ctrl+t",
            "submit",
            "Submit",
            tooltip="Submit the return (refused, with the list, while criteria are unanswered)",
            id="return.submit",
        ),
        Binding(
            "ctrl+o",
            "voices",
            "Voices",
            tooltip="What the child, family and practitioners said about this case",
            id="return.voices",
        ),
        Binding(
            # A control key, so it works from inside a text field (ctrl+e is end of line there).
            "ctrl+r",
            "themes",
            "Tag themes",
            tooltip="Tag this finding with themes (suggested from its text, never applied unasked)",
            id="return.themes",
        ),
        Binding(
            # A control key, so it works from inside a text field (ctrl+y is redo there). Off
            # the footer, which is full at 80 columns: F1 and the palette list it.
            "ctrl+l",
            "history",
            "History",
            tooltip="Who changed this finding and when, before and after (s: the return, the case)",
            id="return.history",
            show=False,
        ),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Leave a text field; outside one, save and go back",
            id="return.back",
        ),
        *(_grade_binding(n) for n in range(1, MAX_GRADE_KEYS + 1)),
    ]

    @dataclass
    class Loaded(Message):
        view: ReturnContext

    @dataclass
    class LoadFailed(Message):
        reason: str

    class SavesSettled(Message):
        """A flush finished: the Autosaver holds the outcome."""

    @dataclass
    class SubmitDone(Message):
        agency_return: AgencyReturnOut

    @dataclass
    class SubmitRefused(Message):
        unanswered: list[UnansweredCriterion]

    @dataclass
    class SubmitFailed(Message):
        reason: str

    @dataclass
    class ReadyToLeave(Message):
        """The flush before leaving finished; leave if nothing is left unsaved."""

    @dataclass
    class TagsLoaded(Message):
        """The themes on the return's findings (finding id -> codes) and every theme's label."""

        tags: dict[int, tuple[str, ...]]
        labels: dict[str, str]

    @dataclass
    class TaggingReady(Message):
        tagging: Tagging

    @dataclass
    class TaggingRefused(Message):
        reason: str

    def __init__(self, factory: sessionmaker[Session], actor: Actor, return_id: int) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self._return_id = return_id
        self._view: ReturnContext | None = None
        self._autosaver = Autosaver()
        self._index = 0
        self._debounce: Timer | None = None
        self._conflict_open = False
        self._failure_told = ""
        self._read_only = ""
        self._panel = CriterionPanel(id="criterion")
        self._texts = self._panel.texts
        # Criterion id -> finding id, learnt from the load and from every save: themes attach
        # to a stored finding.
        self._finding_ids: dict[str, int] = {}
        self._tags: dict[int, tuple[str, ...]] = {}
        self._theme_labels: dict[str, str] = {}
        self._tag_flow = TagFlow(self, factory, actor, self._tagged)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="topbar"):
            yield Static("Loading the return…", id="context", markup=False)
            yield Static("", id="save-status", markup=False)
        with Horizontal(id="body"):
            yield OptionList(id="criteria")
            yield self._panel
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#body").loading = True
        self.load_return()

    # -- loading -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="return.load")
    def load_return(self) -> None:
        self.post_message(self.Loaded(return_context(self._factory, self._return_id)))

    @on(Loaded)
    def _show_loaded(self, event: Loaded) -> None:
        view = event.view
        self._view = view
        self._autosaver = Autosaver(view.agency_return.findings)
        self._finding_ids = {f.criterion_id: f.id for f in view.agency_return.findings}
        self._read_only = view.read_only_reason
        self.sub_title = f"{view.agency_return.case_reference} · {view.agency_return.agency_code}"
        self.query_one("#body").loading = False
        self._fill_criteria()
        first = next(
            (i for i, c in enumerate(view.criteria) if not self._autosaver.answered(c.id)), 0
        )
        self._index = first
        self._show_criterion()
        # Ready for a number key, but the question stays in view rather than the scale.
        self._panel.focus_scale(scroll_visible=False)
        self.refresh_bindings()
        self.load_tags()

    @on(LoadFailed)
    def _show_load_failure(self, event: LoadFailed) -> None:
        self.query_one("#body").loading = False
        self.query_one("#context", Static).update(f"Could not open the return: {event.reason}")
        self.notify(event.reason, title="Return not opened", severity="error")

    # -- rendering ---------------------------------------------------------------------------

    @property
    def _criterion(self) -> Criterion:
        assert self._view is not None
        return self._view.criteria[self._index]

    def _mark(self, criterion_id: str) -> tuple[str, str]:
        state = self._autosaver.state(criterion_id)
        if state in (SaveState.FAILED, SaveState.CONFLICT):
            return MARKS[state]
        return MARKS["answered" if self._autosaver.answered(criterion_id) else "unanswered"]

    def _criterion_prompt(self, criterion: Criterion, current: bool) -> Text:
        mark, style = self._mark(criterion.id)
        text = Text.assemble(
            ("▸" if current else " ", "bold"),
            (mark, style),
            " ",
            (criterion.id, "bold" if current else ""),
            " ",
            (criterion.question, "dim"),
        )
        return text

    def _fill_criteria(self) -> None:
        assert self._view is not None
        agency = self._view.agency_return.agency_code
        options: list[Option] = []
        for section in self._view.definition.tool.sections:
            applicable = [c for c in section.criteria if c.applies_to(agency)]
            if not applicable:
                continue
            options.append(Option(Text(section.title, style="bold underline"), disabled=True))
            options.extend(Option(self._criterion_prompt(c, False), c.id) for c in applicable)
        self.query_one("#criteria", OptionList).set_options(options)

    def _refresh_marks(self) -> None:
        if self._view is None:
            return
        criteria_list = self.query_one("#criteria", OptionList)
        for index, criterion in enumerate(self._view.criteria):
            criteria_list.replace_option_prompt(
                criterion.id, self._criterion_prompt(criterion, index == self._index)
            )
        self._refresh_status()

    def _refresh_status(self) -> None:
        if self._view is None:
            return
        view = self._view
        answered = sum(1 for c in view.criteria if self._autosaver.answered(c.id))
        tool = view.definition.tool
        self.query_one("#context", Static).update(
            f"Case {view.agency_return.case_reference} · {view.agency_return.agency_code} · "
            f"{tool.id} v{tool.version} · {answered} of {len(view.criteria)} answered"
        )
        status = self.query_one("#save-status", Static)
        overall = self._autosaver.overall()
        if self._read_only:
            text = f"Read only: {self._read_only}"
        elif overall.state is SaveState.SAVED:
            text = "✓ saved"
        elif overall.state in (SaveState.SAVING, SaveState.PENDING):
            text = "… saving"
        elif overall.state is SaveState.CONFLICT:
            text = "! changed by someone else: ctrl+s to choose"
        else:
            text = f"✗ save failed: {overall.error} (ctrl+s retries; your text is kept)"
        status.update(text)
        for state in SaveState:
            status.set_class(overall.state is state and not self._read_only, f"-{state.value}")

    def _show_criterion(self) -> None:
        assert self._view is not None
        view, criterion = self._view, self._criterion
        section = next(s.title for s in view.definition.tool.sections if criterion in s.criteria)
        self._panel.show(
            criterion,
            position=f"Criterion {self._index + 1} of {len(view.criteria)} · {section}",
            scale=view.definition.scale,
            value=lambda field: self._autosaver.value(criterion.id, field),
            read_only=bool(self._read_only),
        )
        criteria_list = self.query_one("#criteria", OptionList)
        criteria_list.highlighted = criteria_list.get_option_index(criterion.id)
        self._refresh_marks()
        self._show_themes()

    def _show_themes(self) -> None:
        if self._view is None:
            return
        finding_id = self._finding_ids.get(self._criterion.id)
        codes = self._tags.get(finding_id, ()) if finding_id is not None else ()
        self._panel.show_themes(themes_line(codes, self._theme_labels))

    # -- editing and saving ------------------------------------------------------------------

    def _capture(self) -> bool:
        """Copy the text fields into the Autosaver (a late Changed event must not be needed)."""
        if self._view is None or self._read_only:
            return False
        changed = False
        criterion = self._criterion
        for name, field in TEXT_FIELDS.items():
            if self._texts[name].display:
                changed |= self._autosaver.edit(criterion.id, field, self._texts[name].text)
        return changed

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        if self._view is None or self._read_only or event.text_area.id not in TEXT_FIELDS:
            return
        field = TEXT_FIELDS[event.text_area.id]
        # Read the widget now, not the event: after a switch it holds the new criterion's text,
        # which equals the Autosaver's value, so a stale event changes nothing.
        if self._autosaver.edit(self._criterion.id, field, event.text_area.text):
            self._changed()

    def _changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._save_now)
        self._refresh_marks()

    def _save_now(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if self._autosaver.has_unsaved():
            self.save_pending()

    def _save_one(self, criterion_id: str, change: FindingChange, version: int) -> FindingOut:
        stored = record_finding(
            self._factory,
            self._actor,
            self._return_id,
            criterion_id,
            change,
            expected_version=version,
        )
        self._finding_ids[criterion_id] = stored.id
        return stored

    @work(thread=True, exclusive=True, exit_on_error=False, group="return.save")
    def save_pending(self) -> None:
        self._autosaver.flush(self._save_one)
        # Posted even when a newer flush superseded this one: the message only says "look again".
        self.post_message(self.SavesSettled())

    @on(SavesSettled)
    def _saves_settled(self) -> None:
        self._refresh_marks()
        overall = self._autosaver.overall()
        # The status line may be too narrow for the whole reason: say it once in full.
        if overall.state is SaveState.FAILED and overall.error != self._failure_told:
            self.notify(
                f"{overall.error}. Your text is kept on screen; ctrl+s tries again.",
                title="Not saved",
                severity="error",
            )
        self._failure_told = overall.error if overall.state is SaveState.FAILED else ""
        self._offer_conflict()

    def _offer_conflict(self) -> None:
        conflicts = self._autosaver.conflicts()
        if not conflicts or self._conflict_open or self._view is None:
            return
        conflict = conflicts[0]
        self._conflict_open = True

        def settle(choice: Choice | None) -> None:
            self._conflict_open = False
            if choice == "mine":
                self._autosaver.keep_mine(conflict.criterion_id)
                self._save_now()
            elif choice == "theirs":
                self._autosaver.take_theirs(conflict.criterion_id)
                if self._view is not None and self._criterion.id == conflict.criterion_id:
                    self._show_criterion()
            self._refresh_marks()
            if choice is not None:
                self._offer_conflict()

        self.app.push_screen(ConflictDialog(conflict, self._view.definition.scale), settle)

    def _choose_grade(self, key: str) -> None:
        if self._view is None:
            return
        if self._read_only:
            self.notify(f"This return is read only: {self._read_only}.", severity="warning")
            return
        if self._autosaver.edit(self._criterion.id, "grade", key):
            self._panel.show_grades(self._view.definition.scale, key)
            # A grade is a single deliberate choice: no typing to wait for.
            self._changed()
            self._save_now()

    @on(CriterionPanel.GradeChosen)
    def _grade_selected(self, event: CriterionPanel.GradeChosen) -> None:
        self._choose_grade(event.key)

    @on(OptionList.OptionHighlighted, "#criteria")
    def _criterion_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self._view is None or event.option_id is None:
            return
        index = next(i for i, c in enumerate(self._view.criteria) if c.id == event.option_id)
        self._go_to(index)

    def _go_to(self, index: int) -> None:
        if self._view is None or index == self._index:
            return
        # Whatever was typed is in the Autosaver before the fields are reloaded, and goes now.
        self._capture()
        self._save_now()
        self._index = index
        self._show_criterion()

    # -- actions -----------------------------------------------------------------------------

    def _answers(self) -> tuple[str, ...]:
        return self._view.definition.scale.answer_keys if self._view else ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "grade" and self._view is not None:
            number = parameters[0]
            return isinstance(number, int) and number <= len(self._answers())
        return True

    def action_grade(self, number: int) -> None:
        answers = self._answers()
        if 1 <= number <= len(answers):
            self._choose_grade(answers[number - 1])

    def action_next(self) -> None:
        if self._view is not None:
            self._go_to(min(self._index + 1, len(self._view.criteria) - 1))

    def action_previous(self) -> None:
        if self._view is not None:
            self._go_to(max(self._index - 1, 0))

    def action_next_unanswered(self) -> None:
        if self._view is None:
            return
        self._capture()
        count = len(self._view.criteria)
        for step in range(1, count + 1):
            index = (self._index + step) % count
            if not self._autosaver.answered(self._view.criteria[index].id):
                if index == self._index:
                    self.notify("This is the only criterion without an answer.")
                self._go_to(index)
                return
        self.notify(f"All {count} criteria have an answer: ctrl+t submits the return.")

    def action_save(self) -> None:
        self._capture()
        if self._autosaver.conflicts():
            self._offer_conflict()
        self._save_now()
        self._refresh_status()

    def action_submit(self) -> None:
        if self._view is None:
            return
        if self._read_only:
            self.notify(f"This return is read only: {self._read_only}.", severity="warning")
            return
        self._capture()
        self.submit()

    @work(thread=True, exclusive=True, exit_on_error=False, group="return.submit")
    def submit(self) -> None:
        self._autosaver.flush(self._save_one)
        self.post_message(self.SavesSettled())
        overall = self._autosaver.overall()
        if overall.unsaved:
            self.post_message(
                self.SubmitFailed(
                    f"{overall.unsaved} answer(s) are not saved yet"
                    + (f" ({overall.error})" if overall.error else "")
                )
            )
            return
        try:
            done = submit_return(self._factory, self._actor, self._return_id)
        except SubmitRefusedError as exc:
            self.post_message(self.SubmitRefused(exc.unanswered))
        else:
            self.post_message(self.SubmitDone(done))

    @on(SubmitDone)
    def _submitted(self, event: SubmitDone) -> None:
        self._read_only = "submitted"
        if self._view is not None:
            self._view = ReturnContext(event.agency_return, self._view.audit, self._view.definition)
            self._show_criterion()
        self.notify(
            f"The {event.agency_return.agency_code} return for case "
            f"{event.agency_return.case_reference} is submitted.",
            title="Submitted",
        )

    @on(SubmitRefused)
    def _submit_refused(self, event: SubmitRefused) -> None:
        def go(criterion_id: str | None) -> None:
            if criterion_id is not None and self._view is not None:
                ids = [c.id for c in self._view.criteria]
                if criterion_id in ids:
                    self._go_to(ids.index(criterion_id))

        self.app.push_screen(UnansweredDialog(event.unanswered), go)

    @on(SubmitFailed)
    def _submit_failed(self, event: SubmitFailed) -> None:
        self.notify(f"Not submitted: {event.reason}.", title="Not submitted", severity="error")

    def action_voices(self) -> None:
        if self._view is None:
            return
        self._capture()
        self._save_now()
        agency_return = self._view.agency_return
        self.app.push_screen(
            VoicesScreen(
                self._factory,
                self._actor,
                agency_return.case_id,
                case_reference=agency_return.case_reference,
            )
        )

    # -- themes ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="return.tags")
    def load_tags(self) -> None:
        labels = {theme.code: theme.label for theme in list_themes(self._factory)}
        self.post_message(self.TagsLoaded(tags_for_return(self._factory, self._return_id), labels))

    @on(TagsLoaded)
    def _tags_loaded(self, event: TagsLoaded) -> None:
        self._tags = event.tags
        self._theme_labels = event.labels
        self._show_themes()

    def action_themes(self) -> None:
        if self._view is None:
            return
        self._capture()
        criterion = self._criterion
        # What is on screen now, saved or not: the auditor may still be typing.
        text = "\n".join(
            self._autosaver.value(criterion.id, field) for field in TEXT_FIELDS.values()
        )
        self.prepare_tagging(criterion.id, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="return.themes")
    def prepare_tagging(self, criterion_id: str, text: str) -> None:
        # Themes attach to a stored finding: store what is outstanding first.
        if self._autosaver.has_unsaved():
            self._autosaver.flush(self._save_one)
            self.post_message(self.SavesSettled())
        finding_id = self._finding_ids.get(criterion_id)
        if finding_id is None:
            error = self._autosaver.error(criterion_id)
            self.post_message(
                self.TaggingRefused(
                    f"This finding is not saved yet ({error}); ctrl+s tries again."
                    if error
                    else "Write or grade this finding first: themes attach to a saved finding."
                )
            )
            return
        tagging = read_tagging(
            self._factory, TaggedKind.FINDING, finding_id, text, f"finding {criterion_id}"
        )
        self.post_message(self.TaggingReady(tagging))

    @on(TaggingReady)
    def _offer_tagging(self, event: TaggingReady) -> None:
        self._tag_flow.offer(event.tagging)

    @on(TaggingRefused)
    def _tagging_refused(self, event: TaggingRefused) -> None:
        self.notify(event.reason, title="No themes yet", severity="warning")

    def _tagged(self, tagging: Tagging, codes: tuple[str, ...]) -> None:
        self._tags[tagging.target_id] = codes
        self._theme_labels.update(tagging.labels)
        self._show_themes()

    def action_history(self) -> None:
        if self._view is None:
            return
        self._capture()
        agency_return = self._view.agency_return
        audit_id, case = self._view.audit.id, agency_return.case_reference
        agency = agency_return.agency_code
        scopes = (
            finding_scope(audit_id, case, agency, self._criterion.id),
            return_scope(audit_id, case, agency),
            case_scope(audit_id, case),
        )
        self.app.push_screen(HistoryScreen(self._factory, scopes, before_read=self._store_typed))

    def _store_typed(self) -> None:
        """Runs in the history's reading thread first: what was typed shows in the history."""
        if self._autosaver.has_unsaved():
            self._autosaver.flush(self._save_one)
            self.post_message(self.SavesSettled())

    def action_concern(self) -> None:
        if self._view is None:
            self.notify("The return is still loading; try again in a moment.")
            return
        self._capture()
        self._save_now()
        ConcernFlow(self, self._factory, self._actor, self._view.agency_return.case_id).start(
            self._view.audit.agencies, agency=self._view.agency_return.agency_code
        )

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self._panel.focus_scale()
            return
        self._capture()
        if not self._autosaver.has_unsaved():
            self.dismiss(None)
            return
        self.save_then_leave()

    @work(thread=True, exclusive=True, exit_on_error=False, group="return.leave")
    def save_then_leave(self) -> None:
        self._autosaver.flush(self._save_one)
        self.post_message(self.ReadyToLeave())

    @on(ReadyToLeave)
    def _leave(self) -> None:
        self._refresh_marks()
        overall = self._autosaver.overall()
        if overall.unsaved:
            self.notify(
                f"Staying here: {overall.unsaved} answer(s) are not saved"
                + (f" ({overall.error})" if overall.error else "")
                + ". Your text is kept; ctrl+s tries again.",
                title="Not saved",
                severity="error",
            )
            self._offer_conflict()
            return
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The save workers report through the Autosaver and never raise; these might.
        if event.state is not WorkerState.ERROR:
            return
        reason = explain(event.worker.error) if event.worker.error else unexpected(None)
        if event.worker.group == "return.load":
            self.post_message(self.LoadFailed(reason))
        elif event.worker.group == "return.submit":
            self.post_message(self.SubmitFailed(reason))
        elif event.worker.group in ("return.themes", "return.tags"):
            self.notify(f"Themes: {reason}", title="Themes not read", severity="error")

    async def on_unmount(self) -> None:
        # Leaving by any route, the app quitting included, ends here: store what is outstanding.
        # In a thread, so a slow database delays the exit without freezing the event loop;
        # the Autosaver's save lock makes this wait for a save already under way.
        if self._debounce is not None:
            self._debounce.stop()
        self._capture()
        if self._autosaver.has_unsaved():
            await asyncio.to_thread(self._autosaver.flush, self._save_one)
