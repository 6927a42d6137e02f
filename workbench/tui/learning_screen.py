"""The learning log: every item from every strand, searched and filtered, with its evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import Actor, AgencyOut
from schemas.learning import (
    LearningFilter,
    LearningItemOut,
    LearningSource,
    LearningStatus,
    RecommendationOut,
    ThemeOut,
)
from workbench.services.actions import list_recommendations
from workbench.services.audits import list_agencies
from workbench.services.learning import list_learning, sign_off, update_learning_item
from workbench.services.themes import list_themes
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected
from workbench.tui.learning_dialog import (
    LearningEdit,
    LearningEditDialog,
    LearningItemFlow,
    shared_label,
    status_label,
)

EMPTY_LOG = "The learning log is empty. Press n to add learning from any strand."
NOTHING_MATCHES = "Nothing in the learning log matches these words and filters."
# Long enough that a word typed at speed is one search, short enough to feel immediate.
SEARCH_DEBOUNCE = 0.3

# (key, heading, width) for every column but the learning, which takes what is left.
FIXED_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("reference", "Reference", 11),
    ("raised", "Raised", 11),
    ("source", "Source", 14),
    ("status", "Status", 10),
    ("themes", "Themes", 18),
)
CELL_PADDING = 2  # DataTable pads each cell by one on either side
MIN_LEARNING_WIDTH = 20


def format_day(day: dt.date | None) -> str:
    # Day-month-year with the month as a word, as on the other screens.
    return f"{day.day} {day:%b %Y}" if day else "-"


def cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def grade_words(grade: str | None) -> str:
    return grade.replace("_", " ") if grade else "not graded"


@dataclass(frozen=True)
class Choices:
    """What the filters and the dialogs offer: the theme vocabulary and the agencies."""

    themes: tuple[ThemeOut, ...] = ()
    agencies: tuple[AgencyOut, ...] = ()

    def theme_label(self, code: str) -> str:
        return next((t.label for t in self.themes if t.code == code), code)

    def agency_name(self, code: str) -> str:
        return next((a.name for a in self.agencies if a.code == code), code)


@dataclass(frozen=True)
class LearningListing:
    items: list[LearningItemOut]
    where: LearningFilter
    recommendations: dict[int, RecommendationOut] = field(default_factory=dict)


def detail_text(
    item: LearningItemOut, choices: Choices, recommendations: dict[int, RecommendationOut]
) -> Text:
    """Everything about one item, as the subgroup reads it before signing it off."""
    text = Text(no_wrap=False, end="")

    def line(label: str, value: str) -> None:
        text.append(f"\n{label}: ", style="bold")
        text.append(value)

    text.append(item.reference, style="bold")
    text.append(f" · raised {format_day(item.raised_on)} · {item.source.label}")
    if item.audit_title:
        text.append(f" ({item.audit_title})")
    text.append(f" · {status_label(item.status)}", style="bold")
    line("Learning", item.learning)
    line("Evidence", item.evidence or "none written")
    if item.evidence_links:
        text.append(f"\nEvidence links ({len(item.evidence_links)}):", style="bold")
        for link in item.evidence_links:
            text.append(
                f"\n  {link.case_reference} / {link.agency} / {link.criterion_id}: "
                f"{grade_words(link.grade)}"
            )
    line("Themes", ", ".join(choices.theme_label(c) for c in item.themes) or "none")
    line("Agencies", ", ".join(choices.agency_name(c) for c in item.agencies) or "none")
    line("How shared", ", ".join(shared_label(h) for h in item.shared_how) or "not shared yet")
    line("Impact", item.impact_evidence or "none recorded yet")
    line("Re-audit", format_day(item.reaudit_on) if item.reaudit_on else "not set")
    if item.signed_off_by and item.signed_off_on:
        line("Sign-off", f"{item.signed_off_by} on {format_day(item.signed_off_on)}")
    else:
        line("Sign-off", "not signed off")
    if item.recommendations:
        text.append("\nRecommendations:", style="bold")
        for rec_id in item.recommendations:
            rec = recommendations.get(rec_id)
            text.append(f"\n  {rec.number}. {rec.text}" if rec else f"\n  #{rec_id}")
    return text


class LearningLogScreen(Screen[None]):
    """The log across strands. Reads run in workers; typing in the search waits for a pause."""

    CSS_PATH = "learning_screen.tcss"
    BINDING_GROUP_TITLE = "Learning log"

    BINDINGS = [
        Binding("n", "new_item", "New", tooltip="Add learning from any strand", id="learning.new"),
        Binding(
            "e",
            "edit_item",
            "Edit",
            tooltip="Change the highlighted item: words, tags, sharing, impact, status",
            id="learning.edit",
        ),
        Binding(
            "s",
            "sign_off",
            "Sign off",
            tooltip="Sign the highlighted item off (it must have been shared first)",
            id="learning.sign_off",
        ),
        Binding(
            "slash", "search", "Search", tooltip="Type words to look for", id="learning.search"
        ),
        Binding(
            "x",
            "export",
            "Export",
            tooltip="Write the items shown, as filtered, as Word, Excel or CSV",
            id="learning.export",
        ),
        Binding("r", "refresh", "Refresh", tooltip="Read the log again", id="learning.refresh"),
        Binding(
            "escape", "back", "Back", tooltip="Back to the previous screen", id="learning.back"
        ),
    ]

    @dataclass
    class ChoicesLoaded(Message):
        choices: Choices

    @dataclass
    class Loaded(Message):
        listing: LearningListing

    @dataclass
    class Failed(Message):
        """`what` is what could not be done, `reason` one line fit for a user."""

        what: str
        reason: str

    @dataclass
    class Saved(Message):
        item: LearningItemOut
        what: str

    @dataclass
    class EditFailed(Message):
        item: LearningItemOut
        edit: LearningEdit
        reason: str

    def __init__(self, factory: sessionmaker[Session], actor: Actor, today: dt.date) -> None:
        super().__init__()
        self._factory = factory
        self._actor = actor
        self._today = today
        self.choices = Choices()
        self.listing = LearningListing([], LearningFilter())
        self._search_timer: Timer | None = None
        self._keep: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder="Search words (/)", id="search")
            yield Select[str]([], prompt="Any theme", id="theme")
            yield Select[str]([], prompt="Any agency", id="agency")
            yield Select[str](
                [(s.label, s.value) for s in LearningSource], prompt="Any source", id="source"
            )
            yield Select[str](
                [(status_label(s), s.value) for s in LearningStatus],
                prompt="Any status",
                id="status",
            )
        yield Static(EMPTY_LOG, id="empty", markup=False)
        yield DataTable[Text](id="items", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail"):
            yield Static("", id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Learning log"
        self.query_one("#items", DataTable).focus()
        self._add_columns()
        self.load_choices()
        self.action_refresh()

    # --- reading -------------------------------------------------------------------------------

    def current_filter(self) -> LearningFilter:
        def chosen(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None

        source, status = chosen("#source"), chosen("#status")
        return LearningFilter(
            text=self.query_one("#search", Input).value,
            theme=chosen("#theme"),
            agency=chosen("#agency"),
            source=LearningSource(source) if source else None,
            status=LearningStatus(status) if status else None,
        )

    def action_refresh(self) -> None:
        self.query_one("#items", DataTable).loading = True
        self.load_items(self.current_filter())

    @work(thread=True, exclusive=True, exit_on_error=False, group="learning.choices")
    def load_choices(self) -> None:
        try:
            choices = Choices(
                tuple(list_themes(self._factory)), tuple(list_agencies(self._factory))
            )
        except EXPECTED_FAILURES as exc:
            self.post_message(self.Failed("read the themes and agencies", explain(exc)))
            return
        self.post_message(self.ChoicesLoaded(choices))

    @work(thread=True, exclusive=True, exit_on_error=False, group="learning.load")
    def load_items(self, where: LearningFilter) -> None:
        try:
            items = list_learning(self._factory, where)
            recommendations: dict[int, RecommendationOut] = {}
            for audit_id in sorted({i.audit_id for i in items if i.recommendations and i.audit_id}):
                recommendations |= {r.id: r for r in list_recommendations(self._factory, audit_id)}
        except EXPECTED_FAILURES as exc:
            message: Message = self.Failed("read the learning log", explain(exc))
        else:
            message = self.Loaded(LearningListing(items, where, recommendations))
        # A newer search replaced this one: its answer is the one to show.
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        what = {
            "learning.choices": "read the themes and agencies",
            "learning.load": "read the learning log",
            "learning.save": "save the change",
        }.get(event.worker.group)
        if what:
            self.post_message(self.Failed(what, unexpected(event.worker.error)))

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.query_one("#items", DataTable).loading = False
        self.notify(f"Could not {event.what}: {event.reason}", severity="error")

    @on(ChoicesLoaded)
    def _choices_loaded(self, event: ChoicesLoaded) -> None:
        self.choices = event.choices
        theme = self.query_one("#theme", Select)
        theme.set_options([(t.label, t.code) for t in event.choices.themes])
        agency = self.query_one("#agency", Select)
        agency.set_options([(a.name, a.code) for a in event.choices.agencies if a.active])
        # Theme labels in the table come from the vocabulary just read.
        if self.listing.items:
            self._show()

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.listing = event.listing
        self._show()

    # --- the table and the detail ----------------------------------------------------------------

    def _learning_width(self) -> int:
        fixed = sum(width + CELL_PADDING for _, _, width in FIXED_COLUMNS)
        return max(MIN_LEARNING_WIDTH, self.size.width - fixed - CELL_PADDING - 4)

    def _add_columns(self) -> None:
        table = self.query_one("#items", DataTable)
        table.clear(columns=True)
        for key, heading, width in FIXED_COLUMNS:
            table.add_column(heading, key=key, width=width)
        table.add_column("Learning", key="learning", width=self._learning_width())

    def on_resize(self, event: Resize) -> None:
        # The learning column takes what the others leave, so it changes with the width.
        self._keep = self._highlighted_id()
        self._add_columns()
        self._show()

    def _row(self, item: LearningItemOut) -> tuple[Text, ...]:
        themes = ", ".join(self.choices.theme_label(c) for c in item.themes)
        return (
            Text(item.reference),
            Text(format_day(item.raised_on)),
            Text(cut(item.source.label, 14)),
            Text(
                status_label(item.status),
                style="bold" if item.status is LearningStatus.OPEN else "",
            ),
            Text(cut(themes, 18)),
            Text(cut(item.learning, self._learning_width())),
        )

    def _show(self) -> None:
        table = self.query_one("#items", DataTable)
        table.loading = False
        items = self.listing.items
        keep = self._keep
        if keep is None and table.row_count:
            keep = self._highlighted_id()
        self._keep = None
        table.clear()
        for item in items:
            table.add_row(*self._row(item), key=str(item.id))
        if items:
            ids = [i.id for i in items]
            table.move_cursor(row=ids.index(keep) if keep in ids else 0, scroll=False)
        self.set_class(not items, "-empty")
        empty = self.query_one("#empty", Static)
        empty.update(NOTHING_MATCHES if self.listing.where != LearningFilter() else EMPTY_LOG)
        self._describe()

    def _highlighted_id(self) -> int | None:
        table = self.query_one("#items", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def highlighted(self) -> LearningItemOut | None:
        """The item under the cursor, as last read."""
        item_id = self._highlighted_id()
        return next((i for i in self.listing.items if i.id == item_id), None)

    @on(DataTable.RowHighlighted, "#items")
    def _describe(self) -> None:
        item = self.highlighted()
        detail = self.query_one("#detail-text", Static)
        if item is None:
            detail.update("")
            return
        detail.update(detail_text(item, self.choices, self.listing.recommendations))

    # --- searching and filtering -----------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_typed(self) -> None:
        # Wait for a pause in the typing: one search per word, not one per key.
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        self.action_refresh()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self._search_now()
        self.query_one("#items", DataTable).focus()

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        if self.current_filter() != self.listing.where:
            self.action_refresh()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    # --- changing items --------------------------------------------------------------------------

    def action_new_item(self) -> None:
        flow = LearningItemFlow(
            self,
            self._factory,
            self._actor,
            self.choices.themes,
            self.choices.agencies,
            today=self._today,
            on_created=self._created,
        )
        flow.start()

    def _created(self, item: LearningItemOut) -> None:
        self._keep = item.id
        self.action_refresh()

    def action_edit_item(self) -> None:
        item = self.highlighted()
        if item is None:
            self.notify("There is no learning item to edit.", severity="warning")
            return
        self._edit(item, None, "")

    def _edit(self, item: LearningItemOut, typed: LearningEdit | None, problem: str) -> None:
        def edited(edit: LearningEdit | None) -> None:
            if edit is not None:
                self.save_edit(item, edit)

        dialog = LearningEditDialog(
            item, self.choices.themes, self.choices.agencies, typed=typed, problem=problem
        )
        self.app.push_screen(dialog, edited)

    @work(thread=True, exclusive=True, exit_on_error=False, group="learning.save")
    def save_edit(self, item: LearningItemOut, edit: LearningEdit) -> None:
        try:
            saved = update_learning_item(self._factory, self._actor, item.id, edit.change_to(item))
        except Exception as exc:  # whatever went wrong, what was typed goes back to the user
            self.post_message(self.EditFailed(item, edit, explain(exc)))
        else:
            self.post_message(self.Saved(saved, "saved"))

    @on(EditFailed)
    def _edit_failed(self, event: EditFailed) -> None:
        self.notify(
            f"{event.item.reference} was not changed: {event.reason}",
            title="Learning not saved",
            severity="error",
        )
        self._edit(event.item, event.edit, f"Not saved: {event.reason}")

    def action_sign_off(self) -> None:
        item = self.highlighted()
        if item is None:
            self.notify("There is no learning item to sign off.", severity="warning")
            return
        self.sign_off_item(item)

    @work(thread=True, exclusive=True, exit_on_error=False, group="learning.save")
    def sign_off_item(self, item: LearningItemOut) -> None:
        try:
            saved = sign_off(self._factory, self._actor, item.id, self._today)
        except EXPECTED_FAILURES as exc:
            self.post_message(self.Failed(f"sign {item.reference} off", explain(exc)))
        else:
            self.post_message(self.Saved(saved, f"signed off by {saved.signed_off_by}"))

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        self.notify(f"{event.item.reference} {event.what}.", timeout=3)
        self._keep = event.item.id
        self.action_refresh()

    def action_export(self) -> None:
        from workbench.tui.export_dialog import ExportScope
        from workbench.tui.export_flow import start_export

        # What is on screen is what goes out: the filter the list was last read with.
        where = self.listing.where
        start_export(
            self, ExportScope.LEARNING_LOG, where=where, selection=self._selection_words(where)
        )

    def _selection_words(self, where: LearningFilter) -> str:
        n = len(self.listing.items)
        parts = [f'matching "{where.text.strip()}"'] if where.text.strip() else []
        if where.theme:
            parts.append(f"theme {self.choices.theme_label(where.theme)}")
        if where.agency:
            parts.append(f"agency {self.choices.agency_name(where.agency)}")
        if where.source:
            parts.append(f"source {where.source.label}")
        if where.status:
            parts.append(f"status {status_label(where.status)}")
        items = f"{n} item{'' if n == 1 else 's'}"
        return f"{items}: {', '.join(parts)}" if parts else f"all {items} in the log"

    def action_back(self) -> None:
        # Escape in the search box leaves the box, not the screen.
        if self.focused is self.query_one("#search", Input):
            self.query_one("#items", DataTable).focus()
            return
        self.dismiss()
