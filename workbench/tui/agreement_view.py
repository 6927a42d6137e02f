"""Agreement between graders for one audit: each agency against the panel, and double grading.

Percentage agreement and quadratic-weighted Cohen's kappa per criterion (or heading), per
agency and overall, with the pairs left out counted by reason. The service computes every
figure; this screen only words them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, Tab, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from schemas.audit import ModerationHeading
from schemas.learning import AgreementFigure, AgreementReport, kappa_band
from schemas.tools import ToolDefinition
from workbench.services import audits
from workbench.services.agreement import Comparison, agreement
from workbench.tui.feedback import EXPECTED_FAILURES, explain, unexpected

UNDEFINED = "—"
# Tab labels, shortest words that still say which two grades are compared.
TAB_LABELS = {
    Comparison.AGENCY_VS_MODERATED: "Agency vs moderated",
    Comparison.DOUBLE_GRADING: "Double grading",
}
COLUMNS: tuple[tuple[str, str], ...] = (
    ("pairs", "Pairs"),
    ("agreed", "Agreed"),
    ("percent", "%"),
    ("kappa", "Kappa"),
    ("na", "N/A"),
    ("ne", "Not ev."),
    ("blank", "Blank"),
)
LEGEND = (
    "Kappa: quadratic-weighted Cohen's kappa, in Landis & Koch's (1977) words; "
    f"{UNDEFINED} when undefined (no pairs, or every grade at one level). "
    "Left out of the figures: N/A not applicable, Not ev. not evidenced, Blank unanswered."
)


def kappa_text(kappa: float | None) -> str:
    """'0.71 substantial', or the dash when kappa is undefined."""
    if kappa is None:
        return UNDEFINED
    return f"{kappa:.2f} {kappa_band(kappa)}"


def percent_text(percent: float | None) -> str:
    return UNDEFINED if percent is None else f"{percent:.0f}%"


def figure_cells(figure: AgreementFigure) -> tuple[Text, ...]:
    """One group's figures as table cells, numbers right-aligned."""
    return (
        Text(str(figure.pairs), justify="right"),
        Text(str(figure.agreed), justify="right"),
        Text(percent_text(figure.percent_agreement), justify="right"),
        Text(kappa_text(figure.kappa), style="" if figure.kappa is not None else "dim"),
        Text(str(figure.not_applicable), justify="right"),
        Text(str(figure.not_evidenced), justify="right"),
        Text(str(figure.unanswered), justify="right"),
    )


def overall_text(figure: AgreementFigure) -> Text:
    text = Text(no_wrap=False, end="")
    text.append("Overall: ", style="bold")
    text.append(f"{figure.pairs} pairs, {figure.agreed} agreed")
    text.append(f" ({percent_text(figure.percent_agreement)})", style="bold")
    text.append(" · kappa ")
    text.append(kappa_text(figure.kappa), style="bold")
    left_out = figure.not_applicable + figure.not_evidenced + figure.unanswered
    text.append(
        f" · left out: {figure.not_applicable} not applicable, "
        f"{figure.not_evidenced} not evidenced, {figure.unanswered} unanswered"
        if left_out
        else " · none left out"
    )
    return text


def item_label(report: AgreementReport, group: str, definition: ToolDefinition) -> str:
    """A heading's name, or a criterion's id: the questions are long, the ids are on the tool."""
    if report.comparison == Comparison.AGENCY_VS_MODERATED.value:
        try:
            return ModerationHeading(group).label
        except ValueError:
            return group
    return group if group in definition.tool.criterion_ids else f"{group} (not on the tool)"


@dataclass(frozen=True)
class AgreementData:
    title: str
    definition: ToolDefinition
    reports: dict[Comparison, AgreementReport]


class AgreementView(Screen[None]):
    """Both comparisons for one audit, read together in a worker; a tab (or s) switches."""

    CSS_PATH = "agreement_view.tcss"
    BINDING_GROUP_TITLE = "Agreement between graders"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "switch",
            "Switch",
            tooltip="Switch between agency vs moderated grades and double grading",
            id="agreement.switch",
        ),
        Binding(
            "r", "refresh", "Refresh", tooltip="Work the figures out again", id="agreement.refresh"
        ),
        Binding(
            "escape", "back", "Back", tooltip="Back to the previous screen", id="agreement.back"
        ),
    ]

    @dataclass
    class Loaded(Message):
        data: AgreementData

    @dataclass
    class LoadFailed(Message):
        reason: str

    def __init__(
        self,
        factory: sessionmaker[Session],
        audit_id: int,
        comparison: Comparison = Comparison.AGENCY_VS_MODERATED,
    ) -> None:
        super().__init__()
        self._factory = factory
        self.audit_id = audit_id
        self.comparison = comparison
        self.data: AgreementData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Working out agreement…", id="summary", markup=False)
        yield Tabs(
            *(Tab(label, id=comparison.value) for comparison, label in TAB_LABELS.items()),
            active=self.comparison.value,
            id="comparisons",
        )
        with VerticalScroll(id="body"):
            yield Static("", id="note", markup=False)
            yield Static("", id="overall")
            yield Static("", id="items-title", classes="heading", markup=False)
            yield DataTable[Text](id="by-item", cursor_type="row", zebra_stripes=True)
            yield Static("By agency", id="agencies-title", classes="heading", markup=False)
            yield DataTable[Text](id="by-agency", cursor_type="row", zebra_stripes=True)
            yield Static(LEGEND, id="legend", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#by-item", DataTable).focus()
        self.action_refresh()

    @property
    def report(self) -> AgreementReport | None:
        """The report on screen, for whoever wants the figures behind the table."""
        return self.data.reports[self.comparison] if self.data else None

    # --- reading ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.data is None:
            self.query_one("#body").loading = True
        self.load_agreement()

    @work(thread=True, exclusive=True, exit_on_error=False, group="agreement.load")
    def load_agreement(self) -> None:
        try:
            detail = audits.get_audit(self._factory, self.audit_id)
            data = AgreementData(
                title=detail.title,
                definition=audits.audit_tool(self._factory, self.audit_id),
                reports={c: agreement(self._factory, self.audit_id, c) for c in Comparison},
            )
            message: Message = self.Loaded(data)
        except EXPECTED_FAILURES as exc:
            message = self.LoadFailed(explain(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "agreement.load" and event.state is WorkerState.ERROR:
            self.post_message(self.LoadFailed(unexpected(event.worker.error)))

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.query_one("#body").loading = False
        self.notify(
            f"Could not work out agreement: {event.reason}",
            title="Agreement not loaded",
            severity="error",
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.data = event.data
        self.query_one("#body").loading = False
        self._show()

    # --- switching ----------------------------------------------------------------------------

    def action_switch(self) -> None:
        self.query_one("#comparisons", Tabs).action_next_tab()

    @on(Tabs.TabActivated, "#comparisons")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id is None:
            return
        self.comparison = Comparison(event.tab.id)
        self._show()

    # --- showing ------------------------------------------------------------------------------

    def _show(self) -> None:
        data, report = self.data, self.report
        if data is None or report is None:
            return
        self.sub_title = f"Agreement · {data.title}"
        self.query_one("#summary", Static).update(
            f"{data.title} · {Comparison(report.comparison).label} · {data.definition.scale.title}"
        )
        note = self.query_one("#note", Static)
        note.update(report.note[:1].upper() + report.note[1:] + "." if report.note else "")
        note.display = bool(report.note)
        self.set_class(report.overall is None, "-nothing")
        self.query_one("#overall", Static).update(
            overall_text(report.overall) if report.overall else ""
        )
        moderated = report.comparison == Comparison.AGENCY_VS_MODERATED.value
        first = "Heading" if moderated else "Criterion"
        self.query_one("#items-title", Static).update(
            "By moderation heading" if moderated else "By criterion"
        )
        self._fill(
            "#by-item",
            first,
            [(item_label(report, f.group, data.definition), f) for f in report.by_item],
        )
        self._fill("#by-agency", "Agency", [(f.group, f) for f in report.by_agency])

    def _fill(self, selector: str, first: str, rows: list[tuple[str, AgreementFigure]]) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        table.add_column(first, key="group")
        for key, heading in COLUMNS:
            table.add_column(heading, key=key)
        for label, figure in rows:
            table.add_row(Text(label), *figure_cells(figure), key=figure.group)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
